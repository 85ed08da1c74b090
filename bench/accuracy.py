"""Extraction accuracy on three sets of real pages: newscrawl next to htmldate and trafilatura.

Run: ``python bench/accuracy.py [--sets dates,fundus,regional] [--extractors ...] [--misses]
[--out bench/ACCURACY.md]`` (newspaper4k, ``--extractors ...,newspaper4k``, needs
``pip install -r bench/requirements.txt``; about 3 s a page, mostly waiting, so over half an hour
for the three sets). Sets:

- ``dates``: the dates development set (``../shared/fixtures/dates-dev``, 400 pages with a
  hand-annotated publication day): the exact day in the page's own local sense, pages with no
  date, off by one day, off by more than a month, after the fetch time; for newscrawl also the UTC
  day of ``published_at``. Capture times are not known: the fetch time is the time of the run.
  The set is split in two fixed halves (see :func:`dates_half`): the ``tuning`` half, whose misses
  ``--misses`` prints, and the ``held-out`` half, whose pages are scored but never shown, so the
  rules are not fitted to them; the exact day is given for each half and for the whole.
- ``fundus``: the 258 Fundus pages (``../shared/fixtures/fundus``): title, date (same instant to
  the minute) and its local day, authors, body token F1; all pages and the non-English ones.
  Fundus's expected values are its own parsers' output: a development set, not ground truth.
- ``regional``: the site fixtures (``tests/sites/<site>/*.json``, expected fields reviewed against
  each page): title, authors, local day, body F1, with the site parser and the generic parser.

newscrawl's local day is the article's ``published_local`` when it has one, else ``published_at``
in the parser's time zone. Every page is decoded once with
:func:`~newscrawl.extract.encoding.decoded_text` (as ``python -m newscrawl parse`` does) and every
extractor gets the same text; a page an extractor crashes on scores zero there. Not a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newscrawl.extract.dates import parse_date  # noqa: E402
from newscrawl.extract.encoding import decoded_text  # noqa: E402
from newscrawl.extract.parser import GenericParser, NotAnArticle, ParserProxy  # noqa: E402
from newscrawl.extract.text import clean_line  # noqa: E402
from newscrawl.extract.timezones import TLD_ZONES  # noqa: E402
from newscrawl.ops.site_fixtures import SITES_DIR, discover  # noqa: E402
from newscrawl.sites import parser_for_url  # noqa: E402

SHARED = ROOT.parent / "shared" / "fixtures"
ENGLISH = {"us", "uk", "au", "ca", "ind", "za", "na", "ls", "tz", "lb", "my", "il", "be"}
#: the publisher's clock per Fundus country code: Fundus writes a date the page prints without an
#: offset as a naive value, i.e. the publisher's wall-clock time (SportSchau prints 20:58Z in its
#: JSON-LD and Fundus gives 22:58 naive). Multi-zone countries get their main newsroom's zone.
COUNTRY_ZONES = {**TLD_ZONES, "us": "America/New_York", "ca": "America/Toronto", "au": "Australia/Sydney",
                 "mx": "America/Mexico_City", "ind": "Asia/Kolkata", "isl": "Atlantic/Reykjavik",
                 "id": "Asia/Jakarta"}
#: a date this many days or more from the right one is "off by more than a month"
FAR_OFF_DAYS = 31
#: the largest UTC offset in use (Kiribati)
LATEST_OFFSET = timedelta(hours=14)
Result = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One page of a set, decoded, with what it should give."""

    name: str
    url: str
    html: str
    fetched_at: datetime
    #: the publisher's clock: expected dates without an offset are wall-clock times there
    zone: str
    #: title, authors, date (as given), day (local, ``YYYY-MM-DD``), body; None where unknown
    expected: dict[str, Any]
    english: bool = False
    #: the part of its set it belongs to (the dates set: ``tuning`` or ``held-out``)
    half: str | None = None


# -- the sets --------------------------------------------------------------------------------


def _gunzip_text(path: Path) -> str:
    return decoded_text(gzip.decompress(path.read_bytes()))


#: the two halves of the dates development set
TUNING, HELD_OUT = "tuning", "held-out"


