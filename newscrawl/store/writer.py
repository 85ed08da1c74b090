"""The bulk writer: article documents in unordered batches; a newer version of a stored article
replaces it and its previous version becomes a revision (``article_revisions``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from newscrawl.extract.urls import url_key
from newscrawl.store.errors import DUPLICATE_KEY, StorageFull, is_storage_full
from newscrawl.store.nx import ServerTraits

#: fields a new version of an article may change (what a revision records)
CONTENT_FIELDS = ("title", "lead", "body", "authors", "section", "tags", "images", "modified_at", "content_hash")
#: fields kept from the stored document when a newer version replaces it
KEPT_FIELDS = ("_id", "first_seen_at", "duplicate_urls", "also_published_by", "translation_ids", "revision")


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
    """Bulk writes of article documents; a conflicting newer version becomes an update + revision.

    ``traits`` (what the server can do) choose how several keys are looked up at once.
    """

    def __init__(self, db: Database[dict[str, Any]], traits: ServerTraits) -> None:
        self.articles = db["articles"]
        self.revisions = db["article_revisions"]
        self.aliases = db["url_aliases"]
        self.traits = traits

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
        """The stored article with the same URL key, else the one with the same story key.

        One ``$or`` where the server answers it from the indexes, else two equality lookups.
        """
        key = story_key(doc)
        if key and self.traits.secondary_or_is_indexed:
            matches = list(self.articles.find({"$or": [{"url_key": doc["url_key"]}, {"story_key": key}]}))
            return next((m for m in matches if m.get("url_key") == doc["url_key"]), matches[0] if matches else None)
        found = self.articles.find_one({"url_key": doc["url_key"]})
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
        """Point each story's editions at each other (``translation_ids``: {language: _id})."""
        if not docs:
            return
        stored = self.ids_by_url_key({url_key(url) for doc in docs for url in doc["translations"].values()})
        for doc in docs:
            for lang, url in doc["translations"].items():
                other_id = stored.get(url_key(url))
                if other_id is None:
                    continue
                self.articles.update_one({"_id": doc["_id"]}, {"$set": {f"translation_ids.{lang}": other_id}})
                if doc.get("language"):
                    self.articles.update_one({"_id": other_id}, {"$set": {f"translation_ids.{doc['language']}": doc["_id"]}})

    def ids_by_url_key(self, keys: set[str]) -> dict[str, Any]:
        """URL key -> ``_id`` of the stored articles among ``keys``: one ``$in`` where the server
        answers it from the index, else one equality lookup per key."""
        if self.traits.secondary_in_is_indexed:
            found = self.articles.find({"url_key": {"$in": sorted(keys)}}, {"_id": 1, "url_key": 1})
            return {doc["url_key"]: doc["_id"] for doc in found}
        lookups = ((key, self.articles.find_one({"url_key": key}, {"_id": 1})) for key in keys)
        return {key: doc["_id"] for key, doc in lookups if doc is not None}

    def add_alias(self, article: dict[str, Any], url: str, key: str, *, site: str | None = None) -> None:
        """Record ``url`` as another address of ``article`` (another site's copy goes to ``also_published_by``).

        Whole lists are ``$set``: ``$push``/``$addToSet`` are avoided (see
        :attr:`~newscrawl.store.nx.ServerTraits.push_subdocuments`, ``add_to_set_creates_field``).
        """
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
