"""The README as a newcomer reads it: small, its links resolve, and its commands print its numbers.

The offline demo and the crawl of command 1 are parsed out of the README's code blocks and run
from the repository root as written (``.venv/bin/`` is this interpreter's directory when the
repository has no ``.venv``; ``-O`` writes into the test's directory). Every number the README's
prose states is one a check below compares with what the commands printed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import FILES, ROOT
from localsite import guarded_env, stats_of

README = ROOT / "README.md"
MAX_BYTES = 10_240
SAMPLE = FILES / "unian/unian-sample.warc.gz"
UK_FEED_URL = "https://www.unian.ua/static/rss/all.xml"
#: numbers in the prose that are names, not figures: the Python version, the sample feed's year, an HTTP status
NOT_FIGURES = {"3.11", "2020", "404"}


def readme() -> str:
    """The README's text."""
    return README.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next ``## ``."""
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def code_lines(text: str) -> list[str]:
    """The lines of the fenced code blocks in ``text``, comments cut off."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
    return [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (each replaced by as many spaces, so offsets stay)."""
    return re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), text, flags=re.S)


def as_run(command: str, out: Path) -> list[str]:
    """A README command as argv: ``.venv/bin/X`` from this interpreter's directory when the
    repository has none, and ``-O FILE`` into ``out``."""
    args = shlex.split(command)
    if args[0].startswith(".venv/bin/") and not (ROOT / args[0]).exists():
        args[0] = str(Path(sys.executable).parent / args[0].removeprefix(".venv/bin/"))
    if "-O" in args:
        args[args.index("-O") + 1] = str(out)
    return args


def wrapped(pattern: str) -> str:
    """``pattern`` matching across the README's line breaks: each space is any run of whitespace."""
    return pattern.replace(" ", r"\s+")


def missing_articles(log: str) -> list[str]:
    """The article pages a crawl got 404 for, in the order logged."""
    return re.findall(r"Ignoring response <404 (https://\S+-\d+\.html)>", log)


def uk_feed_links() -> set[str]:
    """The links of the Ukrainian feed the sample archive holds."""
    from lxml import etree

    from newscrawl.crawl.replay import archive_key, read_warc

    archive = read_warc(SAMPLE)
    feed = etree.fromstring(archive[archive_key(UK_FEED_URL)].body)
    return {link.strip() for link in feed.xpath("//item/link/text()")}


