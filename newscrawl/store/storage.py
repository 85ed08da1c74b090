"""MongoDB storage: the client from settings, the embedded server, indexes, bulk writes, spill files.

Everything goes through pymongo to ``MONGO_URI`` (database ``MONGO_DATABASE``, default
``newscrawl``). When ``MONGO_URI`` is unset, :func:`open_storage` uses the server that
``python -m newscrawl db`` keeps running, or starts the embedded ``nx-27017`` server (a MongoDB
wire-protocol server on SQLite, from PyPI) on a free port with its data under ``./data/`` and
stops it at the end. No Scrapy here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.database import Database
from pymongo.errors import BulkWriteError, PyMongoError

from newscrawl.extract.dates import parse_date_fast
from newscrawl.extract.urls import url_key

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = "newscrawl"
DUPLICATE_KEY = 11000
#: MongoDB's OutOfDiskSpace; nx-27017 answers a full disk with code 8 "database or disk is full"
OUT_OF_DISK_SPACE = 14031
_FULL_MESSAGE = re.compile(r"disk is full|no space left|out of disk space|quota exceeded", re.I)
#: fields stored as BSON dates
DATE_FIELDS = ("published_at", "modified_at", "fetched_at", "first_seen_at", "updated_at")
#: fields a new version of an article may change (what a revision records)
CONTENT_FIELDS = ("title", "lead", "body", "authors", "section", "tags", "images", "modified_at", "content_hash")
#: fields kept from the stored document when a newer version replaces it
KEPT_FIELDS = ("_id", "first_seen_at", "duplicate_urls", "also_published_by", "translation_ids", "revision")
SIMHASH_BANDS = 4  # 4 bands of 16 bits: two simhashes within distance 3 share a band


def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (safe to log)."""
    return re.sub(r"(?<=://)([^:/@]*):[^@/]*@", r"\1:***@", uri)


def data_dir() -> Path:
    """Where embedded databases, spill files and run files live (``NEWSCRAWL_DATA_DIR``, ``./data``)."""
    return Path(os.getenv("NEWSCRAWL_DATA_DIR") or "data")


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _nx_command() -> str:
    found = shutil.which("nx-27017") or str(Path(sys.executable).with_name("nx-27017"))
    if not Path(found).exists():
        raise StorageError("the embedded MongoDB server nx-27017 is not installed (pip install -r requirements.txt)")
    return found


class StorageError(RuntimeError):
    """The database cannot be reached or started."""


class StorageFull(StorageError):
    """The database server has no room left to write."""


def is_storage_full(code: int | None, message: str | None) -> bool:
    """Whether a server error (code, message) says its disk is full."""
    return code == OUT_OF_DISK_SPACE or bool(message and _FULL_MESSAGE.search(message))


def is_full_error(error: Exception) -> bool:
    """Whether a raised error says the database server's disk is full."""
    return isinstance(error, StorageFull) or (
        isinstance(error, PyMongoError) and is_storage_full(getattr(error, "code", None), str(error))
    )


@dataclass
class EmbeddedServer:
    """An ``nx-27017`` process serving the databases in ``directory`` (one SQLite file per database)
    on 127.0.0.1:``port``, with its own pid and log file."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The ``MONGO_URI`` of this server."""
        return f"mongodb://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / f"nx-27017-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"nx-27017-{self.port}.log"

    @classmethod
    def start(cls, directory: Path, port: int | None = None, timeout: float = 30.0) -> EmbeddedServer:
        """Start a server and wait until it answers ``ping``."""
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(directory=directory, port=port or free_port())
        command = [
            _nx_command(), "--data-dir", str(directory), "--port", str(server.port),
            "--pid-file", str(server.pid_file), "--log-file", str(server.log_file),
        ]  # fmt: skip
        server.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise StorageError(f"nx-27017 exited with {server.process.returncode}; see {server.log_file}")
            if ping(server.uri, timeout_ms=300):
                logger.info("started the embedded MongoDB server (nx-27017) at %s, data in %s", server.uri, directory)
                return server
            time.sleep(0.1)
        server.stop()
        raise StorageError(f"nx-27017 did not answer within {timeout:.0f}s; see {server.log_file}")

    def stop(self) -> None:
        """Stop the server (its data file stays)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            logger.info("stopped the embedded MongoDB server at %s", self.uri)
            self.log_file.unlink(missing_ok=True)  # a clean stop; a failed start keeps its log
        self.pid_file.unlink(missing_ok=True)


def ping(uri: str, timeout_ms: int = 1000) -> bool:
    """Whether a MongoDB server answers at ``uri``."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def embedded_dir() -> Path:
    """Where the embedded server keeps its databases (``./data/mongo/<database>.db``)."""
    return data_dir() / "mongo"


