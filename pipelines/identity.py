"""Keep each article's identity true to its cleaned URLs and text: ``url_key``, ``fetched_key``,
``content_hash`` and ``simhash`` (see ``newscrawl/extract/identity.py``).

The parse worker cleaned and identified the article where it parsed the page
(``newscrawl/crawl/parsepool.py``, ``newscrawl/extract/clean.py``): while the article holds the
values it was sealed with, its identity is its own. Otherwise (an article changed since, or one no
worker prepared) cleaning may have left out a canonical URL or changed the text: the URL keys are
taken again; the SimHash, the costly part, is kept when the content hash is still that of the
text, and both fingerprints are computed otherwise.
``NEWSCRAWL_DEDUPE_MIN_WORDS`` (50, the spider reads it too): shorter texts get no SimHash.
Without this pipeline storage identifies what comes without an identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from newscrawl.defaults import setting_value
from newscrawl.extract.clean import sealed
from newscrawl.extract.identity import MIN_WORDS, reidentify

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class IdentityPipeline:
    """Bring the identity of each article up to date with its cleaned URLs and text."""

    def __init__(self, min_words: int = MIN_WORDS) -> None:
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Configured by ``NEWSCRAWL_DEDUPE_MIN_WORDS``."""
        return cls(setting_value("NEWSCRAWL_DEDUPE_MIN_WORDS", crawler.settings))

    def process_item(self, item: Any) -> Any:
        """Return the item with its identity set (its fingerprints kept when they are its text's)."""
        if sealed(item) is None:
            reidentify(ItemAdapter(item), min_words=self.min_words)
        return item
