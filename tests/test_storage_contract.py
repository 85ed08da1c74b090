"""The MongoDB operations the project relies on, run against whichever server is in use.

With no MONGO_URI this is the embedded nx-27017 0.8.1, which deviates from MongoDB in places
(measured): ``$push`` of a subdocument stores a JSON string, ``$addToSet`` on a missing field does
nothing, a query on an indexed array field returns nothing, ``$text`` finds nothing, ``$max`` of
dates in ``$group`` returns a string, plain equality on an ObjectId field other than ``_id`` matches
nothing (``$in`` does). The project avoids those operations; the tests below pin the
ones it does use, so a server that breaks them fails here first.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pymongo.errors import BulkWriteError

from newscrawl.store.storage import DUPLICATE_KEY, Storage, index_models, redact_uri

UTC = timezone.utc


def test_indexes_exist(storage: Storage) -> None:
    """Compared by keys: nx-27017 renames indexes (``idx_articles_url_key``) and drops directions."""
    found = {tuple(name for name, _ in index["key"].items()): index.get("unique", False)
             for index in storage.db.articles.list_indexes()}
    assert found[("url_key",)] is True
    assert found[("story_key",)] is True
    assert {("site", "published_at"), ("published_at",), ("content_hash",)} <= set(found)
    assert {(f"simhash_band{i}",) for i in range(4)} <= set(found)
    assert (("tags",) in found) is (not storage.embedded)


def test_tags_index_only_where_the_server_can_query_it() -> None:
    """nx-27017 answers nothing for queries on an indexed array field, so embedded mode skips that index."""
    assert "tags" not in {m.document["name"] for m in index_models(embedded=True)["articles"]}
    assert "tags" in {m.document["name"] for m in index_models(embedded=False)["articles"]}


def test_unordered_bulk_insert_reports_duplicates_and_inserts_the_rest(storage: Storage) -> None:
    articles = storage.db.articles
    articles.insert_one({"url_key": "https://a/1", "story_key": "s/en/1"})
    docs = [
        {"url_key": "https://a/1"},  # same URL key
        {"url_key": "https://a/2", "story_key": "s/en/1"},  # same story
        {"url_key": "https://a/3", "story_key": "s/uk/1"},  # other edition: fine
        {"url_key": "https://a/4"},  # no story id: not unique
        {"url_key": "https://a/5"},
    ]
    with pytest.raises(BulkWriteError) as caught:
        articles.insert_many(docs, ordered=False)
    details = caught.value.details
    assert details["nInserted"] == 3
    assert sorted((e["index"], e["code"]) for e in details["writeErrors"]) == [(0, DUPLICATE_KEY), (1, DUPLICATE_KEY)]
    assert articles.count_documents({}) == 4


def test_queries_used_by_dedupe_cli_and_store(storage: Storage) -> None:
    articles = storage.db.articles
    articles.insert_many(
        [
            {"url_key": "k1", "site": "unian", "published_at": datetime(2023, 2, 18, 4, 24, tzinfo=UTC), "tags": ["war", "isw"],
             "content_hash": "h1", "simhash_band0": 7, "body": "text", "lead": ""},
            {"url_key": "k2", "site": "unian", "published_at": datetime(2023, 2, 19, 4, 24, tzinfo=UTC), "tags": [],
             "content_hash": "h2", "simhash_band0": 8, "body": None},
            {"url_key": "k3", "site": "pravda", "published_at": datetime(2023, 3, 1, tzinfo=UTC)},
        ]
    )
    keys = lambda query: sorted(d["url_key"] for d in articles.find(query, {"url_key": 1}))  # noqa: E731
    assert keys({"content_hash": "h2"}) == ["k2"]
    assert keys({"url_key": {"$in": ["k1", "k3", "k9"]}}) == ["k1", "k3"]
    assert keys({"simhash_band0": 7}) == ["k1"]
    since, until = datetime(2023, 2, 18, tzinfo=UTC), datetime(2023, 2, 19, tzinfo=UTC)
    assert keys({"site": "unian", "published_at": {"$gte": since, "$lt": until}}) == ["k1"]
    assert keys({"tags": "isw"}) == ["k1"]
    assert articles.find_one({"url_key": "k1"})["published_at"] == datetime(2023, 2, 18, 4, 24, tzinfo=UTC)
    newest = articles.find_one({"site": "unian"}, sort=[("published_at", -1)])
    assert newest["url_key"] == "k2"
    assert articles.count_documents({"site": "unian", "body": {"$nin": [None, ""]}}) == 1
    assert sorted(articles.distinct("site")) == ["pravda", "unian"]


def test_updates_used_by_the_store(storage: Storage) -> None:
    articles = storage.db.articles
    _id = articles.insert_one({"url_key": "k1", "duplicate_urls": ["u1"]}).inserted_id
    articles.update_one({"_id": _id}, {"$set": {"duplicate_urls": ["u1", "u2"], "also_published_by": [{"site": "s", "url": "u"}]}})
    articles.update_one({"_id": _id}, {"$set": {"translation_ids.uk": "x"}})
    articles.update_one({"_id": _id}, {"$set": {"translation_ids.ru": "y"}})
    doc = articles.find_one({"_id": _id})
    assert doc["duplicate_urls"] == ["u1", "u2"]
    assert doc["also_published_by"] == [{"site": "s", "url": "u"}]
    assert doc["translation_ids"] == {"uk": "x", "ru": "y"}
    articles.replace_one({"_id": _id}, {"url_key": "k1", "revision": 2})
    assert articles.find_one({"_id": _id}, {"_id": 0}) == {"url_key": "k1", "revision": 2}
    storage.db.url_aliases.update_one({"_id": "alias"}, {"$set": {"article_id": _id}}, upsert=True)
    storage.db.url_aliases.update_one({"_id": "alias"}, {"$set": {"article_id": _id}}, upsert=True)
    assert storage.db.url_aliases.count_documents({}) == 1


def test_databases_are_isolated(storage: Storage) -> None:
    storage.db.articles.insert_one({"url_key": "only-here"})
    other = storage.client[storage.db.name + "_other"]
    try:
        assert other.articles.count_documents({"url_key": "only-here"}) == 0
    finally:
        storage.client.drop_database(other.name)


def test_object_id_references_are_found_with_in(storage: Storage) -> None:
    """Revisions point at their article by ObjectId; lookups use ``$in``, which every server answers."""
    article = storage.db.articles.insert_one({"url_key": "https://x.ua/a"}).inserted_id
    storage.db.article_revisions.insert_one({"article_id": article, "revision": 1})
    found = storage.db.article_revisions.find_one({"article_id": {"$in": [article]}})
    assert found is not None and found["revision"] == 1
    plain = storage.db.article_revisions.find_one({"article_id": article})
    assert (plain is None) is storage.embedded  # the nx-27017 deviation; MongoDB finds it


def test_redact_uri() -> None:
    assert redact_uri("mongodb://reader:s3cr%40t@db.example:27017/news?authSource=admin") == (
        "mongodb://reader:***@db.example:27017/news?authSource=admin"
    )
    assert redact_uri("mongodb://127.0.0.1:27017") == "mongodb://127.0.0.1:27017"
