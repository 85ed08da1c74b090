"""The storage adapter: what the crawl asks of MongoDB (articles, their keys, feeds' validators,
due revisits), and the one place that catches the driver's errors.

Every method raises storage errors (:mod:`newscrawl.store.errors`), never pymongo's:
:class:`~newscrawl.store.errors.StorageDown` when the server cannot be reached,
:class:`~newscrawl.store.errors.DocumentRefused` when the driver cannot encode a document,
:class:`~newscrawl.store.errors.StorageFull` when the server has no room left, and
:class:`~newscrawl.store.errors.ServerFault` for anything else. The lookup batcher and the
resilient writer decide what each means (retry, isolate, spill, mark the database down).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from bson.errors import BSONError
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from newscrawl.store.database import Storage, open_storage, redact_uri
from newscrawl.store.dedupe import Duplicate, StoredMatches
from newscrawl.store.errors import (
    DocumentRefused,
    ServerFault,
    StorageDown,
    StorageError,
    StorageFault,
    StorageFull,
    is_storage_full,
)
from newscrawl.store.keys import KeyIndex
from newscrawl.store.revisits import DueArticles, RevisitLog, RevisitPolicy, due_articles, revisit_cap
from newscrawl.store.writer import ArticleStore, WriteResult

#: errors that belong to one document (the driver cannot encode it), not to the server
DOCUMENT_ERRORS = (BSONError, UnicodeError, OverflowError, ValueError, TypeError)


@contextmanager
def storage_errors() -> Iterator[None]:
    """Raise what the driver raises inside as the storage error it means."""
    try:
        yield
    except StorageFault:
        raise
    except ConnectionFailure as exc:
        raise StorageDown(exc) from exc
    except DOCUMENT_ERRORS as exc:
        raise DocumentRefused(exc) from exc
    except PyMongoError as exc:
        if is_storage_full(getattr(exc, "code", None), str(exc)):
            raise StorageFull(exc) from exc
        raise ServerFault(exc) from exc
    except Exception as exc:
        raise ServerFault(exc) from exc


class MongoArticles:
    """Articles, their keys, duplicates' URLs and revisit outcomes in one MongoDB database.

    A database this object opened (:meth:`open`) is closed with it; one it was given is its owner's.
    """

    def __init__(self, storage: Storage, *, owned: bool = False) -> None:
        self.storage = storage
        self.owned = owned
        self.store = ArticleStore(storage.db)

    @classmethod
    def open(cls, uri: str | None, database: str | None, *, timeout_ms: int) -> MongoArticles:
        """Open the database (MONGO_URI, a `newscrawl db` server, or the embedded one) and bring its
        key collection up to date; :class:`~newscrawl.store.errors.StorageError` when it cannot be used."""
        with storage_errors():
            storage = open_storage(uri, database, timeout_ms=timeout_ms)
        try:
            with storage_errors():
                KeyIndex(storage.db).ensure()
        except StorageError:
            storage.close()
            raise
        return cls(storage, owned=True)

    @property
    def db(self) -> Database[dict[str, Any]]:
        """The database (for the crawl's other collections: feeds' validators, runs, due revisits)."""
        return self.storage.db

    def where(self) -> str:
        """The server (its password hidden) and the database, for the log."""
        return f"{redact_uri(self.storage.uri)}, database {self.storage.db.name}"

    def matches(self, docs: list[dict[str, Any]]) -> list[StoredMatches]:
        """What the database holds that may match each of ``docs`` (one read)."""
        with storage_errors():
            return self.store.keys.matches(docs)

    def write(self, docs: list[dict[str, Any]]) -> WriteResult:
        """Store ``docs`` in one bulk write (see :meth:`~newscrawl.store.writer.ArticleStore.write`)."""
        with storage_errors():
            return self.store.write(docs)

    def add_aliases(self, duplicates: list[Duplicate]) -> list[Duplicate]:
        """Record duplicates' URLs on their stored originals; the duplicates whose original is not stored."""
        with storage_errors():
            return self.store.add_aliases(duplicates)

    def write_revisits(self, log: RevisitLog) -> int:
        """Write what revisits found; how many articles it changed."""
        with storage_errors():
            return log.write(self.storage.db)

    def stored_versions(self, url_keys: Iterable[str]) -> dict[str, datetime | None]:
        """When each stored article among ``url_keys`` last changed (one lookup of the keys)."""
        with storage_errors():
            return self.store.keys.stored_versions(url_keys)

    def feed_validators(self, url: str) -> dict[str, Any] | None:
        """The ``etag`` and ``last_modified`` the feed at ``url`` was last served with (collection ``feed_state``)."""
        with storage_errors():
            return self.storage.db.feed_state.find_one({"_id": url})

    def save_feed_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        """Keep the validators of each feed (URL -> ``etag``, ``last_modified``), in one bulk write."""
        with storage_errors():
            self.storage.db.feed_state.bulk_write([UpdateOne({"_id": url}, {"$set": fields}, upsert=True)
                                                   for url, fields in validators.items()], ordered=False)

    def due_revisits(self, site: str, policy: RevisitPolicy, cap: int | None) -> DueArticles:
        """The stored articles of ``site`` due for a revisit now, at most ``cap`` (None: as many as
        :func:`~newscrawl.store.revisits.revisit_cap` allows), most overdue first."""
        with storage_errors():
            db = self.storage.db
            return due_articles(db, site, policy, datetime.now(timezone.utc), revisit_cap(db, site, cap))

    def close(self) -> None:
        """Close the database when this object opened it (and stop the embedded server it started)."""
        if self.owned:
            self.storage.close()
