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
    ``last_day`` inclusive (midnights in ``NEWSCRAWL_TIMEZONE``, Kyiv by default)."""
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
#: records read per run asked for, so that the workers of a shared crawl fill one run
WORKERS_READ = 8


def recent_runs(storage: Storage, per_spider: int) -> Iterator[dict[str, Any]]:
    """The newest ``per_spider`` runs of each spider (``crawl_runs``), spiders by name; the workers
    of one shared crawl are one run (:func:`merge_shared_runs`)."""
    runs = storage.db.crawl_runs
    for spider in sorted(runs.distinct("spider")):
        records = list(runs.find({"spider": spider}).sort("started_at", DESCENDING).limit(per_spider * WORKERS_READ))
        yield from merge_shared_runs(records)[:per_spider]


def merge_shared_runs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run records with those of the workers of one shared crawl (same spider and ``crawl_id``)
    made one, in the order of each crawl's first record. A merged run starts with its first worker
    and ends with its last; counts are summed, rates weighted by articles parsed, alerts and sites
    joined, and it fails when a worker failed; ``workers`` says how many records it joins."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for record in records:
        key = (record["spider"], record["crawl_id"]) if record.get("crawl_id") else record["_id"]
        groups.setdefault(key, []).append(record)
    return [group[0] if len(group) == 1 else _merged(group) for group in groups.values()]


def _parsed(record: dict[str, Any]) -> int:
    return int((record.get("items") or {}).get("parsed") or 0)


def _sum(values: list[Any], weights: list[int]) -> Any:
    """Counts added, rates (floats) weighted by ``weights``, dicts field by field; else the first value.
    A value one record lacks (``None``) is left out, whatever type the others have."""
    present = [(value, weight) for value, weight in zip(values, weights) if value is not None]
    if not present:
        return None
    first = present[0][0]
    if isinstance(first, bool) or not isinstance(first, (int, float, dict)):
        return first
    if isinstance(first, dict):
        dicts = [(value, weight) for value, weight in present if isinstance(value, dict)]
        names = dict.fromkeys(name for value, _ in dicts for name in value)
        return {name: _sum([value.get(name) for value, _ in dicts], [weight for _, weight in dicts]) for name in names}
    numbers = [(value, weight) for value, weight in present if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if isinstance(first, float):
        total = sum(weight for _, weight in numbers)
        return round(sum(v * w for v, w in numbers) / total, 4) if total else 0.0
    return sum(int(value) for value, _ in numbers)


def _merged(group: list[dict[str, Any]]) -> dict[str, Any]:
    names = dict.fromkeys(name for record in group for name in record)
    merged = {name: _sum([record.get(name) for record in group], [_parsed(r) for r in group]) for name in names}
    failed = [record for record in group if (record.get("outcome") or {}).get("code")]
    unfinished = [record["finish_reason"] for record in group if record.get("finish_reason") != "finished"]
    merged.update(
        _id=group[0]["_id"], workers=len(group), run_ids=[record["_id"] for record in group],
        started_at=min(record["started_at"] for record in group),
        finished_at=max(record["finished_at"] for record in group),
        finish_reason=unfinished[0] if unfinished else "finished",
        outcome=(failed or group)[0].get("outcome"),
        alerts=[alert for record in group for alert in record.get("alerts") or []],
        sites=sorted({site for record in group for site in record.get("sites") or [record["spider"]]}),
        failed_pages={"pages": [page for record in group for page in (record.get("failed_pages") or {}).get("pages", [])],
                      "more": sum((record.get("failed_pages") or {}).get("more", 0) for record in group)},
    )
    return merged