def dates_half(files: list[str]) -> dict[str, str]:
    """The fixed split of the dates development set, chosen before any rule was changed against it:
    its page files sorted by name, the 1st, 3rd, 5th, ... are the ``tuning`` half, the 2nd, 4th,
    6th, ... the ``held-out`` half (200 pages each)."""
    return {name: (TUNING, HELD_OUT)[position % 2] for position, name in enumerate(sorted(files))}


def dates_pages(folder: Path, run_started: datetime) -> Iterator[Page]:
    """The dates development set: ``expected.json`` is ``{url: {"file", "date"}}``."""
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    halves = dates_half([known["file"] for known in expected.values()])
    for url, known in expected.items():
        yield Page(known["file"], url, _gunzip_text(folder / known["file"]), run_started, "UTC",
                   {"title": None, "authors": None, "date": None, "day": known["date"], "body": None},
                   half=halves[known["file"]])


def _fundus_expected(entry: dict[str, Any], folder: Path, zone: str) -> dict[str, Any]:
    """Title, authors, date, its local day and body Fundus expects for one page."""
    data = json.loads((folder / entry["expected_json"]).read_text(encoding="utf-8"))[entry["version"]]
    body = data.get("body") or {}
    paragraphs = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        paragraphs += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    published = data.get("publishing_date")
    day = None
    if published:
        moment = datetime.fromisoformat(published)
        day = (moment.astimezone(ZoneInfo(zone)) if moment.tzinfo else moment).date().isoformat()
    return {"title": data.get("title"), "authors": data.get("authors") or [], "date": published, "day": day,
            "body": "\n\n".join(paragraphs)}


def fundus_pages(folder: Path, run_started: datetime) -> Iterator[Page]:
    """The Fundus pages of ``manifest.jsonl``, fetched at their ``crawl_date``."""
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        zone = COUNTRY_ZONES.get(entry["country"], "UTC")
        crawled = parse_date(entry["crawl_date"], tz="UTC", now=run_started) or run_started
        yield Page(entry["html"], entry["url"], _gunzip_text(folder / entry["html"]), crawled, zone,
                   _fundus_expected(entry, folder, zone), english=entry["country"] in ENGLISH)


def regional_pages(folder: Path, run_started: datetime) -> Iterator[Page]:
    """The site fixtures that are articles; the local day in the site parser's zone."""
    for fixture in discover(folder):
        expected = fixture.expected("as_served")
        if "not_an_article" in expected:
            continue
        proxy = parser_for_url(fixture.url)
        zone = proxy.for_date(fixture.fetched_at.date()).TIMEZONE or "UTC"
        published = expected.get("published_at")
        local = expected.get("published_local")
        day = str(local)[:10] if local else (
            datetime.fromisoformat(published).astimezone(ZoneInfo(zone)).date().isoformat() if published else None)
        yield Page(f"{fixture.site}/{fixture.page_path.name}", fixture.url, fixture.html(), fixture.fetched_at, zone,
                   {"title": expected.get("title"), "authors": expected.get("authors"), "date": published,
                    "day": day, "body": expected.get("body")})


SETS: dict[str, tuple[str, Callable[[Path, datetime], Iterator[Page]], Path]] = {
    "dates": ("Dates development set", dates_pages, SHARED / "dates-dev"),
    "fundus": ("Fundus pages", fundus_pages, SHARED / "fundus"),
    "regional": ("Regional site fixtures", regional_pages, SITES_DIR),
}


# -- the extractors ----------------------------------------------------------------------------


def _newscrawl(proxy_of: Callable[[str], type[ParserProxy]]) -> Callable[[Page], Result]:
    """newscrawl's parser for a page (``proxy_of`` its URL) as ``python -m newscrawl parse`` runs it."""

    def run(page: Page) -> Result:
        try:
            article = proxy_of(page.url).parse(page.html, page.url, fetched_at=page.fetched_at)
        except NotAnArticle:
            return {}
        return {"title": article.title, "authors": article.authors, "body": article.body,
                "date": article.published_at, "local": getattr(article, "published_local", None)}

    return run


