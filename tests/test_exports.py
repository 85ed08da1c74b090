"""Scrapy's feed exports of articles (``scrapy crawl unian -O out.csv|out.xml``) are flat and free of
``None``: a replay of the shipped UNIAN sample archive, offline, into the session's database."""

from __future__ import annotations

import csv
import json
from dataclasses import fields
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import crawl_env, run_crawl
from newscrawl.extract.items import Article, Image
from newscrawl.ops.exporters import FORMULA_STARTS, flat_cell
from newscrawl.ops.query import CSV_COLUMNS

SAMPLE = FILES / "unian/unian-sample.warc.gz"


@pytest.fixture(scope="module")
def export_env(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> dict[str, str]:
    """The environment of the replay crawl and of the exports from its database."""
    return crawl_env(tmp_path_factory.mktemp("exports"), mongo_uri, "export")


@pytest.fixture(scope="module")
def exported(export_env: dict[str, str]) -> Path:
    """One replay crawl writing both a CSV and an XML feed."""
    folder = Path(export_env["NEWSCRAWL_DATA_DIR"]).parent
    run_crawl("scrapy", "crawl", "unian", "-O", str(folder / "out.csv"), "-O", str(folder / "out.xml"), env=export_env,
              log=folder / "crawl.log", settings={"NEWSCRAWL_REPLAY": SAMPLE})
    return folder


def test_csv_cells_are_flat_and_never_none(exported: Path) -> None:
    with (exported / "out.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the replay exported no article"
    assert not any(value in ("None", "[]", "{}") for row in rows for value in row.values())
    seed = next(row for row in rows if row["source_id"] == "12149817")
    images = json.loads(seed["images"])
    assert images and set(images[0]) == {"url", "caption", "credit"} and images[0]["url"].startswith("https://")
    assert json.loads(seed["layers"])["title"] in ("jsonld", "meta", "html")
    assert seed["authors"] == "Marta Gichko" and seed["modified_at"] == ""
    assert seed["published_at"] == "2023-02-18T04:24:00+00:00"


def test_xml_leaves_out_missing_values_and_spells_out_pictures(exported: Path) -> None:
    items = ElementTree.parse(exported / "out.xml").getroot().findall("item")
    assert items
    assert not any(element.text == "None" for item in items for element in item.iter())
    seed = next(item for item in items if item.findtext("source_id") == "12149817")
    assert seed.find("modified_at") is None
    # empty values are left out, lists and mappings included: every element has text or elements in it
    assert seed.find("tags") is None and seed.find("truncated") is None  # both [] in the article
    assert all((element.text or "").strip() or len(element) for item in items for element in item.iter())
    assert seed.findtext("images/value/url", "").startswith("https://")
    assert seed.findtext("published_at") == "2023-02-18T04:24:00+00:00"


def test_flat_cell() -> None:
    assert flat_cell(None) == "" and flat_cell(["A B", "C D"]) == "A B; C D" and flat_cell(3) == "3"
    assert json.loads(flat_cell([Image("https://x.ua/a.jpg", "Caption", None)])) == [
        {"url": "https://x.ua/a.jpg", "caption": "Caption", "credit": None}]


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_text_cell_that_starts_like_a_formula_starts_with_a_quote(start: str) -> None:
    """Every start OWASP names (``=``, ``+``, ``-``, ``@``, a tab, a carriage return), in a text and
    a list of names; numbers, JSON and texts that do not start so are as they were."""
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")
    text = start + "1+1"
    assert flat_cell(text) == "'" + text
    assert flat_cell([text, "Ann Lee"]) == "'" + text + "; Ann Lee"
    assert flat_cell(["Ann Lee", text]) == "Ann Lee; " + text  # a cell is run from its first character
    assert flat_cell(-2) == "-2" and flat_cell(-2.5) == "-2.5"
    assert flat_cell({"title": text}).startswith("{")
    assert flat_cell("Council " + text) == "Council " + text


def test_the_two_csv_outputs_share_their_cell_rules_not_their_columns(exported: Path, export_env: dict[str, str]) -> None:
    """What newscrawl/ops/exporters.py says: ``-O out.csv`` a column per item field (29), ``export
    --format csv`` the 14 of CSV_COLUMNS, and the same cell wherever they share a column."""
    out = exported / "export.csv"
    subprocess.run([sys.executable, "-m", "newscrawl", "export", "--format", "csv", "--out", str(out)], cwd=ROOT,
                   env=export_env, check=True, capture_output=True, timeout=300)
    with (exported / "out.csv").open(encoding="utf-8", newline="") as feed, out.open(encoding="utf-8", newline="") as db:
        crawl_rows, export_rows = list(csv.DictReader(feed)), list(csv.DictReader(db))
    assert list(crawl_rows[0]) == [f.name for f in fields(Article)] and len(crawl_rows[0]) == 29
    assert tuple(export_rows[0]) == CSV_COLUMNS and len(CSV_COLUMNS) == 14
    exported_seed = next(row for row in export_rows if row["source_id"] == "12149817")
    crawled_seed = next(row for row in crawl_rows if row["source_id"] == "12149817")
    assert {name: crawled_seed[name] for name in CSV_COLUMNS} == exported_seed
