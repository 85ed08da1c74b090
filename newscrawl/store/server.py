"""The embedded database server: an ``nx-27017`` process (a MongoDB wire-protocol server on
SQLite, from PyPI) serving ``./data/mongo/``, and the one ``python -m newscrawl db`` announces."""

from __future__ import annotations

import ctypes
import json
import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from newscrawl.store.errors import StorageError
from newscrawl.store.files import data_dir

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


#: ``prctl`` option: the signal a process gets when the thread that started it dies (Linux)
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before ``exec``: be sent SIGTERM when the parent dies, however it dies (SIGKILL
    included), so that no server outlives its crawl. A no-op where ``prctl`` does not exist."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


#: ``prctl`` option: the processes a child leaves behind become this process's children
_PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Become the parent of every process that this one's descendants leave behind when they end
    (a crawl's parse forkserver), so that it can wait for them. A no-op where ``prctl`` does not exist."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass


def children() -> set[int]:
    """The pids of this process's children (empty where ``/proc`` does not list them)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").glob("*"):
        try:
            found.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _nx_command() -> str:
    found = shutil.which("nx-27017") or str(Path(sys.executable).with_name("nx-27017"))
    if not Path(found).exists():
        raise StorageError("the embedded MongoDB server nx-27017 is not installed (pip install --no-deps -r requirements.txt)")
    return found


@dataclass
class EmbeddedServer:
    """An ``nx-27017`` process serving the databases in ``directory`` (one SQLite file per database)
    on 127.0.0.1:``port``, with its own pid and log file."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The ``MONGO_URI`` of this server."""
        return f"mongodb://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.directory / f"nx-27017-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"nx-27017-{self.port}.log"

    @classmethod
    def start(cls, directory: Path, port: int | None = None, timeout: float = 30.0) -> EmbeddedServer:
        """Start a server and wait until it answers ``ping``."""
        directory.mkdir(parents=True, exist_ok=True)
        server = cls(directory=directory, port=port or free_port())
        command = [
            _nx_command(), "--data-dir", str(directory), "--port", str(server.port),
            "--pid-file", str(server.pid_file), "--log-file", str(server.log_file),
        ]  # fmt: skip
        # its own session: a Ctrl-C meant for the crawl does not stop the server under it; it dies
        # with the thread that starts it (the main thread, or a storage thread living as long as the crawl)
        server.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise StorageError(f"nx-27017 exited with {server.process.returncode}; see {server.log_file}")
            if ping(server.uri, timeout_ms=300):
                logger.info("started the embedded MongoDB server (nx-27017) at %s, data in %s", server.uri, directory)
                return server
            time.sleep(0.1)
        server.stop()
        raise StorageError(f"nx-27017 did not answer within {timeout:.0f}s; see {server.log_file}")

    def stop(self) -> None:
        """Stop the server (its data file stays)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            logger.info("stopped the embedded MongoDB server at %s", self.uri)
            self.log_file.unlink(missing_ok=True)  # a clean stop; a failed start keeps its log
        self.pid_file.unlink(missing_ok=True)


def ping(uri: str, timeout_ms: int = 1000) -> bool:
    """Whether a MongoDB server answers at ``uri``."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def embedded_dir() -> Path:
    """Where the embedded server keeps its databases (``./data/mongo/<database>.db``)."""
    return data_dir() / "mongo"


def shared_server_file() -> Path:
    """Where ``python -m newscrawl db`` announces the server it keeps running."""
    return data_dir() / "db-server.json"


def shared_server_uri() -> str | None:
    """The URI of a running ``python -m newscrawl db`` server, if one answers."""
    try:
        uri = json.loads(shared_server_file().read_text(encoding="utf-8"))["uri"]
    except (OSError, ValueError, KeyError):
        return None
    return uri if ping(uri) else None