def _newscrawl_days(proxy_of: Callable[[str], type[ParserProxy]]) -> Callable[[Page, Result], None]:
    """The local day (``published_local``, else ``published_at`` in the parser's zone) and the UTC day."""

    def finish(page: Page, result: Result) -> None:
        published = result.get("date")
        if published is None:
            return
        result["utc_day"] = published.astimezone(timezone.utc).date().isoformat()
        if result.get("local"):
            result["day"] = str(result["local"])[:10]
            return
        proxy = proxy_of(page.url)
        zone = proxy.for_date(page.fetched_at.date())(page.html, page.url, fetched_at=page.fetched_at).timezone
        result["day"] = published.astimezone(ZoneInfo(zone)).date().isoformat()

    return finish


def htmldate_result(page: Page) -> Result:
    from htmldate import find_date

    day = find_date(page.html, url=page.url, extensive_search=True, original_date=True)
    return {"date": day, "day": day}


def trafilatura_result(page: Page) -> Result:
    import trafilatura

    doc = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True, include_comments=False)
    if doc is None:
        return {}
    doc = doc.as_dict() if hasattr(doc, "as_dict") else doc
    authors = [a.strip() for a in re.split(r";|,", doc.get("author") or "") if a.strip()]
    return {"title": doc.get("title"), "authors": authors, "date": doc.get("date"),
            "day": (doc.get("date") or "")[:10] or None, "body": doc.get("text")}


def newspaper_result(page: Page) -> Result:
    import newspaper

    article = newspaper.Article(page.url)
    article.download(input_html=page.html)
    article.parse()
    published = article.publish_date
    return {"title": article.title, "authors": article.authors, "date": published,
            "day": published.date().isoformat() if published else None, "body": article.text}


@dataclass(frozen=True)
class Extractor:
    """One extractor: its timed run, the fields it gives, and an untimed step completing its result."""

    run: Callable[[Page], Result]
    #: what it gives: title, authors, date, body; "utc day": its dates are instants
    fields: tuple[str, ...]
    finish: Callable[[Page, Result], None] | None = None
    #: the sets it runs on (None: all)
    sets: tuple[str, ...] | None = None


ALL_FIELDS = ("title", "authors", "date", "body")
#: newscrawl's dates are instants: their UTC day is scored too
NEWSCRAWL_FIELDS = (*ALL_FIELDS, "utc day")
EXTRACTORS: dict[str, Extractor] = {
    "newscrawl": Extractor(_newscrawl(lambda url: GenericParser), NEWSCRAWL_FIELDS,
                           _newscrawl_days(lambda url: GenericParser)),
    "newscrawl-site": Extractor(_newscrawl(parser_for_url), NEWSCRAWL_FIELDS, _newscrawl_days(parser_for_url), ("regional",)),
    "htmldate": Extractor(htmldate_result, ("date",)),
    "trafilatura": Extractor(trafilatura_result, ALL_FIELDS),
    "newspaper4k": Extractor(newspaper_result, ALL_FIELDS),
}
DEFAULT_EXTRACTORS = ("newscrawl", "newscrawl-site", "htmldate", "trafilatura")
LABELS = {"newscrawl": "newscrawl (generic parser)", "newscrawl-site": "newscrawl (site parser)"}


# -- scoring -----------------------------------------------------------------------------------


