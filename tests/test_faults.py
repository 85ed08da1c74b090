"""``scrapy crawl generic`` against a local server that misbehaves: 5xx, resets, stalls, drips,
redirect loops, offsite redirects, broken gzip, huge and binary bodies, wrong charsets, robots.txt.

Each test serves a synthetic home page (no feed announced, so the spider follows its
article-looking links) that links real article pages (tests/files/regional) and the faulty ones,
crawls it in a subprocess, and checks three things: the crawl finishes (exit 0), the good pages are
in MongoDB, and every fault is counted in the stats under its reason. 429 with ``Retry-After`` is
covered by tests/test_incremental_blocks.py.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from conftest import FILES
from localsite import QuietHandler, QuietServer, crawl_env, local_site, port_of, run_crawl
from newscrawl.extract.encoding import decoded_text

PAGES = {
    "pravda": (FILES / "regional/pravda_ru_2026-01-08.html").read_bytes(),
    "unn": (FILES / "regional/unn_ru_2020-12-03.html").read_bytes(),
    "ukrinform": (FILES / "regional/ukrinform_ru_2020-09-20.html").read_bytes(),
    "football": (FILES / "regional/football_ua_ru_2016-08-15.html").read_bytes(),
}
TITLES = {
    "pravda": "157 миллионов за бездействие. Как судьи ликвидированного ОАСК до сих пор сидят на выплатах из госбюджета",
    "unn": 'Парламент Молдовы, "с подачи Додона" - ограничил полномочия Санду еще до ее инаугурации',
    "ukrinform": 'Полиция направила дело "минера" столичного метро в суд',
    "football": "Подольски завершил карьеру в сборной",
}
#: settings every fault crawl runs with: no politeness pauses, short backoff, no sitemaps
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "RETRY_TIMES": "2",
        "NEWSCRAWL_RETRY_BACKOFF_BASE": "0.1", "NEWSCRAWL_SITEMAPS": "0", "DOWNLOAD_TIMEOUT": "5"}

Route = Callable[["FaultyHandler"], None]


class FaultyHandler(QuietHandler):
    """Answers from the current test's :class:`FaultySite` routes; counts hits by ``host/path``."""

    protocol_version = "HTTP/1.1"
    site: FaultySite

    def do_GET(self) -> None:
        host = self.headers["Host"].split(":")[0]
        self.site.hits[f"{host}{self.path}"] += 1
        route = self.site.routes.get(self.path)
        if route is None:
            self.reply(404, b"not here")
        else:
            route(self)

    def reset(self) -> None:
        """Close the connection with a TCP RST (SO_LINGER 0)."""
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    @classmethod
    def prepare(cls) -> None:
        cls.site = FaultySite()

    @classmethod
    def opened(cls, base: str) -> FaultySite:
        cls.site.port = port_of(base)
        return cls.site

    @classmethod
    def release(cls) -> None:
        cls.site.released.set()  # let stalled handlers finish


@dataclass
class FaultySite:
    """One test's server: its routes (path → handler), hits, and where it listens."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    port: int = 0
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        """The site's root URL."""
        return f"http://127.0.0.1:{self.port}"

    def page(self, path: str, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
        """Serve ``body`` at ``path`` with a 200."""
        self.routes[path] = lambda h: h.reply(200, body, kind)

    def home(self, *paths: str) -> None:
        """A home page announcing no feed and linking ``paths``."""
        links = "".join(f'<a href="{p}">story {n}</a>' for n, p in enumerate(paths))
        self.page("/", f"<html><head><title>Home</title></head><body><h1>News</h1>{links}</body></html>".encode())


#: a fresh faulty site for each test
site = local_site(FaultyHandler, server=QuietServer)


@dataclass
class Crawled:
    """What a finished crawl left: its stats, its log, and the stored articles' titles."""

    stats: dict[str, Any]
    log: str
    titles: list[str]


@pytest.fixture
def crawl(tmp_path: Path, mongo_uri: str) -> Callable[..., Crawled]:
    """``scrapy crawl generic`` of a site with :data:`FAST` plus ``settings``; exit 0 required."""

    def run(site: FaultySite, **settings: str) -> Crawled:
        done = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site.base}/", log=tmp_path / "crawl.log",
                         env=crawl_env(tmp_path, mongo_uri, "faults"), settings={**FAST, **settings})
        return Crawled(done.stats, done.log, sorted(doc["title"] for doc in done.articles({"title": 1}, drop=True)))

    return run


