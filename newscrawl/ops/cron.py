"""``python -m newscrawl run SPIDER`` for cron: one run at a time per spider, a log per run, exit codes.

Exit codes (documented in the README):

- 0: the crawl finished and raised no alert (also: a run of this spider is still going — say so, exit 0);
- 1: the crawl failed or logged errors (whatever alerts it raised too);
- 2: an alert was raised (no items, empty backfill, layout drift, generic fallback, blocked);
- 3: configuration error (unknown spider, bad date, unusable data directory).

The lock is ``flock`` on ``data/locks/<spider>.lock``, held by ``run`` and inherited by its crawl
processes: the kernel drops it when the last of them ends, so a lock left by a killed run never
blocks the next one, and a crawl whose ``run`` was killed keeps it until it has stopped (the
file's pid is only for the message). ``run`` owns its crawl processes and the embedded server
they share: signals reach the crawls through it, and they get SIGTERM when it dies.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO

from newscrawl.crawl.replay import archive_problem
from newscrawl.defaults import default
from newscrawl.ops.progress import ProgressLine
from newscrawl.store.errors import StorageError
from newscrawl.store.files import data_dir
from newscrawl.store.server import EmbeddedServer, adopt_orphans, children, die_with_parent, shared_server_uri

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
#: run from a checkout (its scrapy.cfg), not from an installed package
CHECKOUT = (ROOT / "scrapy.cfg").is_file()
OK, CRAWL_ERRORS, ALERT, CONFIG_ERROR = 0, 1, 2, 3
KEEP_LOGS = 30  # per spider (a multi-worker run writes one log per worker)
ORPHAN_GRACE_SECONDS = 30.0  # how long a crawl's leftover process (its parse forkserver) may take to end


class AlreadyRunning(RuntimeError):
    """Another run of the spider holds its lock."""


@contextmanager
def spider_lock(name: str, directory: Path) -> Iterator[IO[str]]:
    """Hold ``<directory>/<name>.lock`` for the duration (the open lock file is yielded, for crawl
    processes to inherit); :class:`AlreadyRunning` if another process holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.lock"
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole run)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise AlreadyRunning(f"{name} is still running (pid {holder}, lock {path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield handle
    finally:
        handle.close()


class SignalForwarder:
    """While installed, SIGTERM, SIGINT and SIGHUP reach the crawl processes instead of stopping
    ``run``: the first asks them to stop gracefully (Scrapy finishes what is in flight, stores or
    spills it, records the run), the second to stop sooner (what is buffered is still written), a
    third kills them. ``run`` waits for them either way and reports."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.received = 0

    @contextmanager
    def installed(self) -> Iterator[SignalForwarder]:
        """Forward signals for the duration (the previous handlers are restored after)."""
        previous = {number: signal.signal(number, self._forward) for number in self.SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _forward(self, number: int, _frame: object) -> None:
        self.received += 1
        sent = signal.SIGKILL if self.received >= 3 else signal.SIGTERM if number == signal.SIGHUP else number
        logger.warning("%s received: %s the crawl", signal.Signals(number).name,
                       "killing" if sent == signal.SIGKILL else "stopping")
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(sent)


def run_spiders(names: list[str], *, since: str | None = None, until: str | None = None,
                settings: list[str] | None = None, workers: int = 1, arguments: dict[str, str] | None = None,
                quiet: bool = False, out: IO[str] = sys.stdout) -> int:
    """Run each spider in turn (see :func:`run_spider`); a signal stops the current one and skips
    the rest. The highest exit code: failure (1) outranks alert (2), which outranks success."""
    forwarder = SignalForwarder()
    codes = []
    with forwarder.installed():
        for name in names:
            if forwarder.received:
                print(f"{name}: not started (stopped by a signal)", file=out)
                codes.append(CRAWL_ERRORS)
                continue
            codes.append(run_spider(name, since=since, until=until, settings=settings, workers=workers,
                                    arguments=arguments, quiet=quiet, out=out, forwarder=forwarder))
    return worst(codes)


def worst(codes: list[int]) -> int:
    """The exit code of several runs: a configuration error, then a failure, then an alert."""
    for code in (CONFIG_ERROR, CRAWL_ERRORS, ALERT):
        if code in codes:
            return code
    return OK


def rotate_logs(directory: Path, keep: int = KEEP_LOGS) -> None:
    """Keep the ``keep`` newest run logs of a spider's log directory."""
    logs = sorted(directory.glob("*.log"))
    for old in logs[:-keep] if keep else logs:
        old.unlink(missing_ok=True)


def exit_code(returncode: int, summary: dict | None) -> int:
    """The documented exit code from the crawl's return code and its run summary: a failure (1)
    outranks an alert (2), which outranks success (0); a crawl that refused its configuration
    before it started (exit 3, no run record) is a configuration error."""
    if summary is None and returncode == CONFIG_ERROR:
        return CONFIG_ERROR
    if summary is None or returncode != 0 or summary.get("errors") or (summary.get("outcome") or {}).get("code") \
            or summary.get("finish_reason") != "finished":
        return CRAWL_ERRORS
    if summary.get("alerts"):
        return ALERT
    return OK


def run_spider(name: str, *, since: str | None = None, until: str | None = None,
               settings: list[str] | None = None, workers: int = 1, arguments: dict[str, str] | None = None,
               quiet: bool = False, out: IO[str] = sys.stdout, forwarder: SignalForwarder | None = None) -> int:
    """Run ``scrapy crawl name`` (``workers`` processes sharing a Redis queue, spider ``arguments``
    as ``-a``) under the spider's lock; return the documented exit code. ``quiet``: print nothing
    unless the run failed or alerted, then one line (for cron's mail)."""
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    from newscrawl.sites import site_spiders

    # the site spiders, and any other spider `scrapy crawl` finds in the project's SPIDER_MODULES
    names = {spider.name for spider in site_spiders()} | set(get_spider_loader(get_project_settings()).list())
    if name not in names:
        print(f"unknown spider {name!r}; known: {', '.join(sorted(names))}", file=out)
        return CONFIG_ERROR
    settings = settings or []
    problem = window_problem(since, until) or replay_problem(settings) or revisit_settings_problem(settings)
    if problem:
        print(problem, file=out)
        return CONFIG_ERROR
    if workers > 1 and not given_setting(settings, "NEWSCRAWL_REDIS_URL"):
        print("--workers needs NEWSCRAWL_REDIS_URL (a shared Redis queue)", file=out)
        return CONFIG_ERROR
    base = data_dir().resolve()  # the crawl processes get it absolute
    run = CrawlRun(name, base, since, until, settings, workers, arguments or {}, forwarder or SignalForwarder())
    try:
        with spider_lock(name, base / "locks") as lock:
            code, lines = run.crawl(lock, out if not quiet else None)
    except AlreadyRunning as exc:
        if not quiet:
            print(f"{exc}; not starting another run", file=out)
        return OK
    except StorageError as exc:
        print(f"{name}: FAILED: {exc}", file=out)
        return CRAWL_ERRORS
    except OSError as exc:
        print(f"{name}: data directory {base} unusable: {exc}", file=out)
        return CONFIG_ERROR
    if quiet and code != OK:
        print(lines[0] if lines else f"{name}: exit {code}", file=out)
    return code


def window_problem(since: str | None, until: str | None) -> str | None:
    """What is wrong with a backfill window (both days, YYYY-MM-DD, in order), if anything."""
    days = {}
    for label, value in (("--since", since), ("--until", until)):
        if value:
            try:
                days[label] = date.fromisoformat(value)
            except ValueError:
                return f"{label}={value!r}: expected YYYY-MM-DD"
    if len(days) == 1:
        given, missing = ("--since", "--until") if since else ("--until", "--since")
        return f"{given} needs {missing}: a backfill covers the days from --since to --until"
    if days and days["--since"] > days["--until"]:
        return f"--since {since} is after --until {until}"
    return None


def given_setting(settings: list[str], name: str) -> str | None:
    """The value of setting ``name`` given to ``run``: its last ``-s NAME=VALUE`` in ``settings``,
    else the environment's; None when neither gives one."""
    named = [item.split("=", 1)[1] for item in settings if item.startswith(f"{name}=")]
    return named[-1] if named else os.getenv(name)


def replay_problem(settings: list[str]) -> str | None:
    """What is wrong with a ``NEWSCRAWL_REPLAY`` archive named in ``settings`` or the environment, if anything."""
    archive = given_setting(settings, "NEWSCRAWL_REPLAY")
    return archive_problem(archive) if archive else None


def revisit_settings_problem(settings: list[str]) -> str | None:
    """What is wrong with the revisit settings given in ``settings`` or the environment, if anything."""
    from newscrawl.store.revisits import revisit_problem

    ages = given_setting(settings, "NEWSCRAWL_REVISIT_AGES")
    cap = given_setting(settings, "NEWSCRAWL_REVISIT_MAX_PER_RUN")
    return revisit_problem(default("NEWSCRAWL_REVISIT_AGES") if ages is None else ages, cap or "")


def every_problem(every_minutes: int) -> str | None:
    """What is wrong with a cron interval, if anything: cron can run a job every N minutes when N
    divides an hour, or every N hours when N divides a day."""
    if 1 <= every_minutes <= 60 and 60 % every_minutes == 0:
        return None
    if every_minutes > 60 and every_minutes % 60 == 0 and 24 % (every_minutes // 60) == 0:
        return None
    return (f"--every {every_minutes}: cron runs a job every N minutes where N divides 60 (1, 2, 3, 4, 5, 6, 10, "
            "12, 15, 20, 30, 60) or every N hours where N divides 24 (120, 180, 240, 360, 480, 720, 1440)")


@dataclass
class CrawlRun:
    """One run of a spider: its crawl processes (one per worker) and the embedded database server
    they share, started, watched and reported by ``run``, which owns them: none outlives it (they
    get SIGTERM when it dies, however it dies) and none outlives the spider's lock (they inherit it)."""

    name: str
    base: Path
    since: str | None
    until: str | None
    settings: list[str]
    workers: int
    arguments: dict[str, str]
    forwarder: SignalForwarder

    def crawl(self, lock: IO[str], out: IO[str] | None) -> tuple[int, list[str]]:
        """Run the crawl processes holding ``lock``; the exit code and, failures and alerts first,
        one line per process that failed or alerted."""
        logs = self.base / "logs" / self.name
        logs.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        progress = ProgressLine.for_stream(out, self.name) if out else None
        with self.database(out) as database_env:
            adopt_orphans()
            own = children()  # the embedded server, and whatever the caller had started
            runs = []
            for worker in range(1, self.workers + 1):
                suffix = f"-w{worker}" if self.workers > 1 else ""
                log_file, summary_file = logs / f"{stamp}{suffix}.log", logs / f"{stamp}{suffix}.summary.json"
                label = f"{self.name} (worker {worker} of {self.workers})" if self.workers > 1 else self.name
                command = self.command(log_file, summary_file)
                if progress:
                    command += ["-s", f"NEWSCRAWL_PROGRESS_FILE={progress.add(logs / f'{stamp}{suffix}.progress.json')}"]
                if out:
                    print(f"{label}: crawling, log {log_file}", file=out, flush=True)
                # an installed package's crawl runs where the user is (relative paths in -s stay theirs)
                process = subprocess.Popen(
                    command, cwd=ROOT if CHECKOUT else None, pass_fds=(lock.fileno(),),
                    env={**os.environ, **database_env, "NEWSCRAWL_DATA_DIR": str(self.base)},
                    start_new_session=True, preexec_fn=die_with_parent,  # signals reach it through run only
                )
                self.forwarder.processes.append(process)
                runs.append((label, process, log_file, summary_file))
            with progress or nullcontext():
                returncodes = [process.wait() for _, process, _, _ in runs]
            reap_leftovers(own)
            results = [report_crawl(label, returncode, log_file, summary_file, out)
                       for returncode, (label, _, log_file, summary_file) in zip(returncodes, runs)]
        rotate_logs(logs)
        code = worst([code for code, _ in results])
        lines = [line for wanted in (CRAWL_ERRORS, ALERT) for result, line in results if result == wanted and line]
        return code, lines

    def command(self, log_file: Path, summary_file: Path) -> list[str]:
        """The ``scrapy crawl`` command of one crawl process."""
        command = [sys.executable, "-m", "scrapy", "crawl", self.name, "-s", f"LOG_FILE={log_file}",
                   "-s", f"NEWSCRAWL_RUN_SUMMARY={summary_file}"]
        for arg, value in (("since", self.since), ("until", self.until), *self.arguments.items()):
            if value is not None:
                command += ["-a", f"{arg}={value}"]
        if self.workers > 1 and not given_setting(self.settings, "NEWSCRAWL_PARSE_WORKERS"):
            # the workers share the machine's cores: each parses with its share
            command += ["-s", f"NEWSCRAWL_PARSE_WORKERS={max(1, default('NEWSCRAWL_PARSE_WORKERS') // self.workers)}"]
        for setting in self.settings:
            command += ["-s", setting]
        return command

    @contextmanager
    def database(self, out: IO[str] | None) -> Iterator[dict[str, str]]:
        """The environment naming the crawl's database: when neither ``MONGO_URI`` nor a ``newscrawl db``
        server names one, the embedded server this run starts for all its processes (stopped after)."""
        if given_setting(self.settings, "MONGO_URI") or shared_server_uri():
            yield {}
            return
        server = EmbeddedServer.start(self.base / "mongo")
        if out:
            print(f"{self.name}: MONGO_URI is not set: started the embedded MongoDB server at {server.uri}, "
                  f"data in {server.directory}", file=out, flush=True)
        try:
            yield {"MONGO_URI": server.uri}
        finally:
            server.stop()


def reap_leftovers(own: set[int], grace: float = ORPHAN_GRACE_SECONDS) -> None:
    """Wait for the processes the crawls left behind (adopted: children not in ``own``), so none
    outlives the lock; kill those still there after ``grace`` seconds."""
    leftovers = children() - own
    stopped = threading.Event()
    for _ in range(int(grace * 20)):
        leftovers = {pid for pid in leftovers if still_running(pid)}
        if not leftovers:
            return
        stopped.wait(0.05)
    for pid in leftovers:
        logger.warning("process %d of the crawl still running %.0f s after it: killing it", pid, grace)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def still_running(child: int) -> bool:
    """Whether the child ``child`` runs (it is reaped if it has ended)."""
    try:
        return os.waitpid(child, os.WNOHANG) == (0, 0)
    except ChildProcessError:  # reaped already
        return False


def report_crawl(label: str, returncode: int, log_file: Path, summary_file: Path,
                 out: IO[str] | None) -> tuple[int, str | None]:
    """Print one crawl process's outcome (unless ``out`` is None); its exit code and, when it failed
    or alerted, one line saying so."""
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else None
    summary_file.unlink(missing_ok=True)
    code = exit_code(returncode, summary)
    printed: list[str] = []
    if summary is None:
        how = f"killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exit {returncode}"
        printed.append(f"{label}: FAILED: the crawl ended without a run record ({how}); see {log_file}")
    else:
        items = summary["items"]
        printed.append(f"{label}: {summary['finish_reason']}, {items['parsed']} parsed, {items['stored']} stored, "
                       f"{items['updated']} updated, {len(summary['alerts'])} alerts, {summary['errors']} errors")
        printed += [f"ALERT [{alert['rule']}] {alert['message']}" for alert in summary["alerts"]]
        outcome = summary.get("outcome") or {}
        if outcome.get("code"):
            printed.append(f"{label}: FAILED: {outcome['cause']}")
    if out:
        print("\n".join(printed), file=out, flush=True)
    if code == OK:
        return code, None
    failed = [line for line in printed if "FAILED" in line]
    if code == CRAWL_ERRORS and not failed:
        failed = [f"{label}: FAILED: {summary['errors'] if summary else 0} errors logged"]
    alerts = [line for line in printed if line.startswith("ALERT")]
    first = failed[0] if code == CRAWL_ERRORS else f"{label}: {alerts[0]}"
    more = len(alerts) - (code == ALERT)
    extra = f" (+{more} alert{'s' if more > 1 else ''})" if more > 0 else ""
    return code, f"{first}{extra}; log {log_file}"


def crontab_lines(names: list[str], every_minutes: int = 60, python: str = ".venv/bin/python") -> list[str]:
    """Crontab lines running each spider every ``every_minutes`` (see :func:`every_problem`), start
    minutes spread out."""
    problem = every_problem(every_minutes)
    if problem:
        raise ValueError(problem)
    lines = []
    step = max(1, min(every_minutes, 60) // max(1, len(names)))
    for index, name in enumerate(names):
        minute = (index * step) % 60
        if every_minutes >= 60:
            hours = "*" if every_minutes == 60 else f"*/{every_minutes // 60}"
            when = f"{minute} {hours} * * *"
        else:
            when = ",".join(str(m) for m in range(minute % every_minutes, 60, every_minutes)) + " * * * *"
        lines.append(f"{when} {_command(python)} run {name} --quiet")
    return lines


def _command(python: str) -> str:
    """The start of a crontab line: a checkout's ``python -m newscrawl`` in its root, else the installed
    ``newscrawl`` command in this directory (with the data directory when one was named)."""
    if CHECKOUT:
        return f"cd {ROOT} && {python} -m newscrawl"
    command = f"cd {Path.cwd()} && {Path(sys.executable).with_name('newscrawl')}"
    return f"{command} --data-dir {data_dir().resolve()}" if os.getenv("NEWSCRAWL_DATA_DIR") else command
