"""Scrapy commands of the project (``COMMANDS_MODULE``): ``crawl`` and ``runspider`` whose exit
code tells how the crawl ended (see :mod:`newscrawl.ops.outcome`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from newscrawl.ops.outcome import report

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.crawler import Crawler


class TruthfulExit:
    """Mixin for a command that runs one spider: after the run, log its outcome as the last line
    and exit 1 when no page was fetched, articles were not stored, or the crawl was stopped
    (full database, lost Redis queue, a signal)."""

    exitcode: int
    _crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)  # type: ignore[misc]
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> Any:
        """Run the spider as Scrapy does; then set the exit code from its outcome."""
        super().run(args, opts)  # type: ignore[misc]
        if not self.exitcode and self._crawler is not None:
            self.exitcode = report(self._crawler)
