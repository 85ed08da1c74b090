"""The write path shared by the storage service and ``flush-spill``: dedupe check → buffer → write.

:class:`ArticleSink` has one verb to dedupe an article (:meth:`ArticleSink.check`) and one to
queue it for writing (:meth:`ArticleSink.add`), and puts together the parts that do the work:

- the lookup batcher (:mod:`newscrawl.store.lookups`): checks looked up together on a thread of
  their own, decided in order on the sink's thread (:class:`~newscrawl.store.dedupe.Deduper`);
- the resilient writer (:mod:`newscrawl.store.resilient`): batches (flushed by size, by age and
  at close) written with retries, bad documents isolated, the rest spilled while the database is
  down or full;
- the spillway (:mod:`newscrawl.store.spill`): spill and quarantine files, and the replay of the
  spill files of earlier runs (:meth:`ArticleSink.flush_spill`);
- the adapter (:mod:`newscrawl.store.mongo`), the one place that speaks to MongoDB.

No Scrapy here: counters go to ``count``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newscrawl.defaults import default
from newscrawl.extract.identity import MIN_WORDS, fill_identity
from newscrawl.stats import MONGO_UNAVAILABLE_AT_START
from newscrawl.store.dedupe import RECENT_DOCS, Decision, Deduper, Duplicate, StoredMatches, Verdict, add_bands
from newscrawl.store.edits import edit_hash
from newscrawl.store.errors import StorageDown, StorageError, describe
from newscrawl.store.lookups import Lookup, LookupBatcher
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.resilient import ResilientWriter
from newscrawl.store.revisits import RevisitLog, RevisitOutcome, RevisitPolicy
from newscrawl.store.spill import Spillway

if TYPE_CHECKING:
    from pymongo.database import Database

logger = logging.getLogger(__name__)

Counter = Callable[[str, int], None]
Document = dict[str, Any]


@dataclass
class SinkOptions:
    """Tunables (Scrapy settings ``NEWSCRAWL_MONGO_*`` / ``NEWSCRAWL_DEDUPE_*``)."""

    batch_size: int = default("NEWSCRAWL_MONGO_BATCH")
    flush_seconds: float = default("NEWSCRAWL_MONGO_FLUSH_SECONDS")
    retries: int = default("NEWSCRAWL_MONGO_RETRIES")
    backoff_seconds: float = default("NEWSCRAWL_MONGO_BACKOFF_SECONDS")
    down_seconds: float = default("NEWSCRAWL_MONGO_DOWN_SECONDS")
    timeout_ms: int = default("NEWSCRAWL_MONGO_TIMEOUT_MS")
    max_distance: int = default("NEWSCRAWL_DEDUPE_MAX_DISTANCE")
    min_words: int = MIN_WORDS
    memory_items: int = default("NEWSCRAWL_DEDUPE_MEMORY_ITEMS")
    lookup_batch: int = default("NEWSCRAWL_DEDUPE_BATCH")
    lookup_seconds: float = default("NEWSCRAWL_DEDUPE_BATCH_SECONDS")
    spill_dir: Path | None = None
    quarantine_dir: Path | None = None
    revisits: RevisitPolicy = field(default_factory=RevisitPolicy)


def _ignore(_name: str, _value: int) -> None:
    """The default counter: counts nowhere."""


class ArticleSink:
    """Deduplicates and stores article documents; survives a database outage by spilling."""

    def __init__(self, mongo: MongoArticles | None, options: SinkOptions | None = None, count: Counter = _ignore) -> None:
        self.mongo = mongo
        self.options = options or SinkOptions()
        self.count = count
        self.deduper = Deduper(max_distance=self.options.max_distance, memory_items=self.options.memory_items)
        self.spillway = Spillway(self.options.spill_dir, self.options.quarantine_dir, count)
        self.writer = ResilientWriter(mongo, self.spillway, count, retries=self.options.retries,
                                      backoff_seconds=self.options.backoff_seconds, down_seconds=self.options.down_seconds)
        self.buffer: list[Document] = []
        #: url_key -> the document a check let through, until it is added (bounded: a document
        #: checked but never added is forgotten)
        self._passed: OrderedDict[str, Document] = OrderedDict()
        self._last_flush = time.monotonic()
        #: stored originals' duplicates to record with the next write
        self._duplicates: list[Duplicate] = []
        #: page URL -> the validators (ETag, Last-Modified) it was served with, until its article is
        #: added (bounded as ``_passed``); filled from the crawler's thread
        self._validators: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._validators_lock = threading.Lock()
        #: what revisits found, written with the next flush
        self._revisits = RevisitLog()
        #: called after each flush, once the buffered documents are stored or spilled to disk
        self.flushed: list[Callable[[], None]] = []
        # one thread does all the database work of a crawl, in order: the reactor keeps fetching
        # and parsing while it waits for MongoDB, and the sink's state is never shared
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newscrawl-sink")
        self.lookups = LookupBatcher(self.prepare, self._look_up, self._decide_later,
                                     batch=self.options.lookup_batch, seconds=self.options.lookup_seconds)
        self._closed = False

    @classmethod
    def open(cls, uri: str | None, database: str | None, options: SinkOptions | None = None, count: Counter = _ignore) -> ArticleSink:
        """Open storage (MONGO_URI, a `newscrawl db` server, or the embedded one); spill if it cannot."""
        try:
            mongo: MongoArticles | None = MongoArticles.open(uri, database, timeout_ms=(options or SinkOptions()).timeout_ms)
        except StorageError as exc:
            logger.error("MongoDB unavailable, articles will be spilled to disk: %s", exc)
            count(MONGO_UNAVAILABLE_AT_START, 1)
            mongo = None
        else:
            logger.info("storing articles in MongoDB at %s", mongo.where())
        return cls(mongo, options, count)

    @property
    def database_up(self) -> bool:
        """Whether the database is believed reachable (not within a cool-off after failures)."""
        return self.writer.database_up

    @property
    def storage_full(self) -> str | None:
        """Why the server has no room left to write, once it said so (the crawl should stop)."""
        return self.writer.storage_full

    @property
    def unsaved(self) -> int:
        """Documents neither stored, quarantined nor spilled (they are fetched again next run)."""
        return self.spillway.unsaved

    def reachable(self) -> MongoArticles | None:
        """The database while it is believed reachable; None while it is down or unavailable."""
        return self.mongo if self.database_up else None

    def database(self) -> Database[dict[str, Any]] | None:
        """The open database while it is believed reachable; None while it is down or unavailable."""
        mongo = self.reachable()
        return mongo.db if mongo is not None else None

    async def check(self, doc: Document) -> Decision:
        """Dedupe ``doc`` from the crawler's event loop: it waits (at most ``lookup_seconds``) for
        other articles to be looked up with, off the reactor; the decision is taken on the sink's
        thread, and duplicates' URLs are kept on their original."""
        return await self.lookups.check(doc)

    def _look_up(self, docs: list[Document]) -> Lookup:
        """The database's matches for ``docs`` (read-only: runs on the lookup thread); None when
        the database is down, the failure when it just failed."""
        if not self.database_up:
            return None
        assert self.mongo is not None
        try:
            return self.mongo.matches(docs)
        except StorageDown as exc:
            return exc

    def _decide_later(self, docs: list[Document], found: Lookup) -> Future[list[Decision]]:
        """Have ``docs`` decided on the sink's thread."""
        return self._worker.submit(self._decide_many, docs, found)

    def _decide_many(self, docs: list[Document], found: Lookup) -> list[Decision]:
        """Dedupe ``docs`` in order given what the database holds (on the sink's thread)."""
        if isinstance(found, StorageDown):
            if self.database_up:
                self.writer.mark_down(found)
            found = None
        return [self._decide(doc, matches) for doc, matches in zip(docs, found or [None] * len(docs))]

    def _decide(self, doc: Document, stored: StoredMatches | None) -> Decision:
        """Dedupe ``doc`` given what the database holds (None: not consulted); remember what passes."""
        decision = self.deduper.decide(doc, stored)
        if decision.verdict in (Verdict.SAME_CONTENT, Verdict.NEAR_DUPLICATE) and decision.original_key:
            duplicate = self.deduper.record_duplicate(decision.original_key, doc)
            if duplicate is not None:
                self._duplicates.append(duplicate)
        if decision.verdict in (Verdict.NEW, Verdict.UPDATE):
            self._passed[doc["url_key"]] = doc
            self._passed.move_to_end(doc["url_key"])
            while len(self._passed) > RECENT_DOCS:
                self._passed.popitem(last=False)
        return decision

    def _decided_here(self, docs: list[Document]) -> list[Decision]:
        """Dedupe prepared ``docs`` on this thread (the replay of spill files), one lookup per
        ``lookup_batch`` of them."""
        decisions: list[Decision] = []
        for start in range(0, len(docs), self.options.lookup_batch):
            batch = docs[start : start + self.options.lookup_batch]
            decisions += self._decide_many(batch, self._look_up(batch))
        return decisions

    def prepare(self, doc: Document) -> Document:
        """``doc`` with its identity (when it came without one), SimHash bands and edit hash
        (:func:`~newscrawl.store.edits.edit_hash`, computed when ``doc`` has none)."""
        fill_identity(doc, min_words=self.options.min_words)
        if "edit_hash" not in doc:
            doc["edit_hash"] = edit_hash(doc)
        return add_bands(doc)

    def note_validators(self, url: str, validators: dict[str, str]) -> None:
        """Keep the ``ETag``/``Last-Modified`` the page at ``url`` was served with for its article
        (:meth:`add` stores them as ``http``; any thread)."""
        with self._validators_lock:
            self._validators[url] = validators
            self._validators.move_to_end(url)
            while len(self._validators) > RECENT_DOCS:
                self._validators.popitem(last=False)

    def note_revisit(self, outcome: RevisitOutcome) -> None:
        """Keep what a revisit found, for the next flush (any thread: it is queued on the sink's)."""
        self._worker.submit(self._revisits.add, outcome)

    def add(self, doc: Document) -> None:
        """Queue ``doc`` for writing (its identity filled in); flush when the batch is full or old.

        When a check let this article through, the document it kept is the one queued, with
        ``doc``'s fields: copies met since carry their URLs into it. Nothing is looked up here: a
        document no check saw is written as it is, and the writer's unique indexes and revisions
        still store each article once.
        """
        fill_identity(doc, min_words=self.options.min_words)
        passed = self._passed.pop(doc["url_key"], None)
        if passed is not None and "edit_hash" in passed:
            doc.setdefault("edit_hash", passed["edit_hash"])  # the same item, checked before: its text is as then
        self.prepare(doc)
        if passed is not None and passed is not doc:
            passed.update(doc)
            doc = passed
        first_seen = doc.setdefault("first_seen_at", datetime.now(timezone.utc))
        with self._validators_lock:
            validators = self._validators.pop(doc.get("url"), None)
        if validators:
            doc["http"] = validators
        due = self.options.revisits.next_due(first_seen, first_seen)
        if due is not None:
            doc["next_revisit_at"] = due  # kept by an update of a stored article (writer.KEPT_FIELDS)
        self.buffer.append(doc)
        if len(self.buffer) >= self.options.batch_size or self.flush_due():
            self.flush()

    def flush_due(self) -> bool:
        """Whether the buffer waited longer than ``flush_seconds``."""
        return bool(self.buffer) and time.monotonic() - self._last_flush >= self.options.flush_seconds

    def flush(self) -> None:
        """Write the buffered documents (or quarantine or spill them); never raises. The
        :attr:`flushed` listeners hear only of flushes after which nothing is left unsaved."""
        docs, self.buffer = self.buffer, []
        self._last_flush = time.monotonic()
        unsaved_before = self.unsaved
        if docs:
            try:
                self.writer.write(docs)
            except Exception as exc:  # a fault of this code: keep the documents all the same
                logger.error("writing %d articles failed unexpectedly (%s); spilling them", len(docs), describe(exc))
                self.spillway.spill(docs)
            self.deduper.written(docs)
        duplicates, self._duplicates = self._duplicates, []
        self.writer.record_duplicates(duplicates)
        self.writer.record_revisits(self._revisits)
        if self.unsaved == unsaved_before:
            for listener in self.flushed:
                listener()

    def flush_if_due(self) -> None:
        """Flush when the buffer waited longer than ``flush_seconds``."""
        if self.flush_due():
            self.flush()

    def flush_spill(self) -> int:
        """Write every spill file no other process is still writing (dedupe checks included);
        quarantine the lines that hold no document; return how many documents were read. Never
        raises: a file that cannot be replayed now stays for the next attempt."""
        if not self.database_up:
            return 0
        return self.spillway.replay(self.prepare, self._decided_here, self.writer.write)

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Await ``function(*args)`` run on the sink's thread (from the crawler's event loop)."""
        return await asyncio.wrap_future(self._worker.submit(function, *args))

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``function(*args)`` on the sink's thread; ``.result()`` waits for it."""
        return self._worker.submit(function, *args)

    def close(self) -> None:
        """Flush, then close the database this sink opened (and stop the embedded server this
        process started). Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        self.lookups.close()
        self._worker.submit(self.flush).result()
        self._worker.shutdown(wait=True)
        self.spillway.close()
        if self.mongo is not None:
            self.mongo.close()
