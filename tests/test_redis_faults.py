"""A shared crawl whose Redis dies: ``python -m newscrawl run SPIDER --workers 2`` against a private
``redis-server`` (its own free port, no persistence; the machine's Redis on 6379 is not touched).

- Redis killed mid-crawl (SIGKILL, never back): each worker waits ``NEWSCRAWL_REDIS_OUTAGE_SECONDS``
  with one log line per attempt, closes with ``redis_unavailable`` and exits; ``run`` returns 1 and
  releases the spider's lock, so the next ``run`` starts (and, Redis still down, ends the same way).
- Redis restarted empty mid-crawl: each worker notices the crawl's state is gone, says how many
  requests were never done, closes with ``shared_queue_lost`` and writes nothing into the new server.
- Redis killed and restarted with its data (append-only file): the workers wait, carry on and
  finish the crawl; every page is fetched and every article stored once.

"Mid-crawl" is an event: the local site holds its answers once it has served some pages, so both
workers have requests in flight and more queued when Redis dies.
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import ROOT
from localsite import QuietHandler, assert_stayed_local, guarded_env, local_project, local_site, lock_is_free
from variations import WORDS

pytestmark = pytest.mark.crawl
redis = pytest.importorskip("redis")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
LISTINGS, PER_LISTING = 10, 20
PAGES = LISTINGS + LISTINGS * PER_LISTING
SERVED_BEFORE_THE_FAULT = 30
OUTAGE_SECONDS = 3
TIMEOUT = 300
# a log record (not a line of the stats dump) that mentions Redis
REDIS_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[^\]]+\] \w+: .*redis", re.IGNORECASE | re.MULTILINE)


class PrivateRedis:
    """``redis-server`` on a port of its own, without persistence (``persistent``: an append-only
    file synced at every write)."""

    def __init__(self, directory: Path, port: int | None = None, *, persistent: bool = False) -> None:
        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        self.port, self.url = port, f"redis://127.0.0.1:{port}/0"
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         *persistence, "--daemonize", "no", "--dir", str(directory)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no goodbye, nothing saved."""
        self.process.kill()
        self.process.wait()


class HeldListings(QuietHandler):
    """Listings of article links. The last listing is answered only once ``gate`` opens (its
    links are found while Redis is down), and so is every page asked for after
    ``SERVED_BEFORE_THE_FAULT`` were served (``holding`` tells that one waits: the crawl is on).
    With ``hold_only_last_listing``, the other pages are answered at once and ``holding`` tells
    that the last listing waits after ``SERVED_BEFORE_THE_FAULT`` pages: its links are sure to be
    found during the fault (the shared queue hands out requests in no set order)."""

    served: Counter[str] = Counter()
    lock = threading.Lock()
    gate = threading.Event()
    holding = threading.Event()
    hold_only_last_listing = False
    last_listing_waits = False

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            first = (int(match.group(1)) - 1) * PER_LISTING
            links = "".join(f'<a href="/news/story-{n}-{3000000 + n}.html">s</a>' for n in range(first, first + PER_LISTING))
            body = f"<html><body>{links}</body></html>".encode()
        elif match := re.fullmatch(r"/news/story-(\d+)-\d+\.html", self.path):
            number = int(match.group(1))
            words = " ".join(random.Random(number).choices(WORDS, k=120))
            body = (f'<html lang="en"><head><title>Story {number}</title></head><body><div class="article">'
                    f'<h1>Story number {number} of a shared crawl whose Redis dies</h1><div class="article__info">'
                    f'<div class="article__info-item time">{number % 24:02d}:20, 18.02.23</div></div>'
                    f'<div class="article-text"><p>Story {number}: {words}.</p></div></div></body></html>').encode()
        else:
            self.send_error(404)
            return
        last_listing = self.path == f"/list?page={LISTINGS}"
        with HeldListings.lock:
            mid_crawl = sum(HeldListings.served.values()) >= SERVED_BEFORE_THE_FAULT
            if last_listing:
                HeldListings.last_listing_waits = True
        held = last_listing or (mid_crawl and not HeldListings.hold_only_last_listing)
        if held and not HeldListings.gate.is_set():
            if mid_crawl:
                HeldListings.holding.set()
            HeldListings.gate.wait(TIMEOUT)
        with HeldListings.lock:
            HeldListings.served[self.path] += 1
            if HeldListings.hold_only_last_listing and HeldListings.last_listing_waits and \
                    sum(HeldListings.served.values()) >= SERVED_BEFORE_THE_FAULT:
                HeldListings.holding.set()
        self.reply(200, body)

    @classmethod
    def prepare(cls) -> None:
        cls.served, cls.gate, cls.holding = Counter(), threading.Event(), threading.Event()
        cls.hold_only_last_listing = cls.last_listing_waits = False

    @classmethod
    def release(cls) -> None:
        cls.gate.set()


site = local_site(HeldListings)


@pytest.fixture
def private_redis() -> Iterator[list[PrivateRedis]]:
    """The Redis servers a test starts (append them); all killed at the end."""
    servers: list[PrivateRedis] = []
    try:
        yield servers
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.kill()


