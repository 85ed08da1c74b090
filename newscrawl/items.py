"""The article item: the one schema every spider yields and every pipeline reads.

Plain dataclasses (no Scrapy imports); pipelines reach fields through ``ItemAdapter``.
Field metadata ``required=True`` marks what the validate pipeline insists on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

#: Where a published date was read from (``Article.published_source``).
DATE_SOURCES = ("jsonld", "meta", "html", "generic", "rss", "url")
#: Extraction layers, in the order a parser tries them (``Article.layers`` values).
LAYERS = ("jsonld", "meta", "html", "generic", "rss", "url")


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, the form dates take in feed exports and JSON output."""
    return value.astimezone(timezone.utc).isoformat() if value is not None else None


_DATE = {"serializer": iso_utc}


@dataclass
class Image:
    """A picture of the article: its URL, the caption and the credit ("caption / REUTERS")."""

    url: str
    caption: str | None = None
    credit: str | None = None


@dataclass
class Article:
    """A normalized news article.

    Dates are timezone-aware and in UTC; ``published_raw`` keeps the exact string read and
    ``published_source`` the layer it came from. ``layers`` maps each extracted field to the
    layer that answered it (jsonld | meta | html | generic | rss | url).
    """

    url: str = field(metadata={"required": True})
    site: str = field(metadata={"required": True})
    canonical_url: str | None = None
    language: str | None = None  # the edition: "uk" | "ru" | "en" (an edition is a language)
    source_id: str | None = None
    title: str | None = field(default=None, metadata={"required": True})
    lead: str | None = None
    body: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = field(default=None, metadata={"required": True, **_DATE})
    published_raw: str | None = None
    published_source: str | None = None
    modified_at: datetime | None = field(default=None, metadata=_DATE)
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    translations: dict[str, str] = field(default_factory=dict)
    word_count: int = 0
    fetched_at: datetime | None = field(default=None, metadata=_DATE)
    parser: str | None = None
    layers: dict[str, str] = field(default_factory=dict)
    # identity, set by the dedupe pipeline
    url_key: str | None = None
    #: the key of the URL the page was fetched from (differs from ``url_key`` when the canonical
    #: URL is another): what an incremental crawl looks up before requesting a listed URL
    fetched_key: str | None = None
    content_hash: str | None = None
    simhash: int | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: dates as ISO 8601 UTC strings, images as dicts."""
        data = asdict(self)
        for name in ("published_at", "modified_at", "fetched_at"):
            data[name] = iso_utc(data[name])
        return data
