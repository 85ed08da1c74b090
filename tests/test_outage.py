"""The database killed mid-crawl and restarted: after flush-spill, 0 articles lost and 0 doubled.

A local HTTP server serves a listing and article pages in UNIAN's documented markup with
generated text (synthetic pages: this is a fault test, not a layout test), some broken on purpose.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import FILES, ROOT
from localsite import QuietHandler, local_site, write_local_spider
from newscrawl.store.server import EmbeddedServer

pytestmark = pytest.mark.crawl
ARTICLES = 30
WORDS = re.findall(r"[A-Za-z]+", (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8"))


def article_html(number: int, *, with_date: bool = True) -> bytes:
    rng = random.Random(number)
    paragraphs = "".join(f"<p>{' '.join(rng.choices(WORDS, k=60))}.</p>" for _ in range(4))
    time_line = f'<div class="article__info-item time">{number % 24:02d}:15, 18.02.23</div>' if with_date else ""
    return (
        f'<html lang="en"><head><title>Story {number}</title></head><body><div class="article">'
        f"<h1>Story number {number}</h1><div class=\"article__info\">{time_line}</div>"
        f"<p>Lead of story {number}.</p><div class=\"article-text\">{paragraphs}</div></div></body></html>"
    ).encode()


class ListedStoriesHandler(QuietHandler):
    """/list?page=1 links every article (one of them twice, with tracking parameters) and broken pages."""

    served = 0

    def do_GET(self) -> None:
        if self.path.startswith("/list"):
            links = [f'<a href="/news/story-{n}-{1000000 + n}.html">s</a>' for n in range(ARTICLES)]
            links.append(f'<a href="/news/story-3-{1000003}.html?utm_source=x">again</a>')
            links += ['<a href="/news/undated-1999001.html">u</a>', '<a href="/news/empty-1999002.html">e</a>']
            body = ("<html><body>" + "".join(links) + "</body></html>").encode()
        elif match := re.match(r"/news/story-(\d+)-\d+\.html", self.path):
            ListedStoriesHandler.served += 1
            body = article_html(int(match.group(1)))
        elif "undated" in self.path:
            body = article_html(999, with_date=False)
        elif "empty" in self.path:
            body = b"<html><body></body></html>"
        else:
            self.send_error(404)
            return
        self.reply(200, body)

    @classmethod
    def prepare(cls) -> None:
        cls.served = 0


site = local_site(ListedStoriesHandler)


def test_database_killed_mid_crawl_loses_and_doubles_nothing(tmp_path: Path, site: str) -> None:
    mongo_dir = tmp_path / "mongo"
    server = EmbeddedServer.start(mongo_dir)
    port = server.port
    spider = write_local_spider(tmp_path / "local_spider.py", name="local", base=site,
                                article_pattern=r"/news/[\w-]+-(?P<id>\d{7})\.html", listing_path="/list?page={page}")
    env = {
        **os.environ,
        "MONGO_URI": server.uri,
        "MONGO_DATABASE": "outage",
        "NEWSCRAWL_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
        "SCRAPY_SETTINGS_MODULE": "newscrawl.settings",
    }
    settings = {
        "NEWSCRAWL_LISTING_PAGES": 1, "DOWNLOAD_DELAY": 0.15, "CONCURRENT_REQUESTS": 1, "AUTOTHROTTLE_ENABLED": False,
        "NEWSCRAWL_MONGO_BATCH": 3, "NEWSCRAWL_MONGO_FLUSH_SECONDS": 0.3, "NEWSCRAWL_MONGO_RETRIES": 1,
        "NEWSCRAWL_MONGO_BACKOFF_SECONDS": 0.1, "NEWSCRAWL_MONGO_DOWN_SECONDS": 1, "NEWSCRAWL_MONGO_TIMEOUT_MS": 500,
        "NEWSCRAWL_DEDUPE_MIN_WORDS": 20, "LOG_FILE": str(tmp_path / "crawl.log"),
    }  # fmt: skip
    args = [sys.executable, "-m", "scrapy", "runspider", str(spider)]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    crawl = subprocess.Popen(args, cwd=ROOT, env=env)
    restarted: list[EmbeddedServer] = []
    try:
        deadline = time.monotonic() + 600  # a safety net: the loop waits on the site's count
        while ListedStoriesHandler.served < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ListedStoriesHandler.served >= 10, "the crawl did not get going"
        server.process.kill()  # SIGKILL: no goodbye
        server.process.wait()
        time.sleep(1.5)
        restarted.append(EmbeddedServer.start(mongo_dir, port))
        assert crawl.wait(timeout=300) == 1, "articles were spilled: the crawl says so with exit 1"
    finally:
        if crawl.poll() is None:
            crawl.kill()
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    try:
        assert "'newscrawl/mongo/spilled'" in log, "the outage should have spilled articles to disk"
        assert "articles spilled to" in log.strip().splitlines()[-1] and "flush-spill" in log.strip().splitlines()[-1]
        assert "'item_dropped_reasons_count/MissingRequiredField': 1" in log  # the undated page
        assert "'newscrawl/not_article': 1" in log  # the empty page
        assert "'item_dropped_reasons_count/SeenInRun': 1" in log  # the article linked twice
        spilled = list((tmp_path / "data/spill").glob("spill-*.jsonl"))
        flush = subprocess.run([sys.executable, "-m", "newscrawl", "flush-spill"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=600)
        assert flush.returncode == 0, flush.stderr
        assert not list((tmp_path / "data/spill").glob("spill-*.jsonl")), "spill files are removed once written"
        client: MongoClient = MongoClient(restarted[0].uri)
        keys = [doc["url_key"] for doc in client.outage.articles.find({}, {"url_key": 1})]
        client.close()
        assert len(keys) == len(set(keys)) == ARTICLES, f"{len(keys)} stored, {len(set(keys))} distinct"
        assert spilled
    finally:
        for running in restarted:
            running.stop()
