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
