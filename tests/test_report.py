"""`python -m newscrawl report`: real articles and run records in, one HTML page out, opened in Chromium."""

from __future__ import annotations

import os
import random
import re
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest

from conftest import ROOT, scratch_storage
from newscrawl.extract.items import FILL_FIELDS, Article
from newscrawl.ops.alerts import AlertRules, evaluate
from newscrawl.ops.report import KYIV, rate_colour
from newscrawl.ops.runs import HISTORY_RUNS, run_document
from newscrawl.ops.site_fixtures import discover
from newscrawl.sites import parser_for_url
from newscrawl.store.database import Storage
from test_dedupe_store import Run

CHROMIUM = Path(os.getenv("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium"))
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> Putin"
#: unian: articles per day for the days before today; the two newest days lost authors and section
UNIAN_PER_DAY = {1: 4, 2: 3, 3: 3, 4: 2, 5: 3, 6: 2}
DRIFT_DAYS = (1, 2)
PRAVDA_DAYS = (1, 3, 5, 7)


def kyiv_day(days_ago: int) -> date:
    return datetime.now(KYIV).date() - timedelta(days=days_ago)


def kyiv_time(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(kyiv_day(days_ago), time(hour, minute), KYIV).astimezone(timezone.utc)


def filled(article: Article) -> int:
    return sum(bool(getattr(article, name)) for name in FILL_FIELDS)


def copy_of(article: Article, number: int, published_at: datetime, **changes: Any) -> Article:
    """Another article of the same site: its own URL, story id and body (the words shuffled, so no
    near-duplicate), published at ``published_at``."""
    parts = urlsplit(article.url)
    path = parts.path.rstrip("/") + f"-{number}" + ("/" if parts.path.endswith("/") else "")
    url = urlunsplit(parts._replace(path=path))
    words = (article.body or "").split()
    random.Random(number).shuffle(words)
    return replace(article, url=url, canonical_url=url, source_id=f"{article.source_id or 'story'}{number}",
                   translations={}, body=" ".join(words), published_at=published_at,
                   fetched_at=published_at + timedelta(minutes=30), **changes)


def record_run(storage: Storage, spider: str, started_at: datetime, minutes: float, stats: dict[str, int],
               reason: str = "finished", **shared: Any) -> dict[str, Any]:
    """Store a run record as :class:`newscrawl.ops.runs.RunRecorder` does: the document of the
    run's stats (``shared``: ``shared=True, crawl_id=…`` for a worker of a shared crawl), the
    alerts against the spider's recent runs."""
    runs = storage.db.crawl_runs
    run = run_document(spider, stats, started_at, started_at + timedelta(minutes=minutes), reason, **shared)
    history = list(runs.find({"spider": spider}).sort("started_at", -1).limit(HISTORY_RUNS))
    run["alerts"] = [alert.as_dict() for alert in evaluate(run, history, AlertRules())]
    runs.insert_one(run)
    return run


def crawl_stats(parsed: int, stored: int, *, without: tuple[str, ...] = ()) -> dict[str, int]:
    return {"response_received_count": parsed * 2 + 3, "newscrawl/feed_entries": parsed + 10,
            "newscrawl/article_responses": parsed, "newscrawl/articles_parsed": parsed, "item_scraped_count": parsed,
            "newscrawl/mongo/inserted": stored, "downloader/response_status_count/200": parsed * 2 + 3,
            **{f"newscrawl/fill/{name}": 0 if name in without else parsed for name in FILL_FIELDS}}


@pytest.fixture(scope="module")
def report_storage(mongo_uri: str) -> Iterator[Storage]:
    """One database for the tests that read the crawled articles and runs (they only read it)."""
    with scratch_storage(mongo_uri, "t_report") as opened:
        yield opened


@pytest.fixture(scope="module")
def crawled(report_storage: Storage) -> dict[str, Any]:
    """Every site fixture's article stored through the crawl's pipelines (unian and pravda on
    several days, unian with a layout change on its newest two days), and the runs that stored them."""
    originals: dict[str, Article] = {}
    for fixture in discover():  # per site, the page with the most fields (unian: the article, not the home page)
        article = parser_for_url(fixture.url).parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)
        if fixture.site not in originals or filled(article) > filled(originals[fixture.site]):
            originals[fixture.site] = article
    expected: dict[tuple[str, date], int] = {}
    run = Run(report_storage)
    number = 0
    for days_ago, count in UNIAN_PER_DAY.items():
        for index in range(count):
            number += 1
            changes: dict[str, Any] = {"authors": [], "section": None} if days_ago in DRIFT_DAYS else {}
            if days_ago == 1 and index == count - 1:
                changes["title"] = HOSTILE
            run.feed(copy_of(originals["unian"], number, kyiv_time(days_ago, 8 + index), **changes))
            expected[("unian", kyiv_day(days_ago))] = count
    for days_ago in PRAVDA_DAYS:
        number += 1
        run.feed(copy_of(originals["pravda"], number, kyiv_time(days_ago, 12)))
        expected[("pravda", kyiv_day(days_ago))] = 1
    others = sorted(set(originals) - {"unian", "pravda"})
    for site in others:
        number += 1
        run.feed(copy_of(originals[site], number, kyiv_time(2, 15)))
        expected[(site, kyiv_day(2))] = 1
    run.finish()

    for days_ago in range(10, 0, -1):
        record_run(report_storage, "unian", kyiv_time(days_ago, 6), 4 + days_ago % 4 * 3,
                   crawl_stats(8, UNIAN_PER_DAY.get(days_ago, 0),
                               without=("authors", "section") if days_ago in DRIFT_DAYS else ()))
    for days_ago in PRAVDA_DAYS:
        record_run(report_storage, "pravda", kyiv_time(days_ago, 11), 2, crawl_stats(6, 1))
    failed = record_run(report_storage, "pravda", kyiv_time(2, 11), 0.5,
                        {"newscrawl/network_failures/DNSLookupError": 5, "log_count/ERROR": 5})
    for worker in range(2):  # two workers of one crawl shared on Redis: one run in the report
        record_run(report_storage, "liga", kyiv_time(2, 14, worker), 3 - worker, crawl_stats(1, worker),
                   shared=True, crawl_id="c0ffee")
    return {"expected": expected, "sites": sorted(originals), "failed": failed}


