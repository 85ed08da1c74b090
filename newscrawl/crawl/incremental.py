"""Incremental crawling: never download an article page that is already stored and unchanged.

- :class:`SkipStoredArticles` (spider middleware) holds back the article requests a feed, listing
  or sitemap yields, asks the crawl's storage about all of them at once (one ``$in`` on the ``_id``
  of the key collection, :mod:`newscrawl.store.keys`: the canonical and the fetched address of
  each link), and drops those already stored — unless the listing says the story changed after
  the stored version (``listed_at`` later than its ``modified_at``/``published_at``): those are
  fetched again, and the storage pipeline records a revision. One query per page of links (up to
  :data:`BATCH` links), on MongoDB and on nx-27017 alike.
- :class:`ConditionalFeeds` (downloader middleware) sends ``If-None-Match``/``If-Modified-Since``
  for feeds and sitemaps from the validators the server gave last time (collection ``feed_state``,
  one lookup by ``_id`` per feed); a ``304 Not Modified`` costs no parsing. New validators are
  saved, in one bulk write, only when the crawl ran out of work and stored everything
  (:func:`newscrawl.crawl.outcome.crawl_outcome`): after a crawl that stopped early (a time limit
  too) or could not store its articles, the next run reads the feeds in full.

Both do nothing when the database is unavailable (the dedupe pipeline still stops copies).
Stored articles are fetched again, to catch edits no listing tells of, only when their revisit
is due (:mod:`newscrawl.crawl.revisit`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawl.crawl.outcome import OK, crawl_outcome
from newscrawl.defaults import setting_value
from newscrawl.extract.identity import url_key
from newscrawl.stats import (
    FEEDS_NOT_MODIFIED,
    INCREMENTAL_BATCHES,
    INCREMENTAL_REFETCH_MODIFIED,
    INCREMENTAL_SKIPPED_STORED,
)
from newscrawl.store.errors import StorageError
from newscrawl.store.protocol import storage_of

logger = logging.getLogger(__name__)
BATCH = 500


class SkipStoredArticles:
    """Drop requests for articles already stored, checked in batches."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.storage = storage_of(crawler)
        self.enabled = setting_value("NEWSCRAWL_INCREMENTAL", crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SkipStoredArticles:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Pass everything through, article requests only if they are new or changed (Scrapy hands
        a synchronous callback's output over as an asynchronous one)."""
        pending: list[Request] = []
        async for entry in result:
            if self.enabled and isinstance(entry, Request) and entry.meta.get("article"):
                pending.append(entry)
                if len(pending) >= BATCH:  # a sitemap's 50,000 links are checked and handed on in batches
                    async for checked in self._checked_async(pending):
                        yield checked
                    pending = []
            else:
                yield entry
        async for checked in self._checked_async(pending):
            yield checked

    async def _checked_async(self, requests: list[Request]) -> AsyncIterator[Request]:
        """:meth:`select` with the lookup off the reactor (it need not wait for the database)."""
        stored = await self.stored_times(requests) if requests else None
        for request in self.select(requests, stored):
            yield request

    async def stored_times(self, requests: list[Request]) -> dict[str, datetime | None] | None:
        """URL key -> when the stored article last changed, for the articles of ``requests`` that
        are stored (by canonical address, else by the address it was fetched from); None when the
        database cannot answer (then everything is fetched: the dedupe pipeline still stops
        copies). One lookup of the key collection for all of them."""
        try:
            return await self.storage.stored_versions({url_key(request.url) for request in requests})
        except StorageError as exc:  # the database went away
            logger.warning("incremental check failed, fetching all: %s", exc)
            return None

    def select(self, requests: list[Request], stored: dict[str, datetime | None] | None) -> Iterator[Request]:
        """``requests`` less those stored and unchanged, given :meth:`stored_times` (None: all)."""
        if stored is None:
            yield from requests
            return
        stats = self.crawler.stats
        stats.inc_value(INCREMENTAL_BATCHES)
        for request in requests:
            key = url_key(request.url)
            if key not in stored:
                yield request
                continue
            listed_at, stored_at = request.meta.get("listed_at"), stored[key]
            if listed_at and stored_at and listed_at > stored_at:
                stats.inc_value(INCREMENTAL_REFETCH_MODIFIED)
                yield request
            else:
                stats.inc_value(INCREMENTAL_SKIPPED_STORED)


class ConditionalFeeds:
    """ETag / Last-Modified for feed and sitemap requests (``meta["conditional"]``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.storage = storage_of(crawler)
        #: validators of feeds fetched in this run, saved when it ends well
        self.fresh: dict[str, dict[str, str | None]] = {}
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalFeeds:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Add the validators the server gave for this URL last time (looked up off the reactor)."""
        if not request.meta.get("conditional"):
            return
        try:
            known = await self.storage.feed_validators(request.url)
        except StorageError:
            return
        if known and known.get("etag"):
            request.headers.setdefault(b"If-None-Match", known["etag"].encode("latin-1"))
        if known and known.get("last_modified"):
            request.headers.setdefault(b"If-Modified-Since", known["last_modified"].encode("latin-1"))

    def process_response(self, request: Request, response: Response) -> Response:
        """Remember the validators of a fresh feed; count a 304."""
        if not request.meta.get("conditional"):
            return response
        if response.status == 304:
            self.crawler.stats.inc_value(FEEDS_NOT_MODIFIED)
            return response
        etag, modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
        if response.status == 200 and (etag or modified):
            self.fresh[request.url] = {"etag": etag.decode("latin-1") if etag else None,
                                       "last_modified": modified.decode("latin-1") if modified else None}
        return response

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Save this run's validators if every article the feeds listed was fetched and stored."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        if not self.fresh or reason != "finished" or crawl_outcome(reason, stats).code != OK:
            return
        try:
            await self.storage.save_feed_validators(self.fresh)  # all feeds in one bulk write
        except StorageError as exc:
            logger.warning("could not remember the validators of %d feeds: %s", len(self.fresh), exc)
