"""Hostile pages in, safe and true data out: ``scrapy crawl generic`` of local sites (under the
recording network guard) whose articles are written to be run by a spreadsheet, or dated tomorrow.

- titles, authors and tags that a spreadsheet would run as formulas come out of both CSV paths
  (``scrapy crawl … -O x.csv`` and ``python -m newscrawl export --format csv``) as text a
  spreadsheet shows, and out of JSON lines, XML and the database as the page wrote them;
- a page whose only date is tomorrow (in a +14:00 zone, where tomorrow comes first) gets no date
  and is dropped as undated (``MissingRequiredField``), in every place a page can give a date, and
  so does an undated page whose feed entry or URL gives tomorrow.

The pages are synthetic (hostile pages are written for the purpose); their text is the real UNIAN
English article of tests/files/unian/article_en_seed.txt.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import FILES, ROOT
from localsite import crawl_env, serving, stat
from newscrawl.extract.parser import FeedHint, GenericParser
from newscrawl.extract.items import plausible_body
from newscrawl.ops.exporters import FORMULA_STARTS
from test_hostile_sites import article, crawl, handler, home, html

SEED = (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8").split("\n\n")
PARAGRAPHS = [p for p in SEED[4:] if len(p) > 80]
#: titles a spreadsheet runs as formulas, and the title each is stored with (a leading tab is not text)
FORMULAS = {
    '=HYPERLINK("http://x","click")': '=HYPERLINK("http://x","click")',
    "+cmd|' /C calc'!A0": "+cmd|' /C calc'!A0",
    "@SUM(1+1)": "@SUM(1+1)",
    "-2+3": "-2+3",
    "\t=1+1": "=1+1",
    "\r=2+2": "=2+2",
}


def db_articles(mongo_uri: str, database: str) -> list[dict]:
    client: MongoClient = MongoClient(mongo_uri)
    try:
        return list(client[database].articles.find({}, {"_id": 0}))
    finally:
        client.close()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.crawl
def test_formulas_in_articles_are_text_in_csv_and_true_elsewhere(tmp_path: Path, mongo_uri: str) -> None:
    site = handler("Formulas")
    with serving(site) as base:
        own = base.removeprefix("http://")
        paths = [f"/2024/05/0{n + 1}/story-{n}/" for n in range(len(FORMULAS))]
        site.routes[(own, "/")] = home(*paths)
        for n, (path, title) in enumerate(zip(paths, FORMULAS)):
            page = article(title, PARAGRAPHS[2 * n:2 * n + 2], published=f"2024-05-0{n + 1}T09:00:00+00:00",
                           author={"@type": "Person", "name": "=cmd Person"}, keywords=["-2+3", "@tag"])
            site.routes[(own, path)] = html(page)
        env = crawl_env(tmp_path, mongo_uri, "formulas", NEWSCRAWL_PLAYWRIGHT="0")
        outputs = {kind: tmp_path / f"feed.{kind}" for kind in ("csv", "jsonl", "xml")}
        log = crawl(tmp_path, env, "formulas", "-a", f"url={base}/", "-s", "NEWSCRAWL_SITEMAPS=0",
                    *[arg for out in outputs.values() for arg in ("-O", str(out))])
    assert stat(log, "newscrawl/mongo/inserted") == len(FORMULAS), log[-3000:]
    exported = {}
    for kind in ("csv", "jsonl"):
        exported[kind] = tmp_path / f"export.{kind}"
        subprocess.run([sys.executable, "-m", "newscrawl", "export", "--format", kind, "--out", str(exported[kind])],
                       cwd=ROOT, env=env, check=True, timeout=300, capture_output=True)
    stored = set(FORMULAS.values())

    for rows in (csv_rows(outputs["csv"]), csv_rows(exported["csv"])):
        assert {row["title"] for row in rows} == {"'" + title for title in stored}
        assert {row["authors"] for row in rows} == {"'=cmd Person"}
        assert {row["tags"] for row in rows} == {"'-2+3; @tag"}
        texts = [cell for row in rows for cell in row.values() if not cell.lstrip("-").isdigit()]
        assert texts and not [cell for cell in texts if cell.startswith(FORMULA_STARTS)]
        assert all(row["word_count"].isdigit() for row in rows)  # numbers stay numbers
    jsonl = [json.loads(line) for path in (outputs["jsonl"], exported["jsonl"])
             for line in path.read_text(encoding="utf-8").splitlines()]
    assert {item["title"] for item in jsonl} == stored and len(jsonl) == 2 * len(stored)
    assert {tuple(item["authors"]) for item in jsonl} == {("=cmd Person",)}
    xml_titles = {item.findtext("title") for item in ElementTree.parse(outputs["xml"]).getroot().findall("item")}
    assert xml_titles == stored
    docs = db_articles(mongo_uri, env["MONGO_DATABASE"])
    assert {doc["title"] for doc in docs} == stored
    assert {tuple(doc["tags"]) for doc in docs} == {("-2+3", "@tag")}


def tomorrow_pages(fetched: datetime) -> dict[str, str]:
    """A page per place a date can be given, each giving only a time tomorrow in a +14:00 zone
    (where it is already the day after the fetch's UTC day), or only a bare time of day."""
    ahead = fetched.astimezone(timezone(timedelta(hours=14))) + timedelta(days=1)
    stamp = ahead.replace(hour=9, minute=30, second=0, microsecond=0)
    iso, printed = stamp.isoformat(), f"{stamp:%d.%m.%Y %H:%M}"
    ld = json.dumps({"@type": "NewsArticle", "headline": "Tomorrow's story", "datePublished": iso})
    return {
        "jsonld": f"<script type='application/ld+json'>{ld}</script>",
        "meta": f"<meta property='article:published_time' content='{iso}'>",
        "time": f"<time datetime='{iso}'>{printed}</time>",
        "dateline": f"<p class='date'>{printed}</p>",
        "day_only": f"<p class='date'>{stamp:%d.%m.%Y}</p>",
        "words": f"<p class='date'>{stamp:%B %d, %Y}</p>",
        "next_month": f"<p class='date'>{(stamp + timedelta(days=30)):%d.%m.%Y}</p>",
        "time_of_day": "<p class='date'>09:30</p>",
    }


def dated_page(place: str, head_or_body: str) -> str:
    head = head_or_body if place in ("jsonld", "meta") else ""
    body = "" if head else head_or_body
    text = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3])
    return (f"<!doctype html><html lang='en'><head><title>Tomorrow's story</title>{head}</head>"
            f"<body><article><h1>Tomorrow's story</h1>{body}{text}</article></body></html>")


