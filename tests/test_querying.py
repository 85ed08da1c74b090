"""docs/QUERYING.md, run: every query it shows, against the server in use, on articles the project stored.

The articles are the saved pages of tests/sites (and two pages of tests/files/dates whose local day
is not their UTC day) parsed by the project's parsers and stored through its sink, then: the Pravda
article again with a corrected figure (a revision), the Ukrainian edition of the UNIAN story (two
editions linked), and two copies of that story (one on UNIAN, one on another site). Each query
block of the document (a ```python block after a ``<!-- test: NAME -->`` line) is run as written,
with ``db`` bound to that database, and its results are checked.

On nx-27017 the queries marked "MongoDB only" must still answer wrong, and each deviation in the
document's table is pinned: when an upgrade of nx-27017 fixes one, its test fails and says what to
update. On MongoDB (``MONGO_URI`` set) the pins are skipped.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure

from conftest import FILES, ROOT, read_page
from newscrawl.extract.items import Article
from newscrawl.ops.edits import find_edits, find_removed
from newscrawl.ops.site_fixtures import discover, page_text
from newscrawl.sites import parser_for_url
from newscrawl.store.database import open_storage
from newscrawl.store.dedupe import Verdict
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.nx import server_traits
from newscrawl.store.revisits import RevisitLog, RevisitOutcome
from newscrawl.store.server import free_port
from newscrawl.store.service import article_document
from newscrawl.store.sink import ArticleSink, SinkOptions

DOC = ROOT / "docs" / "QUERYING.md"
BLOCK = re.compile(r"<!-- test: (?P<name>\w+)(?P<mongodb_only>, MongoDB only)? -->\n```python\n(?P<code>.*?)```", re.S)
KYIV = ZoneInfo("Europe/Kyiv")
#: pages of tests/files/dates published late in the evening somewhere: their local day is not the UTC day
LATE_PAGES = {
    "dates/archiv.krimiblog.de.2895.html.gz": "http://archiv.krimiblog.de/?p=2895",
    "dates/twincities.com-mayor.html.gz":
        "https://www.twincities.com/2023/11/08/st-louis-park-elects-a-new-mayor-apparently-the-first-somali-american-to-lead-a-u-s-city/",
}
LATE_FETCHED = datetime(2026, 1, 9, tzinfo=timezone.utc)
PRAVDA_URL = "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/"
UNIAN_EN_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"
UNIAN_COPY_URL = "https://www.unian.info/society/putin-absorbs-belarusian-factories-copy-12149999.html"
PARTNER_COPY_URL = "https://partner-news.example/world/putin-belarus-factories"
UNN_URL = ("https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona-obmezhiv-povnovazhennya-"
           "sandu-sche-do-yiyi-inavguratsiyi")
TWINCITIES_URL = LATE_PAGES["dates/twincities.com-mayor.html.gz"]


@dataclass(frozen=True)
class Block:
    """One query block of docs/QUERYING.md."""

    name: str
    code: str
    mongodb_only: bool


def doc_blocks() -> dict[str, Block]:
    """The query blocks of docs/QUERYING.md, by name."""
    text = DOC.read_text(encoding="utf-8")
    blocks = [Block(m["name"], m["code"], bool(m["mongodb_only"])) for m in BLOCK.finditer(text)]
    assert len({block.name for block in blocks}) == len(blocks), "two query blocks share a name"
    return {block.name: block for block in blocks}


BLOCKS = doc_blocks()


# -- the articles -------------------------------------------------------------------------------


def late_article(relative: str, url: str) -> Article:
    """A page of tests/files as its site's (here: the generic) parser reads it."""
    html = page_text(gzip.decompress((FILES / relative).read_bytes()))
    return parser_for_url(url).parse(html, url, fetched_at=LATE_FETCHED)


def saved_articles() -> list[Article]:
    """Every article page of tests/sites and the late pages, parsed by the project's parsers."""
    fixtures = [f for f in discover() if "not_an_article" not in f.data["expected"]]
    return [parser_for_url(f.url).parse(f.html(), f.url, fetched_at=f.fetched_at) for f in fixtures] + [
        late_article(relative, url) for relative, url in LATE_PAGES.items()
    ]


