"""`python -m newscrawl db` serves the embedded database to other programs; crawls use it meanwhile;
a password in MONGO_URI never reaches a log line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import FILES, ROOT
from newscrawl.store.server import free_port

pytestmark = pytest.mark.crawl
SAMPLE = FILES / "unian/unian-sample.warc.gz"


def test_db_command_serves_crawls_and_other_programs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "MONGO_DATABASE")}
    env["NEWSCRAWL_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    db = subprocess.Popen([sys.executable, "-m", "newscrawl", "db", "--port", str(port)], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = db.stdout.readline().strip()
        assert first == f"MONGO_URI=mongodb://127.0.0.1:{port}"
        assert (tmp_path / "data/db-server.json").exists()
        log = tmp_path / "crawl.log"
        subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "unian", "-a", "editions=en", "-s", f"NEWSCRAWL_REPLAY={SAMPLE}",
             "-s", f"LOG_FILE={log}"],
            cwd=ROOT, env=env, check=True, timeout=600,
        )
        text = log.read_text(encoding="utf-8")
        assert "using the embedded server of `python -m newscrawl db`" in text
        assert "starting the embedded MongoDB server" not in text
        client: MongoClient = MongoClient(first.split("=", 1)[1], serverSelectionTimeoutMS=3000)
        titles = [doc["title"] for doc in client.newscrawl.articles.find({"site": "unian"})]
        client.close()
        assert titles == ["Putin absorbs Belarusian factories to strengthen his army – ISW"]
    finally:
        db.send_signal(signal.SIGTERM)
        assert db.wait(timeout=300) == 0
    assert not (tmp_path / "data/db-server.json").exists()
    assert not list((tmp_path / "data/mongo").glob("*.pid"))


def test_password_in_mongo_uri_is_never_logged_and_nothing_is_lost(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the database is down for the whole crawl
    env = {**os.environ, "MONGO_URI": f"mongodb://crawler:hunter2-secret@127.0.0.1:{port}/?authSource=admin",
           "NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "crawl.log"
    crawl = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "unian", "-a", "editions=en", "-s", f"NEWSCRAWL_REPLAY={SAMPLE}",
         "-s", "NEWSCRAWL_MONGO_TIMEOUT_MS=300", "-s", f"LOG_FILE={log}", "-s", "LOG_LEVEL=DEBUG"],
        cwd=ROOT, env=env, timeout=300,
    )
    text = log.read_text(encoding="utf-8")
    assert crawl.returncode == 1, "nothing stored: the crawl must not exit 0"
    assert "FAILED: nothing stored, 1 articles spilled to" in text.strip().splitlines()[-1]
    assert "hunter2-secret" not in text
    assert "crawler:***@" in text
    assert "'newscrawl/mongo/spilled': 1" in text
    (spill,) = (tmp_path / "data/spill").glob("spill-*.jsonl")
    assert "Putin absorbs Belarusian factories" in spill.read_text(encoding="utf-8")
