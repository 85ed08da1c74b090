"""Store articles in MongoDB: batched unordered bulk writes, revisions, spill to disk on outage.

Each batch of articles is followed by one write of their keys (``article_keys``: URL, story,
text and SimHash band keys, see ``newscrawl/store/keys.py``), which dedupe and the incremental
check read.

Uses ``MONGO_URI`` / ``MONGO_DATABASE`` (environment or ``-s``); with no ``MONGO_URI`` the
embedded server is used (see ``newscrawl/store/database.py``; the crawl's storage is found with
``newscrawl/store/protocol.py``). Works with or without the identity and dedupe pipelines before
it: the store fills in an identity an article came without, and its unique indexes keep one copy
of each article. Tunables (defaults in docs/SETTINGS.md):
``NEWSCRAWL_MONGO_BATCH`` (articles per write), ``NEWSCRAWL_MONGO_FLUSH_SECONDS``,
``NEWSCRAWL_MONGO_RETRIES`` (with backoff from ``NEWSCRAWL_MONGO_BACKOFF_SECONDS``),
``NEWSCRAWL_MONGO_DOWN_SECONDS`` (how long an unreachable server is left alone),
``NEWSCRAWL_MONGO_TIMEOUT_MS`` (how long one operation waits for the server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.asyncio import create_looping_call

from newscrawl.crawl.outcome import close_crawl
from newscrawl.store.protocol import ArticleStorage, storage_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class StorePipeline:
    """Queue each article for the bulk writer; flush by size, by time (also when idle) and at close."""

    def __init__(self, crawler: Crawler, storage: ArticleStorage) -> None:
        self.crawler = crawler
        self.storage = storage
        self._timer: Any = None
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build the pipeline for ``crawler`` and its storage."""
        return cls(crawler, storage_of(crawler))

    def open_spider(self) -> None:
        """Open storage (or spill mode) and start the idle-flush timer."""
        self._timer = create_looping_call(self._flush_if_due)
        self._timer.start(max(0.5, self.storage.flush_interval() / 2), now=False)

    def _flush_if_due(self) -> None:
        self.storage.flush_if_due()
        self._stop_if_full()

    async def process_item(self, item: Any) -> Any:
        """Queue the article (on the storage's thread: a full batch is written there); stop the
        crawl when the database has no room left (close reason ``storage_full``)."""
        await self.storage.add(item)
        self._stop_if_full()
        return item

    def _stop_if_full(self) -> None:
        if self.storage.full() and not self._stopping:
            self._stopping = True
            close_crawl(self.crawler, "storage_full")

    def close_spider(self) -> None:
        """Stop the timer and write what is left."""
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.storage.flush()
