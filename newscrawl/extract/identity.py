"""An article's identity: the keys and fingerprints storage and dedupe know it by.

- ``url_key`` (:func:`url_key`): the key of its canonical URL (of the fetched URL when it has
  none); two URLs with one key name the same page;
- ``fetched_key``: the key of the URL it was fetched from (what an incremental crawl looks up);
- ``content_hash`` and ``simhash`` (:func:`fingerprint`): the fingerprints of its text (body,
  else lead);
- its story (:func:`story_key`): ``site/language/source_id``, one story in one edition.

:func:`identify` computes them once per page, where the page is parsed (the parse worker), and
the item carries them on. The identity pipeline keeps them true to the cleaned item
(:func:`reidentify`: the URL keys taken again, the fingerprints kept unless cleaning changed the
words); an item that reaches storage without them is identified there (:func:`fill_identity`).
Pure functions on a mutable mapping (a dict, or an item through ``ItemAdapter``); no Scrapy here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from newscrawl.defaults import default

#: texts shorter than this many words get no SimHash (``NEWSCRAWL_DEDUPE_MIN_WORDS``)
MIN_WORDS: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")
#: a 64-bit SimHash is indexed as 4 bands of 16 bits: two within distance 3 share a band
SIMHASH_BANDS = 4
BAND_BITS = 64 // SIMHASH_BANDS
#: query parameters that only track the visitor
TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|yclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|ref_src|amp|outputtype)$", re.I)
_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_AMP_PATH = re.compile(r"(/amp)+/?$|^/amp(?=/)", re.I)
_WORDS = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1
#: per bit (0 = least significant): a table mapping each byte value to 1 when it has that bit set
_BIT_SET = [bytes((byte >> bit) & 1 for byte in range(256)) for bit in range(8)]


def url_key(url: str) -> str:
    """The identity of a page: the same for http/https, ``www.``/``m.``/``amp.`` hosts, AMP paths,
    tracking parameters (utm_*, fbclid, gclid…), parameter order, fragments and trailing slashes.

    It is a key, not always a fetchable URL (the host loses its ``www.``).
    """
    url = canonicalize_url(url.strip(), keep_fragments=False)
    split = urlsplit(url)
    query_pairs = [p for p in split.query.split("&") if p and not TRACKING_PARAMS.match(p.split("=", 1)[0])]
    host = (split.hostname or "").lower()
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    if split.port and split.port not in (80, 443):
        host = f"{host}:{split.port}"
    path = _AMP_PATH.sub("", split.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit(("https", host, path, "&".join(query_pairs), ""))


def content_hash(text: str | None) -> str | None:
    """SHA-1 of the lower-cased words of ``text`` (punctuation and spacing do not count)."""
    words = _WORDS.findall((text or "").lower())
    return hashlib.sha1(" ".join(words).encode()).hexdigest() if words else None


def simhash(text: str | None, *, min_words: int = MIN_WORDS) -> int | None:
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


def signed64(value: int) -> int:
    """An unsigned 64-bit value as the signed int64 BSON can store."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned64(value: int) -> int:
    """A stored (signed) SimHash as the unsigned 64-bit value it is."""
    return value & _MASK64


def fingerprint(text: str | None, *, min_words: int = MIN_WORDS) -> tuple[str | None, int | None]:
    """(content hash, signed 64-bit SimHash) of an article text."""
    value = simhash(text, min_words=min_words)
    return content_hash(text), signed64(value) if value is not None else None


def simhash_bands(value: int) -> list[int]:
    """The four 16-bit bands of a 64-bit SimHash."""
    mask = (1 << BAND_BITS) - 1
    return [value >> (BAND_BITS * i) & mask for i in range(SIMHASH_BANDS)]


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def story_key(doc: Mapping[str, Any]) -> str | None:
    """``site/language/source_id``: one story in one edition (editions may share a story id)."""
    return f"{doc['site']}/{doc.get('language')}/{doc['source_id']}" if doc.get("source_id") else None


def article_text(doc: Mapping[str, Any]) -> str | None:
    """The text an article's fingerprints are of: its body, else its lead."""
    return doc.get("body") or doc.get("lead")


def _key_urls(doc: MutableMapping[str, Any]) -> None:
    """Set ``url_key`` (of the canonical URL, else the fetched one) and ``fetched_key``."""
    doc["url_key"] = url_key(doc.get("canonical_url") or doc["url"])
    doc["fetched_key"] = url_key(doc["url"])


def identify(doc: MutableMapping[str, Any], *, min_words: int = MIN_WORDS) -> None:
    """Set every identity field of ``doc``; texts shorter than ``min_words`` get no SimHash."""
    _key_urls(doc)
    doc["content_hash"], doc["simhash"] = fingerprint(article_text(doc), min_words=min_words)


def has_identity(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` carries its identity (its keys and its content hash)."""
    return bool(doc.get("url_key")) and bool(doc.get("fetched_key")) and doc.get("content_hash") is not None


def fill_identity(doc: MutableMapping[str, Any], *, min_words: int = MIN_WORDS) -> None:
    """Identify ``doc`` when it carries no identity; what it carries is kept."""
    if not has_identity(doc):
        identify(doc, min_words=min_words)


def reidentify(doc: MutableMapping[str, Any], *, min_words: int = MIN_WORDS) -> None:
    """Bring the identity ``doc`` carries up to date after its URLs and text were cleaned.

    The URL keys are taken again (cleaning may have left out a canonical URL that is no http(s)
    URL). The SimHash, the costly part, is kept when the content hash is still that of the text
    (cleaning changed no word of it); otherwise, as for a document without them, both
    fingerprints are computed.
    """
    given = doc.get("content_hash")
    if given is None or "simhash" not in doc or given != content_hash(article_text(doc)):
        identify(doc, min_words=min_words)
    else:
        _key_urls(doc)
