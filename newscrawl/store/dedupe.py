"""Duplicate detection, persistent across runs (MongoDB) and bounded in memory within a run.

An article is a duplicate when it has the URL key (:func:`newscrawl.extract.identity.url_key`) or
the (site, language, story id) of a stored article, the same normalized body (``content_hash``), or
a body whose 64-bit SimHash over word 3-shingles lies within ``max_distance`` bits of a stored one
(near-duplicate: the same agency story republished elsewhere). Two hashes within 3 bits share at
least one of four 16-bit bands, so near-duplicate candidates are the articles in the same band
buckets. What the database holds is asked of the key collection (:meth:`KeyIndex.matches
<newscrawl.store.keys.KeyIndex.matches>`: one ``$in`` on ``_id`` answers a whole batch of
articles); :class:`Deduper` weighs that answer against its in-run memory: a bounded LRU of recent
keys (``memory_items``), never a set of everything seen. No database here.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from newscrawl.defaults import default
from newscrawl.extract.identity import SIMHASH_BANDS, hamming, simhash_bands, story_key, unsigned64
from newscrawl.store.edits import is_newer_version

#: recent documents kept whole (to attach duplicates' URLs before they are written) and recent
#: SimHashes scanned in memory (not yet queryable); older ones are in the database
RECENT_DOCS = 5_000


def add_bands(doc: dict[str, Any]) -> dict[str, Any]:
    """Set ``simhash_band0..3`` from ``doc["simhash"]`` (None when there is no SimHash)."""
    value = doc.get("simhash")
    bands = simhash_bands(unsigned64(value)) if value is not None else [None] * SIMHASH_BANDS
    for i, band in enumerate(bands):
        doc[f"simhash_band{i}"] = band
    return doc


class Verdict(Enum):
    """What the deduper says about an article."""

    NEW = "new"
    UPDATE = "update"  # a stored article, changed: store it as a new revision
    SEEN_IN_RUN = "seen_in_run"
    UNCHANGED = "unchanged"
    SAME_CONTENT = "same_content"
    NEAR_DUPLICATE = "near_duplicate"


@dataclass
class Decision:
    """The verdict and, for duplicates, the original it duplicates."""

    verdict: Verdict
    original_key: str | None = None
    distance: int | None = None


@dataclass
class StoredMatches:
    """What the database holds that may match a document: read by :meth:`~newscrawl.store.keys.KeyIndex.matches`."""

    existing: dict[str, Any] | None = None  # the summary of the article with the same URL key or story key
    aliased: bool = False  # the URL key is a stored duplicate's
    same_content: str | None = None  # url_key of an article with the same content hash
    band_matches: list[dict[str, Any]] = field(default_factory=list)  # same language, sharing a SimHash band


@dataclass(frozen=True)
class Duplicate:
    """A dropped copy whose URL is to be recorded on its stored original."""

    original_key: str
    url: str
    key: str
    site: str | None = None


class Deduper:
    """Decides what article documents are, given what the database holds that may match them
    (:class:`StoredMatches`) and a bounded in-run memory; one thread, in order."""

    def __init__(self, *, max_distance: int = default("NEWSCRAWL_DEDUPE_MAX_DISTANCE"),
                 memory_items: int = default("NEWSCRAWL_DEDUPE_MEMORY_ITEMS")) -> None:
        if not 0 <= max_distance < SIMHASH_BANDS:
            raise ValueError(f"max_distance must be 0..{SIMHASH_BANDS - 1} (4 bands of 16 bits), not {max_distance}")
        self.max_distance = max_distance
        self.memory_items = memory_items
        self._recent_keys: OrderedDict[str, str] = OrderedDict()  # url/story/content key -> url_key
        self._recent_docs: OrderedDict[str, dict[str, Any]] = OrderedDict()  # url_key -> doc not written yet
        self._recent_hashes: OrderedDict[str, tuple[int, str | None]] = OrderedDict()  # url_key -> (simhash, lang)
        self._recent_bands: dict[tuple[int, int], set[str]] = {}  # (band, value) -> url_keys, for _recent_hashes
        self._recent_aliases: OrderedDict[str, str] = OrderedDict()  # duplicate's url_key -> original's, to record

    def decide(self, doc: dict[str, Any], stored: StoredMatches | None) -> Decision:
        """Decide what ``doc`` is from the in-run memory and ``stored`` (None: the database is not
        consulted, e.g. while it is down; the store resolves URL conflicts later through its unique
        indexes). Remember ``doc`` when it is kept."""
        decision = self._in_run(doc) or self._from_store(doc, stored) or self._near(doc, stored)
        decision = decision or Decision(Verdict.NEW)
        if decision.verdict in (Verdict.NEW, Verdict.UPDATE):
            self._remember(doc)
        return decision

    def _keys(self, doc: dict[str, Any]) -> list[str]:
        story = story_key(doc)
        keys = [doc["url_key"], f"story:{story}" if story else None]
        if doc.get("content_hash"):
            keys.append(f"content:{doc['content_hash']}")
        return [k for k in keys if k]

    def _in_run(self, doc: dict[str, Any]) -> Decision | None:
        for key in self._keys(doc):
            original = self._recent_keys.get(key)
            if original is not None:
                self._recent_keys.move_to_end(key)
                if original == doc["url_key"] or key.startswith("story:"):
                    return Decision(Verdict.SEEN_IN_RUN, original)
                return Decision(Verdict.SAME_CONTENT, original)
        return None

    def _from_store(self, doc: dict[str, Any], stored: StoredMatches | None) -> Decision | None:
        """What the database's answer says; a duplicate's URL this run recorded counts as an
        alias the database holds (it is written with the next batch)."""
        if stored is None:
            return None
        if stored.existing is not None:
            verdict = Verdict.UPDATE if is_newer_version(doc, stored.existing) else Verdict.UNCHANGED
            return Decision(verdict, stored.existing["url_key"])
        if stored.aliased or doc["url_key"] in self._recent_aliases:
            return Decision(Verdict.UNCHANGED, None)
        if stored.same_content is not None:
            return Decision(Verdict.SAME_CONTENT, stored.same_content)
        return None

    def _near(self, doc: dict[str, Any], stored: StoredMatches | None) -> Decision | None:
        """The closest kept text within ``max_distance`` bits: recent ones in memory, older ones
        among the database's band matches (two hashes within 3 bits share one of the 4 bands)."""
        if doc.get("simhash") is None:
            return None
        value = unsigned64(doc["simhash"])
        candidates = [
            (self._recent_hashes[key][0], self._recent_hashes[key][1], key)
            for key in set().union(*(self._recent_bands.get((i, band), ()) for i, band in enumerate(simhash_bands(value))))
        ]
        for other in stored.band_matches if stored else ():
            if other.get("simhash") is not None:
                candidates.append((unsigned64(other["simhash"]), other.get("language"), other["url_key"]))
        best: tuple[int, str] | None = None
        for other_hash, language, key in candidates:
            distance = hamming(value, other_hash)
            if distance <= self.max_distance and language == doc.get("language") and (best is None or distance < best[0]):
                best = (distance, key)
        return Decision(Verdict.NEAR_DUPLICATE, best[1], best[0]) if best else None

    def _remember(self, doc: dict[str, Any]) -> None:
        for key in self._keys(doc):
            self._recent_keys[key] = doc["url_key"]
        self._recent_docs[doc["url_key"]] = doc
        if doc.get("simhash") is not None:
            self._forget_hash(doc["url_key"])
            value = unsigned64(doc["simhash"])
            self._recent_hashes[doc["url_key"]] = (value, doc.get("language"))
            for i, band in enumerate(simhash_bands(value)):
                self._recent_bands.setdefault((i, band), set()).add(doc["url_key"])
        for recent, limit in ((self._recent_keys, self.memory_items), (self._recent_docs, RECENT_DOCS)):
            while len(recent) > limit:
                recent.popitem(last=False)
        while len(self._recent_hashes) > RECENT_DOCS:
            self._forget_hash(next(iter(self._recent_hashes)))

    def written(self, docs: list[dict[str, Any]]) -> None:
        """Forget the documents of ``docs`` a write was tried for (they have an ``_id``), as
        :meth:`record_duplicate` would ignore them: only a document not written yet is held, for
        copies met meanwhile to join its insert, so the memory holds a batch, not 5,000 bodies."""
        for doc in docs:
            if "_id" in doc and self._recent_docs.get(doc.get("url_key")) is doc:
                del self._recent_docs[doc["url_key"]]

    def _forget_hash(self, key: str) -> None:
        """Drop ``key`` from the in-run SimHash memory and its band index."""
        entry = self._recent_hashes.pop(key, None)
        if entry is None:
            return
        for i, band in enumerate(simhash_bands(entry[0])):
            keys = self._recent_bands.get((i, band))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._recent_bands[(i, band)]

    def record_duplicate(self, original_key: str, doc: dict[str, Any]) -> Duplicate | None:
        """Keep ``doc``'s URL on the original: ``duplicate_urls`` (same site) or ``also_published_by``.

        An original not written yet carries it in its own insert (None is returned); for a
        stored one, the :class:`Duplicate` to record with the next write
        (:meth:`~newscrawl.store.writer.ArticleStore.add_aliases`) is returned, and the in-run
        memory holds the URL as an alias meanwhile.
        """
        pending = self._recent_docs.get(original_key)
        if pending is not None and "_id" not in pending:  # not written yet: the insert will carry it
            if doc.get("site") != pending.get("site"):
                pending.setdefault("also_published_by", []).append({"site": doc.get("site"), "url": doc["url"]})
            else:
                pending.setdefault("duplicate_urls", []).append(doc["url"])
            return None
        self._recent_aliases[doc["url_key"]] = original_key
        while len(self._recent_aliases) > self.memory_items:
            self._recent_aliases.popitem(last=False)
        return Duplicate(original_key, doc["url"], doc["url_key"], doc.get("site"))
