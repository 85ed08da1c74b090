"""The sites ``spiders/`` declares: their parsers (no Scrapy needed), their spiders, the parser for a URL.

A site module declares a :class:`~newscrawl.extract.site.Site` and the parser that reads it, and
makes its spider with :func:`site_spider`. Importing it needs Scrapy only if Scrapy is installed:
without Scrapy the declaration and the parser work and the spider is ``None``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from functools import cache
from types import ModuleType
from typing import Any

from newscrawl.extract.parser import GenericParser, ParserProxy


def scrapy_installed() -> bool:
    """Whether Scrapy can be imported here."""
    return importlib.util.find_spec("scrapy") is not None


def site_spider(parser: type[ParserProxy], module: str) -> Any:
    """The Scrapy spider class that crawls ``parser.site``, defined in ``module`` (where Scrapy's
    spider loader looks for it); ``None`` when Scrapy is not installed."""
    if not scrapy_installed():
        return None
    from newscrawl.crawl.spider import NewsSpider

    site = parser.site
    if site is None:
        raise ValueError(f"{parser.__name__} declares no site")
    class_name = "".join(part.capitalize() for part in site.name.split("_")) + "Spider"
    members = {"__module__": module, "__doc__": site.description, "name": site.name, "site": site, "parser": parser}
    return type(class_name, (NewsSpider,), members)


def _site_modules(package: str) -> list[ModuleType]:
    """The modules of ``package``, except those that need Scrapy when it is not installed."""
    root = importlib.import_module(package)
    modules = []
    for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        try:
            modules.append(importlib.import_module(info.name))
        except ModuleNotFoundError as missing:
            if missing.name is None or missing.name.partition(".")[0] not in {"scrapy", "twisted"}:
                raise
    return modules


@cache
def site_parsers(package: str = "spiders") -> tuple[type[ParserProxy], ...]:
    """Every parser with a declared site, defined in the modules of ``package``."""
    return tuple(
        obj
        for module in _site_modules(package)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, ParserProxy) and obj.site is not None
        and obj.__module__ == module.__name__
    )


@cache
def site_spiders(package: str = "spiders") -> tuple[type, ...]:
    """Every Scrapy spider defined in the modules of ``package`` (needs Scrapy)."""
    from newscrawl.crawl.spider import NewsSpider

    return tuple(
        obj
        for module in _site_modules(package)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, NewsSpider) and obj.__module__ == module.__name__
    )


def parser_for_url(url: str) -> type[ParserProxy]:
    """The site parser for ``url``'s host, or :class:`GenericParser`."""
    for parser in site_parsers():
        assert parser.site is not None
        if parser.site.covers(url):
            return parser
    return GenericParser
