"""The key collection ``article_keys``: every key a stored article is known by, one document per
key with the key as its ``_id``.

Dedupe and the incremental check ask for many keys at once, and one
``find({"_id": {"$in": [...]}})`` answers a whole batch of articles or every link of a page: fast
on MongoDB and on nx-27017 alike, which answers ``$in`` on ``_id`` from its primary key but scans
the collection for ``$in``/``$or`` on any other field (see :mod:`newscrawl.store.nx`).

Keys (``_id``) and what their documents hold:

- ``url:<url_key>``, ``fetched:<fetched_key>`` (when it differs from the URL key) and
  ``story:<site/language/source_id>``: the article's ``article_id`` and its summary (``url_key``,
  ``content_hash``, ``modified_at``, ``published_at``, ``edit_hash``): enough to tell an edited
  article from an unchanged copy, and a story a listing says changed from one it does not;
- ``content:<content_hash>``: ``article_id`` and ``url_key`` of the first article stored with that text;
- ``alias:<url_key>``: the URL key of a stored duplicate (``article_id`` of its original);
- ``band<i>:<language>:<16 bits hex>``: one bucket per SimHash band value and language; ``m``
  lists ``"<simhash hex> <url_key>"`` of every article in it (a band value is shared by many
  articles, so entries are added with ``$addToSet``, never by a unique insert);
- ``meta``: ``version``, ``articles`` (how many articles the keys cover) and ``pending`` (writes
  begun and not finished: their articles' ids and when, in seconds since the epoch).

The writer inserts an article's keys right after the article (unordered ``insert_many``; a key
another article holds already is a duplicate-key error, expected and ignored). A write is
journalled in ``meta.pending`` (the articles' ids) before the articles go in, and struck off in
the same command that updates the buckets, so a write cut short (a crash, a lost connection)
leaves its ids behind; :meth:`KeyIndex.ensure` (at open) keys them, and the writer keys its own
before its next write. :meth:`KeyIndex.ensure` builds the collection from ``articles`` and
``url_aliases`` when it is missing, and rebuilds it when the number of articles is not what the
keys cover (articles written or deleted by something else).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from newscrawl.extract.identity import simhash_bands, story_key, unsigned64
from newscrawl.store.dedupe import StoredMatches
from newscrawl.store.edits import EDIT_FIELDS, edit_hash, has_edit_fields
from newscrawl.store.errors import DUPLICATE_KEY

logger = logging.getLogger(__name__)

COLLECTION = "article_keys"
META = "meta"
#: the layout of the keys; another value in ``meta`` rebuilds them
VERSION = 2
#: fields of an article a key summarises (what dedupe and the incremental check read)
SUMMARY = ("url_key", "content_hash", "modified_at", "published_at", "edit_hash")
#: fields of an article its keys are made of (the compared fields: for an article stored without
#: its edit hash, the summary computes it)
KEY_FIELDS = tuple(dict.fromkeys(("url_key", "fetched_key", "story_key", "content_hash", "simhash", "language",
                                  *SUMMARY[2:], *EDIT_FIELDS)))
#: seconds after which a write begun was cut short: its articles are keyed by the next open
STALE_WRITE = 600.0
#: seconds another process's rebuild is waited for before this one takes over
STALE_BUILD = 3600.0
#: articles read per batch while building
BUILD_BATCH = 1000


def url_id(key: str) -> str:
    """The key of a URL key."""
    return f"url:{key}"


def fetched_id(key: str) -> str:
    """The key of the URL an article was fetched from."""
    return f"fetched:{key}"


def story_id(key: str) -> str:
    """The key of a story (``site/language/source_id``)."""
    return f"story:{key}"


def content_id(content_hash: str) -> str:
    """The key of a text's content hash."""
    return f"content:{content_hash}"


def alias_id(key: str) -> str:
    """The key of a stored duplicate's URL key."""
    return f"alias:{key}"


def band_ids(simhash: int, language: str | None) -> list[str]:
    """The bucket of each band of ``simhash`` among the texts in ``language``."""
    return [f"band{i}:{language or ''}:{band:04x}" for i, band in enumerate(simhash_bands(unsigned64(simhash)))]


def band_entry(simhash: int, url_key: str) -> str:
    """An article's entry in its buckets."""
    return f"{unsigned64(simhash):016x} {url_key}"


