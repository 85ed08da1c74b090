"""The live progress line of ``newscrawl run`` on a terminal; nothing where no one watches (cron).

Each crawl process started with ``NEWSCRAWL_PROGRESS_FILE`` has :class:`ProgressFile` write its
counts there every second and once more when it ends (one small JSON file, replaced whole).
:class:`ProgressLine`, in the ``run`` process, reads the files of its crawl's workers while they run
and redraws one line: pages fetched and their rate, articles stored, errors, and in a backfill
the days whose archive pages have all been read, of the window's days (``newscrawl/backfill/*``
in the stats; sites without daily archives backfill from sitemaps, which are not read day by day).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from newscrawl.stats import BACKFILL_DAYS, BACKFILL_DAYS_DONE, ERRORS_LOGGED, MONGO_INSERTED, RESPONSES_RECEIVED

#: seconds between two writes of a crawl's progress file, and between two redraws of the line
INTERVAL = 1.0


@dataclass(frozen=True)
class Snapshot:
    """One crawl process's counts at a moment."""

    started: float
    pages: int = 0
    stored: int = 0
    errors: int = 0
    days: int = 0
    days_done: int = 0
    ended: str | None = None

    @classmethod
    def from_stats(cls, started: float, stats: dict[str, Any], ended: str | None = None) -> Snapshot:
        """The counts of a crawl's Scrapy stats."""
        def value(key: str) -> int:
            return int(stats.get(key) or 0)

        return cls(started=started, pages=value(RESPONSES_RECEIVED), stored=value(MONGO_INSERTED),
                   errors=value(ERRORS_LOGGED), days=value(BACKFILL_DAYS), days_done=value(BACKFILL_DAYS_DONE), ended=ended)

    @classmethod
    def read(cls, path: Path) -> Snapshot | None:
        """The snapshot in ``path``; None before the crawl wrote one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    def write(self, path: Path) -> None:
        """Replace ``path`` with this snapshot (readers never see half a file)."""
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(partial, path)


class ProgressFile:
    """Scrapy extension: the crawl's counts in ``NEWSCRAWL_PROGRESS_FILE``, every second and at the end."""

    def __init__(self, crawler: Any, path: Path) -> None:
        from scrapy import signals

        self.crawler = crawler
        self.path = path
        self.started = time.time()
        self.loop: Any = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressFile:
        """Only when ``NEWSCRAWL_PROGRESS_FILE`` names a file (``newscrawl run`` on a terminal)."""
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("NEWSCRAWL_PROGRESS_FILE")
        if not path:
            raise NotConfigured
        return cls(crawler, Path(path))

    def spider_opened(self) -> None:
        """Write the counts every :data:`INTERVAL` seconds."""
        from scrapy.utils.asyncio import create_looping_call

        self.loop = create_looping_call(self.write)
        self.loop.start(INTERVAL, now=True)

    def spider_closed(self, reason: str) -> None:
        """The final counts."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.write(ended=reason)

    def write(self, ended: str | None = None) -> None:
        """The counts now (a failed write only costs the watcher an update)."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        try:
            Snapshot.from_stats(self.started, stats, ended).write(self.path)
        except OSError:
            pass


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def progress_text(name: str, snapshots: list[Snapshot], now: float) -> str:
    """The line for the workers' ``snapshots`` of one crawl (one snapshot: one process)."""
    if not snapshots:
        return f"{name}: starting"
    started = min(s.started for s in snapshots)
    elapsed = max(0.0, now - started)
    pages = sum(s.pages for s in snapshots)
    rate = pages * 60 / elapsed if elapsed >= 1 else 0.0
    parts = [f"{pages} pages", f"{rate:.0f}/min", f"{sum(s.stored for s in snapshots)} articles stored",
             f"{sum(s.errors for s in snapshots)} errors"]
    if len(snapshots) == 1 and snapshots[0].days:  # each worker sees only its share of a shared window
        parts.append(f"days {snapshots[0].days_done}/{snapshots[0].days}")
    return f"{name}: " + ", ".join(parts) + f" · {_duration(elapsed)}"


class ProgressLine:
    """One line on a terminal, redrawn while a crawl's processes run (a context manager)."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self.stream = stream
        self.name = name
        self.files: list[Path] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._redraw, name="progress", daemon=True)

    @classmethod
    def for_stream(cls, stream: IO[str], name: str) -> ProgressLine | None:
        """A progress line on ``stream`` when it is a terminal; None otherwise (cron, a pipe, a file)."""
        isatty = getattr(stream, "isatty", None)
        return cls(stream, name) if isatty is not None and isatty() else None

    def add(self, path: Path) -> Path:
        """Watch the progress file of one more crawl process; its path."""
        path.unlink(missing_ok=True)
        self.files.append(path)
        return path

    def text(self) -> str:
        """The line now."""
        found = [snapshot for snapshot in map(Snapshot.read, self.files) if snapshot is not None]
        return progress_text(self.name, found, time.time())

    def draw(self) -> None:
        """Redraw the line, cut to the terminal's width."""
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("\r" + self.text()[:width] + "\x1b[K")
        self.stream.flush()

    def _redraw(self) -> None:
        while not self.stop.wait(INTERVAL / 2):
            self.draw()

    def __enter__(self) -> ProgressLine:
        self.draw()
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop.set()
        self.thread.join()
        self.draw()  # the final counts, then the line makes way for the run's own lines
        self.stream.write("\r\x1b[K")
        self.stream.flush()
        for path in self.files:
            path.unlink(missing_ok=True)
