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

Modules: ``addon`` (:class:`~newscrawl.distributed.addon.RedisAddon`), ``scheduler``
(:class:`~newscrawl.distributed.scheduler.SharedScheduler`), ``dupefilter``
(:class:`~newscrawl.distributed.dupefilter.BloomDupeFilter`), ``middleware``
(:class:`~newscrawl.distributed.middleware.ReleaseWhenDone`) and ``redis`` (the Redis URL and
:class:`~newscrawl.distributed.redis.RedisLink`).
"""
