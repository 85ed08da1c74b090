"""Each item pipeline on its own: identity, dedupe and store, over articles parsed from the saved
pages of tests/sites and a real database (embedded nx-27017 unless MONGO_URI is set)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from localsite import crawl_env, serving, stats_of
from newscrawl.extract.identity import fingerprint, url_key
from newscrawl.extract.items import Article
from newscrawl.ops.site_fixtures import Fixture, discover
from newscrawl.sites import parser_for_url
from newscrawl.store.database import Storage
from newscrawl.store.protocol import STORAGE_EXTENSION
from newscrawl.store.service import StorageService
from pipelines.dedupe import DedupePipeline, SameContent, SeenInRun, UnchangedArticle
from pipelines.identity import IdentityPipeline
from pipelines.store import StorePipeline
from test_storage_faults import PER_LISTING, GeneratedStories, crawl, last_line

ARTICLE_FIXTURES = [fixture for fixture in discover() if "not_an_article" not in fixture.data["expected"]]
IDENTITY = ("url_key", "fetched_key", "content_hash", "simhash")


def parsed(fixture: Fixture) -> Article:
    """The article the site parser reads from a saved page (no pipeline has touched it)."""
    return parser_for_url(fixture.url).parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)


def articles() -> list[Article]:
    return [parsed(fixture) for fixture in ARTICLE_FIXTURES]


def crawler_over(storage: Storage, **settings: Any) -> Crawler:
    """A crawler whose storage service writes to ``storage``'s database."""
    return get_crawler(settings_dict={"MONGO_URI": storage.uri, "MONGO_DATABASE": storage.db.name,
                                      "NEWSCRAWL_MONGO_BATCH": 100, "EXTENSIONS": {STORAGE_EXTENSION: 0}, **settings})


def close_storage(crawler: Crawler) -> None:
    """Write what the crawl's storage holds and close it."""
    storage = crawler.get_extension(StorageService)
    assert storage is not None
    storage.close()


def store_alone(crawler: Crawler, items: list[Article]) -> None:
    """Pass ``items`` through the store pipeline only, then close the crawl's storage."""
    pipeline = StorePipeline.from_crawler(crawler)

    async def feed() -> None:
        for item in items:
            await pipeline.process_item(item)

    try:
        asyncio.run(feed())
        pipeline.close_spider()
    finally:
        close_storage(crawler)


def dedupe(pipeline: DedupePipeline, item: Article) -> Article:
    return asyncio.run(pipeline.process_item(item))


@pytest.fixture
def crawler(storage: Storage) -> Iterator[Crawler]:
    current = crawler_over(storage)
    yield current
    close_storage(current)


def test_every_saved_page_gives_articles_to_check() -> None:
    assert len(ARTICLE_FIXTURES) >= 8
    unset = all(getattr(item, name) is None for item in articles() for name in IDENTITY)
    assert unset, "the parser sets no identity: the pipelines do"


@pytest.mark.parametrize("fixture", ARTICLE_FIXTURES, ids=lambda f: f.json_path.stem)
def test_identity_alone_sets_the_identity(fixture: Fixture) -> None:
    item = parsed(fixture)
    IdentityPipeline.from_crawler(get_crawler(settings_dict={})).process_item(item)
    text = item.body or item.lead
    assert item.url_key == url_key(item.canonical_url or item.url)
    assert item.fetched_key == url_key(item.url)
    assert (item.content_hash, item.simhash) == fingerprint(text)
    assert item.content_hash is not None
    assert (item.simhash is None) == (len(re.findall(r"\w+", text)) < 50)


def test_identity_takes_the_simhash_word_minimum_from_the_settings() -> None:
    item = parsed(ARTICLE_FIXTURES[0])
    IdentityPipeline.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_DEDUPE_MIN_WORDS": 1_000_000})).process_item(item)
    assert item.content_hash is not None and item.simhash is None


def test_store_alone_stores_each_article_once_with_its_identity(storage: Storage) -> None:
    items = articles()
    store_alone(crawler_over(storage), items)
    stored = {doc["url"]: doc for doc in storage.db.articles.find()}
    assert len(stored) == len(items)
    for item in items:
        expected = replace(item)
        IdentityPipeline().process_item(expected)
        doc = stored[item.url]
        assert {name: doc[name] for name in IDENTITY} == {name: getattr(expected, name) for name in IDENTITY}
        assert doc["simhash_band0"] is not None or doc["simhash"] is None

    again = crawler_over(storage)  # the same pages again, one under a tracking-parameter address
    first = items[0]
    store_alone(again, [*articles(), replace(parsed(ARTICLE_FIXTURES[0]), url=first.url + "?utm_source=rss")])
    assert storage.db.articles.count_documents({}) == len(items)
    assert again.stats.get_value("newscrawl/mongo/unchanged") == len(items) + 1
    assert again.stats.get_value("newscrawl/mongo/inserted", 0) == 0


