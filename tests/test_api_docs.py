"""docs/API.md: every example is run as written, as a script in a directory outside the repository,
and prints exactly the output the page shows under it.

The page each example reads (``page.html``) is the offline demo's English UNIAN article; the
storage example reads a database holding that article, stored through the crawl's pipelines, as
after the demo.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, SITES, read_page, saved_bytes, scratch_storage
from newscrawl.sites import parser_for_url
from newscrawl.store.database import Storage
from test_dedupe_store import Run

DOC = ROOT / "docs" / "API.md"
PAGE = SITES / "unian" / "en-putin-belarus_2023-02-18.reconstructed.html.gz"
PAGE_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"
EXAMPLE = re.compile(r"<!-- example: (?P<name>\w+) -->\n```python\n(?P<code>.*?)```\n(?P<between>.*?)```text\n"
                     r"(?P<output>.*?)```", re.S)


@dataclass(frozen=True)
class Example:
    """One example of the page: its code and what it prints."""

    name: str
    code: str
    output: str


def examples(text: str | None = None) -> dict[str, Example]:
    """The examples of docs/API.md by name."""
    found = EXAMPLE.finditer(text if text is not None else DOC.read_text(encoding="utf-8"))
    return {m["name"]: Example(m["name"], m["code"], m["output"]) for m in found}


def run_example(example: Example, python: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``example`` as a script with ``python`` in ``workdir`` (which gets the demo's page as ``page.html``)."""
    (workdir / "page.html").write_bytes(saved_bytes(PAGE))
    script = workdir / f"{example.name}.py"
    script.write_text(example.code, encoding="utf-8")
    return subprocess.run([python, str(script)], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def demo_storage(mongo_uri: str) -> Iterator[Storage]:
    """A database holding the offline demo's article, stored through the crawl's pipelines."""
    with scratch_storage(mongo_uri, "t_api") as storage:
        run = Run(storage)
        run.feed(parser_for_url(PAGE_URL).parse(read_page(PAGE), PAGE_URL))
        run.finish()
        yield storage


def test_every_python_block_of_the_page_is_an_example_with_its_output() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count("```python") == len(examples()) == 4
    assert set(examples()) == {"parse", "keys", "storage", "dates"}


@pytest.mark.parametrize("name", ["parse", "keys", "storage", "dates"])
def test_the_example_prints_what_the_page_shows(name: str, demo_storage: Storage, tmp_path: Path) -> None:
    workdir = tmp_path / "elsewhere"  # not the repository: the package is found on PYTHONPATH, as installed
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCRAWL_", "MONGO_"))}
    env.update(PYTHONPATH=str(ROOT), MONGO_URI=demo_storage.uri, MONGO_DATABASE=demo_storage.db.name,
               NEWSCRAWL_DATA_DIR=str(tmp_path / "data"))
    result = run_example(examples()[name], sys.executable, workdir, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == examples()[name].output


def test_the_keys_the_page_prints_are_those_stored(demo_storage: Storage) -> None:
    """What ``identify`` gives is what the crawl stored for the same page."""
    printed = examples()["keys"].output.splitlines()
    stored = demo_storage.db.articles.find_one({})
    assert stored is not None
    assert printed[3] == stored["url_key"] and printed[4] == f"{stored['content_hash']} {stored['simhash']}"
