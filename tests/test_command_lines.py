"""Bad input to the commands is one clear line, not a traceback: spider arguments ``scrapy crawl``
cannot use, a browser required and missing, and a reader that stops reading ``parse``'s output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FILES, ROOT
from localsite import crawl_env

PAGE = FILES / "regional/pravda_ru_2026-01-08.html"
PAGE_URL = "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/"


def scrapy(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = crawl_env(tmp_path, "mongodb://127.0.0.1:9", "args", **env)  # never reached: nothing starts
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=environment, timeout=300,
                          capture_output=True, text=True)


@pytest.mark.parametrize(("args", "message"), [
    (["crawl", "unian", "-a", "editions=xx"], "error: -a editions: unknown xx; unian has uk, ru, en"),
    (["crawl", "unian", "-a", "since=2023-13-01"], "error: -a since='2023-13-01': expected a day as YYYY-MM-DD"),
    (["crawl", "unian", "-a", "since=2023-02-10", "-a", "until=2023-02-01"],
     "error: -a until=2023-02-01 is before since=2023-02-10"),
    (["crawl", "unian", "-a", "until=2023-02-01"], "error: -a until needs -a since"),
    (["crawl", "generic", "-a", "url=ftp://example.org/"], "error: not an http(s) site URL: ftp://example.org/"),
    (["crawl", "generic", "-a", "url=https://example.org/", "-a", "render=maybe"],
     "error: -a render='maybe': expected 1 or 0"),
    (["crawl", "nosuch"], "error: unknown spider 'nosuch'; known: football_ua, generic, liga, pravda, tv24, "
                          "ukranews, ukrinform, unian, unn"),
])
def test_arguments_scrapy_crawl_cannot_use_are_one_line_and_exit_3(tmp_path: Path, args: list[str], message: str) -> None:
    done = scrapy(tmp_path, *args)
    assert (done.returncode, done.stderr, done.stdout) == (3, message + "\n", "")


def test_runspider_says_the_same_in_one_line(tmp_path: Path) -> None:
    """``runspider`` knows its spider only once it has loaded the file: Scrapy's start-up lines come
    first, then the one error line, and no traceback."""
    done = scrapy(tmp_path, "runspider", str(ROOT / "spiders/generic.py"), "-a", "url=https://example.org/",
                  "-a", "since=2023-13-01")
    assert done.returncode == 3
    assert done.stderr.splitlines()[-1] == "error: -a since='2023-13-01': expected a day as YYYY-MM-DD"
    assert "Traceback" not in done.stderr and "Task exception" not in done.stderr


@pytest.mark.parametrize("args", [["crawl", "unian"], ["crawl", "generic", "-a", "url=https://example.org/"]])
def test_a_required_browser_that_is_missing_stops_the_crawl_at_start(tmp_path: Path, args: list[str]) -> None:
    """``NEWSCRAWL_PLAYWRIGHT=1`` with no browser: one line saying how to install Chromium, exit 3,
    no browser launched and nothing left in the temporary directory."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    missing = tmp_path / "no-chromium"
    done = scrapy(tmp_path, *args, NEWSCRAWL_PLAYWRIGHT="1", NEWSCRAWL_CHROMIUM=str(missing), TMPDIR=str(temporary))
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (f"error: NEWSCRAWL_PLAYWRIGHT=1 needs a browser and there is none at {missing}: install "
                           "Debian's Chromium (apt-get install chromium), or point NEWSCRAWL_CHROMIUM at one\n")
    assert list(temporary.iterdir()) == []


def test_render_argument_without_a_browser_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    done = scrapy(tmp_path, "crawl", "generic", "-a", "url=https://example.org/", "-a", "render=1",
                  NEWSCRAWL_CHROMIUM=str(missing))
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (f"error: -a render=1 needs the browser, and there is none at {missing}: install Debian's "
                           "Chromium (apt-get install chromium)\n")
    off = scrapy(tmp_path, "crawl", "generic", "-a", "url=https://example.org/", "-a", "render=1",
                 NEWSCRAWL_PLAYWRIGHT="0")
    assert off.returncode == 3 and "NEWSCRAWL_PLAYWRIGHT=0 turns it off" in off.stderr


def test_parse_into_a_closed_pipe_ends_quietly() -> None:
    """``parse … | head -1``: the reader is gone before the article is written (its end of the pipe
    closed at once, so the write must fail): no traceback, exit 0."""
    reader, writer = os.pipe()
    process = subprocess.Popen([sys.executable, "-m", "newscrawl", "parse", str(PAGE), "--url", PAGE_URL],
                               cwd=ROOT, stdout=writer, stderr=subprocess.PIPE, text=True)
    os.close(writer)
    os.close(reader)
    _, errors = process.communicate(timeout=300)
    assert (process.returncode, errors) == (0, "")
