"""Many worker processes, one crawl: scrapy-redis's scheduler on a shared Redis.

``-s NEWSCRAWL_REDIS_URL=redis://127.0.0.1:6379/0`` (or the environment variable) turns it on for
any spider (:class:`RedisAddon` switches the settings; without the URL nothing changes). Workers
started with the same spider — ``python -m newscrawl run unian --workers 4``, or the same command
on other machines — join the spider's current crawl:

- the request queue is scrapy-redis's priority queue under ``newscrawl:<spider>:<crawl>:requests``;
- the duplicate filter is a Bloom filter in one Redis string (:class:`BloomDupeFilter`): its size
  is fixed by ``NEWSCRAWL_BLOOM_CAPACITY`` and ``NEWSCRAWL_BLOOM_ERROR_RATE`` whatever the crawl
  sees (a false positive skips a new URL with that probability);
- each worker records the requests it has taken (``…:inflight:<worker>``) until they are done —
  the download failed, or the callback finished, every request it yielded is in the shared queue
  (or was filtered as seen), and every item it yielded went through the pipelines and the
  storage's next bulk write (or spill) — and keeps a heartbeat key alive;
  when a worker dies, an idle worker puts its taken requests back in the queue, so a killed
  worker loses nothing (a page it was fetching is fetched again);
- a worker with nothing to do waits ``NEWSCRAWL_REDIS_IDLE_SECONDS`` for others' new requests; the
  crawl is over when the queue is empty and no worker holds a request. The last worker out deletes
  the crawl's keys. A crawl stopped before that (Ctrl-C, SIGTERM) keeps its keys and the next
  worker started for the spider resumes it;
- every Redis call goes through :class:`RedisLink`: when Redis stops answering, the worker keeps its
  downloads and items going, holds the requests it would queue, and tries Redis again at growing
  intervals (one log line each) for ``NEWSCRAWL_REDIS_OUTAGE_SECONDS``; then it closes the spider
  with reason ``redis_unavailable``;
- the crawl's pointer key ``newscrawl:<spider>:crawl`` marks its state: every take, push and
  heartbeat checks it in the same Lua call. When it is gone (Redis restarted without its data) the
  worker says how many requests were never done and closes with reason ``shared_queue_lost``.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import threads
from twisted.python.failure import Failure

from newscrawl.store.service import sink_for
from newscrawl.store.storage import redact_uri

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
TAKEN = "newscrawl_taken"  # request meta: the field of the worker's inflight hash that holds the request
# KEYS[1]: the Bloom filter. ARGV: the bit positions. Sets the bits; 1 when all were set already.
_BLOOM_SCRIPT = """
local present = 1
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then present = 0 end
end
return present
"""
# KEYS: the crawl pointer, the Bloom filter, the queue (a sorted set). ARGV: the crawl id, the bit
# positions, the request's score and data. -1 when the pointer no longer names the crawl (its state
# is gone: nothing is written). Else sets the bits and, if any was unset (a new request; always
# without positions: dont_filter), queues the request in the same atomic call, so a worker killed
# between the two cannot leave a request marked seen but never queued. 1 when seen before.
_PUSH_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local last = #ARGV - 2
local present = last >= 2 and 1 or 0
for i = 2, last do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then present = 0 end
end
if present == 0 then redis.call('ZADD', KEYS[3], ARGV[last + 1], ARGV[last + 2]) end
return present
"""
# KEYS: the crawl pointer, the queue, the worker's inflight hash. ARGV: the crawl id, the field.
# -1 when the crawl's state is gone; {} when the queue is empty; else moves the first request to
# the inflight hash in one atomic call and returns {its data, the requests left in the queue}.
_TAKE_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local first = redis.call('ZRANGE', KEYS[2], 0, 0)
if #first == 0 then return {} end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, 0)
redis.call('HSET', KEYS[3], ARGV[2], first[1])
return {first[1], redis.call('ZCARD', KEYS[2])}
"""
# KEYS: the crawl pointer, the worker's heartbeat, the queue. ARGV: the crawl id, now, the heartbeat's
# lifetime. -1 when the crawl's state is gone, else renews the heartbeat and returns the queue's length.
_BEAT_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return redis.call('ZCARD', KEYS[3])
"""


def redis_url(settings: BaseSettings) -> str | None:
    """``NEWSCRAWL_REDIS_URL`` from the settings or the environment."""
    return settings.get("NEWSCRAWL_REDIS_URL") or os.getenv("NEWSCRAWL_REDIS_URL") or None


