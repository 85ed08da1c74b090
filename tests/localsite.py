"""Local HTTP sites and crawl subprocesses for the tests (and bench/crawl.py): loopback only.

- :func:`local_site` makes the pytest fixture serving a handler class (its state prepared first,
  released after) and :func:`serving` serves one for a ``with`` block; both on 127.0.0.1 or another
  loopback address, in a thread;
- :class:`QuietHandler` is a handler base with :meth:`QuietHandler.reply`;
- :func:`run_crawl` runs a crawl subprocess (``scrapy crawl``, ``scrapy runspider``, ``newscrawl
  run``) and gives back its :class:`Crawl`: exit code, log, final stats, exported items, stored
  articles; :func:`stats_of` reads a log's final stats dump;
- :func:`crawl_env` is the environment of a crawl subprocess writing to its own database;
- :func:`guarded_env` adds the recording network guard (tests/netguard) to such an environment and
  :func:`assert_stayed_local` checks its record: nothing tried beyond loopback;
- :func:`write_local_spider` writes a spider module that reads UNIAN's documented markup on a
  local site (for crawl-scale tests of generated pages).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import pytest
from pymongo import MongoClient

LOCAL_SPIDER = '''
import re
from newscrawl.extract.parser import ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider
from spiders.unian import UnianParser


class LocalParser(ParserProxy):
    site = Site(
        name={name!r},
        description="UNIAN's markup on a local site.",
        editions={{"en": Edition("en", {base!r} + "/")}},
        article_url=re.compile({article_pattern!r}),
        listing_path={listing_path!r},
        archive_path={archive_path!r},
    )

    class V1(UnianParser.V1_1):
        """UNIAN's markup on a local site."""


