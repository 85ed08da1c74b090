"""Three scheduled runs of ``scrapy crawl generic`` against a local site: block pages, 429 with
Retry-After, conditional feed requests (ETag → 304), and a story re-fetched because the feed says it
changed (stored as an update with a revision).

The article pages are real captures (tests/files/regional); the block page, home page and feed are
small synthetic documents.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pymongo import MongoClient
from scrapy import Request

from conftest import FILES
from localsite import QuietHandler, crawl_env, local_site, run_crawl
from newscrawl.extract.identity import url_key
from newscrawl.store.database import Storage
from newscrawl.store.keys import KeyIndex

PRAVDA = (FILES / "regional/pravda_ru_2026-01-08.html").read_bytes()
UNN = (FILES / "regional/unn_ru_2020-12-03.html").read_bytes()
CAPTCHA = (b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1>"
           b"<p>Please complete the captcha to continue.</p></body></html>")
PATHS = {"pravda": "/rus/articles/2026/01/08/8015225/", "captcha": "/news/blocked-story-1000002.html",
         "unn": "/ru/news/1906059-parlament-moldovi"}


class FeedAndBlocksHandler(QuietHandler):
    """A feed with an ETag (``version`` changes it), a captcha page, a 429-then-OK page."""

    version = 1
    hits: Counter[str] = Counter()

    @classmethod
    def prepare(cls) -> None:
        cls.version, cls.hits = 1, Counter()

    @classmethod
    def opened(cls, base: str) -> str:
        """The home page's URL."""
        return base + "/"

    def do_GET(self) -> None:
        FeedAndBlocksHandler.hits[self.path] += 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        etag = f'"feed-v{FeedAndBlocksHandler.version}"'
        if self.path == "/":
            self.reply(200, b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
                            b"<body>home</body></html>")
        elif self.path == "/rss.xml":
            if self.headers.get("If-None-Match") == etag:
                self.reply(304, b"", ETag=etag)
                return
            changed = ("Thu, 08 Jan 2026 18:30:00 +0200" if FeedAndBlocksHandler.version > 1
                       else "Thu, 08 Jan 2026 17:46:00 +0200")
            items = "".join(f"<item><title>{name}</title><link>{base}{path}</link><pubDate>"
                            f"{changed if name == 'pravda' else 'Thu, 03 Dec 2020 18:47:00 +0200'}</pubDate></item>"
                            for name, path in PATHS.items())
            self.reply(200, f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
                       "application/rss+xml", ETag=etag)
        elif self.path == PATHS["pravda"]:
            body = PRAVDA if FeedAndBlocksHandler.version == 1 else PRAVDA.replace(
                "157 миллионов гривен".encode(), "158 миллионов гривен".encode()).replace(
                b'"dateModified": "2026-01-08T17:46:00+02:00"', b'"dateModified": "2026-01-08T18:30:00+02:00"')
            self.reply(200, body)
        elif self.path == PATHS["captcha"]:
            self.reply(200, CAPTCHA)
        elif self.path == PATHS["unn"]:
            if FeedAndBlocksHandler.hits[self.path] == 1:
                self.reply(429, b"slow down", Retry_After="1")
            else:
                self.reply(200, UNN)
        else:
            self.reply(404, b"not here")


#: the site, served for the module's tests: its feed changes from one test to the next
site = local_site(FeedAndBlocksHandler, scope="module")
#: how every crawl here runs: no politeness pauses, short retries, no sitemaps
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "NEWSCRAWL_RETRY_BACKOFF_BASE": 0.2, "RETRY_TIMES": 2,
        "NEWSCRAWL_SITEMAPS": 0}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> dict[str, str]:
    return crawl_env(tmp_path_factory.mktemp("incremental"), mongo_uri, "incr")


