"""Give each article its identity: ``url_key``, ``fetched_key``, ``content_hash`` and ``simhash``.

The keys and fingerprints dedupe and storage know an article by (see
``newscrawl/store/identity.py``), computed once here, after validation has settled the text and
the URLs. ``NEWSCRAWL_DEDUPE_MIN_WORDS`` (50): shorter texts get no SimHash. Without this
pipeline the store computes them itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from newscrawl.store.identity import identify

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class NormalizePipeline:
    """Set the identity fields of each article."""

    def __init__(self, min_words: int = 50) -> None:
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Configured by ``NEWSCRAWL_DEDUPE_MIN_WORDS``."""
        return cls(crawler.settings.getint("NEWSCRAWL_DEDUPE_MIN_WORDS", 50))

    def process_item(self, item: Any) -> Any:
        """Return the item with its identity set."""
        identify(ItemAdapter(item), min_words=self.min_words)
        return item
