"""``python -m newscrawl run SPIDER`` for cron: one run at a time per spider, a log per run, exit codes.

Exit codes (documented in the README):

- 0: the crawl finished and raised no alert (also: a run of this spider is still going — say so, exit 0);
- 1: the crawl failed or logged errors;
- 2: an alert was raised (no items, layout drift, generic fallback, blocked);
- 3: configuration error (unknown spider, bad date, unusable data directory).

The lock is ``flock`` on ``data/locks/<spider>.lock``: the kernel drops it when the holder dies, so a
lock left by a killed run never blocks the next one (the file's pid is only for the message).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO

from newscrawl.crawl.replay import archive_problem
from newscrawl.store.files import data_dir

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
#: run from a checkout (its scrapy.cfg), not from an installed package
CHECKOUT = (ROOT / "scrapy.cfg").is_file()
OK, CRAWL_ERRORS, ALERT, CONFIG_ERROR = 0, 1, 2, 3
KEEP_LOGS = 30  # per spider (a multi-worker run writes one log per worker)


class AlreadyRunning(RuntimeError):
    """Another run of the spider holds its lock."""


@contextmanager
def spider_lock(name: str, directory: Path) -> Iterator[None]:
    """Hold ``<directory>/<name>.lock`` for the duration; :class:`AlreadyRunning` if another process does."""
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
        yield
    finally:
        handle.close()


def rotate_logs(directory: Path, keep: int = KEEP_LOGS) -> None:
    """Keep the ``keep`` newest run logs of a spider's log directory."""
    logs = sorted(directory.glob("*.log"))
    for old in logs[:-keep] if keep else logs:
        old.unlink(missing_ok=True)


def exit_code(returncode: int, summary: dict | None) -> int:
    """The documented exit code from the crawl's return code and its run summary."""
    if summary is None:
        return CRAWL_ERRORS
    if summary.get("alerts"):
        return ALERT
    if returncode != 0 or summary.get("errors") or (summary.get("outcome") or {}).get("code") \
            or summary.get("finish_reason") != "finished":
        return CRAWL_ERRORS
    return OK


def run_spider(name: str, *, since: str | None = None, until: str | None = None,
               settings: list[str] | None = None, workers: int = 1, arguments: dict[str, str] | None = None,
               out: IO[str] = sys.stdout) -> int:
    """Run ``scrapy crawl name`` (``workers`` processes sharing a Redis queue, spider ``arguments``
    as ``-a``) under the spider's lock; return the documented exit code."""
    from scrapy.spiderloader import get_spider_loader
    from scrapy.utils.project import get_project_settings

    from newscrawl.sites import site_spiders

    # the site spiders, and any other spider `scrapy crawl` finds in the project's SPIDER_MODULES
    names = {spider.name for spider in site_spiders()} | set(get_spider_loader(get_project_settings()).list())
    if name not in names:
        print(f"unknown spider {name!r}; known: {', '.join(sorted(names))}", file=out)
        return CONFIG_ERROR
    settings = settings or []
    problem = window_problem(since, until) or replay_problem(settings)
    if problem:
        print(problem, file=out)
        return CONFIG_ERROR
    if workers > 1 and not (os.getenv("NEWSCRAWL_REDIS_URL") or any(s.startswith("NEWSCRAWL_REDIS_URL=") for s in settings)):
        print("--workers needs NEWSCRAWL_REDIS_URL (a shared Redis queue)", file=out)
        return CONFIG_ERROR
    base = data_dir().resolve()  # the crawl processes get it absolute
    try:
        with spider_lock(name, base / "locks"):
            return _crawl(name, base, since, until, settings, workers, out, arguments or {})
    except AlreadyRunning as exc:
        print(f"{exc}; not starting another run", file=out)
        return OK
    except OSError as exc:
        print(f"data directory {base} unusable: {exc}", file=out)
        return CONFIG_ERROR


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


def replay_problem(settings: list[str]) -> str | None:
    """What is wrong with a ``NEWSCRAWL_REPLAY`` archive named in ``settings`` or the environment, if anything."""
    named = [item.split("=", 1)[1] for item in settings if item.startswith("NEWSCRAWL_REPLAY=")]
    archive = named[-1] if named else os.getenv("NEWSCRAWL_REPLAY")
    return archive_problem(archive) if archive else None


