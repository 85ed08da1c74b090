"""Three worker processes share one crawl on the machine's real Redis (127.0.0.1:6379).

A local HTTP server serves 50 listing pages linking 2,000 article pages (UNIAN's documented markup,
generated text: a scale and fault test, not a layout test). One worker is SIGKILLed mid-crawl; the
others put the requests it held back in the queue and finish. Every page is fetched once — except
the few the killed worker held, fetched a second time — every article is stored exactly once, and
the crawl's Redis keys are gone at the end.
Skipped when no Redis answers.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymongo import MongoClient
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from conftest import ROOT
from localsite import QuietHandler, crawl_env, local_site, write_local_spider
from newscrawl.distributed.middleware import ReleaseWhenDone
from newscrawl.distributed.scheduler import SharedScheduler
from newscrawl.ops.query import merge_shared_runs
from newscrawl.store.protocol import STORAGE_EXTENSION
from newscrawl.store.service import StorageService
from variations import WORDS

redis = pytest.importorskip("redis")
REDIS_URL = os.getenv("NEWSCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LISTINGS, PER_LISTING = 50, 40
ARTICLES = LISTINGS * PER_LISTING


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def article_html(number: int) -> bytes:
    words = " ".join(random.Random(number).choices(WORDS, k=120))
    return (
        f'<html lang="en"><head><title>Story {number}</title></head><body><div class="article">'
        f'<h1>Story number {number} of the shared crawl</h1><div class="article__info">'
        f'<div class="article__info-item time">{number % 24:02d}:15, 18.02.23</div></div>'
        f'<div class="article-text"><p>Story {number}: {words}.</p><p>{words[::-1]}.</p></div></div></body></html>'
    ).encode()


class SharedCrawlPages(QuietHandler):
    """``/list?page=N`` links ``PER_LISTING`` articles each; the article pages answer a little slowly."""

    hits: Counter[str] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with SharedCrawlPages.lock:
            SharedCrawlPages.hits[self.path] += 1
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            page = int(match.group(1))
            first = (page - 1) * PER_LISTING
            body = "".join(f'<a href="/news/story-{n}-{2000000 + n}.html">s</a>' for n in range(first, first + PER_LISTING))
            data = f"<html><body>{body}</body></html>".encode()
        elif match := re.fullmatch(r"/news/story-(\d+)-\d+\.html", self.path):
            time.sleep(0.01)
            data = article_html(int(match.group(1)))
        else:
            self.send_error(404)
            return
        self.reply(200, data)

    @classmethod
    def prepare(cls) -> None:
        cls.hits = Counter()


site = local_site(SharedCrawlPages)


def shared_crawl(tmp_path: Path, base: str, mongo_uri: str, prefix: str) -> tuple[Path, dict[str, str], str]:
    """A local spider module named ``<prefix>_<random>`` for ``base`` and the env of its workers."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    spider = write_local_spider(tmp_path / f"{name}.py", name=name, base=base,
                                article_pattern=r"/news/story-\d+-(?P<id>\d{7})\.html$", listing_path="/list?page={page}")
    env = crawl_env(tmp_path, mongo_uri, prefix, PYTHONPATH=str(ROOT), SCRAPY_SETTINGS_MODULE="newscrawl.settings",
                    NEWSCRAWL_REDIS_URL=REDIS_URL)
    return spider, env, name


