"""``scrapy runspider`` with an exit code that tells how the crawl ended."""

from scrapy.commands.runspider import Command as ScrapyRunSpider

from newscrawl.ops.commands import TruthfulExit


class Command(TruthfulExit, ScrapyRunSpider):
    """Scrapy's ``runspider``; exit 1 when the crawl failed (see :mod:`newscrawl.crawl.outcome`)."""
