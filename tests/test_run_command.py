"""``newscrawl run`` where a person watches and where cron does: spider arguments passed through,
one live progress line on a terminal (a pseudo-terminal here), nothing but the run's lines elsewhere.

Replays of the offline demo's archive (tests/files/unian/unian-sample.warc.gz) into the session's
MongoDB.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from pymongo import MongoClient

from conftest import FILES, ROOT
from localsite import crawl_env

pytestmark = pytest.mark.crawl
SAMPLE = FILES / "unian" / "unian-sample.warc.gz"
BACKFILL = ("run", "unian", "--since", "2023-02-01", "--until", "2023-02-03", "-s", f"NEWSCRAWL_REPLAY={SAMPLE}")


def on_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """``python -m newscrawl ARGS`` with a pseudo-terminal as its stdout and stderr: exit code and all it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "newscrawl", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                               stdout=follower, stderr=follower)
    os.close(follower)
    written = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is closed once every process holding it has ended
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    return process.wait(timeout=600), written.decode("utf-8")


def last_run(env: dict[str, str]) -> dict:
    stats = subprocess.run([sys.executable, "-m", "newscrawl", "stats", "--runs", "1", "--json"], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True, timeout=300)
    return json.loads(stats.stdout.splitlines()[0])


def drop(env: dict[str, str]) -> None:
    with MongoClient(env["MONGO_URI"]) as client:
        client.drop_database(env["MONGO_DATABASE"])


def test_a_backfill_on_a_terminal_shows_one_live_line(tmp_path: Path, mongo_uri: str) -> None:
    env = crawl_env(tmp_path, mongo_uri, "progress")
    code, written = on_terminal(env, *BACKFILL)
    assert code == 2, written  # the archive holds no day's page: an empty backfill is an alert
    run = last_run(env)
    drop(env)
    first, _, rest = written.partition("\r\n")
    assert re.fullmatch(r"unian: crawling, log \S+\.log", first)
    live, _, end = rest.rpartition("\r\x1b[K")  # the line makes way for the run's own lines
    assert end.startswith("unian: finished, 0 parsed, 0 stored, 0 updated, 1 alerts, 0 errors\r\n"
                          "ALERT [backfill_empty] the backfill of 2023-02-01 to 2023-02-03 parsed no article"), end
    drawn = [text.removesuffix("\x1b[K") for text in live.split("\r") if text]
    assert drawn and all("\n" not in text for text in drawn)  # one line, redrawn in place
    # the last drawing is the crawl's final count: every archive day listed (each edition's page is missing: 404)
    assert re.fullmatch(rf"unian: {run['pages']} pages, \d+/min, 0 articles stored, 0 errors, days 3/3 · "
                        r"(\d+ h )?(\d+ min )?\d+ (s|min)", drawn[-1]), drawn[-1]
    assert all(len(text) < 80 for text in drawn)  # the terminal is 80 columns wide


def test_without_a_terminal_run_prints_only_its_lines(tmp_path: Path, mongo_uri: str) -> None:
    """As under cron: stdout a pipe; and ``-a editions=en`` reaches the spider (the Ukrainian feed is not fetched)."""
    env = crawl_env(tmp_path, mongo_uri, "quiet")
    result = subprocess.run([sys.executable, "-m", "newscrawl", "run", "unian", "-a", "editions=en",
                             "-s", f"NEWSCRAWL_REPLAY={SAMPLE}"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    drop(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "" and "\r" not in result.stdout and "\x1b" not in result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("unian: crawling, log ")
    assert lines[1] == "unian: finished, 1 parsed, 1 stored, 0 updated, 0 alerts, 0 errors"
    log = Path(lines[0].removeprefix("unian: crawling, log ")).read_text(encoding="utf-8")
    # the English feed, listing and article; the archive's Ukrainian feed (unian.ua) is not asked for
    assert "'newscrawl/replay/hits': 3" in log and "unian.ua" not in log
