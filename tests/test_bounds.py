"""Bounded input: huge link lists and sitemaps, decompression bombs, a huge JSON-LD headline, huge pages.

The crawl tests run ``scrapy crawl generic`` (under the recording network guard) against a hostile
local server whose big answers are generated on the fly and streamed: a home page of 600,000 links
(18.5 MB), a sitemap of 1,000,000 URLs, a 1 MB gzip file of 1 GB of zeros (served as a sitemap, as
a gzip-encoded feed and as a gzip-encoded article), a page with a 10 MB JSON-LD headline and 4 MB
of text. Each reads the crawler's own peak RSS (``VmHWM``, sampled from /proc while it runs, as
bench/crawl.py does) and checks that every cap was hit and counted in the stats. No assertion is
on time: crawls get a generous outer timeout. The other tests check the pure functions on the real
pages in tests/files.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from conftest import FILES, ROOT, SITES, saved_bytes
from localsite import QuietHandler, QuietServer, crawl_env, local_site, run_crawl
from newscrawl.extract import jsonld
from newscrawl.extract.text import plain_paragraphs, plain_text
from newscrawl.crawl.integrity import FALLBACK_MAX_SIZE, BoundedGunzip, decompression_limit, gunzipped
from newscrawl.extract.items import (
    BODY_MAX_CHARS,
    MAX_AUTHORS,
    MAX_TAGS,
    NAME_MAX_CHARS,
    TITLE_MAX_CHARS,
    Article,
    clip,
    within_limits,
)
from newscrawl.extract.parser import PARSE_MAX_BYTES, GenericParser, cut_utf8
from newscrawl.crawl.rendering import looks_script_rendered
from newscrawl.crawl.sitemaps import MAX_URLS, Window, read_sitemap
from spiders.generic import GenericSpider

MB = 1024 * 1024
#: a crawl that has not ended by then hangs: the test fails and the crawl is killed
OUTER_TIMEOUT = 300
PRAVDA = (FILES / "regional/pravda_ru_2026-01-08.html").read_text(encoding="utf-8")
UNN = (FILES / "regional/unn_ru_2020-12-03.html").read_text(encoding="utf-8")
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "RETRY_ENABLED": "False", "DOWNLOAD_TIMEOUT": "30"}
BOMB_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             b"<url><loc>/news/listed-story-1000002.html</loc></url>")


# -- the hostile pages ---------------------------------------------------------------------------

def ld_block(headline: str) -> str:
    """A JSON-LD ``NewsArticle`` block with ``headline``."""
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": headline}
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def with_head_block(page: str, block: str) -> str:
    """``page`` with ``block`` first in its ``<head>`` (so its JSON-LD is the page's first)."""
    assert page.count("<head>") == 1
    return page.replace("<head>", "<head>" + block, 1)


def huge_jsonld_page() -> str:
    """The pravda page with a 10 MB JSON-LD headline before its own and 4 MB of text in its article."""
    paragraphs = "".join(f"<p>Судьи ликвидированного ОАСК, абзац {n}, продолжают получать выплаты из бюджета.</p>"
                         for n in range(4 * MB // 140))
    page = with_head_block(PRAVDA, ld_block("Заголовок " * (10 * MB // 20)))
    assert page.count('<article class="post_article">') == 1
    return page.replace('<article class="post_article">', '<article class="post_article">' + paragraphs, 1)


def long_headline_page() -> str:
    """The unn page with a 400,000-character JSON-LD headline full of separators (under the block
    limit: it is read, and its title must be cut)."""
    return with_head_block(UNN, ld_block("Парламент Молдовы - ограничил | полномочия Санду " * 8_000))


def home_links(count: int) -> Iterator[bytes]:
    """A home page of ``count`` article links (600,000: 18 MB), in chunks."""
    yield b"<html><head><title>Home</title></head><body><h1>News</h1>"
    for first in range(0, count, 10_000):
        yield "".join(f'<a href="/n/{1000000 + n}">story</a>' for n in range(first, min(count, first + 10_000))).encode()
    yield b"</body></html>"


def sitemap_urls(base: str, count: int) -> Iterator[bytes]:
    """A urlset of ``count`` article URLs, gzipped as it is generated."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    yield packer.compress(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                          b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for first in range(0, count, 10_000):
        yield packer.compress("".join(f"<url><loc>{base}/news/story-{n}-{1000000 + n}.html</loc></url>"
                                      for n in range(first, min(count, first + 10_000))).encode())
    yield packer.compress(b"</urlset>") + packer.flush()


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """About 1 MB of gzip that expands to a sitemap header, one URL and 1 GB of zeros (compressed
    as a stream, once per session)."""
    path = tmp_path_factory.mktemp("bomb") / "sitemap.xml.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    with path.open("wb") as out:
        out.write(packer.compress(BOMB_HEAD))
        for _ in range(1024):
            out.write(packer.compress(zeros))
        out.write(packer.flush())
    data = path.read_bytes()
    assert len(data) < 2 * MB
    return data


# -- the hostile server --------------------------------------------------------------------------

Route = Callable[["OversizedHandler"], None]


class OversizedHandler(QuietHandler):
    """Answers from the current test's :class:`OversizedSite` routes (exact path, else the longest
    matching prefix)."""

    protocol_version = "HTTP/1.1"
    site: OversizedSite

    def do_GET(self) -> None:
        self.site.hits.append(self.path)
        route = self.site.routes.get(self.path) or next(
            (route for prefix, route in sorted(self.site.prefixes.items(), key=lambda kv: -len(kv[0]))
             if self.path.startswith(prefix)), None)
        if route is None:
            self.reply(404, b"not here")
        else:
            route(self)

    def stream(self, chunks: Iterable[bytes], kind: str, **headers: str) -> None:
        """A 200 sent in chunks (``Transfer-Encoding: chunked``) as they are generated."""
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        for chunk in chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    @classmethod
    def prepare(cls) -> None:
        cls.site = OversizedSite()

    @classmethod
    def opened(cls, base: str) -> OversizedSite:
        cls.site.base = base
        return cls.site


@dataclass
class OversizedSite:
    """One test's server: routes by path and by path prefix, the paths asked for, its base URL."""

    routes: dict[str, Route] = field(default_factory=dict)
    prefixes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    base: str = ""

    def page(self, path: str, body: bytes, kind: str = "text/html; charset=utf-8", **headers: str) -> None:
        """Serve ``body`` at ``path``."""
        self.routes[path] = lambda h: h.reply(200, body, kind, **headers)


#: a fresh hostile site for each test
site = local_site(OversizedHandler, server=QuietServer)


# -- crawls --------------------------------------------------------------------------------------

@dataclass
class BoundedCrawl:
    """A finished crawl: exit code, finish reason, stats, log, peak RSS, stored articles."""

    returncode: int
    reason: str
    stats: dict[str, Any]
    log: str
    peak_mb: float
    articles: list[dict[str, Any]]


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of a process's resident memory (``VmHWM``), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


class PeakRss:
    """The peak resident memory of a process, sampled until it ends."""

    def __init__(self) -> None:
        self.mb = 0.0

    def __call__(self, process: subprocess.Popen[str]) -> None:
        while process.poll() is None:
            self.mb = max(self.mb, peak_rss_mb(process.pid) or 0.0)
            time.sleep(0.2)


@pytest.fixture
def crawl(tmp_path: Path, mongo_uri: str) -> Callable[..., BoundedCrawl]:
    """Run ``scrapy crawl generic`` on a site (guarded); sample its peak RSS until it ends."""

    def run(site: OversizedSite, **settings: str) -> BoundedCrawl:
        peak, started = PeakRss(), time.monotonic()
        done = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site.base}/", log=tmp_path / "crawl.log",
                         env=crawl_env(tmp_path, mongo_uri, "bounds", NEWSCRAWL_PLAYWRIGHT="0"),
                         settings={**FAST, **settings}, guard=tmp_path / "netguard.jsonl", expect=None,
                         timeout=OUTER_TIMEOUT, watch=peak)
        stats = done.stats
        seconds = time.monotonic() - started
        print(f"\ncrawl: {stats.get('finish_reason')} after {seconds:.1f} s, peak RSS {peak.mb:.0f} MB")
        return BoundedCrawl(done.returncode, stats.get("finish_reason", ""), stats, done.log, peak.mb,
                            done.articles({"title": 1, "body": 1, "url": 1}, drop=True))

    return run


@pytest.mark.crawl
def test_huge_home_page_and_sitemap_are_cut_and_the_time_limit_holds(site: OversizedSite,
                                                                     crawl: Callable[..., BoundedCrawl]) -> None:
    site.routes["/"] = lambda h: h.stream(home_links(600_000), "text/html; charset=utf-8")
    site.page("/robots.txt", f"User-agent: *\nAllow: /\nSitemap: {site.base}/sitemap.xml.gz\n".encode(), "text/plain")
    site.routes["/sitemap.xml.gz"] = lambda h: h.stream(sitemap_urls(site.base, 1_000_000), "application/x-gzip")

    def slow_missing(handler: OversizedHandler) -> None:  # 52,000 of these could never be fetched in time
        time.sleep(0.5)
        handler.reply(404, b"not here")

    site.prefixes["/n/"] = site.prefixes["/news/"] = slow_missing
    # the incremental check is off: it would look each of the 52,000 links up in the database (in
    # batches of 500), and this test is about the bounds
    result = crawl(site, CLOSESPIDER_TIMEOUT="40", NEWSCRAWL_INCREMENTAL="0")
    assert result.returncode == 0, result.log[-3000:]
    assert result.reason == "closespider_timeout"
    stats = result.stats
    # the home page: 18 MB, parsed up to NEWSCRAWL_PARSE_MAX_BYTES, its first 2,000 links read
    assert stats["newscrawl/cut/html"] == 1 and stats["newscrawl/cut/links"] == 1
    assert stats["newscrawl/listing_links"] == 2000
    # the sitemap: its first 50,000 URLs read, the rest left
    assert stats["newscrawl/cut/sitemap_urls"] == 1
    assert stats["newscrawl/sitemap_entries"] == MAX_URLS
    assert "newscrawl/cut/decompression" not in stats
    # about 105 MB when the spider opens, the 18 MB page as bytes and as text, 1 MiB of it parsed, and
    # 52,000 requests queued (about 1.5 KB each): measured 262 MB. The runs: 1.1 GB and 860 MB.
    assert result.peak_mb < 400, result.peak_mb


@pytest.mark.crawl
def test_gzip_bombs_are_decompressed_up_to_the_size_limit(site: OversizedSite, crawl: Callable[..., BoundedCrawl],
                                                          bomb: bytes) -> None:
    site.page("/", b'<html><body><h1>News</h1><a href="/news/bomb-story-1000001.html">bomb</a></body></html>')
    site.page("/robots.txt", f"User-agent: *\nSitemap: {site.base}/sitemap.xml.gz\n".encode(), "text/plain")
    site.page("/sitemap.xml.gz", bomb, "application/x-gzip")
    site.page("/feed", bomb, "application/rss+xml", Content_Encoding="gzip")
    site.page("/news/bomb-story-1000001.html", bomb, Content_Encoding="gzip")
    site.page("/news/listed-story-1000002.html", PRAVDA.encode())
    result = crawl(site)
    assert result.returncode == 0, result.log[-3000:]
    assert result.reason == "finished"
    stats = result.stats
    # each bomb stopped at DOWNLOAD_MAXSIZE (20 MB): the sitemap read that far, the encoded feed and page refused
    assert stats["newscrawl/cut/decompression"] == 3
    assert "Ignored response" not in result.log  # refused before Scrapy's own decompression
    # the URL before the zeros was read and its article stored
    assert stats["newscrawl/sitemap_entries"] == 1
    assert [doc["url"] for doc in result.articles] == [f"{site.base}/news/listed-story-1000002.html"]
    # 20 MB decompressed in 64 KB pieces and never kept whole: measured 116 MB, about 105 MB of it the
    # crawler at start. The run: 1.1 GB.
    assert result.peak_mb < 200, result.peak_mb


@pytest.mark.crawl
def test_huge_jsonld_headline_and_body_are_bounded(site: OversizedSite, crawl: Callable[..., BoundedCrawl]) -> None:
    huge_url, long_url = "/news/huge-jsonld-1000001.html", "/news/long-headline-1000002.html"
    site.page("/", f'<html><body><h1>News</h1><a href="{huge_url}">a</a><a href="{long_url}">b</a></body></html>'.encode())
    huge = huge_jsonld_page().encode()
    assert len(huge) > 14 * MB
    site.page(huge_url, huge)
    site.page(long_url, long_headline_page().encode())
    result = crawl(site)
    assert result.returncode == 0, result.log[-3000:]
    titles = {doc["url"].removeprefix(site.base): doc["title"] for doc in result.articles}
    # the 10 MB headline was skipped: the page's own title stands
    assert titles[huge_url] == GenericParser.parse(PRAVDA, site.base + huge_url).title
    # the 400,000-character headline was read and cut
    assert len(titles[long_url]) <= TITLE_MAX_CHARS and titles[long_url].startswith("Парламент Молдовы")
    assert all(len(doc["body"]) <= BODY_MAX_CHARS for doc in result.articles)
    stats = result.stats
    assert stats["newscrawl/cut/jsonld"] == 1 and stats["newscrawl/cut/html"] == 1
    assert stats["newscrawl/cut/title"] == 1 and stats["newscrawl/cut/body"] == 1
    # a 15 MB page held as bytes and as text (twice: Scrapy's and the checked decoding), 1 MiB of its
    # markup parsed: measured 185 MB. The run: 890 MB for a 20 MB page.
    assert result.peak_mb < 300, result.peak_mb


# -- the pure functions, on real pages -----------------------------------------------------------

def test_decompression_limit_is_never_unlimited() -> None:
    assert decompression_limit(20 * MB) == 20 * MB
    assert decompression_limit(20 * MB, 0, None) == 20 * MB  # 0 in meta: not given, not "unlimited"
    assert decompression_limit(20 * MB, 1000, 5 * MB) == 1000
    assert decompression_limit(1000, 20 * MB) == 1000  # a larger meta does not lift the setting
    assert decompression_limit(0, 0) == FALLBACK_MAX_SIZE


def test_bounded_gunzip_stops_at_the_limit_on_a_real_page() -> None:
    page = PRAVDA.encode()
    whole = BoundedGunzip(gzip.compress(page), len(page))
    assert whole.read() == page and whole.complete and not whole.cut
    cut = BoundedGunzip(gzip.compress(page), 50_000)
    assert cut.read() == page[:50_000] and cut.cut
    members = BoundedGunzip(gzip.compress(page[:1000]) + gzip.compress(page[1000:]), 10 * MB)
    assert members.read() == page and members.complete
    truncated = BoundedGunzip(gzip.compress(page)[:20_000], 10 * MB)
    assert page.startswith(truncated.read()) and not truncated.complete and not truncated.cut


def test_gzip_state_of_a_bomb(bomb: bytes) -> None:
    assert gunzipped(bomb, 20 * MB)[0] == "oversized"
    assert gunzipped(gzip.compress(PRAVDA.encode()), 20 * MB) == ("complete", PRAVDA.encode())
    assert gunzipped(gzip.compress(PRAVDA.encode())[:-100], 20 * MB)[0] == "truncated"


def test_sitemap_bomb_is_read_up_to_the_limit(bomb: bytes) -> None:
    chunks = BoundedGunzip(bomb, 20 * MB)
    sitemap = read_sitemap(chunks)
    assert sitemap is not None and [entry.loc for entry in sitemap.entries] == ["/news/listed-story-1000002.html"]
    assert chunks.cut


def test_sitemap_is_read_up_to_50000_entries() -> None:
    packed = b"".join(sitemap_urls("https://example.ua", 60_000))
    sitemap = read_sitemap(BoundedGunzip(packed, 20 * MB))
    assert sitemap is not None and sitemap.cut
    assert len(sitemap.entries) == MAX_URLS
    assert sitemap.entries[-1].loc == f"https://example.ua/news/story-{MAX_URLS - 1}-{1000000 + MAX_URLS - 1}.html"
    short = read_sitemap(gzip.decompress(b"".join(sitemap_urls("https://example.ua", 10))))
    assert short is not None and len(short.entries) == 10 and not short.cut


def test_spider_reads_the_first_links_of_a_huge_home_page() -> None:
    crawler = get_crawler(GenericSpider, {"NEWSCRAWL_INCREMENTAL": False})
    spider = GenericSpider.from_crawler(crawler, url="http://127.0.0.1:8080/")
    crawler.spider = spider
    body = b"".join(home_links(600_000))
    requests = list(spider.parse_home(HtmlResponse("http://127.0.0.1:8080/", body=body, encoding="utf-8")))
    articles = [r for r in requests if r.callback == spider.parse_article]
    assert len(articles) == 2000 and articles[-1].url == "http://127.0.0.1:8080/n/1001999"
    stats = crawler.stats.get_stats()
    assert stats["newscrawl/cut/links"] == 1 and stats["newscrawl/cut/html"] == 1
    sitemap = b"".join(sitemap_urls("http://127.0.0.1:8080", 60_000))
    today = date.today()
    response = XmlResponse("http://127.0.0.1:8080/sitemap.xml.gz", body=sitemap)
    assert len(list(spider.parse_sitemap(response, Window(today, today), False, False))) == MAX_URLS
    assert crawler.stats.get_value("newscrawl/cut/sitemap_urls") == 1


def test_links_of_a_real_feed_and_home_page_are_capped() -> None:
    from spiders.unian import UnianSpider

    crawler = get_crawler(UnianSpider, {"NEWSCRAWL_MAX_LINKS_PER_PAGE": 10})
    spider = UnianSpider.from_crawler(crawler)
    feed = XmlResponse("https://www.unian.ua/static/rss/all.xml", encoding="utf-8",
                       body=(FILES / "unian/rss_unian_ua_2020-09-28.xml").read_bytes())
    assert feed.text.count("<item>") == 50
    assert len(list(spider.parse_feed(feed))) == 10  # the first 10 entries are all articles
    home = HtmlResponse("https://www.unian.net/", encoding="utf-8",
                        body=saved_bytes(SITES / "unian/ru-homepage_2018-03-18.excerpt.html.gz"))
    assert home.text.count("<a ") > 10
    assert 0 < len(list(spider.parse_listing(home, page=None))) <= 10
    assert crawler.stats.get_value("newscrawl/cut/links") == 2


def test_cut_utf8_never_splits_a_character() -> None:
    for size in range(1000, 1010):
        cut, was_cut = cut_utf8(PRAVDA, size)
        assert was_cut and len(cut.encode()) <= size and PRAVDA.startswith(cut)
        assert len(cut.encode()) > size - 4
    assert cut_utf8(PRAVDA, 10 * MB) == (PRAVDA, False)


def test_a_long_jsonld_headline_is_read_and_cut() -> None:
    url = "http://127.0.0.1/news/long-headline-1000002.html"
    plain = GenericParser.parse(UNN, url)
    article = GenericParser.parse(long_headline_page(), url)
    assert len(article.title) <= TITLE_MAX_CHARS and article.title.startswith("Парламент Молдовы - ограничил")
    assert article.truncated == ["title"]
    assert (article.published_at, article.authors) == (plain.published_at, plain.authors)
    assert article.body.endswith(plain.body)  # with the headline, which no longer repeats the title


def test_an_oversized_jsonld_block_is_skipped() -> None:
    url = "http://127.0.0.1/news/huge-jsonld-1000001.html"
    plain = GenericParser.parse(PRAVDA, url)
    page = with_head_block(PRAVDA, ld_block("x" * jsonld.MAX_BLOCK_CHARS))
    within_bound = GenericParser.parse(page, url, max_bytes=4 * MB)  # the block is read past, not parsed
    assert (within_bound.title, within_bound.body) == (plain.title, plain.body)
    assert within_bound.truncated == ["jsonld"]
    over_bound = GenericParser.parse(page, url)  # the page is over the parse bound: the block is dropped first
    assert (over_bound.title, over_bound.body) == (plain.title, plain.body)
    assert over_bound.truncated == ["jsonld"]


def test_only_the_first_bytes_of_a_huge_page_are_parsed() -> None:
    url = "http://127.0.0.1/news/huge-page-1000001.html"
    plain = GenericParser.parse(PRAVDA, url)
    # 20 MB of inline code: left out, nothing of the article is lost
    scripts = f"<script>var x = '{'y' * 10 * MB}';</script><style>{'p {color: red} ' * MB}</style>"
    bloated = GenericParser.parse(PRAVDA.replace("</body>", scripts + "</body>"), url)
    assert (bloated.title, bloated.body, bloated.published_at) == (plain.title, plain.body, plain.published_at)
    assert bloated.truncated == []
    # 20 MB of markup after the article: cut off
    padding = "".join(f'<div class="promo"><a href="/promo/{n}">promo {n}</a></div>' for n in range(20 * MB // 60))
    padded = GenericParser.parse(PRAVDA.replace("</article>", "</article>" + padding), url)
    assert padded.title == plain.title and padded.truncated[0] == "html"
    assert plain.body and padded.body and padded.body.startswith(plain.body.split("\n\n")[0])


def test_field_limits() -> None:
    article = within_limits(Article(
        url="https://example.ua/news/a-1", site="example.ua", title="Заголовок " * 500, body="слово " * 200_000,
        authors=[f"Author {n}" for n in range(80)] + ["x" * 1000], tags=["t" * 500] + [f"tag {n}" for n in range(200)],
        section="s" * 300,
    ))
    assert len(article.title) <= TITLE_MAX_CHARS and article.title.endswith("Заголовок")
    assert len(article.body) <= BODY_MAX_CHARS and article.word_count == len(article.body.split())
    assert len(article.authors) == MAX_AUTHORS and len(article.tags) == MAX_TAGS
    assert len(article.tags[0]) == NAME_MAX_CHARS and len(article.section) == NAME_MAX_CHARS
    assert article.truncated == ["title", "body", "section", "authors", "tags"]
    assert clip("short", 10) == "short"


def test_cli_parses_a_20_mb_page_within_the_bound(tmp_path: Path, bomb: bytes) -> None:
    page = tmp_path / "page.html"
    padding = "".join(f"<p>Абзац {n} дуже довгої сторінки, якої ніхто не читатиме до кінця.</p>" for n in range(20 * MB // 120))
    page.write_text(PRAVDA.replace("</article>", "</article>" + padding), encoding="utf-8")
    assert page.stat().st_size > 20 * MB
    url = "https://www.pravda.com.ua/rus/news/2026/01/08/8015000/"
    started = time.monotonic()
    done = run_measured([sys.executable, "-m", "newscrawl", "parse", "--url", url, str(page)], tmp_path)
    assert done.returncode == 0, done.stderr
    article = json.loads(done.stdout)
    assert article["title"] == GenericParser.parse(PRAVDA, "http://127.0.0.1/").title
    assert "html" in article["truncated"] and len(article["body"]) <= BODY_MAX_CHARS
    print(f"\nparse of a {page.stat().st_size / MB:.0f} MB page: {time.monotonic() - started:.1f} s, peak RSS {done.peak_mb:.0f} MB")
    assert done.peak_mb < 300, done.peak_mb  # measured 152 MB; the run: 890 MB
    packed = tmp_path / "bomb.html.gz"
    packed.write_bytes(bomb)
    done = run_measured([sys.executable, "-m", "newscrawl", "parse", "--url", url, str(packed)], tmp_path)
    assert done.returncode == 2, done.stderr  # 20 MB of zeros read: no article in it
    print(f"parse of a 1 GB gzip bomb: peak RSS {done.peak_mb:.0f} MB")
    assert done.peak_mb < 300, done.peak_mb


@dataclass
class Measured:
    """A finished subprocess with its output and peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    peak_mb: float


def run_measured(args: list[str], tmp_path: Path) -> Measured:
    """Run ``args`` from the repo root, sampling the process's peak RSS until it exits."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(args, cwd=ROOT, stdout=stdout, stderr=stderr)
        peak, started = 0.0, time.monotonic()
        while process.poll() is None:
            peak = max(peak, peak_rss_mb(process.pid) or 0.0)
            if time.monotonic() - started > OUTER_TIMEOUT:
                process.kill()
                pytest.fail(f"{args[2:4]} did not end within {OUTER_TIMEOUT} s")
            time.sleep(0.1)
    return Measured(process.returncode, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"), peak)


WARC_READER = """
import re, sys
from pathlib import Path
from scrapy.utils.test import get_crawler
from newscrawl.crawl.replay import WarcReplayMiddleware
from newscrawl import settings
crawler = get_crawler(settings_dict={"NEWSCRAWL_REPLAY": sys.argv[1], "DOWNLOAD_MAXSIZE": settings.DOWNLOAD_MAXSIZE})
middleware = WarcReplayMiddleware.from_crawler(crawler)
hwm = re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1)
print(sorted(response.url for response in middleware.index.values()))
print(crawler.stats.get_value("newscrawl/cut/decompression"), int(hwm) // 1024)
"""


def test_replayed_warc_record_is_read_up_to_the_limit(tmp_path: Path) -> None:
    from newscrawl.crawl.replay import ArchivedResponse, write_warc

    archive = tmp_path / "bomb.warc.gz"
    write_warc(archive, [ArchivedResponse("http://127.0.0.1/news/kept-1000001.html", 200,
                                          {"Content-Type": "text/html; charset=utf-8"}, PRAVDA.encode())])
    body_size = 256 * MB
    http = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body_size}\r\n\r\n".encode()
    header = ("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://127.0.0.1/news/bomb-1000002.html\r\n"
              "WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
              f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http) + body_size}\r\n\r\n").encode()
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    with archive.open("ab") as out:  # a second gzip member: one record of 256 MB of zeros
        out.write(packer.compress(header + http))
        for _ in range(body_size // MB):
            out.write(packer.compress(bytes(MB)))
        out.write(packer.compress(b"\r\n\r\n") + packer.flush())
    assert archive.stat().st_size < 2 * MB
    done = subprocess.run([sys.executable, "-c", WARC_READER, str(archive)], cwd=ROOT, capture_output=True, text=True,
                          timeout=OUTER_TIMEOUT)
    assert done.returncode == 0, done.stderr
    urls, counts = done.stdout.strip().splitlines()
    assert urls == "['http://127.0.0.1/news/kept-1000001.html']"
    cut, peak_mb = map(int, counts.split())
    assert cut == 1
    print(f"\nreplay index of a 256 MB record: peak RSS {peak_mb} MB")
    assert peak_mb < 200, peak_mb  # 20 MB of the record read, never 256 MB
    assert "archived body over 20971520 bytes, not replayed: http://127.0.0.1/news/bomb-1000002.html" in done.stderr


def test_default_bounds_are_the_documented_ones() -> None:
    from newscrawl import settings

    assert settings.NEWSCRAWL_PARSE_MAX_BYTES == PARSE_MAX_BYTES == MB
    assert settings.NEWSCRAWL_MAX_LINKS_PER_PAGE == 2000


@pytest.mark.parametrize(("markup", "text"), [
    ("a <script>x</script> b <!-- c --> d", "a  b   d"),
    ("a <!-- a comment the page never closes", "a "),
    ("about <script> tags, closed nowhere", "about  tags, closed nowhere"),
    ("<p>x</p><STYLE type=a>p {}</style > y <object>z", "x y z"),
])
def test_plain_text_of_markup_left_open(markup: str, text: str) -> None:
    assert plain_text(markup) == text


def test_markup_left_open_thousands_of_times_keeps_the_text_around_it() -> None:
    """800 KB of comments, scripts and tags left open 8,000 times (the regex scans this replaced were
    quadratic on such text: 39 s): a comment left open runs to the end, a tag left open is no tag."""
    for piece, words in (("<!-- x ", 20), ("<script y ", 160_000), ("<style ", 160_000), ("<div ", 160_000)):
        markup = ("word " * 20 + piece) * 8000
        assert plain_text(markup).count("word") == words
        assert looks_script_rendered(markup) is False


def test_a_tag_cut_in_two_by_a_blank_line_leaves_no_markup() -> None:
    """Fuzz case 9420 (seed 7): an attribute holding markup and a blank line, on 24tv's page. The
    two paragraphs the tag joined stay joined."""
    body = ("Перший абзац. <meta itemprop=\"embedHTML\" href='<iframe src=\"https://24tv.ua/p?o=1&h=\"640\"\n\n"
            "' /> Другий абзац.\n\nТретій <b>абзац</b>.")
    assert plain_paragraphs(body) == "Перший абзац. Другий абзац.\n\nТретій абзац."
