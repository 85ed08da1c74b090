"""Any news site nobody has written a spider for yet.

``scrapy crawl generic -a url=https://example.ua/`` (several sites comma-separated, or
``-a urls_file=sites.txt`` with one URL a line). For each site it reads the home page's feed
autodiscovery links — or, when there are none, tries the usual feed paths and follows the home
page's article-looking links — plus the sitemaps robots.txt names; ``-a since=`` backfills from the
sitemaps. Articles are extracted by :class:`~newscrawl.extract.parser.GenericParser`. ``-a render=1``
fetches the home pages and every article page through the browser (it needs one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from newscrawl.crawl.discover import COMMON_FEED_PATHS, feed_links, looks_like_article_url, same_site
from newscrawl.extract.parser import GenericParser
from newscrawl.crawl.spider import NewsSpider, SpiderArgumentError
from newscrawl.extract.site import Edition, Site
from newscrawl.stats import FEEDS_ANNOUNCED, NOT_HTML


def site_urls(url: str | None, urls_file: str | None) -> list[str]:
    """The start URLs from ``-a url=`` (comma-separated) and ``-a urls_file=``; invalid ones raise."""
    urls = [u.strip() for u in (url or "").split(",") if u.strip()]
    if urls_file:
        try:
            lines = Path(urls_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SpiderArgumentError(f"-a urls_file={urls_file!r}: {exc.strerror}") from exc
        urls += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not urls:
        raise SpiderArgumentError("generic needs -a url=https://site/ (comma-separated) or -a urls_file=FILE")
    bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname]
    if bad:
        raise SpiderArgumentError(f"not an http(s) site URL: {', '.join(bad)}")
    return list(dict.fromkeys(urls))


def switch(value: str | None, name: str) -> bool:
    """An on/off ``-a`` argument: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (absent: off)."""
    if value is None:
        return False
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return word in ("1", "true", "yes", "on")
    raise SpiderArgumentError(f"-a {name}={value!r}: expected 1 or 0")


class GenericSpider(NewsSpider):
    """Feeds, sitemaps and home-page links of the sites given with ``-a url=``."""

    name = "generic"
    #: any news site; each spider's editions are the sites given with ``-a url=``
    site = Site(name, "Any news site nobody has written a spider for yet.", editions={})
    parser = GenericParser

    def __init__(self, *args: Any, url: str | None = None, urls_file: str | None = None, render: str | None = None,
                 **kwargs: Any) -> None:
        self.site = replace(self.site, editions={urlsplit(u).hostname or u: Edition(None, u)
                                                 for u in site_urls(url, urls_file)})
        super().__init__(*args, **kwargs)
        self.render_pages = switch(render, "render")

    def first_requests(self) -> Iterator[scrapy.Request]:
        """Each site's home page (latest news only; through the browser with ``-a render=1``),
        then the base discovery (sitemaps)."""
        if not self.since:
            meta = {"playwright": True} if self.render_pages and self.settings.getbool("NEWSCRAWL_RENDERING") else {}
            for edition in self.selected:
                yield scrapy.Request(edition.base_url, self.parse_home, meta=meta)
        yield from super().first_requests()

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """Announced feeds; without any, the usual feed paths and the page's article links."""
        if not hasattr(response, "text"):
            self.crawler.stats.inc_value(NOT_HTML)
            return
        selector = self.page_selector(response)  # the page's first NEWSCRAWL_PARSE_MAX_BYTES
        feeds = [url for url in feed_links(selector, response.url) if same_site(url, self.allowed_domains)]
        self.crawler.stats.inc_value(FEEDS_ANNOUNCED, len(feeds))
        if feeds:
            for feed in feeds:
                yield self.feed_request(feed)
            return
        for path in COMMON_FEED_PATHS:
            yield self.feed_request(urljoin(response.url, path))
        yield from self.parse_listing(response, page=None, selector=selector)

    def is_article_url(self, url: str) -> bool:
        """Same site as one of the start URLs, and article-looking."""
        return same_site(url, self.allowed_domains) and looks_like_article_url(url)
