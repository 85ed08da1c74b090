"""Scrapy's feed exports of articles (``scrapy crawl unian -O out.csv|out.xml``) are flat and free of
``None``: a replay of the shipped UNIAN sample archive, offline, into the session's database."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import crawl_env
from newscrawl.extract.items import Image
from newscrawl.ops.exporters import flat_cell

SAMPLE = FILES / "unian/unian-sample.warc.gz"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Path:
    """One replay crawl writing both a CSV and an XML feed."""
    folder = tmp_path_factory.mktemp("exports")
    env = crawl_env(folder, mongo_uri, "export")
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "unian", "-s", f"NEWSCRAWL_REPLAY={SAMPLE}",
                    "-O", str(folder / "out.csv"), "-O", str(folder / "out.xml"),
                    "-s", f"LOG_FILE={folder / 'crawl.log'}"], cwd=ROOT, env=env, check=True, timeout=600)
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
    assert seed.findtext("images/value/url", "").startswith("https://")
    assert seed.findtext("published_at") == "2023-02-18T04:24:00+00:00"


def test_flat_cell() -> None:
    assert flat_cell(None) == "" and flat_cell(["A B", "C D"]) == "A B; C D" and flat_cell(3) == "3"
    assert json.loads(flat_cell([Image("https://x.ua/a.jpg", "Caption", None)])) == [
        {"url": "https://x.ua/a.jpg", "caption": "Caption", "credit": None}]
