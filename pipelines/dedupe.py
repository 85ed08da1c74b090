"""Drop articles stored before: same URL key, same story id, same text, or a near-duplicate text.

The crawl's storage decides (``newscrawl/store/protocol.py``): MongoDB, persistent across runs, and
a bounded in-run memory (``newscrawl/store/dedupe.py``). Checks are batched
(``newscrawl/store/lookups.py``): an article waits up to ``NEWSCRAWL_DEDUPE_BATCH_SECONDS`` for others,
and up to ``NEWSCRAWL_DEDUPE_BATCH`` of them are answered by one lookup of the key
collection (``newscrawl/store/keys.py``), off the reactor; the verdicts are those of checking
them one by one, in order. The URLs of dropped copies are kept on the original
(``duplicate_urls``, ``also_published_by``), written with the next batch. A stored article seen
again with other content or a newer ``modified_at`` passes, and the store records a revision.
The identity the checks use is the one the item carries, else the store computes it. The store
remembers what it let through, so the store pipeline writes it without a second lookup. Other
settings: ``NEWSCRAWL_DEDUPE_MAX_DISTANCE`` (of 64 SimHash bits), ``NEWSCRAWL_DEDUPE_MIN_WORDS``,
``NEWSCRAWL_DEDUPE_MEMORY_ITEMS`` (keys); defaults in docs/SETTINGS.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from newscrawl.stats import DEDUPE_CHANGED
from newscrawl.store.dedupe import Verdict
from newscrawl.store.protocol import ArticleStorage, storage_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class DuplicateArticle(DropItem):
    """Base of every duplicate drop reason (logged at INFO: an expected event, not a failed page)."""

    counts_as_failure = False

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="INFO")


class SeenInRun(DuplicateArticle):
    """The same URL or story came twice in this run (e.g. from two feeds)."""


class UnchangedArticle(DuplicateArticle):
    """Already stored, and nothing changed."""


class SameContent(DuplicateArticle):
    """The same text is stored under another URL."""


class NearDuplicate(DuplicateArticle):
    """A nearly identical text is stored (a republished copy)."""


DROPS: dict[Verdict, type[DuplicateArticle]] = {
    Verdict.SEEN_IN_RUN: SeenInRun,
    Verdict.UNCHANGED: UnchangedArticle,
    Verdict.SAME_CONTENT: SameContent,
    Verdict.NEAR_DUPLICATE: NearDuplicate,
}


class DedupePipeline:
    """Ask the store whether each article is new, changed or a duplicate; drop duplicates."""

    def __init__(self, crawler: Crawler, storage: ArticleStorage) -> None:
        self.crawler = crawler
        self.storage = storage

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build the pipeline for ``crawler`` and its storage."""
        return cls(crawler, storage_of(crawler))

    async def process_item(self, item: Any) -> Any:
        """Return the item if it is new or changed; raise a :class:`DuplicateArticle` subclass otherwise."""
        decision = await self.storage.check(item)  # batched, off the reactor
        drop = DROPS.get(decision.verdict)
        if drop is not None:
            distance = f" (distance {decision.distance})" if decision.distance is not None else ""
            raise drop(f"{ItemAdapter(item)['url']} duplicates {decision.original_key}{distance}")
        if decision.verdict is Verdict.UPDATE:
            self.crawler.stats.inc_value(DEDUPE_CHANGED)
        return item
