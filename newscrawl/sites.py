"""Which parser handles a URL: the site spider whose editions cover the host, else the generic one."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from urllib.parse import urlsplit

from newscrawl.extract.parser import GenericParser, ParserProxy
from newscrawl.crawl.spider import NewsSpider


@cache
def site_spiders(package: str = "spiders") -> tuple[type[NewsSpider], ...]:
    """Every :class:`NewsSpider` subclass defined in the modules of ``package``."""
    root = importlib.import_module(package)
    found: list[type[NewsSpider]] = []
    for info in pkgutil.iter_modules(root.__path__, prefix=f"{package}."):
        module = importlib.import_module(info.name)
        found.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, NewsSpider) and obj.__module__ == module.__name__
        )
    return tuple(found)


def parser_for_url(url: str) -> type[ParserProxy]:
    """The site parser for ``url``'s host, or :class:`GenericParser`."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for spider in site_spiders():
        if any(host == e.host or host.endswith("." + e.host) for e in spider.editions.values()):
            return spider.parser
    return GenericParser
