"""The key collection (``article_keys``) against the session's real database server: batched
dedupe verdicts are the one-at-a-time verdicts, a batch costs one lookup, and the keys are built
for a database an earlier version left, caught up after a write cut short, and rebuilt when
articles went away."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import MongoClient, monitoring

from conftest import FILES, scratch_storage
from newscrawl.extract.identity import identify
from newscrawl.store.database import Storage
from newscrawl.store.dedupe import Verdict
from newscrawl.store.keys import META, STALE_WRITE, KeyIndex, url_id
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.sink import ArticleSink, SinkOptions

UTC = timezone.utc
WORDS = re.findall(r"[A-Za-z]{3,}", (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8"))
PUBLISHED = datetime(2023, 2, 18, 4, 24, tzinfo=UTC)


def article(story: str, *, words: int = 120, url: str | None = None, text: str | None = None, site: str = "unian",
            language: str = "en", **fields: Any) -> dict[str, Any]:
    """An article document with its identity; its text drawn from the seed's words by ``story``."""
    body = text if text is not None else " ".join(random.Random(story).choices(WORDS, k=words))
    doc = {"url": url or f"https://www.unian.info/world/{story}.html", "site": site, "language": language,
           "title": f"Story {story}", "body": body, "published_at": PUBLISHED, "source_id": None, **fields}
    identify(doc)
    return doc


def reworded(doc: dict[str, Any], story: str) -> str:
    """``doc``'s text with a dateline before it and a credit after it (a republished copy)."""
    return f"Kyiv, February 18 ({story}). {doc['body']} Source: UNIAN."


def first_run() -> list[dict[str, Any]]:
    """What an earlier run stored: long and short texts, one story with an id, and copies of two
    texts under other addresses (their URLs become aliases)."""
    stored = [article(f"old-{n}") for n in range(12)] + [article(f"short-{n}", words=20) for n in range(3)]
    stored.append(article("with-id", source_id="12000001"))
    copies = [article("old-0-copy", text=stored[0]["body"]), article("short-0-copy", text=stored[12]["body"])]
    return stored + copies


def second_run() -> list[dict[str, Any]]:
    """The next run's articles, in crawl order: new ones and every kind of copy, several of them
    in the same batch as their original."""
    old = {doc["url"]: doc for doc in first_run()}
    old_docs = list(old.values())
    new = [article(f"new-{n}") for n in range(10)]
    stream: list[dict[str, Any]] = []
    for n, doc in enumerate(new):
        stream.append(doc)
        if n % 3 == 0:  # the same story from another feed, right behind it
            stream.append({**doc, "url": doc["url"] + "?utm_source=rss"})
        if n % 4 == 1:  # another site republishes it in the same run
            stream.append(article(f"partner-{n}", url=f"https://partner.example/{n}", site="partner.example",
                                  text=reworded(doc, "partner")))
    stream += [
        article("old-1-copy", text=old_docs[1]["body"]),  # same text as a stored article
        article("short-1-copy", text=old_docs[13]["body"]),  # same short text (no SimHash)
        article("old-2-wire", url="https://wire.example/2", site="wire.example", text=reworded(old_docs[2], "wire")),
        article("old-3", text=old_docs[3]["body"] + " Updated with a new paragraph of text.",
                modified_at=PUBLISHED + timedelta(hours=2)),  # an update
        article("old-4"),  # stored and unchanged
        article("moved", source_id="12000001", text=old_docs[15]["body"], title=old_docs[15]["title"]),  # the same story at another address
        article("old-0-copy", text=old_docs[0]["body"]),  # an alias recorded by the first run
        article("old-5-copy-a", text=old_docs[5]["body"]),
        article("old-5-copy-a", text=old_docs[5]["body"]),  # the same copy twice: recorded, then an alias
        article("new-2", url="https://www.unian.info/world/new-2.html?from=home"),
    ]
    return stream


def store_all(sink: ArticleSink, docs: list[dict[str, Any]], decisions: list[Verdict]) -> None:
    for doc, verdict in zip(docs, decisions):
        if verdict in (Verdict.NEW, Verdict.UPDATE):
            sink.add(doc)
    sink.flush()


def one_at_a_time(sink: ArticleSink, docs: list[dict[str, Any]]) -> list[Verdict]:
    """Each check awaited before the next is made (with ``lookup_batch=1`` none waits for others)."""
    async def in_turn() -> list[Verdict]:
        return [(await sink.check(doc)).verdict for doc in docs]

    return asyncio.run(in_turn())


