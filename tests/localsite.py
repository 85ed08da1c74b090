"""Local HTTP sites and crawl subprocesses for the tests (and bench/crawl.py): loopback only.

- :func:`serving` runs a handler class on 127.0.0.1 in a thread and yields its base URL;
- :class:`QuietHandler` is a handler base with :meth:`QuietHandler.reply`;
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
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], address: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``handler`` on a free port of a loopback ``address``; the base URL (no trailing slash)."""
    server = ThreadingHTTPServer((address, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{address}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
