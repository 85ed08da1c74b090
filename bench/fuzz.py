"""Fuzz the parsers and the clean pipeline on mutated real pages and random documents, offline.

Run: ``python bench/fuzz.py [--cases 10000] [--seed 0]``. Each case takes a saved page
(tests/files/regional, UNIAN reconstructions of tests/sites and tests/files) with 1-3 mutations from
tests/mutations.py, or a random string (one case in ten), runs the site's parser, the generic one
or UNIAN's on it, then the clean pipeline, and checks the stored text is plain and the dates
aware. Prints how many cases parsed, were not articles, were dropped (by reason) and raised;
exceptions must be 0 (the first traceback of each kind is printed) and the exit code is 1 if any. Not a test.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mutations import MUTATORS, PARSERS, SOURCES, check, mutate, random_document  # noqa: E402
from pipelines.clean import CleanPipeline  # noqa: E402

SHOWN_TRACEBACKS = 8


def run(cases: int, seed: int) -> int:
    """Fuzz ``cases`` cases; print the counts; return the number of exceptions."""
    rng = random.Random(seed)
    pipeline = CleanPipeline()
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    for number in range(cases):
        parser_name = rng.choice(list(PARSERS))
        if rng.random() < 0.1:
            label, url, html = "random", "https://news.example.org/a-b-c-d-1", random_document(rng)
        else:
            source = rng.choice(SOURCES)
            names = rng.choices(list(MUTATORS), k=rng.randint(1, 3))
            label, url, html = f"{source.name} {'+'.join(names)}", source.url, mutate(source.html, names, rng)
        try:
            outcomes[check(html, url, PARSERS[parser_name](url), pipeline)] += 1
        except Exception as exc:  # noqa: BLE001 - counting every escape is the point
            outcomes["exception"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            kind = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            errors[kind] += 1
            if errors[kind] == 1 and len(failures) < SHOWN_TRACEBACKS:  # the first of each kind
                failures.append(f"case {number} ({label}, parser {parser_name}):\n{traceback.format_exc()}")
    elapsed = time.perf_counter() - started
    print(f"cases            {cases} (seed {seed}, {elapsed:.0f} s, {cases / elapsed:.0f}/s)")
    print(f"parsed OK        {outcomes['parsed']}")
    print(f"NotAnArticle     {outcomes['not_article']}")
    dropped = {key.split("/", 1)[1]: n for key, n in outcomes.items() if key.startswith("dropped/")}
    print(f"dropped          {sum(dropped.values())}")
    for reason, count in sorted(dropped.items(), key=lambda pair: -pair[1]):
        print(f"  {reason:<22} {count}")
    print(f"exceptions       {outcomes['exception']}")
    for error, count in errors.most_common():
        print(f"  {error:<60} {count}")
    for failure in failures:
        print("\n" + failure)
    return outcomes["exception"]


def main() -> int:
    """Parse the arguments and fuzz; exit 1 when anything raised."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--cases", type=int, default=10_000, help="how many cases (default 10000)")
    args.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    options = args.parse_args()
    return 1 if run(options.cases, options.seed) else 0


if __name__ == "__main__":
    sys.exit(main())
