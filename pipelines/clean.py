"""Clean and validate articles; drop invalid ones with a reason Scrapy counts.

Each drop reason is its own :class:`~scrapy.exceptions.DropItem` subclass, so the crawl stats show
``item_dropped_reasons_count/MissingRequiredField`` etc. Invalid items are logged with their URL.
"""

from __future__ import annotations

import logging
from dataclasses import fields, is_dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from newscrawl.defaults import default, setting_value
from newscrawl.extract.language import guess_language
from newscrawl.extract.text import clean_line, plain_paragraphs, plain_text, storable_text, word_count
from newscrawl.extract.urls import is_http_url
from newscrawl.stats import UNSAFE_URLS_DROPPED

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

logger = logging.getLogger(__name__)


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


class InvalidArticle(DropItem):
    """Base of every validation drop reason."""


class MissingRequiredField(InvalidArticle):
    """A field marked ``required`` in the item schema is empty, or both body and lead are."""


class InvalidDate(InvalidArticle):
    """A date is not timezone-aware, or ``published_local`` is not ISO 8601 with a UTC offset."""


class LanguageMismatch(InvalidArticle):
    """The text is not written in the edition's language."""


class UnsafeArticleUrl(InvalidArticle):
    """The article's own URL is not an http(s) URL."""


def _local_instant(text: Any) -> datetime | None:
    """``text`` as an aware datetime when it is ISO 8601 with a UTC offset, else None."""
    try:
        value = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if value is not None and value.utcoffset() is not None else None


def keep_http_urls(adapter: ItemAdapter) -> int:
    """Leave out of the URL fields (``canonical_url``, ``claimed_canonical``, image URLs,
    translations) every value that is not an http(s) URL; how many were left out."""
    dropped = 0
    for name in ("canonical_url", "claimed_canonical"):
        if adapter.get(name) and not is_http_url(adapter[name]):
            adapter[name] = None
            dropped += 1
    images = list(adapter.get("images") or [])
    kept_images = [image for image in images if is_http_url(ItemAdapter(image).get("url"))]
    translations = dict(adapter.get("translations") or {})
    kept_translations = {lang: url for lang, url in translations.items() if is_http_url(url)}
    dropped += len(images) - len(kept_images) + len(translations) - len(kept_translations)
    adapter["images"], adapter["translations"] = kept_images, kept_translations
    return dropped


class CleanPipeline:
    """Clean (only http(s) URLs, plain text in NFC with single spaces, nothing a database cannot
    store), then check required fields, dates and language. URLs left out are counted
    (``newscrawl/unsafe_url_dropped``, with what the parser already left out)."""

    def __init__(self, check_language: bool = default("NEWSCRAWL_CHECK_LANGUAGE"),
                 stats: StatsCollector | None = None) -> None:
        self.check_language = check_language
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Configured by ``NEWSCRAWL_CHECK_LANGUAGE``."""
        return cls(setting_value("NEWSCRAWL_CHECK_LANGUAGE", crawler.settings), crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return the cleaned item or raise an :class:`InvalidArticle` subclass."""
        adapter = ItemAdapter(item)
        try:
            self._keep_http_urls(adapter)
            self._clean(adapter)
            self._validate(adapter)
        except InvalidArticle as exc:
            logger.warning("dropped %s: %s", adapter.get("url"), exc)
            raise
        return item

    def _keep_http_urls(self, adapter: ItemAdapter) -> None:
        if not is_http_url(adapter.get("url")):
            raise UnsafeArticleUrl(f"not an http(s) URL: {adapter.get('url')!r}")
        adapter["unsafe_urls_dropped"] = (adapter.get("unsafe_urls_dropped") or 0) + keep_http_urls(adapter)
        if adapter["unsafe_urls_dropped"] and self.stats is not None:
            self.stats.inc_value(UNSAFE_URLS_DROPPED, adapter["unsafe_urls_dropped"])

    def _clean(self, adapter: ItemAdapter) -> None:
        """Plain text everywhere (no markup from pages survives), NFC, single spaces."""
        for name in ("title", "lead", "section", "published_raw"):
            if adapter.get(name) is not None:
                adapter[name] = clean_line(plain_text(adapter[name])) or None
        if adapter.get("body"):
            adapter["body"] = plain_paragraphs(adapter["body"]) or None
        for name in ("authors", "tags"):
            values = (clean_line(plain_text(value)) for value in adapter.get(name) or [])
            adapter[name] = list(dict.fromkeys(filter(None, values)))
        for image in adapter.get("images") or []:
            image.caption = clean_line(plain_text(image.caption)) or None if image.caption else None
            image.credit = clean_line(plain_text(image.credit)) or None if image.credit else None
        adapter["word_count"] = word_count(adapter.get("body"))
        for name in adapter.field_names():  # every other field too (URLs, raw strings, layers)
            if name in adapter:
                adapter[name] = storable(adapter[name])

    @staticmethod
    def _validate_local(adapter: ItemAdapter) -> None:
        """``published_local``, when given, is ISO 8601 with a UTC offset; it is made ``published_at``
        at that offset when it names another instant (``published_at`` is the date, the offset the
        page's clock)."""
        local = adapter.get("published_local")
        if local is None:
            return
        instant = _local_instant(local)
        if instant is None:
            raise InvalidDate(f"published_local is not ISO 8601 with a UTC offset: {local!r}")
        published_at = adapter.get("published_at")
        if published_at is not None and instant != published_at:
            adapter["published_local"] = published_at.astimezone(instant.tzinfo).isoformat()

    def _validate(self, adapter: ItemAdapter) -> None:
        missing = [
            name
            for name in adapter.field_names()
            if adapter.get_field_meta(name).get("required") and not adapter.get(name)
        ]
        if not (adapter.get("body") or adapter.get("lead")):
            missing.append("body or lead")
        if missing:
            raise MissingRequiredField(f"missing {', '.join(missing)}")
        for name in ("published_at", "modified_at", "fetched_at"):
            value = adapter.get(name)
            if value is None:
                continue
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise InvalidDate(f"{name} is not a timezone-aware datetime: {value!r}")
            adapter[name] = value.astimezone(timezone.utc)
        self._validate_local(adapter)
        language = adapter.get("language")
        if self.check_language and language:
            text = " ".join(filter(None, (adapter.get("title"), adapter.get("lead"), adapter.get("body"))))
            guessed = guess_language(text)
            if guessed and guessed != language:
                raise LanguageMismatch(f"edition {language!r} but the text reads as {guessed!r}")