@pytest.mark.parametrize("place", list(tomorrow_pages(datetime.now(timezone.utc))))
def test_a_page_dated_only_in_the_future_has_no_date(place: str) -> None:
    """Fetched at each hour of a day: the page's only date is after the fetch (or a bare time of
    day, which the fetch would date): no date, never one derived from the fetch time."""
    for hour in range(0, 24, 3):
        fetched = datetime(2026, 11, 29, hour, 15, tzinfo=timezone.utc)
        page = dated_page(place, tomorrow_pages(fetched)[place])
        for url in ("http://127.0.0.1:8000/news/tomorrows-story", "https://example.com/news/tomorrows-story"):
            parsed = GenericParser.parse(page, url, fetched_at=fetched)
            assert (parsed.published_at, parsed.published_raw) == (None, None), (hour, url, parsed.published_raw)


def test_a_feed_entry_or_url_dated_only_in_the_future_gives_no_date() -> None:
    """An undated page whose feed entry, or whose URL, gives tomorrow (in a +14:00 zone): no date;
    the same feed entry two hours before the fetch is the date."""
    page = dated_page("none", "")
    for hour in range(0, 24, 3):
        fetched = datetime(2026, 11, 29, hour, 15, tzinfo=timezone.utc)
        stamp = (fetched.astimezone(timezone(timedelta(hours=14))) + timedelta(days=1)).replace(hour=9, minute=30)
        for raw in (stamp.isoformat(), f"{stamp:%a, %d %b %Y %H:%M:%S %z}"):
            parsed = GenericParser.parse(page, "https://example.com/news/story", fetched_at=fetched,
                                         hint=FeedHint(published_raw=raw))
            assert (parsed.published_at, parsed.published_raw) == (None, None), (hour, raw)
        parsed = GenericParser.parse(page, f"https://example.com/{stamp:%Y/%m/%d}/story/", fetched_at=fetched)
        assert (parsed.published_at, parsed.published_raw) == (None, None), (hour, stamp)
        earlier = fetched - timedelta(hours=2)
        parsed = GenericParser.parse(page, "https://example.com/news/story", fetched_at=fetched,
                                     hint=FeedHint(published_raw=earlier.isoformat()))
        assert parsed.published_at == earlier


