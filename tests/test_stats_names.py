"""Stats names: every counter the project writes or reads is a constant of ``newscrawl/stats.py``.

A name typed as a string could differ from the one its reader uses, and the reader would silently
get 0; so the code holds none outside that module, and the docs, docstrings, comments and tests
(which keep literal names as an independent check) mention only counters it defines.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from conftest import ROOT
from newscrawl import stats

MODULE = ROOT / "newscrawl" / "stats.py"
CODE = [path for folder in ("newscrawl", "pipelines", "spiders", "bench") for path in sorted((ROOT / folder).rglob("*.py"))
        if path != MODULE]
TESTS = [path for path in sorted((ROOT / "tests").glob("*.py")) if path.name != Path(__file__).name]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: a ``newscrawl/...`` mention in text: a stats name (``<what>``, ``*``: any of a family) or a path
MENTION = re.compile(r"(?<![\w./~-])newscrawl/[a-z][\w<>*.]*(?:/[\w<>*.]*)*")
#: the methods of Scrapy's stats collector that take a stats name first
STATS_METHODS = {"inc_value", "set_value", "get_value", "max_value", "min_value"}

CONSTANTS = {name: value for name, value in vars(stats).items() if name.isupper()}
PREFIXES = {value for name, value in CONSTANTS.items() if name.endswith("_PREFIX")}
COUNTERS = set(CONSTANTS.values()) - PREFIXES
SCRAPY_NAMES = {value for value in CONSTANTS.values() if not value.startswith("newscrawl/")}


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of ``tree``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def code_strings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string in the code of ``path`` but its docstrings (f-strings in parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            yield node.lineno, node.value


def starts_with_text(node: ast.expr) -> bool:
    """Whether an expression is a string, or an f-string, that begins with text (not a constant)."""
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
    return isinstance(first, ast.Constant) and isinstance(first.value, str)


def is_path(mention: str) -> bool:
    """Whether a ``newscrawl/...`` mention names a file or folder of the repository."""
    return ".py" in mention or ".md" in mention or (ROOT / mention.rstrip("/.")).exists()


def is_defined(mention: str) -> bool:
    """Whether a stats name as written in text is a counter of the module, one of a family it
    defines (a prefix and what follows), or a family itself (``newscrawl/revisit/<what>``)."""
    name = re.split(r"[<*]", mention.rstrip("."), maxsplit=1)[0]
    families = PREFIXES - {stats.PARSER_COUNT_PREFIX}  # that one is the whole namespace
    if name.endswith("/"):  # a family, written as such or with a placeholder
        return any(value.startswith(name) for value in COUNTERS | families)
    return name in COUNTERS or any(name.startswith(prefix) and name != prefix for prefix in families)


def test_each_stats_name_is_defined_once_with_its_comment() -> None:
    assert len(set(CONSTANTS.values())) == len(CONSTANTS), "two constants name the same counter"
    assert all(prefix.endswith("/") for prefix in PREFIXES)
    assert not any(counter.endswith("/") for counter in COUNTERS)
    lines = MODULE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if re.match(r"[A-Z_]+ = ", line):
            assert lines[number - 1].startswith("#: "), f"stats.py:{number + 1}: no comment says what {line} counts"
            assert re.fullmatch(r'[A-Z_]+ = "[^"]+"', line), f"stats.py:{number + 1}: write the name whole (grep finds it)"


def test_the_code_writes_and_reads_no_stats_name_as_a_string() -> None:
    found = []
    for path in CODE:
        for line, text in code_strings(path):
            mentions = [m for m in MENTION.findall(text) if not is_path(m)]
            if mentions or text in SCRAPY_NAMES:
                found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert not found, "stats names belong in newscrawl/stats.py:\n" + "\n".join(found)


def test_every_stats_call_names_its_counter_by_a_constant() -> None:
    found = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STATS_METHODS \
                    and node.args and starts_with_text(node.args[0]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "name the counter by a constant of newscrawl/stats.py:\n" + "\n".join(found)


def test_docs_docstrings_and_tests_mention_only_defined_stats_names() -> None:
    unknown = []
    for path in [*DOCS, *CODE, *TESTS]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            unknown += [f"{path.relative_to(ROOT)}:{number}: {mention}" for mention in MENTION.findall(line)
                        if not is_path(mention) and not is_defined(mention)]
    assert not unknown, "not a stats name of newscrawl/stats.py:\n" + "\n".join(unknown)


def test_a_misspelt_name_is_caught() -> None:
    assert is_defined("newscrawl/mongo/inserted") and is_defined("newscrawl/blocked/captcha")
    assert is_defined("newscrawl/revisit/<what>") and is_defined("newscrawl/backfill/*") and is_defined("newscrawl/parse_pool/")
    assert not is_defined("newscrawl/mongo/insrted") and not is_defined("newscrawl/blockd/captcha")
    assert not is_defined("newscrawl/revisits/<what>") and not is_defined("newscrawl/parse_pol/")
    assert not is_path("newscrawl/incremental/skipped_stored") and is_path("newscrawl/crawl/spider.py")
