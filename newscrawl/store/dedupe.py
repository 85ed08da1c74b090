"""Duplicate detection, persistent across runs (MongoDB) and bounded in memory within a run.

An article is a duplicate when it has the URL key (:func:`newscrawl.extract.urls.url_key`) or the
(site, language, story id) of a stored article, the same normalized body (``content_hash``), or a
body whose 64-bit SimHash over word 3-shingles lies within ``max_distance`` bits of a stored one
(near-duplicate: the same agency story republished elsewhere). Two hashes within 3 bits share at
least one of four 16-bit bands, so near-duplicate candidates are the articles in the same band
buckets. Everything stored is asked of the key collection (:mod:`newscrawl.store.keys`): one
``$in`` on ``_id`` answers a whole batch of articles (:meth:`Deduper.lookup_many`). Memory: a
bounded LRU of recent keys (``memory_items``), never a set of everything seen.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from newscrawl.defaults import default
from newscrawl.store.database import SIMHASH_BANDS
from newscrawl.store.keys import alias_id, band_ids, content_id, parse_band_entry, simhash_bands, story_id, url_id
from newscrawl.store.writer import ArticleStore, Duplicate, is_newer_version, story_key

_WORDS = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1
#: recent documents kept whole (to attach duplicates' URLs before they are written) and recent
#: SimHashes scanned in memory (not yet queryable); older ones are in the database
RECENT_DOCS = 5_000


def content_hash(text: str | None) -> str | None:
    """SHA-1 of the lower-cased words of ``text`` (punctuation and spacing do not count)."""
    words = _WORDS.findall((text or "").lower())
    return hashlib.sha1(" ".join(words).encode()).hexdigest() if words else None


#: per bit (0 = least significant): a table mapping each byte value to 1 when it has that bit set
_BIT_SET = [bytes((byte >> bit) & 1 for byte in range(256)) for bit in range(8)]


def simhash(text: str | None, *, min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")) -> int | None:
    """64-bit SimHash over word 3-shingles; None for texts shorter than ``min_words``.

    Bit ``b`` is set when more than half of the shingle hashes (8-byte BLAKE2b, big-endian) have
    it set. The counting runs in C: the digests are concatenated, and for each byte position and
    bit, that column of bytes is mapped to 0/1 by ``bytes.translate`` and its ones counted.
    """
    words = _WORDS.findall((text or "").lower())
    if len(words) < min_words:
        return None
    digests = b"".join(
        hashlib.blake2b(shingle.encode(), digest_size=8).digest()
        for shingle in map(" ".join, zip(words, words[1:], words[2:]))
    )
    shingles = len(digests) // 8
    value = 0
    for position in range(8):
        column = digests[position::8]
        for bit in range(8):
            if 2 * column.translate(_BIT_SET[bit]).count(1) > shingles:
                value |= 1 << ((7 - position) * 8 + bit)
    return value


def fingerprint(text: str | None, *, min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")) -> tuple[str | None, int | None]:
    """(content hash, signed 64-bit SimHash) of an article text."""
    value = simhash(text, min_words=min_words)
    return content_hash(text), signed64(value) if value is not None else None


def add_bands(doc: dict[str, Any]) -> dict[str, Any]:
    """Set ``simhash_band0..3`` from ``doc["simhash"]`` (None when there is no SimHash)."""
    value = doc.get("simhash")
    bands = simhash_bands(value & _MASK64) if value is not None else [None] * SIMHASH_BANDS
    for i, band in enumerate(bands):
        doc[f"simhash_band{i}"] = band
    return doc


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def signed64(value: int) -> int:
    """An unsigned 64-bit value as the signed int64 BSON can store."""
    return value - (1 << 64) if value >= 1 << 63 else value


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
    """What the database holds that may match a document: read by :meth:`Deduper.lookup_many`."""

    existing: dict[str, Any] | None = None  # the summary of the article with the same URL key or story key
    aliased: bool = False  # the URL key is a stored duplicate's
    same_content: str | None = None  # url_key of an article with the same content hash
    band_matches: list[dict[str, Any]] = field(default_factory=list)  # same language, sharing a SimHash band


class Deduper:
    """Checks article documents against the database and a bounded in-run memory.

    Two steps: :meth:`lookup_many` only reads the database (any thread may run it), :meth:`decide`
    weighs its answer against the in-run memory and remembers what is kept (one thread, in
    order). :meth:`check` does both for one document.
    """

    def __init__(
        self,
        store: ArticleStore | None,
        *,
        max_distance: int = default("NEWSCRAWL_DEDUPE_MAX_DISTANCE"),
        min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS"),
        memory_items: int = default("NEWSCRAWL_DEDUPE_MEMORY_ITEMS"),
    ) -> None:
        if not 0 <= max_distance < SIMHASH_BANDS:
            raise ValueError(f"max_distance must be 0..{SIMHASH_BANDS - 1} (4 bands of 16 bits), not {max_distance}")
        self.store = store
        self.max_distance = max_distance
        self.min_words = min_words
        self.memory_items = memory_items
        self._recent_keys: OrderedDict[str, str] = OrderedDict()  # url/story/content key -> url_key
        self._recent_docs: OrderedDict[str, dict[str, Any]] = OrderedDict()  # url_key -> doc not written yet
        self._recent_hashes: OrderedDict[str, tuple[int, str | None]] = OrderedDict()  # url_key -> (simhash, lang)
        self._recent_bands: dict[tuple[int, int], set[str]] = {}  # (band, value) -> url_keys, for _recent_hashes
        self._recent_aliases: OrderedDict[str, str] = OrderedDict()  # duplicate's url_key -> original's, to record

    def check(self, doc: dict[str, Any], *, use_database: bool = True) -> Decision:
        """:meth:`lookup_many` then :meth:`decide`; ``use_database=False`` consults the in-run memory only."""
        stored = self.lookup_many([doc])[0] if use_database and self.store is not None else None
        return self.decide(doc, stored)

    def lookup_many(self, docs: list[dict[str, Any]]) -> list[StoredMatches]:
        """Read what the database holds that may match each of ``docs`` (no in-run state is
        touched): one ``$in`` on the key collection's ``_id`` for all of them.

        Each doc carries ``url_key``, ``content_hash``, ``simhash`` and ``language``. The answer
        for one doc stops at the first kind of match, in the order: same URL key or story
        (``existing``), a stored duplicate's URL (``aliased``), the same text (by its content
        hash, with or without a SimHash), texts in the same language sharing a SimHash band.
        """
        assert self.store is not None
        found = self.store.keys.find(key for doc in docs for key in self._stored_ids(doc))
        return [self._matches(doc, found) for doc in docs]

    @staticmethod
    def _stored_ids(doc: dict[str, Any]) -> list[str]:
        """Every key :meth:`lookup_many` asks about ``doc``."""
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
        value = doc["simhash"] & _MASK64
        candidates = [
            (self._recent_hashes[key][0], self._recent_hashes[key][1], key)
            for key in set().union(*(self._recent_bands.get((i, band), ()) for i, band in enumerate(simhash_bands(value))))
        ]
        for other in stored.band_matches if stored else ():
            if other.get("simhash") is not None:
                candidates.append((other["simhash"] & _MASK64, other.get("language"), other["url_key"]))
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
            value = doc["simhash"] & _MASK64
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
        stored one, the :class:`~newscrawl.store.writer.Duplicate` to record with the next write
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
