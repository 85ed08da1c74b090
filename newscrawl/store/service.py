"""The crawl's storage service: one per crawler, reached with ``StorageService.from_crawler``.

Its :class:`~newscrawl.store.sink.ArticleSink` is opened on first use from the crawler's settings
(``MONGO_URI``, ``MONGO_DATABASE``, ``NEWSCRAWL_MONGO_*``, ``NEWSCRAWL_DEDUPE_*``), after writing
what earlier runs spilled, and closed when the spider closes. The pipelines, the incremental
middlewares, the run recorder and the shared-crawl middleware all reach storage through it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals

from newscrawl.defaults import setting_value
from newscrawl.store.revisits import RevisitPolicy
from newscrawl.store.sink import ArticleSink, SinkOptions

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from newscrawl.store.database import Storage

logger = logging.getLogger(__name__)


def article_document(item: Any) -> dict[str, Any]:
    """The MongoDB document of an article item (nested images as plain dicts)."""
    return ItemAdapter(item).asdict()


def sink_options(crawler: Crawler) -> SinkOptions:
    """The sink's tunables from the crawler's settings."""
    settings = crawler.settings
    return SinkOptions(
        batch_size=setting_value("NEWSCRAWL_MONGO_BATCH", settings),
        flush_seconds=setting_value("NEWSCRAWL_MONGO_FLUSH_SECONDS", settings),
        retries=setting_value("NEWSCRAWL_MONGO_RETRIES", settings),
        backoff_seconds=setting_value("NEWSCRAWL_MONGO_BACKOFF_SECONDS", settings),
        down_seconds=setting_value("NEWSCRAWL_MONGO_DOWN_SECONDS", settings),
        timeout_ms=setting_value("NEWSCRAWL_MONGO_TIMEOUT_MS", settings),
        max_distance=setting_value("NEWSCRAWL_DEDUPE_MAX_DISTANCE", settings),
        min_words=setting_value("NEWSCRAWL_DEDUPE_MIN_WORDS", settings),
        memory_items=setting_value("NEWSCRAWL_DEDUPE_MEMORY_ITEMS", settings),
        lookup_batch=setting_value("NEWSCRAWL_DEDUPE_BATCH", settings),
        lookup_seconds=setting_value("NEWSCRAWL_DEDUPE_BATCH_SECONDS", settings),
        revisits=RevisitPolicy.parse(setting_value("NEWSCRAWL_REVISIT_AGES", settings)),
    )


class StorageService:
    """The crawler's storage: its sink, opened on first use and closed when the spider closes
    (after the ``spider_closed`` handlers connected before it was opened, which may still use it)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._sink: ArticleSink | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorageService:
        """The crawler's one service (made on the first call; nothing is opened yet)."""
        service = getattr(crawler, "_newscrawl_storage", None)
        if service is None:
            service = cls(crawler)
            crawler._newscrawl_storage = service  # type: ignore[attr-defined]
        return service

    @property
    def opened(self) -> bool:
        """Whether something opened the sink already."""
        return self._sink is not None

    @property
    def sink(self) -> ArticleSink:
        """The crawl's one :class:`ArticleSink` (opened now if nothing opened it yet)."""
        if self._sink is None:
            stats = self.crawler.stats
            assert stats is not None
            self._sink = ArticleSink.open(
                setting_value("MONGO_URI", self.crawler.settings),
                setting_value("MONGO_DATABASE", self.crawler.settings),
                sink_options(self.crawler),
                count=lambda name, value: stats.inc_value(name, value) if value else None,
            )
            replayed = self._sink.flush_spill()
            if replayed:
                logger.info("wrote %d articles spilled by earlier runs", replayed)
            self.crawler.signals.connect(self.close, signal=signals.spider_closed)
            # a crawl stopped at once (a second SIGTERM) never closes its spider: what is buffered
            # is written (or spilled) as the reactor stops
            from twisted.internet import reactor

            reactor.addSystemEventTrigger("before", "shutdown", self.close)
        return self._sink

    @property
    def usable_storage(self) -> Storage | None:
        """The open database when it is believed reachable; None while it is down or unavailable."""
        sink = self.sink
        return sink.storage if sink.storage is not None and sink.database_up else None

    def close(self) -> None:
        """Write what is buffered and close the database (when it was opened); twice does nothing."""
        if self._sink is not None:
            self._sink.close()
