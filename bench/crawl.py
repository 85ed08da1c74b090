"""Crawl benchmark, per kind of page: bare Scrapy, the hand-written peer and the whole newscrawl crawl
into the embedded database, on the same real-size pages; prints one markdown table per kind.

Run: ``python bench/crawl.py [--pages 1000] [--repeats 3] [--kinds regional,generic]
[--configurations bare,peer,full] [--memory-pages 10000,100000] [--json FILE]``.

- Pages: ``bench/crawl_pages.py`` serves, from a process of its own on 127.0.0.1, one kind of page
  at a time: ``regional`` (the real regional captures of ``tests/sites/``, read by their site
  parsers) or ``generic`` (the Fundus pages of ``tests/files/fundus/``, read by the generic parser),
  each under many URLs with the words of its body redrawn per URL (no two are duplicates or
  near-duplicates), gzipped, and listing pages of 100 links to them. Every timed crawl of a kind
  fetches the same ``--pages`` articles.
- Configurations, each one ``scrapy runspider`` process with 16 concurrent requests (per domain too),
  no download delay, no robots.txt, log level INFO, logs in files:
  - **bare**: ``bench/crawl_bare_spider.py`` with Scrapy's default settings (fetch, yield URL and
    body length);
  - **peer**: ``bench/crawl_peer_spider.py``, the spider a user writes instead: Scrapy's defaults,
    the site's parser (regional) or plain ``trafilatura.extract(html)`` (generic) in the callback,
    nothing stored;
  - **full**: ``bench/crawl_project_spider.py`` (a newscrawl site spider: site parsers for the
    regional pages, the generic parser for the Fundus pages) with every pipeline, middleware and
    extension of the project, into an embedded MongoDB (nx-27017) the benchmark starts;
  - on request: **inline**, the same with ``NEWSCRAWL_PARSE_WORKERS=0`` (one core: pages parsed in
    the crawler's process); **embedded**, the same with ``MONGO_URI`` unset, so that the crawl
    starts its own nx-27017 as ``scrapy crawl`` does on a fresh machine; **validate**, the project spider with the validation pipeline only,
    no incremental checks, nothing stored.
  They run alternated (bare, peer, full, bare, …), ``--repeats`` times each, one kind after the other.
- Figures (``bench/crawl_probe.py``, an extension in each crawl, from spider open to engine stop):
  article pages per second; CPU milliseconds per kept article (stored by full and inline, validated
  by validate, parsed by peer, fetched by bare) of each process: the crawler's main process, its
  parse workers, the nx-27017 server (``/proc``); database commands the crawler sent (pymongo
  command monitoring) per stored article. ``--memory-pages``: full crawls of those sizes (all
  kinds of page), the crawler's peak RSS.

Stdout is the markdown tables only; progress goes to stderr, logs to a temporary directory (kept,
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
import time
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
from newscrawl.stats import ITEMS_SCRAPED, MONGO_INSERTED, RESPONSES_RECEIVED  # noqa: E402
from newscrawl.store.server import EmbeddedServer  # noqa: E402

PER_LISTING = 100
CONCURRENCY = 16
#: the probe is the first extension made: its command listener must exist before any extension opens a MongoDB client
PROBE = "crawl_probe.CrawlProbe"


@dataclass(frozen=True)
class Configuration:
    """One way of crawling the site: its spider module and its settings."""

    name: str
    title: str
    spider: Path
    project: bool
    settings: dict[str, object]


CONFIGURATIONS = {configuration.name: configuration for configuration in (
    Configuration("bare", "bare Scrapy spider (fetch, yield url + length)", HERE / "crawl_bare_spider.py", False,
                  {"EXTENSIONS": {PROBE: -1}}),
    Configuration("peer", "hand-written peer (site parser / trafilatura.extract in the callback)",
                  HERE / "crawl_peer_spider.py", False, {"EXTENSIONS": {PROBE: -1}}),
    Configuration("validate", "project spider + validate, no storage", HERE / "crawl_project_spider.py", True,
                  {"ITEM_PIPELINES": {"pipelines.clean.CleanPipeline": 100}, "NEWSCRAWL_INCREMENTAL": False,
                   "EXTENSIONS": {**project.EXTENSIONS, "newscrawl.ops.runs.RunRecorder": None, PROBE: -1}}),
    Configuration("full", "newscrawl: all pipelines, embedded nx-27017", HERE / "crawl_project_spider.py", True,
                  {"EXTENSIONS": {**project.EXTENSIONS, PROBE: -1}}),
    Configuration("inline", "newscrawl, parsed in the crawler's process (NEWSCRAWL_PARSE_WORKERS=0)",
                  HERE / "crawl_project_spider.py", True,
                  {"EXTENSIONS": {**project.EXTENSIONS, PROBE: -1}, "NEWSCRAWL_PARSE_WORKERS": 0}),
    Configuration("embedded", "newscrawl, MONGO_URI unset: the crawl starts its own nx-27017 (its CPU in the "
                  "parse workers' column)", HERE / "crawl_project_spider.py", True,
                  {"EXTENSIONS": {**project.EXTENSIONS, PROBE: -1}}),
)}
STORING = ("full", "inline", "embedded")
KINDS = {"regional": "regional captures read by their site parsers", "generic": "Fundus pages read by the generic parser"}


@dataclass(frozen=True)
class PageServer:
    """The running page server: its process, base URL and templates (path, size in bytes)."""

    process: subprocess.Popen[str]
    base: str
    templates: list[dict[str, Any]]


@contextmanager
def site_server(kind: str, prerender: int) -> Iterator[PageServer]:
    """``bench/crawl_pages.py`` serving ``kind`` pages in a process of its own, articles ``0..prerender-1``
    rendered in advance."""
    process = subprocess.Popen([sys.executable, str(HERE / "crawl_pages.py"), "--kind", kind, "--prerender",
                                str(prerender)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
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
    def kept(self) -> int:
        """Articles stored (full, inline, embedded), else the items scraped (validated, parsed or fetched)."""
        key = MONGO_INSERTED if self.configuration.name in STORING else ITEMS_SCRAPED
        return int(self.stats.get(key, 0))

    def cpu_ms(self, part: str) -> float:
        """CPU milliseconds per kept article of ``main`` (the crawler's process), ``workers`` (its
        children: the parse workers), ``db`` (nx-27017) or ``total``."""
        main = self.figures["crawler_main_cpu_seconds"]
        seconds = {"main": main, "workers": self.figures["crawler_cpu_seconds"] - main,
                   "db": self.figures["db_cpu_seconds"] if self.configuration.name in STORING else 0.0}
        seconds["total"] = sum(seconds.values())
        return 1000 * seconds[part] / max(1, self.kept)

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
        if configuration.name == "embedded":
            del env["MONGO_URI"]
            settings["BENCH_DB_PID"] = 0
        cwd = ROOT
    else:  # Scrapy's defaults: no project settings module, no scrapy.cfg above the working directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "NEWSCRAWL_"))}
        env.update(PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]), **site_env)
        cwd = work
    settings.update(configuration.settings)
    args = [sys.executable, "-m", "scrapy", "runspider", str(configuration.spider)]
    for name, value in settings.items():
        args += ["-s", f"{name}={json.dumps(value) if isinstance(value, (dict, bool)) else value}"]
    site_cpu = tree_cpu_seconds(site.process.pid)
    started = time.monotonic()
    with (work / "output.log").open("wb") as output:
        code = subprocess.run(args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False).returncode
    process_seconds = time.monotonic() - started
    site_cpu = tree_cpu_seconds(site.process.pid) - site_cpu
    probe = work / "probe.json"
    if code or not probe.exists():
        raise RuntimeError(f"{configuration.name} crawl failed (exit {code}); see {work}")
    run = Run(configuration, pages, {**json.loads(probe.read_text(encoding="utf-8")), "site_cpu_seconds": site_cpu,
                                     "process_seconds": process_seconds})
    fetched = int(run.stats.get(RESPONSES_RECEIVED, 0)) - listings
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


def crawl_table(kind: str, runs: list[Run], site: PageServer, pages: int, repeats: int) -> str:
    """The markdown table of one kind's alternated crawls, with a line on what was crawled."""
    by_name = {name: group for name in CONFIGURATIONS if (group := [run for run in runs if run.configuration.name == name])}
    baselines = {name: statistics.median(run.rate for run in by_name[name]) for name in ("bare", "peer") if name in by_name}
    peer_cpu = statistics.median(run.cpu_ms("total") for run in by_name["peer"]) if "peer" in by_name else 0.0
    mean_kb = statistics.mean(t["bytes"] for t in site.templates) / 1024
    listings = pages // PER_LISTING
    lines = [
        f"**{kind.capitalize()} pages.** Each crawl: {pages:,} article pages ({len(site.templates)} real pages, "
        f"{KINDS[kind]}; {mean_kb:,.0f} KB of HTML on average, sent gzipped; each under many URLs with its body's "
        f"words redrawn) and {listings} listing page{'s' if listings > 1 else ''}, from a loopback HTTP server in its "
        f"own process; {CONCURRENCY} concurrent requests; configurations alternated, {repeats} crawls of each; time "
        f"and CPU (/proc) from spider open to engine stop. CPU per kept article: stored (newscrawl), parsed (peer), "
        f"fetched (bare).",
        "",
        "| configuration | pages/s (min / median / max) | × bare (median) | × peer (median) | CPU ms per kept article: "
        "crawler process (median) | parse workers (median) | nx-27017 (median) | total (min / median / max) "
        "| total × peer's | database commands per stored article (median; by command) | articles kept (min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, group in by_name.items():
        configuration = CONFIGURATIONS[name]
        rates = [run.rate for run in group]
        ratios = [f"{statistics.median(rates) / baselines[base]:.2f}×" if base in baselines else "—" for base in ("bare", "peer")]
        parts = [f"{statistics.median(run.cpu_ms(part) for run in group):,.1f}" for part in ("main", "workers", "db")]
        totals = [run.cpu_ms("total") for run in group]
        against_peer = f"{statistics.median(totals) / peer_cpu:.2f}×" if peer_cpu else "—"
        commands = commands_cell(group) if configuration.project else "—"
        kept = f"{min(run.kept for run in group):,}"
        lines.append(f"| {configuration.title} | {spread(rates)} | {' | '.join(ratios)} | {' | '.join(parts)} "
                     f"| {spread(totals)} | {against_peer} | {commands} | {kept} |")
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
    cli.add_argument("--kinds", default=",".join(KINDS), help=f"kinds of page, one table each: {', '.join(KINDS)}")
    cli.add_argument("--configurations", default="bare,peer,full",
                     help=f"configurations, in the order they alternate: {', '.join(CONFIGURATIONS)}")
    cli.add_argument("--memory-pages", default="", help="comma-separated sizes of full crawls for the peak RSS")
    cli.add_argument("--json", type=Path, help="write the figures here")
    cli.add_argument("--keep", action="store_true", help="keep the logs and databases (named on stderr)")
    args = cli.parse_args()
    memory_sizes = sorted(int(n) for n in args.memory_pages.split(",") if n.strip())
    kinds = [kind for kind in args.kinds.split(",") if kind]
    chosen = [name for name in args.configurations.split(",") if name]
    if unknown := sorted(set(kinds) - set(KINDS)) + sorted(set(chosen) - set(CONFIGURATIONS)):
        cli.error(f"unknown kind or configuration: {', '.join(unknown)}")
    if any(size % PER_LISTING for size in [args.pages, *memory_sizes]):
        cli.error(f"crawl sizes are whole listing pages: multiples of {PER_LISTING}")
    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    failed = True
    try:
        database = EmbeddedServer.start(work / "mongo")
        try:
            tables, runs = [], {}
            for kind in kinds if args.pages else []:
                with site_server(kind, args.pages) as site:
                    runs[kind] = alternated(kind, [CONFIGURATIONS[name] for name in chosen], args, site, database, work)
                    tables.append(crawl_table(kind, runs[kind], site, args.pages, args.repeats))
            memory_runs = []
            if memory_sizes:
                with site_server("all", 0) as site:
                    for size in memory_sizes:
                        run = crawl(CONFIGURATIONS["full"], size, site, database, work / f"memory-{size}")
                        memory_runs.append(run)
                        print(f"memory crawl of {size:,}: peak RSS {run.figures['peak_rss_mb']:,.0f} MB",
                              file=sys.stderr, flush=True)
                tables.append(memory_table(memory_runs))
        finally:
            database.stop()
        print("\n\n".join(tables))
        if args.json:
            args.json.write_text(json.dumps(figures(runs, memory_runs), indent=2), encoding="utf-8")
        failed = False
    finally:
        if failed or args.keep:
            print(f"logs and databases kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def alternated(kind: str, chosen: list[Configuration], args: argparse.Namespace, site: PageServer,
               database: EmbeddedServer, work: Path) -> list[Run]:
    """``args.repeats`` crawls of each chosen configuration over ``kind`` pages, alternated."""
    runs = []
    schedule = [configuration for _ in range(args.repeats) for configuration in chosen]
    for number, configuration in enumerate(schedule, 1):
        run = crawl(configuration, args.pages, site, database, work / f"{kind}-{number:02d}-{configuration.name}")
        runs.append(run)
        print(f"{kind} crawl {number}/{len(schedule)} ({configuration.name}): {run.rate:,.1f} pages/s, CPU ms per "
              f"kept article: crawler {run.cpu_ms('main'):,.1f}, parse workers {run.cpu_ms('workers'):,.1f}, "
              f"nx-27017 {run.cpu_ms('db'):,.1f}; page server {1000 * run.figures['site_cpu_seconds'] / run.pages:,.1f}; "
              f"{run.figures['seconds']:,.1f} s from spider open to engine stop, {run.figures['process_seconds']:,.1f} s "
              f"the whole process",
              file=sys.stderr, flush=True)
    return runs


def figures(runs: dict[str, list[Run]], memory_runs: list[Run]) -> dict[str, Any]:
    """The figures ``bench/run_all.py`` reads: per kind, median rates and CPU per configuration; the memory crawls."""
    per_kind = {}
    for kind, group in runs.items():
        names = dict.fromkeys(run.configuration.name for run in group)
        medians = {name: statistics.median(run.rate for run in group if run.configuration.name == name) for name in names}
        cpu = {name: statistics.median(run.cpu_ms("total") for run in group if run.configuration.name == name) for name in names}
        full = [run for run in group if run.configuration.name == "full"]
        per_kind[kind] = {
            "pages": group[0].pages, "pages_per_s": medians, "cpu_ms_per_article": cpu,
            "commands_per_article": statistics.median(run.commands / max(1, run.kept) for run in full) if full else 0,
            "runs": [{"configuration": run.configuration.name, "pages_per_s": run.rate, "kept": run.kept,
                      **{f"{part}_cpu_ms": run.cpu_ms(part) for part in ("main", "workers", "db", "total")},
                      "site_cpu_ms": 1000 * run.figures["site_cpu_seconds"] / run.pages, "commands": run.figures["commands"]}
                     for run in group],
        }
    return {"kinds": per_kind, "peak_rss_mb": {run.pages: run.figures["peak_rss_mb"] for run in memory_runs}}


if __name__ == "__main__":
    main()
