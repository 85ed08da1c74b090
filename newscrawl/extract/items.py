"""The article item: the one schema every spider yields and every pipeline reads.

Plain dataclasses (no Scrapy imports); pipelines reach fields through ``ItemAdapter``.
The fields of :class:`Article` are the registry of what an article has; their metadata says

- ``required=True``: what the clean pipeline insists on;
- ``fill=True``: a field whose fill rate each run records and the report shows (:data:`FILL_FIELDS`);
- ``parsed=False``: a field set once the page is parsed, not by the parser; the parser gives every
  other one, in the order declared (:data:`PARSED_FIELDS`).

Length limits, applied by :func:`within_limits` where the parser builds the item (in characters;
a longer value is cut at a word boundary and the field named in ``Article.truncated``):

- ``title`` 1,000; ``lead`` 5,000; ``body`` 500,000;
- each author, each tag and the ``section`` 200; an image caption or credit 1,000;
- at most 50 authors, 100 tags and 100 images.

``truncated`` also names what the parser left out of the page itself: ``html`` (markup past
``NEWSCRAWL_PARSE_MAX_BYTES``, scripts and styles aside) and ``jsonld`` (a JSON-LD block over
1,000,000 characters, skipped).

An article's body is at least ``BODY_MIN_WORDS`` words with a paragraph of prose in it (words that
end a sentence: ``.``, ``!``, ``?``, ``…``, ``。``, ``।``…; or a paragraph of 40 words): a heading, a
site's name or a navigation line is no body (:func:`plausible_body`), whichever layer found it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from newscrawl.extract.text import word_count

#: Extraction layers, in the order a parser tries them (``Article.layers`` values).
LAYERS = ("jsonld", "meta", "html", "generic", "rss", "url")
#: Where a published date was read from (``Article.published_source``): one of the layers.
DATE_SOURCES = LAYERS


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, the form dates take in feed exports and JSON output."""
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


_DATE = {"serializer": iso_utc}
#: a field whose fill rate is recorded
_FILL = {"fill": True}
#: a field the parser does not give
_NOT_PARSED = {"parsed": False}

TITLE_MAX_CHARS = 1_000
LEAD_MAX_CHARS = 5_000
BODY_MAX_CHARS = 500_000
#: an author, a tag, the section
NAME_MAX_CHARS = 200
CAPTION_MAX_CHARS = 1_000
MAX_AUTHORS = 50
MAX_TAGS = 100
MAX_IMAGES = 100
#: the fewest words of an article's body
BODY_MIN_WORDS = 20
#: the fewest words of a paragraph of prose that ends a sentence in it
PROSE_MIN_WORDS = 5
#: the words from which a paragraph is prose without a sentence's stop (scripts that write none)
LONG_PARAGRAPH_WORDS = 40
#: the stops that end a sentence (Latin, Cyrillic, CJK, Devanagari, Arabic, Urdu, Armenian,
#: Ethiopic, Burmese, Khmer), then closing quotes or brackets, then a space or the paragraph's end
_SENTENCE_END = re.compile(r"\w[\w\"'»”’)\]]*[.!?…。！？｡।॥؟۔։።။។][\"'»”’)\]]*(?:\s|$)")


def plausible_body(text: str | None) -> bool:
    """Whether ``text`` can be an article's body: ``BODY_MIN_WORDS`` words or more, one paragraph
    of them prose (``PROSE_MIN_WORDS`` words or more with a sentence ended in them, or
    ``LONG_PARAGRAPH_WORDS`` words). A heading, a site's name, a navigation line or a menu of links
    is not."""
    if word_count(text) < BODY_MIN_WORDS:
        return False
    for paragraph in (text or "").split("\n\n"):
        words = word_count(paragraph)
        if words >= LONG_PARAGRAPH_WORDS or (words >= PROSE_MIN_WORDS and _SENTENCE_END.search(paragraph)):
            return True
    return False


@dataclass
class Image:
    """A picture of the article: its URL, the caption and the credit ("caption / REUTERS")."""

    url: str
    caption: str | None = None
    credit: str | None = None


