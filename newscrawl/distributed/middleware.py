"""The spider middleware that tells the shared scheduler when a taken request is done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler

from newscrawl.distributed.scheduler import SharedScheduler


class ReleaseWhenDone:
    """Spider middleware (shared crawls only): tells the scheduler what each callback yields and when
    it has finished, so the request stays recoverable until the requests it yielded are in the
    shared queue and its items are stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseWhenDone:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def _scheduler(self) -> SharedScheduler | None:
        """The crawl's shared scheduler (test it against None: with an empty queue it is falsy)."""
        scheduler = self.crawler.engine.scheduler
        return scheduler if isinstance(scheduler, SharedScheduler) else None

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        """Pass everything through, telling the scheduler what the callback yields."""
        scheduler = self._scheduler()
        try:
            for entry in result:
                if scheduler is not None:
                    self._note(scheduler, response.request, entry)
                yield entry
        finally:  # a failing callback is done too
            if scheduler is not None:
                scheduler.callback_done(response.request)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The same for asynchronous callbacks."""
        scheduler = self._scheduler()
        try:
            async for entry in result:
                if scheduler is not None:
                    self._note(scheduler, response.request, entry)
                yield entry
        finally:
            if scheduler is not None:
                scheduler.callback_done(response.request)

    @staticmethod
    def _note(scheduler: SharedScheduler, request: Request, entry: Any) -> None:
        if isinstance(entry, Request):
            scheduler.child_yielded(request, entry)
        else:
            scheduler.item_yielded(request)