def batched(sink: ArticleSink, docs: list[dict[str, Any]]) -> list[Verdict]:
    async def all_at_once() -> list[Any]:
        return await asyncio.gather(*(sink.check(doc) for doc in docs))

    return [decision.verdict for decision in asyncio.run(all_at_once())]


def stored_state(storage: Storage) -> list[tuple[Any, ...]]:
    """What the database holds, in a comparable form."""
    return sorted((doc["url_key"], doc.get("revision"), tuple(doc.get("duplicate_urls") or ()),
                   tuple(e["url"] for e in doc.get("also_published_by") or ()))
                  for doc in storage.db.articles.find())


@pytest.fixture
def other_storage(mongo_uri: str) -> Iterator[Storage]:
    with scratch_storage(mongo_uri, "t_keys_other") as opened:
        yield opened


def sink_of(storage: Storage, tmp_path: Path, **options: Any) -> ArticleSink:
    KeyIndex(storage.db).ensure()
    return ArticleSink(MongoArticles(storage), SinkOptions(batch_size=1000, spill_dir=tmp_path / "spill",
                                                           quarantine_dir=tmp_path / "quarantine", **options))


def opened_sink(storage: Storage, tmp_path: Path) -> ArticleSink:
    """A sink that opens ``storage``'s database itself, as a crawl does (its key collection kept up to date)."""
    return ArticleSink.open(storage.uri, storage.db.name, SinkOptions(spill_dir=tmp_path, quarantine_dir=tmp_path))


def run_twice(storage: Storage, tmp_path: Path, check: Any, **options: Any) -> list[Verdict]:
    verdicts = []
    for docs in (first_run(), second_run()):
        sink = sink_of(storage, tmp_path, **options)
        decided = check(sink, docs)
        store_all(sink, docs, decided)
        sink.close()
        verdicts += decided
    return verdicts


def test_batched_verdicts_are_the_one_at_a_time_verdicts(storage: Storage, other_storage: Storage, tmp_path: Path) -> None:
    alone = run_twice(storage, tmp_path / "alone", one_at_a_time, lookup_batch=1)
    together = run_twice(other_storage, tmp_path / "together", batched, lookup_batch=8, lookup_seconds=5.0)
    assert together == alone
    assert stored_state(other_storage) == stored_state(storage)
    n, s, u, c, near, up = (Verdict.NEW, Verdict.SEEN_IN_RUN, Verdict.UNCHANGED, Verdict.SAME_CONTENT,
                             Verdict.NEAR_DUPLICATE, Verdict.UPDATE)
    # what the per-article checks decided before lookups were batched (same scenario, same server)
    assert alone == [n] * 16 + [c, c] + [
        n, s, n, n, n, n, s, n, n, near, n, s, n, n, n, s, near,  # new stories, feed copies, partners' copies
        c, c, near, up, u, u,  # stored text, short text, wire copy, an update, unchanged, the same story id
        c, c, u, c,  # a copy recorded on a pending original, a copy seen twice (then an alias), another address
    ]