@pytest.mark.crawl
def test_three_workers_one_killed(tmp_path: Path, site: str, mongo_uri: str) -> None:
    client = redis_or_skip()
    spider, env, name = shared_crawl(tmp_path, site, mongo_uri, "shared")
    database = env["MONGO_DATABASE"]
    settings = {"NEWSCRAWL_LISTING_PAGES": LISTINGS, "NEWSCRAWL_SITEMAPS": 0, "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 8, "NEWSCRAWL_REDIS_IDLE_SECONDS": 3,
                "NEWSCRAWL_REDIS_HEARTBEAT_SECONDS": 10}
    args = [sys.executable, "-m", "scrapy", "runspider", str(spider)]
    for key, value in settings.items():
        args += ["-s", f"{key}={value}"]
    workers = [subprocess.Popen([*args, "-s", f"LOG_FILE={tmp_path / f'w{i}.log'}"], cwd=ROOT, env=env)
               for i in range(3)]
    try:
        deadline = time.monotonic() + 600  # a safety net: the loop waits on the site's count
        while sum(SharedCrawlPages.hits.values()) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(SharedCrawlPages.hits.values()) >= 400, "the crawl did not get going"
        workers[0].send_signal(signal.SIGKILL)
        assert [w.wait(timeout=300) for w in workers[1:]] == [0, 0]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    pages = {path: n for path, n in SharedCrawlPages.hits.items() if path.startswith(("/news/", "/list"))}
    twice = [path for path, n in pages.items() if n > 1]
    assert len(pages) == ARTICLES + LISTINGS, f"{ARTICLES + LISTINGS - len(pages)} pages never fetched"
    logs = "".join((tmp_path / f"w{i}.log").read_text(encoding="utf-8") for i in (1, 2))
    recovered = sum(int(n) for n in re.findall(r"'newscrawl/redis/recovered_requests': (\d+)", logs))
    # fetched twice: only pages the killed worker held (downloading, parsing or storing) when it died
    assert 0 < len(twice) <= recovered and max(pages.values()) <= 2, (twice, recovered)
    mongo: MongoClient = MongoClient(mongo_uri)
    try:
        keys = [doc["url_key"] for doc in mongo[database].articles.find({}, {"url_key": 1})]
    finally:
        mongo.drop_database(database)
        mongo.close()
    stored = {int(re.search(r"story-(\d+)-", key).group(1)) for key in keys}
    missing = {n: pages.get(f"/news/story-{n}-{2000000 + n}.html") for n in range(ARTICLES) if n not in stored}
    assert len(keys) == len(set(keys)) == ARTICLES, f"not stored (number: fetches): {missing}"
    assert "shared crawl on Redis redis://127.0.0.1:6379/15 as worker" in logs
    leftover = list(client.scan_iter(f"newscrawl:{name}:*"))
    client.delete(*leftover) if leftover else None
    assert leftover == [], "the last worker deletes the crawl's keys"