def corrected_pravda() -> Article:
    """The Pravda page as it was corrected later: another figure, a later dateModified."""
    (fixture,) = [f for f in discover() if f.url == PRAVDA_URL]
    html = fixture.html().replace("157 миллионов гривен", "158 миллионов гривен").replace(
        '"dateModified": "2026-01-08T17:46:00+02:00"', '"dateModified": "2026-01-08T18:30:00+02:00"')
    return parser_for_url(PRAVDA_URL).parse(html, PRAVDA_URL, fetched_at=fixture.fetched_at + timedelta(hours=1))


def ukrainian_edition(english: Article) -> Article:
    """The uk edition of the UNIAN story at the address the English page links. No page of it is
    saved: the English article with the edition's URL, a headline from its slug, and real
    Ukrainian text (the UNIAN uk feed's) as its body."""
    text = " ".join(re.findall(r"<!\[CDATA\[(.*?)\]\]>", read_page("unian/rss_unian_ua_2020-09-28.xml"))[:40])
    url = english.translations["uk"]
    return replace(english, url=url, canonical_url=url, language="uk", lead=text[:200], body=text,
                   title="Путін поглинає білоруські заводи для посилення своєї армії – ISW",
                   translations={"en": english.url})


def copy_of(article: Article, url: str, site: str) -> Article:
    """``article``'s text at another address (on ``site``)."""
    return replace(article, url=url, canonical_url=url, site=site, source_id=None, translations={})


@dataclass(frozen=True)
class Stored:
    """The database the articles were stored in, and what went in."""

    db: Database[dict[str, Any]]
    articles: list[Article]
    server: str

    @property
    def on_nx(self) -> bool:
        return self.server == "nx-27017"

    def doc(self, url: str) -> dict[str, Any]:
        found = self.db.articles.find_one({"url": url})
        assert found is not None, url
        return found


def crawl_run(uri: str, database: str, files: Path, articles: list[Article]) -> list[Verdict]:
    """Check and store ``articles`` as one crawl run does, through the project's sink (dedupe
    included); their verdicts."""
    sink = ArticleSink(MongoArticles(open_storage(uri, database), owned=True),
                       SinkOptions(spill_dir=files / "spill", quarantine_dir=files / "quarantine", lookup_batch=1))
    verdicts = []

    async def check(doc: dict[str, Any]) -> Verdict:
        return (await sink.check(doc)).verdict

    try:
        for article in articles:
            doc = article_document(article)
            verdicts.append(asyncio.run(check(doc)))
            if verdicts[-1] in (Verdict.NEW, Verdict.UPDATE):
                sink.add(doc)
    finally:
        sink.close()
    assert sink.unsaved == 0 and not list(files.rglob("*.jsonl")), "nothing spilled or quarantined"
    return verdicts


