"""``scrapy crawl`` with an exit code that tells how the crawl ended."""

from scrapy.commands.crawl import Command as ScrapyCrawl

from newscrawl.ops.commands import TruthfulExit


class Command(TruthfulExit, ScrapyCrawl):
    """Scrapy's ``crawl``; exit 1 when the crawl failed (see :mod:`newscrawl.ops.outcome`)."""
