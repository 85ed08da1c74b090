"""The worker's connection to Redis: where it is, and a link that waits through outages."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from scrapy.settings import BaseSettings
from twisted.internet import threads
from twisted.python.failure import Failure

from newscrawl.defaults import setting_value

logger = logging.getLogger(__name__)


def redis_url(settings: BaseSettings) -> str | None:
    """``NEWSCRAWL_REDIS_URL`` from the settings or the environment."""
    return setting_value("NEWSCRAWL_REDIS_URL", settings)


class RedisUnavailable(Exception):
    """Redis did not serve a call: it was not made, or its outcome is unknown."""


def is_outage(error: RedisError) -> bool:
    """Whether ``error`` means Redis cannot serve (down, unreachable, out of memory, read-only,
    failing to persist) rather than a wrong command."""
    return (isinstance(error, (RedisConnectionError, RedisTimeoutError, OutOfMemoryError, ReadOnlyError))
            or (isinstance(error, ResponseError) and str(error).startswith("MISCONF")))


class RedisLink:
    """A worker's calls to Redis, with a bounded wait through an outage.

    The first call Redis cannot serve starts an outage: from then on every call fails at once with
    :class:`RedisUnavailable` (no call waits on a dead server), and Redis is pinged on a thread at
    growing intervals, one log line per attempt. When it answers, ``on_back`` runs (and may call
    again); :meth:`recovered` ends the outage. If it is not over ``outage_seconds`` after its first
    failure, ``on_give_up`` runs, once, and the link is closed. Thread-safe.
    """

    FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS = 0.5, 10.0

    def __init__(self, server: Redis, label: str, outage_seconds: float, on_back: Callable[[], None],
                 on_give_up: Callable[[float, str], None]) -> None:
        self.server, self.label, self.outage_seconds = server, label, outage_seconds
        self.on_back, self.on_give_up = on_back, on_give_up
        self.failing_since: float | None = None  # the outage's first failure
        self.waiting = False  # calls fail at once; the probe decides
        self.closed = False
        self.attempts = 0
        self._lock = threading.Lock()

    @property
    def usable(self) -> bool:
        """Calls may be made."""
        return not (self.waiting or self.closed)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)``, a call to Redis; :class:`RedisUnavailable` when it cannot serve."""
        if not self.usable:
            raise RedisUnavailable(self.label)
        try:
            return function(*args, **kwargs)
        except RedisError as exc:
            if not is_outage(exc):
                raise
            self._failed(exc)
            raise RedisUnavailable(self.label) from None

    def recovered(self) -> None:
        """Redis served everything ``on_back`` needed: the outage is over."""
        if self.failing_since is not None and self.usable:
            logger.info("Redis at %s is back after %.1f s", self.label, time.monotonic() - self.failing_since)
            self.failing_since = None

    def close(self) -> None:
        """No more calls (the worker is leaving)."""
        self.closed = True

    def _failed(self, error: BaseException) -> None:
        from twisted.internet import reactor

        with self._lock:
            if self.waiting or self.closed:
                return
            self.waiting = True
            first = self.failing_since is None
            self.failing_since = self.failing_since or time.monotonic()
        if first:
            logger.warning("Redis at %s failed (%s): the shared crawl waits for it up to %g s",
                           self.label, error, self.outage_seconds)
        reactor.callFromThread(self._next_attempt, self.FIRST_RETRY_SECONDS)

    def _next_attempt(self, delay: float) -> None:
        from twisted.internet import reactor

        assert self.failing_since is not None
        left = self.failing_since + self.outage_seconds - time.monotonic()
        reactor.callLater(max(0.0, min(delay, left)), self._attempt, delay)

    def _attempt(self, delay: float) -> None:
        if self.closed:
            return
        self.attempts += 1
        answer = threads.deferToThread(self.server.ping)
        answer.addCallbacks(self._answered, self._unanswered, errbackArgs=(delay,))

    def _answered(self, _pong: Any) -> None:
        if self.closed:
            return
        self.waiting = False
        self.on_back()

    def _unanswered(self, failure: Failure, delay: float) -> None:
        if self.closed:
            return
        assert self.failing_since is not None
        waited = time.monotonic() - self.failing_since
        reason = str(failure.value) or type(failure.value).__name__
        if waited >= self.outage_seconds:
            self.closed = True
            self.on_give_up(waited, reason)
            return
        delay = min(delay * 2, self.MAX_RETRY_SECONDS)
        logger.warning("Redis at %s: attempt %d failed after %.1f s (%s); next in %.1f s, giving up at %g s",
                       self.label, self.attempts, waited, reason, min(delay, self.outage_seconds - waited),
                       self.outage_seconds)
        self._next_attempt(delay)
