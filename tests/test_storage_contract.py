"""The MongoDB operations the project relies on, run against whichever server is in use.

With no MONGO_URI this is the embedded nx-27017 0.8.1, which deviates from MongoDB in places. The
adapter (:mod:`newscrawl.store.nx`) names each deviation as a trait; every trait is checked here
against what the server in use really does, so a wrong claim in the adapter's table fails, and so
does a server that breaks an operation the project uses.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

import pytest
from pymongo import MongoClient, UpdateOne, monitoring
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from newscrawl.extract.identity import url_key
from newscrawl.store.database import Storage, index_models, redact_uri
from newscrawl.store.dedupe import add_bands
from newscrawl.store.errors import DUPLICATE_KEY
from newscrawl.store.keys import KeyIndex
from newscrawl.store.nx import MONGODB, NX_27017, ServerTraits, server_traits
from newscrawl.store.writer import ArticleStore

UTC = timezone.utc


def test_the_server_in_use_is_recognised(storage: Storage) -> None:
    assert server_traits(storage.client) == storage.traits
    if not os.getenv("MONGO_URI"):  # the session's own embedded server
        assert storage.traits == NX_27017


def test_indexes_exist(storage: Storage) -> None:
    """Compared by keys: nx-27017 renames indexes (``idx_articles_url_key``) and drops directions."""
    found = {tuple(name for name, _ in index["key"].items()): index.get("unique", False)
             for index in storage.db.articles.list_indexes()}
    assert found[("url_key",)] is True
    assert found[("story_key",)] is True
    assert {("site", "published_at"), ("published_at",), ("content_hash",), ("fetched_key",)} <= set(found)
    assert {(f"simhash_band{i}",) for i in range(4)} <= set(found)
    assert (("tags",) in found) is storage.traits.indexed_arrays_queryable


def test_tags_index_only_where_the_server_can_query_it() -> None:
    """An index on an array field hides every document from queries where the server cannot query it."""
    assert "tags" not in {m.document["name"] for m in index_models(NX_27017)["articles"]}
    assert "tags" in {m.document["name"] for m in index_models(MONGODB)["articles"]}


# -- every trait the adapter claims, against what the server does --------------------------------


def _scans_collection(collection: Collection[dict[str, Any]], query: dict[str, Any]) -> bool:
    """Whether the server's plan for ``query`` reads the whole collection (MongoDB: ``COLLSCAN``;
    an SQLite-backed server: ``SCAN <collection>``) instead of seeking an index."""
    plan = json.dumps(collection.find(query).explain()["queryPlanner"]["winningPlan"], default=str)
    return "COLLSCAN" in plan or re.search(rf'"SCAN {re.escape(collection.name)}\b', plan) is not None


def _articles_to_plan(storage: Storage) -> Collection[dict[str, Any]]:
    """The ``articles`` collection (its real indexes) with enough documents for a real plan."""
    storage.db.articles.insert_many(
        [{"url_key": f"k{i}", "story_key": f"s/uk/{i}", "site": "s", "title": f"t{i}"} for i in range(50)]
    )
    return storage.db.articles


def test_plans_tell_an_index_seek_from_a_scan(storage: Storage) -> None:
    """The check behind the two ``*_is_indexed`` traits reads plans right on this server."""
    articles = _articles_to_plan(storage)
    assert not _scans_collection(articles, {"url_key": "k1"})
    assert _scans_collection(articles, {"title": "t1"})  # no index on title


def _in_is_indexed(storage: Storage) -> bool:
    return not _scans_collection(_articles_to_plan(storage), {"url_key": {"$in": ["k1", "k2", "k3"]}})


def _or_is_indexed(storage: Storage) -> bool:
    return not _scans_collection(_articles_to_plan(storage), {"$or": [{"url_key": "k1"}, {"story_key": "s/uk/2"}]})


def _indexed_array_is_queryable(storage: Storage) -> bool:
    probe = storage.db.probe_arrays
    probe.create_index("tags")
    probe.insert_many([{"tags": ["war", "isw"]}, {"tags": ["sport"]}])
    return [doc["tags"] for doc in probe.find({"tags": "isw"}, {"_id": 0})] == [["war", "isw"]]


def _partial_index_ignores_others(storage: Storage) -> bool:
    probe = storage.db.probe_partial
    probe.create_index("key", unique=True, partialFilterExpression={"key": {"$type": "string"}})
    probe.insert_one({"key": 1})
    try:
        probe.insert_one({"key": 1})  # not a string: outside the index
    except DuplicateKeyError:
        return False
    return True


def _object_id_equality_matches(storage: Storage) -> bool:
    article = storage.db.articles.insert_one({"url_key": "https://x.ua/a"}).inserted_id
    storage.db.article_revisions.insert_one({"article_id": article, "revision": 1})
    found = storage.db.article_revisions.find_one({"article_id": {"$in": [article]}})  # what the project uses
    assert found is not None and found["revision"] == 1
    return storage.db.article_revisions.find_one({"article_id": article}) is not None


def _push_stores_subdocuments(storage: Storage) -> bool:
    probe = storage.db.probe_push
    _id = probe.insert_one({"url": "u"}).inserted_id
    probe.update_one({"_id": _id}, {"$push": {"also_published_by": {"site": "s", "url": "v"}}})
    return probe.find_one({"_id": _id})["also_published_by"] == [{"site": "s", "url": "v"}]


def _add_to_set_creates_field(storage: Storage) -> bool:
    probe = storage.db.probe_add_to_set
    _id = probe.insert_one({"url": "u"}).inserted_id
    probe.update_one({"_id": _id}, {"$addToSet": {"duplicate_urls": "v"}})
    return probe.find_one({"_id": _id}).get("duplicate_urls") == ["v"]


def _compiled_regex_matches(storage: Storage) -> bool:
    probe = storage.db.probe_regex
    probe.insert_many([{"title": "157 миллионов"}, {"title": "other"}])
    assert probe.count_documents({"title": {"$regex": "^157"}}) == 1  # what the project uses: a pattern string
    try:
        return [d["title"] for d in probe.find({"title": re.compile("^157")}, {"_id": 0})] == ["157 миллионов"]
    except OperationFailure:
        return False


def _groups_by_compound_id(storage: Storage) -> bool:
    probe = storage.db.probe_group
    probe.insert_many([{"site": "a", "language": "uk"}, {"site": "a", "language": "uk"}, {"site": "a", "language": "en"}])
    groups = probe.aggregate([{"$group": {"_id": {"site": "$site", "language": "$language"}, "n": {"$sum": 1}}}])
    return sorted((g["_id"].get("language"), g["n"]) for g in groups) == [("en", 1), ("uk", 2)]


def _max_of_dates_is_date(storage: Storage) -> bool:
    probe = storage.db.probe_max
    latest = datetime(2023, 2, 19, 4, 24, tzinfo=UTC)
    probe.insert_many([{"site": "a", "published_at": datetime(2023, 2, 18, tzinfo=UTC)}, {"site": "a", "published_at": latest}])
    [group] = probe.aggregate([{"$group": {"_id": "$site", "newest": {"$max": "$published_at"}}}])
    return group["newest"] == latest


def _text_needs_index(storage: Storage) -> bool:
    probe = storage.db.probe_text
    probe.insert_many([{"body": "Війна в Україні триває"}, {"body": "football results"}])
    try:
        found = [d["body"] for d in probe.find({"$text": {"$search": "football"}}, {"_id": 0})]
    except OperationFailure:
        return True
    assert found == ["football results"], "$text neither refused nor searched"
    return False


def _set_dates_are_dates(storage: Storage) -> bool:
    probe = storage.db.probe_set_dates
    when = datetime(2023, 2, 18, 4, 24, tzinfo=UTC)
    probe.insert_one({"_id": 1, "inserted": when})
    probe.update_one({"_id": 1}, {"$set": {"whole": {"at": when}}})
    stored = probe.find_one({"_id": 1})
    assert stored["inserted"] == when and stored["whole"]["at"] == when  # what the project relies on
    probe.update_one({"_id": 1}, {"$set": {"set": when}})
    return probe.find_one({"_id": 1})["set"] == when


#: trait -> what the server in use really does (True: as the trait's name says)
OBSERVED: dict[str, Callable[[Storage], bool]] = {
    "secondary_in_is_indexed": _in_is_indexed,
    "secondary_or_is_indexed": _or_is_indexed,
    "indexed_arrays_queryable": _indexed_array_is_queryable,
    "partial_indexes": _partial_index_ignores_others,
    "object_id_equality": _object_id_equality_matches,
    "push_subdocuments": _push_stores_subdocuments,
    "add_to_set_creates_field": _add_to_set_creates_field,
    "compiled_regex_filters": _compiled_regex_matches,
    "compound_group_id": _groups_by_compound_id,
    "max_of_dates_is_date": _max_of_dates_is_date,
    "text_needs_index": _text_needs_index,
    "set_dates_are_dates": _set_dates_are_dates,
}


def test_every_trait_is_checked() -> None:
    assert set(OBSERVED) == {f.name for f in fields(ServerTraits)} - {"server"}


@pytest.mark.parametrize("trait", sorted(OBSERVED))
def test_the_adapter_claims_what_the_server_does(storage: Storage, trait: str) -> None:
    assert OBSERVED[trait](storage) is getattr(storage.traits, trait), f"{storage.traits.server}: {trait}"


# -- the key collection answers what the articles hold -------------------------------------------


def _key(path: str) -> str:
    return url_key(f"https://s.ua/{path}")


def _article(path: str, source_id: str | None, simhash: int, **fields: Any) -> dict[str, Any]:
    """An article document of site ``s`` in the language its path starts with."""
    return add_bands({"url": f"https://s.ua/{path}", "url_key": _key(path), "site": "s", "language": path.split("/")[0],
                      "source_id": source_id, "simhash": simhash, **fields})


def test_keys_answer_what_the_articles_hold(storage: Storage) -> None:
    """Existing articles, translations and SimHash band matches found through the key collection
    (one ``$in`` on ``_id``) are the ones an equality query on the articles' own fields finds."""
    store = ArticleStore(storage.db)
    store.write([
        _article("uk/1", "1", 0x0123_4567_89AB_CDEF, translations={"en": "https://s.ua/en/1"}),
        _article("en/1", "1", 0x0123_0000_0000_0000),
        _article("uk/2", "2", 0x7FFF_FFFF_FFFF_FFFF),
        _article("uk/3", None, 0x0123_4567_0000_0000),
    ])
    stored = {doc["url_key"]: doc for doc in storage.db.articles.find()}
    uk1, en1, uk2, uk3 = (stored[_key(path)] for path in ("uk/1", "en/1", "uk/2", "uk/3"))
    assert (uk1["translation_ids"], en1["translation_ids"]) == ({"en": en1["_id"]}, {"uk": uk1["_id"]})
    assert "translation_ids" not in uk2
    assert store.ids_by_url_key({_key("uk/1"), _key("uk/2"), _key("uk/9")}) == {_key("uk/1"): uk1["_id"], _key("uk/2"): uk2["_id"]}

    asked = [("uk/2", "1"), ("uk/other", "2"), ("uk/2", None), ("uk/9", "9")]
    found = store.find_existing([_article(path, source_id, 0) for path, source_id in asked])
    by_fields = [storage.db.articles.find_one({"url_key": _key(path)})
                 or storage.db.articles.find_one({"story_key": f"s/uk/{source_id}"}) for path, source_id in asked]
    assert [doc and doc["url_key"] for doc in found] == [doc and doc["url_key"] for doc in by_fields] == [
        _key("uk/2"),  # the URL key wins over another (earlier) article's story
        _key("uk/2"),  # the same story under another address
        _key("uk/2"),
        None,
    ]

    probe = _article("uk/9", None, 0x0123_4567_89AB_CDEE)
    (near,) = store.keys.matches([probe])
    sharing = {doc["url_key"] for i in range(4) for doc in storage.db.articles.find({f"simhash_band{i}": probe[f"simhash_band{i}"]})
               if doc["language"] == "uk"}
    assert {match["url_key"] for match in near.band_matches} == sharing == {_key("uk/1"), _key("uk/3")}


