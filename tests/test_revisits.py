"""Revisits end to end: a local site changes its stored articles between runs without telling any
listing, and ``python -m newscrawl run`` catches every edit, keeps it and shows it (``edits``).

Real servers on loopback: the session's nx-27017 (or MongoDB), Redis (db 15) for the shared crawl,
and a local site in UNIAN's documented markup whose pages carry what real pages carry around an
article: an ad slot and a banner (scripts, an iframe), view and comment counters, a block of
related stories. Generated pages (synthetic content): these are crawl tests of what changes
between two versions, not layout tests (tests/test_edits.py compares versions of a real page).
The site answers conditional requests: its ETag is the hash of the page, a match is a 304.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from conftest import ROOT
from localsite import QuietHandler, local_project, local_site, run_crawl
from newscrawl.store.revisits import MIN_CAP, epoch
from variations import WORDS

pytestmark = pytest.mark.crawl
REDIS_URL = os.getenv("NEWSCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PER_LISTING = 50
FIRST_ID = 4_000_000
TIMEOUT = 900
#: the settings of every run here
RUN_SETTINGS = {"AUTOTHROTTLE_ENABLED": False, "NEWSCRAWL_MONGO_FLUSH_SECONDS": 0.2, "NEWSCRAWL_DEDUPE_MIN_WORDS": 20}


def story_id(number: int) -> int:
    return FIRST_ID + number


def paragraphs(number: int) -> list[str]:
    """The article's four paragraphs as first published; the third holds a figure."""
    rng = random.Random(number)
    texts = [" ".join(rng.choices(WORDS, k=40)) + "." for _ in range(4)]
    texts[2] = f"The council set aside {1000 + number} thousand hryvnias for it. " + texts[2]
    return texts


class ChangingStories(QuietHandler):
    """``/list?page=N`` links ``PER_LISTING`` articles each (``articles`` in all); each article
    page at ``/news/story-<n>-<id>.html``. Between runs a test changes the class attributes: a new
    ``version`` gives every page new ads, counters and related stories (except the ``steady``
    ones, whose pages stay byte for byte the same); the edits, removals (410), moves (301 to a new
    slug), markup-only rewrites and robots.txt rules apply from then on."""

    lock = threading.Lock()
    served: Counter[int] = Counter()  # article id -> article pages served (200 or 304)
    articles = 100
    version = 1
    steady: frozenset[int] = frozenset()
    titles: dict[int, str] = {}
    first_paragraphs: dict[int, str] = {}
    inserted: dict[int, str] = {}  # a sentence inserted in the second paragraph
    numbers: dict[int, int] = {}  # the figure of the third paragraph, changed
    cut: frozenset[int] = frozenset()  # the last paragraph removed
    restyled: frozenset[int] = frozenset()  # the same text in other markup
    gone: frozenset[int] = frozenset()
    moved: frozenset[int] = frozenset()  # the old address redirects to a new slug
    disallowed: frozenset[int] = frozenset()

    @classmethod
    def reset(cls, articles: int) -> None:
        cls.served, cls.articles, cls.version = Counter(), articles, 1
        cls.steady = cls.cut = cls.restyled = cls.gone = cls.moved = cls.disallowed = frozenset()
        cls.titles, cls.first_paragraphs, cls.inserted, cls.numbers = {}, {}, {}, {}

    @classmethod
    def prepare(cls) -> None:
        cls.reset(100)

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            rules = "".join(f"Disallow: {path(n)}\n" for n in sorted(ChangingStories.disallowed))
            self.reply(200, f"User-agent: *\n{rules}".encode(), "text/plain")
        elif match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            first = (int(match.group(1)) - 1) * PER_LISTING
            listed = range(first, min(first + PER_LISTING, ChangingStories.articles))
            links = "".join(f'<a href="{path(n)}">s</a>' for n in listed)
            self.reply(200, f"<html><body>{links}</body></html>".encode())
        elif match := re.fullmatch(r"/news/story-(\d+)-(\d{7})\.html", self.path):
            self.article(int(match.group(2)) - FIRST_ID, moved_address=int(match.group(1)) >= 10_000)
        else:
            self.reply(404, b"not here")

    def article(self, number: int, moved_address: bool) -> None:
        if not 0 <= number < ChangingStories.articles:
            self.reply(404, b"not here")
            return
        if number in ChangingStories.moved and not moved_address:
            self.send_response(301)
            self.send_header("Location", path(number, moved=True))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with ChangingStories.lock:
            ChangingStories.served[story_id(number)] += 1
        if number in ChangingStories.gone:
            self.reply(410, b"<html><body><p>This article was removed.</p></body></html>")
            return
        body = page(number)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.reply(200, body, ETag=etag)


