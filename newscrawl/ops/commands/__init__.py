"""Scrapy commands of the project (``COMMANDS_MODULE``): ``crawl`` and ``runspider`` whose exit
code tells how the crawl ended (see :mod:`newscrawl.ops.outcome`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

from newscrawl.crawl.replay import archive_problem
from newscrawl.ops.outcome import report
from newscrawl.store.revisits import revisit_problem

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.crawler import Crawler


class TruthfulExit:
    """Mixin for a command that runs one spider: the run is recorded (``NEWSCRAWL_RECORD_RUN``);
    after it, log its outcome as the last line and exit 1 when no page was fetched, articles were
    not stored, or the crawl was stopped (full database, lost Redis queue, a signal)."""

    exitcode: int
    _crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)  # type: ignore[misc]
        return self._crawler

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options; then a replay archive that cannot be replayed, or a revisit setting that
        cannot be read, stops the command in one line (exit 3) before anything starts."""
        super().process_options(args, opts)  # type: ignore[misc]
        settings = self.settings  # type: ignore[attr-defined]
        # a crawl is a run of its spider (``scrapy parse``, ``check`` and ``shell`` are not)
        if (settings.getpriority("NEWSCRAWL_RECORD_RUN") or 0) < SETTINGS_PRIORITIES["cmdline"]:
            settings.set("NEWSCRAWL_RECORD_RUN", True, priority="cmdline")
        archive = settings.get("NEWSCRAWL_REPLAY")
        problem = (archive_problem(archive) if archive else None) or revisit_problem(
            settings.get("NEWSCRAWL_REVISIT_AGES"), settings.get("NEWSCRAWL_REVISIT_MAX_PER_RUN"))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            raise SystemExit(3)

    def run(self, args: list[str], opts: argparse.Namespace) -> Any:
        """Run the spider as Scrapy does; then set the exit code from its outcome."""
        super().run(args, opts)  # type: ignore[misc]
        if not self.exitcode and self._crawler is not None:
            self.exitcode = report(self._crawler)
