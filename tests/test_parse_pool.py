"""Pages parsed in worker processes (``NEWSCRAWL_PARSE_WORKERS``, newscrawl/crawl/parsepool.py).

- every saved page (tests/sites, the Fundus pages, the regional captures) gives in a worker exactly
  what it gives in the crawler's process;
- a crawl of a loopback site serving real pages stores the same articles with two workers as with
  none;
- a worker killed while it parses a page costs nothing: the pool is restarted and the page parsed
  again; a page that kills its worker itself is one parse error, logged once, and the crawl goes on;
- a crawler killed outright leaves no worker (nor forkserver) behind.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.utils.test import get_crawler

from conftest import FILES, ROOT
from localsite import QuietHandler, crawl_env, local_site, run_crawl, stats_of
from newscrawl.crawl.parsepool import Page, Parsed, ParsePool, parse_page
from newscrawl.extract.parser import GenericParser, ParserProxy
from newscrawl.ops.site_fixtures import VARIANTS, discover
from newscrawl.sites import parser_for_url

FUNDUS = {
    "de_NTV_2023_04_28.html.gz": "https://www.n-tv.de/leben/Judy-Lybke-ganz-und-gar-nicht-eigenartig-article24075843.html",
    "de_Krautreporter_2024_08_22.html.gz": "https://krautreporter.de/politik-und-macht/5481-ich-wollte-dass-sie-mich-mogen-so-uberlebt-man",
    "li_Landesspiegel_2026_01_27.html.gz": "https://landesspiegel.li/2026/01/eu-und-indien-besiegeln-groesstes-freihandelsabkommen-ihrer-geschichte/",
    "us_TheNation_2023_05_15.html.gz": "https://www.thenation.com/article/activism/teamsters-tdu-ups-iowa/",
    "za_DailyMaverick_2026_01_06.html.gz": "https://www.dailymaverick.co.za/article/2026-01-06-joburg-has-failed-its-informal-traders-t-there-is-a-solution-heres-what-the-city/",
}  # fmt: skip
FUNDUS_FETCHED = datetime(2026, 2, 1, tzinfo=timezone.utc)
#: the crawls' pages: the regional captures and the Fundus pages, as bytes
CRAWL_PAGES = sorted(FILES.glob("regional/*.html")) + sorted((FILES / "fundus").glob("*.html.gz"))
#: the ``Date`` every page of the loopback site is served with: the same fetch time in every run
SERVED_AT = "Tue, 03 Feb 2026 09:30:00 GMT"


def saved_pages() -> list[tuple[type[ParserProxy], Page]]:
    """Every saved article page, with the parser a crawl would use: the site fixtures as served and
    without structured data, the Fundus pages and the regional captures (as generic pages)."""
    pages = []
    for fixture in discover():
        raw = gzip.decompress(fixture.page_path.read_bytes())
        for variant, transform in VARIANTS.items():
            body = raw if variant == "as_served" else transform(fixture.html()).encode()
            pages.append((parser_for_url(fixture.url), Page(fixture.url, body, None, fixture.fetched_at)))
    for name, url in FUNDUS.items():
        pages.append((GenericParser, Page(url, gzip.decompress((FILES / "fundus" / name).read_bytes()), None, FUNDUS_FETCHED)))
    for path in sorted(FILES.glob("regional/*.html")):
        url = f"https://news.example.ua/{path.stem.replace('_', '-')}-1234567.html"
        pages.append((GenericParser, Page(url, path.read_bytes(), "utf-8", FUNDUS_FETCHED)))
    return pages


def outcome(parsed: Parsed) -> dict[str, Any]:
    """What a crawl keeps of a parse: the article as JSON, or why there is none."""
    article = parsed.article.to_json_dict() if parsed.article is not None else None
    error = parsed.error.strip().splitlines()[-1] if parsed.error else None
    return {"article": article, "not_article": parsed.not_article, "error": error}


def in_pool(jobs: list[tuple[type[ParserProxy], Page]], workers: int = 2) -> tuple[list[Parsed], dict[str, Any]]:
    """Parse ``jobs`` concurrently in a pool of ``workers``; the outcomes and the pool's stats."""
    stats = get_crawler().stats

    async def run() -> list[Parsed]:
        pool = ParsePool(workers, stats)
        await asyncio.to_thread(pool.start)
        try:
            return list(await asyncio.gather(*(pool.parse(parser, page) for parser, page in jobs)))
        finally:
            await asyncio.to_thread(pool.close)

    return asyncio.run(run()), stats.get_stats()


def test_every_saved_page_parses_in_a_worker_as_in_the_crawler() -> None:
    jobs = saved_pages()
    pooled, stats = in_pool(jobs)
    here = [parse_page(parser, page) for parser, page in jobs]
    for (_, page), got, expected in zip(jobs, pooled, here):
        assert outcome(got) == outcome(expected), page.url
    articles = [parsed.article for parsed in pooled if parsed.article is not None]
    assert len(articles) >= 25
    assert all(article.content_hash for article in articles)
    assert any(article.simhash is not None for article in articles)
    assert stats["newscrawl/parse_pool/parsed"] == len(jobs)
    assert "newscrawl/parse_pool/restarted" not in stats


