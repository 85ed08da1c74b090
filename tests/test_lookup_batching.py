"""Database commands per stored article in a real crawl, counted with pymongo command monitoring.

A local site in UNIAN's markup (listing pages of 100 links, generated article pages that are all
different stories, plus a few copies) is crawled by ``scrapy runspider`` through every pipeline
and the incremental middlewares into the session's database server. The crawler process counts
every command it sends (``tests/mongocount``); dedupe and incremental lookups are batched, so the
count per stored article stays well under one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import ROOT
from localsite import QuietHandler, crawl_env, local_site, run_crawl, write_local_spider
from variations import article_page

MONGOCOUNT = Path(__file__).resolve().parent / "mongocount"
PER_LISTING = 100
LISTINGS = 4
#: listing entries that link a story already listed, under another address (its page names the first)
COPIES = 20


class StoryListingsHandler(QuietHandler):
    """``/list?page=N``: 100 story links (the last page also links copies of earlier stories); the
    stories' generated pages."""

    protocol_version = "HTTP/1.1"
    cache: dict[int, bytes] = {}

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/list\?page=(\d+)", self.path):
            page = int(match.group(1))
            first = (page - 1) * PER_LISTING
            links = [f"/world/generated-story-number-{n}-{13000000 + n}.html" for n in range(first, first + PER_LISTING)]
            if page == LISTINGS:
                links += [f"/world/generated-story-number-{n}-{23000000 + n}.html" for n in range(COPIES)]
            body = "".join(f'<a href="{link}">story</a>' for link in links)
            self.reply(200, f"<html><body>{body}</body></html>".encode())
        elif match := re.fullmatch(r"/world/generated-story-number-(\d+)-\d+\.html", self.path):
            number = int(match.group(1))
            cache = StoryListingsHandler.cache
            self.reply(200, cache.get(number) or cache.setdefault(number, article_page(number).encode()))
        else:
            self.reply(404, b"not here")


#: the site, served for the module's tests
site = local_site(StoryListingsHandler, scope="module")
#: the settings of every crawl here
SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
            "NEWSCRAWL_LISTING_PAGES": LISTINGS, "NEWSCRAWL_SITEMAPS": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16}


def counting(env: dict[str, str], record: Path) -> dict[str, str]:
    """``env`` for a crawler process that counts every command it sends to MongoDB, in ``record``."""
    return {**env, "PYTHONPATH": f"{MONGOCOUNT}:{ROOT}", "MONGOCOUNT_RECORD": str(record),
            "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", "NEWSCRAWL_PLAYWRIGHT": "0"}


@pytest.mark.crawl
def test_a_crawl_costs_under_half_a_command_per_stored_article(tmp_path: Path, site: str, mongo_uri: str) -> None:
    spider = write_local_spider(tmp_path / "counted_spider.py", name="counted", base=site,
                                article_pattern=r"/world/generated-story-number-\d+-(?P<id>\d+)\.html$",
                                listing_path="/list?page={page}")
    env = crawl_env(tmp_path, mongo_uri, "count")
    record = tmp_path / "first.commands.json"
    stats = run_crawl("scrapy", "runspider", str(spider), env=counting(env, record), log=tmp_path / "first.log",
                      settings=SETTINGS, timeout=900).stats
    counts = json.loads(record.read_text(encoding="utf-8"))
    stored = stats.get("newscrawl/mongo/inserted", 0)
    print("first run:", stored, "stored,", counts)
    assert stored == LISTINGS * PER_LISTING
    assert stats["item_dropped_reasons_count/SameContent"] == COPIES  # fetched, told apart by the dedupe pipeline
    assert counts["total"] / stored <= 0.5, counts

    # every listed story is stored: only the copies' addresses are fetched again, and dropped (as
    # aliases, or by their text when their original was not written yet as they were met)
    record = tmp_path / "second.commands.json"
    again = run_crawl("scrapy", "runspider", str(spider), env=counting(env, record), log=tmp_path / "second.log",
                      settings=SETTINGS, timeout=900).stats
    counts = json.loads(record.read_text(encoding="utf-8"))
    print("second run:", counts)
    assert again.get("newscrawl/mongo/inserted", 0) == 0
    assert again["newscrawl/incremental/skipped_stored"] == LISTINGS * PER_LISTING
    assert again["item_dropped_count"] == COPIES
    assert counts["total"] <= again["newscrawl/listing_links"] / 10, counts  # one lookup per page of links
    client: MongoClient = MongoClient(mongo_uri)
    try:
        assert client[env["MONGO_DATABASE"]].articles.count_documents({}) == LISTINGS * PER_LISTING
    finally:
        client.close()