@pytest.fixture(scope="module")
def stored(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    """The saved pages stored by one run; the next run meets the corrected Pravda article, the uk
    edition of the UNIAN story and two copies of it, and finds the UNN article gone (410)."""
    name = f"t_querying_{uuid.uuid4().hex[:8]}"
    files = tmp_path_factory.mktemp("querying")
    articles = saved_articles()
    english = next(a for a in articles if a.url == UNIAN_EN_URL)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    try:
        assert set(crawl_run(mongo_uri, name, files, articles)) == {Verdict.NEW}
        later = [corrected_pravda(), ukrainian_edition(english),
                 copy_of(english, UNIAN_COPY_URL, "unian"), copy_of(english, PARTNER_COPY_URL, "partner-news.example")]
        verdicts = crawl_run(mongo_uri, name, files, later)
        assert verdicts == [Verdict.UPDATE, Verdict.NEW, Verdict.SAME_CONTENT, Verdict.SAME_CONTENT]
        gone = client[name].articles.find_one({"url": UNN_URL})
        RevisitLog([RevisitOutcome(gone["_id"], 410)]).write(client[name])
        yield Stored(client[name], articles, server_traits(client).server)
    finally:
        client.drop_database(name)
        client.close()


def run(block: Block, db: Database[dict[str, Any]]) -> dict[str, Any]:
    """Run a document block as written, with ``db`` bound; the names it defines."""
    names: dict[str, Any] = {"db": db}
    exec(compile(block.code, f"{DOC.name}:{block.name}", "exec"), names)  # noqa: S102 - the document's own code
    return names


# -- what each block must answer ----------------------------------------------------------------


def editions(stored: Stored) -> set[tuple[str, str | None]]:
    """(site, language) of every stored article: the saved pages' and the later uk edition's."""
    return {(a.site, a.language) for a in stored.articles} | {("unian", "uk")}


def check_latest_per_edition(names: dict[str, Any], stored: Stored) -> None:
    latest = names["latest"]
    assert set(latest) == editions(stored)
    assert [d["url"] for d in latest["unian", "en"]] == [UNIAN_EN_URL]
    assert [d["title"] for d in latest["unian", "uk"]] == ["Путін поглинає білоруські заводи для посилення своєї армії – ISW",
                                                         "Зеленський вніс зміни у склад Нацради з питань антикорупційної політики"]
    assert latest["unian", "ru"][0]["published_at"] == datetime(2018, 3, 18, 0, 59, tzinfo=timezone.utc)
    assert all(len(docs) == sum(a.site == site and a.language == language for a in stored.articles)
               for (site, language), docs in latest.items() if (site, language) != ("unian", "uk"))


def check_latest_ids_per_edition(names: dict[str, Any], stored: Stored) -> None:
    latest_ids = names["latest_ids"]
    assert latest_ids["unian/en"] == [stored.doc(UNIAN_EN_URL)["_id"]]
    assert latest_ids["pravda/ru"] == [stored.doc(PRAVDA_URL)["_id"]]
    assert len(latest_ids) == len(editions(stored))
    ids = [_id for group in latest_ids.values() for _id in group]
    assert len(list(stored.db.articles.find({"_id": {"$in": ids}}))) == len(list(stored.db.articles.find()))


def check_latest_per_edition_compound(names: dict[str, Any], stored: Stored) -> None:
    latest_docs = names["latest_docs"]
    assert latest_docs["unian", "en"] == [{"url": UNIAN_EN_URL, "published_at": datetime(2023, 2, 18, 4, 24, tzinfo=timezone.utc)}]
    assert len(latest_docs) == len(editions(stored))


def check_date_range(names: dict[str, Any], stored: Stored) -> None:
    assert [d["site"] for d in names["in_range"]] == ["ukrinform", "tv24", "unian", "ukranews"]
    assert [d["site"] for d in names["kyiv_day"]] == ["ukrinform"]  # 23:32 in Kyiv, 20:32 UTC


def check_local_day(names: dict[str, Any], stored: Stored) -> None:
    (there,) = names["that_day_there"]
    assert there["url"] == TWINCITIES_URL
    assert there["published_local"] == "2023-11-08T23:30:59-06:00"
    assert there["published_at"] == datetime(2023, 11, 9, 5, 30, 59, tzinfo=timezone.utc)


def local_days(stored: Stored) -> Counter[tuple[str, str]]:
    """Articles per site and local day, counted here from the stored documents."""
    return Counter((d["site"], d["published_local"][:10]) for d in stored.db.articles.find())


def check_counts_per_site_and_day(names: dict[str, Any], stored: Stored) -> None:
    per_site_day = names["per_site_day"]
    assert per_site_day == local_days(stored)
    assert per_site_day["archiv.krimiblog.de", "2009-08-06"] == 1  # 22:00 UTC the day before
    assert per_site_day["unian", "2023-02-18"] == 2  # the en and uk editions
    assert list(per_site_day) == sorted(per_site_day)


def check_counts_per_site_and_kyiv_day(names: dict[str, Any], stored: Stored) -> None:
    expected = Counter((d["site"], d["published_at"].astimezone(KYIV).date().isoformat()) for d in stored.db.articles.find())
    assert names["per_site_kyiv_day"] == expected
    assert names["per_site_kyiv_day"]["twincities.com", "2023-11-09"] == 1


def check_regex_search(names: dict[str, Any], stored: Stored) -> None:
    assert UNN_URL in {d["url"] for d in names["found"]}
    expected = {d["url"] for d in stored.db.articles.find()
                if "молдов" in " ".join(d.get(f) or "" for f in ("title", "lead", "body")).lower()}
    assert {d["url"] for d in names["found"]} == expected


def check_tag_search(names: dict[str, Any], stored: Stored) -> None:
    assert [d["url"] for d in names["tagged"]] == [UNN_URL]
    assert [d["url"] for d in names["tag_prefix"]] == [UNN_URL]


def check_text_search(names: dict[str, Any], stored: Stored) -> None:
    hits = names["hits"]
    assert {UNIAN_EN_URL, UNN_URL} <= {d["url"] for d in hits}
    scores = [d["score"] for d in hits]
    assert scores == sorted(scores, reverse=True)


def check_revisions(names: dict[str, Any], stored: Stored) -> None:
    article, revisions = names["article"], names["revisions"]
    assert article["revision"] == 2 and "158 миллионов гривен" in article["body"]
    (previous,) = revisions
    assert previous["revision"] == 1 and previous["article_id"] == article["_id"]
    assert "157 миллионов гривен" in previous["previous"]["body"]
    assert {"body", "modified_at"} <= set(previous["changed_fields"])


def check_edits(names: dict[str, Any], stored: Stored) -> None:
    (edit,) = names["edits"]
    assert (edit["url"], edit["site"], edit["revision"]) == (PRAVDA_URL, "pravda", 2)
    assert edit["changed_fields"] == ["lead", "body", "modified_at"] and ("replace", "157", "158") in edit["diff"]["body"]
    assert edit["seen_at"] == corrected_pravda().fetched_at
    (command,) = find_edits(stored.db, since=datetime(2026, 1, 1, tzinfo=timezone.utc))  # what `newscrawl edits` prints
    assert {key: edit[key] for key in ("url", "site", "title", "revision", "changed_fields", "seen_at")} == \
        {key: command[key] for key in ("url", "site", "title", "revision", "changed_fields", "seen_at")}
    (gone,) = names["removed"]
    assert (gone["url"], gone["site"], gone["removed_status"]) == (UNN_URL, "unn", 410)
    assert [row["url"] for row in find_removed(stored.db, since=datetime(2026, 1, 1, tzinfo=timezone.utc))] == [UNN_URL]


def check_editions(names: dict[str, Any], stored: Stored) -> None:
    editions = names["editions"]
    assert sorted(editions) == ["en", "uk"]
    assert editions["uk"]["url"] == names["story"]["translations"]["uk"]
    assert editions["uk"]["translation_ids"] == {"en": editions["en"]["_id"]}
    assert names["not_stored"] == {}


def check_copies(names: dict[str, Any], stored: Stored) -> None:
    original = stored.doc(UNIAN_EN_URL)
    assert names["original"]["_id"] == names["republished"]["_id"] == names["alias"]["article_id"] == original["_id"]
    assert original["also_published_by"] == [{"site": "partner-news.example", "url": PARTNER_COPY_URL}]
    assert [(d["url"], d["duplicate_urls"]) for d in names["with_copies"]] == [(UNIAN_EN_URL, [UNIAN_COPY_URL])]


CHECKS: dict[str, Callable[[dict[str, Any], Stored], None]] = {
    "latest_per_edition": check_latest_per_edition,
    "latest_ids_per_edition": check_latest_ids_per_edition,
    "latest_per_edition_compound": check_latest_per_edition_compound,
    "date_range": check_date_range,
    "local_day": check_local_day,
    "counts_per_site_and_day": check_counts_per_site_and_day,
    "counts_per_site_and_kyiv_day": check_counts_per_site_and_kyiv_day,
    "regex_search": check_regex_search,
    "tag_search": check_tag_search,
    "text_search": check_text_search,
    "revisions": check_revisions,
    "edits": check_edits,
    "editions": check_editions,
    "copies": check_copies,
}


def test_every_query_of_the_document_is_checked() -> None:
    assert set(BLOCKS) == set(CHECKS)


def answers_right(name: str, db: Database[dict[str, Any]], stored: Stored) -> bool:
    """Whether the document's block ``name`` run on ``db`` gives the answers it should."""
    try:
        CHECKS[name](run(BLOCKS[name], db), stored)
    except (AssertionError, LookupError, TypeError, OperationFailure):  # e.g. literal groups, ANDed words
        return False
    return True


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_query_of_the_document(stored: Stored, name: str) -> None:
    """Each query answers right; on nx-27017 the ones marked MongoDB only answer wrong (pinned)."""
    if not (BLOCKS[name].mongodb_only and stored.on_nx):
        CHECKS[name](run(BLOCKS[name], stored.db), stored)
        return
    copy = stored.db.client[f"{stored.db.name}_copy"]  # what such a query leaves (a text index) stays there
    copy.articles.insert_many(stored.db.articles.find())
    try:
        right = answers_right(name, copy, stored)
    finally:
        stored.db.client.drop_database(copy.name)
    still(not right, f"fails the MongoDB-only query {name!r} (drop 'MongoDB only' from it)")


# -- the deviations of nx-27017 the document names, pinned ----------------------------------------


@pytest.fixture
def nx(stored: Stored) -> Stored:
    """The stored articles, on nx-27017 only."""
    if not stored.on_nx:
        pytest.skip(f"pins a deviation of nx-27017; the server is {stored.server}")
    return stored


def still(deviates: bool, what: str) -> None:
    """Assert that nx-27017 still answers as docs/QUERYING.md says."""
    assert deviates, (f"nx-27017 no longer {what}: update the table in docs/QUERYING.md, and the trait in "
                      "newscrawl/store/nx.py where there is one")


def plan(db: Database[dict[str, Any]], query: dict[str, Any]) -> str:
    return json.dumps(db.articles.find(query).explain()["queryPlanner"]["winningPlan"], default=str)


def urls(collection: Collection[dict[str, Any]], query: dict[str, Any]) -> list[str]:
    """The URLs of what ``find`` answers for ``query``, sorted."""
    return sorted(doc["url"] for doc in collection.find(query, {"url": 1}))


def test_nx_compiled_regex_raises_or_counts_nothing(nx: Stored) -> None:
    assert urls(nx.db.articles, {"title": {"$regex": "Putin"}}) == [UNIAN_EN_URL]
    still(nx.db.articles.count_documents({"title": re.compile("Putin")}) == 0, "counts 0 for a compiled regex")
    with pytest.raises(OperationFailure, match="'Regex' is not supported"):
        list(nx.db.articles.find({"title": re.compile("Putin")}))


def test_nx_keeps_document_expressions_literally(nx: Stored) -> None:
    groups = list(nx.db.articles.aggregate([{"$group": {"_id": {"site": "$site", "language": "$language"}, "n": {"$sum": 1}}}]))
    still(groups == [{"_id": {"site": "$site", "language": "$language"}, "n": len(urls(nx.db.articles, {}))}],
          "groups by a literal document")
    [first] = nx.db.articles.aggregate([{"$match": {"url": UNN_URL}},
                                        {"$group": {"_id": "$site", "latest": {"$firstN": {"n": 1, "input": {"url": "$url"}}}}}])
    still(first["latest"] == [{"url": "$url"}], "returns a $firstN input document literally")


def test_nx_top_n_gives_no_field(nx: Stored) -> None:
    rows = list(nx.db.articles.aggregate([{"$match": {"site": "unian"}}, {"$group": {"_id": "$language", "latest": {
        "$topN": {"n": 1, "sortBy": {"published_at": -1}, "output": "$url"}}}}]))
    still(len(rows) == 3 and all("latest" not in row for row in rows), "drops the $topN field")


def test_nx_max_and_min_of_dates_are_strings(nx: Stored) -> None:
    [row] = nx.db.articles.aggregate([{"$match": {"site": "unian"}}, {"$group": {
        "_id": "$site", "newest": {"$max": "$published_at"}, "oldest": {"$min": "$published_at"}}}])
    still(row["newest"] == '{"$date":"2023-02-18T04:24:00"}', "returns $max of dates as a string")
    still(row["oldest"] == '{"$date":"2018-03-18T00:59:00"}', "returns $min of dates as a string")


def test_nx_aggregation_ids_are_strings(nx: Stored) -> None:
    article = nx.doc(UNN_URL)
    [projected] = nx.db.articles.aggregate([{"$match": {"url": UNN_URL}}, {"$project": {"url": 1}}])
    [grouped] = nx.db.articles.aggregate([{"$match": {"url": UNN_URL}}, {"$group": {"_id": "$_id"}}])
    still(projected["_id"] == grouped["_id"] == str(article["_id"]), "returns _id from $project/$group as a hex string")
    assert urls(nx.db.articles, {"_id": ObjectId(projected["_id"])}) == [UNN_URL]  # the workaround


def test_nx_object_ids_match_nothing_in_aggregations_and_counts(nx: Stored) -> None:
    article_id = nx.doc(PRAVDA_URL)["_id"]
    assert urls(nx.db.articles, {"_id": {"$in": [article_id]}}) == [PRAVDA_URL]
    still(list(nx.db.articles.aggregate([{"$match": {"_id": article_id}}])) == [], "misses ObjectIds in $match")
    still(nx.db.articles.count_documents({"_id": article_id}) == 0, "counts 0 for an ObjectId filter")
    still(nx.db.article_revisions.count_documents({"article_id": {"$in": [article_id]}}) == 0,
          "counts 0 for an ObjectId filter")


def test_nx_date_to_string_ignores_the_timezone(nx: Stored) -> None:
    [row] = nx.db.articles.aggregate([{"$match": {"url": TWINCITIES_URL}}, {"$project": {"day": {"$dateToString": {
        "format": "%Y-%m-%d %H:%M", "date": "$published_at", "timezone": "Europe/Kyiv"}}}}])
    still(row["day"] == "2023-11-09 05:30", "ignores $dateToString's timezone (Kyiv: 2023-11-09 07:30)")


def test_nx_find_compares_iso_strings_as_instants(nx: Stored) -> None:
    text_range = {"published_local": {"$gte": "2023-11-08", "$lt": "2023-11-09"}}  # holds '2023-11-08T23:30:59-06:00'
    still(urls(nx.db.articles, text_range) == [], "compares ISO date strings as instants in find")
    assert nx.db.articles.count_documents(text_range) == 1  # an aggregation compares them as text


def test_nx_find_matches_a_regex_against_a_lists_json_text(nx: Stored) -> None:
    still(urls(nx.db.articles, {"tags": {"$regex": "Молдова"}}) == [], "misses non-ASCII text in a list")
    still(urls(nx.db.articles, {"authors": {"$regex": "^Marta"}}) == [], "misses an anchored pattern in a list")
    still(urls(nx.db.articles, {"tags": {"$regex": r"^\["}}) == urls(nx.db.articles, {}), "matches a list's JSON text")
    editions = urls(nx.db.articles, {"authors": {"$elemMatch": {"$regex": "^Marta"}}})
    assert editions == sorted([UNIAN_EN_URL, nx.doc(UNIAN_EN_URL)["translations"]["uk"]])  # the workaround


def test_nx_list_index_in_a_path_matches_nothing(nx: Stored) -> None:
    assert nx.doc(UNIAN_EN_URL)["duplicate_urls"] == [UNIAN_COPY_URL]
    still(urls(nx.db.articles, {"duplicate_urls.0": {"$exists": True}}) == [], "ignores duplicate_urls.0")


def test_nx_object_id_equality_outside_id_matches_nothing(nx: Stored) -> None:
    article_id = nx.doc(PRAVDA_URL)["_id"]
    assert len(list(nx.db.article_revisions.find({"article_id": {"$in": [article_id]}}))) == 1
    still(list(nx.db.article_revisions.find({"article_id": article_id})) == [], "misses ObjectId equality outside _id")


def test_nx_ne_null_matches_articles_without_the_field(nx: Stored) -> None:
    assert len(list(nx.db.articles.find({"removed_at": {"$gte": datetime(1970, 1, 1, tzinfo=timezone.utc)}}))) == 1
    still(len(list(nx.db.articles.find({"removed_at": {"$ne": None}}))) == nx.db.articles.count_documents({}),
          "matches documents without the field for {'$ne': None}")


def test_nx_text_search_needs_no_index_and_ands_the_words(nx: Stored) -> None:
    assert "text" not in {key for index in nx.db.articles.list_indexes() for key in index["key"].values()}
    search = lambda words: urls(nx.db.articles, {"$text": {"$search": words}})  # noqa: E731
    uk_edition = nx.doc(UNIAN_EN_URL)["translations"]["uk"]  # its body links a ".../po-kotorym-putin-..." page
    still(search("Putin") == sorted([UNIAN_EN_URL, uk_edition]), "answers $text without a text index")
    still(search("Putin Молдовы") == [], "ANDs the words of $text (MongoDB: either word)")


def test_nx_push_and_add_to_set(nx: Stored) -> None:
    scratch = nx.db.scratch_updates
    _id = scratch.insert_one({k: v for k, v in nx.doc(UNIAN_EN_URL).items() if k != "_id"}).inserted_id
    scratch.update_one({"_id": _id}, {"$push": {"also_published_by": {"site": "s", "url": "https://s.example/a"}}})
    scratch.update_one({"_id": _id}, {"$addToSet": {"labels": "checked"}})
    doc = scratch.find_one({"_id": _id})
    still(isinstance(doc["also_published_by"][-1], str), "stores a $push-ed subdocument as JSON text")
    still("labels" not in doc, "ignores $addToSet on a missing field")


def test_nx_index_on_a_list_hides_the_documents(nx: Stored) -> None:
    scratch = nx.db.scratch_tags
    scratch.insert_many([{k: v for k, v in d.items() if k != "_id"} for d in nx.db.articles.find({"tags": "Молдова"})])
    assert urls(scratch, {"tags": "Молдова"}) == [UNN_URL]
    scratch.create_index("tags")
    still(urls(scratch, {"tags": "Молдова"}) == [], "hides documents from a query on an indexed list")


def test_nx_scans_for_in_or_and_site(nx: Stored) -> None:
    keys = [d["url_key"] for d in nx.db.articles.find({}, {"url_key": 1}).limit(2)]
    assert "USING INDEX" in plan(nx.db, {"url_key": keys[0]})
    assert "USING INDEX" in plan(nx.db, {"published_at": {"$gte": datetime(2020, 1, 1, tzinfo=timezone.utc)}})
    for query in ({"url_key": {"$in": keys}}, {"$or": [{"url_key": keys[0]}, {"content_hash": "x"}]}, {"site": "unian"}):
        still("USING INDEX" not in plan(nx.db, query), f"scans the collection for {query}")


def test_nx_refuses_some_stages(nx: Stored) -> None:
    for stage in ({"$set": {"checked": True}}, {"$sortByCount": "$site"}):
        with pytest.raises(OperationFailure, match="not supported"):
            list(nx.db.articles.aggregate([stage]))


# -- the pointer for people who query the embedded server -----------------------------------------


def test_db_command_points_to_the_querying_guide(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "MONGO_DATABASE")}
    env["NEWSCRAWL_DATA_DIR"] = str(tmp_path / "data")
    db = subprocess.Popen([sys.executable, "-m", "newscrawl", "db", "--port", str(free_port())], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [db.stdout.readline().strip() for _ in range(3)]  # the third comes once SIGTERM is handled
    finally:
        db.send_signal(signal.SIGTERM)
        assert db.wait(timeout=300) == 0
    assert lines[0].startswith("MONGO_URI=mongodb://127.0.0.1:")
    assert "docs/QUERYING.md" in lines[2]
    assert (ROOT / "docs" / "QUERYING.md").exists()
