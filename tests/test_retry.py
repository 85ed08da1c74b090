"""Retries with exponential backoff that honour Retry-After, against a local server."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

from scrapy.settings import Settings

from localsite import QuietHandler, local_site
from newscrawl.crawl.retry import BackoffRetryMiddleware, retry_after_seconds
from test_warc import run_spider


def test_backoff_doubles_and_is_capped() -> None:
    middleware = BackoffRetryMiddleware(Settings({"RETRY_ENABLED": True, "NEWSCRAWL_RETRY_BACKOFF_BASE": 2, "NEWSCRAWL_RETRY_BACKOFF_MAX": 10}))
    assert [middleware.backoff_delay(n, None) for n in (1, 2, 3, 4)] == [2, 4, 8, 10]
    assert middleware.backoff_delay(1, 7.0) == 7.0
    assert middleware.backoff_delay(1, 600.0) == 10


def test_retry_after_forms() -> None:
    now = datetime(2023, 2, 18, 7, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds(b"Sat, 18 Feb 2023 07:00:30 GMT", now=now) == 30
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


class Flaky(QuietHandler):
    """/flaky: 503 twice then 200; /limited: 429 with Retry-After: 1 once then 200."""

    hits: Counter[str] = Counter()
    times: dict[str, list[float]] = {}

    def do_GET(self) -> None:
        Flaky.hits[self.path] += 1
        Flaky.times.setdefault(self.path, []).append(time.monotonic())
        if self.path == "/":
            self.reply(200, b'<html><a href="/flaky">f</a><a href="/limited">l</a></html>', "text/html")
        elif self.path == "/flaky" and Flaky.hits[self.path] <= 2:
            self.reply(503, b"busy", "text/html")
        elif self.path == "/limited" and Flaky.hits[self.path] == 1:
            self.reply(429, b"slow down", "text/html", Retry_After="1")
        else:
            self.reply(200, f"<html><title>{self.path}</title></html>".encode(), "text/html")

    @classmethod
    def prepare(cls) -> None:
        cls.hits.clear()
        cls.times.clear()


flaky_site = local_site(Flaky)


def test_crawl_retries_with_backoff_and_retry_after(tmp_path, flaky_site: str) -> None:
    items, log = run_spider(tmp_path, flaky_site + "/", NEWSCRAWL_RETRY_BACKOFF_BASE=0.2)
    assert sorted(i["url"].removeprefix(flaky_site) for i in items) == ["/", "/flaky", "/limited"]
    assert Flaky.hits["/flaky"] == 3 and Flaky.hits["/limited"] == 2
    flaky, limited = Flaky.times["/flaky"], Flaky.times["/limited"]
    assert flaky[1] - flaky[0] >= 0.2 and flaky[2] - flaky[1] >= 0.4  # 0.2 s, then doubled
    assert limited[1] - limited[0] >= 1.0  # Retry-After: 1 beats the 0.2 s backoff
    assert "'retry/count': 3" in log
