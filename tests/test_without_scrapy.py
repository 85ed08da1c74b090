"""Extraction and the site declarations work where Scrapy is not installed.

A subprocess hides Scrapy and Twisted (importing them fails as if they were not installed), imports
every module of ``newscrawl.extract`` and every site module in ``spiders/``, and parses each site's
saved fixture pages to exactly their expected fields; the spiders are ``None`` there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WITHOUT_SCRAPY = r'''
import importlib, json, pkgutil, sys

for hidden in ("scrapy", "twisted"):
    sys.modules[hidden] = None  # "import scrapy" fails as if it were not installed

import newscrawl.extract
for info in pkgutil.iter_modules(newscrawl.extract.__path__, prefix="newscrawl.extract."):
    importlib.import_module(info.name)
import spiders.unian
from spiders.unian import UnianParser, UnianSpider
from newscrawl.ops.site_fixtures import compare, discover
from newscrawl.sites import parser_for_url, site_parsers

results = {}
for fixture in discover():
    found = compare(fixture.expected("as_served"), fixture.parse("as_served"))
    results[f"{fixture.site}/{fixture.json_path.stem}"] = [m.describe() for m in found]
print(json.dumps({
    "spider": repr(UnianSpider),
    "parser_for_unian": parser_for_url("https://www.unian.info/world/x-12149817.html").__name__,
    "sites": sorted(p.site.name for p in site_parsers()),
    "fixtures": results,
    "loaded": sorted(m for m, module in sys.modules.items() if module and m.partition(".")[0] in {"scrapy", "twisted"}),
}))
'''


def test_extract_and_site_declarations_without_scrapy() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_SCRAPY], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["loaded"] == []
    assert report["spider"] == "None"
    assert report["parser_for_unian"] == "UnianParser"
    assert report["sites"] == sorted(folder.name for folder in (ROOT / "tests" / "sites").iterdir() if folder.is_dir())
    assert any(name.startswith("unian/") for name in report["fixtures"])
    assert {name: found for name, found in report["fixtures"].items() if found} == {}