def shared_server_file() -> Path:
    """Where ``python -m newscrawl db`` announces the server it keeps running."""
    return data_dir() / "db-server.json"


def shared_server_uri() -> str | None:
    """The URI of a running ``python -m newscrawl db`` server, if one answers."""
    try:
        uri = json.loads(shared_server_file().read_text(encoding="utf-8"))["uri"]
    except (OSError, ValueError, KeyError):
        return None
    return uri if ping(uri) else None


def index_models(embedded: bool) -> dict[str, list[IndexModel]]:
    """Every index the project relies on, per collection (the one list of them).

    The ``tags`` index is left out on the embedded server: nx-27017 0.8.1 answers no query on an
    indexed array field (measured; see tests/test_storage_contract.py), so an index there would
    hide every article from tag queries.
    """
    articles = [
        IndexModel([("url_key", ASCENDING)], unique=True, name="url_key_unique"),
        IndexModel(
            [("story_key", ASCENDING)],
            unique=True,
            partialFilterExpression={"story_key": {"$type": "string"}},
            name="story_key_unique",
        ),
        IndexModel([("site", ASCENDING), ("published_at", DESCENDING)], name="site_published"),
        IndexModel([("published_at", DESCENDING)], name="published"),
        IndexModel([("content_hash", ASCENDING)], name="content_hash"),
        IndexModel([("fetched_key", ASCENDING)], name="fetched_key"),
        *(IndexModel([(f"simhash_band{i}", ASCENDING)], name=f"simhash_band{i}") for i in range(SIMHASH_BANDS)),
    ]
    if not embedded:
        articles.append(IndexModel([("tags", ASCENDING)], name="tags"))
    return {
        "articles": articles,
        "url_aliases": [IndexModel([("article_id", ASCENDING)], name="article")],
        "article_revisions": [IndexModel([("article_id", ASCENDING), ("revision", DESCENDING)], name="article_revision")],
        "crawl_runs": [IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)], name="spider_started")],
    }


@dataclass
class Storage:
    """An open database: client, database, and the embedded server this process started (if any)."""

    client: MongoClient[dict[str, Any]]
    db: Database[dict[str, Any]]
    uri: str
    embedded: bool
    server: EmbeddedServer | None = None

    def ensure_indexes(self) -> None:
        """Create the collections' indexes (idempotent)."""
        for name, models in index_models(self.embedded).items():
            self.db[name].create_indexes(models)

    def close(self) -> None:
        """Close the client and stop the server this process started."""
        self.client.close()
        if self.server:
            self.server.stop()


def open_storage(
    uri: str | None = None, database: str | None = None, *, start_embedded: bool = True, timeout_ms: int = 5000
) -> Storage:
    """Connect to ``uri`` (default ``MONGO_URI``), else a running ``newscrawl db`` server, else start nx-27017."""
    uri = uri or os.getenv("MONGO_URI") or None
    database = database or os.getenv("MONGO_DATABASE") or DEFAULT_DATABASE
    server = None
    embedded = False
    if not uri:
        uri = shared_server_uri()
        embedded = True
        if uri:
            logger.info("MONGO_URI is not set: using the embedded server of `python -m newscrawl db` at %s", uri)
        elif start_embedded:
            logger.info("MONGO_URI is not set: starting the embedded MongoDB server (nx-27017)")
            server = EmbeddedServer.start(embedded_dir())
            uri = server.uri
        else:
            raise StorageError("MONGO_URI is not set and no `python -m newscrawl db` server is running")
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, socketTimeoutMS=60_000
    )
    try:
        storage = Storage(client=client, db=client[database], uri=uri, embedded=embedded or is_embedded(client), server=server)
        storage.ensure_indexes()
    except Exception as exc:  # credentials sent to a server without authentication fail with KeyError
        client.close()
        if server:
            server.stop()
        raise StorageError(f"cannot use MongoDB at {redact_uri(uri)}: {_short(exc)}") from exc
    return storage


def _short(exc: Exception) -> str:
    """One line about a failure to use the database (no topology dump)."""
    if isinstance(exc, PyMongoError):
        return str(exc).split(", Timeout:")[0].split(" (configured timeouts")[0]
    return f"{type(exc).__name__} {exc} (does the server accept the credentials in MONGO_URI?)"


def is_embedded(client: MongoClient[dict[str, Any]]) -> bool:
    """Whether the server is nx-27017 (it reports no MongoDB version)."""
    try:
        return client.server_info().get("version") is None
    except PyMongoError:
        return False


