"""``scrapy crawl`` with an exit code that tells how the crawl ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.spiderloader import get_spider_loader

from newscrawl.ops.commands import TruthfulExit, stop

if TYPE_CHECKING:
    from scrapy import Spider


class Command(TruthfulExit, ScrapyCrawl):
    """Scrapy's ``crawl``; exit 1 when the crawl failed (see :mod:`newscrawl.crawl.outcome`)."""

    def spider_class(self, args: list[str]) -> type[Spider] | None:
        """The spider named on the command line; an unknown name stops the command in one line
        (exit 3). None when Scrapy will refuse the arguments itself (no name, several)."""
        if len(args) != 1:
            return None
        loader = get_spider_loader(self.settings)
        try:
            return loader.load(args[0])
        except KeyError:
            stop(f"unknown spider {args[0]!r}; known: {', '.join(sorted(loader.list()))}")
            raise
