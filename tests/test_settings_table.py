"""The table of setting defaults (newscrawl/defaults.py): docs/SETTINGS.md states it, the code reads it.

Each row is documented with its default and whether the environment sets it; every ``NEWSCRAWL_*``
name the docs or the code mention is a row; no getter writes a default of its own; and
``newscrawl/settings.py`` is built from the table without importing the crawl's modules.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from newscrawl.defaults import SETTINGS, Setting, setting_value

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "SETTINGS.md"
CODE = [path for folder in ("newscrawl", "pipelines", "spiders", "bench") for path in (ROOT / folder).rglob("*.py")]
NAME = re.compile(r"NEWSCRAWL_[A-Z_]+")
#: a getter given a default of its own: ``.getint("NAME", 5)``, ``os.getenv("NAME", "5")``, ``os.getenv("NAME") or 5``
INLINE_DEFAULT = re.compile(r"""(?:\.get(?!priority)\w*|getenv|environ\.get)\(\s*["']([A-Z_]+)["']\s*(?:,|\)\s*or\b)""")
_NUMBER = re.compile(r"(\d[\d ]*(?:\.\d+)?)(?: (s|MiB))?")


def documented_rows() -> dict[str, dict[str, str]]:
    """The rows of the tables of docs/SETTINGS.md by setting name: their cells by column title."""
    rows: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            columns = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not columns:
            columns = cells
        elif not set(cells[0]) <= set("-: "):
            row = dict(zip(columns, cells))
            for name in re.findall(r"`([A-Z_]+)`", cells[0]):
                rows[name] = row
    return rows


def stated(cell: str) -> Any:
    """A default as SETTINGS.md writes it, as a value: ``–`` none, ``on``/``off``, ``0.5 s``,
    ``1 MiB``, ``100 000``, a JSON object, else the text."""
    text = cell.strip("`")
    if text in ("–", ""):
        return None
    if text in ("on", "off"):
        return text == "on"
    number = _NUMBER.fullmatch(text)
    if number:
        value = float(number.group(1).replace(" ", ""))
        return value * 1024 * 1024 if number.group(2) == "MiB" else value
    if text.startswith("{"):
        return json.loads(text)
    return text


def expected(row: Setting) -> Any:
    """The table's default as :func:`stated` reads SETTINGS.md: none for an empty one, numbers as floats."""
    value = row.default
    if value in (None, "", ()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("row", SETTINGS.values(), ids=lambda row: row.name)
def test_each_setting_is_documented_with_its_default(row: Setting) -> None:
    documented = documented_rows()
    assert row.name in documented, f"{row.name} is missing from docs/SETTINGS.md"
    cells = documented[row.name]
    if row.shown:
        assert cells["default"] == row.shown
    else:
        assert stated(cells["default"]) == expected(row), cells["default"]
    where = ("env" if row.scrapy else "env only") if row.environment else ""
    assert cells["env"] == where, f"{row.name}: the env column says {cells['env']!r}"


def test_every_documented_newscrawl_setting_is_in_the_table() -> None:
    unknown = set(NAME.findall(DOCS.read_text(encoding="utf-8"))) - set(SETTINGS)
    assert not unknown, f"docs/SETTINGS.md names settings the table lacks: {sorted(unknown)}"


def test_every_newscrawl_name_in_the_code_is_in_the_table() -> None:
    unknown = set()
    for path in CODE:
        if path.parts[len(ROOT.parts)] == "bench":
            continue
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            # ``NEWSCRAWL_MONGO_*`` names a family of rows
            family = name.endswith("_") and any(known.startswith(name) for known in SETTINGS)
            if name not in SETTINGS and not family:
                unknown.add(f"{path.relative_to(ROOT)}: {name}")
    assert not unknown, sorted(unknown)


def test_no_getter_writes_a_default_of_its_own() -> None:
    inline = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
              for path in CODE if path.name != "defaults.py"
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if any(name in SETTINGS for name in INLINE_DEFAULT.findall(line))]
    assert not inline, "read these with newscrawl.defaults.setting_value:\n" + "\n".join(inline)


def project_imports(path: Path) -> set[str]:
    """The modules of the project that ``path`` imports."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {name for name in modules if name.split(".")[0] in ("newscrawl", "pipelines", "spiders")}


def test_settings_module_imports_only_the_table() -> None:
    assert project_imports(ROOT / "newscrawl" / "defaults.py") == set()
    assert project_imports(ROOT / "newscrawl" / "settings.py") == {"newscrawl", "newscrawl.defaults"}


def test_project_settings_hold_the_table() -> None:
    from newscrawl import settings

    for row in SETTINGS.values():
        if row.scrapy:
            assert getattr(settings, row.name) == setting_value(row.name), row.name
        else:
            assert not hasattr(settings, row.name), f"{row.name} is no Scrapy setting of the project"


def test_a_crawler_without_the_project_settings_gets_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCRAWL_LISTING_PAGES", raising=False)
    settings = get_crawler(settings_dict={"NEWSCRAWL_RECENT_DAYS": "5", "NEWSCRAWL_SITEMAPS": "off"}).settings
    assert setting_value("NEWSCRAWL_LISTING_PAGES", settings) == SETTINGS["NEWSCRAWL_LISTING_PAGES"].default
    assert setting_value("NEWSCRAWL_RECENT_DAYS", settings) == 5
    assert setting_value("NEWSCRAWL_SITEMAPS", settings) is False
    monkeypatch.setenv("NEWSCRAWL_LISTING_PAGES", "7")
    assert setting_value("NEWSCRAWL_LISTING_PAGES", settings) == 7  # the environment, for a setting read from it
    monkeypatch.setenv("NEWSCRAWL_MONGO_BATCH", "7")
    assert setting_value("NEWSCRAWL_MONGO_BATCH", settings) == SETTINGS["NEWSCRAWL_MONGO_BATCH"].default
