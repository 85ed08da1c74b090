"""How a crawl ended, told truthfully: one line naming the cause, and the process's exit code.

:func:`crawl_outcome` reads the close reason and the stats of a finished crawl. A crawl failed
(exit 1) when it was stopped for a cause other than finishing or an operator's limit
(``storage_full``, ``redis_unavailable``, ``shared_queue_lost``, a shutdown), when no page could be
fetched, or when articles could not be stored: spilled to disk (written on the next start or by
``flush-spill``) or not even that (fetched again on the next run). :class:`CrawlOutcome` keeps
the code and cause in the stats; ``scrapy crawl`` (the command in ``newscrawl/ops/commands``) logs the
cause as the crawl's last line and exits with the code, and so does ``python -m newscrawl run``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from newscrawl.stats import (
    EXIT_CAUSE,
    EXIT_CODE,
    MONGO_INSERTED,
    MONGO_QUARANTINED,
    MONGO_SPILLED,
    MONGO_UNAVAILABLE_AT_START,
    MONGO_UNSAVED,
    MONGO_UPDATED,
    NETWORK_FAILURES_PREFIX,
    RESPONSES_RECEIVED,
)
from newscrawl.store.files import data_dir

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

OK, FAILED = 0, 1
#: close reasons of a crawl that ran as asked: it ran out of work, or met a limit the operator set
NORMAL_REASONS = frozenset({
    "finished", "closespider_timeout", "closespider_itemcount", "closespider_pagecount",
    "closespider_errorcount", "closespider_timeout_no_item", "closespider_pagecount_no_item",
})  # fmt: skip
#: what an abnormal close reason means, for the operator
REASONS = {
    "storage_full": "the database has no room left to write",
    "redis_unavailable": "the shared Redis queue stayed unreachable",
    "shared_queue_lost": "the shared Redis queue lost its state",
    "shutdown": "stopped by a signal before it finished",
    "cancelled": "cancelled before it finished",
    "start_error": "the spider could not produce its start requests",
}


@dataclass(frozen=True)
class Outcome:
    """A crawl's exit code and, when it failed, the one line that says why."""

    code: int
    cause: str

    def as_dict(self) -> dict[str, Any]:
        """For run records and summaries."""
        return {"code": self.code, "cause": self.cause}


def _count(stats: dict[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _network_failures(stats: dict[str, Any]) -> str:
    kinds = {key[len(NETWORK_FAILURES_PREFIX):]: int(value) for key, value in stats.items()
             if key.startswith(NETWORK_FAILURES_PREFIX)}
    return ", ".join(f"{kind} {number}" for kind, number in sorted(kinds.items(), key=lambda kv: -kv[1]))


def crawl_outcome(reason: str, stats: dict[str, Any], *, shared: bool = False) -> Outcome:
    """The outcome of a crawl closed with ``reason`` after collecting ``stats``; ``shared``: one
    worker of a crawl shared on Redis (which may find no page left to fetch)."""
    spill_dir = data_dir() / "spill"
    stored = _count(stats, MONGO_INSERTED) + _count(stats, MONGO_UPDATED)
    spilled = _count(stats, MONGO_SPILLED)
    unsaved = _count(stats, MONGO_UNSAVED)
    causes = []
    if reason not in NORMAL_REASONS:
        causes.append(f"closed ({reason}): {REASONS.get(reason, 'the crawl did not finish')}")
    if _count(stats, RESPONSES_RECEIVED) == 0:
        failures = _network_failures(stats)
        if failures or not shared:
            causes.append("no page could be fetched" + (f" ({failures})" if failures else ""))
    if unsaved:
        causes.append(f"{unsaved} articles could not be stored nor spilled; the next run fetches them again")
    if spilled:
        what = "nothing stored" if stored == 0 else f"{stored} articles stored"
        causes.append(f"{what}, {spilled} articles spilled to {spill_dir}; run `python -m newscrawl flush-spill` "
                      "once the database is back (the next crawl also writes them)")
    elif _count(stats, MONGO_UNAVAILABLE_AT_START):
        causes.append("MongoDB was unreachable: nothing could be stored nor looked up")
    if causes:
        return Outcome(FAILED, "; ".join(causes))
    quarantined = _count(stats, MONGO_QUARANTINED)
    note = f" ({quarantined} articles quarantined)" if quarantined else ""
    return Outcome(OK, f"{reason}: {stored} articles stored{note}")


def shared_crawl(crawler: Crawler) -> bool:
    """Whether ``crawler``, started, is one worker of a crawl shared on Redis: its scheduler takes
    requests from the shared queue (:mod:`newscrawl.distributed` switches it on)."""
    return isinstance(crawler.engine.scheduler, RedisScheduler)


def close_crawl(crawler: Crawler, reason: str) -> None:
    """Ask the engine to close the spider with ``reason`` (from any callback on the reactor)."""
    engine = crawler.engine
    if engine is None or engine.spider is None:
        return
    deferred_from_coro(engine.close_spider_async(reason=reason)).addErrback(
        lambda failure: logger.error("could not close the crawl (%s): %s", reason, failure.value)
    )


class CrawlOutcome:
    """Extension: decide the outcome when the spider closes (stats ``newscrawl/exit_code`` and
    ``newscrawl/exit_cause``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlOutcome:
        """Scrapy's extension constructor."""
        return cls(crawler)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Decide the outcome."""
        if self.crawler.stats is None:
            return
        outcome = crawl_outcome(reason, self.crawler.stats.get_stats(), shared=shared_crawl(self.crawler))
        self.crawler.stats.set_value(EXIT_CODE, outcome.code)
        self.crawler.stats.set_value(EXIT_CAUSE, outcome.cause)


def report(crawler: Crawler) -> int:
    """Log a finished crawl's outcome as one line; its exit code (0 when none was decided)."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    code = int(stats.get(EXIT_CODE, OK) or OK)
    name = crawler.spider.name if crawler.spider else "the spider"
    if code:
        logger.error("crawl of %s FAILED: %s", name, stats.get(EXIT_CAUSE))
    elif EXIT_CAUSE in stats:
        logger.info("crawl of %s ended: %s", name, stats[EXIT_CAUSE])
    return code
