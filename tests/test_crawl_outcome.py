"""How a crawl ended: a worker of a shared crawl that found no page left to fetch did not fail, and
a crawl knows it is such a worker from its scheduler (no Redis is called here)."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy import Spider
from scrapy.core.scheduler import Scheduler
from scrapy.utils.test import get_crawler

from newscrawl.crawl.outcome import FAILED, OK, crawl_outcome, shared_crawl
from newscrawl.distributed.scheduler import SharedScheduler


def test_a_crawl_is_shared_when_its_scheduler_takes_requests_from_redis() -> None:
    crawler = get_crawler(Spider)
    crawler.engine = SimpleNamespace(scheduler=object.__new__(Scheduler))
    assert not shared_crawl(crawler)
    crawler.engine = SimpleNamespace(scheduler=object.__new__(SharedScheduler))
    assert shared_crawl(crawler)


def test_a_worker_of_a_shared_crawl_may_find_no_page_to_fetch() -> None:
    nothing_fetched = {"response_received_count": 0}
    assert crawl_outcome("finished", nothing_fetched, shared=True).code == OK
    alone = crawl_outcome("finished", nothing_fetched)
    assert alone.code == FAILED and alone.cause == "no page could be fetched"
    unreachable = crawl_outcome("finished", {"newscrawl/network_failures/TimeoutError": 3}, shared=True)
    assert unreachable.code == FAILED and unreachable.cause == "no page could be fetched (TimeoutError 3)"
