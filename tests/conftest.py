"""Shared test helpers: paths to saved pages and a way to read them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
