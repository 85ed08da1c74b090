"""The database reads behind ``python -m newscrawl stats``, ``query`` and ``export``."""

from __future__ import annotations

import re

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TextIO

from pymongo import ASCENDING, DESCENDING

from newscrawl.ops.exporters import flat_cell
from newscrawl.store.database import Storage
from newscrawl.store.files import to_json_line

CSV_COLUMNS = ("site", "language", "source_id", "url", "published_at", "modified_at", "title", "lead", "authors",
               "section", "tags", "images", "word_count", "body")
STATS_FIELDS = ("title", "lead", "body", "authors", "published_at", "modified_at", "section", "tags", "images")


def article_filter(*, site: str | None = None, language: str | None = None, tag: str | None = None,
                   first_day: datetime | None = None, last_day: datetime | None = None) -> dict[str, Any]:
    """A MongoDB filter on the articles: site, edition, tag, and publication from ``first_day`` to
    ``last_day`` inclusive (midnights, Kyiv time)."""
    query: dict[str, Any] = {}
    if site:
        query["site"] = site
    if language:
        query["language"] = language
    if tag:
        query["tags"] = tag
    published: dict[str, datetime] = {}
    if first_day is not None:
        published["$gte"] = first_day
    if last_day is not None:
        published["$lt"] = last_day + timedelta(days=1)
    if published:
        query["published_at"] = published
    return query


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    """An article without its internal near-duplicate index fields."""
    return {k: v for k, v in doc.items() if not k.startswith("simhash_band")}


def find_articles(storage: Storage, query: dict[str, Any], limit: int = 0) -> Iterator[dict[str, Any]]:
    """The articles matching ``query``, newest first, at most ``limit`` (0: all)."""
    cursor = storage.db.articles.find(query).sort("published_at", DESCENDING)
    if limit:
        cursor = cursor.limit(limit)
    return (_public(doc) for doc in cursor)


def write_articles(articles: Iterable[dict[str, Any]], out: TextIO, file_format: str) -> int:
    """Write ``articles`` to ``out`` as JSON lines (``jsonl``) or CSV (``csv``); the number written."""
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore") if file_format == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for doc in articles:
        if writer:
            writer.writerow({name: flat_cell(value) for name, value in json.loads(to_json_line(doc)).items()})
        else:
            out.write(to_json_line(doc) + "\n")
        count += 1
    return count


def site_stats(storage: Storage) -> list[dict[str, Any]]:
    """Per site: article count, newest and oldest publication, share of articles with each field."""
    articles = storage.db.articles
    rows = []
    for site in sorted(articles.distinct("site")):
        total = articles.count_documents({"site": site})
        newest = articles.find_one({"site": site}, {"published_at": 1}, sort=[("published_at", DESCENDING)])
        oldest = articles.find_one({"site": site}, {"published_at": 1}, sort=[("published_at", ASCENDING)])
        filled = {name: 0 for name in STATS_FIELDS}
        projection = {name: 1 for name in STATS_FIELDS if name not in ("body", "lead")}
        for doc in articles.find({"site": site}, projection):
            for name in projection:
                filled[name] += doc.get(name) not in (None, "", [])
        for name in ("body", "lead"):  # long strings: counted by the server
            filled[name] = articles.count_documents({"site": site, name: {"$nin": [None, ""]}})
        rows.append({
            "site": site, "articles": total,
            "newest": (newest or {}).get("published_at"), "oldest": (oldest or {}).get("published_at"),
            "fill_rate": {name: round(filled[name] / total, 3) if total else 0.0 for name in STATS_FIELDS},
        })  # fmt: skip
    return rows


def runs_with_failures(storage: Storage, run_id: str | None = None) -> Iterator[dict[str, Any]]:
    """The run whose id starts with ``run_id``; without one, the newest run of each spider."""
    if run_id:
        yield from storage.db.crawl_runs.find({"_id": {"$regex": f"^{re.escape(run_id)}"}}).limit(1)
    else:
        yield from recent_runs(storage, 1)


def recent_runs(storage: Storage, per_spider: int) -> Iterator[dict[str, Any]]:
    """The newest ``per_spider`` run records of each spider (``crawl_runs``), spiders by name."""
    runs = storage.db.crawl_runs
    for spider in sorted(runs.distinct("spider")):
        yield from runs.find({"spider": spider}).sort("started_at", DESCENDING).limit(per_spider)
