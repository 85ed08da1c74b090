"""newscrawl.crawl.replay: WARC write/read round trip, clear errors, and a live crawl recorded then replayed.

The crawls run ``scrapy runspider tests/replay_spider.py`` in a subprocess with ``-s`` settings only
(cwd is the test's tmp_path, so no scrapy.cfg or project settings module is involved).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from localsite import QuietHandler, run_crawl, serving
from newscrawl.crawl.replay import (
    REPLAYED_FLAG,
    ArchivedResponse,
    WarcRecorderMiddleware,
    WarcReplayMiddleware,
    archive_key,
    read_warc,
    write_warc,
)
from newscrawl.settings import DOWNLOADER_MIDDLEWARES

ROOT = Path(__file__).resolve().parents[1]
SPIDER = Path(__file__).resolve().parent / "replay_spider.py"
MIDDLEWARES = json.dumps({name: priority for name, priority in DOWNLOADER_MIDDLEWARES.items()
                          if name.startswith("newscrawl.crawl.replay.")})
#: the settings of every crawl here (no project settings module: these alone)
SETTINGS = {"DOWNLOADER_MIDDLEWARES": MIDDLEWARES, "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False,
            "STATS_DUMP": True, "LOG_LEVEL": "DEBUG"}


def page(title: str, *links: str) -> bytes:
    """A small UTF-8 HTML page."""
    anchors = " ".join(f'<a href="{link}">{link}</a>' for link in links)
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{anchors}</body></html>'.encode()


PAGES = {
    "/": page("Головна", "/gz", "/old", "/missing", "/chunked", "/новини?b=2&a=1", "http://example.invalid/offsite"),
    "/gz": page("Стиснута сторінка – gzip"),
    "/new": page("Нова адреса"),
    "/chunked": page("Chunked"),
    "/новини?b=2&a=1": page("Новини"),
}


class ResponseKindsHandler(QuietHandler):
    """A tiny HTTP/1.1 site: gzip, chunked, a 301, a 404, robots.txt and a Cyrillic URL."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = unquote(self.path)
        if path == "/robots.txt":
            self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        elif path == "/old":
            self.reply(301, b"", Location="/new")
        elif path == "/gz":
            self.reply(200, gzip.compress(PAGES[path]), Content_Encoding="gzip")
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = PAGES[path]
            for part in (body[:20], body[20:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path in PAGES:
            self.reply(200, PAGES[path])
        else:
            self.reply(404, b"<html><head><title>not found</title></head></html>")


def crawl(workdir: Path, name: str, start: str, **settings: object) -> tuple[list[dict], dict[str, int], str]:
    """Run the test spider with ``settings`` over :data:`SETTINGS`; its items (sorted by URL), stats and log."""
    env = {k: v for k, v in os.environ.items() if k not in ("SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = run_crawl("scrapy", "runspider", str(SPIDER), "-a", f"start={start}", feed=workdir / f"{name}.jsonl",
                     log=workdir / f"{name}.log", settings={**SETTINGS, **settings}, env=env, cwd=workdir)
    return sorted(done.items, key=lambda item: item["url"]), done.stats, done.log


@pytest.mark.crawl
def test_live_crawl_recorded_then_replayed_offline(tmp_path: Path) -> None:
    archive = tmp_path / "x.warc.gz"
    with serving(ResponseKindsHandler) as base:
        live, live_stats, live_log = crawl(tmp_path, "live", base + "/", NEWSCRAWL_WARC_OUT=archive)

    titles = {item["url"].removeprefix(base): item["title"] for item in live}
    assert titles == {
        "/": "Головна",
        "/gz": "Стиснута сторінка – gzip",
        "/new": "Нова адреса",  # reached through the 301 from /old
        "/chunked": "Chunked",
        "/%D0%BD%D0%BE%D0%B2%D0%B8%D0%BD%D0%B8?b=2&a=1": "Новини",
    }
    assert {item["status"] for item in live} == {200}
    # robots.txt, /, /gz, /old, /new, /missing, /chunked, /новини: every downloaded response
    assert live_stats["newscrawl/warc/records_written"] == 8
    assert live_stats["downloader/response_status_count/404"] == 1
    assert "WARNING" not in live_log  # the replay middleware, not configured, stays off quietly
    assert f"archiving every response to {archive}" in live_log

    with archive.open("rb") as stream:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Concurrent-To")) for r in ArchiveIterator(stream)]
    assert [kind for kind, _ in records].count("request") == 8
    assert all(linked for kind, linked in records if kind == "request")
    index = read_warc(archive)
    gz = index[archive_key(base + "/gz")]
    assert ("Content-Encoding", "gzip") in gz.header_pairs()
    assert gzip.decompress(gz.body) == PAGES["/gz"]  # stored as downloaded: still compressed
    assert index[archive_key(base + "/chunked")].body == PAGES["/chunked"]
    assert index[archive_key(base + "/old")].status == 301

    # The recorder stays on: a replayed response passes through its process_response too, and is skipped.
    again = tmp_path / "again.warc"
    replayed, replay_stats, replay_log = crawl(tmp_path, "replay", base + "/", NEWSCRAWL_REPLAY=archive,
                                               NEWSCRAWL_WARC_OUT=again)
    assert replayed == live
    assert replay_stats["newscrawl/replay/hits"] == 8
    assert "newscrawl/replay/missing" not in replay_stats
    assert "newscrawl/warc/records_written" not in replay_stats
    assert read_warc(again) == {}
    assert "downloader/exception_count" not in replay_stats
    assert replay_stats["downloader/response_status_count/301"] == 1
    assert replay_stats["downloader/response_status_count/404"] == 1  # the recorded 404, not a missing one
    assert "['replayed']" in replay_log

    unknown, unknown_stats, unknown_log = crawl(tmp_path, "unknown", base + "/never-recorded", NEWSCRAWL_REPLAY=archive)
    assert unknown == []
    assert unknown_stats["newscrawl/replay/missing"] == 1
    assert unknown_stats["newscrawl/replay/hits"] == 1  # robots.txt
    assert f"not in the archive: {base}/never-recorded" in unknown_log


@pytest.mark.parametrize("name", ["round.warc", "round.warc.gz"])
def test_write_then_read_round_trip(tmp_path: Path, name: str) -> None:
    url = "https://www.unian.ua/war/новина-12149817.html?b=2&a=1#top"
    body = bytes(range(256)) + "тест".encode()
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    records = [
        ArchivedResponse(url, 200, headers, body),
        ArchivedResponse("https://www.unian.ua/old", 301, {"Location": "/new"}),
        ArchivedResponse("https://www.unian.ua/gone", 410, {}, b"gone"),
    ]
    path = tmp_path / name
    assert write_warc(path, records) == 3
    assert path.read_bytes().startswith(b"\x1f\x8b" if name.endswith(".gz") else b"WARC/")

    index = read_warc(path)
    assert len(index) == 3
    page = index[archive_key("https://www.unian.ua/war/новина-12149817.html?a=1&b=2")]
    assert (page.status, page.header_pairs(), page.body) == (200, headers, body)
    assert page.url.isascii() and archive_key(page.url) == archive_key(url)
    moved = index[archive_key("https://www.unian.ua/old")]
    assert (moved.status, moved.header_pairs(), moved.body) == (301, [("Location", "/new")], b"")
    assert index[archive_key("https://www.unian.ua/gone")].status == 410


def test_the_last_record_of_a_url_wins(tmp_path: Path) -> None:
    """A retried URL is archived twice (503, then 200): replay answers with the final one."""
    path = tmp_path / "retried.warc.gz"
    write_warc(path, [ArchivedResponse("https://a.example/x", 503), ArchivedResponse("https://a.example/x", 200, body=b"ok")])
    assert read_warc(path)[archive_key("https://a.example/x")].status == 200


def replay_middleware(path: Path) -> WarcReplayMiddleware:
    return WarcReplayMiddleware.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_REPLAY": str(path)}))


def test_replay_middleware_answers_from_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    write_warc(path, [ArchivedResponse("https://a.example/p?b=2&a=1", 200, {"Content-Type": "text/html"}, b"<title>t</title>")])
    middleware = replay_middleware(path)
    middleware.crawler.stats.open_spider()

    request = Request("https://a.example/p?a=1&b=2#frag")
    hit = middleware.process_request(request)
    assert isinstance(hit, HtmlResponse)
    assert (hit.status, hit.body, hit.flags, hit.request, hit.url) == (200, b"<title>t</title>", [REPLAYED_FLAG], request, request.url)
    assert hit.headers["Content-Type"] == b"text/html"

    miss = middleware.process_request(Request("https://a.example/other"))
    assert (miss.status, miss.body, miss.flags) == (404, b"", [REPLAYED_FLAG])
    stats = middleware.crawler.stats
    assert (stats.get_value("newscrawl/replay/hits"), stats.get_value("newscrawl/replay/missing")) == (1, 1)


def test_replay_middleware_rejects_missing_and_non_warc_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.warc.gz"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        replay_middleware(missing)
    for name, content in [("junk.warc", b"this is not a warc file\n" * 10), ("junk.warc.gz", gzip.compress(b"<html></html>"))]:
        junk = tmp_path / name
        junk.write_bytes(content)
        with pytest.raises(ValueError, match=re.escape(str(junk))):
            replay_middleware(junk)


def test_an_empty_file_is_an_empty_archive(tmp_path: Path) -> None:
    """What the recorder leaves when a crawl downloads nothing."""
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert read_warc(empty) == {}
    assert replay_middleware(empty).index == {}


def test_both_middlewares_are_off_unless_configured() -> None:
    crawler = get_crawler()
    with pytest.raises(NotConfigured):
        WarcReplayMiddleware.from_crawler(crawler)
    with pytest.raises(NotConfigured):
        WarcRecorderMiddleware.from_crawler(crawler)


@pytest.mark.parametrize(("archive", "message"), [
    ("half", "the archive is cut short (its gzip stream ends early)"),
    ("missing", "no such file"),
    ("text", "not a WARC file"),
])
def test_an_unusable_archive_is_one_line_and_exit_3(tmp_path: Path, archive: str, message: str) -> None:
    """A WARC cut at half its length (warcio reads the first records and stops without a word), a
    missing file, a file that is no WARC: ``scrapy crawl`` says so in one line before it starts."""
    from conftest import FILES, ROOT
    from newscrawl.crawl.replay import index_warc

    sample = (FILES / "unian/unian-sample.warc.gz").read_bytes()
    path = tmp_path / f"{archive}.warc.gz"
    if archive == "half":
        path.write_bytes(sample[: len(sample) // 2])
        with pytest.raises(ValueError, match="cut short"):
            index_warc(path)
    elif archive == "text":
        path.write_text("not an archive", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSCRAWL_")}
    env.update(NEWSCRAWL_DATA_DIR=str(tmp_path / "data"))
    env.pop("MONGO_URI", None)
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "unian", "-s", f"NEWSCRAWL_REPLAY={path}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 3
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [f"error: NEWSCRAWL_REPLAY={path}: {message}" + (" (it starts with b'not a')" if archive == "text" else "")]
    assert not (tmp_path / "data/mongo").exists()