def every_problem(every_minutes: int) -> str | None:
    """What is wrong with a cron interval, if anything: cron can run a job every N minutes when N
    divides an hour, or every N hours when N divides a day."""
    if 1 <= every_minutes <= 60 and 60 % every_minutes == 0:
        return None
    if every_minutes > 60 and every_minutes % 60 == 0 and 24 % (every_minutes // 60) == 0:
        return None
    return (f"--every {every_minutes}: cron runs a job every N minutes where N divides 60 (1, 2, 3, 4, 5, 6, 10, "
            "12, 15, 20, 30, 60) or every N hours where N divides 24 (120, 180, 240, 360, 480, 720, 1440)")


def _crawl(name: str, base: Path, since: str | None, until: str | None, settings: list[str], workers: int,
           out: IO[str], arguments: dict[str, str]) -> int:
    from newscrawl.ops.progress import ProgressLine

    logs = base / "logs" / name
    logs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    progress = ProgressLine.for_stream(out, name)
    runs = []
    for worker in range(1, workers + 1):
        suffix = f"-w{worker}" if workers > 1 else ""
        label = f"{name} (worker {worker} of {workers})" if workers > 1 else name
        log_file, summary_file = logs / f"{stamp}{suffix}.log", logs / f"{stamp}{suffix}.summary.json"
        command = [sys.executable, "-m", "scrapy", "crawl", name, "-s", f"LOG_FILE={log_file}",
                   "-s", f"NEWSCRAWL_RUN_SUMMARY={summary_file}"]
        if progress:
            command += ["-s", f"NEWSCRAWL_PROGRESS_FILE={progress.add(logs / f'{stamp}{suffix}.progress.json')}"]
        for arg, value in (("since", since), ("until", until)):
            if value:
                command += ["-a", f"{arg}={value}"]
        for arg, value in arguments.items():
            command += ["-a", f"{arg}={value}"]
        if workers > 1 and not os.getenv("NEWSCRAWL_PARSE_WORKERS") and \
                not any(s.startswith("NEWSCRAWL_PARSE_WORKERS=") for s in settings):
            # the workers share the machine's cores: each parses with its share
            command += ["-s", f"NEWSCRAWL_PARSE_WORKERS={max(1, (os.cpu_count() or 1) // workers)}"]
        for setting in settings:
            command += ["-s", setting]
        print(f"{label}: crawling, log {log_file}", file=out)
        # an installed package's crawl runs where the user is (relative paths in -s stay theirs)
        process = subprocess.Popen(command, cwd=ROOT if CHECKOUT else None,
                                   env={**os.environ, "NEWSCRAWL_DATA_DIR": str(base)})
        runs.append((process, label, log_file, summary_file))
    with progress or nullcontext():
        returncodes = [process.wait() for process, *_ in runs]
    codes = [_report(label, returncode, log_file, summary_file, out)
             for returncode, (_, label, log_file, summary_file) in zip(returncodes, runs)]
    rotate_logs(logs)
    return max(codes)


def _report(name: str, returncode: int, log_file: Path, summary_file: Path, out: IO[str]) -> int:
    """Print one crawl process's outcome; its exit code."""
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else None
    summary_file.unlink(missing_ok=True)
    if summary is None:
        print(f"{name}: the crawl ended without a run record (exit {returncode}); see {log_file}", file=out)
    else:
        items = summary["items"]
        print(f"{name}: {summary['finish_reason']}, {items['parsed']} parsed, {items['stored']} stored, "
              f"{items['updated']} updated, {len(summary['alerts'])} alerts, {summary['errors']} errors", file=out)
        for alert in summary["alerts"]:
            print(f"ALERT [{alert['rule']}] {alert['message']}", file=out)
        outcome = summary.get("outcome") or {}
        if outcome.get("code"):
            print(f"{name}: FAILED: {outcome['cause']}", file=out)
    return exit_code(returncode, summary)


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
        lines.append(f"{when} {_command(python)} run {name} >/dev/null 2>&1")
    return lines


def _command(python: str) -> str:
    """The start of a crontab line: a checkout's ``python -m newscrawl`` in its root, else the installed
    ``newscrawl`` command in this directory (with the data directory when one was named)."""
    if CHECKOUT:
        return f"cd {ROOT} && {python} -m newscrawl"
    command = f"cd {Path.cwd()} && {Path(sys.executable).with_name('newscrawl')}"
    return f"{command} --data-dir {data_dir().resolve()}" if os.getenv("NEWSCRAWL_DATA_DIR") else command
