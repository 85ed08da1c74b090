"""The report's "Changed after publication" section: edits and removals per site per day, and the
newest edits with their word diffs, hostile text shown as text; opened in headless Chromium.

The edits are versions of the real UNIAN page (tests/test_edits.py) stored through the crawl's
pipelines, seen on days of the report's window; the removal is written as a revisit that met a
410 writes it (today).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SITES, read_page, scratch_storage
from newscrawl.ops.report import _EDIT_COLOURS
from newscrawl.store.database import Storage
from newscrawl.store.revisits import RevisitLog, RevisitOutcome
from test_dedupe_store import Run
from test_edits import PAGE
from test_report import CHROMIUM, HOSTILE, colours, kyiv_day, kyiv_time, near, report
from spiders.unian import UnianParser
from test_unian_parser import EN_URL

TITLE = "Putin absorbs Belarusian factories to strengthen his army – ISW"
OTHER_PAGE = SITES / "unian/uk-nacrada_2020-09-28.reconstructed.html.gz"
OTHER_URL = ("https://www.unian.ua/politics/zelenskiy-vnis-zmini-u-sklad-nacradi-z-pitan-antikorupciynoji-politiki-"
             "novini-ukrajina-11162777.html")


def version(page: str, days_ago: int) -> Any:
    """The page as fetched at 09:00 Kyiv time ``days_ago`` days ago."""
    return UnianParser.parse(page, EN_URL, fetched_at=kyiv_time(days_ago, 9))


@pytest.fixture(scope="module")
def edited(mongo_uri: str) -> Iterator[Storage]:
    """The UNIAN article stored 4 days ago; its headline replaced by hostile text 2 days ago, a
    figure changed yesterday; another article of another site stored and found gone (410)."""
    with scratch_storage(mongo_uri, "t_report_edits") as storage:
        hostile = PAGE.replace(TITLE, HOSTILE.replace("<", "&lt;"))  # the page escapes it: the headline is this text
        for page, days_ago in ((PAGE, 4), (hostile, 2), (hostile.replace("100% fulfilling", "90% fulfilling"), 1)):
            run = Run(storage)
            run.feed(version(page, days_ago))
            run.finish()
        run = Run(storage)
        run.feed(UnianParser.parse(read_page(OTHER_PAGE), OTHER_URL, fetched_at=kyiv_time(3, 9)))
        run.finish()
        gone = storage.db.articles.find_one({"url": OTHER_URL})
        storage.db.articles.update_one({"_id": gone["_id"]}, {"$set": {"site": "pravda"}})  # another site's
        RevisitLog([RevisitOutcome(gone["_id"], 410)]).write(storage.db)
        yield storage


def test_the_section_counts_edits_and_removals_and_shows_the_diffs(edited: Storage, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = report(edited, "--out", str(out), "--days", "7")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    section = page[page.index("<h2>Changed after publication</h2>"):]
    assert re.findall(r'data-site="(\w+)" data-day="([\d-]+)" data-(edits|removed)="(\d+)"', section) == [
        ("pravda", str(kyiv_day(0)), "removed", "1"),
        ("unian", str(kyiv_day(2)), "edits", "1"), ("unian", str(kyiv_day(1)), "edits", "1")]
    rows = re.findall(r'<tr class="edit" data-revision="(\d)">(.*?)</tr>', section, re.S)
    assert [number for number, _ in rows] == ["3", "2"]  # newest first
    figure, headline = (row for _, row in rows)
    assert "<del>100%</del> <ins>90%</ins>" in figure and "<b>body</b>" in figure
    assert "<b>title</b> <ins>&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;&lt;img src=x onerror=" in headline
    assert "</ins> Putin <del>absorbs Belarusian factories to strengthen his army – ISW</del></div>" in headline
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page

    one_site = tmp_path / "pravda.html"
    assert report(edited, "--out", str(one_site), "--days", "7", "--site", "pravda").returncode == 0
    section = one_site.read_text(encoding="utf-8").split("<h2>Changed after publication</h2>")[1]
    assert 'data-site="unian"' not in section and "No article edited in the window." in section


def test_a_window_without_changes_says_so(edited: Storage, tmp_path: Path) -> None:
    out = tmp_path / "old.html"
    storage = edited
    with scratch_storage(storage.uri, "t_report_no_edits") as empty:
        assert report(empty, "--out", str(out), "--days", "3").returncode == 0
    section = out.read_text(encoding="utf-8").split("<h2>Changed after publication</h2>")[1]
    assert "No article edited or removed in the window." in section and "<svg" not in section


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_the_section_renders_in_chromium(edited: Storage, tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    out = tmp_path / "report.html"
    assert report(edited, "--out", str(out), "--days", "7").returncode == 0
    address = out.as_uri()
    requests: list[str] = []
    problems: list[str] = []

    def only_the_page(route: Route) -> None:
        route.continue_() if route.request.url == address else route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.route("**/*", only_the_page)
            page.goto(address, wait_until="load")
            chart = page.locator('svg[aria-label="articles edited and removed after publication per site per day"]')
            box = chart.bounding_box()
            assert box is not None and box["width"] >= 900 and box["height"] > 60  # the full chart width at 1280 px
            shot = chart.screenshot()
            table = page.locator("section", has=page.locator("h2", has_text="Changed after publication")).locator("table")
            assert table.locator("tr.edit").count() == 2
            struck = table.locator("del").first.evaluate("node => getComputedStyle(node).textDecorationLine")
            assert struck == "line-through"
            assert table.get_by_text(HOSTILE).count() >= 1  # the hostile headline, shown as text
            assert page.evaluate("document.scripts.length") == 0 and page.title().startswith("newscrawl report")
            section = page.locator("section", has=page.locator("h2", has_text="Changed after publication"))
            section.screenshot(path=str(tmp_path / "changed-after-publication.png"))
        finally:
            browser.close()
    assert problems == [] and requests == [address]
    found = colours(shot)
    assert near(found, _EDIT_COLOURS["edits"]) and near(found, _EDIT_COLOURS["removed"])
    assert (tmp_path / "changed-after-publication.png").stat().st_size > 1000
