"""What counts as an edit of a stored article: a change in the normalised text of its fields.

An article's compared fields (:data:`EDIT_FIELDS`) are read as the extractor gave them and
normalised, so page furniture and markup never count:

- text (title, lead, body): Unicode NFC, zero-width characters dropped, every run of whitespace
  (line and paragraph breaks included) one space: a paragraph split in two, words wrapped in
  ``<b>``, ``&nbsp;`` for a space are the same text; a changed word, number, letter case or
  punctuation mark is not;
- authors: the list of names in order; tags: the set of tags;
- the publication date: the instant, to the second (what MongoDB keeps of it);
- images: each picture's address without its query string (resizing and cache-busting
  parameters) and its caption.

Ads, view and comment counters and related-story blocks are not in these fields: the extractor
leaves them out of the article (scripts, iframes, ``aside`` and the site's excluded blocks). Only
a change of these normalised values is an edit (:func:`changed_fields`); :func:`edit_hash` is
their fingerprint, kept on the article and in its key summary (:mod:`newscrawl.store.keys`) so
dedupe tells an edited article from an unchanged one without reading it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: the fields whose change is an edit, in the order they are reported
EDIT_FIELDS = ("title", "lead", "body", "authors", "published_at", "tags", "images")

_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_WHITESPACE = re.compile(r"\s+")


def normal_text(value: Any) -> str:
    """A text as compared: NFC, no zero-width characters, whitespace runs as one space."""
    if not value:
        return ""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", str(value)))
    return _WHITESPACE.sub(" ", text).strip()


def instant(value: Any) -> str:
    """A date as compared: the UTC instant to the second (a naive one is UTC), or its text."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    return normal_text(value)


def _picture(image: Any) -> str:
    """An image as compared: its address without query string or fragment, and its caption."""
    data = image if isinstance(image, Mapping) else getattr(image, "__dict__", {"url": image})
    parts = urlsplit(normal_text(data.get("url")))
    return f"{urlunsplit(parts._replace(query='', fragment=''))} {normal_text(data.get('caption'))}".strip()


def normalised(doc: Mapping[str, Any], name: str) -> str | list[str]:
    """The value of field ``name`` of ``doc`` as it is compared."""
    value = doc.get(name)
    if name == "published_at":
        return instant(value)
    if name in ("authors", "tags"):
        names = [text for text in (normal_text(item) for item in value or ()) if text]
        return sorted(set(names)) if name == "tags" else names
    if name == "images":
        return [_picture(image) for image in value or ()]
    return normal_text(value)


def edit_hash(doc: Mapping[str, Any]) -> str:
    """The fingerprint of ``doc``'s compared fields: equal for two versions exactly when no field changed."""
    values = [normalised(doc, name) for name in EDIT_FIELDS]
    # a text the store cannot hold (a lone surrogate) still has a fingerprint: the store quarantines it
    return hashlib.sha1(json.dumps(values, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The compared fields whose normalised value differs between two versions, in :data:`EDIT_FIELDS` order."""
    return [name for name in EDIT_FIELDS if normalised(old, name) != normalised(new, name)]


def has_edit_fields(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` is an article document (not a key summary): its fields can be compared."""
    return "title" in doc


def is_newer_version(doc: dict[str, Any], existing: dict[str, Any]) -> bool:
    """Whether ``doc`` changes the stored article ``existing`` (the article, or its key summary):
    an edit of its text (:func:`edit_hash`), or a later ``modified_at``.

    A summary written before articles had an edit hash says only whether the body changed: then
    the article is taken as changed, and the writer, which compares the stored article itself,
    tells."""
    stored_hash = existing.get("edit_hash") or (edit_hash(existing) if has_edit_fields(existing) else None)
    if stored_hash is None or (doc.get("edit_hash") or edit_hash(doc)) != stored_hash:
        return True
    new, old = doc.get("modified_at"), existing.get("modified_at")
    return bool(new and (old is None or new > old))