def path(number: int, *, moved: bool = False) -> str:
    return f"/news/story-{10_000 + number if moved else number}-{story_id(number)}.html"


def page(number: int) -> bytes:
    """The article page as the site serves it now."""
    texts = paragraphs(number)
    title = ChangingStories.titles.get(number, f"Story {number}: the regional council approves its budget")
    texts[0] = ChangingStories.first_paragraphs.get(number, texts[0])
    if number in ChangingStories.inserted:
        first, _, rest = texts[1].partition(" ")
        texts[1] = f"{first} {ChangingStories.inserted[number]} {rest}"
    if number in ChangingStories.numbers:
        texts[2] = texts[2].replace(f"{1000 + number} thousand", f"{ChangingStories.numbers[number]} thousand")
    if number in ChangingStories.cut:
        texts = texts[:3]
    furniture = random.Random(f"{number}/{1 if number in ChangingStories.steady else ChangingStories.version}")
    slot, views, comments = furniture.randrange(10**6), furniture.randrange(10**5), furniture.randrange(500)
    related = "".join(f'<a href="{path(n)}">Story {n}: the regional council approves its budget</a>'
                      for n in furniture.sample(range(ChangingStories.articles), 3))
    ad = f'<div class="ad-slot"><script>loadAd("slot-{slot}")</script><ins class="adsbygoogle" data-ad-slot="{slot}"></ins></div>'
    if number in ChangingStories.restyled:  # the same words: spans, a non-breaking space, one paragraph split in two
        words = texts[3].split()
        body = (f'<p><span class="lead-in">{texts[0]}</span></p>{ad}<p>{texts[1].replace(" ", "&nbsp;", 1)}</p>'
                f'<div class="read-also-slider">{related}</div><p><b>{texts[2]}</b></p>'
                f'<p>{" ".join(words[:20])}</p>\n<p>{" ".join(words[20:])}</p>')
    else:
        body = (f"<p>{texts[0]}</p>{ad}<p>{texts[1]}</p><div class=\"read-also-slider\">{related}</div>"
                + "".join(f"<p>{text}</p>" for text in texts[2:]))
    return (f'<html lang="en"><head><title>{title}</title><script>var adSlot = {slot};</script></head><body>'
            f'<div class="banner"><iframe src="/ads/{slot}"></iframe></div><div class="article"><h1>{title}</h1>'
            f'<div class="article__info"><div class="article__info-item time">{number % 24:02d}:20, 18.02.23</div>'
            f'<div class="article__info-item views">{views}</div><div class="article__info-item comments">{comments}</div>'
            f'</div><div class="article-text">{body}</div></div>'
            f'<aside class="popular">Most read: {views} views</aside></body></html>').encode()


site = local_site(ChangingStories)


