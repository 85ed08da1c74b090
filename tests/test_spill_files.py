"""Spill files between runs: replayed only once their writer has closed them; bad lines quarantined.

Real servers: the session's nx-27017, and writer and replayer in separate processes, as a crawl
spilling during an outage and a ``flush-spill`` from cron would be.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scrapy.utils.test import get_crawler

from conftest import ROOT
from localsite import crawl_env, serving, stats_of
from newscrawl.store.database import Storage, open_storage
from newscrawl.store.files import spill_files
from newscrawl.store.mongo import MongoArticles
from newscrawl.store.service import StorageService
from newscrawl.store.sink import ArticleSink, SinkOptions
from test_storage_faults import GeneratedStories, crawl, document, quarantined

SPILLED = 1000

#: a crawl that cannot reach its database: it spills ``count`` articles, ``batch`` per append,
#: and says when its spill file exists
WRITER = """
import sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {root!r}]
from newscrawl.store.sink import ArticleSink, SinkOptions
from test_storage_faults import document
spill, started, count, batch = Path({spill!r}), Path({started!r}), {count}, {batch}
sink = ArticleSink(None, SinkOptions(batch_size=batch, spill_dir=spill, flush_seconds=3600))
for number in range(count):
    sink.add(document(number))
    if number == batch - 1:
        started.write_text(str(sink.spillway.spill_file.path))
sink.close()
"""


def sink_for(storage: Storage, data: Path) -> ArticleSink:
    """A sink on the test's database (which stays open when the sink closes)."""
    return ArticleSink(MongoArticles(storage), SinkOptions(spill_dir=data / "spill", quarantine_dir=data / "quarantine"))


def test_a_spill_file_is_replayed_only_after_its_writer_closed_it(storage: Storage, tmp_path: Path) -> None:
    started = tmp_path / "started"
    script = WRITER.format(tests=str(ROOT / "tests"), root=str(ROOT), spill=str(tmp_path / "spill"),
                           started=str(started), count=SPILLED, batch=5)
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    replayed, replays_while_writing = 0, 0
    while writer.poll() is None:
        if not started.exists():
            time.sleep(0.01)
            continue
        replayer = sink_for(storage, tmp_path)
        replayed += replayer.flush_spill()  # a replay from cron while the other crawl still spills
        replayer.close()
        replays_while_writing += writer.poll() is None
        assert Path(started.read_text()).exists() or writer.poll() is not None, "a live spill file was replayed"
    assert writer.wait() == 0
    assert replays_while_writing > 0, "no replay ran while the file was being written"
    replayer = sink_for(storage, tmp_path)
    replayed += replayer.flush_spill()
    replayer.close()
    assert replayed == SPILLED
    assert storage.db.articles.count_documents({}) == SPILLED
    assert len(storage.db.articles.distinct("url_key")) == SPILLED
    assert spill_files(tmp_path / "spill") == []


GOOD = [json.dumps(document(n), ensure_ascii=False) for n in range(6)]
BAD_LINES = {
    b'{"url": "https://example.org/x", "title": "\xff\xfe"}': "not UTF-8",
    b"[1, 2]": "not a JSON object but list",
    b"null": "not a JSON object but NoneType",
    b'"s"': "not a JSON object but str",
}
#: a crash mid-append: the last line ends inside the two bytes of a Cyrillic letter
TORN = json.dumps(document(99, "Київ"), ensure_ascii=False).encode()[:-12]


def bad_spill(data: Path) -> None:
    """Two spill files left by crashed crawls: the first with every kind of bad line, the second good."""
    spill = data / "spill"
    spill.mkdir(parents=True)
    lines = [GOOD[0].encode(), *BAD_LINES, GOOD[1].encode(), GOOD[2].encode(), TORN]
    (spill / "spill-20260101T000000-1.jsonl").write_bytes(b"\n".join(lines))
    (spill / "spill-20260101T000001-2.jsonl").write_bytes("\n".join(GOOD[3:]).encode() + b"\n")


def test_a_crawl_run_opens_its_storage_as_its_crawler_is_made(storage: Storage, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A crawl run's storage opens before anything asks for it, off the reactor: what earlier runs
    spilled is stored while the crawler is still starting."""
    monkeypatch.setenv("NEWSCRAWL_DATA_DIR", str(tmp_path))
    spilling = ArticleSink(None, SinkOptions(spill_dir=tmp_path / "spill", flush_seconds=3600))
    for number in range(3):
        spilling.add(document(number))
    spilling.close()
    crawler = get_crawler(settings_dict={"NEWSCRAWL_RECORD_RUN": True, "MONGO_URI": storage.uri,
                                         "MONGO_DATABASE": storage.db.name})
    service = StorageService.from_crawler(crawler)
    try:
        deadline = time.monotonic() + 120
        while storage.db.articles.count_documents({}) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(storage.db.articles.distinct("url")) == sorted(document(n)["url"] for n in range(3))
        assert not service.opened  # nothing asked for it yet
        assert spill_files(tmp_path / "spill") == []
    finally:
        service.sink.close()


def test_flush_spill_loads_every_good_line_and_quarantines_each_bad_one(tmp_path: Path, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri, "badspill")
    data = Path(env["NEWSCRAWL_DATA_DIR"])
    bad_spill(data)
    result = subprocess.run([sys.executable, "-m", "newscrawl", "flush-spill"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "replayed 6 spilled articles" in result.stderr
    stored = open_storage(mongo_uri, env["MONGO_DATABASE"])
    try:
        assert sorted(stored.db.articles.distinct("url")) == sorted(document(n)["url"] for n in range(6))
    finally:
        stored.client.drop_database(env["MONGO_DATABASE"])
        stored.close()
    entries = quarantined(data)
    assert len(entries) == len(BAD_LINES) + 1
    reasons = [entry["reason"] for entry in entries]
    for expected in BAD_LINES.values():
        assert any(reason.startswith(expected) for reason in reasons), (expected, reasons)
    assert any("cut short" in reason for reason in reasons)
    assert [entry["source"].rsplit(":", 1)[1] for entry in entries] == ["2", "3", "4", "5", "8"]
    assert len([line for line in result.stderr.splitlines() if "quarantined line" in line]) == len(entries)
    assert spill_files(data / "spill") == []


@pytest.mark.crawl
def test_a_bad_spill_file_never_stops_a_crawl(tmp_path: Path, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri, "badspillcrawl")
    data = Path(env["NEWSCRAWL_DATA_DIR"])
    bad_spill(data)
    with serving(GeneratedStories) as site:
        result = crawl(tmp_path, site, env, listings=1)
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 0, log[-3000:]
    stats = stats_of(log)
    assert stats["newscrawl/mongo/spill_replayed"] == 6
    assert stats["newscrawl/spill/bad_lines"] == len(BAD_LINES) + 1
    assert stats["newscrawl/mongo/inserted"] == 100 + 6
    assert stats["finish_reason"] == "finished"
