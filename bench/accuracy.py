"""Extraction accuracy on the 258 real Fundus pages: our generic parser vs trafilatura vs newspaper4k.

Run: ``python bench/accuracy.py [--fixtures ../shared/fixtures/fundus] [--out bench/ACCURACY.md]``
(needs ``pip install -r bench/requirements.txt`` for newspaper4k). For every page of
``manifest.jsonl`` it runs the same logic as ``python -m newscrawl parse`` with the generic parser,
and the two other extractors on the same HTML, and scores: title exact match, date exact (same
instant to the minute), authors set match, body token F1 (mean). Overall and for non-English
pages. Fundus's expected values are its own parsers' output: a development set, not ground truth.
Not a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newscrawl.extract.dates import parse_date  # noqa: E402
from newscrawl.extract.text import clean_line  # noqa: E402
from newscrawl.extract.timezones import TLD_ZONES  # noqa: E402
from newscrawl.extract.parser import GenericParser, NotAnArticle  # noqa: E402

ENGLISH = {"us", "uk", "au", "ca", "ind", "za", "na", "ls", "tz", "lb", "my", "il", "be"}
Result = dict[str, Any]


def expected_of(entry: dict[str, Any], fixtures: Path) -> Result:
    """Title, authors, date and body Fundus expects for one page."""
    data = json.loads((fixtures / entry["expected_json"]).read_text(encoding="utf-8"))[entry["version"]]
    body = data.get("body") or {}
    paragraphs = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        paragraphs += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return {"title": data.get("title"), "authors": data.get("authors") or [], "date": data.get("publishing_date"),
            "body": "\n\n".join(paragraphs)}


def ours(html: str, url: str, crawled: datetime) -> Result:
    try:
        article = GenericParser.parse(html, url, fetched_at=crawled)
    except NotAnArticle:
        return {}
    return {"title": article.title, "authors": article.authors, "date": article.published_at, "body": article.body}


def trafilatura_result(html: str, url: str, crawled: datetime) -> Result:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if doc is None:
        return {}
    doc = doc.as_dict() if hasattr(doc, "as_dict") else doc
    authors = [a.strip() for a in re.split(r";|,", doc.get("author") or "") if a.strip()]
    return {"title": doc.get("title"), "authors": authors, "date": doc.get("date"), "body": doc.get("text")}


def newspaper_result(html: str, url: str, crawled: datetime) -> Result:
    import newspaper

    article = newspaper.Article(url)
    article.download(input_html=html)
    article.parse()
    return {"title": article.title, "authors": article.authors, "date": article.publish_date, "body": article.text}


#: the publisher's clock per Fundus country code: Fundus writes a date the page prints without an
#: offset as a naive value, i.e. the publisher's wall-clock time (SportSchau prints 20:58Z in its
#: JSON-LD and Fundus gives 22:58 naive). Multi-zone countries get their main newsroom's zone.
COUNTRY_ZONES = {**TLD_ZONES, "us": "America/New_York", "ca": "America/Toronto", "au": "Australia/Sydney",
                 "mx": "America/Mexico_City", "ind": "Asia/Kolkata", "isl": "Atlantic/Reykjavik",
                 "id": "Asia/Jakarta"}


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


def score(got: Result, expected: Result, crawled: datetime, zone: str = "UTC") -> dict[str, float]:
    """Per-field scores of one extractor's result; ``zone`` is the publisher's clock."""
    return {
        "title": float(clean_line(got.get("title")) == clean_line(expected["title"])),
        "date": float(expected["date"] is not None
                      and instant(got.get("date"), crawled, zone) == instant(expected["date"], crawled, zone)),
        "authors": float({clean_line(a) for a in got.get("authors") or []} == {clean_line(a) for a in expected["authors"]}),
        "body": token_f1(got.get("body"), expected["body"]),
    }


EXTRACTORS: dict[str, Callable[[str, str, datetime], Result]] = {
    "newscrawl": ours, "trafilatura": trafilatura_result, "newspaper4k": newspaper_result,
}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared/fixtures/fundus")
    cli.add_argument("--out", type=Path, help="also write the table (markdown) here")
    cli.add_argument("--limit", type=int, default=0)
    cli.add_argument("--misses", action="store_true", help="print our misses per field")
    cli.add_argument("--extractors", default=",".join(EXTRACTORS),
                     help="comma-separated subset to run, e.g. newscrawl,trafilatura (newspaper4k is slow)")
    args = cli.parse_args()
    warnings.simplefilter("ignore")
    import logging

    logging.disable(logging.CRITICAL)
    entries = [json.loads(line) for line in (args.fixtures / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    entries = entries[: args.limit] if args.limit else entries
    chosen = {name: EXTRACTORS[name] for name in args.extractors.split(",")}
    totals: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in chosen}
    seconds: Counter[str] = Counter()
    for entry in entries:
        html = gzip.decompress((args.fixtures / entry["html"]).read_bytes()).decode("utf-8", "replace")
        expected = expected_of(entry, args.fixtures)
        crawled = parse_date(entry["crawl_date"], tz="UTC", now=datetime.now(timezone.utc)) or datetime.now(timezone.utc)
        english = entry["country"] in ENGLISH
        for name, extract in chosen.items():
            start = time.perf_counter()
            try:
                got = extract(html, entry["url"], crawled)
            except Exception:  # a baseline crashing on a page scores zero there
                got = {}
            seconds[name] += time.perf_counter() - start
            scores = score(got, expected, crawled, COUNTRY_ZONES.get(entry["country"], "UTC"))
            for field, value in scores.items():
                totals[name][field].append(value)
                if not english:
                    totals[name][f"{field}/non-en"].append(value)
            if args.misses and name == "newscrawl":
                for field, value in scores.items():
                    if value < (0.9 if field == "body" else 1):
                        shown = got.get(field) if field != "body" else f"F1={value:.2f}"
                        wanted = expected[field] if field != "body" else ""
                        print(f"MISS {field:7} {entry['html']}: got {str(shown)[:90]!r} want {str(wanted)[:90]!r}")
    fields = ["title", "date", "authors", "body"]
    lines = [
        f"Fundus pages: {len(entries)} ({sum(e['country'] not in ENGLISH for e in entries)} non-English), "
        f"measured {datetime.now(timezone.utc):%Y-%m-%d}",
        "",
        "| extractor | " + " | ".join(f"{f} (all)" for f in fields) + " | " + " | ".join(f"{f} (non-en)" for f in fields) + " | pages/s |",
        "|---" * (2 * len(fields) + 2) + "|",
    ]
    for name in chosen:
        cells = [f"{100 * sum(totals[name][f]) / len(totals[name][f]):.1f}%" if f != "body"
                 else f"{sum(totals[name][f]) / len(totals[name][f]):.3f}" for f in fields]
        cells += [f"{100 * sum(totals[name][f + '/non-en']) / len(totals[name][f + '/non-en']):.1f}%" if f != "body"
                  else f"{sum(totals[name][f + '/non-en']) / len(totals[name][f + '/non-en']):.3f}" for f in fields]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {len(entries) / seconds[name]:.1f} |")
    lines += ["", "title/date/authors: share of pages exactly right (date: same instant to the minute); "
              "body: mean token F1 (both texts NFC, without soft hyphens). Dates without an offset (Fundus's naive values, trafilatura's days) are read as "
              "the publisher's local time (its country's zone), so trafilatura's date score counts pages "
              "published at local midnight."]
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
