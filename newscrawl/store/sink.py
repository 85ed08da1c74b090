"""The write path shared by the pipelines and ``flush-spill``: dedupe → buffer → bulk write → spill.

Dedupe checks are batched: :meth:`ArticleSink.check_async` queues an article, and a lookup thread
answers what gathered within ``lookup_seconds`` (up to ``lookup_batch`` articles) with one query
of the key collection; the decisions are then taken in order on the sink's thread, so a copy in
the same batch as its original is told apart exactly as it would be one at a time.

Writes are batched (flushed by size, by age and at close) as unordered bulk inserts against the
unique indexes. Every document of a batch ends stored, quarantined or spilled:

- connection errors: the batch is retried with backoff; if MongoDB stays down the sink marks it
  down for a cool-off period (no call blocks on a dead server meanwhile) and spills batches to JSON
  lines under ``./data/spill/``; they are written on the next start or by ``python -m newscrawl
  flush-spill``;
- a document the driver cannot encode or the server refuses: retried, then the batch is halved
  until the bad documents stand alone; they go to ``./data/quarantine/`` with the reason, the rest
  is stored;
- a full disk on the server: the batch is spilled and :attr:`ArticleSink.storage_full` is set (the
  crawl stops); any other error the server keeps giving: retried, then spilled.

When even the spill file cannot be written (the same full disk), the documents are counted
``newscrawl/mongo/unsaved``: they are not in the database, so the next run fetches them again.
Thanks to the unique indexes and the dedupe checks on replay, nothing is doubled. No Scrapy here:
counters go to ``count``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from bson.errors import BSONError
from pymongo.errors import ConnectionFailure, PyMongoError

from newscrawl.extract.identity import fill_identity
from newscrawl.store.database import Storage, open_storage, redact_uri
from newscrawl.store.dedupe import RECENT_DOCS, Decision, Deduper, Duplicate, StoredMatches, Verdict, add_bands
from newscrawl.store.edits import edit_hash
from newscrawl.store.errors import StorageError, is_full_error
from newscrawl.store.files import BadLine, JsonLinesFile, QuarantineFile, SpillFile, claim, read_lines, spill_files, to_json_line
from newscrawl.store.keys import KeyIndex
from newscrawl.store.revisits import RevisitLog, RevisitOutcome, RevisitPolicy
from newscrawl.store.writer import ArticleStore, WriteResult

logger = logging.getLogger(__name__)

Counter = Callable[[str, int], None]
Lookup = list[StoredMatches] | ConnectionFailure | None
#: errors that belong to one document (the driver cannot encode it), not to the server
DOCUMENT_ERRORS = (BSONError, UnicodeError, OverflowError, ValueError, TypeError)


def describe(error: BaseException) -> str:
    """One short line naming an error (never a document's text: messages are cut at 300 characters)."""
    return f"{type(error).__name__}: {str(error)[:300]}"


@dataclass
class SinkOptions:
    """Tunables (Scrapy settings ``NEWSCRAWL_MONGO_*`` / ``NEWSCRAWL_DEDUPE_*``)."""

    batch_size: int = 200
    flush_seconds: float = 5.0
    retries: int = 3
    backoff_seconds: float = 0.5
    down_seconds: float = 30.0
    timeout_ms: int = 5000
    max_distance: int = 3
    min_words: int = 50
    memory_items: int = 100_000
    lookup_batch: int = 200
    lookup_seconds: float = 0.2
    spill_dir: Path | None = None
    quarantine_dir: Path | None = None
    revisits: RevisitPolicy = field(default_factory=RevisitPolicy)


def _ignore(_name: str, _value: int) -> None:
    """The default counter: counts nowhere."""


class ArticleSink:
    """Deduplicates and stores article documents; survives a database outage by spilling."""

    def __init__(self, storage: Storage | None, options: SinkOptions | None = None, count: Counter = _ignore) -> None:
        self.storage = storage
        self.options = options or SinkOptions()
        self.count = count
        self.store = ArticleStore(storage.db) if storage else None
        self.deduper = Deduper(max_distance=self.options.max_distance, memory_items=self.options.memory_items)
        self.spill = SpillFile(self.options.spill_dir) if self.options.spill_dir else SpillFile()
        self.quarantine = QuarantineFile(self.options.quarantine_dir) if self.options.quarantine_dir else QuarantineFile()
        #: why the server has no room left to write, once it said so (the crawl should stop)
        self.storage_full: str | None = None
        #: documents neither stored, quarantined nor spilled (they are fetched again next run)
        self.unsaved = 0
        self.buffer: list[dict[str, Any]] = []
        #: url_key -> the document :meth:`decide` let through, until it is added (bounded: a
        #: document checked but never added is forgotten)
        self._passed: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._last_flush = time.monotonic()
        self._down_until = 0.0 if storage else float("inf")
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
        # dedupe checks wait here to be looked up together (None: stop)
        self._checks: queue.SimpleQueue[tuple[dict[str, Any], Future[Decision]] | None] = queue.SimpleQueue()
        self._lookups = threading.Thread(target=self._look_up_batches, name="newscrawl-lookup", daemon=True)
        self._lookups.start()
        self._closed = False

    @classmethod
    def open(cls, uri: str | None, database: str | None, options: SinkOptions | None = None, count: Counter = _ignore) -> ArticleSink:
        """Open storage (MONGO_URI, a `newscrawl db` server, or the embedded one); spill if it cannot."""
        storage = None
        try:
            storage = open_storage(uri, database, timeout_ms=(options or SinkOptions()).timeout_ms)
            KeyIndex(storage.db).ensure()
        except (StorageError, PyMongoError) as exc:
            logger.error("MongoDB unavailable, articles will be spilled to disk: %s", exc)
            count("newscrawl/mongo/unavailable_at_start", 1)
            if storage is not None:
                storage.close()
            storage = None
        else:
            logger.info("storing articles in MongoDB at %s, database %s", redact_uri(storage.uri), storage.db.name)
        return cls(storage, options, count)

    @property
    def database_up(self) -> bool:
        """Whether the database is believed reachable (not within a cool-off after failures)."""
        return self.store is not None and time.monotonic() >= self._down_until

    def _mark_down(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self.options.down_seconds
        logger.error("MongoDB unreachable (%s); spilling to disk for %.0fs before trying again", exc, self.options.down_seconds)
        self.count("newscrawl/mongo/outages", 1)

    def lookup_many(self, docs: list[dict[str, Any]]) -> Lookup:
        """The database's matches for ``docs`` (read-only: runs on the lookup thread); None when
        the database is down, the error when it just failed."""
        if not self.database_up:
            return None
        try:
            assert self.store is not None
            return self.store.keys.matches(docs)
        except ConnectionFailure as exc:
            return exc

    def decide_many(self, docs: list[dict[str, Any]], stored: Lookup) -> list[Decision]:
        """Dedupe ``docs`` in order given their :meth:`lookup_many`; duplicates' URLs are kept
        on the original (on the sink's thread)."""
        if isinstance(stored, ConnectionFailure):
            if self.database_up:
                self._mark_down(stored)
            stored = None
        return [self.decide(doc, matches) for doc, matches in zip(docs, stored or [None] * len(docs))]

    def decide(self, doc: dict[str, Any], stored: StoredMatches | None) -> Decision:
        """Dedupe ``doc`` given what the database holds (None: not consulted)."""
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

    def prepare(self, doc: dict[str, Any]) -> dict[str, Any]:
        """``doc`` with its identity (computed when the normalize step did not run), SimHash bands
        and edit hash (:func:`~newscrawl.store.edits.edit_hash`, computed when ``doc`` has none)."""
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

    def check_many(self, docs: list[dict[str, Any]]) -> list[Decision]:
        """Dedupe ``docs`` on this thread, one lookup per ``lookup_batch`` of them."""
        decisions: list[Decision] = []
        for start in range(0, len(docs), self.options.lookup_batch):
            batch = [self.prepare(doc) for doc in docs[start : start + self.options.lookup_batch]]
            decisions += self.decide_many(batch, self.lookup_many(batch))
        return decisions

    def check(self, doc: dict[str, Any]) -> Decision:
        """Dedupe ``doc`` on this thread: lookup, then decide."""
        return self.check_many([doc])[0]

    async def check_async(self, doc: dict[str, Any]) -> Decision:
        """Dedupe ``doc`` from the crawler's event loop: it waits (at most ``lookup_seconds``)
        for other articles to be looked up with, off the reactor; the decision is taken on the
        sink's thread."""
        decided: Future[Decision] = Future()
        self._checks.put((doc, decided))
        return await asyncio.wrap_future(decided)

    def _look_up_batches(self) -> None:
        """The lookup thread: gather the queued checks into batches and look each batch up."""
        while (first := self._checks.get()) is not None:
            batch = [first]
            deadline = time.monotonic() + self.options.lookup_seconds
            while len(batch) < self.options.lookup_batch:
                try:
                    waiting = self._checks.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if waiting is None:
                    self._checks.put(None)  # stop once this batch is answered
                    break
                batch.append(waiting)
            self._answer(batch)

    def _answer(self, batch: list[tuple[dict[str, Any], Future[Decision]]]) -> None:
        """Look ``batch`` up here, decide it on the sink's thread, and hand each check its decision
        (or its error: a document without the fields of an identity fails alone)."""
        ready: list[tuple[dict[str, Any], Future[Decision]]] = []
        for doc, future in batch:
            try:
                ready.append((self.prepare(doc), future))
            except Exception as exc:
                future.set_exception(exc)
        docs = [doc for doc, _ in ready]
        try:
            decided = self._worker.submit(self.decide_many, docs, self.lookup_many(docs))
        except Exception as exc:  # a fault of this code: the checks fail, not the lookup thread
            for _, future in ready:
                future.set_exception(exc)
            return

        def hand_out(done: Future[list[Decision]]) -> None:
            error = done.exception()
            for index, (_, future) in enumerate(ready):
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(done.result()[index])

        decided.add_done_callback(hand_out)

    def add(self, doc: dict[str, Any]) -> None:
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
                self._write(docs)
            except Exception as exc:  # a fault of this code: keep the documents all the same
                logger.error("writing %d articles failed unexpectedly (%s); spilling them", len(docs), describe(exc))
                self._spill(docs)
            self.deduper.written(docs)
        self._record_duplicates()
        self._record_revisits()
        if self.unsaved == unsaved_before:
            for listener in self.flushed:
                listener()

    def _write(self, docs: list[dict[str, Any]]) -> bool:
        """Store ``docs`` (retrying, isolating refused documents); spill them if the database
        cannot take them. True when the database took the batch."""
        if not self.database_up or self.storage_full:
            self._spill(docs)
            return False
        assert self.store is not None
        pending = docs
        for attempt in range(self.options.retries + 1):
            last = attempt == self.options.retries
            try:
                result = self.store.write(pending)
            except ConnectionFailure as exc:
                if last:
                    self._mark_down(exc)
                    break
            except DOCUMENT_ERRORS as exc:
                if last:
                    self._isolate(pending, exc)
                    return True
                logger.warning("MongoDB write of %d articles failed (%s); retrying", len(pending), describe(exc))
            except Exception as exc:
                if last or is_full_error(exc):
                    self._server_fault(exc)
                    break
                logger.warning("MongoDB write of %d articles failed (%s); retrying", len(pending), describe(exc))
            else:
                self._counted(result)
                if not result.refused:
                    return True
                if last:
                    self._quarantine(result.refused)
                    return True
                pending = [doc for doc, _ in result.refused]
                logger.warning("MongoDB refused %d articles (%s); retrying them", len(pending), result.refused[0][1])
            self.count("newscrawl/mongo/write_retries", 1)
            time.sleep(self.options.backoff_seconds * 2**attempt)
        self._spill(pending)
        return False

    def _record_duplicates(self) -> None:
        """Record the URLs of the duplicates met since the last flush on their stored originals;
        never raises (an unrecorded URL is counted: the copy is dropped all the same)."""
        duplicates, self._duplicates = self._duplicates, []
        if not duplicates:
            return
        missing = duplicates
        if self.store is not None and self.database_up:
            try:
                missing = self.store.add_aliases(duplicates)
            except ConnectionFailure as exc:
                self._mark_down(exc)
            except Exception as exc:
                logger.error("recording %d duplicates' URLs failed (%s)", len(duplicates), describe(exc))
            else:
                for duplicate in missing:
                    logger.warning("original %s of duplicate %s is not stored", duplicate.original_key, duplicate.url)
        self.count("newscrawl/dedupe/unrecorded_duplicate_urls", len(missing))

    def _record_revisits(self) -> None:
        """Write what revisits found since the last flush (after the articles, which an edit
        replaces); never raises. While the database is down they wait; outcomes never written leave
        their articles due, and the next run revisits them."""
        if not self._revisits.outcomes or self.storage is None or not self.database_up:
            return
        try:
            self.count("newscrawl/mongo/revisit_outcomes", self._revisits.write(self.storage.db))
        except ConnectionFailure as exc:
            self._mark_down(exc)
        except Exception as exc:
            logger.error("recording what revisits found failed (%s); those articles stay due", describe(exc))

    def _counted(self, result: WriteResult) -> None:
        self.count("newscrawl/mongo/inserted", result.inserted)
        self.count("newscrawl/mongo/updated", result.updated)
        self.count("newscrawl/mongo/unchanged", result.unchanged)
        self.count("newscrawl/mongo/batches", 1)

    def _isolate(self, docs: list[dict[str, Any]], error: Exception) -> None:
        """Halve a batch that keeps failing until each part is stored or is one document, which
        goes to quarantine; a server fault met on the way spills what is left."""
        parts: list[list[dict[str, Any]]] = [docs]
        refused: list[tuple[dict[str, Any], str]] = []
        assert self.store is not None
        while parts:
            part = parts.pop()
            try:
                result = self.store.write(part)
            except DOCUMENT_ERRORS as exc:
                if len(part) == 1:
                    refused.append((part[0], describe(exc)))
                else:
                    middle = len(part) // 2
                    parts += [part[middle:], part[:middle]]
                continue
            except Exception as exc:
                self._server_fault(exc)
                self._spill([doc for rest in (part, *parts) for doc in rest])
                break
            self._counted(result)
            refused += result.refused
        logger.warning("isolated %d of %d articles the database cannot store (%s)", len(refused), len(docs), describe(error))
        self._quarantine(refused)

    def _server_fault(self, exc: Exception) -> None:
        """Note a fault of the server (not of a document): full disk, or down."""
        if is_full_error(exc):
            self._mark_full(exc)
        else:
            self._mark_down(exc)

    def _mark_full(self, exc: Exception) -> None:
        if self.storage_full is None:
            self.storage_full = describe(exc)
            logger.error("MongoDB has no room left to write (%s): articles are spilled from now on", self.storage_full)
            self.count("newscrawl/mongo/storage_full", 1)

    def _quarantine(self, refused: list[tuple[dict[str, Any], str]]) -> None:
        """Put refused documents aside with their reasons (counted, one log line each, no text)."""
        if not refused:
            return
        for doc, reason in refused:
            logger.error("quarantined %s: %s", doc.get("url"), reason)
        self._set_aside(self.quarantine, refused, "newscrawl/mongo/quarantined")

    def _spill(self, docs: list[dict[str, Any]]) -> None:
        """Spill ``docs`` to disk; when even that fails, count them unsaved."""
        if docs and self._set_aside(self.spill, docs, "newscrawl/mongo/spilled"):
            logger.warning("spilled %d articles to %s", len(docs), self.spill.path)

    def _set_aside(self, file: JsonLinesFile, entries: list[Any], stat: str) -> bool:
        """Write ``entries`` to a spill or quarantine file and count them; when the disk refuses,
        count them unsaved (not stored: the next run fetches them again). Whether they were written."""
        try:
            written = file.write(entries)
        except OSError as exc:
            self.unsaved += len(entries)
            self.count("newscrawl/mongo/unsaved", len(entries))
            logger.error("could not write %d articles to %s (%s); they are not stored and will be fetched "
                         "again on the next run", len(entries), file.directory, exc.strerror or exc)
            return False
        self.count(stat, written)
        return True

    def flush_spill(self) -> int:
        """Write every spill file no other process is still writing (dedupe checks included);
        quarantine the lines that hold no document; return how many documents were read. Never
        raises: a file that cannot be replayed now stays for the next attempt."""
        if not self.database_up:
            return 0
        total = 0
        for path in spill_files(self.spill.directory):
            if path == self.spill.path:
                continue
            try:
                with claim(path) as handle:
                    if handle is None:  # still being written, or replayed by another process
                        continue
                    read, done = self._replay(path, handle)
            except Exception as exc:  # a fault of this code or of the disk: the file waits
                logger.error("could not replay spill file %s (%s); it is kept", path, describe(exc))
                break
            total += read
            if not done:
                break
        self.count("newscrawl/mongo/spill_replayed", total)
        return total

    def _replay(self, path: Path, handle: BinaryIO) -> tuple[int, bool]:
        """Write one claimed spill file and remove it; (documents read, whether to go on)."""
        docs: list[dict[str, Any]] = []
        bad: list[BadLine] = []
        for number, entry in read_lines(handle, path.name):
            if isinstance(entry, BadLine):
                bad.append(entry)
                continue
            try:
                docs.append(self.prepare(entry))
            except Exception as exc:  # an object without an article's fields
                bad.append(BadLine(path.name, number, to_json_line(entry), f"not an article ({describe(exc)})"))
        if bad:
            try:
                self.count("newscrawl/spill/bad_lines", self.quarantine.write(bad))
            except OSError as exc:
                logger.error("could not quarantine the bad lines of %s (%s); the file is kept", path, exc.strerror or exc)
                return len(docs), False
            for line in bad:
                logger.error("quarantined line %d of spill file %s: %s", line.number, path, line.reason)
        unsaved_before = self.unsaved
        kept = [doc for doc, decision in zip(docs, self.check_many(docs))
                if decision.verdict in (Verdict.NEW, Verdict.UPDATE)]
        written = self._write(kept)
        if self.unsaved > unsaved_before:  # neither stored nor spilled again: keep the file
            return len(docs), False
        path.unlink()  # written, quarantined, or spilled again into this run's own spill file
        logger.info("replayed spill file %s (%d articles, %d new or changed, %d bad lines quarantined)",
                    path, len(docs), len(kept), len(bad))
        return len(docs), written

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Await ``function(*args)`` run on the sink's thread (from the crawler's event loop)."""
        return await asyncio.wrap_future(self._worker.submit(function, *args))

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``function(*args)`` on the sink's thread; ``.result()`` waits for it."""
        return self._worker.submit(function, *args)

    def flush_if_due(self) -> None:
        """Flush when the buffer waited longer than ``flush_seconds``."""
        if self.flush_due():
            self.flush()

    def close(self) -> None:
        """Flush, then close the database (and stop the embedded server this process started).
        Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        self._checks.put(None)
        self._lookups.join()
        self._worker.submit(self.flush).result()
        self._worker.shutdown(wait=True)
        self.spill.close()
        self.quarantine.close()
        if self.storage:
            self.storage.close()
