"""An article's identity: the keys and fingerprints storage and dedupe know it by.

- ``url_key``: the key of its canonical URL (of the fetched URL when it has none);
- ``fetched_key``: the key of the URL it was fetched from (what an incremental crawl looks up);
- ``content_hash`` and ``simhash``: the fingerprints of its text (body, else lead), see
  :func:`newscrawl.store.dedupe.fingerprint`.

Pure functions on a mutable mapping (a dict, or an item through ``ItemAdapter``); no Scrapy here.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from newscrawl.defaults import default
from newscrawl.extract.urls import url_key
from newscrawl.store.dedupe import fingerprint


def identify(doc: MutableMapping[str, Any], *, min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")) -> None:
    """Set every identity field of ``doc``; texts shorter than ``min_words`` get no SimHash."""
    doc["url_key"] = url_key(doc.get("canonical_url") or doc["url"])
    doc["fetched_key"] = url_key(doc["url"])
    doc["content_hash"], doc["simhash"] = fingerprint(doc.get("body") or doc.get("lead"), min_words=min_words)


def fill_identity(doc: MutableMapping[str, Any], *, min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")) -> None:
    """Set the identity fields when ``doc`` lacks any (all of them when the normalize step did not run)."""
    if not doc.get("url_key") or not doc.get("fetched_key") or doc.get("content_hash") is None:
        identify(doc, min_words=min_words)
