"""``python -m newscrawl run`` between and around runs: signals, a killed ``run``, one database
server per run, exit codes that tell the truth, runs that are not crawls, failed pages, cron.

Real servers on loopback: the session's nx-27017 (or one a run starts), Redis on this machine for
the shared crawl, and a local site in UNIAN's documented markup (generated pages: these are
lifecycle tests, not layout tests). "Mid-crawl" is an event: the site holds its article answers
once it has served some, so the crawl has requests in flight when the signal comes.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from conftest import ROOT
from localsite import QuietHandler, local_project, local_site, lock_is_free
from newscrawl.store.server import EmbeddedServer
from variations import WORDS

pytestmark = pytest.mark.crawl
LISTINGS, PER_LISTING = 3, 20
ARTICLES = LISTINGS * PER_LISTING
SERVED_BEFORE_HOLDING = 10
TIMEOUT = 300


class HeldStories(QuietHandler):
    """``/list?page=N`` links ``PER_LISTING`` articles each; with ``hold`` set, article answers wait
    for ``gate`` once ``SERVED_BEFORE_HOLDING`` were served. ``dated``: pages print their date;
    ``gone``: article numbers answered 404; ``not_articles``: numbers answered with a page that is
    no article."""

    lock = threading.Lock()
    served: Counter[str] = Counter()
    gate = threading.Event()
    holding = threading.Event()
    hold = False
    dated = True
    gone: frozenset[int] = frozenset()
    not_articles: frozenset[int] = frozenset()

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            page = int(match.group(1))
            first = (page - 1) * PER_LISTING
            links = "".join(f'<a href="/news/story-{n}-{3000000 + n}.html">s</a>'
                            for n in range(first, first + PER_LISTING)) if page <= LISTINGS else ""
            self.reply(200, f"<html><body>{links}</body></html>".encode())
            return
        match = re.fullmatch(r"/news/story-(\d+)-\d+\.html", self.path)
        if not match:
            self.reply(404, b"not here")
            return
        number = int(match.group(1))
        with HeldStories.lock:
            waits = HeldStories.hold and HeldStories.served["article"] >= SERVED_BEFORE_HOLDING
            HeldStories.served["article"] += 1
        if waits and not HeldStories.gate.is_set():
            HeldStories.holding.set()
            HeldStories.gate.wait(TIMEOUT)
        if number in HeldStories.gone:
            self.reply(404, b"gone")
        elif number in HeldStories.not_articles:
            self.reply(200, b"<html><body><p>Subscribe to our newsletter.</p></body></html>")
        else:
            self.reply(200, article(number, dated=HeldStories.dated))

    @classmethod
    def prepare(cls) -> None:
        cls.served, cls.gate, cls.holding = Counter(), threading.Event(), threading.Event()
        cls.hold, cls.dated, cls.gone, cls.not_articles = False, True, frozenset(), frozenset()

    @classmethod
    def release(cls) -> None:
        cls.gate.set()


def article(number: int, *, dated: bool) -> bytes:
    words = " ".join(random.Random(number).choices(WORDS, k=120))
    date = f'<div class="article__info"><div class="article__info-item time">{number % 24:02d}:20, 18.02.23</div></div>'
    return (f'<html lang="en"><head><title>Story {number}</title></head><body><div class="article">'
            f'<h1>Story number {number} of a run and its signals</h1>{date if dated else ""}'
            f'<div class="article-text"><p>Story {number}: {words}.</p></div></div></body></html>').encode()


site = local_site(HeldStories)


def project(tmp_path: Path, site: str, mongo_uri: str, **extra: str) -> tuple[str, dict[str, str]]:
    return local_project(tmp_path, site, mongo_uri, "lifecycle", NEWSCRAWL_LISTING_PAGES=str(LISTINGS),
                         NEWSCRAWL_SITEMAPS="0", DOWNLOAD_DELAY="0", CONCURRENT_REQUESTS="4", **extra)


#: settings of every run here
SETTINGS = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_MONGO_FLUSH_SECONDS=0.2")


def run_args(name: str, *more: str) -> list[str]:
    """The arguments of ``newscrawl run NAME`` with this module's settings and ``more``."""
    return ["run", name, *SETTINGS, *more]