# -- the operations the key collection relies on ----------------------------------------------------


def test_in_on_id_is_answered_from_the_primary_key_in_one_reply(storage: Storage) -> None:
    index = KeyIndex(storage.db)
    index.keys.insert_many([{"_id": f"url:https://s.ua/{n}", "n": n} for n in range(300)])
    wanted = [f"url:https://s.ua/{n}" for n in range(0, 600, 2)]
    assert not _scans_collection(index.keys, {"_id": {"$in": wanted}})
    commands = _Commands()
    counted = MongoClient(storage.uri, event_listeners=[commands])
    try:
        index.keys = counted[storage.db.name][index.keys.name]
        found = index.find(wanted)  # 150 of 300 found: more than a default first batch (101)
        sent = list(commands.names)
    finally:
        counted.close()
    assert sorted(doc["n"] for doc in found.values()) == list(range(0, 300, 2))
    assert sent == ["find"]
    assert index.find([]) == {}


class _Commands(monitoring.CommandListener):
    """The names of the commands a client sent."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_key_writes_report_duplicates_and_grow_shared_buckets(storage: Storage) -> None:
    keys = storage.db.probe_keys
    keys.insert_many([{"_id": "url:a", "article_id": 1}, {"_id": "band0:uk:0001", "m": ["x"]}])
    with pytest.raises(BulkWriteError) as caught:
        keys.insert_many([{"_id": "url:b"}, {"_id": "url:a"}, {"_id": "band0:uk:0001", "m": ["y"]}], ordered=False)
    assert sorted((e["index"], e["code"]) for e in caught.value.details["writeErrors"]) == [(1, DUPLICATE_KEY), (2, DUPLICATE_KEY)]
    result = keys.bulk_write([UpdateOne({"_id": "band0:uk:0001"}, {"$addToSet": {"m": {"$each": ["x", "y", "z"]}}}),
                              UpdateOne({"_id": "band9:none"}, {"$addToSet": {"m": {"$each": ["x"]}}}),
                              UpdateOne({"_id": "url:a"}, {"$inc": {"n": 1}})], ordered=True)
    assert result.matched_count == 2
    assert keys.find_one({"_id": "band0:uk:0001"})["m"] == ["x", "y", "z"]
    keys.update_one({"_id": "band0:uk:0001"}, {"$pull": {"m": "y"}})
    assert keys.find_one({"_id": "band0:uk:0001"})["m"] == ["x", "z"]
    assert keys.find_one({"_id": "url:a"})["n"] == 1


def test_the_write_journal_is_struck_off_once(storage: Storage) -> None:
    keys = storage.db.probe_keys
    article_ids = storage.db.articles.insert_many([{"url_key": "a"}, {"url_key": "b"}]).inserted_ids
    keys.insert_one({"_id": "meta", "articles": 0, "pending": {}})
    keys.update_one({"_id": "meta"}, {"$set": {"pending.t1": {"ids": article_ids, "at": 1.5}}})
    (entry,) = keys.find_one({"_id": "meta"})["pending"].values()
    assert {doc["url_key"] for doc in storage.db.articles.find({"_id": {"$in": entry["ids"]}})} == {"a", "b"}
    finish = ({"_id": "meta", "pending.t1": {"$exists": True}}, {"$unset": {"pending.t1": ""}, "$inc": {"articles": 2}})
    assert keys.update_one(*finish).matched_count == 1
    assert keys.update_one(*finish).matched_count == 0
    assert keys.find_one({"_id": "meta"}) == {"_id": "meta", "articles": 2, "pending": {}}
    claim = {"_id": "meta", "$or": [{"building": {"$exists": False}}, {"building_at": {"$lt": 1.0}}]}
    assert keys.update_one(claim, {"$set": {"building": "x", "building_at": 2.0}}).matched_count == 1
    assert keys.update_one(claim, {"$set": {"building": "y"}}).matched_count == 0
    assert storage.db.articles.estimated_document_count() == 2


def test_rekeying_touches_only_the_articles_own_keys(storage: Storage) -> None:
    keys = storage.db.probe_keys
    mine, other = storage.db.articles.insert_many([{"url_key": "a"}, {"url_key": "b"}]).inserted_ids
    keys.insert_many([{"_id": "url:a", "article_id": mine}, {"_id": "content:h", "article_id": other},
                      {"_id": "story:s", "article_id": mine}])
    keys.update_many({"_id": {"$in": ["url:a", "content:h"]}, "article_id": {"$in": [mine]}}, {"$set": {"content_hash": "h2"}})
    assert {doc["_id"] for doc in keys.find({"content_hash": "h2"})} == {"url:a"}
    assert keys.delete_many({"_id": {"$in": ["story:s", "content:h"]}, "article_id": {"$in": [mine]}}).deleted_count == 1
    assert keys.delete_many({"_id": {"$ne": "url:a"}}).deleted_count == 1
    assert [doc["_id"] for doc in keys.find()] == ["url:a"]


# -- operations the project uses on every server --------------------------------------------------


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
    assert keys({"$or": [{"url_key": "k1"}, {"simhash_band0": 8}]}) == ["k1", "k2"]
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


def test_redact_uri() -> None:
    assert redact_uri("mongodb://reader:s3cr%40t@db.example:27017/news?authSource=admin") == (
        "mongodb://reader:***@db.example:27017/news?authSource=admin"
    )
    assert redact_uri("mongodb://127.0.0.1:27017") == "mongodb://127.0.0.1:27017"