LocalSpider = site_spider(LocalParser, __name__)
'''


class QuietServer(ThreadingHTTPServer):
    """A threading server that stays quiet when a client hangs up on a faulty or streamed answer."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with :meth:`reply`."""

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8", **headers: str) -> None:
        """Send a whole response (``Retry_After="1"`` becomes a ``Retry-After`` header)."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    @classmethod
    def prepare(cls) -> None:
        """Set the site's state fresh before it is served (a site without state has nothing to set)."""

    @classmethod
    def release(cls) -> None:
        """Let go of what the site still holds once it is no longer needed (answers kept waiting)."""

    @classmethod
    def opened(cls, base: str) -> Any:
        """What a test is given for the site served at ``base``: the base URL, unless the site
        says otherwise."""
        return base


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], address: str = "127.0.0.1",
            server: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> Iterator[str]:
    """Serve ``handler`` on a free port of a loopback ``address``; the base URL (no trailing slash)."""
    running = server((address, 0), handler)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        yield f"http://{address}:{running.server_address[1]}"
    finally:
        running.shutdown()
        running.server_close()


Scope = Literal["function", "module"]


def local_site(handler: type[QuietHandler], *, scope: Scope = "function", address: str = "127.0.0.1",
               server: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> Any:
    """The pytest fixture of a local site: ``handler`` served on a free port of a loopback
    ``address`` for each test (or each module), prepared before and released after; the
    fixture's value is :meth:`QuietHandler.opened` (the base URL, no trailing slash). A test module
    names it as it names any fixture: ``site = local_site(ArticlePages)``."""

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[Any]:
        handler.prepare()
        with serving(handler, address, server) as base:
            try:
                yield handler.opened(base)
            finally:
                handler.release()

    return fixture


def port_of(base: str) -> int:
    """The port of a local site's base URL."""
    return int(base.rsplit(":", 1)[1])


def crawl_env(tmp_path: Path, mongo_uri: str, prefix: str = "t", **extra: str) -> dict[str, str]:
    """The environment of a crawl subprocess: no inherited ``NEWSCRAWL_*``, a database and data
    directory of its own, plus ``extra`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSCRAWL_")}
    env.update(MONGO_URI=mongo_uri, MONGO_DATABASE=f"{prefix}_{uuid.uuid4().hex[:8]}",
               NEWSCRAWL_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


NETGUARD = Path(__file__).resolve().parent / "netguard"
ROOT = Path(__file__).resolve().parents[1]


def guarded_env(env: dict[str, str], record: Path) -> dict[str, str]:
    """``env`` with the recording network guard in force: its process refuses, and records in
    ``record``, every connection beyond loopback and every name lookup but ``localhost``."""
    paths = [str(NETGUARD), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths), "NETGUARD_RECORD": str(record)}


def assert_stayed_local(record: Path) -> None:
    """Fail unless a guarded process ran (it creates ``record``) and tried nothing beyond loopback."""
    assert record.exists(), f"the network guard never ran (no {record})"
    attempts = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert not attempts, f"reached beyond loopback: {attempts}"


#: a count or a text of a crawl's final stats dump (Scrapy prints it as a Python dict)
_STAT = re.compile(r"'([^']+)': (?:(\d+)|'([^']*)')(?=[,}\n])")


def stats_of(log: str) -> dict[str, Any]:
    """The stats of a crawl log's final dump: its counts as numbers, its texts (``finish_reason``)
    as text."""
    start = log.rfind("Dumping Scrapy stats")
    assert start >= 0, f"the crawl dumped no stats: {log[-3000:]}"
    return {key: int(number) if number else text for key, number, text in _STAT.findall(log, start)}


def stat(log: str, name: str) -> int:
    """One count of a crawl log's final stats dump (0 when absent)."""
    return stats_of(log).get(name, 0)


def stored_articles(mongo_uri: str, database: str, projection: Mapping[str, Any] | None = None, *,
                    drop: bool = False) -> list[dict[str, Any]]:
    """The articles of ``database`` (only the ``projection`` fields when given); ``drop``: the
    database dropped once read."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        found = list(client[database].articles.find({}, projection))
        if drop:
            client.drop_database(database)
    finally:
        client.close()
    return found


@dataclass
class Crawl:
    """A crawl subprocess that has ended: how it exited, what it logged and exported, and the
    environment it ran in (its database)."""

    process: subprocess.CompletedProcess[str]
    log: str
    items: list[dict[str, Any]]
    env: Mapping[str, str]

    @property
    def returncode(self) -> int:
        return self.process.returncode

    @property
    def stats(self) -> dict[str, Any]:
        """The stats the crawl dumped at its end."""
        return stats_of(self.log)

    def tail(self) -> str:
        """The exit code and the ends of the output, the error output and the log: what a failure shows."""
        process = self.process
        return f"exit {self.returncode}: {process.stdout[-2000:]}{process.stderr[-3000:]}{self.log[-3000:]}"

    def articles(self, projection: Mapping[str, Any] | None = None, *, drop: bool = False) -> list[dict[str, Any]]:
        """The articles in the crawl's database; ``drop``: the database dropped once read."""
        return stored_articles(self.env["MONGO_URI"], self.env["MONGO_DATABASE"], projection, drop=drop)


def run_crawl(*command: str, env: Mapping[str, str], log: Path | None = None,
              settings: Mapping[str, object] | None = None, feed: Path | None = None, expect: int | None = 0,
              guard: Path | None = None, cwd: Path = ROOT, timeout: float = 600,
              watch: Callable[[subprocess.Popen[str]], object] | None = None) -> Crawl:
    """Run ``python -m`` with ``command`` (``scrapy crawl generic -a url=…``, ``scrapy runspider
    spider.py``, ``newscrawl run NAME``), ``-s NAME=VALUE`` for each of ``settings``, the log in
    ``log`` and the items exported to ``feed`` (JSON lines) when given; under the recording network
    guard when ``guard`` names its record (checked once the crawl ends). ``expect``: the exit code
    it must end with (``None``: any); ``watch`` is called in a thread with the running process."""
    args = [sys.executable, "-m", *command, *(["-O", str(feed)] if feed else [])]
    for name, value in {**(settings or {}), **({"LOG_FILE": log} if log else {})}.items():
        args += ["-s", f"{name}={value}"]
    process = subprocess.Popen(args, cwd=cwd, env=guarded_env(dict(env), guard) if guard else dict(env),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if watch is not None:
        threading.Thread(target=watch, args=(process,), daemon=True).start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    crawl = Crawl(subprocess.CompletedProcess(args, process.returncode, stdout, stderr),
                  log.read_text(encoding="utf-8") if log and log.exists() else "",
                  [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
                  if feed and feed.suffix == ".jsonl" and feed.exists() else [], env)
    if guard:
        assert_stayed_local(guard)
    assert expect is None or crawl.returncode == expect, crawl.tail()
    return crawl


def write_local_spider(path: Path, *, name: str, base: str, article_pattern: str, listing_path: str,
                       archive_path: str | None = None) -> Path:
    """Write a spider module for a local site in UNIAN's markup; its path."""
    path.write_text(LOCAL_SPIDER.format(name=name, base=base, article_pattern=article_pattern,
                                        listing_path=listing_path, archive_path=archive_path), encoding="utf-8")
    return path


def local_project(tmp_path: Path, base: str, mongo_uri: str, prefix: str, *, archive_path: str | None = None,
                  **extra_env: str) -> tuple[str, dict[str, str]]:
    """A spider for the local site at ``base`` (articles at ``/news/story-<n>-<7-digit id>.html``,
    listings at ``/list?page=N``) that ``python -m newscrawl run`` knows: a settings module adds
    its module to ``SPIDER_MODULES``. Its name and the environment of its runs (``extra_env`` added)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    write_local_spider(tmp_path / f"{name}.py", name=name, base=base, archive_path=archive_path,
                       article_pattern=r"/news/story-\d+-(?P<id>\d{7})\.html$", listing_path="/list?page={page}")
    (tmp_path / f"{name}_settings.py").write_text(
        f"from newscrawl.settings import *  # noqa: F403\n\nSPIDER_MODULES = [*SPIDER_MODULES, {name!r}]  # noqa: F405\n",
        encoding="utf-8")
    env = crawl_env(tmp_path, mongo_uri, prefix, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}",
                    SCRAPY_SETTINGS_MODULE=f"{name}_settings", **extra_env)
    return name, env


def lock_is_free(data: Path, spider: str) -> bool:
    """Whether no process holds the run lock of ``spider`` in the data directory ``data``."""
    with open(data / "locks" / f"{spider}.lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True