# -- documents ----------------------------------------------------------------------------------


def to_json_line(doc: dict[str, Any]) -> str:
    """A document as one JSON line (dates ISO 8601, ObjectIds as strings)."""
    return json.dumps(doc, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return str(value)


def from_json_line(line: str) -> dict[str, Any]:
    """A document back from :func:`to_json_line` (dates restored)."""
    doc = json.loads(line)
    for name in DATE_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = parse_date_fast(doc[name], tz="UTC")
    return doc


# -- spill files --------------------------------------------------------------------------------


def _append_all(path: Path, lines: list[str]) -> None:
    """Append ``lines`` to ``path`` durably, all or none (a failed write is cut back off)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(lines).encode("utf-8")
    with path.open("ab") as out:
        start = out.tell()
        try:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        except OSError:
            out.truncate(start)
            raise


@dataclass
class JsonLinesFile:
    """A file of this process's JSON lines under ``directory``, named when first written."""

    directory: Path
    path: Path | None = None
    prefix = "lines"

    def line(self, entry: Any) -> str:
        """One entry as a JSON line (without its newline)."""
        raise NotImplementedError

    def write(self, entries: Iterable[Any]) -> int:
        """Append ``entries``, all or none; how many. Raises :class:`OSError` (e.g. a full disk)
        with nothing written."""
        lines = [self.line(entry) + "\n" for entry in entries]
        if not lines:
            return 0
        if self.path is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            self.path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}.jsonl"
        _append_all(self.path, lines)
        return len(lines)


@dataclass
class SpillFile(JsonLinesFile):
    """Documents that could not be written, as JSON lines under ``./data/spill/`` until replayed."""

    directory: Path = field(default_factory=lambda: data_dir() / "spill")
    prefix = "spill"

    def line(self, entry: dict[str, Any]) -> str:
        """The document without ``_id``; text a UTF-8 file cannot hold (a lone surrogate) escaped."""
        doc = {k: v for k, v in entry.items() if k != "_id"}
        line = to_json_line(doc)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(doc, ensure_ascii=True, default=_json_default)
        return line


@dataclass
class QuarantineFile(JsonLinesFile):
    """Documents the database refused, one JSON line each with the reason, under ``./data/quarantine/``.

    A line is ``{"quarantined_at", "reason", "url", "document"}``, written ASCII-escaped so that
    any text, even what made the write fail, survives as it was."""

    directory: Path = field(default_factory=lambda: data_dir() / "quarantine")
    prefix = "quarantine"

    def line(self, entry: tuple[dict[str, Any], str]) -> str:
        """One (document, reason)."""
        doc, reason = entry
        return json.dumps({"quarantined_at": datetime.now(timezone.utc).isoformat(), "reason": reason,
                           "url": doc.get("url"), "document": {k: v for k, v in doc.items() if k != "_id"}},
                          ensure_ascii=True, default=_json_default)


def spill_files(directory: Path | None = None) -> list[Path]:
    """Spill files waiting to be replayed, oldest first."""
    directory = directory or data_dir() / "spill"
    return sorted(directory.glob("spill-*.jsonl")) if directory.is_dir() else []