@pytest.mark.crawl
def test_three_runs(tmp_path: Path, site: str, env: dict[str, str]) -> None:
    client: MongoClient = MongoClient(env["MONGO_URI"])
    db = client[env["MONGO_DATABASE"]]
    try:
        first = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}", env=env,
                          log=tmp_path / "1.log", settings=FAST).stats
        # the captcha page is retried, counted and never stored; the 429 is retried after Retry-After
        assert first["newscrawl/blocked/captcha"] == 3  # first try + RETRY_TIMES
        assert first["newscrawl/blocked/http_429"] == 1
        assert first["newscrawl/mongo/inserted"] == 2
        assert FeedAndBlocksHandler.hits[PATHS["unn"]] == 2
        titles = sorted(doc["title"][:20] for doc in db.articles.find({}, {"title": 1}))
        assert titles == ["157 миллионов за без", "Парламент Молдовы, \""]

        second = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}", env=env,
                           log=tmp_path / "2.log", settings=FAST).stats
        assert second["newscrawl/feeds_not_modified"] == 1  # If-None-Match answered 304
        assert "newscrawl/article_responses" not in second and "newscrawl/mongo/inserted" not in second
        assert FeedAndBlocksHandler.hits[PATHS["pravda"]] == 1

        FeedAndBlocksHandler.version = 2  # the feed changes; it lists the Pravda story with a later time
        third = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}", env=env,
                          log=tmp_path / "3.log", settings=FAST).stats
        assert third["newscrawl/incremental/refetch_modified"] == 1
        assert third["newscrawl/incremental/skipped_stored"] == 1  # UNN: stored and unchanged
        assert third["newscrawl/mongo/updated"] == 1
        assert FeedAndBlocksHandler.hits[PATHS["pravda"]] == 2 and FeedAndBlocksHandler.hits[PATHS["unn"]] == 2
        story = db.articles.find_one({"title": {"$regex": "^157 миллионов"}})
        assert story["revision"] == 2 and "158 миллионов гривен" in story["body"]
        old = db.article_revisions.find_one({"article_id": {"$in": [story["_id"]]}})
        assert old["revision"] == 1 and "157 миллионов гривен" in old["previous"]["body"]
        assert "body" in old["changed_fields"] and "modified_at" in old["changed_fields"]
        runs = list(db.crawl_runs.find({"spider": "generic"}))
        assert len(runs) == 3 and all(run["blocked"] <= 4 for run in runs)
    finally:
        client.close()
    assert json.dumps(first)  # the stats dump parsed


def test_stored_articles_are_found_by_canonical_or_fetched_address(storage: Storage) -> None:
    """Articles an earlier version stored (no key collection yet) are keyed when storage opens,
    then every link of a page is asked about in one lookup, by canonical or fetched address."""
    canonical = "https://www.unian.info/world/story-12000001.html"
    fetched_only = "https://www.unian.info/world/story-12000002.html?utm_source=rss"
    published = datetime(2023, 2, 18, 4, 24, tzinfo=timezone.utc)
    storage.db.articles.insert_many([
        {"url_key": url_key(canonical), "fetched_key": url_key(canonical + "?amp"), "published_at": published},
        {"url_key": url_key("https://www.unian.info/other-12000002.html"), "fetched_key": url_key(fetched_only),
         "published_at": published, "modified_at": published + timedelta(hours=1)},
    ])
    KeyIndex(storage.db).ensure()
    asked = [Request(canonical), Request(fetched_only), Request("https://www.unian.info/world/new-12000003.html")]
    answer = KeyIndex(storage.db).stored_versions(url_key(request.url) for request in asked)
    assert answer == {url_key(canonical): published, url_key(fetched_only): published + timedelta(hours=1)}


@pytest.mark.crawl
def test_feed_validators_are_kept_only_after_a_crawl_that_finished(tmp_path: Path, site: str, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri, "validators")
    client: MongoClient = MongoClient(mongo_uri)
    state = client[env["MONGO_DATABASE"]].feed_state
    try:
        # stopped after its first article, the feed's other links unfetched: the next run must read it in full
        stopped = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}", env=env, log=tmp_path / "1.log",
                            settings={**FAST, "CLOSESPIDER_ITEMCOUNT": 1}).stats
        assert stopped["item_scraped_count"] >= 1
        assert state.count_documents({}) == 0
        run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}", env=env, log=tmp_path / "2.log", settings=FAST)
        assert [doc["_id"] for doc in state.find()] == [f"{site}rss.xml"]
    finally:
        client.close()
