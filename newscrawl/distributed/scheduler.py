"""The shared crawl's scheduler: scrapy-redis's queue, taken-request recovery, the crawl's end."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError
from redis.retry import Retry
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from newscrawl.crawl.outcome import close_crawl
from newscrawl.defaults import setting_value
from newscrawl.distributed.dupefilter import BloomDupeFilter
from newscrawl.distributed.redis import RedisLink, RedisUnavailable, redis_url
from newscrawl.stats import (
    REDIS_HELD_BACK,
    REDIS_NEVER_DONE,
    REDIS_OUTAGE_SECONDS,
    REDIS_RECONNECTED,
    REDIS_RECOVERED_REQUESTS,
    SCHEDULER_DEQUEUED_REDIS,
    SCHEDULER_ENQUEUED_REDIS,
)
from newscrawl.store.database import redact_uri
from newscrawl.store.protocol import storage_of

logger = logging.getLogger(__name__)
TAKEN = "newscrawl_taken"  # request meta: the field of the worker's inflight hash that holds the request
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
        scheduler.link = RedisLink(server, redact_uri(url), setting_value("NEWSCRAWL_REDIS_OUTAGE_SECONDS", settings),
                                   scheduler._redis_back, scheduler._redis_given_up)
        scheduler.idle_seconds = setting_value("NEWSCRAWL_REDIS_IDLE_SECONDS", settings)
        scheduler.idle_since = None
        scheduler.joined = False
        scheduler.crawl = None  # the id of the crawl it joined
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
        scheduler.heartbeat_seconds = setting_value("NEWSCRAWL_REDIS_HEARTBEAT_SECONDS", settings)
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
        storage_of(self.crawler).on_flushed(self.release_flushed)
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
                                  setting_value("NEWSCRAWL_BLOOM_CAPACITY", settings),
                                  setting_value("NEWSCRAWL_BLOOM_ERROR_RATE", settings))
        self.inflight = f"{self.prefix}:inflight:{self.worker}"
        self._beat()
        self.joined = True
        logger.info("crawl %s of %s: %s", self.crawl, self.spider.name,
                    f"resuming, {self.last_queued} requests queued" if self.last_queued else "joined")

    def _beat(self) -> bool:
        """Renew this worker's heartbeat and look at the queue's length; False when the crawl's state is gone."""
        answer = self.link.call(self.beat_script, keys=[self.pointer, f"{self.prefix}:worker:{self.worker}",
                                                         f"{self.prefix}:requests"],
                                args=[self.crawl, int(time.time()), self.heartbeat_seconds])
        if answer == -1:
            return False
        self.last_queued = answer
        return True

    def start_heartbeat(self, spider: Spider) -> None:
        """Renew the heartbeat every third of its lifetime, however busy the worker is."""
        self.heartbeat = create_looping_call(self._heartbeat)
        self.heartbeat.start(self.heartbeat_seconds / 3, now=False)

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
        self.stats.inc_value(SCHEDULER_DEQUEUED_REDIS)
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
        self.stats.inc_value(REDIS_HELD_BACK)
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
            self.stats.inc_value(SCHEDULER_ENQUEUED_REDIS)
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
        self.stats.inc_value(REDIS_RECONNECTED)
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
        self.stats.set_value(REDIS_OUTAGE_SECONDS, round(waited, 1))
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
        self.stats.set_value(REDIS_NEVER_DONE, never_done)
        logger.error("shared queue lost: %d requests never done (%d queued when this worker last looked, %d it "
                     "took and could not finish, %d it found and could not queue); crawl %s is gone from Redis at "
                     "%s (restarted without persistence?)", never_done, self.last_queued, held, waiting, self.crawl,
                     self.link.label)

    def _end(self, reason: str) -> None:
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
            self.stats.inc_value(REDIS_RECOVERED_REQUESTS, recovered)
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
        storage_of(self.crawler).flush()  # releases what waited for the storage's next bulk write
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
