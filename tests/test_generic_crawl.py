"""``scrapy crawl generic`` against two local sites that serve real article pages.

127.0.0.1 announces a feed on its home page and names a sitemap in robots.txt; "localhost" (the
same server, another host) announces nothing, so the spider tries the usual feed paths and follows
the home page's article-looking links. The article pages are the real captures of
tests/files/regional; the home pages, feed, robots.txt and sitemap are small synthetic documents.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import QuietHandler, crawl_env, local_site, port_of, run_crawl

pytestmark = pytest.mark.crawl
PAGES = {
    "/rus/articles/2026/01/08/8015225/": "pravda_ru_2026-01-08.html",
    "/ru/news/1906059-parlament-moldovi": "unn_ru_2020-12-03.html",
    "/rubric-kyiv/3103218-policia-napravila-delo-minera.html": "ukrinform_ru_2020-09-20.html",
    "/germany/311510-podolski-zavershil-kareru-v-sbornojj.html": "football_ua_ru_2016-08-15.html",
}


class TwoSites(QuietHandler):
    """127.0.0.1: feed + sitemap; localhost: links on the home page only."""

    hits: Counter[str] = Counter()

    def do_GET(self) -> None:
        host = self.headers["Host"].split(":")[0]
        TwoSites.hits[f"{host}{self.path}"] += 1
        announced = host == "127.0.0.1"
        kind, body = "text/html; charset=utf-8", None
        if self.path == "/":
            feed = '<link rel="alternate" type="application/rss+xml" href="/rss.xml">' if announced else ""
            links = "" if announced else (
                '<a href="/germany/311510-podolski-zavershil-kareru-v-sbornojj.html">Подольски</a>'
                '<a href="/tags/football/">tag</a><a href="/about">about</a><a href="https://elsewhere.example/a-b-c-d-e">x</a>'
            )
            body = f"<html><head>{feed}</head><body><h1>Home</h1>{links}</body></html>".encode()
        elif announced and self.path == "/rss.xml":
            kind = "application/rss+xml"
            items = "".join(f"<item><title>t</title><link>http://127.0.0.1:{self.server.server_address[1]}{path}</link></item>"
                            for path in list(PAGES)[:2])
            body = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
        elif announced and self.path == "/robots.txt":
            kind = "text/plain"
            body = b"User-agent: *\nAllow: /\nSitemap: /sitemap.xml\n"
        elif announced and self.path == "/sitemap.xml":
            kind = "application/xml"
            today = datetime.now(timezone.utc).date().isoformat()
            url = f"http://127.0.0.1:{self.server.server_address[1]}{list(PAGES)[2]}"
            body = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<url><loc>{url}</loc><lastmod>{today}</lastmod></url></urlset>").encode()
        elif self.path in PAGES and (announced or self.path == list(PAGES)[3]):
            body = (FILES / "regional" / PAGES[self.path]).read_bytes()
            kind = "text/html"  # no charset: the crawler must find it in the page
        if body is None:
            self.send_error(404)
            return
        self.reply(200, body, kind)

    @classmethod
    def prepare(cls) -> None:
        cls.hits = Counter()

    @classmethod
    def opened(cls, base: str) -> int:
        """The port: the site answers there as 127.0.0.1 and as localhost."""
        return port_of(base)


port = local_site(TwoSites)


def test_generic_crawl_of_two_unknown_sites(tmp_path: Path, port: int, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri, "generic")
    done = run_crawl("scrapy", "crawl", "generic", "-a", f"url=http://127.0.0.1:{port}/,http://localhost:{port}/",
                     feed=tmp_path / "items.jsonl", log=tmp_path / "crawl.log", env=env,
                     settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
    items = {item["title"]: item for item in done.items}
    text = done.log
    assert set(items) == {
        "157 миллионов за бездействие. Как судьи ликвидированного ОАСК до сих пор сидят на выплатах из госбюджета",
        'Парламент Молдовы, "с подачи Додона" - ограничил полномочия Санду еще до ее инаугурации',
        'Полиция направила дело "минера" столичного метро в суд',
        "Подольски завершил карьеру в сборной",
    }, text[-3000:]
    football = items["Подольски завершил карьеру в сборной"]
    assert football["site"] == "localhost" and football["language"] == "ru"
    assert football["parser"].startswith("GenericParser.V1")
    assert football["published_at"].startswith("2016-08-15")
    unn = items['Парламент Молдовы, "с подачи Додона" - ограничил полномочия Санду еще до ее инаугурации']
    assert unn["site"] == "127.0.0.1" and unn["published_at"].startswith("2020-12-03")
    ukrinform = items['Полиция направила дело "минера" столичного метро в суд']
    assert ukrinform["published_at"] == "2020-09-20T20:32:00+00:00"  # "2020-09-20T23:32:00+03:00" in the page
    # every article fetched once, though the feed, the sitemap and the home page all led to them
    article_hits = {key: n for key, n in TwoSites.hits.items() if key.split("/", 1)[1] and "/" + key.split("/", 1)[1] in PAGES}
    assert sorted(article_hits.values()) == [1, 1, 1, 1]
    # localhost announced no feed: its usual feed paths were tried (and were 404); 127.0.0.1's were not
    assert TwoSites.hits["localhost/feed"] == 1 and TwoSites.hits["127.0.0.1/feed"] == 0
    assert "'newscrawl/feeds_announced': 1" in text
    assert "'newscrawl/sitemap_entries': 1" in text
    assert "'newscrawl/mongo/inserted': 4" in text
    # its run record names the sites it crawled: the report and `stats --runs` name the run by them
    page = tmp_path / "report.html"
    reported = subprocess.run([sys.executable, "-m", "newscrawl", "report", "--out", str(page)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert reported.returncode == 0, reported.stderr
    html = page.read_text(encoding="utf-8")
    assert "<td>generic (127.0.0.1, localhost)</td>" in html
    last_run = re.search(r'<tr data-site="127.0.0.1" data-articles="\d+">.*?<td class="last-run">([^<]*)</td>', html)
    assert last_run and last_run.group(1).endswith(" ok"), html
    runs = subprocess.run([sys.executable, "-m", "newscrawl", "stats", "--runs"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True, timeout=300).stdout
    assert runs.startswith("generic (127.0.0.1, localhost) "), runs
