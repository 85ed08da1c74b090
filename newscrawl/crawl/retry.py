"""Scrapy's RetryMiddleware with exponential backoff that honours ``Retry-After``, and block pages.

Enabled in ``newscrawl.settings`` in place of the stock middleware. Delay before retry *n* is
``NEWSCRAWL_RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, raised to the server's ``Retry-After``
(seconds or an HTTP date) and capped at ``NEWSCRAWL_RETRY_BACKOFF_MAX``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import sleep

from newscrawl.crawl.failures import FailedPages
from newscrawl.crawl.blocks import block_reason
from newscrawl.defaults import setting_value
from newscrawl.extract.dates import parse_date
from newscrawl.crawl.rendering import RENDERED
from newscrawl.stats import BLOCKED, BLOCKED_PREFIX, NETWORK_FAILURES_PREFIX, RENDERED_RETRY, RETRY_BACKOFF_SECONDS

if TYPE_CHECKING:
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    now = now or datetime.now(timezone.utc)
    when = parse_date(text, now=now)
    return max(0.0, (when - now).total_seconds()) if when else None


class NetworkFailure(IgnoreRequest):
    """A download that failed on the network after every retry (logged once by the retry
    middleware, so Scrapy prints no traceback for it)."""


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry failed downloads after an exponentially growing pause."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = setting_value("NEWSCRAWL_RETRY_BACKOFF_BASE", settings)
        self.backoff_max = setting_value("NEWSCRAWL_RETRY_BACKOFF_MAX", settings)
        self.rendering = settings.getbool("NEWSCRAWL_RENDERING")  # "enable JavaScript" pages go to the browser

    def backoff_delay(self, retry_times: int, retry_after: float | None) -> float:
        """Pause before retry number ``retry_times`` (1-based)."""
        delay = self.backoff_base * 2 ** max(0, retry_times - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.backoff_max)

    async def _paused(self, retry: Request, retry_after: float | None) -> Request:
        delay = self.backoff_delay(retry.meta.get("retry_times", 1), retry_after)
        self.crawler.stats.inc_value(RETRY_BACKOFF_SECONDS, delay)
        logger.debug("retrying %s in %.1fs", retry.url, delay)
        await sleep(delay)
        return retry

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        """Retry a retryable status or a block page after the backoff pause."""
        reason = block_reason(response)
        if reason:
            self.crawler.stats.inc_value(BLOCKED)
            self.crawler.stats.inc_value(BLOCKED_PREFIX + reason)
        if reason == "javascript_required" and self.rendering and not request.meta.get(RENDERED):
            self.crawler.stats.inc_value(RENDERED_RETRY)
            return request.replace(meta={**request.meta, "playwright": True, RENDERED: True}, dont_filter=True)
        if reason and response.status == 200:  # a block page served as OK: retry it, never parse it
            retry = self._retry(request, reason)
            if retry is None:
                self._failed(request, f"block page ({reason}) after every retry")
                raise IgnoreRequest(f"block page ({reason}) at {request.url}")
            return await self._paused(retry, retry_after_seconds(response.headers.get("Retry-After")))
        result = super().process_response(request, response)
        if result is response:
            return response
        return await self._paused(result, retry_after_seconds(response.headers.get("Retry-After")))

    def _failed(self, request: Request, reason: str) -> None:
        """Note an article page given up on (for the run record)."""
        if request.meta.get("article"):
            FailedPages.note(self.crawler, request.url, reason)

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        """Retry a network error after the backoff pause; after the last retry, count it
        (``newscrawl/network_failures/<error>``) and end it quietly (one log line, no traceback)."""
        result = super().process_exception(request, exception)
        if result is None and isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry"):
            self.crawler.stats.inc_value(NETWORK_FAILURES_PREFIX + type(exception).__name__)
            self._failed(request, f"{type(exception).__name__}: {exception} (after every retry)")
            raise NetworkFailure(f"{type(exception).__name__}: {exception}") from None
        if result is None or not isinstance(result, type(request)):
            return result
        return await self._paused(result, None)
