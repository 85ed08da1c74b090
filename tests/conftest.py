"""Shared test helpers: paths to saved pages and a way to read them."""

from __future__ import annotations

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
if str(ROOT) not in sys.path:  # `spiders` and `pipelines` are top-level packages of the repo
    sys.path.insert(0, str(ROOT))


def read_page(relative: str) -> str:
    """A saved page under tests/files as text (pages are stored as UTF-8)."""
    return (FILES / relative).read_text(encoding="utf-8")


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
