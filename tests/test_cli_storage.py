"""`python -m newscrawl stats|query|export` over a real database."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import ROOT, read_page
from newscrawl.store.database import Storage
from spiders.unian import UnianParser
from test_dedupe_store import Run
from test_unian_parser import EN_URL, FETCHED, SEED_PAGE


@pytest.fixture
def filled(storage: Storage) -> Storage:
    """The seed story, plus a second (different) story published a month later with a tag."""
    seed = UnianParser.parse(read_page(SEED_PAGE), EN_URL, fetched_at=FETCHED)
    later_url = "https://www.unian.info/war/later-story-12200000.html"
    words = read_page("unian/article_en_seed.txt").split()
    run = Run(storage)
    run.feed(seed)
    run.feed(replace(seed, url=later_url, canonical_url=later_url, source_id="12200000", tags=["ISW"], authors=[],
                     published_at=datetime(2023, 3, 20, 10, 0, tzinfo=timezone.utc), body=" ".join(reversed(words))))
    run.finish()
    return storage


def cli(storage: Storage, *args: str) -> str:
    env = {**os.environ, "MONGO_URI": storage.uri, "MONGO_DATABASE": storage.db.name}
    result = subprocess.run([sys.executable, "-m", "newscrawl", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_stats(filled: Storage) -> None:
    (row,) = [json.loads(line) for line in cli(filled, "stats", "--json").splitlines()]
    assert row["site"] == "unian" and row["articles"] == 2
    assert row["newest"].startswith("2023-03-20T10:00") and row["oldest"].startswith("2023-02-18T04:24")
    assert row["fill_rate"]["title"] == 1.0 and row["fill_rate"]["authors"] == 0.5 and row["fill_rate"]["tags"] == 0.5
    assert row["fill_rate"]["modified_at"] == 0.0


def test_query_by_kyiv_days_and_tag(filled: Storage) -> None:
    february = [json.loads(line) for line in cli(filled, "query", "--site", "unian", "--since", "2023-02-01",
                                                 "--until", "2023-02-28").splitlines()]
    assert [doc["url"] for doc in february] == [EN_URL]
    assert february[0]["published_at"] == "2023-02-18T04:24:00+00:00"
    tagged = [json.loads(line) for line in cli(filled, "query", "--tag", "ISW").splitlines()]
    assert [doc["source_id"] for doc in tagged] == ["12200000"]
    assert len(cli(filled, "query", "--limit", "1").splitlines()) == 1
    # the day boundary is Kyiv's: 2023-02-18 04:24 UTC is on the 18th there
    assert cli(filled, "query", "--since", "2023-02-18", "--until", "2023-02-18").count("\n") == 1
    assert cli(filled, "query", "--since", "2023-02-19", "--until", "2023-03-19") == ""


def test_export_csv_and_jsonl(filled: Storage, tmp_path: Path) -> None:
    cli(filled, "export", "--format", "csv", "--out", str(tmp_path / "a.csv"))
    with (tmp_path / "a.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["source_id"] for row in rows] == ["12200000", "12149817"]
    assert rows[1]["authors"] == "Marta Gichko" and rows[0]["tags"] == "ISW"
    cli(filled, "export", "--format", "jsonl", "--out", str(tmp_path / "a.jsonl"), "--site", "unian")
    docs = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 2 and all("simhash_band0" not in doc for doc in docs)