def read_spill(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of one spill file (a torn last line from a crash is skipped)."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                yield from_json_line(line)
            except ValueError:
                logger.warning("skipping unreadable line %d of %s", number, path)


# -- writing ------------------------------------------------------------------------------------


@dataclass
class WriteResult:
    """What one batch write did; ``refused``: documents the server would not store, with why."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.refused += other.refused
        return self


class ArticleStore:
    """Bulk writes of article documents; a conflicting newer version becomes an update + revision."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.articles = db["articles"]
        self.revisions = db["article_revisions"]
        self.aliases = db["url_aliases"]

    def write(self, docs: list[dict[str, Any]]) -> WriteResult:
        """Insert ``docs`` in one unordered bulk write; resolve duplicate keys one by one.

        Documents the server refuses for other reasons come back in ``refused``. Raises
        :class:`StorageFull` when the server's disk is full, :class:`pymongo.errors.ConnectionFailure`
        when it is unreachable, and the driver's error when it cannot encode a document (the
        caller retries, isolates or spills); the batch is idempotent, so a retry never doubles anything.
        """
        result = WriteResult()
        if not docs:
            return result
        for doc in docs:
            doc.pop("_id", None)  # insert_many sets _id on the dicts; a retried batch must not reuse them
            key = story_key(doc)
            if key:
                doc["story_key"] = key
        try:
            result.inserted = len(self.articles.insert_many(docs, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            result.inserted = exc.details.get("nInserted", 0)
            errors = exc.details.get("writeErrors", [])
            full = next((e for e in errors if is_storage_full(e.get("code"), e.get("errmsg"))), None)
            if full is not None:
                raise StorageFull(f"code {full.get('code')}: {full.get('errmsg')}") from None
            for error in errors:
                doc = docs[error["index"]]
                if error.get("code") == DUPLICATE_KEY:
                    result += self._resolve_conflict(doc)
                else:
                    result.refused.append((doc, f"code {error.get('code')}: {str(error.get('errmsg'))[:300]}"))
        self.link_translations([d for d in docs if d.get("translations") and d.get("_id")])
        return result

    def find_existing(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The stored article with the same URL key or the same story key.

        Two equality lookups on single-field indexes rather than one ``$or``: nx-27017 answers
        ``$or`` by scanning the whole collection (measured 38 ms vs 0.6 ms at 2 000 articles).
        """
        found = self.articles.find_one({"url_key": doc["url_key"]})
        key = story_key(doc)
        if found is None and key:
            found = self.articles.find_one({"story_key": key})
        return found

    def _resolve_conflict(self, doc: dict[str, Any]) -> WriteResult:
        existing = self.find_existing(doc)
        if existing is None:  # the conflicting document went away meanwhile: insert again
            self.articles.insert_one(doc)
            return WriteResult(inserted=1)
        if not is_newer_version(doc, existing):
            return WriteResult(unchanged=1)
        self.update(existing, doc)
        return WriteResult(updated=1)

    def update(self, existing: dict[str, Any], doc: dict[str, Any]) -> None:
        """Replace ``existing`` by ``doc``; keep its previous version in ``article_revisions``."""
        revision = int(existing.get("revision") or 1)
        changed = [name for name in CONTENT_FIELDS if existing.get(name) != doc.get(name)]
        self.revisions.insert_one(
            {
                "article_id": existing["_id"],
                "revision": revision,
                "url_key": existing["url_key"],
                "saved_at": datetime.now(timezone.utc),
                "replaced_by_parser": doc.get("parser"),
                "changed_fields": changed,
                "previous": {name: existing.get(name) for name in CONTENT_FIELDS},
            }
        )
        replacement = {**doc, **{k: existing[k] for k in KEPT_FIELDS if k in existing}}
        replacement["revision"] = revision + 1
        replacement["updated_at"] = datetime.now(timezone.utc)
        self.articles.replace_one({"_id": existing["_id"]}, replacement)
        doc["_id"] = existing["_id"]

    def link_translations(self, docs: list[dict[str, Any]]) -> None:
        """Point each story's editions at each other (``translation_ids``: {language: _id}).

        One equality lookup per edition URL rather than one ``$in``: nx-27017 answers ``$in`` on
        a secondary index by scanning the collection, which made every batch slower than the last.
        """
        for doc in docs:
            for lang, url in doc["translations"].items():
                other = self.articles.find_one({"url_key": url_key(url)}, {"_id": 1})
                if other is None:
                    continue
                self.articles.update_one({"_id": doc["_id"]}, {"$set": {f"translation_ids.{lang}": other["_id"]}})
                if doc.get("language"):
                    self.articles.update_one({"_id": other["_id"]}, {"$set": {f"translation_ids.{doc['language']}": doc["_id"]}})

    def add_alias(self, article: dict[str, Any], url: str, key: str, *, site: str | None = None) -> None:
        """Record ``url`` as another address of ``article`` (another site's copy goes to ``also_published_by``)."""
        if site and site != article.get("site"):
            entries = list(article.get("also_published_by") or [])
            if not any(e.get("url") == url for e in entries):
                entries.append({"site": site, "url": url})
                self.articles.update_one({"_id": article["_id"]}, {"$set": {"also_published_by": entries}})
        else:
            urls = list(article.get("duplicate_urls") or [])
            if url not in urls:
                urls.append(url)
                self.articles.update_one({"_id": article["_id"]}, {"$set": {"duplicate_urls": urls}})
        self.aliases.update_one({"_id": key}, {"$set": {"article_id": article["_id"]}}, upsert=True)


def story_key(doc: dict[str, Any]) -> str | None:
    """``site/language/source_id``: one story in one edition (editions may share a story id)."""
    return f"{doc['site']}/{doc.get('language')}/{doc['source_id']}" if doc.get("source_id") else None


def is_newer_version(doc: dict[str, Any], existing: dict[str, Any]) -> bool:
    """Whether ``doc`` changes the stored article: other content, or a later ``modified_at``."""
    if doc.get("content_hash") != existing.get("content_hash"):
        return True
    new, old = doc.get("modified_at"), existing.get("modified_at")
    return bool(new and (old is None or new > old))
