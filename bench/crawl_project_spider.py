"""The project spider of ``bench/crawl.py``: a site spider of newscrawl on the local site.

The spider is :func:`newscrawl.sites.site_spider` of a site at ``BENCH_SITE_URL`` whose listing is
``/list?page=<n>``. Its parser hands each article to the parser production would use: under
``/<site>/<language>/`` the site's own parser (its versions, declared for that path as the site's
edition in that language), elsewhere :class:`~newscrawl.extract.parser.GenericParser`.
"""

from __future__ import annotations

import os
import re
from typing import Any

from newscrawl.extract.items import Article
from newscrawl.extract.parser import GenericParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_parsers, site_spider

BASE = os.environ["BENCH_SITE_URL"]


def local_parser(parser: type[ParserProxy]) -> type[ParserProxy]:
    """``parser``'s versions, for the site's pages served at ``BASE/<site>/<language>/``."""
    real = parser.site
    assert real is not None
    site = Site(
        name=real.name, description=real.description,
        editions={language: Edition(language, f"{BASE}/{real.name}/{language}/") for language in real.editions},
        article_url=re.compile(rf"/{real.name}/[a-z]{{2}}/story-(?P<id>\d+)\.html$"),
    )
    versions = {version.__name__: type(version.__name__, (version,), {"__qualname__": version.__qualname__})
                for version in parser.versions}
    return type(parser.__name__, (ParserProxy,), {"site": site, **versions})


LOCAL_PARSERS = {parser.site.name: local_parser(parser) for parser in site_parsers() if parser.site}


class LocalSiteParser(ParserProxy):
    """The parser for a page's path: a site's parser under its name, else the generic one."""

    site = Site(
        name="bench_local", description="The benchmark's local news site.",
        editions={"local": Edition(None, f"{BASE}/")},
        article_url=re.compile(rf"^{re.escape(BASE)}/[\w-]+/[\w-]+/story-(?P<id>\d+)\.html$"),
        listing_path="list?page={page}",
    )

    @classmethod
    def parse(cls, html: str, url: str, **kwargs: Any) -> Article:
        """Parse with the parser of the page's first path segment."""
        section = url.removeprefix(BASE).split("/")[1]
        return LOCAL_PARSERS.get(section, GenericParser).parse(html, url, **kwargs)


LocalSiteSpider = site_spider(LocalSiteParser, __name__)
