"""``scrapy shell`` for looking at pages: Scrapy's shell with what a look needs and nothing more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands.shell import Command as ScrapyShell
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    import argparse

#: set over the project's settings (a ``-s`` on the command line still wins)
SHELL_SETTINGS: dict[str, Any] = {
    # the browser handler blocks the shell's reactor thread (scrapy/scrapy#5831)
    "NEWSCRAWL_PLAYWRIGHT": "off",
    # a look stores nothing, so no database is started
    "ITEM_PIPELINES": {},
    # the operator names the page: a saved file may be opened
    "DOWNLOAD_HANDLERS": {"data": None, "ftp": None, "s3": None},
    "NEWSCRAWL_LOCAL_SCHEMES": ["file"],
}


class Command(ScrapyShell):
    """Scrapy's ``shell`` without the browser handler or the storage pipelines, and with
    ``file://`` pages (``scrapy shell ./page.html``) readable."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        for name, value in SHELL_SETTINGS.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                self.settings.set(name, value, priority="cmdline")