class RedisAddon:
    """Scrapy add-on: the shared scheduler when ``NEWSCRAWL_REDIS_URL`` is set, else nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Switch scheduler, duplicate filter and the worker extension on."""
        if not redis_url(settings):
            return
        middlewares = settings.getdict("SPIDER_MIDDLEWARES")
        middlewares["newscrawl.distributed.ReleaseWhenDone"] = 10  # outside HttpError: sees filtered responses
        for name, value in (("SCHEDULER", "newscrawl.distributed.SharedScheduler"),
                            ("DUPEFILTER_CLASS", "newscrawl.distributed.BloomDupeFilter"),
                            ("SPIDER_MIDDLEWARES", middlewares)):
            # over the project's settings (newscrawl/settings.py), under the command line's
            if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
                settings.set(name, value, "project")


def bloom_size(capacity: int, error_rate: float) -> tuple[int, int]:
    """Bits and hash functions of a Bloom filter for ``capacity`` items at ``error_rate``."""
    bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
    return bits, max(1, round(bits / capacity * math.log(2)))


class BloomDupeFilter(BaseDupeFilter):
    """Seen requests as bits of a Redis string: fixed memory, atomic test-and-set (one Lua call)."""

    def __init__(self, server: Redis, key: str, fingerprinter: Any, capacity: int, error_rate: float) -> None:
        self.server, self.key, self.fingerprinter = server, key, fingerprinter
        self.bits, self.hashes = bloom_size(capacity, error_rate)
        self.script = server.register_script(_BLOOM_SCRIPT)

    def positions(self, fingerprint: bytes) -> list[int]:
        """The bit positions of a fingerprint (double hashing over SHA-256)."""
        digest = hashlib.sha256(fingerprint).digest()
        first, second = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big") | 1
        return [(first + i * second) % self.bits for i in range(self.hashes)]

    def request_seen(self, request: Request) -> bool:
        """Mark the request seen; True if it (probably) was already."""
        return bool(self.script(keys=[self.key], args=self.positions(self.fingerprinter.fingerprint(request))))

    def request_fingerprint(self, request: Request) -> str:
        """Scrapy's fingerprint, hex (scrapy-redis asks for it)."""
        return self.fingerprinter.fingerprint(request).hex()

    def clear(self) -> None:
        """Forget every request."""
        self.server.delete(self.key)

    def log(self, request: Request, spider: Spider) -> None:
        """Count filtered requests (scrapy-redis calls this)."""
        spider.crawler.stats.inc_value("dupefilter/filtered")


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


