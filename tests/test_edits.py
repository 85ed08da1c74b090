"""What counts as an edit, on a real article page (tests/sites/unian, the English ISW story): the
page as the site would serve it again with other ads, counters, related stories and comments, or in
other markup, is the same article; a corrected headline, an inserted sentence, a changed figure, a
removed paragraph are edits, kept as revisions and shown by ``python -m newscrawl edits``.

Each version is parsed by the UNIAN parser and goes through the crawl's pipelines into the
session's database server (nx-27017, or MongoDB with ``MONGO_URI``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from conftest import ROOT, read_page
from newscrawl.extract.items import Article
from newscrawl.ops.edits import CONTEXT, word_diff
from newscrawl.store.database import Storage
from newscrawl.store.edits import changed_fields, edit_hash
from newscrawl.store.revisits import PolicyError, RevisitLog, RevisitOutcome, RevisitPolicy, due_articles, parse_cap
from pipelines.dedupe import UnchangedArticle
from spiders.unian import UnianParser
from test_dedupe_store import Run
from test_unian_parser import EN_URL, FETCHED, SEED_PAGE

PAGE = read_page(SEED_PAGE)
AD = ('<div class="ad-slot"><script>googletag.cmd.push(function(){googletag.display("div-gpt-ad-7731")})</script>'
      '<iframe src="https://ads.example/slot/7731?r=9921"></iframe><ins class="adsbygoogle" data-ad-slot="7731"></ins></div>')
COMMENT = "<li>Lukashenka will never fight, mark my words.</li>"


def served(page: str, later: int = 1) -> Article:
    """The page as served ``later`` hours after the first fetch, parsed."""
    return UnianParser.parse(page, EN_URL, fetched_at=FETCHED + timedelta(hours=later))


#: the page again with only what is not the article changed: none is an edit
SAME_ARTICLE: dict[str, Callable[[str], str]] = {
    "counters": lambda page: page.replace('comments">2<', 'comments">57<').replace('views">1340<', 'views">98812<'),
    "related stories": lambda page: re.sub(r"\[placeholder read-also headline (\w+)\]",
                                           r"Zelensky meets Biden in Kyiv (\1)", page),
    "ads": lambda page: page.replace("</p>\n    <p>In addition", f"</p>{AD}\n    <p>In addition", 1).replace(
        '<div class="container">', f'<div class="container"><aside class="banner">{AD} Advertisement</aside>'),
    "reader comments": lambda page: page.replace('<ol class="comments__list">', f'<ol class="comments__list">{COMMENT}'),
    "markup": lambda page: page.replace("<p>ISW analysts believe", '<p class="x"><span class="hl">ISW analysts</span>&nbsp;believe')
    .replace("in order to rearm its army", "in order to <b>rearm</b>\n      its army"),
    "a paragraph split in two": lambda page: page.replace("has said he is ready to enter the war",
                                                          "has said</p><p>he is ready to enter the war"),
}

#: the page again with an edit, and the fields it changes
EDITED: dict[str, tuple[Callable[[str], str], list[str]]] = {
    "corrected headline": (lambda page: page.replace("Putin absorbs Belarusian factories to strengthen his army – ISW",
                                                     "Putin absorbs Belarusian factories to rearm his army – ISW"), ["title"]),
    "inserted sentence": (lambda page: page.replace("ISW analysts believe",
                                                    "The Kremlin did not comment. ISW analysts believe"), ["body"]),
    "changed figure": (lambda page: page.replace("Belarus is 100% fulfilling", "Belarus is 90% fulfilling"), ["body"]),
    "removed paragraph": (lambda page: re.sub(r"<p>President of Ukraine Volodymyr Zelensky reacted.*?</p>", "", page,
                                              flags=re.S), ["body"]),
    "corrected lead": (lambda page: page.replace("Lukashenka also confirmed this process",
                                                 "Lukashenka also confirmed the process"), ["lead"]),
}


def test_the_variants_are_what_they_say() -> None:
    """Each variant changed the page (the test is not vacuous) and what the parser reads of it as said."""
    original = asdict(served(PAGE))
    for name, change in SAME_ARTICLE.items():
        assert change(PAGE) != PAGE, name
        again = asdict(served(change(PAGE)))
        assert changed_fields(original, again) == [] and edit_hash(again) == edit_hash(original), name
    split = asdict(served(SAME_ARTICLE["a paragraph split in two"](PAGE)))["body"]
    assert split != original["body"] and split.count("\n\n") == original["body"].count("\n\n") + 1  # not the words
    for name, (change, fields) in EDITED.items():
        assert changed_fields(original, asdict(served(change(PAGE)))) == fields, name


def test_ads_counters_and_markup_make_no_revision_edits_do(storage: Storage) -> None:
    first = Run(storage)
    first.feed(served(PAGE, 0))
    first.finish()
    for name, change in SAME_ARTICLE.items():
        again = Run(storage)
        with pytest.raises(UnchangedArticle):
            again.feed(served(change(PAGE)))
        again.finish()
    assert storage.db.article_revisions.count_documents({}) == 0

    page = PAGE
    for hours, (name, (change, fields)) in enumerate(EDITED.items(), start=2):
        page = change(page)
        run = Run(storage)
        run.feed(served(page, hours))
        run.finish()
        assert run.stat("newscrawl/mongo/updated") == 1, name
    (article,) = storage.db.articles.find()
    revisions = list(storage.db.article_revisions.find().sort("revision", 1))
    assert article["revision"] == len(EDITED) + 1
    assert [r["changed_fields"] for r in revisions] == [fields for _, fields in EDITED.values()]
    assert [r["seen_at"] for r in revisions] == [FETCHED + timedelta(hours=h) for h in range(2, len(EDITED) + 2)]
    assert revisions[0]["previous"]["title"] == "Putin absorbs Belarusian factories to strengthen his army – ISW"


def edits_command(storage: Storage, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MONGO_URI": storage.uri, "MONGO_DATABASE": storage.db.name}
    return subprocess.run([sys.executable, "-m", "newscrawl", "edits", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_edits_command_shows_each_edit_with_a_word_diff(storage: Storage) -> None:
    page = PAGE
    for hours, (change, _) in enumerate(EDITED.values()):
        page = change(page)
        run = Run(storage)
        run.feed(served(page, hours))
        run.finish()
    (article,) = storage.db.articles.find()
    RevisitLog([RevisitOutcome(article["_id"], 410)]).write(storage.db)

    result = edits_command(storage)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["changed_fields"] for row in rows] == [fields for _, fields in reversed(list(EDITED.values()))][:-1]
    assert [row["revision"] for row in rows] == [5, 4, 3, 2]  # the version each edit made, newest first
    assert {row["url"] for row in rows} == {EN_URL} and {row["site"] for row in rows} == {"unian"}
    figure, sentence = rows[2], rows[3]
    assert [op for op in figure["diff"]["body"] if op[0] != "="] == [["-", "100%"], ["+", "90%"]]
    assert figure["seen_at"] == (FETCHED + timedelta(hours=2)).isoformat()
    assert ["+", "The Kremlin did not comment."] in sentence["diff"]["body"]
    assert "title" not in {name for row in rows for name in row["diff"]}  # the first version stored had the new headline
    kept = [op[1] for op in figure["diff"]["body"] if op[0] == "="]
    assert all(len(text.replace(" … ", " ").split()) <= 2 * CONTEXT + 1 for text in kept)

    lead = json.loads(edits_command(storage, "--field", "lead").stdout)
    assert lead["diff"] == {"lead": [["=", "Lukashenka also confirmed"], ["-", "this"], ["+", "the"],
                                     ["=", "process, having made a reservation about the implementation …"]]}
    assert edits_command(storage, "--site", "pravda").stdout == ""
    assert edits_command(storage, "--since", "2999-01-01").stdout == ""
    (removed,) = [json.loads(line) for line in edits_command(storage, "--removed").stdout.splitlines()]
    assert (removed["url"], removed["status"], removed["revision"], removed["diff"]) == (EN_URL, 410, 5, {})
    for args, message in ((("--field", "section"), "--field 'section': one of title, lead, body"),
                          (("--since", "yesterday-ish"), "--since 'yesterday-ish' is not a date"),
                          (("--field", "title", "--removed"), "do not go together")):
        bad = edits_command(storage, *args)
        assert bad.returncode == 3 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr


def test_word_diff_keeps_context_around_changes() -> None:
    old = [f"w{i}" for i in range(40)]
    new = old[:20] + ["inserted"] + old[20:30] + old[31:]
    diff = word_diff(old, new)
    assert diff == [["=", "… " + " ".join(old[12:20])], ["+", "inserted"], ["=", " ".join(old[20:30])], ["-", "w30"],
                    ["=", " ".join(old[31:39]) + " …"]]
    assert word_diff(["a", "b"], ["a", "b"]) == [["=", "a b"]]
    assert word_diff([], ["new"]) == [["+", "new"]]


# -- the policy and the choice of due articles -----------------------------------------------------


def test_the_policy_is_read_from_durations() -> None:
    policy = RevisitPolicy.parse("1h, 6h,1d,3d,7d")
    assert policy.ages == (3600, 21600, 86400, 259200, 604800) and policy.enabled and not policy.every_article
    first = datetime(2023, 2, 18, 6, 24, tzinfo=timezone.utc)
    assert policy.next_due(first, first) == first.timestamp() + 3600
    assert policy.next_due(first, first + timedelta(hours=30)) == first.timestamp() + 3 * 86400  # 6h and 1d passed: one revisit
    assert policy.next_due(first, first + timedelta(days=8)) is None
    assert not RevisitPolicy.parse("").enabled and RevisitPolicy.parse("0s").every_article
    assert RevisitPolicy.parse("0s").next_due(first, first) is None
    assert RevisitPolicy.parse("30m,2w").ages == (1800, 1209600)
    for bad in ("1x", "h", "1h;2h", "-1h"):
        with pytest.raises(PolicyError, match="NEWSCRAWL_REVISIT_AGES"):
            RevisitPolicy.parse(bad)
    assert parse_cap("") is None and parse_cap("250") == 250
    with pytest.raises(PolicyError, match="NEWSCRAWL_REVISIT_MAX_PER_RUN"):
        parse_cap("lots")


def test_bad_revisit_settings_stop_a_run_in_one_line(tmp_path: Any) -> None:
    env = {**os.environ, "NEWSCRAWL_DATA_DIR": str(tmp_path), "NEWSCRAWL_REVISIT_AGES": "1h,sometimes"}
    result = subprocess.run([sys.executable, "-m", "newscrawl", "run", "unian"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 3 and "Traceback" not in result.stdout + result.stderr
    assert "NEWSCRAWL_REVISIT_AGES='1h,sometimes': 'sometimes' is not a duration" in result.stdout
    crawl = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "unian", "-s", "NEWSCRAWL_REVISIT_MAX_PER_RUN=-5"],
                           cwd=ROOT, env={**os.environ, "NEWSCRAWL_DATA_DIR": str(tmp_path)}, capture_output=True,
                           text=True, timeout=300)
    assert crawl.returncode == 3 and "NEWSCRAWL_REVISIT_MAX_PER_RUN='-5'" in crawl.stderr
    assert "Traceback" not in crawl.stderr


def test_due_articles_are_one_indexed_range(storage: Storage) -> None:
    """The most overdue first, up to the cap, the rest counted; other sites and removed articles
    left out; the query reads the ``next_revisit_at`` index, not the collection."""
    now = datetime.now(timezone.utc)
    base = now.timestamp()
    storage.db.articles.insert_many(
        [{"site": "a", "url": f"https://a.ua/{n}", "url_key": f"a.ua/{n}", "first_seen_at": now,
          "next_revisit_at": base + (n - 5) * 60} for n in range(10)]  # 0..5 due, 6..9 later
        + [{"site": "b", "url": "https://b.ua/1", "url_key": "b.ua/1", "first_seen_at": now, "next_revisit_at": base - 600}]
        + [{"site": "a", "url": "https://a.ua/gone", "url_key": "a.ua/gone", "first_seen_at": now, "removed_at": now}])
    policy = RevisitPolicy.parse("1h,1d")
    due = due_articles(storage.db, "a", policy, now, 4)
    assert [doc["url"] for doc in due.articles] == [f"https://a.ua/{n}" for n in range(4)] and due.left == 2
    assert [doc["url"] for doc in due_articles(storage.db, "a", policy, now, 100).articles] == \
        [f"https://a.ua/{n}" for n in range(6)]
    every = due_articles(storage.db, "a", RevisitPolicy.parse("0s"), now, 100)
    assert len(every.articles) == 10 and every.left == 0  # every article of the site, not the removed one
    assert due_articles(storage.db, "a", RevisitPolicy.parse(""), now, 100).articles == []

    plan = json.dumps(storage.db.articles.find({"next_revisit_at": {"$lte": base}, "site": "a"})
                      .sort("next_revisit_at", 1).explain()["queryPlanner"]["winningPlan"], default=str)
    assert "COLLSCAN" not in plan and not re.search(r'"SCAN articles\b', plan), plan
