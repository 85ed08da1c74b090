"""Shared test helpers: paths to saved pages and a way to read them."""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from newscrawl.store.database import Storage

ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).resolve().parent / "files"
#: the site fixtures: saved pages (gzipped) with the fields their site parser gives
SITES = Path(__file__).resolve().parent / "sites"
if str(ROOT) not in sys.path:  # `spiders` and `pipelines` are top-level packages of the repo
    sys.path.insert(0, str(ROOT))


def saved_bytes(path: Path) -> bytes:
    """The bytes of a saved page, unpacked when it is gzipped (``.gz``)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def read_page(page: str | Path) -> str:
    """A saved page as text, read as Python reads a UTF-8 text file (every line break a ``\\n``):
    a path relative to tests/files, or a path of its own such as a site fixture's gzipped page."""
    return io.StringIO(saved_bytes(FILES / page).decode("utf-8"), newline=None).read()


#: what the tests must never touch: the data directory an operator of this checkout uses
OPERATOR_DATA = ROOT / "data"


def operator_files() -> set[str]:
    """The files under ``./data`` that a test could have written (the embedded server's own
    journal files come and go while an operator's `newscrawl db` serves them, and are left out)."""
    if not OPERATOR_DATA.is_dir():
        return set()
    return {str(path.relative_to(OPERATOR_DATA)) for path in OPERATOR_DATA.rglob("*")
            if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal", ".log", ".pid"))}


@pytest.fixture(scope="session", autouse=True)
def own_data_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every process of the test run keeps its data in a temporary directory (``NEWSCRAWL_DATA_DIR``
    for the whole run); afterwards, ``./data`` holds no file it did not hold before."""
    before = operator_files()
    directory = tmp_path_factory.mktemp("data")
    previous = os.environ.get("NEWSCRAWL_DATA_DIR")
    os.environ["NEWSCRAWL_DATA_DIR"] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop("NEWSCRAWL_DATA_DIR", None)
        else:
            os.environ["NEWSCRAWL_DATA_DIR"] = previous
    written = sorted(operator_files() - before)
    assert not written, f"the tests wrote into {OPERATOR_DATA}: {written[:10]}"


@pytest.fixture(scope="session")
def files() -> Path:
    """The tests/files directory."""
    return FILES


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MongoDB server for the session: ``MONGO_URI`` when set, else an embedded nx-27017."""
    uri = os.getenv("MONGO_URI")
    if uri:
        yield uri
        return
    from newscrawl.store.server import EmbeddedServer

    server = EmbeddedServer.start(tmp_path_factory.mktemp("mongo"))
    try:
        yield server.uri
    finally:
        server.stop()


@contextmanager
def scratch_storage(mongo_uri: str, prefix: str) -> Iterator[Storage]:
    """An empty database named ``prefix`` and a random suffix, opened, and dropped afterwards."""
    from newscrawl.store.database import open_storage

    name = f"{prefix}_{uuid.uuid4().hex[:6]}"
    opened = open_storage(mongo_uri, name)
    try:
        yield opened
    finally:
        opened.client.drop_database(name)
        opened.close()


@pytest.fixture
def storage(mongo_uri: str, request: pytest.FixtureRequest) -> Iterator[Storage]:
    """An empty database of its own for one test (dropped afterwards)."""
    with scratch_storage(mongo_uri, "t_" + re.sub(r"\W+", "_", request.node.name)[:40]) as opened:
        yield opened
