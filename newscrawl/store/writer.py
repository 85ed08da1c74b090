"""The bulk writer: article documents in unordered batches with their keys (``article_keys``); a
newer version of a stored article replaces it, and when its text changed (an edit, see
:mod:`newscrawl.store.edits`) its previous version becomes a revision (``article_revisions``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from newscrawl.extract.identity import story_key, url_key
from newscrawl.store.dedupe import Duplicate
from newscrawl.store.edits import changed_fields, instant, is_newer_version
from newscrawl.store.errors import DUPLICATE_KEY, StorageFull, is_storage_full
from newscrawl.store.keys import KeyIndex, story_id, url_id

#: fields a new version of an article may change (what a revision keeps of the previous one)
CONTENT_FIELDS = ("title", "lead", "body", "authors", "published_at", "section", "tags", "images", "modified_at",
                  "content_hash")
#: fields kept from the stored document when a newer version replaces it (its schedule of revisits too)
KEPT_FIELDS = ("_id", "first_seen_at", "duplicate_urls", "also_published_by", "translation_ids", "revision",
               "next_revisit_at")


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
    """Bulk writes of article documents and their keys (:mod:`newscrawl.store.keys`); a
    conflicting newer version becomes an update + revision.

    Every lookup of several articles goes through the key collection (``$in`` on ``_id``), which
    every server answers from its primary key.
    """

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.articles = db["articles"]
        self.revisions = db["article_revisions"]
        self.aliases = db["url_aliases"]
        self.keys = KeyIndex(db)
        #: writes of this store cut short (token -> article ids): keyed before the next write
        self._cut_short: dict[str, list[ObjectId]] = {}

    def write(self, docs: list[dict[str, Any]]) -> WriteResult:
        """Insert ``docs`` in one unordered bulk write, then their keys; resolve duplicate keys
        as updates or unchanged copies (looked up together).

        Documents the server refuses for other reasons come back in ``refused``. Raises
        :class:`StorageFull` when the server's disk is full, :class:`pymongo.errors.ConnectionFailure`
        when it is unreachable, and the driver's error when it cannot encode a document (the
        caller retries, isolates or spills); the batch is idempotent, so a retry never doubles anything.
        """
        result = WriteResult()
        if not docs:
            return result
        for token, ids in list(self._cut_short.items()):
            self.keys.finish_pending(token, ids)
            del self._cut_short[token]
        for doc in docs:
            doc["_id"] = ObjectId()  # a retried batch gets new ids: the last attempt's may be stored
            key = story_key(doc)
            if key:
                doc["story_key"] = key
        ids = [doc["_id"] for doc in docs]
        token = self.keys.begin(ids)
        self._cut_short[token] = ids
        stored, updated = docs, []
        try:
            result.inserted = len(self.articles.insert_many(docs, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            result.inserted = exc.details.get("nInserted", 0)
            errors = exc.details.get("writeErrors", [])
            full = next((e for e in errors if is_storage_full(e.get("code"), e.get("errmsg"))), None)
            if full is not None:
                raise StorageFull(f"code {full.get('code')}: {full.get('errmsg')}") from None
            failed = {error["index"] for error in errors}
            stored = [doc for index, doc in enumerate(docs) if index not in failed]
            conflicts = [docs[e["index"]] for e in errors if e.get("code") == DUPLICATE_KEY]
            for error in errors:
                if error.get("code") != DUPLICATE_KEY:
                    doc = docs[error["index"]]
                    result.refused.append((doc, f"code {error.get('code')}: {str(error.get('errmsg'))[:300]}"))
            resolved, reinserted, updated = self._resolve_conflicts(conflicts)
            result += resolved
            stored = stored + reinserted
        self.keys.add(stored, token=token, inserted=len(stored))
        del self._cut_short[token]
        self.link_translations([doc for doc in stored + updated if doc.get("translations")])
        return result

    def find_existing(self, docs: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """For each of ``docs``, the stored article with its URL key, else the one with its story key.

        Two lookups on ``_id`` for all of them: their keys, then the articles. A document whose
        keys are missing (a write cut short, not yet keyed) is looked up by its fields.
        """
        keyed = self.keys.find(key for doc in docs for key in self._existing_ids(doc))
        owners = [next((keyed[key]["article_id"] for key in self._existing_ids(doc) if key in keyed), None) for doc in docs]
        articles = self.keys.articles_by_id(owner for owner in owners if owner is not None)
        found: list[dict[str, Any] | None] = []
        for doc, owner in zip(docs, owners):
            article = articles.get(owner) if owner is not None else None
            if article is None:
                key = story_key(doc)
                article = self.articles.find_one({"url_key": doc["url_key"]})
                article = article or (self.articles.find_one({"story_key": key}) if key else None)
            found.append(article)
        return found

    @staticmethod
    def _existing_ids(doc: dict[str, Any]) -> list[str]:
        """The keys that name the stored version of ``doc``, in order of precedence."""
        key = story_key(doc)
        return [url_id(doc["url_key"]), *([story_id(key)] if key else [])]

    def _resolve_conflicts(
        self, docs: list[dict[str, Any]]
    ) -> tuple[WriteResult, list[dict[str, Any]], list[dict[str, Any]]]:
        """Settle documents that met a stored article's unique key: (what was done, documents
        inserted after all because the conflicting article went away meanwhile, documents that
        updated a stored article)."""
        result, reinserted, updated = WriteResult(), [], []
        current: dict[Any, dict[str, Any]] = {}  # _id -> the stored version, as this batch left it
        for doc, existing in zip(docs, self.find_existing(docs)):
            existing = current.get(existing["_id"], existing) if existing is not None else None
            if existing is None:
                self.articles.insert_one(doc)
                reinserted.append(doc)
                result.inserted += 1
            elif not is_newer_version(doc, existing):
                result.unchanged += 1
            else:
                current[existing["_id"]] = self.update(existing, doc)
                updated.append(doc)
                result.updated += 1
        return result, reinserted, updated

    def update(self, existing: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        """Replace ``existing`` by ``doc`` and re-key the article; the stored replacement.

        When the text of a compared field changed (an edit), the previous version goes to
        ``article_revisions`` with the names of the fields that changed (and ``modified_at`` when
        the page's own date of change moved), the time the new version was seen (``seen_at``: when
        its page was fetched) and the article's site, and ``revision`` goes up by one. A later
        ``modified_at`` alone updates the article in place, without a revision."""
        revision = int(existing.get("revision") or 1)
        changed = changed_fields(existing, doc)
        replacement = {**doc, **{k: existing[k] for k in KEPT_FIELDS if k in existing}}
        if "http" not in doc and "http" in existing:
            replacement["http"] = existing["http"]
        if changed:
            if instant(existing.get("modified_at")) != instant(doc.get("modified_at")):
                changed.append("modified_at")
            now = datetime.now(timezone.utc)
            self.revisions.insert_one(
                {
                    "article_id": existing["_id"],
                    "revision": revision,
                    "url_key": existing["url_key"],
                    "site": existing.get("site"),
                    "saved_at": now,
                    "seen_at": doc.get("fetched_at") or now,
                    "replaced_by_parser": doc.get("parser"),
                    "changed_fields": changed,
                    "previous": {name: existing.get(name) for name in CONTENT_FIELDS},
                }
            )
            revision += 1
        replacement["revision"] = revision
        replacement["updated_at"] = datetime.now(timezone.utc)
        self.articles.replace_one({"_id": existing["_id"]}, replacement)
        self.keys.replace(existing, replacement)
        doc["_id"] = existing["_id"]
        return replacement

    def link_translations(self, docs: list[dict[str, Any]]) -> None:
        """Point each story's editions at each other (``translation_ids``: {language: _id}), in
        one bulk write."""
        if not docs:
            return
        stored = self.ids_by_url_key({url_key(url) for doc in docs for url in doc["translations"].values()})
        links: list[UpdateOne] = []
        for doc in docs:
            for lang, url in doc["translations"].items():
                other_id = stored.get(url_key(url))
                if other_id is None:
                    continue
                links.append(UpdateOne({"_id": doc["_id"]}, {"$set": {f"translation_ids.{lang}": other_id}}))
                if doc.get("language"):
                    links.append(UpdateOne({"_id": other_id}, {"$set": {f"translation_ids.{doc['language']}": doc["_id"]}}))
        if links:
            self.articles.bulk_write(links, ordered=True)

    def ids_by_url_key(self, keys: set[str]) -> dict[str, Any]:
        """URL key -> ``_id`` of the stored articles among ``keys`` (one lookup of their keys)."""
        found = self.keys.find(url_id(key) for key in keys)
        return {key: found[url_id(key)]["article_id"] for key in keys if url_id(key) in found}

    def add_aliases(self, duplicates: list[Duplicate]) -> list[Duplicate]:
        """Record each duplicate's URL as another address of its stored original
        (``duplicate_urls``, or ``also_published_by`` for another site's copy) and in
        ``url_aliases``; the duplicates whose original is not stored.

        A handful of commands for all of them: the originals' keys, the originals, one bulk
        update, the aliases. Whole lists are ``$set``: ``$push``/``$addToSet`` are avoided (see
        :attr:`~newscrawl.store.nx.ServerTraits.push_subdocuments`, ``add_to_set_creates_field``).
        """
        if not duplicates:
            return []
        owners = self.ids_by_url_key({duplicate.original_key for duplicate in duplicates})
        wanted = {"site": 1, "duplicate_urls": 1, "also_published_by": 1}
        originals = self.keys.articles_by_id(owners.values(), wanted)
        changed: dict[Any, set[str]] = {}
        aliases: dict[str, Any] = {}
        missing: list[Duplicate] = []
        for duplicate in duplicates:
            article = originals.get(owners.get(duplicate.original_key))
            if article is None:
                missing.append(duplicate)
                continue
            if duplicate.site and duplicate.site != article.get("site"):
                entries = article.get("also_published_by") or []
                if not any(e.get("url") == duplicate.url for e in entries):
                    article["also_published_by"] = [*entries, {"site": duplicate.site, "url": duplicate.url}]
                    changed.setdefault(article["_id"], set()).add("also_published_by")
            else:
                urls = article.get("duplicate_urls") or []
                if duplicate.url not in urls:
                    article["duplicate_urls"] = [*urls, duplicate.url]
                    changed.setdefault(article["_id"], set()).add("duplicate_urls")
            aliases.setdefault(duplicate.key, article["_id"])
        updates = [UpdateOne({"_id": _id}, {"$set": {name: originals[_id][name] for name in names}})
                   for _id, names in changed.items()]
        if updates:
            self.articles.bulk_write(updates, ordered=False)
        if aliases:
            self._insert_aliases(aliases)
            self.keys.add_aliases(aliases)
        return missing

    def _insert_aliases(self, aliases: dict[str, Any]) -> None:
        """Add ``url_aliases`` entries (``_id`` = URL key); one already there stays."""
        try:
            self.aliases.insert_many([{"_id": key, "article_id": _id} for key, _id in aliases.items()], ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise
