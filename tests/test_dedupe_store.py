"""Normalize, dedupe and store pipelines against a real MongoDB server (embedded nx-27017 unless
MONGO_URI is set): together as configured, and each alone."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from scrapy.utils.test import get_crawler

from conftest import read_page
from newscrawl.extract.items import Article
from newscrawl.store.database import Storage
from newscrawl.store.protocol import STORAGE_EXTENSION
from newscrawl.store.service import StorageService
from pipelines.dedupe import DedupePipeline, NearDuplicate, SameContent, SeenInRun, UnchangedArticle
from pipelines.identity import IdentityPipeline
from pipelines.store import StorePipeline
from spiders.unian import UnianParser
from test_unian_parser import EN_URL, FETCHED, SEED_PAGE, UK_URL

RU_URL = "https://www.unian.net/world/putin-pogloshchaet-belorusskie-zavody-12149817.html"


class Run:
    """One crawl's identity + dedupe + store pipelines over a test database."""

    def __init__(self, storage: Storage) -> None:
        settings = {"MONGO_URI": storage.uri, "MONGO_DATABASE": storage.db.name, "NEWSCRAWL_MONGO_BATCH": 100,
                    "EXTENSIONS": {STORAGE_EXTENSION: 0}}
        self.crawler = get_crawler(settings_dict=settings)
        self.identity = IdentityPipeline.from_crawler(self.crawler)
        self.dedupe = DedupePipeline.from_crawler(self.crawler)
        self.store = StorePipeline.from_crawler(self.crawler)

    def feed(self, article: Article) -> Article:
        """Pass one article through the pipelines and queue it for storage (DropItem propagates)."""
        async def chain() -> Article:
            return await self.store.process_item(await self.dedupe.process_item(self.identity.process_item(article)))

        return asyncio.run(chain())

    @property
    def storage(self) -> StorageService:
        storage = self.crawler.get_extension(StorageService)
        assert storage is not None
        return storage

    def finish(self) -> None:
        self.storage.close()

    def stat(self, name: str) -> int:
        return self.crawler.stats.get_value(name, 0)


@pytest.fixture
def seed() -> Article:
    return UnianParser.parse(read_page(SEED_PAGE), EN_URL, fetched_at=FETCHED)


@pytest.fixture
def run(storage: Storage) -> Iterator[Run]:
    current = Run(storage)
    yield current
    current.finish()


def test_exact_duplicate_across_two_feeds_is_stored_once(storage: Storage, run: Run, seed: Article) -> None:
    run.feed(seed)
    with pytest.raises(SeenInRun):  # the same story listed by the all-news feed and a section feed
        run.feed(replace(seed, url=EN_URL + "?utm_source=rss&utm_medium=section"))
    run.finish()
    assert storage.db.articles.count_documents({}) == 1
    later = Run(storage)  # the next cron run meets it again
    with pytest.raises(UnchangedArticle):
        later.feed(replace(seed, url=EN_URL.replace("https://www.", "http://m.")))
    later.finish()
    assert storage.db.articles.count_documents({}) == 1


def test_same_text_under_another_url_keeps_that_url(storage: Storage, run: Run, seed: Article) -> None:
    other = "https://www.unian.info/society/putin-absorbs-belarusian-factories-copy-12149999.html"
    run.feed(seed)
    with pytest.raises(SameContent):
        run.feed(replace(seed, url=other, canonical_url=other, source_id="12149999"))
    run.finish()
    (stored,) = storage.db.articles.find()
    assert stored["duplicate_urls"] == [other]


@pytest.mark.parametrize("short", [False, True], ids=["long text (found by its SimHash bands)", "short text (by content hash)"])
def test_same_text_stored_by_an_earlier_run_is_found(storage: Storage, seed: Article, short: bool) -> None:
    original = replace(seed, body=" ".join(seed.body.split()[:30])) if short else seed
    first = Run(storage)
    first.feed(original)
    first.finish()
    other = "https://www.unian.info/society/putin-absorbs-belarusian-factories-copy-12149999.html"
    later = Run(storage)
    with pytest.raises(SameContent):
        later.feed(replace(original, url=other, canonical_url=other, source_id="12149999"))
    later.finish()
    (stored,) = storage.db.articles.find()
    assert stored["duplicate_urls"] == [other]
    assert (stored["simhash"] is None) is short


def _edition(seed: Article, language: str, url: str, text: str, translations: dict[str, str]) -> Article:
    return replace(seed, url=url, canonical_url=url, language=language, title=text[:60], lead=text[:120], body=text,
                   translations=translations)


def test_one_story_in_three_editions_is_linked_not_merged(storage: Storage, run: Run, seed: Article) -> None:
    uk_text = " ".join(re.findall(r"<!\[CDATA\[(.*?)\]\]>", read_page("unian/rss_unian_ua_2020-09-28.xml"))[:40])
    ru_text = " ".join(json.loads(read_page("regional/pravda.expected.json"))["V1"]["body"]["sections"][1]["paragraphs"])
    run.feed(replace(seed, translations={"uk": UK_URL, "ru": RU_URL}))
    run.feed(_edition(seed, "uk", UK_URL, uk_text, {"en": EN_URL, "ru": RU_URL}))
    run.feed(_edition(seed, "ru", RU_URL, ru_text, {"en": EN_URL, "uk": UK_URL}))
    run.finish()
    docs = {doc["language"]: doc for doc in storage.db.articles.find()}
    assert sorted(docs) == ["en", "ru", "uk"]
    for language, doc in docs.items():
        expected = {other: docs[other]["_id"] for other in docs if other != language}
        assert doc["translation_ids"] == expected, language
        assert doc["source_id"] == "12149817"


def test_republished_story_on_another_site_is_a_near_duplicate(storage: Storage, run: Run, seed: Article) -> None:
    run.feed(seed)
    run.finish()
    paragraphs = seed.body.split("\n\n")
    republished = "\n\n".join(["Kyiv, February 18 (partner wire).", *paragraphs[:-1], paragraphs[-1] + " Source: UNIAN."])
    copy_url = "https://partner-news.example/world/2023/02/18/putin-belarus-factories"
    later = Run(storage)
    with pytest.raises(NearDuplicate, match="distance"):
        later.feed(replace(seed, url=copy_url, canonical_url=copy_url, site="partner-news.example", source_id=None,
                           title="Putin is absorbing Belarus's factories, ISW says", body=republished))
    later.finish()
    (stored,) = storage.db.articles.find()
    assert stored["also_published_by"] == [{"site": "partner-news.example", "url": copy_url}]


def test_a_different_story_is_not_a_near_duplicate(storage: Storage, run: Run, seed: Article) -> None:
    ru_text = " ".join(json.loads(read_page("regional/pravda.expected.json"))["V1"]["body"]["sections"][2]["paragraphs"])
    other = "https://www.unian.info/world/another-story-12150000.html"
    run.feed(seed)
    run.feed(replace(seed, url=other, canonical_url=other, source_id="12150000", language="ru", body=ru_text))
    run.finish()
    assert storage.db.articles.count_documents({}) == 2


def test_updated_article_produces_one_revision(storage: Storage, run: Run, seed: Article) -> None:
    run.feed(seed)
    run.finish()
    corrected = seed.body.replace("Su-25 attack aircraft", "Su-25 ground-attack aircraft")
    later = Run(storage)
    later.feed(replace(seed, body=corrected, modified_at=FETCHED + timedelta(hours=2)))
    later.finish()
    (stored,) = storage.db.articles.find()
    assert stored["body"] == corrected and stored["revision"] == 2
    (revision,) = storage.db.article_revisions.find()
    assert revision["article_id"] == stored["_id"] and revision["revision"] == 1
    assert revision["previous"]["body"] == seed.body
    assert revision["changed_fields"] == ["body", "modified_at"]
    assert revision["site"] == "unian" and revision["seen_at"] == seed.fetched_at
    assert later.stat("newscrawl/mongo/updated") == 1 and later.stat("newscrawl/dedupe/changed") == 1


def test_newer_modified_time_alone_is_an_update_but_no_revision(storage: Storage, run: Run, seed: Article) -> None:
    """The page's own date of change is kept (so a listing's later time does not fetch it again and
    again), but only a change of its text is an edit: no revision."""
    run.feed(replace(seed, modified_at=datetime(2023, 2, 18, 5, 0, tzinfo=timezone.utc)))
    run.finish()
    later = Run(storage)
    later.feed(replace(seed, modified_at=datetime(2023, 2, 18, 6, 0, tzinfo=timezone.utc)))
    later.finish()
    assert later.stat("newscrawl/mongo/updated") == 1
    assert storage.db.article_revisions.count_documents({}) == 0
    (stored,) = storage.db.articles.find()
    assert stored["modified_at"] == datetime(2023, 2, 18, 6, 0, tzinfo=timezone.utc) and stored["revision"] == 1
    with pytest.raises(UnchangedArticle):
        third = Run(storage)
        try:
            third.feed(replace(seed, modified_at=datetime(2023, 2, 18, 6, 0, tzinfo=timezone.utc)))
        finally:
            third.finish()


def test_a_copy_of_an_article_already_written_in_this_run_keeps_its_url(storage: Storage, run: Run,
                                                                         seed: Article) -> None:
    """The in-run memory lets a written article go (it holds only articles not written yet); a copy
    met after the write is still found, and its URL recorded on the stored article."""
    run.feed(seed)
    run.storage.flush()
    assert storage.db.articles.count_documents({}) == 1
    assert run.storage.sink.deduper._recent_docs == {}
    other = "https://www.unian.info/society/putin-absorbs-belarusian-factories-copy-12149999.html"
    with pytest.raises(SameContent):
        run.feed(replace(seed, url=other, canonical_url=other, source_id="12149999"))
    run.finish()
    (stored,) = storage.db.articles.find()
    assert stored["duplicate_urls"] == [other]
