"""The embedded nx-27017 server never outlives the process that started it, however that process
ends; ``scrapy shell`` on a saved page answers at once and starts no server."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import crawl_env

WAIT = 120  # seconds allowed for a process to go (generous: the machine may be busy)


def gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.1)


STARTER = """
import sys, time
from pathlib import Path
from newscrawl.store.server import EmbeddedServer
server = EmbeddedServer.start(Path(sys.argv[1]))
print(server.process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_server_dies_with_the_process_that_started_it(tmp_path: Path, how: signal.Signals) -> None:
    parent = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "mongo")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert not gone(server_pid)
        parent.send_signal(how)
        parent.wait(timeout=WAIT)
        wait_gone(server_pid)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_crawl_stopped_by_sigterm_right_after_it_started_the_server_leaves_none_behind(
        tmp_path: Path) -> None:
    env = crawl_env(tmp_path, "", "sigterm")
    env.pop("MONGO_URI")  # the crawl starts its own embedded server
    log = tmp_path / "crawl.log"
    crawl = subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "unian", "-s",
                              f"NEWSCRAWL_REPLAY={FILES / 'unian/unian-sample.warc.gz'}", "-s", f"LOG_FILE={log}"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_files: list[Path] = []
    try:
        deadline = time.monotonic() + WAIT
        while not pid_files:
            assert crawl.poll() is None and time.monotonic() < deadline, "the crawl started no server"
            pid_files = list((tmp_path / "data/mongo").glob("nx-27017-*.pid"))
            time.sleep(0.02)
        while not pid_files[0].read_text().strip():
            time.sleep(0.02)
        server_pid = int(pid_files[0].read_text())
        crawl.send_signal(signal.SIGTERM)
        crawl.wait(timeout=WAIT)
        wait_gone(server_pid)
    finally:
        if crawl.poll() is None:
            crawl.kill()


def test_scrapy_shell_on_a_saved_page_answers_and_starts_no_server(tmp_path: Path) -> None:
    env = crawl_env(tmp_path, "", "shell")
    env.pop("MONGO_URI")
    page = FILES / "regional/unn_ru_2020-12-03.html"
    result = subprocess.run([sys.executable, "-m", "scrapy", "shell", str(page), "-c",
                             "(response.status, response.css('h1::text').get())"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 0, result.stderr
    assert "(200, 'Парламент Молдовы" in result.stdout
    assert not (tmp_path / "data/mongo").exists(), "the shell started a database"
    assert "scrapy-playwright" not in result.stderr


def test_two_servers_on_one_data_directory_store_each_article_once(tmp_path: Path) -> None:
    """Two crawls of different spiders may run at once, each with its own embedded server on the
    same ``data/mongo`` (a `newscrawl run` shares one server among its workers): the same articles
    written concurrently through both are stored once each, none lost."""
    from concurrent.futures import ThreadPoolExecutor

    from newscrawl.store.database import open_storage
    from newscrawl.store.server import EmbeddedServer
    from newscrawl.store.mongo import MongoArticles
    from newscrawl.store.sink import ArticleSink, SinkOptions
    from test_storage_faults import document

    servers = [EmbeddedServer.start(tmp_path / "mongo") for _ in range(2)]
    storages = [open_storage(server.uri, "shared") for server in servers]
    try:
        def write_all(index: int) -> None:
            sink = ArticleSink(MongoArticles(storages[index]),
                               SinkOptions(batch_size=50, spill_dir=tmp_path / f"spill{index}",
                                           quarantine_dir=tmp_path / f"quarantine{index}"))
            for number in range(500):
                sink.add(document(number))
            sink.close()  # the databases are closed below, with their servers

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(write_all, range(2)))
        for opened in storages:
            keys = [doc["url_key"] for doc in opened.db.articles.find({}, {"url_key": 1})]
            assert len(keys) == len(set(keys)) == 500
        assert not list(tmp_path.glob("spill*/*.jsonl")) and not list(tmp_path.glob("quarantine*/*.jsonl"))
    finally:
        for opened in storages:
            opened.close()
        for server in servers:
            server.stop()