NETGUARD_RECORD = "netguard.jsonl"


def redis_project(tmp_path: Path, base: str, mongo_uri: str, redis_url: str) -> tuple[str, dict[str, str]]:
    """A local spider that ``python -m newscrawl run`` knows, sharing its crawl on ``redis_url``, and
    the environment of its runs (under the network guard)."""
    name, env = local_project(tmp_path, base, mongo_uri, "redisfault", NEWSCRAWL_REDIS_URL=redis_url,
                              NEWSCRAWL_REDIS_OUTAGE_SECONDS=str(OUTAGE_SECONDS), NEWSCRAWL_REDIS_IDLE_SECONDS="1",
                              NEWSCRAWL_LISTING_PAGES=str(LISTINGS), NEWSCRAWL_SITEMAPS="0", DOWNLOAD_DELAY="0",
                              CONCURRENT_REQUESTS="4", NEWSCRAWL_BLOOM_CAPACITY="100000")
    return name, guarded_env(env, tmp_path / NETGUARD_RECORD)


@pytest.fixture(autouse=True)
def stays_on_loopback(tmp_path: Path) -> Iterator[None]:
    """After each test: its runs (and their workers) tried nothing beyond loopback."""
    yield
    assert_stayed_local(tmp_path / NETGUARD_RECORD)