def instant(value: Any, crawled: datetime, zone: str = "UTC") -> datetime | None:
    """A comparable UTC instant to the minute; naive values are wall-clock times in ``zone``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    else:
        value = parse_date(str(value), tz=zone, now=crawled.replace(year=crawled.year + 1))
    return value.astimezone(timezone.utc).replace(second=0, microsecond=0) if value else None


def token_f1(got: str | None, expected: str | None) -> float:
    """Token F1 of two texts, both NFC-normalized without invisible characters (soft hyphens,
    zero-width spaces): a decomposed "ü" or a soft hyphen must not split a word on one side only."""
    a, b = (Counter(re.findall(r"\w+", clean_line(text).lower())) for text in (got, expected))
    common = sum((a & b).values())
    if not common:
        return 1.0 if not a and not b else 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def after_fetch(got: Result, page: Page) -> bool:
    """Whether the date given is later than the fetch; a bare day: later than the fetch's day
    anywhere on Earth (UTC+14), as a page in Tokyo fetched at 18:00 UTC is dated the next day."""
    value = got.get("date")
    if isinstance(value, datetime) and value.tzinfo:
        return value > page.fetched_at
    day = _day(got.get("day"))
    return bool(day and day > (page.fetched_at.astimezone(timezone.utc) + LATEST_OFFSET).date())


def score(got: Result, page: Page, fields: tuple[str, ...]) -> dict[str, float]:
    """Per-metric scores of one extractor's result on one page (only what the page has answers for)."""
    expected, scores = page.expected, {}
    if "title" in fields and expected["title"]:
        scores["title"] = float(clean_line(got.get("title")) == clean_line(expected["title"]))
    if "authors" in fields and expected["authors"] is not None:
        scores["authors"] = float({clean_line(a) for a in got.get("authors") or []}
                                  == {clean_line(a) for a in expected["authors"]})
    if "body" in fields and expected["body"]:
        scores["body"] = token_f1(got.get("body"), expected["body"])
    if "date" in fields:
        if expected["date"] is not None:
            scores["date"] = float(instant(got.get("date"), page.fetched_at, page.zone)
                                   == instant(expected["date"], page.fetched_at, page.zone))
        if expected["day"]:
            want, have = _day(expected["day"]), _day(got.get("day"))
            scores["day"] = float(have == want)
            scores["no date"] = float(have is None)
            distance = abs((have - want).days) if have and want else None
            scores["off by 1 day"] = float(distance == 1)
            scores[f"off > {FAR_OFF_DAYS} days"] = float(distance is not None and distance > FAR_OFF_DAYS)
            scores["after fetch"] = float(after_fetch(got, page))
            if "utc day" in fields:
                scores["utc day"] = float(_day(got.get("utc_day")) == want)
    return scores


