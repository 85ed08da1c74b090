"""WARC recording and replay: a live crawl of a local server archived, then replayed offline."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from conftest import ROOT, SITES, saved_bytes
from localsite import QuietHandler, local_site, run_crawl
from newscrawl.crawl.replay import ArchivedResponse, read_warc, write_warc

SEED = saved_bytes(SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz")


class GzipAndRedirectPages(QuietHandler):
    """A tiny site: a home page linking a gzip-served page, a redirect and a missing page."""

    def do_GET(self) -> None:
        pages = {
            "/": b'<html><head><title>home</title></head><body><a href="/gz">gz</a> <a href="/old">old</a> '
                 b'<a href="/missing">missing</a></body></html>',
            "/new": "<html><head><title>new – нова</title></head><body>moved here</body></html>".encode(),
            "/robots.txt": b"User-agent: *\nAllow: /\n",
        }
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/new")
            self.end_headers()
        elif self.path == "/gz":
            body = gzip.compress(SEED)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path in pages:
            body = pages[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)


site = local_site(GzipAndRedirectPages)

#: the settings of every crawl here, over the project's
PLAIN = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ITEM_PIPELINES": "{}"}
SPIDER = '''
import scrapy

class Follow(scrapy.Spider):
    name = "follow"
    allowed_domains = ["127.0.0.1"]

    async def start(self):
        yield scrapy.Request(self.start_url)

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "title": response.css("title::text").get()}
        yield from response.follow_all(css="a", callback=self.parse)
'''


def run_spider(tmp_path: Path, start: str, **settings: object) -> tuple[list[dict], str]:
    """``scrapy runspider`` of a spider that follows every link from ``start``, with the project's
    settings and no pipelines; its items (by URL) and its log."""
    spider = tmp_path / "follow.py"
    spider.write_text(SPIDER, encoding="utf-8")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings", "PYTHONPATH": str(ROOT),
           "NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}
    done = run_crawl("scrapy", "runspider", str(spider), "-a", f"start_url={start}", env=env, log=tmp_path / "log.txt",
                     feed=tmp_path / f"out{len(list(tmp_path.iterdir()))}.jsonl", settings={**PLAIN, **settings})
    return sorted(done.items, key=lambda item: item["url"]), done.log


@pytest.mark.crawl
def test_record_then_replay_gives_the_same_items_without_the_server(tmp_path: Path, site: str) -> None:
    archive = tmp_path / "crawl.warc.gz"
    live, live_log = run_spider(tmp_path, site + "/", NEWSCRAWL_WARC_OUT=archive)
    assert [i["url"].removeprefix(site) for i in live] == ["/", "/gz", "/new"]
    assert live[1]["title"] == "Putin absorbs Belarusian factories to strengthen his army – ISW | UNIAN"
    assert live[2]["title"] == "new – нова"
    assert "newscrawl/warc/records_written" in live_log

    index = read_warc(archive)
    gz = index[next(k for k in index if k.endswith("/gz"))]
    assert gzip.decompress(gz.body) == SEED  # stored as downloaded, still compressed

    replayed, replay_log = run_spider(tmp_path, site + "/", NEWSCRAWL_REPLAY=archive, DOWNLOAD_TIMEOUT=1)
    assert replayed == live
    assert "'newscrawl/replay/missing'" not in replay_log  # everything asked for was archived...
    assert "'downloader/response_status_count/404': 1" in replay_log  # ...including the live 404
    assert "'downloader/response_status_count/301': 1" in replay_log


@pytest.mark.crawl
def test_unknown_start_url_is_a_counted_404(tmp_path: Path) -> None:
    archive = tmp_path / "empty.warc.gz"
    write_warc(archive, [ArchivedResponse("http://127.0.0.1:9/only", body=b"<html></html>")])
    items, log = run_spider(tmp_path, "http://127.0.0.1:9/elsewhere", NEWSCRAWL_REPLAY=archive)
    assert items == []
    assert "'newscrawl/replay/missing': 2" in log  # the page and robots.txt


def test_write_read_round_trip(tmp_path: Path) -> None:
    records = [
        ArchivedResponse("https://www.unian.ua/war/тест-12149817.html?b=2&a=1", 200, {"Content-Type": "text/html"}, "тест".encode()),
        ArchivedResponse("https://www.unian.ua/old", 301, [("Location", "/new")], b""),
    ]
    path = tmp_path / "x.warc"
    assert write_warc(path, records) == 2
    index = read_warc(path)
    assert len(index) == 2
    (page,) = [r for r in index.values() if r.status == 200]
    assert page.body == "тест".encode() and ("Content-Type", "text/html") in page.header_pairs()
    (moved,) = [r for r in index.values() if r.status == 301]
    assert ("Location", "/new") in moved.header_pairs()


def test_bad_archives_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="replay archive not found"):
        read_warc(tmp_path / "nope.warc.gz")
    junk = tmp_path / "junk.warc"
    junk.write_bytes(b"this is not a warc file\n" * 10)
    with pytest.raises(ValueError, match="not a WARC file"):
        read_warc(junk)
