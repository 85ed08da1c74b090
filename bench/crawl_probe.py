"""A Scrapy extension ``bench/crawl.py`` installs in each crawl it times: what the crawl cost.

From ``spider_opened`` to ``engine_stopped`` (after the pipelines and the storage have written and
closed) it measures the wall time and the CPU time of the crawler process and of the database
server process (``BENCH_DB_PID``), each with its live descendants and the children it waited for
(``/proc/<pid>/stat``), the crawler's own share (its main process) apart from its children's (the
parse workers); it counts the database commands the crawler sends (a
:class:`pymongo.monitoring.CommandListener`, registered before any client exists) and reads the
peak RSS of the crawler (``VmHWM``). All of it, with the crawl's stats, goes to the JSON file
``BENCH_PROBE_FILE`` when the engine stops.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo import monitoring
from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards); None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid``, its live descendants and the children they waited for."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent and child not in tree]
        tree.update(children)
        frontier += children
    ticks = 0
    for member in tree:
        if fields := _stat(member):
            ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / TICKS


def own_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` alone: none of its children's."""
    fields = _stat(pid)
    return sum(int(value) for value in fields[11:13]) / TICKS if fields else 0.0


def rss_mb(field: str = "VmRSS") -> float:
    """A memory field of this process's ``/proc/self/status`` (``VmRSS``, ``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class CommandCounter(monitoring.CommandListener):
    """Counts the commands sent to the database, by name."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self._lock:
            self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class CrawlProbe:
    """Measures one crawl and writes the figures to ``BENCH_PROBE_FILE`` when the engine stops."""

    def __init__(self, crawler: Crawler, out: Path, db_pid: int | None) -> None:
        self.crawler = crawler
        self.out = out
        self.db_pid = db_pid
        self.commands = CommandCounter()
        monitoring.register(self.commands)
        self.opened: dict[str, float] = {}
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Scrapy's extension constructor."""
        db_pid = crawler.settings.getint("BENCH_DB_PID") or None
        return cls(crawler, Path(crawler.settings["BENCH_PROBE_FILE"]), db_pid)

    def _now(self) -> dict[str, float]:
        return {"wall": time.monotonic(), "crawler_cpu": tree_cpu_seconds(os.getpid()),
                "crawler_main_cpu": own_cpu_seconds(os.getpid()),
                "db_cpu": tree_cpu_seconds(self.db_pid) if self.db_pid else 0.0}

    def spider_opened(self) -> None:
        self.opened = {**self._now(), "rss_mb": rss_mb()}

    def engine_stopped(self) -> None:
        stopped = self._now()
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        figures: dict[str, Any] = {
            "seconds": stopped["wall"] - self.opened["wall"],
            "crawler_cpu_seconds": stopped["crawler_cpu"] - self.opened["crawler_cpu"],
            "crawler_main_cpu_seconds": stopped["crawler_main_cpu"] - self.opened["crawler_main_cpu"],
            "db_cpu_seconds": stopped["db_cpu"] - self.opened["db_cpu"],
            "commands": dict(self.commands.counts),
            "rss_at_open_mb": self.opened["rss_mb"],
            "peak_rss_mb": rss_mb("VmHWM"),
            "stats": {key: value for key, value in stats.items() if isinstance(value, (int, float, str))},
        }
        self.out.write_text(json.dumps(figures, indent=1, default=str), encoding="utf-8")
