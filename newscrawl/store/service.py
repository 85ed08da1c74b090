"""The crawl's storage service: an extension (``EXTENSIONS``) that implements
:class:`~newscrawl.store.protocol.ArticleStorage`, found with
:func:`~newscrawl.store.protocol.storage_of`.

Its :class:`~newscrawl.store.sink.ArticleSink` is opened on first use from the crawler's settings
(``MONGO_URI``, ``MONGO_DATABASE``, ``NEWSCRAWL_MONGO_*``, ``NEWSCRAWL_DEDUPE_*``), after writing
what earlier runs spilled, and closed when the spider closes. The pipelines, the incremental and
revisit middlewares, the run recorder and the shared-crawl scheduler all reach storage through it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals

from newscrawl.defaults import setting_value
from newscrawl.store.protocol import ArticleStorage
from newscrawl.store.revisits import RevisitPolicy
from newscrawl.store.sink import ArticleSink, SinkOptions

if TYPE_CHECKING:
    from datetime import datetime

    from pymongo.database import Database
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from newscrawl.store.dedupe import Decision
    from newscrawl.store.revisits import DueArticles, RevisitOutcome

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


class StorageService(ArticleStorage):
    """The crawler's storage: its sink, opened on first use and closed when the spider closes
    (after the ``spider_closed`` handlers connected before it was opened, which may still use it).

    A crawl run (``NEWSCRAWL_RECORD_RUN``) starts opening it as the crawler is made, on a thread of
    its own: the embedded server's start, the indexes and the replay of spill files then overlap the
    crawler's own start (the parse workers', the spider's) instead of holding up the reactor at the
    first page that needs the database."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._sink: ArticleSink | None = None
        self._opening: Future[ArticleSink] | None = None
        self._released = threading.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Scrapy's extension constructor: a crawl run starts opening its storage."""
        service = cls(crawler)
        if setting_value("NEWSCRAWL_RECORD_RUN", crawler.settings):
            service._open_early()
        return service

    def _open_early(self) -> None:
        """Open the sink on a thread that then waits until the sink is closed: an embedded server
        ends with the thread that started it (``newscrawl/store/server.py``)."""
        opening: Future[ArticleSink] = Future()

        def open_and_hold() -> None:
            try:
                opening.set_result(self._open_sink())
            except BaseException as exc:  # raised where the sink is first used, as without this thread
                opening.set_exception(exc)
                return
            self._released.wait()

        threading.Thread(target=open_and_hold, name="newscrawl-storage-open", daemon=True).start()
        self._opening = opening

    def _open_sink(self) -> ArticleSink:
        """Open the crawl's sink and write what earlier runs spilled."""
        stats = self.crawler.stats
        assert stats is not None
        sink = ArticleSink.open(
            setting_value("MONGO_URI", self.crawler.settings),
            setting_value("MONGO_DATABASE", self.crawler.settings),
            sink_options(self.crawler),
            count=lambda name, value: stats.inc_value(name, value) if value else None,
        )
        replayed = sink.flush_spill()
        if replayed:
            logger.info("wrote %d articles spilled by earlier runs", replayed)
        return sink

    @property
    def opened(self) -> bool:
        """Whether something opened the sink already."""
        return self._sink is not None

    @property
    def sink(self) -> ArticleSink:
        """The crawl's one :class:`ArticleSink` (opened now if nothing opened it yet)."""
        if self._sink is None:
            self._sink = self._opening.result() if self._opening is not None else self._open_sink()
            self.crawler.signals.connect(self.close, signal=signals.spider_closed)
            # a crawl stopped at once (a second SIGTERM) never closes its spider: what is buffered
            # is written (or spilled) as the reactor stops
            from twisted.internet import reactor

            reactor.addSystemEventTrigger("before", "shutdown", self.close)
        return self._sink

    async def check(self, item: Any) -> Decision:
        """Dedupe the article (batched with others, off the reactor)."""
        return await self.sink.check(article_document(item))

    async def add(self, item: Any) -> None:
        """Queue the article (its document made on the sink's thread, where a full batch is written)."""
        sink = self.sink
        await sink.run(lambda: sink.add(article_document(item)))

    def flush(self) -> None:
        """Write (or spill) what is queued, and wait for it (nothing to do before the sink is opened)."""
        if self._sink is not None:
            self._sink.submit(self._sink.flush).result()

    def flush_if_due(self) -> None:
        """Queue a flush of a batch that waited too long."""
        self.sink.submit(self.sink.flush_if_due)

    def flush_interval(self) -> float:
        """``NEWSCRAWL_MONGO_FLUSH_SECONDS``."""
        return self.sink.options.flush_seconds

    def full(self) -> str | None:
        """Why the database has no room left to write (None while it has)."""
        return self.sink.storage_full

    def on_flushed(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each flush that left nothing unsaved."""
        self.sink.flushed.append(listener)

    def note_validators(self, url: str, validators: dict[str, str]) -> None:
        """Keep a page's validators for its article."""
        self.sink.note_validators(url, validators)

    def note_revisit(self, outcome: RevisitOutcome) -> None:
        """Keep what a revisit found, for the next write."""
        self.sink.note_revisit(outcome)

    async def stored_versions(self, url_keys: set[str]) -> dict[str, datetime | None] | None:
        """When each stored article among ``url_keys`` last changed (looked up on a thread)."""
        mongo = self.sink.reachable()
        return await asyncio.to_thread(mongo.stored_versions, url_keys) if mongo is not None else None

    async def feed_validators(self, url: str) -> dict[str, Any] | None:
        """The validators the feed at ``url`` was last served with (looked up on a thread)."""
        mongo = self.sink.reachable()
        return await asyncio.to_thread(mongo.feed_validators, url) if mongo is not None else None

    async def save_feed_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        """Keep the feeds' validators (written on a thread)."""
        mongo = self.sink.reachable()
        if mongo is not None:
            await asyncio.to_thread(mongo.save_feed_validators, validators)

    async def due_revisits(self, site: str, policy: RevisitPolicy, cap: int | None) -> DueArticles | None:
        """The articles of ``site`` due for a revisit (chosen on a thread)."""
        mongo = self.sink.reachable()
        return await asyncio.to_thread(mongo.due_revisits, site, policy, cap) if mongo is not None else None

    def database(self) -> Database[dict[str, Any]] | None:
        """The open database when it is believed reachable, for the run records; None while it is
        down or unavailable."""
        return self.sink.database()

    def close(self) -> None:
        """Write what is buffered and close the database (when it was opened); twice does nothing."""
        if self._sink is not None:
            self._sink.close()
        self._released.set()
