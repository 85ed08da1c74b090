"""The installed package: ``pip install .`` into a fresh virtual environment, then ``newscrawl`` used
from a directory outside the repository, as a new user would.

The environment is made with ``python -m venv``; the package is built from a copy of the sources
and installed with ``pip install --no-deps --no-build-isolation --no-index`` (offline). Its
dependencies are the ones this test runs with, made visible to the new environment by a ``.pth``
file (instead of being downloaded again); ``test_the_declared_dependencies_are_the_imports_and_the_lock``
checks that ``pip install .`` with its dependencies would bring the same packages.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pymongo import MongoClient

import newscrawl
from conftest import FILES, ROOT
from localsite import assert_stayed_local, crawl_env, guarded_env, local_site
from test_api_docs import examples, run_example
from test_generic_crawl import TwoSites
from test_requirements import pinned

#: what `pip install .` reads from the repository
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "newscrawl", "spiders", "pipelines")
PACKAGES = ("newscrawl", "spiders", "pipelines")
#: declared without an import: lxml_html_clean is imported by jusText through lxml, nx-27017 is run as a command
NOT_IMPORTED = {"lxml-html-clean", "nx-27017"}
SAMPLE = FILES / "unian" / "unian-sample.warc.gz"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def imported_distributions() -> set[str]:
    """The distributions whose modules the package imports at run time (not under ``TYPE_CHECKING``)."""
    modules: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                           and ast.unparse(block.test) == "TYPE_CHECKING" for node in ast.walk(block)}
            for node in ast.walk(tree):
                if id(node) in typing_only:
                    continue
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    modules -= set(sys.stdlib_module_names) | set(PACKAGES) | {"__future__"}
    owners = packages_distributions()
    unknown = sorted(module for module in modules if module not in owners)
    assert not unknown, f"imported, but no installed distribution provides them: {unknown}"
    return {canonicalize_name(owners[module][0]) for module in modules}


def test_the_declared_dependencies_are_the_imports_and_the_lock() -> None:
    """``pip install .`` brings every package the code imports, at versions the lock (the tested
    versions) satisfies; and the version is the package's one ``__version__``."""
    declared = {canonicalize_name(Requirement(text).name): Requirement(text)
                for text in pyproject()["project"]["dependencies"]}
    assert set(declared) == imported_distributions() | NOT_IMPORTED
    pins = pinned()
    refused = [f"{name}: {requirement} but the lock pins {pins.get(name)}" for name, requirement in declared.items()
               if name not in pins or not requirement.specifier.contains(pins[name])]
    assert not refused
    assert pyproject()["project"]["dynamic"] == ["version"]
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "newscrawl.__version__"}
    assert f"## {newscrawl.__version__} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def dependency_dirs() -> list[str]:
    """Where the running interpreter finds its installed packages."""
    return [path for path in sys.path if Path(path).name == "site-packages" and Path(path).is_dir()]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the package installed from a copy of the sources."""
    if importlib.util.find_spec("wheel") is None:
        pytest.skip("the wheel package is not installed (pip install --no-deps -r requirements.txt): "
                    "setuptools needs it to build the package offline")
    base = tmp_path_factory.mktemp("install")
    source = base / "source"  # building writes build/ and *.egg-info beside the sources: not in the repository
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=300)
    python = base / "venv" / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "dependencies.pth").write_text("\n".join(dependency_dirs()) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    installed = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                                "--no-cache-dir", str(source)], env=env, capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return base / "venv"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory outside the repository, with no scrapy.cfg."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


def user_env(venv: Path, tmp_path: Path, mongo_uri: str, **extra: str) -> dict[str, str]:
    """A user's environment: the new environment's commands first on PATH, nothing of the repository."""
    env = crawl_env(tmp_path, mongo_uri, "installed")
    env.pop("NEWSCRAWL_DATA_DIR")
    env.pop("PYTHONPATH", None)
    env.update(extra)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def newscrawl_command(venv: Path, elsewhere: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv / "bin" / "newscrawl", *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.crawl
def test_version_and_where_the_package_comes_from(venv: Path, elsewhere: Path, tmp_path: Path, mongo_uri: str) -> None:
    env = user_env(venv, tmp_path, mongo_uri)
    result = newscrawl_command(venv, elsewhere, env, "--version")
    assert result.returncode == 0 and result.stdout == f"newscrawl {newscrawl.__version__}\n"
    found = subprocess.run([venv / "bin" / "python", "-c", "import importlib.metadata as m, newscrawl, spiders, pipelines; "
                            "print(m.version('newscrawl'), newscrawl.__file__, spiders.__file__, pipelines.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert found[0] == newscrawl.__version__
    assert all(Path(path).is_relative_to(venv) for path in found[1:]), found
    usage = newscrawl_command(venv, elsewhere, env, "run", "generic")
    assert usage.returncode == 3 and usage.stdout == "" and usage.stderr == (
        "error: generic needs -a url=https://site/ (comma-separated) or -a urls_file=FILE\n")


@pytest.mark.crawl
def test_a_replay_crawl_from_another_directory(venv: Path, elsewhere: Path, tmp_path: Path, mongo_uri: str) -> None:
    """``newscrawl --data-dir DIR run unian`` with the demo's archive, named relative to the user's directory."""
    shutil.copyfile(SAMPLE, elsewhere / "sample.warc.gz")
    record = tmp_path / "netguard.jsonl"
    env = guarded_env(user_env(venv, tmp_path, mongo_uri), record)
    data = tmp_path / "crawl-data"
    result = newscrawl_command(venv, elsewhere, env, "--data-dir", str(data), "run", "unian",
                               "-s", "NEWSCRAWL_REPLAY=sample.warc.gz")
    assert result.returncode == 0, result.stdout + result.stderr
    logs = sorted((data / "logs" / "unian").glob("*.log"))
    assert len(logs) == 1
    assert result.stdout.splitlines() == [f"unian: crawling, log {logs[0]}",
                                          "unian: finished, 1 parsed, 1 stored, 0 updated, 0 alerts, 0 errors"]
    log = logs[0].read_text(encoding="utf-8")
    assert "replaying 4 archived responses" in log and "(bot: newscrawl)" in log
    assert not (elsewhere / "data").exists()  # everything went to --data-dir
    assert_stayed_local(record)
    with MongoClient(mongo_uri) as client:
        stored = list(client[env["MONGO_DATABASE"]].articles.find({}, {"site": 1, "title": 1}))
        client.drop_database(env["MONGO_DATABASE"])
    assert [(doc["site"], doc["title"]) for doc in stored] == [
        ("unian", "Putin absorbs Belarusian factories to strengthen his army – ISW")]


two_sites = local_site(TwoSites)


@pytest.mark.crawl
def test_a_generic_run_of_a_local_site_and_its_report(venv: Path, elsewhere: Path, tmp_path: Path, mongo_uri: str,
                                                      two_sites: int) -> None:
    """``newscrawl run generic -a url=…`` (data directory from NEWSCRAWL_DATA_DIR), then ``newscrawl
    report``: the run is named by its sites, and the report's window ends at the newest article."""
    env = user_env(venv, tmp_path, mongo_uri, NEWSCRAWL_DATA_DIR=str(tmp_path / "env-data"))
    urls = f"http://127.0.0.1:{two_sites}/,http://localhost:{two_sites}/"
    result = newscrawl_command(venv, elsewhere, env, "run", "generic", "-a", f"url={urls}",
                               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[0].startswith(f"generic: crawling, log {tmp_path / 'env-data' / 'logs' / 'generic'}/")
    assert lines[1:] == ["generic: finished, 4 parsed, 4 stored, 0 updated, 0 alerts, 0 errors"]
    out = elsewhere / "report.html"
    reported = newscrawl_command(venv, elsewhere, env, "report", "--out", "report.html")
    assert reported.returncode == 0, reported.stderr
    page = out.read_text(encoding="utf-8")
    # the newest article (Ukrainska Pravda's page, on 127.0.0.1) is from 2026-01-08: the window ends there
    assert "1 articles of 1 sites published 2025-12-10..2026-01-08 (30 days, Kyiv time; the newest articles" in \
        reported.stderr
    row = re.search(r'<tr data-site="127.0.0.1" data-articles="1">.*?<td class="last-run">([^<]*)</td>', page)
    assert row and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d EES?T ok", row.group(1)), row
    assert "<td>generic (127.0.0.1, localhost)</td>" in page
    runs = newscrawl_command(venv, elsewhere, env, "stats", "--runs").stdout
    assert re.match(r"generic \(127\.0\.0\.1, localhost\) \d{4}-\d\d-\d\d \d\d:\d\d EES?T finished: ", runs), runs
    with MongoClient(mongo_uri) as client:
        client.drop_database(env["MONGO_DATABASE"])


@pytest.mark.crawl
@pytest.mark.parametrize("name", ["parse", "keys", "dates"])
def test_the_api_examples_run_from_another_directory(venv: Path, elsewhere: Path, tmp_path: Path, mongo_uri: str,
                                                     name: str) -> None:
    example = examples()[name]
    result = run_example(example, str(venv / "bin" / "python"), elsewhere, user_env(venv, tmp_path, mongo_uri))
    assert result.returncode == 0, result.stderr
    assert result.stdout == example.output


@pytest.mark.crawl
def test_cron_lines_of_the_installed_command(venv: Path, elsewhere: Path, tmp_path: Path, mongo_uri: str) -> None:
    env = user_env(venv, tmp_path, mongo_uri)
    lines = newscrawl_command(venv, elsewhere, env, "cron", "unian").stdout.splitlines()
    assert lines == [f"0 * * * * cd {elsewhere} && {venv / 'bin' / 'newscrawl'} run unian --quiet"]
    data = tmp_path / "elsewhere-data"
    lines = newscrawl_command(venv, elsewhere, env, "--data-dir", str(data), "cron", "unian").stdout.splitlines()
    assert lines == [f"0 * * * * cd {elsewhere} && {venv / 'bin' / 'newscrawl'} --data-dir {data} run unian "
                     "--quiet"]