def parse_band_entry(entry: str) -> tuple[int, str]:
    """(unsigned SimHash, URL key) of a bucket entry."""
    value, _, key = entry.partition(" ")
    return int(value, 16), key


def summary(article: dict[str, Any]) -> dict[str, Any]:
    """What the URL, fetched and story keys hold about ``article`` (its edit hash computed when an
    earlier version stored it without one)."""
    held = {"article_id": article["_id"], **{name: article.get(name) for name in SUMMARY}}
    if held["edit_hash"] is None and has_edit_fields(article):
        held["edit_hash"] = edit_hash(article)
    return held


def summarised_ids(article: dict[str, Any]) -> list[str]:
    """The keys of ``article`` that hold its summary."""
    ids = [url_id(article["url_key"])]
    if article.get("fetched_key") and article["fetched_key"] != article["url_key"]:
        ids.append(fetched_id(article["fetched_key"]))
    if article.get("story_key"):
        ids.append(story_id(article["story_key"]))
    return ids


def key_documents(article: dict[str, Any]) -> list[dict[str, Any]]:
    """The key documents of a stored ``article`` (its buckets aside)."""
    docs = [{"_id": key, **summary(article)} for key in summarised_ids(article)]
    if article.get("content_hash"):
        docs.append({"_id": content_id(article["content_hash"]), "article_id": article["_id"], "url_key": article["url_key"]})
    return docs