class FailingParser(GenericParser):
    """Logs a warning, then fails."""

    class V1(GenericParser.V1):
        def parse(self) -> Any:
            logging.getLogger("newscrawl.test.failing").warning("about to fail on %s", self.url)
            raise RuntimeError("the parser broke")


def test_a_parser_failure_comes_back_with_its_traceback_and_its_log(caplog: pytest.LogCaptureFixture) -> None:
    page = Page(next(iter(FUNDUS.values())), gzip.decompress((FILES / "fundus" / next(iter(FUNDUS))).read_bytes()),
                None, FUNDUS_FETCHED)
    with caplog.at_level(logging.INFO):
        (parsed,), _ = in_pool([(FailingParser, page)], workers=1)
    assert parsed.article is None and parsed.error is not None
    assert "RuntimeError: the parser broke" in parsed.error and "test_parse_pool.py" in parsed.error
    logged = [r for r in caplog.records if r.name == "newscrawl.test.failing"]
    assert [(r.levelno, r.getMessage()) for r in logged] == [(logging.WARNING, f"about to fail on {page.url}")]
    assert outcome(parsed) == outcome(parse_page(FailingParser, page))


class HoldingParser(GenericParser):
    """Parses like the generic parser; a page whose URL names a folder (``?hold=``) is held, the
    worker's pid written there as ``started-<pid>``, until a file ``release`` appears in it."""

    class V1(GenericParser.V1):
        def parse(self) -> Any:
            query = parse_qs(urlsplit(self.url).query)
            if "hold" in query:
                folder = Path(query["hold"][0])
                if not (folder / "release").exists():
                    (folder / f"started-{os.getpid()}").touch()
                    while not (folder / "release").exists():
                        time.sleep(0.01)
            return super().parse()


def wait_for(condition: Any, what: str, timeout: float = 120) -> Any:
    """Poll ``condition`` until it gives something true; fail after a generous ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)
    return found


def test_a_worker_killed_while_it_parses_costs_no_page(tmp_path: Path) -> None:
    jobs = [(HoldingParser, page) for _, page in saved_pages()[:12]]
    held = Page(f"{FUNDUS[next(iter(FUNDUS))]}?hold={tmp_path}",
                gzip.decompress((FILES / "fundus" / next(iter(FUNDUS))).read_bytes()), None, FUNDUS_FETCHED)
    stats = get_crawler().stats

    async def run() -> tuple[Parsed, list[Parsed], int, list[int]]:
        pool = ParsePool(2, stats)
        await asyncio.to_thread(pool.start)
        try:
            holding = asyncio.ensure_future(pool.parse(HoldingParser, held))
            started = await asyncio.to_thread(wait_for, lambda: list(tmp_path.glob("started-*")), "the held page")
            pid = int(started[0].name.removeprefix("started-"))
            assert pid in pool.pids()
            os.kill(pid, signal.SIGKILL)
            (tmp_path / "release").touch()
            others = await asyncio.gather(*(pool.parse(parser, page) for parser, page in jobs))
            others.append(await pool.parse(*jobs[0]))  # in the new pool, whatever the others met
            return await holding, list(others), pid, pool.pids()
        finally:
            await asyncio.to_thread(pool.close)

    parsed, others, killed, pids = asyncio.run(run())
    assert parsed.article is not None and parsed.error is None
    assert outcome(parsed) == outcome(parse_page(HoldingParser, held))
    assert [outcome(p) for p in others] == [outcome(parse_page(parser, page)) for parser, page in [*jobs, jobs[0]]]
    assert stats.get_value("newscrawl/parse_pool/restarted") == 1
    assert stats.get_value("newscrawl/parse_pool/reparsed") >= 1
    assert pids and killed not in pids


KILLED_CRAWLER = """
import asyncio, multiprocessing.forkserver, os, signal
from scrapy.utils.test import get_crawler
from newscrawl.crawl.parsepool import ParsePool

async def main():
    pool = ParsePool(2, get_crawler().stats)
    await asyncio.to_thread(pool.start)
    print(*pool.pids(), multiprocessing.forkserver._forkserver._forkserver_pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_crawler_killed_outright_leaves_no_parse_process_behind() -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_CRAWLER], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr
    pids = [int(pid) for pid in done.stdout.split()]
    assert len(pids) == 3  # two workers and the forkserver
    wait_for(lambda: not any(map(running, pids)), f"the parse processes {pids} to end")


# -- crawls of a loopback site ----------------------------------------------------------------------


def page_path(number: int, path: Path) -> str:
    slug = re.sub(r"\W+", "-", path.name.split(".")[0]).strip("-").lower()
    return f"/news/{1000000 + number}-{slug}"


