"""An article made ready to store: its URL fields only http(s), its text plain, its identity and
its text's language taken from the cleaned fields; done once, where the page is parsed.

:func:`clean_fields` is what the clean pipeline does to an article before it validates it.
:func:`prepare` does it in the parse worker, with the identity (``newscrawl/extract/identity.py``)
and the language guess, and seals the article: :func:`sealed` gives the seal back only while the
article holds the values it was sealed with, so the pipelines skip what was done and redo all of
it for an article changed since (or one no worker prepared). Pure functions on a mutable mapping
(an item through ``ItemAdapter``); no Scrapy here.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from dataclasses import astuple, dataclass, fields, is_dataclass, replace
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter

from newscrawl.extract.identity import MIN_WORDS, identify
from newscrawl.extract.language import guess_language
from newscrawl.extract.text import clean_line, plain_paragraphs, plain_text, storable_text, word_count
from newscrawl.extract.urls import is_http_url

#: the attribute of an article that holds its seal (not a field: never exported or stored)
SEAL = "_prepared"


def storable(value: Any) -> Any:
    """``value`` with every string in it made storable (no lone surrogates, NULs or control
    characters), through lists, dicts and dataclasses such as images."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [storable(entry) for entry in value]
    if isinstance(value, dict):
        return {storable(key): storable(entry) for key, entry in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: storable(getattr(value, f.name)) for f in fields(value)})
    return value


def keep_http_urls(doc: MutableMapping[str, Any]) -> int:
    """Leave out of the URL fields (``canonical_url``, ``claimed_canonical``, image URLs,
    translations) every value that is not an http(s) URL; how many were left out."""
    dropped = 0
    for name in ("canonical_url", "claimed_canonical"):
        if doc.get(name) and not is_http_url(doc[name]):
            doc[name] = None
            dropped += 1
    images = list(doc.get("images") or [])
    kept_images = [image for image in images if is_http_url(ItemAdapter(image).get("url"))]
    translations = dict(doc.get("translations") or {})
    kept_translations = {lang: url for lang, url in translations.items() if is_http_url(url)}
    dropped += len(images) - len(kept_images) + len(translations) - len(kept_translations)
    doc["images"], doc["translations"] = kept_images, kept_translations
    return dropped


def clean_fields(doc: MutableMapping[str, Any]) -> None:
    """Only http(s) URLs in the URL fields (the count left out is added to ``unsafe_urls_dropped``);
    plain text everywhere (no markup from pages survives), NFC, single spaces;
    nothing a database cannot store."""
    doc["unsafe_urls_dropped"] = (doc.get("unsafe_urls_dropped") or 0) + keep_http_urls(doc)
    for name in ("title", "lead", "section", "published_raw"):
        if doc.get(name) is not None:
            doc[name] = clean_line(plain_text(doc[name])) or None
    if doc.get("body"):
        doc["body"] = plain_paragraphs(doc["body"]) or None
    for name in ("authors", "tags"):
        values = (clean_line(plain_text(value)) for value in doc.get(name) or [])
        doc[name] = list(dict.fromkeys(filter(None, values)))
    for image in doc.get("images") or []:
        image.caption = clean_line(plain_text(image.caption)) or None if image.caption else None
        image.credit = clean_line(plain_text(image.credit)) or None if image.credit else None
    doc["word_count"] = word_count(doc.get("body"))
    for name in list(doc):  # every other field too (URLs, raw strings, layers)
        doc[name] = storable(doc[name])


def text_language(doc: MutableMapping[str, Any]) -> str | None:
    """The language the article's title, lead and body read as (None: too short to tell)."""
    return guess_language(" ".join(filter(None, (doc.get("title"), doc.get("lead"), doc.get("body")))))


#: values that cannot change in place
_IMMUTABLE = (str, int, float, bool, type(None), datetime)


def _frozen(value: Any) -> Any:
    """``value`` as an equal value that later changes to ``value`` cannot reach."""
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, list):
        return tuple(_frozen(entry) for entry in value)
    if isinstance(value, dict):
        return tuple((key, _frozen(entry)) for key, entry in value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return astuple(value)
    return copy.deepcopy(value)


def _values(article: Any) -> tuple[Any, ...]:
    """Every field of ``article`` (a dataclass instance) with its value, frozen."""
    return tuple((name, _frozen(value)) for name, value in vars(article).items() if name != SEAL)


@dataclass(frozen=True)
class Seal:
    """What :func:`prepare` left: whether it guessed the text's language and its guess, and every
    field's value, to tell the article unchanged."""

    guessed: bool
    language_guess: str | None
    values: tuple[Any, ...]


def prepare(article: Any, doc: MutableMapping[str, Any], *, min_words: int = MIN_WORDS,
            guess: bool = True) -> None:
    """Clean ``doc`` (the fields of ``article``, a dataclass instance), identify it, guess its
    language (``guess``), and seal ``article``."""
    clean_fields(doc)
    identify(doc, min_words=min_words)
    setattr(article, SEAL, Seal(guess, text_language(doc) if guess else None, _values(article)))


def sealed(article: Any) -> Seal | None:
    """The seal of ``article`` when it still holds the values it was sealed with, else None."""
    seal = getattr(article, SEAL, None)
    return seal if seal is not None and _values(article) == seal.values else None