class Commands(monitoring.CommandListener):
    """Counts a client's commands by name."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_a_batch_of_checks_is_one_lookup_and_a_write_is_four_commands(storage: Storage, tmp_path: Path) -> None:
    commands = Commands()
    client: MongoClient[dict[str, Any]] = MongoClient(storage.uri, tz_aware=True, event_listeners=[commands])
    counted = Storage(client=client, db=client[storage.db.name], uri=storage.uri, traits=storage.traits)
    docs = [article(f"batch-{n}") for n in range(100)]
    sink = sink_of(counted, tmp_path, lookup_batch=100, lookup_seconds=5.0)
    commands.sent.clear()
    assert set(batched(sink, docs)) == {Verdict.NEW}
    assert commands.sent == {"find": 1}
    store_all(sink, docs, [Verdict.NEW] * len(docs))
    # journal the write, insert the articles, insert their keys, add to the existing buckets and strike off the write
    assert commands.sent == {"find": 1, "update": 2, "insert": 2}
    commands.sent.clear()
    assert set(batched(sink, [dict(doc) for doc in docs])) == {Verdict.SEEN_IN_RUN}
    assert commands.sent == {"find": 1}
    sink.close()
    client.close()


# -- building and catching up ------------------------------------------------------------------------


def stored_the_old_way(storage: Storage) -> list[dict[str, Any]]:
    """Articles and an alias as a version without the key collection wrote them."""
    docs = [article(f"legacy-{n}") for n in range(30)] + [article("legacy-short", words=20)]
    for doc in docs:
        doc["first_seen_at"] = PUBLISHED
    storage.db.articles.insert_many(docs)
    storage.db.url_aliases.insert_one({"_id": "https://unian.info/world/legacy-0-copy.html", "article_id": docs[0]["_id"]})
    return docs


def test_an_earlier_versions_database_is_keyed_when_opened(storage: Storage, tmp_path: Path) -> None:
    legacy = stored_the_old_way(storage)
    sink = opened_sink(storage, tmp_path)
    try:
        assert storage.db.article_keys.find_one({"_id": META})["articles"] == len(legacy)
        verdicts = batched(sink, [
            article("legacy-1"),
            article("legacy-2-copy", text=legacy[2]["body"]),
            article("legacy-short-copy", text=legacy[-1]["body"]),
            article("legacy-4-wire", url="https://wire.example/4", text=reworded(legacy[4], "wire")),  # 1 bit away
            article("legacy-0-copy"),
            article("fresh"),
        ])
    finally:
        sink.close()
    assert verdicts == [Verdict.UNCHANGED, Verdict.SAME_CONTENT, Verdict.SAME_CONTENT, Verdict.NEAR_DUPLICATE,
                        Verdict.UNCHANGED, Verdict.NEW]


def test_a_write_cut_short_is_keyed_at_the_next_open(storage: Storage, tmp_path: Path) -> None:
    index = KeyIndex(storage.db)
    index.ensure()
    docs = [{**article(f"cut-{n}"), "_id": ObjectId()} for n in range(5)]
    token = index.begin([doc["_id"] for doc in docs])
    storage.db.articles.insert_many(docs)  # the process died here: articles in, keys not
    index.keys.update_one({"_id": META}, {"$set": {f"pending.{token}.at": time.time() - 2 * STALE_WRITE}})
    sink = opened_sink(storage, tmp_path)
    try:
        meta = storage.db.article_keys.find_one({"_id": META})
        assert meta["pending"] == {} and meta["articles"] == 5
        assert set(batched(sink, [article(f"cut-{n}") for n in range(5)])) == {Verdict.UNCHANGED}
    finally:
        sink.close()


def test_keys_of_deleted_articles_are_rebuilt_away(storage: Storage, tmp_path: Path) -> None:
    sink = sink_of(storage, tmp_path)
    docs = [article(f"gone-{n}") for n in range(6)]
    store_all(sink, docs, batched(sink, docs))
    sink.close()
    storage.db.articles.delete_many({"url_key": {"$in": [docs[0]["url_key"], docs[1]["url_key"]]}})
    sink = opened_sink(storage, tmp_path)
    try:
        assert storage.db.article_keys.find_one({"_id": META})["articles"] == 4
        verdicts = batched(sink, [article(f"gone-{n}") for n in range(6)])
    finally:
        sink.close()
    assert verdicts == [Verdict.NEW, Verdict.NEW] + [Verdict.UNCHANGED] * 4


def test_a_write_in_progress_elsewhere_is_not_taken_for_foreign_articles(storage: Storage, tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    sink = sink_of(storage, tmp_path)
    docs = [article(f"busy-{n}") for n in range(4)]
    store_all(sink, docs, batched(sink, docs))
    sink.close()
    index = KeyIndex(storage.db)
    writing = [{**article(f"busy-more-{n}"), "_id": ObjectId()} for n in range(3)]
    index.begin([doc["_id"] for doc in writing])
    storage.db.articles.insert_many(writing)  # another process is between its articles and their keys
    with caplog.at_level("INFO", logger="newscrawl.store.keys"):
        index.ensure()
    assert "building the article keys" not in caplog.text
    assert len(storage.db.article_keys.find_one({"_id": META})["pending"]) == 1
    storage.db.articles.insert_one(article("foreign"))  # written by something else: now the keys are behind
    with caplog.at_level("INFO", logger="newscrawl.store.keys"):
        index.ensure()
    assert "building the article keys (8 articles stored, 4 keyed)" in caplog.text
    assert storage.db.article_keys.find_one({"_id": META})["articles"] == 8
    assert index.find([url_id(article("foreign")["url_key"])])
