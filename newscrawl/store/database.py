"""The database: a client from settings, the indexes the project relies on, and :class:`Storage`.

Everything goes through pymongo to ``MONGO_URI`` (database ``MONGO_DATABASE``, default
``newscrawl``). When ``MONGO_URI`` is unset, :func:`open_storage` uses the server that
``python -m newscrawl db`` keeps running, or starts the embedded server
(:mod:`newscrawl.store.server`) and stops it at the end. What the server can do is read once, as
:class:`~newscrawl.store.nx.ServerTraits`. No Scrapy here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from newscrawl.defaults import default, setting_value
from newscrawl.extract.identity import SIMHASH_BANDS
from newscrawl.store.errors import StorageError
from newscrawl.store.nx import ServerTraits, server_traits
from newscrawl.store.server import EmbeddedServer, embedded_dir, shared_server_uri

logger = logging.getLogger(__name__)



def redact_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``***`` (safe to log)."""
    return re.sub(r"(?<=://)([^:/@]*):[^@/]*@", r"\1:***@", uri)


def index_models(traits: ServerTraits) -> dict[str, list[IndexModel]]:
    """Every index the project relies on, per collection (the one list of them).

    The ``tags`` index is left out where the server cannot query an indexed array field: there an
    index would hide every article from tag queries.
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
        IndexModel([("next_revisit_at", ASCENDING)], name="next_revisit"),
        IndexModel([("removed_at", DESCENDING)], name="removed"),
    ]
    if traits.indexed_arrays_queryable:
        articles.append(IndexModel([("tags", ASCENDING)], name="tags"))
    return {
        "articles": articles,
        "url_aliases": [IndexModel([("article_id", ASCENDING)], name="article")],
        "article_revisions": [IndexModel([("article_id", ASCENDING), ("revision", DESCENDING)], name="article_revision"),
                              IndexModel([("seen_at", DESCENDING)], name="seen")],
        "crawl_runs": [IndexModel([("spider", ASCENDING), ("started_at", DESCENDING)], name="spider_started")],
    }


@dataclass
class Storage:
    """An open database: client, database, what its server can do, and the embedded server this
    process started (if any)."""

    client: MongoClient[dict[str, Any]]
    db: Database[dict[str, Any]]
    uri: str
    traits: ServerTraits
    server: EmbeddedServer | None = None

    def ensure_indexes(self) -> None:
        """Create the collections' indexes (idempotent)."""
        for name, models in index_models(self.traits).items():
            self.db[name].create_indexes(models)

    def close(self) -> None:
        """Close the client and stop the server this process started."""
        self.client.close()
        if self.server:
            self.server.stop()


def open_storage(
    uri: str | None = None,
    database: str | None = None,
    *,
    start_embedded: bool = True,
    timeout_ms: int = default("NEWSCRAWL_MONGO_TIMEOUT_MS"),
) -> Storage:
    """Connect to ``uri`` (default ``MONGO_URI``), else a running ``newscrawl db`` server, else
    start the embedded one."""
    uri = uri or setting_value("MONGO_URI")
    database = database or setting_value("MONGO_DATABASE")
    server = None
    if not uri:
        uri = shared_server_uri()
        if uri:
            logger.info("MONGO_URI is not set: using the embedded server of `python -m newscrawl db` at %s", uri)
        elif start_embedded:
            logger.info("MONGO_URI is not set: starting the embedded MongoDB server")
            server = EmbeddedServer.start(embedded_dir())
            uri = server.uri
        else:
            raise StorageError("MONGO_URI is not set and no `python -m newscrawl db` server is running")
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, socketTimeoutMS=60_000
    )
    try:
        storage = Storage(client=client, db=client[database], uri=uri, traits=server_traits(client), server=server)
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
