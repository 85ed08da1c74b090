"""Dates benchmark: ``newscrawl.extract.dates.parse_date`` vs ``dateparser.parse`` on the same mix of 10,000 strings.

Run: ``python bench/dates.py [--cases 10000] [--repeats 3] [--json FILE]``. The strings come from the
generators of tests/test_dates.py, each with its known instant and the fetch time it is read at
(relative and year-less dates count from it). The mix, in the shares a crawl meets them:

- ISO 8601 35% (JSON-LD, ``<meta>``, sitemaps, ``<time datetime>``: on every article page);
- RFC 822 15% (feeds, the HTTP ``Date`` header);
- numeric day-first 10% ("06:24, 18.02.23") and month names with a year 15% ("18 лютого 2023 о
  14:30"): the dates article pages print;
- month names without a year 10% ("18 лютого, 06:24", "Feb 18") and relative dates 15% ("5 хвилин
  тому", "вчора, 14:05", "vor 2 Stunden"): what listings print for recent stories.

Both parsers read every string once per run; the runs alternate which parser goes first and are
repeated; the ratio of their times is given as min/median/max over the runs, with the time per
string of each kind so that any other mix can be worked out. Every answer is checked against the
known instant (wrong answers are counted and shown; any wrong answer of newscrawl's makes the exit
status 1). Not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_dates import (  # noqa: E402
    PROPERTY_NOW,
    dateparser_instant,
    iso_dates,
    named_month_dates,
    numeric_dates,
    relative_dates,
    rfc822_dates,
    yearless_dates,
)

from newscrawl.extract.dates import parse_date  # noqa: E402

#: (text, language, known instant, fetch time)
Case = tuple[str, str, datetime, datetime]


def at_property_now(case: tuple[str, str, datetime]) -> Case:
    """A case whose text is absolute, read at the tests' fixed ``now``."""
    return (*case, PROPERTY_NOW)


#: kind -> (share of the mix, generator)
MIX: dict[str, tuple[float, st.SearchStrategy[Case]]] = {
    "ISO 8601": (0.35, iso_dates().map(at_property_now)),
    "RFC 822": (0.15, rfc822_dates().map(at_property_now)),
    "numeric": (0.10, numeric_dates().map(at_property_now)),
    "month name + year": (0.15, named_month_dates().map(at_property_now)),
    "year-less": (0.10, yearless_dates()),
    "relative": (0.15, relative_dates()),
}
FLOOR = datetime(1990, 1, 1, tzinfo=timezone.utc)
WARM_UP = 50  # strings of each kind both parsers read before the timed runs


def cases(strategy: st.SearchStrategy[Case], count: int) -> list[Case]:
    """``count`` cases drawn from ``strategy``, the same ones on every run of the benchmark."""
    found: list[Case] = []

    @seed(20230218)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case: Case) -> None:
        found.append(case)

    collect()
    return found[:count]


def ours(case: Case) -> datetime | None:
    text, lang, _, now = case
    return parse_date(text, languages=[lang], now=now)


def theirs(case: Case) -> datetime | None:
    text, lang, _, now = case
    return dateparser_instant(text, [lang], now)


def timed(parser: Callable[[Case], datetime | None], samples: list[Case]) -> tuple[float, list[datetime | None]]:
    """Seconds ``parser`` takes over ``samples``, and its answers."""
    started = time.perf_counter()
    answers = [parser(case) for case in samples]
    return time.perf_counter() - started, answers


def spread(values: list[float], unit: str = "") -> str:
    """min / median / max of ``values``."""
    return " / ".join(f"{value:,.0f}{unit}" for value in (min(values), statistics.median(values), max(values)))


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--cases", type=int, default=10_000)
    cli.add_argument("--repeats", type=int, default=3)
    cli.add_argument("--json", type=Path)
    args = cli.parse_args()
    samples = {kind: cases(strategy, round(args.cases * share)) for kind, (share, strategy) in MIX.items()}
    total = sum(map(len, samples.values()))
    seconds: dict[str, dict[str, list[float]]] = {kind: {"ours": [], "theirs": []} for kind in samples}
    answers: dict[str, dict[str, list[datetime | None]]] = {kind: {} for kind in samples}
    for kind_samples in samples.values():  # dateparser loads each language's data on first use
        for case in kind_samples[:WARM_UP]:
            ours(case), theirs(case)
    for run in range(args.repeats):
        order = [("ours", ours), ("theirs", theirs)]
        for name, parser in order if run % 2 == 0 else order[::-1]:
            for kind, kind_samples in samples.items():
                elapsed, answers[kind][name] = timed(parser, kind_samples)
                seconds[kind][name].append(elapsed)
    runs = {name: [sum(seconds[kind][name][run] for kind in samples) for run in range(args.repeats)]
            for name in ("ours", "theirs")}
    ratios = [slow / fast for fast, slow in zip(runs["ours"], runs["theirs"])]
    # parse_date refuses instants before 1990-01-01 UTC (a page dated earlier is a misread): for
    # the few generated Kyiv-time 1 January 1990 strings, None is its right answer
    wrong = {"ours": [], "theirs": []}
    for kind, kind_samples in samples.items():
        for index, (text, _, expected, now) in enumerate(kind_samples):
            if (got := answers[kind]["ours"][index]) != (expected if expected >= FLOOR else None):
                wrong["ours"].append((kind, text, now, expected, got))
            if (got := answers[kind]["theirs"][index]) != expected:
                wrong["theirs"].append((kind, text, now, expected, got))

    shares = ", ".join(f"{kind} {len(kind_samples) / total:.0%}" for kind, kind_samples in samples.items())
    print(f"{total:,} date strings ({shares}); {args.repeats} runs, alternating which parser goes first")
    print(f"  newscrawl.extract.dates  {spread([total / s for s in runs['ours']])} strings/s (min / median / max)")
    print(f"  dateparser               {spread([total / s for s in runs['theirs']])} strings/s")
    print(f"  newscrawl vs dateparser: {spread(ratios, '×')} faster")
    print("per kind, median µs per string: newscrawl, dateparser, ratio")
    kinds = {}
    for kind, kind_samples in samples.items():
        fast, slow = (statistics.median(seconds[kind][name]) / len(kind_samples) * 1e6 for name in ("ours", "theirs"))
        kinds[kind] = {"cases": len(kind_samples), "newscrawl_us": fast, "dateparser_us": slow}
        print(f"  {kind:<18} {fast:6.1f} {slow:7.0f} {slow / fast:6.0f}×")
    print("answers differing from the known instant: "
          f"newscrawl {len(wrong['ours'])}, dateparser {len(wrong['theirs'])}")
    for kind, text, now, expected, got in (wrong["ours"] + wrong["theirs"])[:5]:
        print(f"  {kind}: {text!r} at {now.isoformat()}: expected {expected}, got {got}")
    if args.json:
        args.json.write_text(json.dumps({
            "cases": total, "repeats": args.repeats, "kinds": kinds,
            "newscrawl_per_s": total / statistics.median(runs["ours"]),
            "dateparser_per_s": total / statistics.median(runs["theirs"]),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "wrong_newscrawl": len(wrong["ours"]), "wrong_dateparser": len(wrong["theirs"]),
        }))
    sys.exit(1 if wrong["ours"] else 0)


if __name__ == "__main__":
    main()