@pytest.mark.crawl
def test_a_page_dated_tomorrow_is_dropped_as_undated(tmp_path: Path, mongo_uri: str) -> None:
    """The crawl's fetch time is the clock's, whatever the server's ``Date`` header says (here: an
    hour before tomorrow's date): every page is dropped as undated, none stored."""
    pages = tomorrow_pages(datetime.now(timezone.utc))
    site = handler("Tomorrow")
    with serving(site) as base:
        own = base.removeprefix("http://")
        paths = [f"/news/tomorrow-{place.replace('_', '-')}-{1000 + n}" for n, place in enumerate(pages)]
        site.routes[(own, "/")] = home(*paths)
        late_clock = {"Date": (datetime.now(timezone.utc) + timedelta(hours=23)).strftime("%a, %d %b %Y %H:%M:%S GMT")}
        for path, (place, markup) in zip(paths, pages.items()):
            site.routes[(own, path)] = (200, dated_page(place, markup).encode(), late_clock)
        env = crawl_env(tmp_path, mongo_uri, "tomorrow", NEWSCRAWL_PLAYWRIGHT="0")
        log = crawl(tmp_path, env, "tomorrow", "-a", f"url={base}/", "-s", "NEWSCRAWL_SITEMAPS=0")
    assert stat(log, "newscrawl/articles_parsed") == len(pages), log[-3000:]
    assert stat(log, "item_dropped_reasons_count/MissingRequiredField") == len(pages), log[-3000:]
    assert db_articles(mongo_uri, env["MONGO_DATABASE"]) == []


HINDI = ("समस्तीपुर के बंगरा थाना क्षेत्र के रहीमाबाद गांव में 2 दिन पहले हुए मोहम्मद तबरेज के घर चोरी मामले का पुलिस ने "
         "बुधवार को खुलासा कर लिया है। पुलिस ने इस मामले में छापेमारी कर 2 बदमाशों को गिरफ्तार किया।")  # Fundus ind/Bhaskar


@pytest.mark.parametrize(("text", "plausible"), [
    ("Local News", False),  # a site's name
    ("Council approves the new river bridge", False),  # a heading
    ("Local News\n\nHome\n\n|\n\nCity\n\n|\n\nSport\n\n|\n\nAbout us", False),  # a site's header and menu
    (" | ".join(["Home", "World", "Politics", "Economy", "Sport", "Culture", "Science", "Health", "Opinion",
                 "Video", "Photo", "Archive", "Contacts", "Advertising", "About us", "Subscribe"]), False),
    ("\n\n".join(f"{title} 02:37 воскресенье, 18 марта 2018" for title in ("Экс-замглавы ФБР передал данные",
                                                                        "В Крыму родителям школьников",
                                                                        "Facebook заблокировал компанию")), False),
    ("The council approved the money for the bridge.", False),  # prose, shorter than an article
    (PARAGRAPHS[0], True),
    ("\n\n".join(PARAGRAPHS[:3]), True),
    (HINDI, True),  # sentences end with a danda
    (" ".join(PARAGRAPHS[1].replace(".", "").split()[:45]), True),  # a long paragraph without a stop
])
def test_only_an_articles_text_is_a_body(text: str, plausible: bool) -> None:
    assert plausible_body(text) is plausible
