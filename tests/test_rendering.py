"""JavaScript rendering only where needed, through Debian's Chromium (skipped when it is missing).

A local site links two articles: one whose text a script writes into an empty ``<div id="root">``
(the text is the real UNIAN English article, tests/files/unian/article_en_seed.txt; the page around
it is synthetic) and one ordinary real page (Ukrinform, tests/files/regional). The first is
fetched again through the browser and extracted; the second never starts a browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import QuietHandler, crawl_env, serving
from newscrawl.crawl.rendering import looks_script_rendered

CHROMIUM = Path(os.getenv("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium"))
SEED = (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8").split("\n\n")
PARAGRAPHS = [p for p in SEED[4:] if len(p) > 80]
SPA = f"""<!doctype html><html lang="en"><head><title>ISW report | Local news</title></head>
<body><div id="root"></div><script>
const story = {json.dumps({"title": SEED[0], "paragraphs": PARAGRAPHS})};
const root = document.getElementById("root");
root.innerHTML = "<article><h1>" + story.title + "</h1><time datetime='2023-02-18T06:24:00+02:00'>06:24, 18.02.23</time>"
  + story.paragraphs.map(p => "<p>" + p + "</p>").join("") + "</article>";
</script></body></html>""".encode()
PLAIN = (FILES / "regional/ukrinform_ru_2020-09-20.html").read_bytes()
PATHS = {"/world/spa-story-12149817.html": SPA, "/rubric-kyiv/3103218-plain-story.html": PLAIN}


class Site(QuietHandler):
    def do_GET(self) -> None:
        links = {"/": list(PATHS), "/plain-only/": [list(PATHS)[1]]}
        if self.path in links:
            body = "".join(f'<a href="{path}">story</a>' for path in links[self.path])
            self.reply(200, f"<html><body><h1>Home</h1>{body}</body></html>".encode())
        elif self.path in PATHS:
            self.reply(200, PATHS[self.path])
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serving(Site) as base:
        yield base


def crawl(tmp_path: Path, mongo_uri: str, url: str, chromium: Path = CHROMIUM) -> tuple[list[dict], str]:
    out, log = tmp_path / "items.jsonl", tmp_path / "crawl.log"
    env = crawl_env(tmp_path, mongo_uri, "render", NEWSCRAWL_CHROMIUM=str(chromium))
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "generic", "-a", f"url={url}", "-O", str(out),
                    "-s", f"LOG_FILE={log}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                    "-s", "NEWSCRAWL_SITEMAPS=0"], cwd=ROOT, env=env, check=True, timeout=600)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], log.read_text(encoding="utf-8")


def test_the_heuristic_on_real_and_scripted_pages() -> None:
    assert looks_script_rendered(SPA.decode())
    assert not looks_script_rendered(PLAIN.decode())
    for name in ("pravda_ru_2026-01-08.html", "24tv_2020-09-21.html", "unn_ru_2020-12-03.html"):
        assert not looks_script_rendered((FILES / "regional" / name).read_bytes().decode("utf-8", "replace"))


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_script_built_article_goes_through_the_browser(tmp_path: Path, site: str, mongo_uri: str) -> None:
    items, log = crawl(tmp_path, mongo_uri, site + "/")
    by_title = {item["title"]: item for item in items}
    assert set(by_title) == {SEED[0], 'Полиция направила дело "минера" столичного метро в суд'}, log[-2000:]
    rendered = by_title[SEED[0]]
    body = rendered["body"].replace("\xa0", " ")
    assert PARAGRAPHS[0].replace("\xa0", " ") in body and PARAGRAPHS[2].replace("\xa0", " ") in body
    assert rendered["published_at"] == "2023-02-18T04:24:00+00:00"
    assert "'newscrawl/rendered_retry': 1" in log
    assert "'playwright/browser_count': 1" in log and "'playwright/page_count': 1" in log


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_ordinary_pages_start_no_browser(tmp_path: Path, site: str, mongo_uri: str) -> None:
    items, log = crawl(tmp_path, mongo_uri, site + "/plain-only/")
    assert [item["title"] for item in items] == ['Полиция направила дело "минера" столичного метро в суд']
    assert "[scrapy-playwright] INFO: Starting download handler" in log  # installed…
    assert "playwright/browser_count" not in log and "newscrawl/rendered_retry" not in log  # …never used


@pytest.mark.crawl
def test_without_a_browser_a_script_built_page_is_not_an_article(tmp_path: Path, site: str, mongo_uri: str) -> None:
    """As docs/SPIDERS.md says: no browser (NEWSCRAWL_PLAYWRIGHT=auto, NEWSCRAWL_CHROMIUM missing),
    no handler, and a page whose article a script writes is counted as not an article."""
    items, log = crawl(tmp_path, mongo_uri, site + "/", chromium=tmp_path / "no-chromium")
    assert [item["title"] for item in items] == ['Полиция направила дело "минера" столичного метро в суд']
    assert "'newscrawl/not_article': 1" in log
    assert "scrapy-playwright" not in log and "newscrawl/rendered_retry" not in log
