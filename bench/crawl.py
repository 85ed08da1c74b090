"""Crawl benchmark: bare Scrapy, the project spider with validation, and the whole crawl into the
embedded database, on the same real-size pages; prints a markdown table.

Run: ``python bench/crawl.py [--pages 1000] [--repeats 3] [--memory-pages 10000,100000] [--json FILE]``.

- Pages: ``bench/crawl_pages.py`` serves, from a process of its own on 127.0.0.1, the real regional
  captures of ``tests/sites/`` and the Fundus pages of ``tests/files/fundus/``, each under many URLs
  with the words of its body redrawn per URL (no two are duplicates or near-duplicates), gzipped,
  and listing pages of 100 links to them. Every timed crawl fetches the same ``--pages`` articles.
- Configurations, each one ``scrapy runspider`` process with 16 concurrent requests (per domain too),
  no download delay, no robots.txt, log level INFO, logs in files:
  1. **bare**: ``bench/crawl_bare_spider.py`` with Scrapy's default settings (fetch, yield URL and
     body length);
  2. **validate**: ``bench/crawl_project_spider.py`` (a newscrawl site spider: site parsers for the
     regional pages, the generic parser for the Fundus pages) with the project's settings, the
     validation pipeline only, no incremental checks, nothing stored;
  3. **full**: the same spider with every pipeline, middleware and extension of the project, into
     an embedded MongoDB (nx-27017) the benchmark starts (a fresh database per crawl).
  They run alternated (1, 2, 3, 1, 2, 3, …), ``--repeats`` times each.
- Figures (``bench/crawl_probe.py``, an extension in each crawl, from spider open to engine stop):
  article pages per second; CPU milliseconds per article page of the crawler process and of the
  nx-27017 process (``/proc``); database commands the crawler sent (pymongo command monitoring)
  per stored article. ``--memory-pages``: full crawls of those sizes, the crawler's peak RSS.

Stdout is the markdown table only; progress goes to stderr, logs to a temporary directory (kept,
and named on stderr, when a crawl fails or with ``--keep``). ``--json FILE`` writes the figures for
``bench/run_all.py``. Not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(HERE)]

from crawl_probe import tree_cpu_seconds  # noqa: E402
from localsite import crawl_env  # noqa: E402

from newscrawl import settings as project  # noqa: E402
from newscrawl.store.server import EmbeddedServer  # noqa: E402

PER_LISTING = 100
CONCURRENCY = 16
PROBE = "crawl_probe.CrawlProbe"


@dataclass(frozen=True)
class Configuration:
    """One way of crawling the site: its spider module and its settings."""

    name: str
    title: str
    spider: Path
    project: bool
    settings: dict[str, object]


CONFIGURATIONS = (
    Configuration("bare", "bare Scrapy spider (fetch, yield url + length)", HERE / "crawl_bare_spider.py", False,
                  {"EXTENSIONS": {PROBE: 0}}),
    Configuration("validate", "project spider + validate, no storage", HERE / "crawl_project_spider.py", True,
                  {"ITEM_PIPELINES": {"pipelines.clean.CleanPipeline": 100}, "NEWSCRAWL_INCREMENTAL": False,
                   "EXTENSIONS": {**project.EXTENSIONS, "newscrawl.ops.runs.RunRecorder": None, PROBE: 0}}),
    Configuration("full", "all pipelines, embedded nx-27017", HERE / "crawl_project_spider.py", True,
                  {"EXTENSIONS": {**project.EXTENSIONS, PROBE: 0}}),
)


@dataclass(frozen=True)
class PageServer:
    """The running page server: its process, base URL and templates (path, size in bytes)."""

    process: subprocess.Popen[str]
    base: str
    templates: list[dict[str, Any]]


@contextmanager
def site_server(prerender: int) -> Iterator[PageServer]:
    """``bench/crawl_pages.py`` in a process of its own, articles ``0..prerender-1`` rendered in advance."""
    process = subprocess.Popen([sys.executable, str(HERE / "crawl_pages.py"), "--prerender", str(prerender)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the page server exited with {process.wait()}")
        ready = json.loads(line)
        yield PageServer(process, ready["base"], ready["templates"])
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class Run:
    """The figures of one crawl."""

    configuration: Configuration
    pages: int
    figures: dict[str, Any]

    @property
    def stats(self) -> dict[str, Any]:
        return self.figures["stats"]

    @property
    def rate(self) -> float:
        return self.pages / self.figures["seconds"]

    @property
    def crawler_ms(self) -> float:
        return 1000 * self.figures["crawler_cpu_seconds"] / self.pages

    @property
    def db_ms(self) -> float:
        return 1000 * self.figures["db_cpu_seconds"] / self.pages

    @property
    def kept(self) -> int:
        """Articles validated (validate) or stored (full)."""
        key = "newscrawl/mongo/inserted" if self.configuration.name == "full" else "item_scraped_count"
        return int(self.stats.get(key, 0))

    @property
    def commands(self) -> int:
        return sum(self.figures["commands"].values())


def crawl(configuration: Configuration, pages: int, site: PageServer, database: EmbeddedServer, work: Path) -> Run:
    """One crawl of ``pages`` article pages; its figures (raises when it did not fetch them all)."""
    work.mkdir(parents=True)
    listings = math.ceil(pages / PER_LISTING)
    settings: dict[str, object] = {
        "LOG_FILE": work / "crawl.log", "LOG_LEVEL": "INFO", "BENCH_PROBE_FILE": work / "probe.json",
        "CONCURRENT_REQUESTS": CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
    }
    site_env = {"BENCH_SITE_URL": site.base, "BENCH_LISTINGS": str(listings)}
    if configuration.project:
        settings.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, ROBOTSTXT_OBEY=False, NEWSCRAWL_SITEMAPS=False,
                        NEWSCRAWL_LISTING_PAGES=listings, BENCH_DB_PID=database.process.pid if database.process else 0)
        env = crawl_env(work, database.uri, f"bench_{configuration.name}", PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]),
                        SCRAPY_SETTINGS_MODULE="newscrawl.settings", NEWSCRAWL_PLAYWRIGHT="0", **site_env)
        cwd = ROOT
    else:  # Scrapy's defaults: no project settings module, no scrapy.cfg above the working directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "NEWSCRAWL_"))}
        env.update(PYTHONPATH=str(HERE), **site_env)
        cwd = work
    settings.update(configuration.settings)
    args = [sys.executable, "-m", "scrapy", "runspider", str(configuration.spider)]
    for name, value in settings.items():
        args += ["-s", f"{name}={json.dumps(value) if isinstance(value, (dict, bool)) else value}"]
    site_cpu = tree_cpu_seconds(site.process.pid)
    with (work / "output.log").open("wb") as output:
        code = subprocess.run(args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False).returncode
    site_cpu = tree_cpu_seconds(site.process.pid) - site_cpu
    probe = work / "probe.json"
    if code or not probe.exists():
        raise RuntimeError(f"{configuration.name} crawl failed (exit {code}); see {work}")
    run = Run(configuration, pages, {**json.loads(probe.read_text(encoding="utf-8")), "site_cpu_seconds": site_cpu})
    fetched = int(run.stats.get("response_received_count", 0)) - listings
    if fetched != pages:
        raise RuntimeError(f"{configuration.name} crawl fetched {fetched} of {pages} article pages; see {work}")
    return run


def spread(values: list[float], digits: int = 1) -> str:
    """``min / median / max``."""
    return " / ".join(f"{value:,.{digits}f}" for value in (min(values), statistics.median(values), max(values)))


def median_run(runs: list[Run]) -> Run:
    """The run with the median number of database commands (the one whose breakdown is shown)."""
    return sorted(runs, key=lambda run: run.commands)[len(runs) // 2]


def commands_cell(runs: list[Run]) -> str:
    """Database commands per kept article (median of the runs), the largest kinds of the median run."""
    if not any(run.commands for run in runs):
        return "0"
    shown = median_run(runs)
    per_article = statistics.median(run.commands / max(1, run.kept) for run in runs)
    kinds = Counter(shown.figures["commands"]).most_common()
    parts = [f"{name} {count / max(1, shown.kept):.2f}" for name, count in kinds[:4]]
    if rest := sum(count for _, count in kinds[4:]):
        parts.append(f"other {rest / max(1, shown.kept):.2f}")
    return f"{per_article:.2f} ({', '.join(parts)})"


def crawl_table(runs: list[Run], site: PageServer, pages: int, repeats: int) -> str:
    """The markdown table of the alternated crawls, with a line on what was crawled."""
    by_name = {c.name: [run for run in runs if run.configuration is c] for c in CONFIGURATIONS}
    bare_rate = statistics.median(run.rate for run in by_name["bare"])
    regional = sum(not t["path"].startswith("generic/") for t in site.templates)
    mean_kb = statistics.mean(t["bytes"] for t in site.templates) / 1024
    listings = pages // PER_LISTING
    lines = [
        f"Each crawl: {pages:,} article pages ({len(site.templates)} real pages: {regional} regional captures read by "
        f"their site parsers, {len(site.templates) - regional} Fundus pages read by the generic parser; "
        f"{mean_kb:,.0f} KB of HTML on average, sent gzipped; each under many URLs with its body's words redrawn) "
        f"and {listings} listing page{'s' if listings > 1 else ''}, from a loopback HTTP server in its own process; "
        f"{CONCURRENCY} concurrent requests; configurations alternated, {repeats} crawls of each; time and CPU "
        f"(/proc) from spider open to engine stop.",
        "",
        "| configuration | pages/s (min / median / max) | share of bare's median rate | crawler CPU ms per page "
        "(min / median / max) | nx-27017 CPU ms per page (min / median / max) | crawler + nx-27017 CPU ms per page "
        "(median) | database commands per stored article (median; by command) | articles kept (min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for configuration in CONFIGURATIONS:
        group = by_name[configuration.name]
        rates = [run.rate for run in group]
        share = f"{statistics.median(rates) / bare_rate:.0%} ({min(rates) / bare_rate:.0%}–{max(rates) / bare_rate:.0%})"
        uses_db = configuration.name == "full"
        db = spread([run.db_ms for run in group]) if uses_db else "—"
        total = statistics.median(run.crawler_ms + (run.db_ms if uses_db else 0) for run in group)
        commands = commands_cell(group) if configuration.project else "—"
        kept = "—" if not configuration.project else \
            f"{min(run.kept for run in group):,} {'stored' if uses_db else 'validated'}"
        lines.append(f"| {configuration.title} | {spread(rates)} | {share} | {spread([run.crawler_ms for run in group])} "
                     f"| {db} | {total:,.1f} | {commands} | {kept} |")
    return "\n".join(lines)


def memory_table(runs: list[Run]) -> str:
    """The markdown table of the memory crawls."""
    lines = ["| articles crawled (all pipelines, embedded nx-27017) | crawler peak RSS | crawler RSS at spider open "
             "| growth from the smallest crawl | pages/s | articles stored |",
             "|---|---|---|---|---|---|"]
    smallest = runs[0].figures["peak_rss_mb"]
    for run in runs:
        peak = run.figures["peak_rss_mb"]
        lines.append(f"| {run.pages:,} | {peak:,.0f} MB | {run.figures['rss_at_open_mb']:,.0f} MB | "
                     f"{peak - smallest:+,.0f} MB | {run.rate:,.1f} | {run.kept:,} |")
    return "\n".join(lines)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--pages", type=int, default=1000, help="article pages a timed crawl (0: memory crawls only)")
    cli.add_argument("--repeats", type=int, default=3, help="crawls of each configuration, alternated")
    cli.add_argument("--memory-pages", default="", help="comma-separated sizes of full crawls for the peak RSS")
    cli.add_argument("--json", type=Path, help="write the figures here")
    cli.add_argument("--keep", action="store_true", help="keep the logs and databases (named on stderr)")
    args = cli.parse_args()
    memory_sizes = sorted(int(n) for n in args.memory_pages.split(",") if n.strip())
    if any(size % PER_LISTING for size in [args.pages, *memory_sizes]):
        cli.error(f"crawl sizes are whole listing pages: multiples of {PER_LISTING}")
    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    failed = True
    try:
        database = EmbeddedServer.start(work / "mongo")
        try:
            with site_server(args.pages) as site:
                runs, memory_runs = [], []
                schedule = [c for _ in range(args.repeats) for c in CONFIGURATIONS] if args.pages else []
                for number, configuration in enumerate(schedule, 1):
                    run = crawl(configuration, args.pages, site, database, work / f"{number:02d}-{configuration.name}")
                    runs.append(run)
                    print(f"crawl {number}/{len(schedule)} ({configuration.name}): {run.rate:,.1f} pages/s, CPU ms per "
                          f"page: crawler {run.crawler_ms:,.1f}, nx-27017 {run.db_ms:,.1f}, "
                          f"page server {1000 * run.figures['site_cpu_seconds'] / run.pages:,.1f}",
                          file=sys.stderr, flush=True)
                full = CONFIGURATIONS[-1]
                for size in memory_sizes:
                    run = crawl(full, size, site, database, work / f"memory-{size}")
                    memory_runs.append(run)
                    print(f"memory crawl of {size:,}: peak RSS {run.figures['peak_rss_mb']:,.0f} MB",
                          file=sys.stderr, flush=True)
        finally:
            database.stop()
        tables = ([crawl_table(runs, site, args.pages, args.repeats)] if runs else []) + \
            ([memory_table(memory_runs)] if memory_runs else [])
        print("\n\n".join(tables))
        if args.json:
            args.json.write_text(json.dumps(figures(runs, memory_runs), indent=2), encoding="utf-8")
        failed = False
    finally:
        if failed or args.keep:
            print(f"logs and databases kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def figures(runs: list[Run], memory_runs: list[Run]) -> dict[str, Any]:
    """The figures ``bench/run_all.py`` reads: median rates per configuration and the memory crawls."""
    medians = {c.name: statistics.median(run.rate for run in runs if run.configuration is c) for c in CONFIGURATIONS} \
        if runs else {}
    full = [run for run in runs if run.configuration.name == "full"]
    return {
        "pages": runs[0].pages if runs else 0,
        "pages_per_s": medians,
        "bare_pages_per_s": medians.get("bare", 0),
        "newscrawl_pages_per_s": medians.get("full", 0),
        "ratio": medians["full"] / medians["bare"] if runs else 0,
        "commands_per_article": statistics.median(run.commands / max(1, run.kept) for run in full) if full else 0,
        "runs": [{"configuration": run.configuration.name, "pages_per_s": run.rate, "crawler_cpu_ms": run.crawler_ms,
                  "db_cpu_ms": run.db_ms,
                  "site_cpu_ms": 1000 * run.figures["site_cpu_seconds"] / run.pages, "kept": run.kept, "commands": run.figures["commands"]} for run in runs],
        "peak_rss_mb": {run.pages: run.figures["peak_rss_mb"] for run in memory_runs},
    }


if __name__ == "__main__":
    main()
