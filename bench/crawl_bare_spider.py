"""The bare spider of ``bench/crawl.py``: Scrapy as it comes, fetching the local site's pages.

It requests the ``BENCH_LISTINGS`` listing pages of the site at ``BENCH_SITE_URL``, follows every
link and yields each article's URL and body length; nothing is parsed or stored.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    """Listing pages, then the article pages they link."""

    name = "bench_bare"

    async def start(self) -> Any:
        base = os.environ["BENCH_SITE_URL"]
        for page in range(1, int(os.environ["BENCH_LISTINGS"]) + 1):
            yield scrapy.Request(f"{base}/list?page={page}")

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse_article)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "length": len(response.body)}
