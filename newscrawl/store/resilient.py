"""The resilient writer: every document of a batch ends stored, quarantined or spilled.

- the server cannot be reached: the batch is retried with backoff; if it stays down the writer
  marks it down for a cool-off period (no call blocks on a dead server meanwhile) and spills
  batches (:class:`~newscrawl.store.spill.Spillway`);
- a document the driver cannot encode or the server refuses: retried, then the batch is halved
  until the bad documents stand alone; they are quarantined with the reason, the rest is stored;
- a full disk on the server: the batch is spilled and :attr:`ResilientWriter.storage_full` is set
  (the crawl stops); any other error the server keeps giving: retried, then spilled.

Thanks to the unique indexes and the dedupe checks on replay, nothing is doubled. What it writes
goes through the adapter (:class:`~newscrawl.store.mongo.MongoArticles`), whose storage errors say
which case it is. No Scrapy here: counters go to ``count``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from newscrawl.stats import DEDUPE_UNRECORDED_DUPLICATE_URLS, MONGO_BATCHES, MONGO_INSERTED, MONGO_OUTAGES, MONGO_REVISIT_OUTCOMES, MONGO_STORAGE_FULL, MONGO_UNCHANGED, MONGO_UPDATED, MONGO_WRITE_RETRIES
from newscrawl.store.dedupe import Duplicate
from newscrawl.store.errors import DocumentRefused, StorageDown, StorageFault, StorageFull, describe
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.revisits import RevisitLog
from newscrawl.store.spill import Spillway
from newscrawl.store.writer import WriteResult

logger = logging.getLogger(__name__)

Counter = Callable[[str, int], None]
Document = dict[str, Any]


class ResilientWriter:
    """Writes batches, duplicates' URLs and revisit outcomes; knows whether the database is up."""

    def __init__(self, mongo: MongoArticles | None, spillway: Spillway, count: Counter, *, retries: int,
                 backoff_seconds: float, down_seconds: float) -> None:
        self.mongo = mongo
        self.spillway = spillway
        self.count = count
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.down_seconds = down_seconds
        #: why the server has no room left to write, once it said so (the crawl should stop)
        self.storage_full: str | None = None
        self._down_until = 0.0 if mongo else float("inf")

    @property
    def database_up(self) -> bool:
        """Whether the database is believed reachable (not within a cool-off after failures)."""
        return self.mongo is not None and time.monotonic() >= self._down_until

    def mark_down(self, exc: Exception) -> None:
        """The database did not answer: leave it alone (and spill) for ``down_seconds``."""
        self._down_until = time.monotonic() + self.down_seconds
        logger.error("MongoDB unreachable (%s); spilling to disk for %.0fs before trying again", exc, self.down_seconds)
        self.count(MONGO_OUTAGES, 1)

    def write(self, docs: list[Document]) -> bool:
        """Store ``docs`` (retrying, isolating refused documents); spill them if the database
        cannot take them. True when the database took the batch."""
        if not self.database_up or self.storage_full:
            self.spillway.spill(docs)
            return False
        assert self.mongo is not None
        pending = docs
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                result = self.mongo.write(pending)
            except StorageDown as exc:
                if last:
                    self.mark_down(exc)
                    break
            except DocumentRefused as exc:
                if last:
                    self._isolate(pending, exc)
                    return True
                logger.warning("MongoDB write of %d articles failed (%s); retrying", len(pending), describe(exc))
            except StorageFault as exc:
                if last or isinstance(exc, StorageFull):
                    self._server_fault(exc)
                    break
                logger.warning("MongoDB write of %d articles failed (%s); retrying", len(pending), describe(exc))
            else:
                self._counted(result)
                if not result.refused:
                    return True
                if last:
                    self.spillway.quarantine(result.refused)
                    return True
                pending = [doc for doc, _ in result.refused]
                logger.warning("MongoDB refused %d articles (%s); retrying them", len(pending), result.refused[0][1])
            self.count(MONGO_WRITE_RETRIES, 1)
            time.sleep(self.backoff_seconds * 2**attempt)
        self.spillway.spill(pending)
        return False

    def record_duplicates(self, duplicates: list[Duplicate]) -> None:
        """Record the URLs of stored originals' duplicates on them; never raises (an unrecorded URL
        is counted: the copy is dropped all the same)."""
        if not duplicates:
            return
        missing = duplicates
        if self.mongo is not None and self.database_up:
            try:
                missing = self.mongo.add_aliases(duplicates)
            except StorageDown as exc:
                self.mark_down(exc)
            except Exception as exc:
                logger.error("recording %d duplicates' URLs failed (%s)", len(duplicates), describe(exc))
            else:
                for duplicate in missing:
                    logger.warning("original %s of duplicate %s is not stored", duplicate.original_key, duplicate.url)
        self.count(DEDUPE_UNRECORDED_DUPLICATE_URLS, len(missing))

    def record_revisits(self, log: RevisitLog) -> None:
        """Write what revisits found (after the articles, which an edit replaces); never raises.
        While the database is down they wait; outcomes never written leave their articles due, and
        the next run revisits them."""
        if not log.outcomes or self.mongo is None or not self.database_up:
            return
        try:
            self.count(MONGO_REVISIT_OUTCOMES, self.mongo.write_revisits(log))
        except StorageDown as exc:
            self.mark_down(exc)
        except Exception as exc:
            logger.error("recording what revisits found failed (%s); those articles stay due", describe(exc))

    def _counted(self, result: WriteResult) -> None:
        self.count(MONGO_INSERTED, result.inserted)
        self.count(MONGO_UPDATED, result.updated)
        self.count(MONGO_UNCHANGED, result.unchanged)
        self.count(MONGO_BATCHES, 1)

    def _isolate(self, docs: list[Document], error: Exception) -> None:
        """Halve a batch that keeps failing until each part is stored or is one document, which
        goes to quarantine; a server fault met on the way spills what is left."""
        parts: list[list[Document]] = [docs]
        refused: list[tuple[Document, str]] = []
        assert self.mongo is not None
        while parts:
            part = parts.pop()
            try:
                result = self.mongo.write(part)
            except DocumentRefused as exc:
                if len(part) == 1:
                    refused.append((part[0], describe(exc)))
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]
                continue
            except StorageFault as exc:
                self._server_fault(exc)
                self.spillway.spill([doc for rest in (part, *parts) for doc in rest])
                break
            self._counted(result)
            refused += result.refused
        logger.warning("isolated %d of %d articles the database cannot store (%s)", len(refused), len(docs), describe(error))
        self.spillway.quarantine(refused)

    def _server_fault(self, exc: StorageFault) -> None:
        """Note a fault of the server (not of a document): full disk, or down."""
        if isinstance(exc, StorageFull):
            self._mark_full(exc)
        else:
            self.mark_down(exc)

    def _mark_full(self, exc: StorageFull) -> None:
        if self.storage_full is None:
            self.storage_full = describe(exc)
            logger.error("MongoDB has no room left to write (%s): articles are spilled from now on", self.storage_full)
            self.count(MONGO_STORAGE_FULL, 1)