@dataclass
class Tally:
    """Scores of one extractor on one set, per metric, for all pages and the non-English ones."""

    scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    non_english: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: scores per half of the set (pages with a ``half``)
    halves: dict[str, dict[str, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    seconds: float = 0.0
    pages: int = 0
    crashes: int = 0

    def add(self, scores: dict[str, float], page: Page) -> None:
        for metric, value in scores.items():
            self.scores[metric].append(value)
            if not page.english:
                self.non_english[metric].append(value)
            if page.half:
                self.halves[page.half][metric].append(value)


def _share(values: list[float] | None) -> str:
    return f"{100 * sum(values) / len(values):.1f}%" if values else "—"


def _count(values: list[float] | None) -> str:
    return str(int(sum(values))) if values else "—"


def _mean(values: list[float] | None) -> str:
    return f"{sum(values) / len(values):.3f}" if values else "—"


def _speed(tally: Tally) -> str:
    return f"{tally.pages / tally.seconds:.1f}" if tally.seconds else "—"


# -- tables ------------------------------------------------------------------------------------

FAR = f"off > {FAR_OFF_DAYS} days"


def _rows(tallies: dict[str, Tally], columns: list[tuple[str, str, Callable[[list[float] | None], str]]],
          non_english: bool = False, speed: bool = True) -> list[str]:
    header = ["extractor", *(title for title, _, _ in columns)] + (["pages/s"] if speed else [])
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name, tally in tallies.items():
        source = tally.non_english if non_english else tally.scores
        cells = [show(source.get(metric)) for _, metric, show in columns] + ([_speed(tally)] if speed else [])
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    return lines


def _crash_note(tallies: dict[str, Tally]) -> list[str]:
    crashed = [f"{LABELS.get(name, name)} {tally.crashes}" for name, tally in tallies.items() if tally.crashes]
    return ["", "Pages an extractor crashed on (scored zero): " + ", ".join(crashed) + "."] if crashed else []


def _halves_rows(tallies: dict[str, Tally], metric: str) -> list[str]:
    """Each extractor's ``metric`` on the tuning half, the held-out half and the whole, and the gap."""
    lines = [f"| extractor | {TUNING} half | {HELD_OUT} half | whole | gap (points) |", "|---|---|---|---|---|"]
    for name, tally in tallies.items():
        tuning, held_out = tally.halves[TUNING].get(metric), tally.halves[HELD_OUT].get(metric)
        gap = (f"{100 * abs(sum(tuning) / len(tuning) - sum(held_out) / len(held_out)):.1f}"
               if tuning and held_out else "—")
        lines.append(f"| {LABELS.get(name, name)} | {_share(tuning)} | {_share(held_out)} | "
                     f"{_share(tally.scores.get(metric))} | {gap} |")
    return lines


def dates_table(tallies: dict[str, Tally], pages: list[Page], folder: Path) -> list[str]:
    counts = Counter(page.half for page in pages)
    lines = [f"{len(pages)} pages with a hand-annotated publication day ({_shown(folder)})", "",
             f"Exact day (page's local) on the two fixed halves ({counts[TUNING]} {TUNING}, {counts[HELD_OUT]} "
             f"{HELD_OUT}: the page files sorted by name, every other one held out; the held-out pages' misses are "
             "never printed):", ""]
    lines += _halves_rows(tallies, "day")
    lines += ["", "All pages:", ""]
    lines += _rows(tallies, [("exact day (page's local)", "day", _share), ("exact day (UTC day)", "utc day", _share),
                             ("no date", "no date", _count), ("off by 1 day", "off by 1 day", _count),
                             (FAR, FAR, _count), ("after fetch time", "after fetch", _count)])
    lines += ["", "Exact day: share of pages whose day is the annotated one; a page with no date counts as wrong. "
              "newscrawl's day is `published_local` when the article has it, else `published_at` in the parser's "
              "time zone; the UTC-day column compares the UTC day of `published_at`. htmldate: `find_date(extensive_search=True, "
              "original_date=True)`; trafilatura: `bare_extraction(with_metadata=True).date`. The set records no "
              "capture times: every page is taken as fetched at the time of the run, so \"after fetch time\" counts "
              "dates in the future only."]
    return lines + _crash_note(tallies)


def fundus_table(tallies: dict[str, Tally], pages: list[Page], folder: Path) -> list[str]:
    non_en = sum(not page.english for page in pages)
    lines = [f"{len(pages)} pages ({non_en} non-English; {_shown(folder)})", ""]
    lines += _rows(tallies, [("title", "title", _share), ("date (to the minute)", "date", _share),
                             ("exact day (page's local)", "day", _share), ("no date", "no date", _count),
                             ("after fetch time", "after fetch", _count), ("authors", "authors", _share),
                             ("body F1", "body", _mean)])
    lines += ["", f"Non-English pages ({non_en}):", ""]
    lines += _rows(tallies, [("title", "title", _share), ("date (to the minute)", "date", _share),
                             ("exact day (page's local)", "day", _share), ("authors", "authors", _share),
                             ("body F1", "body", _mean)], non_english=True, speed=False)
    lines += ["", "title/authors: share of pages exactly right (authors: the same set of names); date: the same "
              "instant to the minute; exact day: the same day in the page's local sense (Fundus's date in the "
              "publisher's country zone; newscrawl's `published_local`, else `published_at` in the parser's zone); "
              "body: mean token F1 (both texts NFC, without soft hyphens). Dates without an offset (Fundus's naive "
              "values, trafilatura's and htmldate's days) are read as the publisher's local time, so a bare day "
              "counts to the minute only for pages published at local midnight. Fundus's values are its own "
              "parsers' output. Pages are fetched at Fundus's `crawl_date`."]
    return lines + _crash_note(tallies)


def regional_table(tallies: dict[str, Tally], pages: list[Page], folder: Path) -> list[str]:
    with_body = sum(bool(page.expected["body"]) for page in pages)
    lines = [f"{len(pages)} article fixtures of the Ukrainian sites ({_shown(folder)}; {with_body} with a body)", ""]
    lines += _rows(tallies, [("title", "title", _share), ("authors", "authors", _share),
                             ("exact day (page's local)", "day", _share), ("no date", "no date", _count),
                             ("body F1", "body", _mean)])
    lines += ["", "Expected values are the fixtures' reviewed fields (`tests/sites/<site>/*.json`), which the "
              "site parser gives by construction (`tests/test_site_fixtures.py`): its row is a check, the "
              "generic parser's and the others' rows are the comparison. Exact day: in the site's zone."]
    return lines + _crash_note(tallies)


TABLES = {"dates": dates_table, "fundus": fundus_table, "regional": regional_table}


def _shown(path: Path) -> str:
    """``path`` relative to the project, or to its parent folder (``../shared/...``), else as given."""
    path = path.resolve()
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    return str(Path("..") / path.relative_to(ROOT.parent)) if path.is_relative_to(ROOT.parent) else str(path)


# -- the run -----------------------------------------------------------------------------------


def _miss(set_name: str, name: str, page: Page, got: Result, scores: dict[str, float], others: dict[str, Result]) -> None:
    """Print a newscrawl result's misses on one page."""
    for metric in ("title", "authors", "day", "body"):
        value = scores.get(metric)
        if value is None or value >= (0.9 if metric == "body" else 1):
            continue
        shown = f"F1={value:.2f}" if metric == "body" else got.get(metric)
        wanted = "" if metric == "body" else page.expected[metric]
        extra = f" htmldate {others['htmldate'].get('day')!r}" if metric == "day" and "htmldate" in others else ""
        print(f"MISS {set_name} {name} {metric:7} {page.name}: got {str(shown)[:90]!r} want {str(wanted)[:90]!r}{extra}")


def run_set(set_name: str, folder: Path, chosen: list[str], limit: int, misses: bool) -> list[str]:
    """Run the chosen extractors on one set; its markdown table."""
    title, pages_of, _ = SETS[set_name]
    started = datetime.now(timezone.utc)
    pages = list(pages_of(folder, started))
    pages = pages[:limit] if limit else pages
    names = [name for name in chosen if EXTRACTORS[name].sets is None or set_name in EXTRACTORS[name].sets]
    tallies = {name: Tally() for name in names}
    for name in names if pages else []:  # imports and first-call setup outside the timing
        try:
            EXTRACTORS[name].run(pages[0])
        except Exception:
            pass
    for page in pages:
        results: dict[str, Result] = {}
        scores: dict[str, dict[str, float]] = {}
        for name in names:
            extractor, tally = EXTRACTORS[name], tallies[name]
            start = time.perf_counter()
            try:
                got = extractor.run(page)
            except Exception:  # an extractor crashing on a page scores zero there
                got, tally.crashes = {}, tally.crashes + 1
            tally.seconds += time.perf_counter() - start
            tally.pages += 1
            if extractor.finish:
                try:
                    extractor.finish(page, got)
                except Exception:
                    got.pop("date", None)
            results[name] = got
            scores[name] = score(got, page, extractor.fields)
            tally.add(scores[name], page)
        if misses and page.half != HELD_OUT:
            for name in names:
                if name.startswith("newscrawl"):
                    _miss(set_name, name, page, results[name], scores[name], results)
    lines = [f"## {title}", "", *TABLES[set_name](tallies, pages, folder)]
    print("\n".join(lines) + "\n", flush=True)
    return lines


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--sets", default=",".join(SETS), help=f"comma-separated subset of {','.join(SETS)}")
    cli.add_argument("--extractors", default=",".join(DEFAULT_EXTRACTORS),
                     help=f"comma-separated subset of {','.join(EXTRACTORS)} (newspaper4k is slow, so not by default)")
    cli.add_argument("--dates", type=Path, default=SETS["dates"][2], help="the dates development set's folder")
    cli.add_argument("--fundus", type=Path, default=SETS["fundus"][2], help="the Fundus pages' folder")
    cli.add_argument("--regional", type=Path, default=SETS["regional"][2], help="the site fixtures' folder")
    cli.add_argument("--limit", type=int, default=0, help="the first N pages of each set")
    cli.add_argument("--misses", action="store_true",
                     help="print newscrawl's misses per field (never on the dates set's held-out half)")
    cli.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    args = cli.parse_args()
    sets = args.sets.split(",")
    chosen = args.extractors.split(",")
    unknown = [name for name in sets if name not in SETS] + [name for name in chosen if name not in EXTRACTORS]
    if unknown:
        cli.error(f"unknown set or extractor: {', '.join(unknown)}")
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    lines = [f"# Extraction accuracy, measured {datetime.now(timezone.utc):%Y-%m-%d}", "",
             f"`python bench/accuracy.py --sets {','.join(sets)} --extractors {','.join(chosen)}`", ""]
    for set_name in sets:
        lines += run_set(set_name, getattr(args, set_name), chosen, args.limit, args.misses) + [""]
    if args.out:
        args.out.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
