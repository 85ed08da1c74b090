"""Storage faults a months-long cron crawl meets: nothing lost, and the exit code says so.

Real servers only: nx-27017 (the session's, or one on a 2 MB tmpfs for the full disk), a local
HTTP site serving generated articles in UNIAN's documented markup (synthetic pages: these are fault
tests, not layout tests). Every count is read back from the database and the data directory:
stored + quarantined + spilled = parsed and valid.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from conftest import FILES, ROOT
from localsite import (
    Crawl,
    QuietHandler,
    crawl_env,
    local_site,
    run_crawl,
    stats_of,
    write_local_spider,
)
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.sink import ArticleSink, SinkOptions
from newscrawl.store.database import Storage
from newscrawl.store.files import read_spill, spill_files
from newscrawl.store.server import free_port

WORDS = re.findall(r"[A-Za-z]+", (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8"))
PER_LISTING = 100
POISON = 7  # the article whose JSON-LD headline is a lone surrogate
MARKER = "Zyxwvutsrq"  # a word of every body: an error line must never print it


def article_html(number: int, paragraphs: int = 4) -> bytes:
    """A generated article page; article ``POISON`` carries a lone surrogate in its JSON-LD."""
    rng = random.Random(number)
    text = "".join(f"<p>{MARKER} {' '.join(rng.choices(WORDS, k=60))}.</p>" for _ in range(paragraphs))
    headline = "\\ud800 Poisoned story" if number == POISON else f"Story number {number}"
    return (
        f'<html lang="en"><head><title>Story {number}</title>'
        f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{headline}"}}</script>'
        f'</head><body><div class="article"><h1>Story number {number}</h1><div class="article__info">'
        f'<div class="article__info-item time">{number % 24:02d}:15, 18.02.23</div></div>'
        f'<p>Lead of story {number}.</p><div class="article-text">{text}</div></div></body></html>'
    ).encode()


class GeneratedStories(QuietHandler):
    """``/list?page=N`` links ``PER_LISTING`` articles each; ``/news/story-<n>-<id>.html`` serves them."""

    paragraphs = 4

    def do_GET(self) -> None:
        if match := re.match(r"/list\?page=(\d+)", self.path):
            first = (int(match.group(1)) - 1) * PER_LISTING
            links = "".join(f'<a href="/news/story-{n}-{1000000 + n}.html">s</a>' for n in range(first, first + PER_LISTING))
            self.reply(200, f"<html><body>{links}</body></html>".encode())
        elif match := re.match(r"/news/story-(\d+)-\d+\.html", self.path):
            self.reply(200, article_html(int(match.group(1)), self.paragraphs))
        else:
            self.reply(404, b"not here")


site = local_site(GeneratedStories)
#: the settings of every crawl here
SETTINGS = {
    "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "NEWSCRAWL_SITEMAPS": False, "NEWSCRAWL_DEDUPE_MIN_WORDS": 20, "NEWSCRAWL_MONGO_BACKOFF_SECONDS": 0.05,
    "NEWSCRAWL_MONGO_TIMEOUT_MS": 1000, "TELNETCONSOLE_ENABLED": False,
}


def crawl(tmp_path: Path, site: str, env: dict[str, str], listings: int, **settings: Any) -> Crawl:
    """``scrapy runspider`` of a local spider over ``listings`` listing pages, under the network guard
    (nothing beyond loopback); its log is in ``crawl.log``."""
    spider = write_local_spider(tmp_path / "local_spider.py", name="local", base=site,
                                article_pattern=r"/news/[\w-]+-(?P<id>\d{7})\.html", listing_path="/list?page={page}")
    return run_crawl("scrapy", "runspider", str(spider), env={**env, "PYTHONPATH": str(ROOT)},
                     log=tmp_path / "crawl.log", settings={**SETTINGS, "NEWSCRAWL_LISTING_PAGES": listings, **settings},
                     guard=tmp_path / f"netguard-{uuid.uuid4().hex[:6]}.jsonl", expect=None, timeout=900)


def last_line(log: str) -> str:
    """The last line a crawl logged."""
    return log.strip().splitlines()[-1]


def quarantined(data: Path) -> list[dict[str, Any]]:
    """Every quarantine entry under a data directory."""
    return [json.loads(line) for path in sorted((data / "quarantine").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


# -- a poisoned document ----------------------------------------------------------------------------


def document(number: int, title: str | None = None) -> dict[str, Any]:
    return {"url": f"https://example.org/a/{number}", "url_key": f"example.org/a/{number}", "site": "example",
            "title": title or f"Article {number}", "body": f"Body of article {number}.", "content_hash": f"h{number}"}


def test_a_document_the_driver_cannot_encode_is_quarantined_and_the_rest_stored(storage: Storage, tmp_path: Path) -> None:
    options = SinkOptions(batch_size=1000, retries=1, backoff_seconds=0.01, spill_dir=tmp_path / "spill",
                          quarantine_dir=tmp_path / "quarantine")
    counts: dict[str, int] = {}
    sink = ArticleSink(MongoArticles(storage), options,
                       count=lambda name, value: counts.update({name: counts.get(name, 0) + value}))
    docs = [document(n, "\ud800 bad" if n == 13 else None) for n in range(40)]
    for doc in docs:
        sink.add(doc)
    sink.flush()  # the periodic flush's path: it must not raise, nor lose the batch
    assert storage.db.articles.count_documents({}) == 39
    assert storage.db.articles.count_documents({"url_key": "example.org/a/13"}) == 0
    entries = [json.loads(line) for path in (tmp_path / "quarantine").glob("*.jsonl") for line in path.open()]
    assert [(e["url"], e["document"]["title"]) for e in entries] == [("https://example.org/a/13", "\ud800 bad")]
    assert "UnicodeEncodeError" in entries[0]["reason"]
    assert counts["newscrawl/mongo/inserted"] == 39 and counts["newscrawl/mongo/quarantined"] == 1
    assert not spill_files(tmp_path / "spill")
    sink.close()


def test_a_spill_line_keeps_text_utf8_cannot_hold(tmp_path: Path) -> None:
    sink = ArticleSink(None, SinkOptions(spill_dir=tmp_path))
    sink.add(document(1, "\ud800 bad"))
    sink.flush()
    sink.close()
    (spilled,) = [doc for path in spill_files(tmp_path) for doc in read_spill(path)]
    assert spilled["title"] == "\ud800 bad"


@pytest.mark.crawl
def test_500_articles_with_one_poisoned_page_are_all_stored(tmp_path: Path, site: str, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri)
    result = crawl(tmp_path, site, env, listings=5, NEWSCRAWL_MONGO_BATCH=50, LOG_LEVEL="DEBUG")
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 0, last_line(log)
    ours = "\n".join(line for line in log.splitlines() if "[pymongo." not in line)  # the driver's own DEBUG dumps
    assert ours.count("Scraped from") == 500 and MARKER not in ours, "log lines name articles, never print them"
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        articles = client[env["MONGO_DATABASE"]].articles
        stored, keys = articles.count_documents({}), {doc["url_key"] for doc in articles.find({}, {"url_key": 1})}
        poisoned = articles.find_one({"source_id": f"{1000000 + POISON}"})
    finally:
        client.close()
    stats = stats_of(log)
    assert stats["newscrawl/articles_parsed"] == 500
    assert stored == len(keys) == stats["newscrawl/mongo/inserted"] == 500
    assert poisoned is not None and poisoned["title"] == "Poisoned story"  # the lone surrogate removed at the item
    assert "Traceback" not in log and "FAILED" not in log
    assert "ended: finished: 500 articles stored" in last_line(log)


def test_a_dropped_article_is_named_in_one_line_not_printed() -> None:
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from newscrawl.extract.items import Article
    from newscrawl.crawl.logformatter import ArticleLogFormatter

    article = Article(url="https://www.unian.info/x-1.html", site="unian", title="T" * 10_000_000, body=MARKER * 1000)
    spider = get_crawler().spidercls  # a spider is only asked for its drop log level
    line = ArticleLogFormatter().dropped(article, DropItem("duplicate", log_level="INFO"), None, spider)
    text = line["msg"] % line["args"]
    assert text == f'Dropped: duplicate <https://www.unian.info/x-1.html> "{"T" * 80}…"'



# -- the database out of reach --------------------------------------------------------------------


@pytest.mark.crawl
def test_an_unreachable_database_spills_everything_and_exits_1_saying_so(tmp_path: Path, site: str, mongo_uri: str) -> None:
    closed = f"mongodb://127.0.0.1:{free_port()}"
    env = crawl_env(tmp_path, closed)
    result = crawl(tmp_path, site, env, listings=1, NEWSCRAWL_MONGO_BATCH=50)
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 1
    spilled = [doc for path in spill_files(tmp_path / "data/spill") for doc in read_spill(path)]
    assert len(spilled) == PER_LISTING == stats_of(log)["newscrawl/mongo/spilled"]
    line = last_line(log)
    assert f"FAILED: nothing stored, {PER_LISTING} articles spilled to" in line and "flush-spill" in line
    runs = list((tmp_path / "data/runs").glob("*.json"))
    assert len(runs) == 1, "the run record waits on disk"
    # the database back: flush-spill writes the articles and loads the run record
    env["MONGO_URI"] = mongo_uri
    flush = subprocess.run([sys.executable, "-m", "newscrawl", "flush-spill"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert flush.returncode == 0, flush.stderr
    assert f"replayed {PER_LISTING} spilled articles, loaded 1 run records" in flush.stderr
    listed = subprocess.run([sys.executable, "-m", "newscrawl", "stats", "--runs"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0 and listed.stdout.startswith("local "), listed.stdout + listed.stderr
    assert "FAILED: nothing stored" in listed.stdout
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        assert client[env["MONGO_DATABASE"]].articles.count_documents({}) == PER_LISTING
    finally:
        client.close()


def test_stats_runs_says_when_there_are_none(tmp_path: Path, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri)
    listed = subprocess.run([sys.executable, "-m", "newscrawl", "stats", "--runs"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0 and listed.stdout == ""
    assert "no crawl runs recorded yet" in listed.stderr


def test_credentials_the_embedded_server_does_not_take_are_one_clear_line(tmp_path: Path, mongo_uri: str) -> None:
    with_password = mongo_uri.replace("mongodb://", "mongodb://reader:s3cret@")
    env = crawl_env(tmp_path, with_password)
    result = subprocess.run([sys.executable, "-m", "newscrawl", "stats"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: cannot use MongoDB at ")
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.crawl
def test_no_page_fetched_exits_1_with_one_line_per_failure(tmp_path: Path, mongo_uri: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request is refused
    env = crawl_env(tmp_path, mongo_uri)
    result = crawl(tmp_path, closed, env, listings=2, RETRY_TIMES=1, NEWSCRAWL_RETRY_BACKOFF_BASE=0.01)
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 1
    assert "Traceback" not in log
    assert "FAILED: no page could be fetched (DownloadConnectionRefusedError" in last_line(log)
    gave_up = [line for line in log.splitlines() if "Gave up retrying" in line]
    assert gave_up and all("Connection was refused" in line for line in gave_up)


# -- a full disk --------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (root only; skipped elsewhere)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.crawl
def test_a_full_disk_stops_the_crawl_and_the_next_run_stores_the_rest(tmp_path: Path, site: str, small_disk: Path) -> None:
    GeneratedStories.paragraphs = 12  # ~5 KB of text per article: 300 articles do not fit in 2 MB
    env = crawl_env(tmp_path, "")
    env["NEWSCRAWL_DATA_DIR"] = str(small_disk / "data")
    env.pop("MONGO_URI")  # the embedded server, its database on the small disk
    try:
        first = crawl(tmp_path, site, env, listings=3, NEWSCRAWL_MONGO_BATCH=20)
        log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
        assert first.returncode == 1
        stats = stats_of(log)
        assert stats["finish_reason"] == "storage_full"
        assert "FAILED: closed (storage_full): the database has no room left to write" in last_line(log)
        assert MARKER not in log, "an error line printed an article's text"
        assert len(log) < 200_000
        (tmp_path / "crawl.log").rename(tmp_path / "first.log")
        # the disk grows (the operator frees space); the next run stores everything that was not
        shutil.copytree(small_disk / "data", tmp_path / "data", ignore=shutil.ignore_patterns("*.pid", "*.log"))
        env["NEWSCRAWL_DATA_DIR"] = str(tmp_path / "data")
        second = crawl(tmp_path, site, env, listings=3, NEWSCRAWL_MONGO_BATCH=20)
        log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
        assert second.returncode == 0, last_line(log)
    finally:
        GeneratedStories.paragraphs = 4
    storage_dir = tmp_path / "data/mongo"
    from newscrawl.store.server import EmbeddedServer

    server = EmbeddedServer.start(storage_dir)
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(server.uri)
        articles = client[env.get("MONGO_DATABASE", "newscrawl")].articles
        keys = [doc["url_key"] for doc in articles.find({}, {"url_key": 1})]
        client.close()
    finally:
        server.stop()
    assert len(keys) == len(set(keys)) == 3 * PER_LISTING - len(quarantined(tmp_path / "data"))
    # the first run stopped short; what it parsed but could not store or spill was fetched again
    assert stats["newscrawl/articles_parsed"] < 3 * PER_LISTING and stats["newscrawl/mongo/unsaved"] > 0
