"""The crawl's storage service: one :class:`~newscrawl.store.sink.ArticleSink` per crawler.

Opened on first use from the crawler's settings (``MONGO_URI``, ``MONGO_DATABASE``,
``NEWSCRAWL_MONGO_*``, ``NEWSCRAWL_DEDUPE_*``), after writing what earlier runs spilled; closed
when the spider closes. The pipelines, the incremental middlewares, the run recorder and the
shared-crawl middleware all reach storage through :func:`sink_for`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals

from newscrawl.store.sink import ArticleSink, SinkOptions

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def opened_sink(crawler: Crawler) -> ArticleSink | None:
    """The crawl's sink if something opened it already (None otherwise: nothing is opened)."""
    return getattr(crawler, "_newscrawl_sink", None)


def sink_for(crawler: Crawler) -> ArticleSink:
    """The crawl's one :class:`ArticleSink`, opened on first use and closed when the spider closes."""
    sink = opened_sink(crawler)
    if sink is None:
        settings = crawler.settings
        options = SinkOptions(
            batch_size=settings.getint("NEWSCRAWL_MONGO_BATCH", 200),
            flush_seconds=settings.getfloat("NEWSCRAWL_MONGO_FLUSH_SECONDS", 5.0),
            retries=settings.getint("NEWSCRAWL_MONGO_RETRIES", 3),
            backoff_seconds=settings.getfloat("NEWSCRAWL_MONGO_BACKOFF_SECONDS", 0.5),
            down_seconds=settings.getfloat("NEWSCRAWL_MONGO_DOWN_SECONDS", 30.0),
            timeout_ms=settings.getint("NEWSCRAWL_MONGO_TIMEOUT_MS", 5000),
            max_distance=settings.getint("NEWSCRAWL_DEDUPE_MAX_DISTANCE", 3),
            min_words=settings.getint("NEWSCRAWL_DEDUPE_MIN_WORDS", 50),
            memory_items=settings.getint("NEWSCRAWL_DEDUPE_MEMORY_ITEMS", 100_000),
        )
        stats = crawler.stats
        assert stats is not None
        sink = ArticleSink.open(
            settings.get("MONGO_URI") or None,
            settings.get("MONGO_DATABASE") or None,
            options,
            count=lambda name, value: stats.inc_value(name, value) if value else None,
        )
        replayed = sink.flush_spill()
        if replayed:
            logger.info("wrote %d articles spilled by earlier runs", replayed)
        crawler.signals.connect(sink.close, signal=signals.spider_closed)
        crawler._newscrawl_sink = sink  # type: ignore[attr-defined]
    return sink
