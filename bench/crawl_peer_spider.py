"""The hand-written peer of ``bench/crawl.py``: the spider a user writes instead of using newscrawl.

Scrapy as it comes (like the bare spider), with one parser call in the article callback and nothing
stored: a page under ``/<site>/<language>/`` goes to that site's parser (the project's, declared for
the local site's paths, as ``bench/crawl_project_spider.py`` does), any other page to plain
``trafilatura.extract(html)``. It yields the URL, the title (site pages) and the body.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import trafilatura
from crawl_bare_spider import BareSpider
from crawl_project_spider import LOCAL_PARSERS
from scrapy.http import Response

BASE = os.environ["BENCH_SITE_URL"]


class PeerSpider(BareSpider):
    """The bare spider's listing pages and article pages, each article parsed in its callback."""

    name = "bench_peer"

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        section = response.url.removeprefix(BASE).split("/")[1]
        if parser := LOCAL_PARSERS.get(section):
            article = parser.parse(response.text, response.url)
            yield {"url": response.url, "title": article.title, "body": article.body}
        else:
            yield {"url": response.url, "body": trafilatura.extract(response.text)}
