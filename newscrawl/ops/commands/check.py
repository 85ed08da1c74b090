"""``scrapy check``: each site spider's contract run offline against its saved fixture page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands.check import Command as ScrapyCheck
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    import argparse

#: set over the project's settings (a ``-s`` on the command line still wins)
CHECK_SETTINGS: dict[str, Any] = {
    "SPIDER_CONTRACTS": {"newscrawl.crawl.contracts.FixtureContract": 10},
    "DOWNLOADER_MIDDLEWARES": {"newscrawl.crawl.contracts.FixturePages": 1},
    # a check stores nothing and records no run: no database is opened
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {"newscrawl.ops.runs.RunRecorder": None},
    "NEWSCRAWL_INCREMENTAL": False,
    "NEWSCRAWL_PLAYWRIGHT": "off",
    "NEWSCRAWL_PARSE_WORKERS": 0,
    "ROBOTSTXT_OBEY": False,
}


class Command(ScrapyCheck):
    """Scrapy's ``check`` with the fixture contract (:mod:`newscrawl.crawl.contracts`), offline."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        for name, value in CHECK_SETTINGS.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                if isinstance(value, dict) and name != "ITEM_PIPELINES":
                    value = {**self.settings.getdict(name), **value}
                self.settings.set(name, value, priority="cmdline")
