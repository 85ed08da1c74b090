"""Dates benchmark: ``newscrawl.extract.dates.parse_date`` vs ``dateparser.parse`` on the same 10,000 strings.

Run: ``python bench/dates.py [--cases 10000] [--json FILE]``. The strings come from the generators
of tests/test_dates.py — the formats news sites print ("06:24, 18.02.23", "18 лютого 2023 о 14:30",
"Mon, 28 Sep 2020 16:35:12 +0300", ISO 8601 with and without offsets …) with their known instants.
Both parsers must give that instant for every string (mismatches are counted and shown); the
ratio of their speeds is printed. Not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_dates import (  # noqa: E402
    PROPERTY_NOW,
    dateparser_instant,
    iso_dates,
    named_month_dates,
    numeric_dates,
    rfc822_dates,
)

from newscrawl.extract.dates import parse_date  # noqa: E402


def cases(count: int) -> list[tuple[str, str, object]]:
    """``count`` generated (text, language, expected instant) triples."""
    found: list[tuple[str, str, object]] = []

    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(numeric_dates(), iso_dates(), rfc822_dates(), named_month_dates()))
    def collect(case: tuple[str, str, object]) -> None:
        found.append(case)

    collect()
    return found[:count]


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--cases", type=int, default=10_000)
    cli.add_argument("--json", type=Path)
    args = cli.parse_args()
    samples = cases(args.cases)
    started = time.perf_counter()
    ours = [parse_date(text, languages=[lang], now=PROPERTY_NOW) for text, lang, _ in samples]
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs = [dateparser_instant(text, [lang], PROPERTY_NOW) for text, lang, _ in samples]
    theirs_seconds = time.perf_counter() - started
    # parse_date refuses instants before 1990-01-01 UTC (a page dated earlier is a misread): for
    # the few generated Kyiv-time 1 January 1990 strings, None is its right answer
    floor = datetime(1990, 1, 1, tzinfo=timezone.utc)
    wrong_ours = [(t, e, o) for (t, _, e), o in zip(samples, ours) if o != (e if e >= floor else None)]
    wrong_theirs = [(t, e, o) for (t, _, e), o in zip(samples, theirs) if o != e]
    ratio = theirs_seconds / ours_seconds
    print(f"{len(samples):,} date strings: newscrawl.extract.dates {len(samples) / ours_seconds:,.0f}/s "
          f"({ours_seconds / len(samples) * 1e6:.1f} µs each), dateparser {len(samples) / theirs_seconds:,.0f}/s "
          f"({theirs_seconds / len(samples) * 1e6:.0f} µs each): {ratio:.0f}× faster")
    print(f"answers differing from the known instant: newscrawl {len(wrong_ours)}, dateparser {len(wrong_theirs)}")
    for text, expected, got in (wrong_ours + wrong_theirs)[:5]:
        print(f"  {text!r}: expected {expected}, got {got}")
    if args.json:
        args.json.write_text(json.dumps({"cases": len(samples), "newscrawl_per_s": len(samples) / ours_seconds,
                                         "dateparser_per_s": len(samples) / theirs_seconds, "ratio": ratio,
                                         "wrong_newscrawl": len(wrong_ours), "wrong_dateparser": len(wrong_theirs)}))


if __name__ == "__main__":
    main()