def bucket_entries(article: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(bucket, entry) of each band of ``article``'s SimHash (none without one)."""
    if article.get("simhash") is not None:
        entry = band_entry(article["simhash"], article["url_key"])
        for bucket in band_ids(article["simhash"], article.get("language")):
            yield bucket, entry


class KeyIndex:
    """The ``article_keys`` collection of a database: lookups, and the writes beside the articles'."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.keys = db[COLLECTION]
        self.articles = db["articles"]
        self.aliases = db["url_aliases"]

    # -- reading ------------------------------------------------------------------------------

    def find(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The key documents among ``ids``, by key: one ``$in`` on ``_id``, answered in one reply."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {doc["_id"]: doc for doc in self.keys.find({"_id": {"$in": wanted}}, batch_size=len(wanted) + 1)}

    def matches(self, docs: list[dict[str, Any]]) -> list[StoredMatches]:
        """What the database holds that may match each of ``docs``: one ``$in`` on ``_id`` for
        all of them.

        Each doc carries ``url_key``, ``content_hash``, ``simhash`` and ``language``. The answer
        for one doc stops at the first kind of match, in the order: same URL key or story
        (``existing``), a stored duplicate's URL (``aliased``), the same text (by its content
        hash, with or without a SimHash), texts in the same language sharing a SimHash band.
        """
        found = self.find(key for doc in docs for key in self._match_ids(doc))
        return [self._matches(doc, found) for doc in docs]

    @staticmethod
    def _match_ids(doc: dict[str, Any]) -> list[str]:
        """Every key :meth:`matches` asks about ``doc``."""
        story = story_key(doc)
        ids = [url_id(doc["url_key"]), alias_id(doc["url_key"]), *([story_id(story)] if story else [])]
        if doc.get("content_hash"):
            ids.append(content_id(doc["content_hash"]))
        if doc.get("simhash") is not None:
            ids += band_ids(doc["simhash"], doc.get("language"))
        return ids

    @staticmethod
    def _matches(doc: dict[str, Any], found: dict[str, dict[str, Any]]) -> StoredMatches:
        """What ``found`` (key documents by key) says about ``doc``."""
        story = story_key(doc)
        existing = found.get(url_id(doc["url_key"])) or (found.get(story_id(story)) if story else None)
        if existing is not None:
            return StoredMatches(existing=existing)
        if alias_id(doc["url_key"]) in found:
            return StoredMatches(aliased=True)
        same = found.get(content_id(doc["content_hash"])) if doc.get("content_hash") else None
        matches = StoredMatches(same_content=same["url_key"] if same else None)
        if doc.get("simhash") is not None and same is None:
            entries = {entry for bucket in band_ids(doc["simhash"], doc.get("language")) for entry in found.get(bucket, {}).get("m", ())}
            for value, key in map(parse_band_entry, sorted(entries)):
                matches.band_matches.append({"simhash": value, "url_key": key, "language": doc.get("language")})
        return matches

    def stored_versions(self, url_keys: Iterable[str]) -> dict[str, datetime | None]:
        """URL key -> when the stored article last changed (``modified_at``, else
        ``published_at``), for the keys of stored articles, by canonical address or by the address
        it was fetched from: one lookup for all of them."""
        keys = set(url_keys)
        found = self.find([url_id(key) for key in keys] + [fetched_id(key) for key in keys])
        stored: dict[str, datetime | None] = {}
        for key in keys:
            doc = found.get(url_id(key)) or found.get(fetched_id(key))
            if doc is not None:
                changed = doc.get("modified_at") or doc.get("published_at")
                stored[key] = changed.replace(tzinfo=timezone.utc) if changed is not None and changed.tzinfo is None else changed
        return stored

    def articles_by_id(self, ids: Iterable[Any], projection: dict[str, int] | None = None) -> dict[Any, dict[str, Any]]:
        """Stored articles by ``_id`` (one ``$in`` on ``_id``)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found = self.articles.find({"_id": {"$in": wanted}}, projection, batch_size=len(wanted) + 1)
        return {doc["_id"]: doc for doc in found}

    # -- writing beside the articles ------------------------------------------------------------

    def begin(self, article_ids: list[Any]) -> str:
        """Journal a write of the articles ``article_ids`` (before they are inserted); its token."""
        token = uuid.uuid4().hex
        entry = {"ids": article_ids, "at": time.time()}
        self.keys.update_one({"_id": META}, {"$set": {f"pending.{token}": entry}})
        return token

    def add(self, articles: list[dict[str, Any]], *, token: str | None = None, inserted: int = 0) -> None:
        """Insert the keys of stored ``articles`` and add them to their buckets; strike off the
        write ``token`` (counting ``inserted`` new articles) in the same command as the buckets."""
        entries: dict[str, list[str]] = {}
        for article in articles:
            for bucket, entry in bucket_entries(article):
                entries.setdefault(bucket, []).append(entry)
        docs = [doc for article in articles for doc in key_documents(article)]
        held = self._insert(docs + [{"_id": bucket, "m": values} for bucket, values in entries.items()])
        updates = [UpdateOne({"_id": bucket}, {"$addToSet": {"m": {"$each": entries[bucket]}}})
                   for bucket in entries if bucket in held]
        if token is not None:
            updates.append(UpdateOne({"_id": META, f"pending.{token}": {"$exists": True}},
                                     {"$unset": {f"pending.{token}": ""}, "$inc": {"articles": inserted}}))
        if updates:
            self.keys.bulk_write(updates, ordered=True)

    def _insert(self, docs: list[dict[str, Any]]) -> set[str]:
        """Insert key documents, unordered; the keys that were there already."""
        if not docs:
            return set()
        try:
            self.keys.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            other = [e for e in errors if e.get("code") != DUPLICATE_KEY]
            if other:
                raise
            return {docs[e["index"]]["_id"] for e in errors}
        return set()

    def finish_pending(self, token: str, article_ids: list[Any]) -> None:
        """Key the articles of a write that was cut short (those that were stored) and strike it off."""
        stored = list(self.articles_by_id(article_ids, dict.fromkeys(KEY_FIELDS, 1)).values())
        self.add(stored, token=token, inserted=len(stored))

    def replace(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Re-key a stored article whose document ``old`` was replaced by ``new`` (same ``_id``).

        Keys of ``old`` that ``new`` lacks are removed (a fetched URL or text another article
        shares is then given to that article), and ``new``'s are added: its URL, fetched and
        story keys written afresh, with its summary.
        """
        article_id = new["_id"]
        kept = {doc["_id"] for doc in key_documents(new)}
        gone = [doc["_id"] for doc in key_documents(old) if doc["_id"] not in kept]
        # summaries are replaced by inserting them whole (see ServerTraits.set_dates_are_dates);
        # an ObjectId field matches with $in (ServerTraits.object_id_equality)
        self.keys.delete_many({"_id": {"$in": gone + summarised_ids(new)}, "article_id": {"$in": [article_id]}})
        old_entries, new_entries = dict(bucket_entries(old)), dict(bucket_entries(new))
        pulls = [UpdateOne({"_id": bucket}, {"$pull": {"m": entry}})
                 for bucket, entry in old_entries.items() if new_entries.get(bucket) != entry]
        if pulls:
            self.keys.bulk_write(pulls, ordered=False)
        self.add([new])
        heirs: list[dict[str, Any]] = []
        for key in gone:
            field, _, value = key.partition(":")
            shared = {"fetched": "fetched_key", "content": "content_hash"}.get(field)
            heir = self.articles.find_one({shared: value}, dict.fromkeys(KEY_FIELDS, 1)) if shared else None
            if heir is not None:
                heirs.append(heir)
        if heirs:
            self.add(heirs)

    def add_aliases(self, aliases: dict[str, Any]) -> None:
        """Record stored duplicates' URL keys (``{url_key: article_id}``); the first one stays."""
        self._insert([{"_id": alias_id(key), "article_id": article_id} for key, article_id in aliases.items()])

    # -- keeping up with the articles -------------------------------------------------------------

    def ensure(self) -> None:
        """Build the keys when they are missing or do not cover the articles, and key the
        articles of writes cut short (see the module docstring).

        The count of articles is read between two reads of ``meta``: every article counted was
        keyed by then or belongs to a write still journalled after, and no keyed article is
        uncounted unless articles were deleted, so other processes writing meanwhile never make
        it rebuild. Costs two reads of ``meta`` and a count when nothing is to be done.
        """
        meta = self.keys.find_one({"_id": META})
        if meta is not None and meta.get("building"):
            meta = self._wait_for_build(meta)
        if meta is None or meta.get("version") != VERSION:
            self.build(reason="missing" if meta is None else "of another version")
            return
        stale = {token: entry for token, entry in (meta.get("pending") or {}).items() if entry["at"] < time.time() - STALE_WRITE}
        for token, entry in stale.items():
            logger.info("keying the %d articles of a write cut short", len(entry["ids"]))
            self.finish_pending(token, entry["ids"])
        before = self.keys.find_one({"_id": META}) if stale else meta
        stored = self.articles.estimated_document_count()
        after = self.keys.find_one({"_id": META}) or {}
        pending = sum(len(entry["ids"]) for entry in (after.get("pending") or {}).values())
        if not int((before or {}).get("articles", 0)) <= stored <= int(after.get("articles", 0)) + pending:
            self.build(reason=f"{stored} articles stored, {after.get('articles')} keyed")

    def _wait_for_build(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        """Wait while another process builds the keys (up to :data:`STALE_BUILD`); ``meta`` then."""
        logger.info("waiting for another process building the article keys")
        while meta is not None and meta.get("building"):
            if meta["building_at"] < time.time() - STALE_BUILD:
                return None
            time.sleep(0.5)
            meta = self.keys.find_one({"_id": META})
        return meta

    def build(self, *, reason: str) -> int:
        """Key every stored article and alias afresh; how many articles were keyed.

        Claims ``meta`` first, so of processes opening the same database at once one builds and
        the others wait. Reads ``articles`` once (the key fields only) and ``url_aliases``.
        Writers of other processes go on meanwhile and key their own articles; the journal of
        their writes is cleared at the end, and every article then stored counts as keyed.
        """
        token = uuid.uuid4().hex
        claim = {"_id": META, "building": token, "building_at": time.time()}
        try:
            self.keys.insert_one(claim)
        except DuplicateKeyError:
            free = [{"building": {"$exists": False}}, {"building_at": {"$lt": claim["building_at"] - STALE_BUILD}}]
            claimed = self.keys.update_one({"_id": META, "$or": free}, {"$set": claim})
            if not claimed.matched_count:
                self._wait_for_build(self.keys.find_one({"_id": META}) or {})
                return 0
        started = time.monotonic()
        logger.info("building the article keys (%s)", reason)
        self.keys.delete_many({"_id": {"$ne": META}})
        keyed = 0
        batch: list[dict[str, Any]] = []
        for article in self.articles.find({}, dict.fromkeys(KEY_FIELDS, 1), batch_size=BUILD_BATCH):
            batch.append(article)
            if len(batch) == BUILD_BATCH:
                self.add(batch)
                keyed, batch = keyed + len(batch), []
        self.add(batch)
        keyed += len(batch)
        aliases = {doc["_id"]: doc.get("article_id") for doc in self.aliases.find({}, batch_size=BUILD_BATCH)}
        if aliases:
            self.add_aliases(aliases)
        covered = self.articles.estimated_document_count()
        self.keys.replace_one({"_id": META}, {"_id": META, "version": VERSION, "articles": covered, "pending": {}})
        logger.info("keyed %d articles and %d aliases in %.1f s", keyed, len(aliases), time.monotonic() - started)
        return keyed