def newscrawl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def start_run(name: str, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "newscrawl", *run_args(name, *args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (its crawl, the crawl's parse workers, …)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s+Z", state, re.M)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (an event seen in files or processes), failing after ``TIMEOUT``."""
    done = threading.Event()
    for _ in range(TIMEOUT * 20):
        if condition():
            return
        done.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def log_of(env: dict[str, str], name: str) -> str:
    logs = sorted(Path(env["NEWSCRAWL_DATA_DIR"], "logs", name).glob("*.log"))
    return logs[-1].read_text(encoding="utf-8") if logs else ""


@contextmanager
def database(env: dict[str, str]) -> Iterator[Any]:
    """The run's database, for one look."""
    client: MongoClient = MongoClient(env["MONGO_URI"])
    try:
        yield client[env["MONGO_DATABASE"]]
    finally:
        client.close()


def stored_keys(env: dict[str, str]) -> list[str]:
    with database(env) as db:
        return [doc["url_key"] for doc in db.articles.find({}, {"url_key": 1})]


def runs_of(env: dict[str, str], name: str) -> list[dict[str, Any]]:
    with database(env) as db:
        return list(db.crawl_runs.find({"spider": name}).sort("started_at", 1))


def assert_all_stored_once(env: dict[str, str]) -> None:
    keys = stored_keys(env)
    assert len(keys) == len(set(keys)) == ARTICLES, (len(keys), len(set(keys)))


def assert_gone_with_the_lock(processes: list[int], env: dict[str, str], name: str) -> None:
    assert not [pid for pid in processes if alive(pid)], "a process of the run outlived it"
    assert lock_is_free(Path(env["NEWSCRAWL_DATA_DIR"]), name)


def assert_the_next_run_stores_the_rest(env: dict[str, str], name: str) -> None:
    again = newscrawl(env, *run_args(name))
    assert again.returncode == 0, again.stdout
    assert_all_stored_once(env)


def stop_mid_crawl(name: str, env: dict[str, str], signals: int) -> tuple[subprocess.Popen[str], str, list[int]]:
    """Start a run, send it ``signals`` SIGTERMs mid-crawl (each once the crawl has logged the one
    before), then let the held pages be answered; the run, its output and the processes it had."""
    run = start_run(name, env)
    try:
        assert HeldStories.holding.wait(TIMEOUT), "the crawl did not get going"
        processes = descendants(run.pid)
        assert processes, "run started no crawl process"
        for number, seen in enumerate(("Received SIGTERM, shutting down gracefully", "Received SIGTERM twice")[:signals]):
            run.send_signal(signal.SIGTERM)
            wait_until(lambda seen=seen: seen in log_of(env, name), f"signal {number + 1} to reach the crawl")
        HeldStories.gate.set()
        output, _ = run.communicate(timeout=TIMEOUT)
        return run, output, processes
    finally:
        if run.poll() is None:
            run.kill()


def test_sigterm_stops_the_crawl_gracefully_and_run_reports_it(tmp_path: Path, site: str, mongo_uri: str) -> None:
    HeldStories.hold = True
    name, env = project(tmp_path, site, mongo_uri)
    run, output, processes = stop_mid_crawl(name, env, signals=1)
    assert run.returncode == 1, output
    assert f"{name}: FAILED: closed (shutdown): stopped by a signal before it finished" in output
    assert "Traceback" not in output
    assert_gone_with_the_lock(processes, env, name)
    (record,) = runs_of(env, name)
    items = record["items"]
    assert record["finish_reason"] == "shutdown"
    assert 0 < items["parsed"] < ARTICLES
    assert items["stored"] + items["spilled"] + items["quarantined"] == items["parsed"]
    assert stored_keys(env) and len(stored_keys(env)) == items["stored"]
    assert_the_next_run_stores_the_rest(env, name)


def test_a_second_sigterm_stops_sooner_and_loses_nothing(tmp_path: Path, site: str, mongo_uri: str) -> None:
    HeldStories.hold = True
    name, env = project(tmp_path, site, mongo_uri)
    run, output, processes = stop_mid_crawl(name, env, signals=2)
    assert run.returncode == 1, output
    assert f"{name}: FAILED:" in output and "Traceback" not in output
    assert_gone_with_the_lock(processes, env, name)
    assert_the_next_run_stores_the_rest(env, name)


def test_a_killed_run_leaves_no_crawl_without_its_lock(tmp_path: Path, site: str, mongo_uri: str) -> None:
    HeldStories.hold = True
    name, env = project(tmp_path, site, mongo_uri)
    run = start_run(name, env)
    try:
        assert HeldStories.holding.wait(TIMEOUT), "the crawl did not get going"
        processes = descendants(run.pid)
        run.kill()
        run.wait()
        crawling = [pid for pid in processes if alive(pid)]
        if crawling:  # the crawl is stopping (it got SIGTERM as its run died): it holds the lock meanwhile
            assert not lock_is_free(Path(env["NEWSCRAWL_DATA_DIR"]), name)
            second = newscrawl(env, *run_args(name))
            assert second.returncode == 0 and "is still running" in second.stdout, second.stdout
            assert len(runs_of(env, name)) == 0, "a second crawl of the spider ran"
        HeldStories.gate.set()
        wait_until(lambda: not any(alive(pid) for pid in processes), "the orphaned crawl to end")
        assert lock_is_free(Path(env["NEWSCRAWL_DATA_DIR"]), name)
    finally:
        HeldStories.gate.set()
        if run.poll() is None:
            run.kill()
    again = newscrawl(env, *run_args(name))
    assert again.returncode == 0, again.stdout
    assert_all_stored_once(env)


def test_the_workers_of_one_run_share_one_embedded_server(tmp_path: Path, site: str, mongo_uri: str) -> None:
    name, env = project(tmp_path, site, mongo_uri, NEWSCRAWL_REDIS_URL="redis://127.0.0.1:6379/15",
                        NEWSCRAWL_REDIS_IDLE_SECONDS="1", NEWSCRAWL_BLOOM_CAPACITY="100000")
    del env["MONGO_URI"]  # the embedded default
    result = newscrawl(env, *run_args(name, "--workers", "2"))
    assert result.returncode == 0, result.stdout + result.stderr
    (uri,) = re.findall(r"started the embedded MongoDB server at (mongodb://127\.0\.0\.1:\d+)", result.stdout)
    assert (result.stdout + result.stderr).count("started the embedded MongoDB server") == 1
    logs = sorted(Path(env["NEWSCRAWL_DATA_DIR"], "logs", name).glob("*-w*.log"))
    assert len(logs) == 2
    for log in logs:
        text = log.read_text(encoding="utf-8")
        assert f"storing articles in MongoDB at {uri}" in text
        assert "starting the embedded MongoDB server" not in text
    server = EmbeddedServer.start(Path(env["NEWSCRAWL_DATA_DIR"], "mongo"))
    try:
        assert_all_stored_once({**env, "MONGO_URI": server.uri})
    finally:
        server.stop()


def test_a_failure_outranks_an_alert(tmp_path: Path, site: str, mongo_uri: str) -> None:
    HeldStories.dated = False  # every article without its date: a fill-rate alert, and all are dropped
    name, env = project(tmp_path, site, "mongodb://127.0.0.1:1")
    result = newscrawl(env, *run_args(name, "-s", "NEWSCRAWL_MONGO_TIMEOUT_MS=300"))
    assert result.returncode == 1, result.stdout
    assert "ALERT [fill_rate] published_at" in result.stdout
    assert f"{name}: FAILED: MongoDB was unreachable: nothing could be stored nor looked up" in result.stdout
    quiet = newscrawl(env, *run_args(name, "-s", "NEWSCRAWL_MONGO_TIMEOUT_MS=300", "--quiet"))
    assert quiet.returncode == 1
    (line,) = quiet.stdout.splitlines()
    assert line.startswith(f"{name}: FAILED: MongoDB was unreachable") and "alert" in line and "; log " in line, line
    assert quiet.stderr == ""


def test_a_backfill_that_finds_nothing_raises_an_alert(tmp_path: Path, site: str, mongo_uri: str) -> None:
    name, env = project(tmp_path, site, mongo_uri)
    (tmp_path / f"{name}.py").write_text((tmp_path / f"{name}.py").read_text().replace(
        "archive_path=None", "archive_path='/archive/{day:%Y-%m-%d}'"))
    result = newscrawl(env, *run_args(name, "--since", "2023-02-01", "--until", "2023-02-03"))
    assert result.returncode == 2, result.stdout
    assert "ALERT [backfill_empty] the backfill of 2023-02-01 to 2023-02-03 parsed no article" in result.stdout
    (record,) = runs_of(env, name)
    assert record["backfill"] == {"since": "2023-02-01", "until": "2023-02-03"}
    assert record["status_counts"]["404"] >= 3


def test_parse_shell_and_check_are_not_crawl_runs(tmp_path: Path, site: str, mongo_uri: str) -> None:
    name, env = project(tmp_path, site, mongo_uri)
    url = f"{site}/news/story-1-3000001.html"
    scrapy = [sys.executable, "-m", "scrapy"]
    for command in ([*scrapy, "parse", f"--spider={name}", url], [*scrapy, "shell", f"--spider={name}", url, "-c", "response.status"],
                    [*scrapy, "check", name]):
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert runs_of(env, name) == []
    assert not Path(env["NEWSCRAWL_DATA_DIR"], "runs").exists()
    crawled = subprocess.run([*scrapy, "crawl", name], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    assert len(runs_of(env, name)) == 1  # a crawl is a run


def test_each_run_keeps_its_failed_pages_and_stats_prints_them(tmp_path: Path, site: str, mongo_uri: str) -> None:
    HeldStories.gone, HeldStories.not_articles = frozenset({3, 13, 23}), frozenset({7, 17})
    name, env = project(tmp_path, site, mongo_uri)
    result = newscrawl(env, *run_args(name))
    assert result.returncode in (0, 2), result.stdout
    (record,) = runs_of(env, name)
    reasons = {page["url"].rsplit("/", 1)[1]: page["reason"] for page in record["failed_pages"]["pages"]}
    assert {url: reason for url, reason in reasons.items()} == {
        **{f"story-{n}-{3000000 + n}.html": "HTTP 404" for n in (3, 13, 23)},
        **{f"story-{n}-{3000000 + n}.html": reasons[f"story-{n}-{3000000 + n}.html"] for n in (7, 17)},
    }
    assert all(reasons[f"story-{n}-{3000000 + n}.html"].startswith("not an article") for n in (7, 17))
    printed = newscrawl(env, "stats", "--failed")
    assert printed.returncode == 0, printed.stderr
    assert f"{name} run {record['_id'][:12]}" in printed.stdout and "5 failed pages" in printed.stdout
    assert f"{site}/news/story-3-3000003.html  HTTP 404" in printed.stdout
    capped = newscrawl(env, *run_args(name, "-s", "NEWSCRAWL_FAILED_PAGES_KEEP=2", "-s", "NEWSCRAWL_INCREMENTAL=0"))
    assert capped.returncode in (0, 2), capped.stdout
    latest = runs_of(env, name)[-1]
    assert len(latest["failed_pages"]["pages"]) == 2 and latest["failed_pages"]["more"] == 3
    by_id = newscrawl(env, "stats", "--failed", latest["_id"][:8])
    assert "… and 3 more" in by_id.stdout


def test_cron_runs_are_quiet_on_success(tmp_path: Path, site: str, mongo_uri: str) -> None:
    name, env = project(tmp_path, site, mongo_uri)
    lines = newscrawl(env, "cron", "unian").stdout.splitlines()
    assert lines == [f"0 * * * * cd {ROOT} && .venv/bin/python -m newscrawl run unian --quiet"]
    quiet = newscrawl(env, *run_args(name, "--quiet"))
    assert quiet.returncode == 0
    assert quiet.stdout == quiet.stderr == ""
    assert_all_stored_once(env)


def test_the_tests_keep_their_data_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    data = Path(os.environ["NEWSCRAWL_DATA_DIR"])
    assert data.is_relative_to(tmp_path_factory.getbasetemp())
    child = subprocess.run([sys.executable, "-c", "from newscrawl.store.files import data_dir; print(data_dir())"],
                           cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    assert Path(child.stdout.strip()) == data


LEAVES_A_PROCESS_BEHIND = """
import os, signal, subprocess, sys
from newscrawl.ops.cron import reap_leftovers
from newscrawl.store.server import adopt_orphans, children
adopt_orphans()
own = children()
stubborn = "import signal, sys, threading; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); threading.Event().wait()"
crawl = subprocess.Popen([sys.executable, "-c",
    f"import subprocess, sys; left = subprocess.Popen([sys.executable, '-c', {stubborn!r}], stdout=subprocess.PIPE, "
    "stderr=subprocess.DEVNULL); "
    "left.stdout.readline(); print(left.pid, flush=True)"], stdout=subprocess.PIPE, text=True)
left = int(crawl.stdout.readline())
print(left, flush=True)
crawl.wait()
assert left in children() - own, "the crawl's process was not adopted"
reap_leftovers(own, grace=0.5)
try:
    os.kill(left, 0)
    print("alive")
except ProcessLookupError:
    print("reaped")
"""


def test_run_ends_the_processes_a_crawl_left_behind_before_it_lets_go_of_the_lock() -> None:
    """A crawl's leftovers (its parse forkserver, which ends a moment after the crawl) become
    ``run``'s children and are waited for, or killed after a grace time: one that ignores SIGTERM
    and never ends is gone, reaped, when ``reap_leftovers`` returns."""
    child = subprocess.run([sys.executable, "-c", LEAVES_A_PROCESS_BEHIND], cwd=ROOT, capture_output=True,
                           text=True, timeout=TIMEOUT)
    left, outcome = child.stdout.split() or ("0", child.stderr)
    if outcome != "reaped" and alive(int(left)):
        os.kill(int(left), signal.SIGKILL)
    assert outcome == "reaped"
