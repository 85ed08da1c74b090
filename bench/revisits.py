"""Revisits: what the default policy costs in requests, and how long choosing the due articles takes.

Run: ``python bench/revisits.py [--articles 100000] [--rate 200] [--days 21]`` (uses MONGO_URI, else
starts an embedded nx-27017 in a temporary directory). Not a test.

1. Request cost: a simulated site publishing ``--rate`` articles a day, evenly, crawled by scheduled
   runs every hour (then every 6 hours, once a day) for ``--days`` days. Each run stores the
   articles first seen since the last one and revisits the due ones with the project's own code
   (:func:`newscrawl.store.revisits.due_articles`, :class:`~newscrawl.store.revisits.RevisitLog`)
   against the database, on a simulated clock. Printed for the days after the first week (steady
   state): revisit requests per day, per article over its life, per article a day in its first
   week, and per stored article a day for archives of a month and a year.
2. Due selection: ``--articles`` stored articles (about 3 KB of text each, three sites, first
   seen over the last 100 days, 1,000 a day, schedules kept up to date until an hour ago). The
   time of one run's choice of its site's due articles (an indexed range on ``next_revisit_at``, a
   number), against the same choice on a date field (what nx-27017 answers by reading every
   article) and the ``0s`` choice of every article of the site; alternated, repeated,
   min / median / max.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import ASCENDING  # noqa: E402

from newscrawl.defaults import default, setting_value  # noqa: E402
from newscrawl.store.database import Storage, open_storage  # noqa: E402
from newscrawl.store.revisits import (  # noqa: E402
    MIN_CAP,
    RevisitLog,
    RevisitOutcome,
    RevisitPolicy,
    due_articles,
)
from newscrawl.store.server import EmbeddedServer  # noqa: E402

SEED = Path(__file__).resolve().parents[1] / "tests/files/unian/article_en_seed.txt"
WORDS = re.findall(r"[A-Za-z]+", SEED.read_text(encoding="utf-8"))
AGES = default("NEWSCRAWL_REVISIT_AGES")
POLICY = RevisitPolicy.parse(AGES)
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SITES = ("unian", "pravda", "ukrinform")


def simulate(storage: Storage, rate: int, days: int, every_minutes: int) -> dict[str, float]:
    """Runs every ``every_minutes`` for ``days`` days over a site publishing ``rate`` articles a day."""
    db = storage.db.client[storage.db.name + f"_sim_{every_minutes}"]
    db.articles.create_index([("next_revisit_at", ASCENDING)])
    gap = timedelta(days=1) / rate
    published = 0
    revisits_per_day: Counter[int] = Counter()
    now = START
    while now < START + timedelta(days=days):
        now += timedelta(minutes=every_minutes)
        new = []
        while START + published * gap <= now:
            first_seen = START + published * gap
            new.append({"site": "sim", "url": f"https://sim.example/{published}", "first_seen_at": first_seen,
                        "next_revisit_at": POLICY.next_due(first_seen, first_seen)})
            published += 1
        if new:
            db.articles.insert_many(new)
        due = due_articles(db, "sim", POLICY, now, MIN_CAP)
        log = RevisitLog([RevisitOutcome(doc["_id"], 304, next_revisit_at=POLICY.next_due(doc["first_seen_at"], now))
                          for doc in due.articles])
        log.write(db)
        day = (now - START - timedelta(microseconds=1)) // timedelta(days=1)
        revisits_per_day[day] += len(due.articles)
    storage.db.client.drop_database(db.name)
    per_day = statistics.mean(revisits_per_day[day] for day in range(8, days))
    return {"per_day": per_day, "per_article": per_day / rate, "first_week": per_day / rate / 7,
            "month": per_day / (30 * rate), "year": per_day / (365 * rate)}


def filler(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, k=words))


def fill_archive(storage: Storage, count: int, now: datetime) -> None:
    """``count`` articles first seen 1,000 a day before ``now``, their schedules kept until an hour ago."""
    articles = storage.db.articles
    batch = []
    for number in range(count):
        rng = random.Random(number)
        first_seen = now - timedelta(days=number / 1000)
        due = POLICY.next_due(first_seen, now - timedelta(hours=1))
        doc: dict[str, Any] = {"site": SITES[number % len(SITES)], "url": f"https://news.example/{number}",
                               "url_key": f"news.example/{number}", "title": filler(rng, 10), "lead": filler(rng, 30),
                               "body": filler(rng, 450), "first_seen_at": first_seen,
                               "http": {"etag": f'"{number:x}"'}}
        if due is not None:
            doc["next_revisit_at"] = due
            doc["next_revisit_date"] = datetime.fromtimestamp(due, timezone.utc)
        batch.append(doc)
        if len(batch) == 2000:
            articles.insert_many(batch, ordered=False)
            batch = []
    if batch:
        articles.insert_many(batch, ordered=False)
    articles.create_index([("next_revisit_date", ASCENDING)])


def timed(function: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def spread(values: list[float]) -> str:
    return f"{min(values):8.1f} / {statistics.median(values):8.1f} / {max(values):8.1f} ms"


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--articles", type=int, default=100_000, help="stored articles for the due selection")
    cli.add_argument("--rate", type=int, default=200, help="articles a day of the simulated site")
    cli.add_argument("--days", type=int, default=21, help="simulated days (the first week is left out)")
    cli.add_argument("--repeats", type=int, default=7)
    args = cli.parse_args()
    server = None
    uri = setting_value("MONGO_URI")
    if not uri:
        server = EmbeddedServer.start(Path(tempfile.mkdtemp(prefix="bench-revisits-")))
        uri = server.uri
    storage = open_storage(uri, f"bench_revisits_{os.getpid()}")
    try:
        print(f"server: {storage.traits.server}; policy {AGES} after first seen")
        print(f"request cost: {args.rate} articles a day for {args.days} days; days 9 to {args.days} (steady state)")
        print("  runs every   revisits/day   per article   per article/day (first week)   per stored article/day: "
              "30-day archive   365-day archive")
        for every in (60, 360, 1440):
            cost = simulate(storage, args.rate, args.days, every)
            print(f"  {every:5d} min   {cost['per_day']:12.0f}   {cost['per_article']:11.2f}   {cost['first_week']:30.3f}"
                  f"   {cost['month']:31.3f}   {cost['year']:15.4f}")

        now = datetime.now(timezone.utc)
        start = time.perf_counter()
        fill_archive(storage, args.articles, now)
        print(f"due selection among {args.articles:,} stored articles ({len(SITES)} sites; filled in "
              f"{time.perf_counter() - start:.0f} s); cap {MIN_CAP} per run; {args.repeats} rounds, alternated")
        every = RevisitPolicy.parse("0s")
        numbers: list[float] = []
        dates: list[float] = []
        all_of_site: list[float] = []
        chosen = by_date = 0
        for round_number in range(args.repeats):
            site = SITES[round_number % len(SITES)]
            runs = [("number", lambda: due_articles(storage.db, site, POLICY, now, MIN_CAP)),
                    ("date", lambda: list(storage.db.articles.find(
                        {"next_revisit_date": {"$lte": now}, "site": site}, {"url": 1, "first_seen_at": 1, "http": 1})
                        .sort("next_revisit_date", ASCENDING).limit(MIN_CAP + 1))),
                    ("0s", lambda: due_articles(storage.db, site, every, now, MIN_CAP))]
            for name, run in runs if round_number % 2 == 0 else list(reversed(runs)):
                elapsed, result = timed(run)
                if name == "number":
                    numbers.append(elapsed)
                    chosen = len(result.articles)
                elif name == "date":
                    dates.append(elapsed)
                    by_date = len(result)
                else:
                    all_of_site.append(elapsed)
        print(f"  next_revisit_at (number, indexed range): {spread(numbers)}   ({chosen} due in the last site)")
        print(f"  a date field, same range               : {spread(dates)}   ({by_date} due)")
        print(f"  0s: every article of the site           : {spread(all_of_site)}")
        print(f"  the number's range vs the date's: {statistics.median(dates) / statistics.median(numbers):.0f}x faster "
              f"(median; min {min(dates) / max(numbers):.0f}x, max {max(dates) / min(numbers):.0f}x)")
    finally:
        storage.client.drop_database(storage.db.name)
        storage.close()
        if server:
            server.stop()


if __name__ == "__main__":
    main()
