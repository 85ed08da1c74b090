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
  worker started for the spider resumes it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.dupefilters import BaseDupeFilter
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from newscrawl.storage import redact_uri

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
# KEYS[1]: the Bloom filter; KEYS[2], when given: the request queue (a sorted set).
# ARGV: the bit positions, then (with a queue) the request's score and data. Sets the bits and, if
# any was unset (a new request), queues it in the same atomic call: a worker killed between the two
# cannot leave a request marked seen but never queued. Returns 1 when the request was seen before.
_BLOOM_SCRIPT = """
local positions = #KEYS == 2 and #ARGV - 2 or #ARGV
local present = 1
for i = 1, positions do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then present = 0 end
end
if present == 0 and #KEYS == 2 then
  redis.call('ZADD', KEYS[2], ARGV[positions + 1], ARGV[positions + 2])
end
return present
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

    def queue_if_new(self, request: Request, queue: PriorityQueue) -> bool:
        """Mark the request seen and, if it was not, push it on ``queue`` (atomically); True if queued."""
        args = [*self.positions(self.fingerprinter.fingerprint(request)), -request.priority, queue._encode_request(request)]
        return not self.script(keys=[self.key, queue.key], args=args)

    def request_fingerprint(self, request: Request) -> str:
        """Scrapy's fingerprint, hex (scrapy-redis asks for it)."""
        return self.fingerprinter.fingerprint(request).hex()

    def clear(self) -> None:
        """Forget every request."""
        self.server.delete(self.key)

    def log(self, request: Request, spider: Spider) -> None:
        """Count filtered requests (scrapy-redis calls this)."""
        spider.crawler.stats.inc_value("dupefilter/filtered")


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
    """scrapy-redis's scheduler joined to the spider's current crawl, with taken-request recovery."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        """Connect to ``NEWSCRAWL_REDIS_URL`` and hook the worker signals."""
        settings = crawler.settings
        server = Redis.from_url(redis_url(settings))
        server.ping()
        scheduler = cls(server=server, persist=True, serializer=picklecompat,
                        queue_cls="scrapy_redis.queue.PriorityQueue")
        scheduler.crawler = crawler
        scheduler.stats = crawler.stats
        scheduler.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        scheduler.idle_seconds = settings.getfloat("NEWSCRAWL_REDIS_IDLE_SECONDS", 10.0)
        scheduler.idle_since = None
        scheduler.taken = {}
        scheduler.parent_of = {}
        scheduler.awaiting_flush = []
        scheduler.awaiting_lock = threading.Lock()
        crawler._newscrawl_scheduler = scheduler  # type: ignore[attr-defined]
        crawler.signals.connect(scheduler.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(scheduler.left_downloader, signal=signals.request_left_downloader)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(scheduler.item_done, signal=signal)
        crawler.signals.connect(scheduler.child_done, signal=signals.request_dropped)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        logger.info("shared crawl on Redis %s as worker %s", redact_uri(redis_url(settings) or ""), scheduler.worker)
        return scheduler

    def open(self, spider: Spider) -> None:
        """Join (or start) the spider's crawl and make its queue and duplicate filter."""
        self.spider = spider
        pointer = f"newscrawl:{spider.name}:crawl"
        self.server.set(pointer, uuid.uuid4().hex[:12], nx=True)
        crawl = self.server.get(pointer).decode()
        self.prefix = f"newscrawl:{spider.name}:{crawl}"
        self.queue = PriorityQueue(server=self.server, spider=spider, key=f"{self.prefix}:requests",
                                   serializer=picklecompat)
        settings = self.crawler.settings
        self.df = BloomDupeFilter(self.server, f"{self.prefix}:seen", self.crawler.request_fingerprinter,
                                  settings.getint("NEWSCRAWL_BLOOM_CAPACITY", 10_000_000),
                                  settings.getfloat("NEWSCRAWL_BLOOM_ERROR_RATE", 0.001))
        self.inflight = f"{self.prefix}:inflight:{self.worker}"
        from pipelines.mongo import sink_for

        sink_for(self.crawler).flushed.append(self.release_flushed)
        self._beat()
        waiting = len(self.queue)
        logger.info("crawl %s of %s: %s", crawl, spider.name, f"resuming, {waiting} requests queued" if waiting else "joined")

    def _beat(self) -> None:
        self.server.set(f"{self.prefix}:worker:{self.worker}", int(time.time()), ex=HEARTBEAT_SECONDS)

    def next_request(self) -> Request | None:
        """Take a request from the shared queue and note it as this worker's until it is done."""
        self._beat()
        request = super().next_request()
        if request is not None:
            self.server.hset(self.inflight, self._id(request), self.queue._encode_request(request))
            self.idle_since = None
        return request

    def _id(self, request: Request) -> str:
        return f"{self.crawler.request_fingerprinter.fingerprint(request).hex()}:{id(request)}"

    def release(self, request: Request) -> None:
        """The request is done: no longer this worker's."""
        self.server.hdel(self.inflight, self._id(request))

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
        may be done."""
        if request.dont_filter:
            self.queue.push(request)
            queued = True
        else:
            queued = self.df.queue_if_new(request, self.queue)
            if not queued:
                self.df.log(request, self.spider)
        if queued:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.child_done(request)
        return queued

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
            with self.awaiting_lock:
                self.awaiting_flush.append(request)  # its articles may still sit in the storage buffer
        else:
            self.release(request)

    def release_flushed(self) -> None:
        """The storage wrote (or spilled) its buffer: the requests whose items were in it are done.
        Called on the storage's thread."""
        with self.awaiting_lock:
            done, self.awaiting_flush = self.awaiting_flush, []
        if done:
            self.server.hdel(self.inflight, *(self._id(request) for request in done))

    def recover_dead_workers(self) -> int:
        """Put the requests taken by workers without a heartbeat back in the queue."""
        recovered = 0
        for key in self.server.scan_iter(f"{self.prefix}:inflight:*"):
            worker = key.decode().rsplit(":", 1)[1]
            if worker == self.worker or self.server.exists(f"{self.prefix}:worker:{worker}"):
                continue
            claimed = f"{key.decode()}:claimed-by:{self.worker}"
            try:
                self.server.rename(key, claimed)  # only one idle worker wins a dead worker's requests
            except Exception:
                continue
            for data in self.server.hvals(claimed):
                self.queue.push(self.queue._decode_request(data))
                recovered += 1
            self.server.delete(claimed)
        if recovered:
            self.stats.inc_value("newscrawl/redis/recovered_requests", recovered)
            logger.warning("put %d requests of dead workers back in the queue", recovered)
        return recovered

    def crawl_busy(self) -> bool:
        """Whether anything is queued or held by any worker."""
        return len(self.queue) > 0 or any(self.server.hlen(key) for key in self.server.scan_iter(f"{self.prefix}:inflight:*"))

    def spider_idle(self, spider: Spider) -> None:
        """Keep an idle worker until the whole crawl is done (and a grace period has passed).

        An idle worker has nothing in its downloader, callbacks or pipelines, and its storage buffer is
        flushed here: whatever it took is done (requests a downloader middleware refused never left a
        downloader, so they are cleared here too).
        """
        self._beat()
        from pipelines.mongo import sink_for

        sink = sink_for(self.crawler)
        sink.submit(sink.flush).result()  # releases what waited for the storage's next bulk write
        self.server.delete(self.inflight)
        self.taken.clear()
        self.parent_of.clear()
        self.recover_dead_workers()
        if self.crawl_busy():
            self.idle_since = None
            raise DontCloseSpider
        self.idle_since = self.idle_since or time.monotonic()
        if time.monotonic() - self.idle_since < self.idle_seconds:
            raise DontCloseSpider

    def close(self, reason: str) -> None:
        """Leave the crawl; the last worker out of a finished crawl deletes its keys."""
        self.server.delete(f"{self.prefix}:worker:{self.worker}")
        if self.server.hlen(self.inflight) == 0:
            self.server.delete(self.inflight)
        others = list(self.server.scan_iter(f"{self.prefix}:worker:*"))
        if reason == "finished" and not others and not self.crawl_busy():
            keys = list(self.server.scan_iter(f"{self.prefix}:*"))
            self.server.delete(*keys, f"newscrawl:{self.spider.name}:crawl")
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