def report(storage: Storage, *args: str, env: dict[str, str] | None = None, command: str = "report",
           extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``newscrawl report ARGS`` (or another ``command``) on ``storage``, with ``env`` added."""
    environment = {k: v for k, v in os.environ.items() if k != "NEWSCRAWL_TIMEZONE"}
    environment.update(MONGO_URI=storage.uri, MONGO_DATABASE=storage.db.name, **(env or {}))
    return subprocess.run([sys.executable, "-m", "newscrawl", command, *args, *extra], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def bar_counts(page: str) -> dict[tuple[str, str], int]:
    found = re.findall(r'data-site="([^"]+)" data-day="([\d-]+)" data-count="(\d+)"', page)
    return {(site, day): int(count) for site, day, count in found}


def fill_rates(page: str, site: str, name: str) -> dict[str, str]:
    found = re.findall(rf'data-site="{site}" data-day="([\d-]+)" data-field="{name}" fill="[^"]+" data-rate="([^"]+)"',
                       page)
    return dict(found)


def test_the_report_counts_articles_fill_rates_runs_and_alerts(crawled: dict[str, Any], report_storage: Storage,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = report(report_storage, "--out", str(out))
    assert result.returncode == 0, result.stderr
    articles = sum(crawled["expected"].values())
    first = kyiv_day(29)
    assert result.stderr.splitlines()[-1] == (
        f"wrote {out}: {articles} articles of {len(crawled['sites'])} sites published {first}..{kyiv_day(0)} "
        f"(30 days, Kyiv time), {10 + len(PRAVDA_DAYS) + 1 + 1} runs, 4 alerts")
    page = out.read_text(encoding="utf-8")

    counts = bar_counts(page)
    assert len(counts) == 30 * len(crawled["sites"])  # every site, every day of the window
    assert {key: n for key, n in counts.items() if n} == {(site, str(day)): n for (site, day), n in crawled["expected"].items()}
    assert counts[("unian", str(kyiv_day(10)))] == 0
    for site in crawled["sites"]:
        stored = report_storage.db.articles.count_documents({"site": site})
        assert sum(n for (name, _), n in counts.items() if name == site) == stored
        assert f'<tr data-site="{site}" data-articles="{stored}">' in page

    # the layout change shows in the heatmap: authors and section empty on the newest two days only
    for name in ("authors", "section"):
        rates = fill_rates(page, "unian", name)
        assert [rates[str(kyiv_day(d))] for d in (6, 5, 4, 3, 2, 1)] == ["1.000"] * 4 + ["0.000"] * 2
        assert str(kyiv_day(7)) not in rates  # no articles that day: no cell
    assert fill_rates(page, "unian", "body")[str(kyiv_day(1))] == "1.000"
    assert fill_rates(page, "pravda", "title")[str(kyiv_day(3))] == "1.000"
    assert f'fill="{rate_colour(0.0)}" data-rate="0.000"' in page and f'fill="{rate_colour(1.0)}" data-rate="1.000"' in page

    # runs: durations, the failed one, and the alerts the layout change raised
    unian_runs = re.findall(r'data-spider="unian" data-day="([\d-]+)" data-runs="1" data-longest="(\d+)"', page)
    assert unian_runs == [(str(kyiv_day(d)), str((4 + d % 4 * 3) * 60)) for d in range(10, 0, -1)]
    pravda_runs = re.findall(r'data-spider="pravda" data-day="([\d-]+)" [^>]* data-result="(\w+)"', page)
    assert pravda_runs == [(str(kyiv_day(d)), "failed" if d == 2 else "ok") for d in (7, 5, 3, 2, 1)]
    assert f"FAILED: {crawled['failed']['outcome']['cause']}" in page
    assert "no page could be fetched (DNSLookupError 5)" in page
    alerts = re.findall(r'<tr class="alert"><td>[^<]+</td><td>(\w+)</td><td>(\w+)</td><td>([^<]+)</td></tr>', page)
    assert alerts == [("unian", "layout_drift", f"{name} filled on 0% of articles, usually {usual}")
                      for usual in ("89%", "100%") for name in ("authors", "section")]  # newest run first

    # a title from the database is text, never markup
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;&lt;img src=x onerror=" in page
    assert "<script" not in page and "<img" not in page and "onerror=\"" not in page


def test_one_site(crawled: dict[str, Any], report_storage: Storage, tmp_path: Path) -> None:
    out = tmp_path / "pravda.html"
    result = report(report_storage, "--out", str(out), "--site", "pravda", "--days", "7")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (f"wrote {out}: 3 articles of site pravda published {kyiv_day(6)}.."
                                              f"{kyiv_day(0)} (7 days, Kyiv time), 4 runs, 0 alerts")
    counts = bar_counts(out.read_text(encoding="utf-8"))
    assert {site for site, _ in counts} == {"pravda"} and len(counts) == 7
    assert [day for (_, day), n in counts.items() if n] == [str(kyiv_day(d)) for d in (5, 3, 1)]


def test_an_empty_window_is_a_page_that_says_so(storage: Storage, tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    result = report(storage, "--out", str(out), "--days", "1")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "No articles published in the window." in page and "No crawl runs recorded in the window." in page


def test_bad_arguments_are_one_line_and_exit_3(crawled: dict[str, Any], report_storage: Storage,
                                               tmp_path: Path) -> None:
    cases = {("--days", "0"): "error: --days 0: give 1 to 366",
             ("--days", "x"): "argument --days: invalid int value: 'x'",
             ("--site", "nosuch"): "error: --site 'nosuch': no article or crawl run of that site in the database",
             ("--out", str(tmp_path / "missing" / "r.html")): f"no directory {tmp_path / 'missing'}",
             ("--out", str(tmp_path)): f"--out {tmp_path}: cannot write it"}
    for args, message in cases.items():
        result = report(report_storage, *args)
        assert result.returncode == 3, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert message in last and "Traceback" not in result.stderr, (args, result.stderr)


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a PNG file by type (IDAT chunks joined)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunks[kind] = chunks.get(kind, b"") + data[position + 8:position + 8 + length]
        position += 12 + length
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG image."""
    return struct.unpack(">II", png_chunks(data)[b"IHDR"][:8])


def png_pixels(data: bytes) -> list[bytes]:
    """The rows of RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (filters undone)."""
    chunks = png_chunks(data)
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(chunks[b"IDAT"])
    rows, previous = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind in (1, 3, 4):
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                up = previous[i]
                if kind == 1:
                    line[i] = (line[i] + left) & 255
                elif kind == 3:
                    line[i] = (line[i] + (left + up) // 2) & 255
                else:
                    corner = previous[i - channels] if i >= channels else 0
                    guess = left + up - corner
                    pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                    line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        previous = bytes(line)
        rows.append(bytes(b for i, b in enumerate(previous) if channels == 3 or i % 4 != 3))
    return rows


def colours(png: bytes) -> set[bytes]:
    return {row[i:i + 3] for row in png_pixels(png) for i in range(0, len(row), 3)}


def near(found: set[bytes], hex_colour: str) -> bool:
    want = bytes.fromhex(hex_colour.lstrip("#"))
    return any(all(abs(a - b) <= 3 for a, b in zip(pixel, want)) for pixel in found)


#: what a reader must see in each chart's legend
LEGENDS = {"articles": ["articles published that day", "none that day", "band: Saturday and Sunday"],
           "fill": ["0%", "50%", "100%", "no articles that day"],
           "runs": ["all runs ok", "a run raised alerts", "a run failed (exit 1)", "white tick: the median run",
                    "band: Saturday and Sunday"]}


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
@pytest.mark.parametrize("width", [1400, 800])
def test_the_page_renders_in_chromium_offline(crawled: dict[str, Any], report_storage: Storage, tmp_path: Path,
                                              width: int) -> None:
    """At 1400 and 800 px: nothing off the side, every chart whole with its legend and axes, loading nothing."""
    from playwright.sync_api import Route, sync_playwright

    out = tmp_path / "report.html"
    assert report(report_storage, "--out", str(out)).returncode == 0
    address = out.as_uri()
    requests: list[str] = []
    refused: list[str] = []
    problems: list[str] = []

    def only_the_page(route: Route) -> None:
        if route.request.url == address:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: problems.append(f"{message.type}: {message.text}")
                    if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.route("**/*", only_the_page)
            page.goto(address, wait_until="load")
            # nothing scrolls sideways: the page and every table fit the window
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("[...document.querySelectorAll('.wide')].every(b => b.scrollWidth <= b.clientWidth)")
            charts = page.locator("svg")
            assert charts.count() == 3
            shots, legends = [], []
            for index, name in enumerate(("articles", "fill", "runs")):
                chart = charts.nth(index)
                box = chart.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
                assert box["width"] == 980 if width > 1100 else width - 40 <= box["width"] < 980
                shots.append(chart.screenshot())
                legend = chart.locator("xpath=preceding-sibling::p[@class='legend'][1]")
                legends.append(legend.screenshot())
                for text in LEGENDS[name]:
                    assert legend.get_by_text(text, exact=True).is_visible(), (name, text)
                # the day axis: a tick and a label under about a dozen days, and its title, all on screen
                labels = chart.locator("text.axis")
                assert labels.count() >= 11 and labels.last.text_content() == "day (Kyiv time), " + str(kyiv_day(0).year)
                assert chart.locator("text.axis").nth(0).is_visible()
            # each row's value axis: 0 and the row's maximum (articles a day; a duration for runs)
            ticks = charts.nth(0).locator("text.tick").all_text_contents()
            assert ticks.count("0") == len(crawled["sites"]) and ["0", "2", "4"] == ticks[ticks.index("4") - 2:][:3]
            assert "13 min 00 s" in charts.nth(2).locator("text.tick").all_text_contents()  # unian's longest run
            assert page.title().startswith("newscrawl report")
            assert page.evaluate("document.scripts.length") == 0
            assert page.get_by_text(HOSTILE).count() == 1  # shown as text in the newest articles
            assert page.locator("tr[data-workers='2']").count() == 1  # the shared crawl's two workers: one run
            whole = page.screenshot(full_page=True)
        finally:
            browser.close()
    (tmp_path / f"report-{width}.png").write_bytes(whole)

    assert problems == [] and refused == [] and requests == [address]
    articles, fill, runs = (colours(shot) for shot in shots)
    assert len(articles) > 20 and len(fill) > 50 and len(runs) > 20  # bars, cells, antialiased labels
    assert near(articles, "#2e86c1") and near(articles, "#ececec")  # bars, weekend bands
    assert near(fill, rate_colour(0.0)) and near(fill, rate_colour(1.0))  # the layout change in red, the rest green
    assert near(runs, "#c0392b") and near(runs, "#e67e22") and near(runs, "#2e86c1")  # failed, alerts, ok
    assert near(runs, "#ececec")
    assert near(colours(legends[0]), "#ececec") and near(colours(legends[2]), "#ececec")  # the bands' swatch
    page_width, height = png_size(whole)
    assert page_width == width and height > 2000  # the whole page: tables, three charts


def test_the_window_ends_at_the_newest_data_when_nothing_is_recent(storage: Storage, tmp_path: Path) -> None:
    """As after the offline demo: the only article is from 2023, the runs are today's. The articles'
    charts end on the article's day and say why; the runs' stay on today."""
    fixture = next(f for f in discover() if f.site == "unian" and "putin" in f.json_path.name)
    article = parser_for_url(fixture.url).parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)
    run = Run(storage)
    run.feed(article)
    run.finish()
    record_run(storage, "unian", kyiv_time(0, 0, 1), 1, crawl_stats(1, 1))
    published = article.published_at.astimezone(KYIV).date()
    out = tmp_path / "demo.html"
    result = report(storage, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"wrote {out}: 1 articles of 1 sites published {published - timedelta(days=29)}..{published} (30 days, "
        f"Kyiv time; the newest articles: none in the 30 days to {kyiv_day(0)}), 1 runs started "
        f"{kyiv_day(29)}..{kyiv_day(0)} (30 days, Kyiv time), 0 alerts")
    page = out.read_text(encoding="utf-8")
    assert {key: n for key, n in bar_counts(page).items() if n} == {("unian", str(published)): 1}
    assert (f"No articles published in the 30 days to {kyiv_day(0)}: shown are the 30 days to the newest, "
            f"{published - timedelta(days=29)} to {published}.") in page
    assert "No articles published in the window." not in page and "No crawl runs recorded" not in page
    assert re.findall(r'data-spider="unian" data-day="([\d-]+)"', page) == [str(kyiv_day(0))]


def test_report_and_stats_runs_show_a_run_at_the_same_labelled_time(crawled: dict[str, Any], report_storage: Storage,
                                                                     tmp_path: Path) -> None:
    """One time zone across the report and ``stats --runs``, every time labelled; NEWSCRAWL_TIMEZONE changes both."""
    failed = crawled["failed"]
    for zone, label, abbreviations in (("Europe/Kyiv", "Kyiv time", ("EET", "EEST")), ("UTC", "UTC", ("UTC",))):
        env = {"NEWSCRAWL_TIMEZONE": zone}
        out = tmp_path / f"report-{label}.html"
        result = report(report_storage, "--out", str(out), env=env)
        assert result.returncode == 0 and "(30 days, " + label + ")" in result.stderr.splitlines()[-1]
        started = failed["started_at"].astimezone(ZoneInfo(zone))
        shown = f"{started:%Y-%m-%d %H:%M} {started.tzname()}"
        assert started.tzname() in abbreviations
        page = out.read_text(encoding="utf-8")
        assert f'<tr class="failed" data-workers="1"><td>{shown}</td><td>pravda</td>' in page
        runs = report(report_storage, env=env, command="stats", extra=("--runs", "10")).stdout
        assert f"pravda {shown} finished: 0 pages" in runs
        times = re.findall(r"^\S+(?: \([^)]*\))* (\d{4}-\d\d-\d\d \d\d:\d\d \S+) ", runs, re.M)
        assert times and all(time.split()[-1] in abbreviations for time in times)
    assert "liga (2 workers)" in report(report_storage, command="stats", extra=("--runs",)).stdout
    bad = report(report_storage, "--out", str(tmp_path / "x.html"), env={"NEWSCRAWL_TIMEZONE": "Mars/Olympus"})
    assert bad.returncode == 3 and bad.stderr.strip() == (
        "error: NEWSCRAWL_TIMEZONE='Mars/Olympus' is not a time zone (e.g. Europe/Kyiv, UTC)")
