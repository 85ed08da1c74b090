"""A news site as its spider and its parser both read it: a plain declaration, no Scrapy.

A site module in ``spiders/`` declares one :class:`Site` (editions, article URL pattern, where its
listings and daily archives are) and the parser that reads its pages, whose ``site`` it is; the
Scrapy spider is made from that parser (:func:`newscrawl.sites.site_spider`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Edition:
    """One edition of a site: its language, home URL (host, or host and path prefix) and feeds."""

    language: str | None
    base_url: str
    feeds: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The edition's host without ``www.``."""
        return (urlsplit(self.base_url).hostname or "").removeprefix("www.")

    @property
    def prefix(self) -> str:
        """Host and path prefix that identify the edition's pages (``pravda.com.ua/rus/``)."""
        path = urlsplit(self.base_url).path.strip("/")
        return f"{self.host}/{path}/" if path else self.host

    @property
    def root(self) -> str:
        """The edition host's root URL (where robots.txt lives)."""
        split = urlsplit(self.base_url)
        return f"{split.scheme}://{split.netloc}/"


@dataclass(frozen=True, eq=False)
class Site:
    """What a site is and where its pages are, for crawling and for parsing."""

    #: the spider's name and every article's ``site``
    name: str
    #: what the crawl covers (the spider's description)
    description: str
    #: language code -> edition
    editions: Mapping[str, Edition]
    #: article URL pattern; group ``id`` is the site's story id (None: any page that looks like an
    #: article, for sites nobody declared)
    article_url: re.Pattern[str] | None = None
    #: path of the all-news listing, ``{page}`` is the page number (1-based)
    listing_path: str | None = None
    #: path of one day's archive, ``{day}`` is a :class:`~datetime.date`
    archive_path: str | None = None
    #: the query parameter that paginates listings and archives
    page_param: str = "page"
    #: the site's articles need JavaScript: fetch them through the browser
    render: bool = False

    @property
    def edition_languages(self) -> dict[str, str]:
        """{edition prefix: language} (``pravda.com.ua/rus/`` -> ``ru``)."""
        return {edition.prefix: edition.language for edition in self.editions.values() if edition.language}

    def covers(self, url: str) -> bool:
        """Whether ``url``'s host is one of the site's editions' hosts or a subdomain of one."""
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        return any(host == e.host or host.endswith("." + e.host) for e in self.editions.values())
