"""Store articles in MongoDB: batched unordered bulk writes, revisions, spill to disk on outage.

Uses ``MONGO_URI`` / ``MONGO_DATABASE`` (environment or ``-s``); with no ``MONGO_URI`` the
embedded nx-27017 server is used (see ``newscrawl/store/storage.py``; the crawl's one sink is
``newscrawl/store/service.py``). Tunables:
``NEWSCRAWL_MONGO_BATCH`` (200 articles), ``NEWSCRAWL_MONGO_FLUSH_SECONDS`` (5),
``NEWSCRAWL_MONGO_RETRIES`` (3, with backoff from ``NEWSCRAWL_MONGO_BACKOFF_SECONDS``, 0.5),
``NEWSCRAWL_MONGO_DOWN_SECONDS`` (30: how long an unreachable server is left alone),
``NEWSCRAWL_MONGO_TIMEOUT_MS`` (5000: how long one operation waits for the server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.utils.asyncio import create_looping_call

from newscrawl.ops.outcome import close_crawl
from newscrawl.store.service import sink_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from newscrawl.store.sink import ArticleSink
    from typing_extensions import Self


def article_document(item: Any) -> dict[str, Any]:
    """The MongoDB document of an article item (nested images as plain dicts)."""
    return ItemAdapter(item).asdict()


class MongoPipeline:
    """Queue each article for the bulk writer; flush by size, by time (also when idle) and at close."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sink: ArticleSink | None = None
        self._timer: Any = None
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build the pipeline for ``crawler``."""
        return cls(crawler)

    def open_spider(self) -> None:
        """Open storage (or spill mode) and start the idle-flush timer."""
        self.sink = sink_for(self.crawler)
        self._timer = create_looping_call(self._flush_if_due)
        self._timer.start(max(0.5, self.sink.options.flush_seconds / 2), now=False)

    def _flush_if_due(self) -> None:
        if self.sink:
            self.sink.submit(self.sink.flush_if_due)
            self._stop_if_full()

    def _queue(self, item: Any) -> None:
        assert self.sink is not None
        key = ItemAdapter(item).get("url_key")
        self.sink.add((self.sink.take_checked(key) if key else None) or article_document(item))

    async def process_item(self, item: Any) -> Any:
        """Queue the article (on the sink's thread: a full batch is written there); stop the
        crawl when the database has no room left (close reason ``storage_full``)."""
        assert self.sink is not None
        await self.sink.run(self._queue, item)
        self._stop_if_full()
        return item

    def _stop_if_full(self) -> None:
        if self.sink is not None and self.sink.storage_full and not self._stopping:
            self._stopping = True
            close_crawl(self.crawler, "storage_full")

    def close_spider(self) -> None:
        """Stop the timer and write what is left."""
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        if self.sink:
            self.sink.submit(self.sink.flush).result()