@dataclass
class Progress:
    """What a taken request still waits for before it is done."""

    request: Request  # held, so that its id() names it until it is done
    children: int = 0  # yielded requests not yet in the shared queue
    items: int = 0  # yielded items not yet through the pipelines
    stored_items: int = 0  # items through the pipelines (they may wait in the storage buffer)
    callback_finished: bool = False

    @property
    def done(self) -> bool:
        """The callback finished and everything it yielded was handed on."""
        return self.callback_finished and self.children == 0 and self.items == 0


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler joined to the spider's current crawl, with taken-request recovery
    and a bounded wait through Redis outages."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        """Set up the link to ``NEWSCRAWL_REDIS_URL`` and hook the worker signals (Redis is first
        called when the spider opens)."""
        settings = crawler.settings
        url = redis_url(settings) or ""
        # one quick reconnection inside a call; longer outages are the link's
        server = Redis.from_url(url, retry=Retry(NoBackoff(), 1))
        scheduler = cls(server=server, persist=True, serializer=picklecompat,
                        queue_cls="scrapy_redis.queue.PriorityQueue")
        scheduler.crawler = crawler
        scheduler.stats = crawler.stats
        tag = uuid.uuid4().hex[:6]
        scheduler.worker = f"{socket.gethostname()}-{os.getpid()}-{tag}"
        scheduler.link = RedisLink(server, redact_uri(url), settings.getfloat("NEWSCRAWL_REDIS_OUTAGE_SECONDS", 60.0),
                                   scheduler._redis_back, scheduler._redis_given_up)
        scheduler.idle_seconds = settings.getfloat("NEWSCRAWL_REDIS_IDLE_SECONDS", 10.0)
        scheduler.idle_since = None
        scheduler.joined = False
        scheduler.ending = None
        scheduler.fields = (f"{tag}-{n}" for n in itertools.count())  # unique across workers: a field
        # may reach another worker in the meta of a recovered request
        scheduler.held = {}  # inflight field -> id() of the request taken under it, until it is done
        scheduler.unreleased = set()  # fields done during an outage, to delete when Redis is back
        scheduler.uncertain = set()  # fields of takes whose answer was lost
        scheduler.waiting = deque()  # requests to queue once Redis is back
        scheduler.last_queued = 0  # the queue's length when this worker last looked
        scheduler.taken = {}
        scheduler.parent_of = {}
        scheduler.awaiting_flush = []
        scheduler.lock = threading.Lock()
        scheduler.heartbeat = None
        crawler._newscrawl_scheduler = scheduler  # type: ignore[attr-defined]
        crawler.signals.connect(scheduler.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(scheduler.left_downloader, signal=signals.request_left_downloader)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(scheduler.item_done, signal=signal)
        crawler.signals.connect(scheduler.child_done, signal=signals.request_dropped)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.start_heartbeat, signal=signals.spider_opened)
        logger.info("shared crawl on Redis %s as worker %s", scheduler.link.label, scheduler.worker)
        return scheduler

    def open(self, spider: Spider) -> None:
        """Join (or start) the spider's crawl; during a Redis outage, once Redis is back."""
        self.spider = spider
        sink_for(self.crawler).flushed.append(self.release_flushed)
        self.pointer = f"newscrawl:{spider.name}:crawl"
        self.take_script = self.server.register_script(_TAKE_SCRIPT)
        self.push_script = self.server.register_script(_PUSH_SCRIPT)
        self.beat_script = self.server.register_script(_BEAT_SCRIPT)
        try:
            self._join()
        except RedisUnavailable:
            pass  # the link tries again; start requests wait in self.waiting

    def _join(self) -> None:
        call = self.link.call
        call(self.server.set, self.pointer, uuid.uuid4().hex[:12], nx=True)
        crawl = call(self.server.get, self.pointer)
        if crawl is None:  # deleted by a finishing worker in between: start the next crawl
            return self._join()
        self.crawl = crawl.decode()
        self.prefix = f"newscrawl:{self.spider.name}:{self.crawl}"
        self.queue = PriorityQueue(server=self.server, spider=self.spider, key=f"{self.prefix}:requests",
                                   serializer=picklecompat)
        settings = self.crawler.settings
        self.df = BloomDupeFilter(self.server, f"{self.prefix}:seen", self.crawler.request_fingerprinter,
                                  settings.getint("NEWSCRAWL_BLOOM_CAPACITY", 10_000_000),
                                  settings.getfloat("NEWSCRAWL_BLOOM_ERROR_RATE", 0.001))
        self.inflight = f"{self.prefix}:inflight:{self.worker}"
        self._beat()
        self.joined = True
        logger.info("crawl %s of %s: %s", self.crawl, self.spider.name,
                    f"resuming, {self.last_queued} requests queued" if self.last_queued else "joined")

    def _beat(self) -> bool:
        """Renew this worker's heartbeat and look at the queue's length; False when the crawl's state is gone."""
        answer = self.link.call(self.beat_script, keys=[self.pointer, f"{self.prefix}:worker:{self.worker}",
                                                         f"{self.prefix}:requests"],
                                args=[self.crawl, int(time.time()), HEARTBEAT_SECONDS])
        if answer == -1:
            return False
        self.last_queued = answer
        return True

    def start_heartbeat(self, spider: Spider) -> None:
        """Renew the heartbeat every third of its lifetime, however busy the worker is."""
        self.heartbeat = create_looping_call(self._heartbeat)
        self.heartbeat.start(HEARTBEAT_SECONDS / 3, now=False)

    def _heartbeat(self) -> None:
        if self.joined and self.link.usable:
            try:
                if not self._beat():
                    self._state_lost()
            except RedisUnavailable:
                pass

    def __len__(self) -> int:
        """Requests in the shared queue (0 while Redis is unavailable)."""
        if not self.joined or not self.link.usable:
            return 0
        try:
            return self.link.call(len, self.queue)
        except RedisUnavailable:
            return 0

    def has_pending_requests(self) -> bool:
        """Anything queued, or waiting for Redis to be queued."""
        return bool(self.waiting) or len(self) > 0

    def next_request(self) -> Request | None:
        """Take a request from the shared queue and note it as this worker's until it is done (one
        atomic call)."""
        if not self.joined or not self.link.usable or self.ending:
            return None
        field = str(next(self.fields))
        try:
            answer = self.link.call(self.take_script, keys=[self.pointer, self.queue.key, self.inflight],
                                    args=[self.crawl, field])
        except RedisUnavailable:
            self.uncertain.add(field)  # taken or not: settled when Redis is back
            return None
        if answer == -1:
            self._state_lost()
            return None
        if not answer:
            self.last_queued = 0
            return None
        data, self.last_queued = answer
        request = self.queue._decode_request(data)
        request.meta[TAKEN] = field
        with self.lock:
            self.held[field] = id(request)
        self.stats.inc_value("scheduler/dequeued/redis")
        self.idle_since = None
        return request

    def release(self, request: Request) -> None:
        """The request is done: no longer this worker's."""
        field = request.meta.get(TAKEN)
        if field is not None and self.held.get(field) == id(request):
            self._release(field)

    def _release(self, *fields: str) -> None:
        with self.lock:
            fields = tuple(field for field in fields if self.held.pop(field, None) is not None)
        if not fields:
            return
        try:
            self.link.call(self.server.hdel, self.inflight, *fields)
        except RedisUnavailable:
            with self.lock:
                self.unreleased.update(fields)

    def response_downloaded(self, response: Any, request: Request, spider: Spider) -> None:
        """Answered (sent before the request leaves the downloader): released once its callback and
        items are done (:class:`ReleaseWhenDone`)."""
        request.meta["newscrawl_answered"] = True

    def left_downloader(self, request: Request, spider: Spider) -> None:
        """A download that failed is done."""
        if not request.meta.get("newscrawl_answered"):
            self.release(request)

    def enqueue_request(self, request: Request) -> bool:
        """Queue ``request`` unless seen (one atomic Redis call); then the request that yielded it
        may be done. While Redis is unavailable (or once the crawl is ending) the request waits here,
        and its parent stays taken."""
        if self.waiting or not self.joined or not self.link.usable:
            return self._hold_back(request)
        try:
            queued = self._push(request, seen_check=not request.dont_filter)
        except RedisUnavailable:
            return self._hold_back(request)
        if queued is not None:
            self._handed_on(request)
        return bool(queued)

    def _hold_back(self, request: Request) -> bool:
        self.waiting.append(request)
        self.stats.inc_value("newscrawl/redis/held_back")
        return True

    def _push(self, request: Request, *, seen_check: bool) -> bool | None:
        """Queue ``request`` (with ``seen_check``: unless seen); True if queued, False if seen, None
        when the crawl's state is gone."""
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request)
        positions = self.df.positions(fingerprint) if seen_check else []
        answer = self.link.call(self.push_script, keys=[self.pointer, self.df.key, self.queue.key],
                                args=[self.crawl, *positions, -request.priority, self.queue._encode_request(request)])
        if answer == -1:
            self._state_lost()
            return None
        if answer:
            self.df.log(request, self.spider)
        else:
            self.stats.inc_value("scheduler/enqueued/redis")
        return not answer

    def _handed_on(self, request: Request) -> None:
        """``request`` is in the shared queue (or was seen): the request it comes from may be done."""
        if id(request) in self.parent_of:
            self.child_done(request)
        elif request.meta.get(TAKEN) in self.held:  # a retry or redirect of a taken request replaces it
            self._release(request.meta[TAKEN])

    def _progress(self, request: Request) -> Progress:
        return self.taken.setdefault(id(request), Progress(request))

    def child_yielded(self, parent: Request, child: Request) -> None:
        """``parent``'s callback yielded ``child``: ``parent`` is not done before ``child`` is queued."""
        self._progress(parent).children += 1
        self.parent_of[id(child)] = (child, parent)  # holding the child keeps its id from being reused

    def child_done(self, request: Request, *_args: Any, **_kwargs: Any) -> None:
        """``request`` reached the shared queue, or was dropped on the way (``request_dropped``)."""
        child, parent = self.parent_of.pop(id(request), (None, None))
        if child is request:
            self._progress(parent).children -= 1
            self._release_if_done(parent)

    def item_yielded(self, request: Request) -> None:
        """``request``'s callback yielded an item."""
        self._progress(request).items += 1

    def callback_done(self, request: Request) -> None:
        """``request``'s callback has finished."""
        self._progress(request).callback_finished = True
        self._release_if_done(request)

    def item_done(self, item: Any, response: Any, spider: Spider, **kwargs: Any) -> None:
        """An item left the pipelines (stored, dropped or failed)."""
        request = getattr(response, "request", None)
        progress = self.taken.get(id(request)) if request is not None else None
        if progress is not None:
            progress.items -= 1
            progress.stored_items += 1
            self._release_if_done(request)

    def _release_if_done(self, request: Request) -> None:
        progress = self.taken.get(id(request))
        if progress is None or not progress.done:
            return
        del self.taken[id(request)]
        if progress.stored_items:
            with self.lock:
                self.awaiting_flush.append(request)  # its articles may still sit in the storage buffer
        else:
            self.release(request)

    def release_flushed(self) -> None:
        """The storage wrote (or spilled) its buffer: the requests whose items were in it are done.
        Called on the storage's thread."""
        with self.lock:
            done, self.awaiting_flush = self.awaiting_flush, []
            fields = [request.meta.get(TAKEN) for request in done
                      if self.held.get(request.meta.get(TAKEN)) == id(request)]
        self._release(*fields)

    def _redis_back(self) -> None:
        """Redis answers again: join, check the crawl's state, settle what the outage left open."""
        try:
            if not self.joined:
                self._join()
            elif not self._beat():
                return self._state_lost()
            self._settle_uncertain_takes()
            with self.lock:
                fields, self.unreleased = self.unreleased, set()
            if fields:
                self.link.call(self.server.hdel, self.inflight, *fields)
            while self.waiting:
                request = self.waiting[0]
                if self._push(request, seen_check=not request.dont_filter) is None:
                    return None
                self.waiting.popleft()
                self._handed_on(request)
        except RedisUnavailable:
            return None  # the link waits again
        self.stats.inc_value("newscrawl/redis/reconnected")
        self.link.recovered()
        return None

    def _settle_uncertain_takes(self) -> None:
        """A take whose answer was lost may have moved a request to the inflight hash: back to the queue."""
        while self.uncertain:
            field = next(iter(self.uncertain))
            data = self.link.call(self.server.hget, self.inflight, field)
            if data is not None:
                if self._push(self.queue._decode_request(data), seen_check=False) is None:  # seen already
                    return
                self.link.call(self.server.hdel, self.inflight, field)
            self.uncertain.discard(field)

    def _held_count(self) -> int:
        with self.lock:
            return len(self.held) + len(self.unreleased) + len(self.uncertain)

    def _redis_given_up(self, waited: float, reason: str) -> None:
        """Redis stayed unavailable: close the spider (``redis_unavailable``)."""
        held = self._held_count()
        self.stats.set_value("newscrawl/redis/outage_seconds", round(waited, 1))
        kept = f"; the {held} requests this worker took stay in Redis for the next run, if it keeps its data" if held else ""
        logger.error("Redis at %s unavailable for %.0f s (%s): closing the crawl (redis_unavailable)%s",
                     self.link.label, waited, reason, kept)
        self._end("redis_unavailable")

    def _state_lost(self) -> None:
        """The crawl's pointer is gone from Redis (restarted without its data): close the spider
        (``shared_queue_lost``) and write nothing more; :meth:`close` says what was lost."""
        if not self.ending:
            self._end("shared_queue_lost")

    def _report_lost(self) -> None:
        """What the lost crawl never did, as far as this worker knows, once its last pages are through."""
        with self.lock:
            held = len(self.held)
        waiting = len(self.waiting)
        never_done = self.last_queued + held + waiting
        self.stats.set_value("newscrawl/redis/never_done", never_done)
        logger.error("shared queue lost: %d requests never done (%d queued when this worker last looked, %d it "
                     "took and could not finish, %d it found and could not queue); crawl %s is gone from Redis at "
                     "%s (restarted without persistence?)", never_done, self.last_queued, held, waiting, self.crawl,
                     self.link.label)

    def _end(self, reason: str) -> None:
        from newscrawl.ops.outcome import close_crawl

        self.ending = reason
        self.link.close()
        close_crawl(self.crawler, reason)

    def recover_dead_workers(self) -> int:
        """Put the requests taken by workers without a heartbeat back in the queue."""
        call = self.link.call
        recovered = 0
        for key in call(lambda: list(self.server.scan_iter(f"{self.prefix}:inflight:*"))):
            worker = key.decode().rsplit(":", 1)[1]
            if worker == self.worker or call(self.server.exists, f"{self.prefix}:worker:{worker}"):
                continue
            claimed = f"{key.decode()}:claimed-by:{self.worker}"
            try:
                call(self.server.rename, key, claimed)  # only one idle worker wins a dead worker's requests
            except ResponseError:
                continue
            for data in call(self.server.hvals, claimed):
                if self._push(self.queue._decode_request(data), seen_check=False) is None:  # seen already
                    return recovered
                recovered += 1
            call(self.server.delete, claimed)
        if recovered:
            self.stats.inc_value("newscrawl/redis/recovered_requests", recovered)
            logger.warning("put %d requests of dead workers back in the queue", recovered)
        return recovered

    def crawl_busy(self) -> bool:
        """Whether anything is queued or held by any worker."""
        call = self.link.call
        self.last_queued = call(len, self.queue)
        return self.last_queued > 0 or any(call(self.server.hlen, key) for key in
                                           call(lambda: list(self.server.scan_iter(f"{self.prefix}:inflight:*"))))

    def spider_idle(self, spider: Spider) -> None:
        """Keep an idle worker until the whole crawl is done (and a grace period has passed), and
        while Redis is unavailable (the link decides).

        An idle worker has nothing in its downloader, callbacks or pipelines, and its storage buffer is
        flushed here: whatever it took is done (requests a downloader middleware refused never left a
        downloader, so they are cleared here too).
        """
        if self.ending or not self.joined or not self.link.usable or self.waiting or self.uncertain:
            raise DontCloseSpider  # closing with its own reason, or waiting for Redis
        sink = sink_for(self.crawler)
        sink.submit(sink.flush).result()  # releases what waited for the storage's next bulk write
        try:
            if not self._beat():
                self._state_lost()
                raise DontCloseSpider
            self.link.call(self.server.delete, self.inflight)
            with self.lock:
                self.held.clear()
                self.unreleased.clear()
            self.taken.clear()
            self.parent_of.clear()
            self.recover_dead_workers()
            busy = self.ending is None and self.crawl_busy()
        except RedisUnavailable:
            raise DontCloseSpider from None
        if self.ending or busy:
            self.idle_since = None
            raise DontCloseSpider
        self.idle_since = self.idle_since or time.monotonic()
        if time.monotonic() - self.idle_since < self.idle_seconds:
            raise DontCloseSpider

    def close(self, reason: str) -> None:
        """Leave the crawl; the last worker out of a finished crawl deletes its keys. Nothing is
        written to Redis after an outage or once the crawl's state is gone."""
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if self.ending == "shared_queue_lost":
            self._report_lost()
        try:
            if self.joined and self.link.usable and not self.ending:
                self._leave(reason)
        except RedisUnavailable:
            pass
        finally:
            self.link.close()

    def _leave(self, reason: str) -> None:
        call = self.link.call
        call(self.server.delete, f"{self.prefix}:worker:{self.worker}")
        if call(self.server.hlen, self.inflight) == 0:
            call(self.server.delete, self.inflight)
        others = call(lambda: list(self.server.scan_iter(f"{self.prefix}:worker:*")))
        if reason == "finished" and not others and not self.crawl_busy():
            keys = call(lambda: list(self.server.scan_iter(f"{self.prefix}:*")))
            call(self.server.delete, *keys, self.pointer)
            logger.info("crawl finished; deleted its %d Redis keys", len(keys))