def test_store_alone_keeps_a_changed_article_as_a_revision(storage: Storage) -> None:
    item = parsed(ARTICLE_FIXTURES[0])
    store_alone(crawler_over(storage), [item])
    corrected = replace(parsed(ARTICLE_FIXTURES[0]), body=item.body + "\n\nCorrection: a word was wrong.")
    store_alone(crawler_over(storage), [corrected])
    (stored,) = storage.db.articles.find()
    assert stored["body"] == corrected.body and stored["revision"] == 2
    assert storage.db.article_revisions.count_documents({}) == 1


def test_dedupe_alone_drops_duplicates(storage: Storage, crawler: Crawler) -> None:
    pipeline = DedupePipeline.from_crawler(crawler)
    first, *others = articles()
    assert dedupe(pipeline, first) is first
    for other in others:
        assert dedupe(pipeline, other) is other
    with pytest.raises(SeenInRun):
        dedupe(pipeline, replace(parsed(ARTICLE_FIXTURES[0]), url=first.url + "?utm_medium=feed"))
    copy_url = "https://partner-news.example/republished/1"
    with pytest.raises(SameContent):
        dedupe(pipeline, replace(parsed(ARTICLE_FIXTURES[0]), url=copy_url, canonical_url=copy_url, source_id=None))
    assert first.url_key is None, "dedupe asks the store; it sets nothing on the item"


def test_dedupe_then_store_without_identity(storage: Storage) -> None:
    """The store keeps what the check let through: a copy met between the check and the write
    is recorded on the stored original; the next run's check finds the article unchanged."""
    crawler = crawler_over(storage)
    check, store = DedupePipeline.from_crawler(crawler), StorePipeline.from_crawler(crawler)
    original = parsed(ARTICLE_FIXTURES[0])
    copy_url = "https://partner-news.example/republished/1"
    copy = replace(parsed(ARTICLE_FIXTURES[0]), url=copy_url, canonical_url=copy_url, site="partner", source_id=None)

    async def run() -> None:
        checked = await check.process_item(original)
        with pytest.raises(SameContent):
            await check.process_item(copy)
        await store.process_item(checked)

    try:
        asyncio.run(run())
        store.close_spider()
    finally:
        close_storage(crawler)
    (stored,) = storage.db.articles.find()
    assert stored["url_key"] == url_key(original.canonical_url or original.url)
    assert stored["also_published_by"] == [{"site": "partner", "url": copy_url}]

    later = crawler_over(storage)
    try:
        with pytest.raises(UnchangedArticle):
            dedupe(DedupePipeline.from_crawler(later), parsed(ARTICLE_FIXTURES[0]))
    finally:
        close_storage(later)


@pytest.mark.crawl
def test_a_crawl_with_the_store_pipeline_alone_stores_each_article_once(tmp_path: Path, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri)
    only_store = json.dumps({"pipelines.store.StorePipeline": 300})
    with serving(GeneratedStories) as site:
        first = crawl(tmp_path, site, env, listings=1, ITEM_PIPELINES=only_store)
        first_log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
        again = crawl(tmp_path, site, env, listings=1, ITEM_PIPELINES=only_store, NEWSCRAWL_INCREMENTAL=False)
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert first.returncode == 0, last_line(first_log)
    assert again.returncode == 0, last_line(log)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        articles_stored = client[env["MONGO_DATABASE"]].articles
        docs = list(articles_stored.find({}, {"url": 1, "url_key": 1, "fetched_key": 1, "content_hash": 1}))
    finally:
        client.drop_database(env["MONGO_DATABASE"])
        client.close()
    assert len(docs) == PER_LISTING == stats_of(first_log)["newscrawl/mongo/inserted"]
    assert all(doc["url_key"] == url_key(doc["url"]) == doc["fetched_key"] and doc["content_hash"] for doc in docs)
    stats = stats_of(log)
    assert stats["item_scraped_count"] == PER_LISTING == stats["newscrawl/mongo/unchanged"]
    assert "newscrawl/mongo/inserted" not in stats
