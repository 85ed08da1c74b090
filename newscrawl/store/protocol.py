"""The crawl's storage as the pipelines and middlewares see it — look up, write, spill — and where
they find it.

The crawl's storage is an extension (:class:`~newscrawl.store.service.StorageService`, in
``EXTENSIONS``) that implements :class:`ArticleStorage`; :func:`storage_of` finds it with
``crawler.get_extension``. What it is made of (MongoDB, spill files) stays behind this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from datetime import datetime

    from scrapy.crawler import Crawler

    from newscrawl.store.dedupe import Decision
    from newscrawl.store.revisits import DueArticles, RevisitOutcome, RevisitPolicy

#: the extension that implements :class:`ArticleStorage` in this project
STORAGE_EXTENSION = "newscrawl.store.service.StorageService"


@runtime_checkable
class ArticleStorage(Protocol):
    """What the crawl asks of its storage. Articles are items (or their documents); what cannot be
    written while the database is down or full is spilled to disk and written later. The lookups
    of what is stored answer None while the database is down or unavailable, and raise
    :class:`~newscrawl.store.errors.StorageError` when it fails."""

    async def check(self, item: Any) -> Decision:
        """Whether the article is new, changed or a duplicate, looked up in the database and among
        what this crawl kept (the one dedupe verb); a duplicate's URL is kept on its original."""

    async def add(self, item: Any) -> None:
        """Queue the article for writing; a full batch is written (or spilled) before this returns."""

    def flush(self) -> None:
        """Write (or spill) what is queued, and wait until it is done."""

    def flush_if_due(self) -> None:
        """Have what waited longer than :meth:`flush_interval` written, without waiting for it."""

    def flush_interval(self) -> float:
        """Seconds a queued article waits at most for its batch to fill."""

    def full(self) -> str | None:
        """Why the database has no room left to write, once it said so (the crawl should stop)."""

    def on_flushed(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the storage's thread) after each flush that left nothing unsaved."""

    def note_validators(self, url: str, validators: dict[str, str]) -> None:
        """Keep the ``ETag``/``Last-Modified`` the page at ``url`` was served with, for its article."""

    def note_revisit(self, outcome: RevisitOutcome) -> None:
        """Keep what a revisit found, for the next write."""

    async def stored_versions(self, url_keys: set[str]) -> dict[str, datetime | None] | None:
        """When each stored article among ``url_keys`` (by canonical or fetched address) last changed."""

    async def feed_validators(self, url: str) -> dict[str, Any] | None:
        """The ``etag`` and ``last_modified`` the feed at ``url`` was last served with."""

    async def save_feed_validators(self, validators: dict[str, dict[str, str | None]]) -> None:
        """Keep the validators of each feed (URL -> ``etag``, ``last_modified``) for the next run."""

    async def due_revisits(self, site: str, policy: RevisitPolicy, cap: int | None) -> DueArticles | None:
        """The stored articles of ``site`` due for a revisit now (at most ``cap``; None: the default cap)."""


def storage_of(crawler: Crawler) -> ArticleStorage:
    """The crawl's storage: the enabled extension that implements :class:`ArticleStorage`."""
    storage = crawler.get_extension(ArticleStorage)  # type: ignore[type-abstract]
    if storage is None:
        raise RuntimeError(f"no storage: enable the extension {STORAGE_EXTENSION} (setting EXTENSIONS)")
    return storage