@pytest.mark.crawl
def test_a_stopped_crawl_resumes_without_losing_queued_requests(tmp_path: Path, site: str, mongo_uri: str) -> None:
    client = redis_or_skip()
    spider, env, name = shared_crawl(tmp_path, site, mongo_uri, "resume")
    database = env["MONGO_DATABASE"]
    listings = 6
    args = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-s", f"NEWSCRAWL_LISTING_PAGES={listings}",
            "-s", "NEWSCRAWL_SITEMAPS=0", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "NEWSCRAWL_REDIS_IDLE_SECONDS=1"]
    first = subprocess.Popen([*args, "-s", f"LOG_FILE={tmp_path / 'first.log'}"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 600  # a safety net: the loop waits on the site's count
    while sum(SharedCrawlPages.hits.values()) < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGTERM)  # Ctrl-C / a stop: finish what is in flight, keep the queue
    assert first.wait(timeout=600) == 1  # stopped before it finished (newscrawl/crawl/outcome.py)
    crawl = client.get(f"newscrawl:{name}:crawl").decode()
    queued = client.zcard(f"newscrawl:{name}:{crawl}:requests")
    assert queued > 0, "the stopped crawl keeps its queue in Redis"
    # the keys docs/SCALING.md names: the pointer to the current crawl, and the crawl's own under its id
    kept = {key.decode() for key in client.scan_iter(f"newscrawl:{name}:*")}
    assert f"newscrawl:{name}:crawl" in kept and {f"newscrawl:{name}:{crawl}:requests", f"newscrawl:{name}:{crawl}:seen"} <= kept
    assert all(re.fullmatch(rf"newscrawl:{name}:{crawl}:(requests|seen|inflight:[\w.-]+|worker:[\w.-]+)", key)
               for key in kept - {f"newscrawl:{name}:crawl"}), kept
    subprocess.run([*args, "-s", f"LOG_FILE={tmp_path / 'second.log'}"], cwd=ROOT, env=env, check=True, timeout=300)
    assert "resuming, " in (tmp_path / "second.log").read_text(encoding="utf-8")
    pages = {path: n for path, n in SharedCrawlPages.hits.items() if path.startswith(("/news/", "/list"))}
    assert len(pages) == listings * PER_LISTING + listings
    # every article once; a listing whose links were still being queued at the stop is read again
    assert {n for path, n in pages.items() if path.startswith("/news/")} == {1}
    assert max(pages.values()) <= 2
    mongo: MongoClient = MongoClient(mongo_uri)
    try:
        assert mongo[database].articles.count_documents({}) == listings * PER_LISTING
    finally:
        mongo.drop_database(database)
        mongo.close()
    assert list(client.scan_iter(f"newscrawl:{name}:*")) == []


@pytest.mark.crawl
def test_run_with_workers_shares_one_crawl(tmp_path: Path, mongo_uri: str) -> None:
    """``python -m newscrawl run unian --workers 2`` over the sample archive: two processes, one crawl."""
    client = redis_or_skip()
    for key in client.scan_iter("newscrawl:unian:*"):
        client.delete(key)
    env = crawl_env(tmp_path, mongo_uri, "workers", NEWSCRAWL_REDIS_URL=REDIS_URL)
    database = env["MONGO_DATABASE"]
    sample = ROOT / "tests/files/unian/unian-sample.warc.gz"
    result = subprocess.run([sys.executable, "-m", "newscrawl", "run", "unian", "--workers", "2", "-s",
                             f"NEWSCRAWL_REPLAY={sample}", "-s", "NEWSCRAWL_REDIS_IDLE_SECONDS=1"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = sorted(Path(tmp_path, "data/logs/unian").glob("*-w*.log"))
    assert len(logs) == 2
    lines = result.stdout.splitlines()  # each worker's lines say which worker they are about
    assert lines[:2] == [f"unian (worker {n} of 2): crawling, log {log}" for n, log in enumerate(logs, 1)]
    assert [line.split(":")[0] for line in lines[2:]] == ["unian (worker 1 of 2)", "unian (worker 2 of 2)"]
    assert all(": finished, " in line for line in lines[2:])
    fetched = [int(m) for log in logs for m in re.findall(r"'newscrawl/replay/hits': (\d+)", log.read_text(encoding="utf-8"))]
    assert sum(fetched) == 4, fetched  # the archive's 4 pages, each fetched by one of the two workers
    mongo: MongoClient = MongoClient(mongo_uri)
    try:
        assert mongo[database].articles.count_documents({}) == 1
        records = list(mongo[database].crawl_runs.find({}, {"crawl_id": 1, "shared": 1, "pages": 1}))
        # the two workers' records name their one crawl; `stats --runs` and the report show one run of two workers
        assert len(records) == 2 and all(r["shared"] for r in records) and records[0]["crawl_id"]
        assert records[0]["crawl_id"] == records[1]["crawl_id"]
        listed = subprocess.run([sys.executable, "-m", "newscrawl", "stats", "--runs"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
        assert listed.returncode == 0, listed.stderr
        runs = listed.stdout.splitlines()
        pages = sum(r["pages"] for r in records)
        assert len(runs) == 1 and runs[0].startswith("unian (2 workers) ") and f": {pages} pages, 1 parsed" in runs[0]
        out = tmp_path / "report.html"
        subprocess.run([sys.executable, "-m", "newscrawl", "report", "--out", str(out)], cwd=ROOT, env=env,
                       capture_output=True, check=True, timeout=300)
        assert re.findall(r'<tr class="\w+" data-workers="(\d+)">', out.read_text(encoding="utf-8")) == ["2"]
    finally:
        mongo.drop_database(database)
        mongo.close()
    assert list(client.scan_iter("newscrawl:unian:*")) == []
    without_redis = {k: v for k, v in env.items() if k != "NEWSCRAWL_REDIS_URL"}
    refused = subprocess.run([sys.executable, "-m", "newscrawl", "run", "unian", "--workers", "2"], cwd=ROOT,
                             env=without_redis, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 3 and "--workers needs NEWSCRAWL_REDIS_URL" in refused.stdout


def test_workers_whose_records_differ_in_shape_merge_into_one_run() -> None:
    """A worker that dropped nothing has no ``dropped`` counts and no rates; its crawl still merges."""
    busy = {"_id": "a", "spider": "unian", "crawl_id": "c", "pages": 3, "errors": 0, "finish_reason": "finished",
            "items": {"parsed": 3, "stored": 1, "dropped": {"duplicate": 2}}, "fill_rate": {"title": 1.0},
            "alerts": [], "started_at": 2, "finished_at": 5}
    idle = {"_id": "b", "spider": "unian", "crawl_id": "c", "pages": 1, "errors": None, "finish_reason": "finished",
            "items": {"parsed": 0, "stored": 0}, "alerts": [], "started_at": 1, "finished_at": 6}
    [run] = merge_shared_runs([idle, busy])
    assert run["workers"] == 2 and run["pages"] == 4 and run["errors"] == 0
    assert run["items"] == {"parsed": 3, "stored": 1, "dropped": {"duplicate": 2}}
    assert run["fill_rate"] == {"title": 1.0} and (run["started_at"], run["finished_at"]) == (1, 6)


def test_a_taken_request_is_done_only_when_its_links_are_queued(mongo_uri: str) -> None:
    """The listing stays recoverable after its callback ends, until each link it yielded is in the
    shared queue (or filtered as seen): a worker killed in between loses no link."""
    client = redis_or_skip()
    name = f"unit_{uuid.uuid4().hex[:8]}"
    crawler = get_crawler(Spider, {"NEWSCRAWL_REDIS_URL": REDIS_URL, "MONGO_URI": mongo_uri, "MONGO_DATABASE": name,
                                   "EXTENSIONS": {STORAGE_EXTENSION: 0}})
    spider = crawler._create_spider(name)
    scheduler = SharedScheduler.from_crawler(crawler)
    crawler.engine = SimpleNamespace(scheduler=scheduler)  # what the middleware reads of the engine
    scheduler.open(spider)
    try:
        scheduler.enqueue_request(Request("http://127.0.0.1:9/list"))
        listing = scheduler.next_request()
        links = [Request(f"http://127.0.0.1:9/story-{n}.html") for n in range(2)]
        output = list(ReleaseWhenDone(crawler).process_spider_output(HtmlResponse(listing.url, request=listing), links))
        assert client.hlen(scheduler.inflight) == 1, "the callback ended but its links are not queued yet"
        assert scheduler.enqueue_request(output[0]) is True
        assert client.hlen(scheduler.inflight) == 1
        assert scheduler.enqueue_request(Request(output[0].url)) is False  # seen: filtered, not queued twice
        assert scheduler.enqueue_request(output[1]) is True
        assert client.hlen(scheduler.inflight) == 0
        assert len(scheduler.queue) == 2
    finally:
        storage = crawler.get_extension(StorageService)
        assert storage is not None
        storage.close()
        MongoClient(mongo_uri).drop_database(name)
        leftover = list(client.scan_iter(f"newscrawl:{name}:*"))
        client.delete(*leftover, f"newscrawl:{name}:crawl")
