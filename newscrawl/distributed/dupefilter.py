"""The shared crawl's duplicate filter: a Bloom filter in one Redis string."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from redis import Redis
from scrapy import Request, Spider
from scrapy.dupefilters import BaseDupeFilter

from newscrawl.stats import DUPEFILTER_FILTERED

# KEYS[1]: the Bloom filter. ARGV: the bit positions. Sets the bits; 1 when all were set already.
_BLOOM_SCRIPT = """
local present = 1
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then present = 0 end
end
return present
"""


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
        spider.crawler.stats.inc_value(DUPEFILTER_FILTERED)
