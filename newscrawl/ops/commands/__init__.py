"""Scrapy commands of the project (``COMMANDS_MODULE``): ``crawl`` and ``runspider`` whose exit
code tells how the crawl ended (see :mod:`newscrawl.crawl.outcome`), ``check`` against the site
fixtures, ``shell``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

from newscrawl.crawl.rendering import browser_problem
from newscrawl.crawl.replay import archive_problem
from newscrawl.crawl.outcome import report
from newscrawl.store.revisits import revisit_problem

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

#: the exit code of a configuration error (as ``python -m newscrawl run``'s)
CONFIG_ERROR = 3


def argument_problem(spidercls: type[Spider], settings: BaseSettings, arguments: dict[str, str]) -> str | None:
    """What is wrong with a spider's ``-a`` arguments, when the spider can tell (``argument_problem``)."""
    check = getattr(spidercls, "argument_problem", None)
    return check(settings, **arguments) if check else None


def stop(problem: str | None) -> None:
    """End the command with ``problem`` in one line and :data:`CONFIG_ERROR`, if there is one."""
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(CONFIG_ERROR)


class TruthfulExit:
    """Mixin for a command that runs one spider: the run is recorded (``NEWSCRAWL_RECORD_RUN``);
    after it, log its outcome as the last line and exit 1 when no page was fetched, articles were
    not stored, or the crawl was stopped (full database, lost Redis queue, a signal)."""

    exitcode: int
    _crawler: Crawler | None = None
    _arguments: dict[str, str] = {}
    _arguments_checked = False

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options; then a replay archive that cannot be replayed, a revisit setting that
        cannot be read, a browser required (``NEWSCRAWL_PLAYWRIGHT=1``) and missing, or a spider
        argument (``-a``) the spider cannot use stops the command in one line (exit 3) before
        anything starts."""
        super().process_options(args, opts)  # type: ignore[misc]
        settings = self.settings  # type: ignore[attr-defined]
        # a crawl is a run of its spider (``scrapy parse``, ``check`` and ``shell`` are not)
        if (settings.getpriority("NEWSCRAWL_RECORD_RUN") or 0) < SETTINGS_PRIORITIES["cmdline"]:
            settings.set("NEWSCRAWL_RECORD_RUN", True, priority="cmdline")
        archive = settings.get("NEWSCRAWL_REPLAY")
        stop((archive_problem(archive) if archive else None) or browser_problem(settings) or revisit_problem(
            settings.get("NEWSCRAWL_REVISIT_AGES"), settings.get("NEWSCRAWL_REVISIT_MAX_PER_RUN")))
        self._arguments = dict(getattr(opts, "spargs", None) or {})
        spidercls = self.spider_class(args)
        if spidercls is not None:
            stop(argument_problem(spidercls, settings, self._arguments))
            self._arguments_checked = True

    def spider_class(self, args: list[str]) -> type[Spider] | None:
        """The spider the command will run, when it is known before the crawler is made."""
        return None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        """The crawler; the spider's arguments checked now if they could not be before."""
        crawler = super()._create_crawler(spidercls)  # type: ignore[misc]
        if not self._arguments_checked:
            stop(argument_problem(crawler.spidercls, crawler.settings, self._arguments))
        self._crawler = crawler
        return crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> Any:
        """Run the spider as Scrapy does; then set the exit code from its outcome."""
        super().run(args, opts)  # type: ignore[misc]
        if not self.exitcode and self._crawler is not None:
            self.exitcode = report(self._crawler)
