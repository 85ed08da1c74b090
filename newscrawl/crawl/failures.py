"""Which article pages failed in a crawl, and why: kept for the run record (``stats --failed``).

An article page fails when its download gives up (network error after every retry, a block
page), when it answers an HTTP error, when it is not an article or its parser fails, or when its
item is dropped for a reason other than being a duplicate. The first
``NEWSCRAWL_FAILED_PAGES_KEEP`` are kept with their reason; the rest are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals

from newscrawl.defaults import default, setting_value

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


@dataclass
class FailedPages:
    """Extension: the failed article pages of this crawl (at most ``keep``, the rest counted)."""

    keep: int = default("NEWSCRAWL_FAILED_PAGES_KEEP")
    pages: list[dict[str, str]] = field(default_factory=list)
    more: int = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FailedPages:
        """Scrapy's extension constructor."""
        failed = cls(keep=setting_value("NEWSCRAWL_FAILED_PAGES_KEEP", crawler.settings))
        crawler.signals.connect(failed.response_received, signal=signals.response_received)
        crawler.signals.connect(failed.item_dropped, signal=signals.item_dropped)
        return failed

    @staticmethod
    def of(crawler: Crawler | None) -> FailedPages | None:
        """The crawler's extension, when it is enabled."""
        return crawler.get_extension(FailedPages) if crawler is not None else None

    @staticmethod
    def note(crawler: Crawler | None, url: str, reason: str) -> None:
        """Note one failed page in ``crawler``'s extension, when it is enabled."""
        failed = FailedPages.of(crawler)
        if failed is not None:
            failed.add(url, reason)

    def add(self, url: str, reason: str) -> None:
        """Note one failed page (its reason cut to one line of at most 300 characters)."""
        if len(self.pages) < self.keep:
            self.pages.append({"url": url, "reason": " ".join(reason.split())[:300]})
        else:
            self.more += 1

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        """An article page that answered an HTTP error (after any retries)."""
        if request.meta.get("article") and response.status >= 400:
            self.add(request.url, f"HTTP {response.status}")

    def item_dropped(self, item: Any, response: Response, exception: Exception, spider: Spider) -> None:
        """An article dropped for a reason other than being a duplicate."""
        if getattr(exception, "counts_as_failure", True):
            self.add(response.url, f"dropped ({type(exception).__name__}): {exception}")

    def as_dict(self) -> dict[str, Any]:
        """For the run record."""
        return {"pages": self.pages, "more": self.more}
