"""Clean and validate articles; drop invalid ones with a reason Scrapy counts.

Each drop reason is its own :class:`~scrapy.exceptions.DropItem` subclass, so the crawl stats show
``item_dropped_reasons_count/MissingRequiredField`` etc. Invalid items are logged with their URL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from newscrawl.defaults import default, setting_value
from newscrawl.extract.clean import Seal, clean_fields, sealed, text_language
from newscrawl.extract.urls import is_http_url
from newscrawl.stats import UNSAFE_URLS_DROPPED

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

logger = logging.getLogger(__name__)


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
        """Return the cleaned item or raise an :class:`InvalidArticle` subclass. An article the parse
        worker prepared and nobody changed since (:func:`~newscrawl.extract.clean.sealed`) is
        clean already, and its language was guessed there."""
        adapter = ItemAdapter(item)
        seal = sealed(item)
        try:
            if not is_http_url(adapter.get("url")):
                raise UnsafeArticleUrl(f"not an http(s) URL: {adapter.get('url')!r}")
            if seal is None:
                self._clean(adapter)
            if adapter["unsafe_urls_dropped"] and self.stats is not None:
                self.stats.inc_value(UNSAFE_URLS_DROPPED, adapter["unsafe_urls_dropped"])
            self._validate(adapter, seal)
        except InvalidArticle as exc:
            logger.warning("dropped %s: %s", adapter.get("url"), exc)
            raise
        return item

    @staticmethod
    def _clean(adapter: ItemAdapter) -> None:
        """Plain text everywhere, only http(s) URLs, nothing a database cannot store."""
        clean_fields(adapter)

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

    def _validate(self, adapter: ItemAdapter, seal: Seal | None) -> None:
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
            guessed = seal.language_guess if seal is not None and seal.guessed else text_language(adapter)
            if guessed and guessed != language:
                raise LanguageMismatch(f"edition {language!r} but the text reads as {guessed!r}")