class RealPages(QuietHandler):
    """A home page announcing a feed; the feed lists every real page, and a page with no article
    whose URL says "poison"."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        return SERVED_AT

    def do_GET(self) -> None:
        routes = {page_path(n, path): path for n, path in enumerate(CRAWL_PAGES)}
        if self.path == "/":
            self.reply(200, b'<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
                            b"</head><body><h1>News</h1></body></html>")
        elif self.path == "/rss.xml":
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            links = [*routes, "/news/9999999-poison-page-of-the-day"]
            items = "".join(f"<item><title>t</title><link>{base}{link}</link></item>" for link in links)
            self.reply(200, f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
                       "application/rss+xml")
        elif self.path in routes:
            raw = routes[self.path].read_bytes()
            self.reply(200, gzip.decompress(raw) if routes[self.path].suffix == ".gz" else raw, "text/html")
        elif self.path.startswith("/news/9999999-poison"):
            self.reply(200, b"<html><head><title>Poison</title></head><body><p>No article.</p></body></html>")
        else:
            self.send_error(404)


POISON_SPIDER = '''
import os
import signal

from newscrawl.extract.parser import GenericParser
from spiders.generic import GenericSpider


class PoisonParser(GenericParser):
    """The generic parser; a page with "poison" in its URL kills the process parsing it."""

    class V1(GenericParser.V1):
        def parse(self):
            if "poison" in self.url:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().parse()


class PoisonSpider(GenericSpider):
    name = "poison"
    parser = PoisonParser
'''


#: the site of real pages, served for the module's tests
site = local_site(RealPages, scope="module")
#: the settings of every crawl here (each gives its number of parse workers)
SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "NEWSCRAWL_SITEMAPS": False,
            "TELNETCONSOLE_ENABLED": False}


def crawl(tmp_path: Path, mongo_uri: str, site: str, workers: int, *command: str) -> tuple[list[dict[str, Any]], str]:
    """Run a crawl of ``site`` with ``workers`` parse workers; the articles it stored and its log."""
    done = run_crawl("scrapy", *command, "-a", f"url={site}/", log=tmp_path / f"crawl-{workers}.log",
                     env=crawl_env(tmp_path, mongo_uri, "pool", NEWSCRAWL_PLAYWRIGHT="0", PYTHONPATH=str(ROOT)),
                     settings={"NEWSCRAWL_PARSE_WORKERS": workers, **SETTINGS})
    stored = done.articles({"_id": 0, "first_seen_at": 0, "next_revisit_at": 0}, drop=True)
    return sorted(stored, key=lambda article: article["url"]), done.log


@pytest.mark.crawl
def test_a_crawl_stores_the_same_articles_with_two_workers_as_with_none(tmp_path: Path, mongo_uri: str, site: str) -> None:
    pooled, pooled_log = crawl(tmp_path, mongo_uri, site, 2, "crawl", "generic")
    here, here_log = crawl(tmp_path, mongo_uri, site, 0, "crawl", "generic")
    assert len(here) >= 10, here_log[-3000:]
    assert pooled == here
    pooled_stats, here_stats = stats_of(pooled_log), stats_of(here_log)
    responses = pooled_stats["newscrawl/article_responses"]
    assert responses == len(CRAWL_PAGES) + 1 == here_stats["newscrawl/article_responses"]
    assert pooled_stats["newscrawl/parse_pool/parsed"] == responses and pooled_stats["newscrawl/parse_pool/workers"] == 2
    assert not any(key.startswith("newscrawl/parse_pool/") for key in here_stats)
    same = ("newscrawl/articles_parsed", "newscrawl/not_article", "newscrawl/mongo/inserted", "item_scraped_count")
    assert {key: pooled_stats.get(key) for key in same} == {key: here_stats.get(key) for key in same}
    assert layers_and_fill(pooled_stats) == layers_and_fill(here_stats)


def layers_and_fill(stats: dict[str, int]) -> dict[str, int]:
    """The layer and fill-rate counts of a crawl's stats."""
    return {key: n for key, n in stats.items() if key.startswith(("newscrawl/layer/", "newscrawl/fill/"))}


@pytest.mark.crawl
def test_a_page_that_kills_its_worker_is_one_parse_error(tmp_path: Path, mongo_uri: str, site: str) -> None:
    spider = tmp_path / "poison_spider.py"
    spider.write_text(POISON_SPIDER, encoding="utf-8")
    stored, log = crawl(tmp_path, mongo_uri, site, 2, "runspider", str(spider))
    stats = stats_of(log)
    assert stats["newscrawl/parse_error"] == 1, log[-3000:]
    assert stats["newscrawl/articles_parsed"] + stats.get("newscrawl/not_article", 0) == len(CRAWL_PAGES)
    assert stats["newscrawl/parse_pool/restarted"] == 1
    failures = re.findall(r"parser failed on (\S+)", log)
    assert failures == [f"{site}/news/9999999-poison-page-of-the-day"]
    assert stored and not any("poison" in article["url"] for article in stored)