def failing_then(statuses: list[int], body: bytes) -> Route:
    """A route answering ``statuses`` in turn, then ``body`` with a 200."""
    queue = list(statuses)

    def route(handler: FaultyHandler) -> None:
        if queue:
            handler.reply(queue.pop(0), b"<html><body>server error</body></html>")
        else:
            handler.reply(200, body)

    return route


def reset_then(times: int, body: bytes) -> Route:
    """A route that sends the headers and half of ``body``, then resets the connection, ``times``
    times; then answers in full."""
    left = [times]

    def route(handler: FaultyHandler) -> None:
        if left[0] <= 0:
            handler.reply(200, body)
            return
        left[0] -= 1
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.reset()

    return route


@pytest.mark.crawl
def test_5xx_then_success_is_stored_after_retries(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/first-story-1000001.html", "/news/second-story-1000002.html", "/news/gone-story-1000003.html")
    site.routes["/news/first-story-1000001.html"] = failing_then([500, 502], PAGES["pravda"])
    site.routes["/news/second-story-1000002.html"] = failing_then([503], PAGES["unn"])
    site.routes["/news/gone-story-1000003.html"] = failing_then([503] * 10, PAGES["ukrinform"])
    result = crawl(site)
    assert result.titles == sorted([TITLES["pravda"], TITLES["unn"]])
    stats = result.stats
    # 2 + 1 retries that succeeded, 2 for the page that never recovered (RETRY_TIMES=2)
    assert stats["retry/count"] == 5, stats
    assert stats["retry/reason_count/500 Internal Server Error"] == 1
    assert stats["retry/reason_count/502 Bad Gateway"] == 1
    assert stats["retry/reason_count/503 Service Unavailable"] == 3
    assert stats["retry/max_reached"] == 1
    assert stats["httperror/response_ignored_status_count/503"] == 1
    assert site.hits["127.0.0.1/news/gone-story-1000003.html"] == 3
    assert stats["newscrawl/mongo/inserted"] == 2


@pytest.mark.crawl
def test_connection_reset_mid_response(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/reset-once-1000001.html", "/news/reset-always-1000002.html")
    site.routes["/news/reset-once-1000001.html"] = reset_then(1, PAGES["pravda"])
    site.routes["/news/reset-always-1000002.html"] = reset_then(99, PAGES["unn"])
    result = crawl(site)
    assert result.titles == [TITLES["pravda"]]
    stats = result.stats
    # 1 reset of the first page, 3 of the second (first try + RETRY_TIMES): all retried, then given up
    assert stats["downloader/exception_type_count/scrapy.exceptions.ResponseDataLossError"] == 4
    assert stats["retry/reason_count/scrapy.exceptions.ResponseDataLossError"] == 3
    assert stats["retry/count"] == 3
    assert stats["retry/max_reached"] == 1
    assert site.hits["127.0.0.1/news/reset-always-1000002.html"] == 3


@pytest.mark.crawl
def test_stall_past_download_timeout(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/stalled-story-1000001.html", "/news/quick-story-1000002.html")
    stalled = threading.Semaphore(0)  # released once per stalled request still unanswered

    def stall(handler: FaultyHandler) -> None:
        stalled.release()
        site.released.wait(600)

    site.routes["/news/stalled-story-1000001.html"] = stall
    site.page("/news/quick-story-1000002.html", PAGES["unn"])
    result = crawl(site, DOWNLOAD_TIMEOUT="2", RETRY_TIMES="1")
    # the crawl ended while the stalled requests were still unanswered: it did not wait for them
    assert not site.released.is_set() and stalled.acquire(blocking=False)
    assert result.titles == [TITLES["unn"]]
    stats = result.stats
    # the stalled page timed out twice (first try + RETRY_TIMES); on a loaded machine other pages may too
    assert f"Gave up retrying <GET {site.base}/news/stalled-story-1000001.html> (failed 2 times)" in result.log
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError"] >= 2
    assert stats["retry/reason_count/scrapy.exceptions.DownloadTimeoutError"] >= 1
    # 2 attempts; Twisted's connection pool may resend each once when its kept-alive connection drops
    assert 2 <= site.hits["127.0.0.1/news/stalled-story-1000001.html"] <= 4


@pytest.mark.crawl
def test_slow_drip_within_timeout_is_stored(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    body = PAGES["ukrinform"]

    def drip(handler: FaultyHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        step = len(body) // 10 + 1
        for start in range(0, len(body), step):
            handler.wfile.write(body[start:start + step])
            handler.wfile.flush()
            time.sleep(0.15)

    site.home("/news/dripping-story-1000001.html")
    site.routes["/news/dripping-story-1000001.html"] = drip
    result = crawl(site, DOWNLOAD_TIMEOUT="4")  # the drip takes ~1.5 s
    assert result.titles == [TITLES["ukrinform"]]
    assert "retry/count" not in result.stats and "downloader/exception_count" not in result.stats


def redirect(to: str) -> Route:
    """A route answering 302 to ``to``."""
    return lambda handler: handler.reply(302, b"", Location=to)


@pytest.mark.crawl
def test_redirect_loop_and_chain_are_dropped(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/loop-a-1000001.html", "/news/chain-0-1000000.html", "/news/kept-story-1000003.html")
    site.routes["/news/loop-a-1000001.html"] = redirect("/news/loop-b-1000002.html")
    site.routes["/news/loop-b-1000002.html"] = redirect("/news/loop-a-1000001.html")
    for n in range(10):  # a chain that never repeats a URL
        site.routes[f"/news/chain-{n}-1000000.html"] = redirect(f"/news/chain-{n + 1}-1000000.html")
    site.page("/news/kept-story-1000003.html", PAGES["unn"])
    result = crawl(site, REDIRECT_MAX_TIMES="3")
    assert result.titles == [TITLES["unn"]]
    stats = result.stats
    # a -> b -> a: the second request for a is a duplicate and filtered
    assert stats["dupefilter/filtered"] == 1
    assert site.hits["127.0.0.1/news/loop-a-1000001.html"] == 1
    # the chain stops after REDIRECT_MAX_TIMES redirects (Scrapy keeps no stat of its own for it)
    assert [site.hits[f"127.0.0.1/news/chain-{n}-1000000.html"] for n in range(6)] == [1, 1, 1, 1, 0, 0]
    assert stats["downloader/response_status_count/302"] == 2 + 4
    assert "newscrawl/article_responses" in stats and stats["newscrawl/article_responses"] == 1


@pytest.mark.crawl
def test_redirect_to_another_host_is_not_followed(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/moved-story-1000001.html", "/news/kept-story-1000002.html")
    site.routes["/news/moved-story-1000001.html"] = redirect(f"http://localhost:{site.port}/news/elsewhere-1000003.html")
    site.page("/news/elsewhere-1000003.html", PAGES["pravda"])  # served on both hosts
    site.page("/news/kept-story-1000002.html", PAGES["unn"])
    result = crawl(site)
    assert result.titles == [TITLES["unn"]]
    assert result.stats["offsite/filtered"] == 1 and result.stats["offsite/domains"] == 1
    assert not [key for key in site.hits if key.startswith("localhost")]


@pytest.mark.crawl
def test_truncated_gzip_is_counted_not_stored(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    packed = gzip.compress(PAGES["pravda"])

    def cut(size: int) -> Route:
        return lambda handler: handler.reply(200, packed[:size], Content_Encoding="gzip")

    site.home("/news/half-gzip-1000001.html", "/news/header-gzip-1000002.html", "/news/whole-gzip-1000003.html")
    site.routes["/news/half-gzip-1000001.html"] = cut(len(packed) // 2)
    site.routes["/news/header-gzip-1000002.html"] = cut(12)
    whole = gzip.compress(PAGES["unn"])
    site.routes["/news/whole-gzip-1000003.html"] = lambda handler: handler.reply(200, whole, Content_Encoding="gzip")
    result = crawl(site)
    assert result.titles == [TITLES["unn"]]
    assert result.stats["newscrawl/truncated/gzip"] == 2
    assert "log_count/ERROR" not in result.stats


@pytest.mark.crawl
def test_huge_page_is_cancelled(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    chunk = b"<p>" + b"x" * 65_529 + b"</p>\n"
    size = 50 * 1024 * 1024

    def announced(handler: FaultyHandler) -> None:  # Content-Length: 50 MB
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        for _ in range(size // len(chunk)):
            handler.wfile.write(chunk)

    def chunked(handler: FaultyHandler) -> None:  # no length given: 50 MB in chunks
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(size // len(chunk)):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")

    site.home("/news/huge-story-1000001.html", "/news/endless-story-1000002.html", "/news/small-story-1000003.html")
    site.routes["/news/huge-story-1000001.html"] = announced
    site.routes["/news/endless-story-1000002.html"] = chunked
    site.page("/news/small-story-1000003.html", PAGES["unn"])
    result = crawl(site, DOWNLOAD_MAXSIZE=str(1024 * 1024))
    assert result.titles == [TITLES["unn"]]
    stats = result.stats
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError"] == 2
    assert "retry/count" not in stats  # a page over the limit is not asked for again
    assert "Expected to receive 52428800 bytes which is larger than download max size" in result.log
    assert "larger than download max size (1048576) in request <GET " + site.base + "/news/endless" in result.log


@pytest.mark.crawl
def test_binary_served_as_html_is_not_an_article(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    noise = random.Random(8).randbytes(200_000)
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + random.Random(9).randbytes(50_000)
    site.home("/news/noise-story-1000001.html", "/news/picture-story-1000002.html", "/news/real-story-1000003.html")
    site.page("/news/noise-story-1000001.html", noise)
    site.page("/news/picture-story-1000002.html", png, "text/html")
    site.page("/news/real-story-1000003.html", PAGES["unn"])
    result = crawl(site)
    assert result.titles == [TITLES["unn"]]
    stats = result.stats
    assert stats["newscrawl/article_responses"] == 3 and stats["newscrawl/not_article"] == 2
    assert "newscrawl/parse_error" not in stats and "log_count/ERROR" not in stats


def cp1251_page(*, meta: str | None) -> bytes:
    """The football.ua page encoded in windows-1251, its ``<meta>`` charset declaration replaced
    by ``charset=meta`` (or removed)."""
    text = PAGES["football"].decode("utf-8")
    declared = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
    assert declared in text
    text = text.replace(declared, f'<meta http-equiv="Content-Type" content="text/html; charset={meta}" />' if meta else "")
    return text.encode("cp1251", errors="xmlcharrefreplace")


@pytest.mark.crawl
@pytest.mark.parametrize(("meta", "header"), [
    pytest.param("windows-1251", "text/html; charset=utf-8", id="header-says-utf8"),
    pytest.param(None, "text/html", id="no-charset-anywhere"),
])
def test_windows_1251_page_is_stored_in_cyrillic(site: FaultySite, crawl: Callable[..., Crawled], meta: str | None,
                                                  header: str) -> None:
    site.home("/news/podolski-story-1000001.html")
    site.page("/news/podolski-story-1000001.html", cp1251_page(meta=meta), header)
    result = crawl(site)
    assert result.titles == [TITLES["football"]]


@pytest.mark.parametrize(("meta", "header"), [
    ("windows-1251", "text/html; charset=utf-8"), (None, "text/html; charset=utf-8"), ("utf-8", "text/html"), (None, "text/html"),
])
def test_decoded_text_of_mislabelled_pages(meta: str | None, header: str) -> None:
    response = HtmlResponse("http://127.0.0.1/news/a-1", body=cp1251_page(meta=meta), headers={"Content-Type": header})
    text = decoded_text(response.body, response.encoding)
    assert "<title>Подольски завершил карьеру в сборной" in text
    assert "\ufffd" not in text


@pytest.mark.parametrize(("meta", "header"), [
    ("iso-8859-1", "text/html"), ("windows-1251", "text/html"), ("utf-8", "text/html; charset=iso-8859-1"), (None, "text/html; charset=windows-1252"),
])
def test_decoded_text_reads_utf8_bytes_as_utf8_whatever_the_page_declares(meta: str | None, header: str) -> None:
    """A single-byte charset decodes every byte without errors, so a UTF-8 page labelled with one
    would come out as mojibake (iso-8859-1: "Ð¾Ð´Ð¾Ð»" for "одол") if the label were believed."""
    text = PAGES["football"].decode("utf-8")
    declared = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
    body = text.replace(declared, f'<meta http-equiv="Content-Type" content="text/html; charset={meta}" />' if meta else "").encode()
    response = HtmlResponse("http://127.0.0.1/news/a-1", body=body, headers={"Content-Type": header})
    assert decoded_text(response.body, response.encoding) == body.decode("utf-8")


def test_decoded_text_keeps_the_declared_charset_for_a_stray_bad_byte() -> None:
    body = PAGES["pravda"].replace("157 миллионов".encode(), b"\xff" + "157 миллионов".encode(), 1)
    response = HtmlResponse("http://127.0.0.1/news/a-1", body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    assert decoded_text(response.body, response.encoding) == response.text
    assert "\ufffd157 миллионов" in response.text


@pytest.mark.crawl
def test_robots_txt_disallowing_everything(site: FaultySite, crawl: Callable[..., Crawled]) -> None:
    site.home("/news/first-story-1000001.html")
    site.page("/news/first-story-1000001.html", PAGES["unn"])
    site.page("/robots.txt", b"User-agent: *\nDisallow: /\n", "text/plain")
    result = crawl(site)
    assert result.titles == []
    assert dict(site.hits) == {"127.0.0.1/robots.txt": 1}  # not even the home page
    assert result.stats["robotstxt/forbidden"] == 1
    assert result.stats["downloader/exception_type_count/scrapy.exceptions.IgnoreRequest"] == 1
    assert result.stats["downloader/request_count"] == 1
