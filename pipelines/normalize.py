"""Give each article its identity: ``url_key``, ``fetched_key``, ``content_hash`` and ``simhash``.

The keys and fingerprints dedupe and storage know an article by (see
``newscrawl/store/identity.py``), set here, after validation has settled the text and the URLs.
The crawl's parser process already fingerprinted the text (``newscrawl/crawl/parsepool.py``): its
SimHash, the costly part, is kept when its content hash is still that of the text (validation
changed no word of it), else both are computed again, as they are for an item without them.
``NEWSCRAWL_DEDUPE_MIN_WORDS`` (the spider reads it too): shorter texts get no SimHash.
Without this pipeline the store computes them itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from newscrawl.defaults import default, setting_value
from newscrawl.extract.urls import url_key
from newscrawl.store.dedupe import content_hash
from newscrawl.store.identity import identify

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class NormalizePipeline:
    """Set the identity fields of each article."""

    def __init__(self, min_words: int = default("NEWSCRAWL_DEDUPE_MIN_WORDS")) -> None:
        self.min_words = min_words

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Configured by ``NEWSCRAWL_DEDUPE_MIN_WORDS``."""
        return cls(setting_value("NEWSCRAWL_DEDUPE_MIN_WORDS", crawler.settings))

    def process_item(self, item: Any) -> Any:
        """Return the item with its identity set (its fingerprints kept when they are its text's)."""
        adapter = ItemAdapter(item)
        given = adapter.get("content_hash")
        if given is not None and "simhash" in adapter and given == content_hash(adapter.get("body") or adapter.get("lead")):
            adapter["url_key"] = url_key(adapter.get("canonical_url") or adapter["url"])
            adapter["fetched_key"] = url_key(adapter["url"])
        else:
            identify(adapter, min_words=self.min_words)
        return item