class ReleaseWhenDone:
    """Spider middleware (shared crawls only): tells the scheduler what each callback yields and when
    it has finished, so the request stays recoverable until the requests it yielded are in the
    shared queue and its items are stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseWhenDone:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def _scheduler(self) -> SharedScheduler | None:
        """The crawl's shared scheduler (test it against None: with an empty queue it is falsy)."""
        return getattr(self.crawler, "_newscrawl_scheduler", None)

    def process_spider_output(self, response: Any, result: Iterable[Any]) -> Iterator[Any]:
        """Pass everything through, telling the scheduler what the callback yields."""
        scheduler = self._scheduler()
        try:
            for entry in result:
                if scheduler is not None:
                    self._note(scheduler, response.request, entry)
                yield entry
        finally:  # a failing callback is done too
            if scheduler is not None:
                scheduler.callback_done(response.request)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The same for asynchronous callbacks."""
        scheduler = self._scheduler()
        try:
            async for entry in result:
                if scheduler is not None:
                    self._note(scheduler, response.request, entry)
                yield entry
        finally:
            if scheduler is not None:
                scheduler.callback_done(response.request)

    @staticmethod
    def _note(scheduler: SharedScheduler, request: Request, entry: Any) -> None:
        if isinstance(entry, Request):
            scheduler.child_yielded(request, entry)
        else:
            scheduler.item_yielded(request)
