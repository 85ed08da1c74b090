"""A tiny self-contained spider for the WARC record/replay tests (``scrapy runspider``).

``-a start=URL``: crawl from URL, follow every ``<a href>`` on the same host and yield
``{"url", "status", "title"}`` for each page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response


class ReplaySpider(scrapy.Spider):
    """Follows same-host links from ``-a start=URL``."""

    name = "replay_test"

    def __init__(self, start: str, *args: Any, **kwargs: Any) -> None:
        # Taken out of kwargs: Spider.__init__ would set it as an attribute, shadowing ``start()``.
        super().__init__(*args, **kwargs)
        self.start_url = start
        self.allowed_domains = [urlsplit(start).hostname or ""]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The one start URL."""
        yield scrapy.Request(self.start_url)

    def parse(self, response: Response) -> Iterator[dict[str, Any] | scrapy.Request]:
        """One item per page, then its links."""
        yield {"url": response.url, "status": response.status, "title": response.css("title::text").get()}
        yield from response.follow_all(css="a")