def project(tmp_path: Path, site: str, mongo_uri: str, articles: int, **extra: str) -> tuple[str, dict[str, str]]:
    ChangingStories.reset(articles)
    return local_project(tmp_path, site, mongo_uri, "revisits", NEWSCRAWL_LISTING_PAGES=str(-(-articles // PER_LISTING)),
                         NEWSCRAWL_SITEMAPS="0", DOWNLOAD_DELAY="0", CONCURRENT_REQUESTS="8", **extra)


def newscrawl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newscrawl", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def crawl(name: str, env: dict[str, str], *more: str, **extra_env: str) -> None:
    """One ``newscrawl run`` of the local spider; it must end well."""
    run_crawl("newscrawl", "run", name, *more, env={**env, **extra_env}, settings=RUN_SETTINGS, timeout=TIMEOUT)


def database(env: dict[str, str]) -> Any:
    client: MongoClient[dict[str, Any]] = MongoClient(env["MONGO_URI"], tz_aware=True)
    return client, client[env["MONGO_DATABASE"]]


def last_run(db: Any, name: str) -> dict[str, Any]:
    return db.crawl_runs.find_one({"spider": name}, sort=[("started_at", -1)])


def edits(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = newscrawl(env, "edits", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def by_id(db: Any) -> dict[int, dict[str, Any]]:
    """The stored articles by their number on the site."""
    return {int(doc["source_id"]) - FIRST_ID: doc for doc in db.articles.find()}


def test_silent_edits_removals_and_moves_are_caught_and_nothing_else(tmp_path: Path, site: str, mongo_uri: str) -> None:
    name, env = project(tmp_path, site, mongo_uri, 100)
    crawl(name, env)
    client, db = database(env)
    try:
        stored = by_id(db)
        assert len(stored) == 100 and db.article_revisions.count_documents({}) == 0
        first = stored[0]
        assert first["http"]["etag"].startswith('"') and first.get("revision", 1) == 1
        assert first["next_revisit_at"] == epoch(first["first_seen_at"]) + 3600  # the first age of the default policy

        ChangingStories.version = 2  # every page: new ads, counters, related stories; and these changes
        ChangingStories.steady = frozenset(range(90, 100))
        ChangingStories.titles = {1: "Story 1: the regional council approves its budget, with corrections"}
        ChangingStories.inserted = {2: "Officials declined to comment on the vote."}
        ChangingStories.numbers = {3: 1700}
        ChangingStories.cut = frozenset({4})
        ChangingStories.gone = frozenset({5})
        ChangingStories.moved = frozenset({6, 7})
        ChangingStories.titles[7] = "Story 7: the council approves its budget after a recount"
        ChangingStories.restyled = frozenset({8})
        ChangingStories.disallowed = frozenset({9})
        crawl(name, env, NEWSCRAWL_REVISIT_AGES="0s")

        run = last_run(db, name)
        assert run["revisits"] == {"due": 100, "fetched": 88, "not_modified": 10, "removed": 1}
        assert run["items"]["stored"] == 0 and run["items"]["updated"] == 5
        assert ChangingStories.served[story_id(9)] == 1  # robots.txt: not fetched again, still due
        assert all(ChangingStories.served[story_id(n)] == 2 for n in range(100) if n != 9)
        after = by_id(db)
        assert len(after) == 100  # the moved stories kept their articles
        revisions = {int(doc["url_key"].rsplit("-", 1)[1][:7]) - FIRST_ID: doc for doc in db.article_revisions.find()}
        assert {n: doc["changed_fields"] for n, doc in revisions.items()} == {
            1: ["title"], 2: ["body"], 3: ["body"], 4: ["body"], 7: ["title"]}
        assert all(after[n]["revision"] == 2 for n in revisions)
        assert all(after[n].get("revision", 1) == 1 for n in range(100) if n not in revisions)
        assert after[7]["url"].endswith(path(7, moved=True)) and after[7]["_id"] == stored[7]["_id"]
        assert after[6]["url"] == stored[6]["url"] and after[6].get("revision", 1) == 1  # moved, unchanged: as it was
        assert after[5]["removed_status"] == 410 and isinstance(after[5]["removed_at"], datetime)
        assert "removed_at" not in after[4] and "next_revisit_at" not in after[5]
        # a run with "0s" leaves the schedules as they were
        assert all(after[n]["next_revisit_at"] == stored[n]["next_revisit_at"] for n in range(100) if n != 5)
        assert after[90]["http"] == stored[90]["http"] and after[0]["http"] != stored[0]["http"]

        shown = edits(env)
        assert sorted((row["title"][:9], row["changed_fields"]) for row in shown) == [
            ("Story 1: ", ["title"]), ("Story 2: ", ["body"]), ("Story 3: ", ["body"]), ("Story 4: ", ["body"]),
            ("Story 7: ", ["title"])]
        diffs = {row["title"][:7]: row["diff"] for row in shown}
        assert diffs["Story 1"] == {"title": [["=", "Story 1: the regional council approves its"],
                                              ["-", "budget"], ["+", "budget, with corrections"]]}
        assert ["+", "Officials declined to comment on the vote."] in diffs["Story 2"]["body"]
        assert [["-", "1003"], ["+", "1700"]] == [op for op in diffs["Story 3"]["body"] if op[0] != "="]
        assert [op[0] for op in diffs["Story 4"]["body"]] == ["=", "-"]
        assert all(row["revision"] == 2 and row["seen_at"] for row in shown)
        assert sorted(row["url"] for row in edits(env, "--field", "title")) == sorted(after[n]["url"] for n in (1, 7))
        (removed,) = edits(env, "--removed")
        assert (removed["url"], removed["status"], removed["changed_fields"]) == (stored[5]["url"], 410, [])

        # the default policy: nothing is due yet, and nothing is fetched but the address the listing
        # still gives story 7 (not its article's now): fetched, redirected, and dropped unchanged, as
        # a copy's address is
        crawl(name, env)
        assert last_run(db, name)["revisits"] == {"due": 0}
        assert sum(ChangingStories.served.values()) == 199 + 1 and db.article_revisions.count_documents({}) == 5

        # two hours later for three articles: the 1h revisit is due (10 the most overdue), the next is at 6h
        for n in (10, 11, 12):
            doc = db.articles.find_one({"_id": after[n]["_id"]})
            doc["first_seen_at"] -= timedelta(hours=2, minutes=12 - n)
            doc["next_revisit_at"] = epoch(doc["first_seen_at"]) + 3600
            db.articles.replace_one({"_id": doc["_id"]}, doc)
        crawl(name, env, "-s", "NEWSCRAWL_REVISIT_MAX_PER_RUN=2")
        assert last_run(db, name)["revisits"] == {"due": 2, "left": 1, "not_modified": 2}  # the pages did not change
        assert [ChangingStories.served[story_id(n)] for n in (10, 11, 12)] == [3, 3, 2]  # the most overdue first
        crawl(name, env)
        assert last_run(db, name)["revisits"] == {"due": 1, "not_modified": 1}
        for n in (10, 11, 12):
            doc = db.articles.find_one({"_id": after[n]["_id"]})
            assert doc["next_revisit_at"] == epoch(doc["first_seen_at"]) + 6 * 3600 and doc.get("revision", 1) == 1
    finally:
        client.close()


def test_a_shared_crawl_revisits_each_article_once(tmp_path: Path, site: str, mongo_uri: str) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    name, env = project(tmp_path, site, mongo_uri, 60, NEWSCRAWL_REDIS_URL=REDIS_URL, NEWSCRAWL_REDIS_IDLE_SECONDS="1",
                        NEWSCRAWL_BLOOM_CAPACITY="100000")
    crawl(name, env, "--workers", "2")
    ChangingStories.version = 2
    ChangingStories.titles = {20: "Story 20: the regional council rejects its budget"}
    ChangingStories.first_paragraphs = {21: "The vote was postponed until next week, the council said."}
    ChangingStories.gone = frozenset({22})
    crawl(name, env, "--workers", "2", NEWSCRAWL_REVISIT_AGES="0s")
    client, db = database(env)
    try:
        assert Counter(ChangingStories.served.values()) == Counter({2: 60})  # each page once per run, whichever worker
        workers = list(db.crawl_runs.find({"spider": name}).sort("started_at", -1).limit(2))
        assert sum(run["revisits"].get("due", 0) for run in workers) == 120  # both chose all 60 ...
        fetched = [sum(run["revisits"].get(kind, 0) for run in workers) for kind in ("fetched", "removed")]
        assert fetched == [59, 1]  # ... and each was fetched by one of them
        assert sorted((row["title"][:10], row["changed_fields"]) for row in edits(env)) == [
            ("Story 20: ", ["title"]), ("Story 21: ", ["lead", "body"])]
        assert [row["status"] for row in edits(env, "--removed")] == [410]
    finally:
        client.close()


def test_done_when_500_articles_20_edits_5_removals_and_nothing_else(tmp_path: Path, site: str, mongo_uri: str) -> None:
    """The issue's measure: 500 stored articles; silently 10 titles and 10 first paragraphs edited,
    5 articles gone (410), every page's ads and counters changed; one run with
    ``NEWSCRAWL_REVISIT_AGES=0s`` finds exactly the 20 edits and the 5 removals."""
    assert MIN_CAP >= 500  # the default cap lets one run revisit them all
    name, env = project(tmp_path, site, mongo_uri, 500)
    crawl(name, env)
    rng = random.Random(26)
    titled, led, gone = rng.sample(range(500), 10), [], []
    rest = [n for n in range(500) if n not in titled]
    led, rest = rest[:10], rest[10:]
    gone = rest[:5]
    ChangingStories.version = 2
    ChangingStories.titles = {n: f"Story {n}: the regional council approves its budget (corrected)" for n in titled}
    ChangingStories.first_paragraphs = {n: f"Corrected: the council met on Tuesday, not Monday, in session {n}."
                                        for n in led}
    ChangingStories.gone = frozenset(gone)
    crawl(name, env, NEWSCRAWL_REVISIT_AGES="0s")

    found = edits(env)
    removed = edits(env, "--removed")
    client, db = database(env)
    try:
        numbers = {doc["url"]: int(doc["source_id"]) - FIRST_ID for doc in db.articles.find()}
        assert len(numbers) == 500
        assert sorted((numbers[row["url"]], tuple(row["changed_fields"])) for row in found) == sorted(
            [(n, ("title",)) for n in titled] + [(n, ("lead", "body")) for n in led])
        assert sorted(numbers[row["url"]] for row in removed) == sorted(gone)
        assert db.article_revisions.count_documents({}) == 20
        untouched = [doc for doc in db.articles.find() if numbers[doc["url"]] not in {*titled, *led}]
        assert len(untouched) == 480 and all(doc.get("revision", 1) == 1 for doc in untouched)
        assert sum("removed_at" in doc for doc in untouched) == 5
    finally:
        client.close()
    print(f"\ndone-when: {len(found)} edits, {len(removed)} removals, 475 others without a revision")
