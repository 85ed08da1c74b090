"""``scrapy crawl`` whose exit code tells how the crawl ended (see :mod:`newscrawl.outcome`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from newscrawl.outcome import report

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawl):
    """Scrapy's ``crawl``; exits 1 when no page was fetched, articles were not stored, or the
    crawl was stopped (full database, lost Redis queue, a signal)."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Run the spider; set the exit code from its outcome."""
        if len(args) != 1:
            raise UsageError("name one spider: scrapy crawl SPIDER")
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        self.exitcode = 1 if self.crawler_process.bootstrap_failed else report(crawler)
