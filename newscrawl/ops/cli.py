"""Command line (``newscrawl``, or ``python -m newscrawl`` in a checkout): crawl for cron; parse a saved
page; serve, inspect, query and export the article database.

Global options: ``--version``; ``--data-dir DIR`` (else ``NEWSCRAWL_DATA_DIR``, else ``./data``): the
embedded database, logs, locks and spill files.

- ``parse --url URL FILE``: one saved page → one article as JSON.
- ``record --url URL FILE``: save a page as a site fixture (``tests/sites/<site>/``) with its parsed fields.
- ``db [--port 27017]``: keep the embedded MongoDB serving; prints the ``MONGO_URI`` to use.
- ``stats``: per site count, newest, oldest and per-field fill rate.
- ``query --site unian --since 2023-02-01 --until 2023-02-28 --tag T --limit N``: JSON lines.
- ``export --format jsonl|csv --out FILE`` (same filters as ``query``).
- ``stats --runs [N]``: the newest runs of each spider (``crawl_runs``) with their alerts.
- ``stats --failed [RUN]``: the failed article pages of a run (default: each spider's newest) and why.
- ``run SPIDER|--all [--since D --until D] [-a NAME=VALUE…]``: a crawl for cron (lock, log file, exit code
  0/1/2/3); ``-a`` passes spider arguments as ``scrapy crawl -a`` does; on a terminal, one live progress line.
- ``cron [SPIDER…] [--every MINUTES]``: crontab lines for the site spiders.
- ``flush-spill``: write articles spilled to ``./data/spill/`` during a database outage.
- ``report [--out report.html] [--days 30] [--site S]``: one HTML page of articles, fill rates, runs and alerts.
- ``edits [--site S] [--since DATE] [--field F] [--removed]``: articles changed (or removed) after
  publication, as JSON lines with a word diff per changed field.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from pymongo.errors import PyMongoError

from newscrawl import __version__
from newscrawl.crawl.integrity import BoundedGunzip, decompression_limit
from newscrawl.defaults import setting_value
from newscrawl.extract.dates import parse_date
from newscrawl.extract.encoding import decoded_text
from newscrawl.extract.parser import NotAnArticle
from newscrawl.ops.clock import UnknownZone, display_zone, local_time
from newscrawl.ops.query import article_filter, find_articles, recent_runs, runs_with_failures, site_stats, write_articles
from newscrawl.sites import parser_for_url
from newscrawl.store.database import Storage, open_storage
from newscrawl.store.errors import StorageError
from newscrawl.store.files import data_dir, to_json_line
from newscrawl.store.server import EmbeddedServer, embedded_dir, free_port, port_is_free, shared_server_file
from newscrawl.store.sink import ArticleSink

#: the exit code of a bad argument (as ``run``'s configuration errors)
BAD_ARGUMENT = 3


class BadArgument(Exception):
    """An argument the command cannot use; its message names it."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits with :data:`BAD_ARGUMENT`."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_ARGUMENT, f"error: {self.prog}: {message} (see --help)\n")


