"""The floors of docs/LAYOUT.md, read from the code's imports: each module imports only modules of
its own floor or of the floors below, no modules import each other in a circle, and extraction
needs neither Scrapy nor a database.

Every import counts: at the top of a module, inside a function and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

#: the floors, ground first
FLOORS = ("base", "extract", "store", "crawl", "distributed", "sites", "ops", "project")
#: where each part of the code stands; a module directly in ``newscrawl/`` that is not named here
#: (``__init__``, ``settings``...) is a base module
PLACES = {
    "newscrawl.extract": "extract",
    "newscrawl.store": "store",
    "newscrawl.crawl": "crawl",
    "newscrawl.distributed": "distributed",
    "newscrawl.sites": "sites",
    "newscrawl.ops": "ops",
    "newscrawl.__main__": "ops",
    "spiders": "project",
    "pipelines": "project",
}
#: what extraction never imports: it is a pure function of ``(html, url)``
NOT_IN_EXTRACT = ("scrapy", "twisted", "pymongo", "bson", "redis", "scrapy_redis", "scrapy_playwright")
PACKAGES = ("newscrawl", "spiders", "pipelines")


@dataclass(frozen=True)
class Import:
    """One import of one module: what it names, and where."""

    source: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a ``from`` import names, relative ones resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported(module: str) -> Iterator[tuple[str, int]]:
    """Each module ``module`` imports (project or not) and the line; a name taken from a package is
    its submodule when there is one."""
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            named = absolute(module, node)
            for alias in node.names:
                submodule = f"{named}.{alias.name}"
                yield (submodule if submodule in MODULES else named), node.lineno


def project_imports() -> list[Import]:
    """Every import of one project module by another (once per line)."""
    return list(dict.fromkeys(Import(source, target, MODULES[source], line) for source in MODULES
                              for target, line in imported(source) if target in MODULES and target != source))


def floor(module: str) -> str:
    """The floor ``module`` stands on."""
    for prefix in sorted(PLACES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return PLACES[prefix]
    if module == "newscrawl" or (module.rpartition(".")[0] == "newscrawl" and MODULES[module].name != "__init__.py"):
        return "base"  # the package itself, and its modules outside every subpackage
    raise AssertionError(f"{module} stands on no floor: place its package in PLACES and in docs/LAYOUT.md")


def test_every_module_stands_on_a_floor() -> None:
    assert {floor(module) for module in MODULES} == set(FLOORS)


def test_no_import_runs_up_a_floor() -> None:
    upward = [f"{found} (floor {floor(found.source)} -> {floor(found.target)})" for found in project_imports()
              if FLOORS.index(floor(found.target)) > FLOORS.index(floor(found.source))]
    assert not upward, "imports that run up a floor (docs/LAYOUT.md):\n" + "\n".join(upward)


def circles(imports: list[Import]) -> list[list[str]]:
    """The groups of modules that import each other in a loop (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in imports:
        graph[found.source].add(found.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found_circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found_circles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found_circles


def test_no_modules_import_each_other_in_a_circle() -> None:
    imports = project_imports()
    found = circles(imports)
    described = ["\n".join(str(i) for i in imports if i.source in group and i.target in group) for group in found]
    assert not found, "modules that import each other in a circle:\n" + "\n\n".join(described)


def test_the_checks_place_modules_and_find_circles() -> None:
    assert floor("newscrawl") == floor("newscrawl.settings") == "base"
    assert floor("newscrawl.extract.parser") == "extract" and floor("newscrawl.ops.commands.check") == "ops"
    assert floor("pipelines.store") == floor("spiders.unian") == "project"
    loop = [Import("newscrawl.sites", "newscrawl.ops.cli", MODULES["newscrawl.sites"], 1),
            Import("newscrawl.ops.cli", "newscrawl.sites", MODULES["newscrawl.ops.cli"], 1)]
    assert circles(loop) == [["newscrawl.ops.cli", "newscrawl.sites"]]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if floor(m) == "extract"))
def test_extraction_needs_neither_scrapy_nor_a_database(module: str) -> None:
    third_party = {name for name, _ in imported(module) if name.partition(".")[0] in NOT_IN_EXTRACT}
    assert not third_party, f"{module} imports {sorted(third_party)}"