@dataclass
class Article:
    """A normalized news article.

    Dates are timezone-aware and in UTC; ``published_raw`` keeps the exact string read,
    ``published_source`` the layer it came from and ``published_local`` the same instant on the
    page's clock (ISO 8601 with its offset). ``layers`` maps each extracted field to the layer that
    answered it (jsonld | meta | html | generic | rss | url), and ``published_rejected`` to the
    number of publication-date candidates the date rules rejected (``newscrawl.extract.published``).
    """

    url: str = field(metadata={"required": True})
    site: str = field(metadata={"required": True})
    canonical_url: str | None = None
    #: the canonical URL (or ``og:url``) the page declared on another site: kept, never its identity
    claimed_canonical: str | None = None
    language: str | None = None  # the edition: "uk" | "ru" | "en" (an edition is a language)
    source_id: str | None = None
    title: str | None = field(default=None, metadata={"required": True, **_FILL})
    lead: str | None = field(default=None, metadata=_FILL)
    body: str | None = field(default=None, metadata=_FILL)
    authors: list[str] = field(default_factory=list, metadata=_FILL)
    published_at: datetime | None = field(default=None, metadata={"required": True, **_DATE, **_FILL})
    published_raw: str | None = None
    published_source: str | None = None
    #: ``published_at`` on the page's clock: "2023-04-28T18:11:01+02:00" (what day it was there)
    published_local: str | None = None
    modified_at: datetime | None = field(default=None, metadata=_DATE)
    section: str | None = field(default=None, metadata=_FILL)
    tags: list[str] = field(default_factory=list, metadata=_FILL)
    images: list[Image] = field(default_factory=list, metadata=_FILL)
    translations: dict[str, str] = field(default_factory=dict)
    word_count: int = 0
    fetched_at: datetime | None = field(default=None, metadata=_DATE)
    parser: str | None = None
    layers: dict[str, str | int] = field(default_factory=dict)
    #: what was cut to stay within bounds: fields over their limit, ``html``, ``jsonld`` (see above)
    truncated: list[str] = field(default_factory=list)
    #: links for URL fields that were not http(s) (``javascript:``, ``data:``…) and were left out
    unsafe_urls_dropped: int = 0
    # identity (newscrawl/extract/identity.py), set where the page is parsed
    url_key: str | None = field(default=None, metadata=_NOT_PARSED)
    #: the key of the URL the page was fetched from (differs from ``url_key`` when the canonical
    #: URL is another): what an incremental crawl looks up before requesting a listed URL
    fetched_key: str | None = field(default=None, metadata=_NOT_PARSED)
    content_hash: str | None = field(default=None, metadata=_NOT_PARSED)
    simhash: int | None = field(default=None, metadata=_NOT_PARSED)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: dates as ISO 8601 UTC strings, images as dicts."""
        data = asdict(self)
        for name in ("published_at", "modified_at", "fetched_at"):
            data[name] = iso_utc(data[name])
        return data


#: the fields the parser gives, in the order it gives them: the last record how the others went
PARSED_FIELDS = tuple(f.name for f in fields(Article) if f.metadata.get("parsed", True))
#: the fields whose fill rate each run records (``newscrawl/fill/<field>``, for layout-drift
#: alerts) and the report shows
FILL_FIELDS = tuple(f.name for f in fields(Article) if f.metadata.get("fill"))


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last whitespace when one is in the
    last tenth (a word is not split for nothing)."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = max(head.rfind(" ", limit - limit // 10), head.rfind("\n", limit - limit // 10))
    return (head[:space] if space > 0 else head).rstrip()


def _clipped_names(names: list[str], count: int) -> list[str]:
    return list(dict.fromkeys(clip(name, NAME_MAX_CHARS) for name in names[:count]))


def within_limits(article: Article) -> Article:
    """``article`` with its text fields and lists cut to the limits above (in place); each field
    cut is named in ``truncated``."""
    cut = []
    for name, limit in (("title", TITLE_MAX_CHARS), ("lead", LEAD_MAX_CHARS), ("body", BODY_MAX_CHARS),
                        ("section", NAME_MAX_CHARS)):
        value = getattr(article, name)
        if value and len(value) > limit:
            setattr(article, name, clip(value, limit))
            cut.append(name)
    if "body" in cut:
        article.word_count = word_count(article.body)
    for name, count in (("authors", MAX_AUTHORS), ("tags", MAX_TAGS)):
        values = getattr(article, name)
        if len(values) > count or any(len(value) > NAME_MAX_CHARS for value in values):
            setattr(article, name, _clipped_names(values, count))
            cut.append(name)
    images = article.images
    if len(images) > MAX_IMAGES or any(len(text) > CAPTION_MAX_CHARS for image in images
                                       for text in (image.caption, image.credit) if text):
        article.images = [Image(image.url, image.caption and clip(image.caption, CAPTION_MAX_CHARS),
                                image.credit and clip(image.credit, CAPTION_MAX_CHARS)) for image in images[:MAX_IMAGES]]
        cut.append("images")
    article.truncated.extend(name for name in cut if name not in article.truncated)
    return article
