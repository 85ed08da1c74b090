"""Redis memory of the request duplicate filter: a Bloom filter vs scrapy-redis's set of fingerprints.

Run: ``python bench/redis_dupefilter.py [--urls 1000000] [--redis redis://127.0.0.1:6379/15]``.
Feeds the same N article URLs to newscrawl's :class:`BloomDupeFilter` (capacity N and the
default ``NEWSCRAWL_BLOOM_CAPACITY``) and to scrapy-redis's ``RFPDupeFilter`` (a Redis set of
SHA-1 hex fingerprints), then prints each key's ``MEMORY USAGE``, the rate of ``request_seen``
calls and the Bloom filter's measured false positives on fresh URLs (read-only lookups, so they do not fill the filter). Deletes its keys afterwards. Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from redis import Redis
from scrapy import Request
from scrapy.utils.test import get_crawler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newscrawl.defaults import default  # noqa: E402
from newscrawl.distributed.dupefilter import BloomDupeFilter  # noqa: E402


def urls(count: int, salt: str) -> list[Request]:
    return [Request(f"https://www.unian.ua/war/{salt}-story-{n}-{10_000_000 + n}.html") for n in range(count)]


def probably_seen(server: Redis, bloom: BloomDupeFilter, request: Request) -> bool:
    """The filter's answer for ``request`` without adding it (GETBIT only)."""
    pipe = server.pipeline(transaction=False)
    for position in bloom.positions(bloom.fingerprinter.fingerprint(request)):
        pipe.getbit(bloom.key, position)
    return all(pipe.execute())


def measure(name: str, seen: object, requests: list[Request], server: Redis, key: str) -> None:
    started = time.perf_counter()
    for request in requests:
        seen.request_seen(request)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    size = server.memory_usage(key) or 0
    print(f"| {name} | {len(requests):,} | {size / 2**20:,.1f} MB | {size / len(requests):.1f} B | "
          f"{len(requests) / elapsed:,.0f}/s |")


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--urls", type=int, default=1_000_000)
    cli.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = cli.parse_args()
    from scrapy_redis.dupefilter import RFPDupeFilter

    server = Redis.from_url(args.redis)
    fingerprinter = get_crawler().request_fingerprinter
    tag = uuid.uuid4().hex[:8]
    requests = urls(args.urls, tag)
    keys = [f"bench:{tag}:set", f"bench:{tag}:bloom", f"bench:{tag}:bloom10m"]
    print(f"duplicate filter memory for {args.urls:,} URLs (Redis {server.info()['redis_version']}):\n")
    print("| filter | URLs | Redis memory | per URL | request_seen |\n|---|---|---|---|---|")
    try:
        measure("scrapy-redis RFPDupeFilter (set of SHA-1 hex)", RFPDupeFilter(server, keys[0]), requests, server, keys[0])
        capacity, error_rate = default("NEWSCRAWL_BLOOM_CAPACITY"), default("NEWSCRAWL_BLOOM_ERROR_RATE")
        bloom = BloomDupeFilter(server, keys[1], fingerprinter, args.urls, error_rate)
        measure(f"Bloom, capacity {args.urls:,}, {error_rate:.1%} error", bloom, requests, server, keys[1])
        big = BloomDupeFilter(server, keys[2], fingerprinter, capacity, error_rate)
        measure(f"Bloom, capacity {capacity:,}, {error_rate:.1%} error (default)", big, requests, server, keys[2])
        fresh = urls(min(args.urls, 200_000), tag + "-fresh")
        false_positives = sum(probably_seen(server, bloom, r) for r in fresh)
        print(f"\nBloom (capacity {args.urls:,}) false positives on {len(fresh):,} new URLs after {args.urls:,}: "
              f"{false_positives} ({false_positives / len(fresh):.3%})")
    finally:
        server.delete(*keys)


if __name__ == "__main__":
    main()