def _read_html(path: Path) -> str:
    """The page saved at ``path``; a ``.gz`` one decompressed up to ``DOWNLOAD_MAXSIZE``, as a crawl would."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        packed = BoundedGunzip(data, decompression_limit(setting_value("DOWNLOAD_MAXSIZE")))
        data = packed.read()
        if not (packed.complete or packed.cut):
            raise OSError("not a whole gzip file")
    return decoded_text(data)


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse one saved page with the parser of its URL's site; print the article as JSON."""
    try:
        html = _read_html(Path(args.file))
    except OSError as exc:
        raise BadArgument(f"cannot read {args.file}: {exc.strerror or exc}") from None
    fetched_at = datetime.now(timezone.utc)
    if args.fetched_at:
        fetched_at = parse_date(args.fetched_at, tz="UTC")
        if fetched_at is None:
            raise BadArgument(f"--fetched-at {args.fetched_at!r} is not a plausible date")
    try:
        article = parser_for_url(args.url).parse(html, args.url, fetched_at=fetched_at,
                                                 max_bytes=setting_value("NEWSCRAWL_PARSE_MAX_BYTES"))
    except NotAnArticle as exc:
        print(f"error: not an article: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(article.to_json_dict(), ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Save a page as a site fixture with the fields its parser gives now, for review (or re-record one)."""
    from newscrawl.ops import site_fixtures

    fetched_at = parse_date(args.fetched_at, tz="UTC") if args.fetched_at else None
    if args.fetched_at and fetched_at is None:
        raise BadArgument(f"--fetched-at {args.fetched_at!r} is not a plausible date")
    try:
        fixture = site_fixtures.record_file(Path(args.file), url=args.url, fetched_at=fetched_at, site=args.site,
                                            name=args.name, note=args.note, root=Path(args.dir or site_fixtures.SITES_DIR))
    except NotAnArticle as exc:
        print(f"error: not an article: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {fixture.page_path} and {fixture.json_path}: review every value against the page, then run "
          "pytest tests/test_site_fixtures.py", file=sys.stderr)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    """Serve the embedded database until interrupted; announce it so crawls use it."""
    port = args.port if port_is_free(args.port) else free_port()
    server = EmbeddedServer.start(embedded_dir(), port)
    announcement = shared_server_file()
    announcement.write_text(json.dumps({"uri": server.uri, "pid": os.getpid()}), encoding="utf-8")
    print(f"MONGO_URI={server.uri}", flush=True)
    print(f"serving the databases in {server.directory}; Ctrl-C stops it", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("nx-27017 answers some MongoDB queries differently: see docs/QUERYING.md for the forms that work", flush=True)
    try:
        while not stop.wait(1.0):
            if server.process and server.process.poll() is not None:
                print("error: the database server exited", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        announcement.unlink(missing_ok=True)
        server.stop()
    return 0


def _zone() -> ZoneInfo:
    """The time zone of the days and times the commands read and print (``NEWSCRAWL_TIMEZONE``)."""
    try:
        return display_zone()
    except UnknownZone as exc:
        raise BadArgument(str(exc)) from None


def _day(args: argparse.Namespace, name: str) -> datetime | None:
    """The day given as ``--since``/``--until`` (midnight in ``NEWSCRAWL_TIMEZONE``, Kyiv by default);
    exits with an error if it is not a date."""
    value = getattr(args, name)
    if not value:
        return None
    day = parse_date(value, tz=_zone().key)
    if day is None:
        raise BadArgument(f"--{name} {value!r} is not a date")
    return day


def _filter(args: argparse.Namespace) -> dict[str, Any]:
    """The articles filter of --site/--language/--tag/--since/--until."""
    return article_filter(site=args.site, language=args.language, tag=args.tag,
                          first_day=_day(args, "since"), last_day=_day(args, "until"))


def cmd_query(args: argparse.Namespace) -> int:
    """Print matching articles as JSON lines, newest first."""
    wanted = _filter(args)
    storage = open_storage()
    try:
        for doc in find_articles(storage, wanted, args.limit):
            print(to_json_line(doc))
    finally:
        storage.close()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write matching articles to a JSON-lines or CSV file."""
    wanted = _filter(args)
    storage = open_storage()
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            count = write_articles(find_articles(storage, wanted, args.limit), out, args.format)
    finally:
        storage.close()
    print(f"exported {count} articles to {args.out}", file=sys.stderr)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print per-site statistics (a table, or JSON with --json)."""
    _zone()  # a bad NEWSCRAWL_TIMEZONE is one line before the database is opened
    storage = open_storage()
    try:
        if args.failed is not None:
            return _print_failed(storage, args.failed, args.json)
        if args.runs:
            return _print_runs(storage, args.runs, args.json)
        rows = site_stats(storage)
    finally:
        storage.close()
    if args.json:
        for row in rows:
            print(to_json_line(row))
        return 0
    zone = _zone()
    for row in rows:
        newest, oldest = (local_time(row[end], zone) if row[end] else "–" for end in ("newest", "oldest"))
        print(f"{row['site']}: {row['articles']} articles, newest {newest}, oldest {oldest}")
        print("  fill rate: " + ", ".join(f"{k} {v:.0%}" for k, v in row["fill_rate"].items()))
    return 0


def _print_runs(storage: Storage, per_spider: int, as_json: bool) -> int:
    """The newest runs of each spider with their alerts (the workers of a shared crawl as one run),
    times in ``NEWSCRAWL_TIMEZONE``."""
    zone = _zone()
    printed = 0
    for run in recent_runs(storage, per_spider):
        printed += 1
        if as_json:
            print(to_json_line(run))
            continue
        items = run["items"]
        sites = run.get("sites") or [run["spider"]]
        name = run["spider"] if sites == [run["spider"]] else f"{run['spider']} ({', '.join(sites)})"
        if run.get("workers", 1) > 1:
            name += f" ({run['workers']} workers)"
        print(f"{name} {local_time(run['started_at'], zone)} {run['finish_reason']}: {run['pages']} pages, "
              f"{items['parsed']} parsed, {items['stored']} stored, {items['updated']} updated, "
              f"{sum(items['dropped'].values())} dropped, {run['errors']} errors")
        outcome = run.get("outcome") or {}
        if outcome.get("code"):
            print(f"  FAILED: {outcome['cause']}")
        for alert in run["alerts"]:
            print(f"  ALERT [{alert['rule']}] {alert['message']}")
    if not printed:
        print("no crawl runs recorded yet", file=sys.stderr)
    return 0


def _print_failed(storage: Storage, run_id: str, as_json: bool) -> int:
    """The failed article pages of a run (by id prefix), or of each spider's newest run, with their reasons."""
    zone = _zone()
    found = False
    for run in runs_with_failures(storage, run_id):
        found = True
        failed = run.get("failed_pages") or {"pages": [], "more": 0}
        if as_json:
            for page in failed["pages"]:
                print(to_json_line({"run_id": run["_id"], "spider": run["spider"], **page}))
            continue
        total = len(failed["pages"]) + failed["more"]
        print(f"{run['spider']} run {run['_id'][:12]} {local_time(run['started_at'], zone)}: {total} failed pages")
        for page in failed["pages"]:
            print(f"  {page['url']}  {page['reason']}")
        if failed["more"]:
            print(f"  … and {failed['more']} more (only the first {len(failed['pages'])} are kept)")
    if not found:
        raise BadArgument(f"no run {run_id!r}" if run_id else "no crawl runs recorded yet")
    return 0


def spider_arguments(pairs: list[str]) -> dict[str, str]:
    """The ``-a NAME=VALUE`` arguments as a dict (the last of a name wins, as in ``scrapy crawl``)."""
    arguments = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise BadArgument(f"-a {pair!r}: expected NAME=VALUE, e.g. -a editions=en")
        arguments[name.strip()] = value
    return arguments


def check_spider_arguments(name: str, arguments: dict[str, str]) -> None:
    """Raise :class:`BadArgument` when the spider ``name`` refuses ``arguments`` (a missing ``url``
    of ``generic``, an unknown edition, ``render=1`` without a browser), before anything is started."""
    from scrapy.utils.project import get_project_settings

    from newscrawl.sites import site_spiders

    for spider in site_spiders():
        if spider.name == name and (problem := spider.argument_problem(get_project_settings(), **arguments)):
            raise BadArgument(problem)


def cmd_run(args: argparse.Namespace) -> int:
    """Run one spider (or all) for cron: lock, log file, exit code."""
    from newscrawl.ops.cron import run_spiders
    from newscrawl.sites import site_spiders

    if args.all == bool(args.spider):
        raise BadArgument("name one spider or give --all")
    arguments = spider_arguments(args.spider_args)
    for day in ("since", "until"):  # -a since=D is --since D: one window, checked once
        if day in arguments:
            if getattr(args, day):
                raise BadArgument(f"give --{day} or -a {day}=, not both")
            setattr(args, day, arguments.pop(day))
    names = [s.name for s in site_spiders() if s.name != "generic"] if args.all else [args.spider]
    for name in names:
        check_spider_arguments(name, arguments)
    if args.quiet:  # cron mails what is printed: only a failure or an alert
        logging.getLogger("newscrawl").setLevel(logging.ERROR)
    else:  # run names the embedded server it starts in its own lines
        logging.getLogger("newscrawl.store.server").setLevel(logging.WARNING)
    return run_spiders(names, since=args.since, until=args.until, settings=args.set, workers=args.workers,
                       arguments=arguments, quiet=args.quiet)


def cmd_cron(args: argparse.Namespace) -> int:
    """Print crontab lines for the site spiders, start minutes spread out."""
    from newscrawl.ops.cron import crontab_lines, every_problem
    from newscrawl.sites import site_spiders

    known = [s.name for s in site_spiders() if s.name != "generic"]
    unknown = [name for name in args.spiders if name not in known]
    if unknown:
        raise BadArgument(f"unknown spider {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    problem = every_problem(args.every)
    if problem:
        raise BadArgument(problem)
    print("\n".join(crontab_lines(args.spiders or known, args.every)))
    return 0


def cmd_flush_spill(args: argparse.Namespace) -> int:
    """Write the articles spilled during an outage; exit 1 if the database is still unreachable."""
    from newscrawl.ops.runs import load_pending_runs

    sink = ArticleSink.open(None, None)
    try:
        db = sink.database()
        if db is None:
            print("error: the database is unreachable; spill files kept", file=sys.stderr)
            return 1
        count = sink.flush_spill()
        runs = load_pending_runs(db.crawl_runs, data_dir() / "runs")
    finally:
        sink.close()
    print(f"replayed {count} spilled articles, loaded {runs} run records", file=sys.stderr)
    return 1 if sink.unsaved else 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the operator's report of the last --days days to --out."""
    from newscrawl.ops.report import MAX_DAYS, gather, render, site_known

    if not 1 <= args.days <= MAX_DAYS:
        raise BadArgument(f"--days {args.days}: give 1 to {MAX_DAYS}")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise BadArgument(f"--out {args.out}: no directory {out.parent}")
    zone = _zone()
    storage = open_storage()
    try:
        if args.site and not site_known(storage, args.site):
            raise BadArgument(f"--site {args.site!r}: no article or crawl run of that site in the database")
        report = gather(storage, args.days, args.site, zone=zone)
    finally:
        storage.close()
    try:
        out.write_text(render(report), encoding="utf-8")
    except OSError as exc:
        raise BadArgument(f"--out {args.out}: cannot write it ({exc.strerror or exc})") from None
    print(f"wrote {out}: {report.describe()}", file=sys.stderr)
    return 0


def cmd_edits(args: argparse.Namespace) -> int:
    """Print the edits (or with --removed the removals) of stored articles as JSON lines, newest first."""
    from newscrawl.ops.edits import find_edits, find_removed
    from newscrawl.store.edits import EDIT_FIELDS

    if args.field and args.field not in EDIT_FIELDS:
        raise BadArgument(f"--field {args.field!r}: one of {', '.join(EDIT_FIELDS)}")
    if args.field and args.removed:
        raise BadArgument("--field and --removed do not go together: a removal changes no field")
    since = _day(args, "since")
    storage = open_storage()
    try:
        rows = find_removed(storage.db, site=args.site, since=since) if args.removed \
            else find_edits(storage.db, site=args.site, since=since, field=args.field)
        for row in rows:
            print(to_json_line(row))
    finally:
        storage.close()
    return 0


def _add_filters(command: argparse.ArgumentParser) -> None:
    command.add_argument("--site", help="site key, e.g. unian")
    command.add_argument("--language", help="edition: uk, ru, en")
    command.add_argument("--tag", help="articles with this tag")
    command.add_argument("--since", help="first day (NEWSCRAWL_TIMEZONE, default Kyiv time), e.g. 2023-02-01")
    command.add_argument("--until", help="last day, inclusive")
    command.add_argument("--limit", type=int, default=0, help="at most N articles (default all)")


def program_name() -> str:
    """How the user called the command line: ``newscrawl`` (installed) or ``python -m newscrawl``."""
    return "newscrawl" if Path(sys.argv[0]).name == "newscrawl" else "python -m newscrawl"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``newscrawl`` (``python -m newscrawl``)."""
    cli = ArgumentParser(prog=program_name(), description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--version", action="version", version=f"newscrawl {__version__}")
    cli.add_argument("--data-dir", metavar="DIR",
                     help="embedded database, logs, locks and spill files (default: NEWSCRAWL_DATA_DIR, else ./data)")
    commands = cli.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="keep the embedded MongoDB serving for other programs")
    db.add_argument("--port", type=int, default=27017, help="port (default 27017, else a free one)")
    db.set_defaults(run=cmd_db)
    stats = commands.add_parser("stats", help="per site: count, newest, oldest, field fill rates")
    stats.add_argument("--json", action="store_true", help="JSON lines instead of text")
    stats.add_argument("--runs", type=int, nargs="?", const=5, default=0,
                       help="the newest N runs of each spider with their alerts (default 5)")
    stats.add_argument("--failed", nargs="?", const="", default=None, metavar="RUN",
                       help="the failed article pages and why: of run RUN (an id or its start), else of each "
                            "spider's newest run")
    stats.set_defaults(run=cmd_stats)
    query = commands.add_parser("query", help="print matching articles as JSON lines")
    _add_filters(query)
    query.set_defaults(run=cmd_query)
    export = commands.add_parser("export", help="write matching articles to a file")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", required=True, help="output file")
    _add_filters(export)
    export.set_defaults(run=cmd_export)
    run = commands.add_parser("run", help="run a spider for cron: lock, log file, exit code 0/1/2/3")
    run.add_argument("spider", nargs="?", help="spider name (see scrapy list)")
    run.add_argument("--all", action="store_true", help="every site spider, one after another")
    run.add_argument("--since", help="backfill from this day (YYYY-MM-DD)")
    run.add_argument("--until", help="backfill until this day, inclusive")
    run.add_argument("--workers", type=int, default=1, help="worker processes sharing NEWSCRAWL_REDIS_URL's queue")
    run.add_argument("-a", dest="spider_args", action="append", default=[], metavar="NAME=VALUE",
                     help="a spider argument, as scrapy crawl -a: -a editions=en, -a url=https://site/ (generic)")
    run.add_argument("--set", "-s", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="print nothing unless the run failed or raised an alert, then one line (for cron's mail)")
    run.set_defaults(run=cmd_run)
    cron = commands.add_parser("cron", help="print crontab lines for the site spiders")
    cron.add_argument("spiders", nargs="*", help="spider names (default: all site spiders)")
    cron.add_argument("--every", type=int, default=60, help="minutes between runs of a spider (default 60)")
    cron.set_defaults(run=cmd_cron)
    flush = commands.add_parser("flush-spill", help="write articles spilled during a database outage")
    flush.set_defaults(run=cmd_flush_spill)
    report = commands.add_parser("report", help="write one HTML page: articles, fill rates, runs and alerts per day")
    report.add_argument("--out", default="report.html", help="output file (default report.html)")
    report.add_argument("--days", type=int, default=30, help="the last N days, today included (default 30)")
    report.add_argument("--site", help="one site (default all)")
    report.set_defaults(run=cmd_report)
    edits = commands.add_parser("edits", help="articles changed after publication: JSON lines with word diffs")
    edits.add_argument("--site", help="site key, e.g. unian")
    edits.add_argument("--since", help="changes seen from this day on (Kyiv time), e.g. 2023-02-01")
    edits.add_argument("--field", help="only edits of this field: title, lead, body, authors, published_at, tags, images")
    edits.add_argument("--removed", action="store_true", help="the articles found removed (404, 410) instead")
    edits.set_defaults(run=cmd_edits)
    parse = commands.add_parser("parse", help="parse one saved page and print the article as JSON")
    parse.add_argument("file", help="saved HTML page (.html or .html.gz)")
    parse.add_argument("--url", required=True, help="the page's URL (chooses the site parser)")
    parse.add_argument("--fetched-at", help="when the page was fetched (ISO 8601; default now)")
    parse.add_argument("--pretty", action="store_true", help="indent the JSON")
    parse.set_defaults(run=cmd_parse)
    record = commands.add_parser("record", help="save a page as a site fixture (tests/sites/) with its parsed fields")
    record.add_argument("file", help="saved page (.html or .html.gz), or a fixture's .json to record it again")
    record.add_argument("--url", help="the page's URL (chooses the site parser)")
    record.add_argument("--fetched-at", help="when the page was fetched (ISO 8601; default now, or the fixture's)")
    record.add_argument("--site", help="fixture folder (default: the site of the URL's parser)")
    record.add_argument("--name", help="file name without extension (default <slug>_<published day>)")
    record.add_argument("--note", help="what a reviewer should know about the page (kept in the JSON)")
    record.add_argument("--dir", help="fixtures root (default tests/sites)")
    record.set_defaults(run=cmd_record)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``newscrawl`` and ``python -m newscrawl``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("newscrawl").setLevel(logging.INFO)
    # Scrapy finds the project by scrapy.cfg in a checkout; an installed package has none, from any directory
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    args = build_parser().parse_args(argv)
    if args.data_dir:
        os.environ["NEWSCRAWL_DATA_DIR"] = args.data_dir  # read by every part, crawl processes included
    try:
        code = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader stopped reading (`| head -1`): the rest goes nowhere, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except BadArgument as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BAD_ARGUMENT
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except PyMongoError as exc:  # the database went away after it was opened
        print(f"error: the database stopped answering: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 1
