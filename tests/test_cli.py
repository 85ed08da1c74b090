"""`python -m newscrawl parse`: one saved page in, one JSON article out; clear errors otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import FILES, ROOT, SITES, saved_bytes

SEED = SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz"
SEED_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newscrawl", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_parse_prints_one_json_object_with_utc_dates() -> None:
    result = run("parse", "--url", SEED_URL, "--fetched-at", "2023-02-18T07:00:00Z", str(SEED))
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["site"] == "unian"
    assert article["published_at"] == "2023-02-18T04:24:00+00:00"
    assert article["fetched_at"] == "2023-02-18T07:00:00+00:00"
    assert article["parser"].startswith("UnianParser.V1_1")


def test_parse_picks_the_parser_by_host() -> None:
    page = FILES / "regional/ukrinform_ru_2020-09-20.html"
    url = "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html"
    for address, parser in ((url, "UkrinformParser.V1"), (url.replace("ukrinform.ru", "example.org"), "GenericParser.V1")):
        result = run("parse", "--url", address, str(page))
        assert result.returncode == 0, result.stderr
        article = json.loads(result.stdout)
        assert article["parser"].startswith(parser)
    assert article["published_at"] == "2020-09-20T20:32:00+00:00"


def test_parse_reads_gzipped_pages(tmp_path: Path) -> None:
    import gzip

    page = tmp_path / "seed.html.gz"
    page.write_bytes(gzip.compress(saved_bytes(SEED)))
    result = run("parse", "--url", SEED_URL, str(page))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source_id"] == "12149817"


def test_unreadable_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = run("parse", "--url", SEED_URL, str(tmp_path / "missing.html"))
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot read" in result.stderr


def test_page_that_is_not_an_article_is_a_one_line_error() -> None:
    result = run("parse", "--url", "https://www.unian.net/", str(FILES / "unian/rss_unian_ua_2020-09-28.xml"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not an article" in result.stderr


def test_parse_reads_a_utf8_page_whose_meta_names_latin1(tmp_path: Path) -> None:
    """A real UTF-8 page (Fundus's Landesspiegel capture) with its ``<meta charset>`` changed to
    iso-8859-1: the bytes decode under that charset without errors, but to mojibake ("grÃ¶sstes")."""
    import gzip

    html = gzip.decompress((FILES / "fundus/li_Landesspiegel_2026_01_27.html.gz").read_bytes())
    assert html.count(b'<meta charset="UTF-8">') == 1
    page = tmp_path / "landesspiegel.html"
    page.write_bytes(html.replace(b'<meta charset="UTF-8">', b"<meta charset=iso-8859-1>"))
    url = "https://landesspiegel.li/2026/01/eu-und-indien-besiegeln-groesstes-freihandelsabkommen-ihrer-geschichte/"
    result = run("parse", "--url", url, "--fetched-at", "2026-01-28T00:00:00Z", str(page))
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert article["title"] == "EU und Indien besiegeln grösstes Freihandelsabkommen ihrer Geschichte"
    assert "Ã" not in article["body"] and "ö" in article["body"]