def start_run(name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "newscrawl", "run", name, "--workers", "2",
                             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_MONGO_FLUSH_SECONDS=0.2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_through_fault(name: str, env: dict[str, str], fault: Callable[[], None]) -> tuple[subprocess.Popen[str], str, float]:
    """Start a 2-worker run, apply ``fault`` once the site holds its answers (mid-crawl), then let
    the pages in flight be answered; the run, its output, and the seconds from the fault to its end."""
    run = start_run(name, env)
    try:
        assert HeldListings.holding.wait(TIMEOUT), "the crawl did not get going"
        fault()
        faulted_at = time.monotonic()
        HeldListings.gate.set()
        output, _ = run.communicate(timeout=TIMEOUT)
        return run, output, time.monotonic() - faulted_at
    finally:
        if run.poll() is None:
            run.kill()


def both_workers_closed(run: subprocess.Popen[str], output: str, tmp_path: Path, name: str, reason: str) -> list[str]:
    """Assert that the run exited 1 with both workers closed for ``reason``; the workers' logs."""
    assert run.returncode == 1, output
    assert [output.count(f"{name} (worker {n} of 2): {reason}, ") for n in (1, 2)] == [1, 1], output
    assert [output.count(f"{name} (worker {n} of 2): FAILED: closed ({reason})") for n in (1, 2)] == [1, 1], output
    logs = worker_logs(tmp_path, name)
    assert len(logs) == 2
    return logs


def worker_logs(tmp_path: Path, name: str) -> list[str]:
    return [log.read_text(encoding="utf-8") for log in sorted((tmp_path / "data/logs" / name).glob("*-w*.log"))]


def drop_database(env: dict[str, str]) -> None:
    client: MongoClient = MongoClient(env["MONGO_URI"])
    try:
        client.drop_database(env["MONGO_DATABASE"])
    finally:
        client.close()


def check_quiet(log: str, bound: int) -> None:
    """No traceback, and at most ``bound`` log records about Redis."""
    assert "Traceback" not in log
    records = REDIS_RECORD.findall(log)
    assert 0 < len(records) <= bound, records


def test_redis_killed_mid_crawl_closes_the_workers_and_releases_the_lock(
    tmp_path: Path, site: str, private_redis: list[PrivateRedis], mongo_uri: str
) -> None:
    private_redis.append(PrivateRedis(tmp_path))
    name, env = redis_project(tmp_path, site, mongo_uri, private_redis[0].url)

    def kill() -> None:
        assert private_redis[0].client.dbsize() > 0
        private_redis[0].kill()

    run, output, after_kill = run_through_fault(name, env, kill)  # the links in flight have nowhere to go
    try:
        logs = both_workers_closed(run, output, tmp_path, name, "redis_unavailable")
        for log in logs:
            check_quiet(log, bound=12)
            errors = re.findall(r"\] ERROR: (.*)", log)
            assert len([e for e in errors if "closing the crawl (redis_unavailable)" in e]) == 1, errors
            assert "Closing spider (redis_unavailable)" in log
            attempts = re.findall(r"Redis at redis://127\.0\.0\.1:\d+/0: attempt (\d+) failed", log)
            assert 1 <= len(attempts) <= 6, attempts  # 0.5, 1, 2 s… within the 3 s allowed
        assert sum(HeldListings.served.values()) < PAGES
        print(f"\nRedis killed: run returned {after_kill:.1f} s after the kill (outage allowed {OUTAGE_SECONDS} s)")
        assert lock_is_free(tmp_path / "data", name)
        # the next cron run takes the lock; Redis is still down when it starts: the same bounded wait
        started = time.monotonic()
        again = subprocess.run([sys.executable, "-m", "newscrawl", "run", name, "--workers", "2"], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=TIMEOUT)
        print(f"next run with Redis down from the start: returned in {time.monotonic() - started:.1f} s")
        assert "still running" not in again.stdout
        assert again.returncode == 1 and [again.stdout.count(f"{name} (worker {n} of 2): redis_unavailable, ")
                                          for n in (1, 2)] == [1, 1], again.stdout
        for log in worker_logs(tmp_path, name)[2:]:
            check_quiet(log, bound=12)
    finally:
        drop_database(env)


def test_redis_restarted_empty_mid_crawl_says_the_shared_queue_was_lost(
    tmp_path: Path, site: str, private_redis: list[PrivateRedis], mongo_uri: str
) -> None:
    private_redis.append(PrivateRedis(tmp_path))
    name, env = redis_project(tmp_path, site, mongo_uri, private_redis[0].url)
    env["NEWSCRAWL_REDIS_OUTAGE_SECONDS"] = str(TIMEOUT)  # the restart is not an outage that ends the crawl
    def restart_empty() -> None:
        first = private_redis[0]
        assert first.client.dbsize() > 0
        first.kill()
        private_redis.append(PrivateRedis(tmp_path, first.port))  # the same address, nothing in it

    run, output, after_kill = run_through_fault(name, env, restart_empty)
    try:
        logs = both_workers_closed(run, output, tmp_path, name, "shared_queue_lost")
        never_done = []
        for log in logs:
            check_quiet(log, bound=10)
            lost = re.findall(r"\] ERROR: shared queue lost: (\d+) requests never done \((\d+) queued when this "
                              r"worker last looked, (\d+) it took and could not finish, (\d+) it found and could not "
                              r"queue\)", log)
            assert len(lost) == 1, log
            total, *parts = map(int, lost[0])
            assert total == sum(parts)
            never_done.append(total)
            assert "Closing spider (shared_queue_lost)" in log
            assert "crawl finished" not in log
        unfetched = PAGES - len(HeldListings.served)
        assert unfetched > 0
        # each worker counts what it saw queued and what it held: never more than the crawl's pages
        assert max(never_done) > 0 and all(n <= PAGES for n in never_done), never_done
        assert private_redis[1].client.dbsize() == 0, "a worker wrote into the restarted, empty Redis"
        assert lock_is_free(tmp_path / "data", name)
        print(f"\nRedis restarted empty: run returned {after_kill:.1f} s after the kill; never done per worker: "
              f"{never_done}; pages never fetched: {unfetched} of {PAGES}")
    finally:
        drop_database(env)


def test_redis_restarted_with_its_data_the_crawl_carries_on_and_loses_nothing(
    tmp_path: Path, site: str, private_redis: list[PrivateRedis], mongo_uri: str
) -> None:
    private_redis.append(PrivateRedis(tmp_path, persistent=True))
    name, env = redis_project(tmp_path, site, mongo_uri, private_redis[0].url)
    env["NEWSCRAWL_REDIS_OUTAGE_SECONDS"] = str(TIMEOUT)
    HeldListings.hold_only_last_listing = True
    run = start_run(name, env)
    try:
        assert HeldListings.holding.wait(TIMEOUT), "the crawl did not get going"
        first = private_redis[0]
        first.kill()
        HeldListings.gate.set()  # the answers come while Redis is down: their links wait in the workers
        deadline = time.monotonic() + TIMEOUT
        while (not HeldListings.served[f"/list?page={LISTINGS}"]
               or sum("the shared crawl waits for it" in log for log in worker_logs(tmp_path, name)) < 2):
            assert time.monotonic() < deadline and run.poll() is None, "the workers did not notice the outage"
            time.sleep(0.1)
        private_redis.append(PrivateRedis(tmp_path, first.port, persistent=True))  # reads the append-only file
        output, _ = run.communicate(timeout=TIMEOUT)
    finally:
        if run.poll() is None:
            run.kill()
    try:
        assert run.returncode == 0, output
        assert [output.count(f"{name} (worker {n} of 2): finished, ") for n in (1, 2)] == [1, 1], output
        logs = worker_logs(tmp_path, name)
        for log in logs:
            check_quiet(log, bound=12)
        assert all("is back after" in log and "'newscrawl/redis/reconnected': 1" in log for log in logs)
        held_back = [int(n) for log in logs for n in re.findall(r"'newscrawl/redis/held_back': (\d+)", log)]
        assert sum(held_back) > 0, "links found during the outage waited in the workers, then were queued"
        assert len(HeldListings.served) == PAGES, f"{PAGES - len(HeldListings.served)} pages never fetched"
        # fetched twice: at most the few pages whose release the outage left unconfirmed
        assert sum(HeldListings.served.values()) - PAGES <= 8, [
            path for path, n in HeldListings.served.items() if n > 1]
        client: MongoClient = MongoClient(env["MONGO_URI"])
        try:
            keys = [doc["url_key"] for doc in client[env["MONGO_DATABASE"]].articles.find({}, {"url_key": 1})]
        finally:
            client.close()
        assert len(keys) == len(set(keys)) == LISTINGS * PER_LISTING
        assert list(private_redis[1].client.scan_iter(f"newscrawl:{name}:*")) == [], "the last worker deletes the keys"
    finally:
        drop_database(env)