@dataclass
class Run:
    returncode: int
    log: str
    stats: dict[str, Any]
    items: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[tuple[Run, Run, str, str, str]]:
    """The README's offline demo: its crawl twice into one fresh database, then ``stats``,
    ``stats --runs`` and ``report``; both runs, both outputs and the report's page."""
    lines = code_lines(section(readme(), "The offline demo"))
    crawl = next(line for line in lines if "scrapy crawl" in line)
    stats = next(line for line in lines if line.endswith("-m newscrawl stats"))
    report = next(line for line in lines if line.endswith("-m newscrawl report"))
    work = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCRAWL_", "MONGO_"))}
    database = f"readme_{uuid.uuid4().hex[:8]}"
    env.update(MONGO_URI=mongo_uri, MONGO_DATABASE=database, NEWSCRAWL_DATA_DIR=str(work / "data"))
    runs = []
    for number in (1, 2):
        out = work / f"sample{number}.jsonl"
        done = subprocess.run(as_run(crawl, out), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        items = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        runs.append(Run(done.returncode, done.stderr, stats_of(done.stderr), items))
    outputs = [subprocess.run(as_run(command, work / "unused"), cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300, check=True).stdout for command in (stats, stats + " --runs")]
    page = work / "report.html"  # not the README's ./report.html: the test writes in its own directory
    subprocess.run([*as_run(report, work / "unused"), "--out", str(page)], cwd=ROOT, env=env, capture_output=True,
                   timeout=300, check=True)
    yield runs[0], runs[1], outputs[0], outputs[1], page.read_text(encoding="utf-8")
    from pymongo import MongoClient

    with MongoClient(mongo_uri) as client:
        client.drop_database(database)


def test_the_readme_is_a_front_page() -> None:
    assert len(README.read_bytes()) <= MAX_BYTES


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    broken = []
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(page.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken


def test_the_readme_links_every_docs_page() -> None:
    linked = set(re.findall(r"\]\(docs/([^)#]+)\)", readme()))
    assert {page.name for page in (ROOT / "docs").glob("*.md")} <= linked


@pytest.mark.crawl
def test_the_offline_demo_prints_the_readme_numbers(demo: tuple[Run, Run, str, str, str]) -> None:
    first, second, stats, runs, report = demo
    text = section(readme(), "The offline demo")
    checked: list[tuple[int, int]] = []

    def claim(pattern: str, *actual: int, where: str = text) -> None:
        """The numbers ``pattern`` captures in the README are ``actual``."""
        found = re.search(wrapped(pattern), prose(where))
        assert found, f"the README no longer says {pattern!r}"
        stated = tuple(int(group) for group in found.groups())
        assert stated == actual, f"README: {found.group(0)!r}; the commands printed {actual}"
        checked.extend(found.span(i) for i in range(1, len(found.groups()) + 1))

    assert first.returncode == 0 and second.returncode == 0
    # run 1
    held = int(re.search(r"replaying (\d+) archived responses", first.log).group(1))
    claim(r"The archive holds (\d+) responses", held)
    claim(r"`replaying (\d+) archived responses`", held)
    claim(r"`newscrawl/replay/missing: (\d+)`", first.stats["newscrawl/replay/missing"])
    uk_feed = uk_feed_links()
    uk_missing = [url for url in missing_articles(first.log) if url in uk_feed]
    claim(r"the (\d+) article pages the Ukrainian feed links to", len(uk_missing))
    claim(r"crawl yields (\d+) article", len(first.items))
    claim(r"`item_scraped_count: (\d+)`", first.stats["item_scraped_count"])
    assert len(first.items) == first.stats["item_scraped_count"]
    assert re.search(wrapped("one line in `sample.jsonl`"), text) and len(first.items) == 1
    claim(r"`unian: (\d+) articles, newest", int(re.search(r"^unian: (\d+) articles, newest", stats, re.M).group(1)))
    # run 2
    again = text[text.index("Run the crawl again"):]
    offset = len(text) - len(again)

    def claim_again(pattern: str, *actual: int) -> None:
        before = len(checked)
        claim(pattern, *actual, where=again)
        checked[before:] = [(start + offset, end + offset) for start, end in checked[before:]]

    assert second.items == [] and second.stats.get("item_scraped_count", 0) == 0
    claim_again(r"`newscrawl/incremental/skipped_stored: (\d+)`", second.stats["newscrawl/incremental/skipped_stored"])
    still_missing = missing_articles(second.log)
    from_uk_feed = [url for url in still_missing if url in uk_feed]
    on_listing = [url for url in still_missing if url not in uk_feed]
    assert all(url.startswith("https://www.unian.info/") for url in on_listing)
    claim_again(r"the other (\d+) article links \((\d+) from the Ukrainian feed, (\d+) on the English listing\)",
                len(still_missing), len(from_uk_feed), len(on_listing))
    alert = " ".join(re.search(r"`(ALERT unian \[zero_items\]: [^`]*)`", again).group(1).split())
    assert alert in second.log
    claim_again(r"`ALERT unian \[zero_items\]: [^`]*listed (\d+) new links`",
                int(re.search(r"listed (\d+) new links", second.log).group(1)))
    assert alert not in first.log
    # `stats --runs` shows both runs, the newer with the alert
    assert len(re.findall(r"^unian \d{4}-\d\d-\d\d \d\d:\d\d EES?T finished", runs, re.M)) == 2
    assert runs.count("ALERT [zero_items]") == 1
    # the report's article charts end on the article's day, and say why
    assert re.search(wrapped("end on the day of that article, older than the report's window, and say so"), text)
    assert re.findall(r'data-site="unian" data-day="2023-02-18" data-count="(\d+)"', report) == ["1"]
    assert '<p class="moved">No articles published in the 30 days to ' in report

    unchecked = [m.group(0) for m in re.finditer(r"\b\d+(?:\.\d+)?\b", prose(text))
                 if m.group(0) not in NOT_FIGURES and not any(s <= m.start() < e for s, e in checked)]
    assert not unchecked, f"numbers in the README's demo that no check compares: {unchecked}"


@pytest.mark.crawl
def test_command_1_without_network_fails_as_the_readme_says(tmp_path: Path, mongo_uri: str) -> None:
    text = readme()
    command = next(line for line in code_lines(section(text, "Two commands")) if "scrapy crawl" in line)
    crawl = next(part.strip() for part in command.split("&&") if "scrapy crawl" in part)
    out, record = tmp_path / "articles.jsonl", tmp_path / "netguard.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCRAWL_", "MONGO_"))}
    env.update(MONGO_URI=mongo_uri, MONGO_DATABASE=f"readme_{uuid.uuid4().hex[:8]}",
               NEWSCRAWL_DATA_DIR=str(tmp_path / "data"))
    # no waits between requests and retries (politeness: 1 s per request, retries after 2, 4, 8 s):
    # the same lines, sooner
    args = [*as_run(crawl, out), "-s", "NEWSCRAWL_RETRY_BACKOFF_BASE=0.05", "-s", "DOWNLOAD_DELAY=0",
            "-s", "AUTOTHROTTLE_ENABLED=False"]
    done = subprocess.run(args, cwd=ROOT, env=guarded_env(env, record), capture_output=True, text=True, timeout=900)
    log = done.stderr
    said = prose(section(text, "Two commands"))
    stated_code = int(re.search(wrapped(r"exit code (\d+)"), said).group(1))
    assert done.returncode == stated_code
    assert out.exists() and out.read_text(encoding="utf-8") == ""
    assert "Traceback" not in log
    gave_up = [line for line in log.splitlines() if "Gave up retrying <GET" in line]
    assert gave_up and all("ERROR: Gave up retrying" in line and "DNS lookup failed" in line for line in gave_up)
    last = re.search(r"`(ERROR: crawl of unian FAILED: [^`]*?)…\)`", said).group(1)
    assert last in log.strip().splitlines()[-1]
    unchecked = [m.group(0) for m in re.finditer(r"\b\d+(?:\.\d+)?\b", said[said.index("**Without network**"):])
                 if m.group(0) not in NOT_FIGURES]
    assert unchecked == [str(stated_code)]
