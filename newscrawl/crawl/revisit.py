"""Revisits: stored articles fetched again at set ages after they were first seen, so an edit the
site made without telling any feed is caught (:mod:`newscrawl.store.revisits` has the policy).

- :class:`RevisitStored` (spider middleware): after the spider's own start requests, a latest-news
  crawl (a run of ``scrapy crawl``, ``runspider`` or ``newscrawl run``; not a backfill) asks for the stored articles of its site that are due, most overdue first
  and at most ``NEWSCRAWL_REVISIT_MAX_PER_RUN`` of them (one indexed range of ``articles``, on a
  thread), and requests each page again (:meth:`~newscrawl.crawl.spider.NewsSpider.revisit_request`):
  a conditional request with the validators the page was last served with, at a lower priority
  than new articles, through robots.txt, the download delay and AutoThrottle like any request. In a
  shared (Redis) crawl every worker asks the same question, and the shared duplicate filter lets
  each revisit through once.
- :class:`RevisitResponses` (downloader middleware, after retries and redirects): keeps the
  ``ETag``/``Last-Modified`` of every article page for its stored article (the sink stores them
  with it), and notes what each revisit found: unchanged (304, or 200 with the same text: the
  dedupe pipeline drops it as ``UnchangedArticle``), edited (200: the new version goes through the
  pipelines and the store keeps the previous one as a revision), or gone (404, 410: the article is
  marked ``removed_at``, never deleted). A redirect is followed: the page at its new address is the
  same story when its site's story id or its text says so (dedupe). Any other answer leaves the
  article due for the next run.

Counted in the stats as ``newscrawl/revisit/<what>``: ``due``, ``left`` (due, left for the next
run), ``not_modified``, ``fetched``, ``removed``, ``failed`` (another status).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from newscrawl.crawl.spider import REVISIT
from newscrawl.defaults import setting_value
from newscrawl.stats import (
    REVISIT_DUE,
    REVISIT_FAILED,
    REVISIT_FETCHED,
    REVISIT_LEFT,
    REVISIT_NOT_MODIFIED,
    REVISIT_REMOVED,
)
from newscrawl.store.errors import StorageError
from newscrawl.store.protocol import storage_of
from newscrawl.store.revisits import GONE, RevisitOutcome, RevisitPolicy, parse_cap

logger = logging.getLogger(__name__)


def revisit_policy(crawler: Crawler) -> RevisitPolicy:
    """The crawl's ``NEWSCRAWL_REVISIT_AGES``."""
    return RevisitPolicy.parse(setting_value("NEWSCRAWL_REVISIT_AGES", crawler.settings))


def conditional_headers(validators: dict[str, Any] | None) -> dict[str, str]:
    """The headers that ask again for a page only if it changed since it was served with ``validators``."""
    validators = validators or {}
    headers = {"If-None-Match": validators.get("etag"), "If-Modified-Since": validators.get("last_modified")}
    return {name: value for name, value in headers.items() if value}


def validators_of(response: Response) -> dict[str, str] | None:
    """The ``ETag`` and ``Last-Modified`` a response carries (None without either)."""
    found = {name: value.decode("latin-1") for name, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified"))
             if (value := response.headers.get(header))}
    return found or None


class RevisitStored:
    """Spider middleware: the due stored articles of the spider's site, requested after its start requests."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.policy = revisit_policy(crawler)
        self.cap = parse_cap(crawler.settings.get("NEWSCRAWL_REVISIT_MAX_PER_RUN"))
        self.storage = storage_of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RevisitStored:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The spider's start requests, then its revisits."""
        async for entry in start:
            yield entry
        for request in await self.revisit_requests():
            yield request

    async def revisit_requests(self) -> list[Request]:
        """The requests for the due articles of a latest-news crawl (none for a backfill, for
        ``scrapy parse``, ``shell`` or ``check``, which are no runs (``NEWSCRAWL_RECORD_RUN``),
        without a database, or with revisits off)."""
        spider = self.crawler.spider
        if not self.policy.enabled or not self.crawler.settings.getbool("NEWSCRAWL_RECORD_RUN") \
                or not hasattr(spider, "revisit_request") or getattr(spider, "since", None):
            return []
        try:
            due = await self.storage.due_revisits(spider.name, self.policy, self.cap)
        except StorageError as exc:
            logger.warning("could not choose the stored articles to revisit (%s): none this run", exc)
            return []
        if due is None:
            return []
        stats = self.crawler.stats
        stats.inc_value(REVISIT_DUE, len(due.articles))
        if due.left:
            stats.inc_value(REVISIT_LEFT, due.left)
        if due.articles:
            logger.info("revisiting %d stored articles of %s%s", len(due.articles), spider.name,
                        f" ({due.left} more due wait for the next run)" if due.left else "")
        return [spider.revisit_request(doc["url"], {"id": str(doc["_id"]), "first_seen": doc["first_seen_at"].timestamp()},
                                       conditional_headers(doc.get("http")))
                for doc in due.articles if doc.get("url") and doc.get("first_seen_at")]


class RevisitResponses:
    """Downloader middleware: the validators of article pages, and what each revisit found."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.policy = revisit_policy(crawler)
        self.storage = storage_of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RevisitResponses:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Keep the validators of an article page; note the outcome of a revisit."""
        revisit = request.meta.get(REVISIT)
        if not revisit and not request.meta.get("article"):
            return response
        validators = validators_of(response) if response.status in (200, 304) else None
        if response.status == 200 and validators:
            self.storage.note_validators(response.url, validators)
        if revisit:
            self._note(revisit, response.status, validators)
        return response

    def _note(self, revisit: dict[str, Any], status: int, validators: dict[str, str] | None) -> None:
        stats = self.crawler.stats
        if status not in (200, 304) and status not in GONE:
            stats.inc_value(REVISIT_FAILED)
            return
        stats.inc_value(REVISIT_FETCHED if status == 200 else REVISIT_NOT_MODIFIED if status == 304 else REVISIT_REMOVED)
        first_seen = datetime.fromtimestamp(revisit["first_seen"], timezone.utc)
        self.storage.note_revisit(RevisitOutcome(
            revisit["id"], status, validators,
            next_revisit_at=self.policy.next_due(first_seen, datetime.now(timezone.utc)),
            reschedule=not self.policy.every_article,
        ))
