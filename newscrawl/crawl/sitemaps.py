"""Sitemaps and news sitemaps: read them, and pick what falls in a date window.

Sites list their sitemaps in robots.txt (``Sitemap:`` lines). An index lists child sitemaps, often
one per day or month (the date in the file name or in ``<lastmod>``); a urlset lists pages with
``<lastmod>`` and, in news sitemaps, ``<news:publication_date>`` and ``<news:title>``. A backfill
follows only the children whose period overlaps the window and keeps only the pages dated in it.

A file is read as a stream (whole or in decompressed chunks) and at most :data:`MAX_URLS` entries
of it, the protocol's limit per file: a longer file is cut there (``Sitemap.cut``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lxml import etree
from scrapy.utils.sitemap import sitemap_urls_from_robots

from newscrawl.extract.dates import parse_date

_PARSER_OPTIONS = {"recover": True, "resolve_entities": False, "no_network": True, "remove_comments": True,
                   "remove_pis": True, "collect_ids": False}
#: entries a sitemap file may list (sitemaps.org protocol); the rest of a longer file is not read
MAX_URLS = 50_000
#: bytes handed to the XML parser at a time, so reading can stop at the cap
_FEED = 1 << 16
_DAY = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_.]?(0[1-9]|1[0-2])[-/_.]?(0[1-9]|[12]\d|3[01])(?!\d)")
_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_.](0[1-9]|1[0-2])(?![\d])")
_YEAR = re.compile(r"(?<![\d])((?:19|20)\d\d)(?![\d])")


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>`` of a sitemap file."""

    loc: str
    lastmod: datetime | None = None
    published: datetime | None = None
    title: str | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap file: an index of sitemaps or a set of page URLs."""

    is_index: bool
    entries: list[SitemapEntry]
    #: the file listed more entries than it was read for (``MAX_URLS``); the rest were left
    cut: bool = False


@dataclass(frozen=True)
class Window:
    """An inclusive range of days."""

    start: date
    end: date

    def overlaps(self, start: date, end: date) -> bool:
        """Whether the days ``start``..``end`` share a day with the window."""
        return start <= self.end and end >= self.start

    def contains(self, day: date) -> bool:
        """Whether ``day`` is in the window."""
        return self.start <= day <= self.end


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: etree._Element) -> str | None:
    return element.text.strip() or None if element.text else None


def _entry(element: etree._Element) -> SitemapEntry | None:
    """The entry of one ``<url>``/``<sitemap>`` element (its children read in one pass); None
    without a ``<loc>``."""
    found: dict[str, str | None] = {}
    for child in element:
        name = _local(child.tag)
        if name == "news":
            for part in child:
                found.setdefault(_local(part.tag), _text(part))
        else:
            found.setdefault(name, _text(child))
    loc, lastmod, published = found.get("loc"), found.get("lastmod"), found.get("publication_date")
    if not loc:
        return None
    return SitemapEntry(
        loc=loc,
        lastmod=parse_date(lastmod) if lastmod else None,
        published=parse_date(published) if published else None,
        title=found.get("title"),
    )


def _pieces(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """``body`` (bytes, or chunks of bytes) in slices of at most :data:`_FEED` bytes."""
    for chunk in [body] if isinstance(body, bytes) else body:
        for start in range(0, len(chunk), _FEED):
            yield chunk[start:start + _FEED]


class SitemapStream:
    """A sitemap file being read (see :func:`open_sitemap`): ``is_index`` is known from its root;
    iterating reads the entries as the parser reaches them, at most ``max_urls`` of them, and
    drops each from the tree. ``cut`` tells, after iterating, whether the file listed more."""

    def __init__(self, parser: etree.XMLPullParser, pieces: Iterator[bytes], first: etree._Element, max_urls: int) -> None:
        self.parser = parser
        self.pieces = pieces
        self.first = first  # the element whose end was read to find the root
        self.root = first.getroottree().getroot()
        self.max_urls = max_urls
        self.is_index = _local(self.root.tag) == "sitemapindex"
        self.cut = False

    def _ended(self) -> Iterator[etree._Element]:
        """The elements the parser has read to their end, feeding it as needed."""
        yield self.first
        while True:
            for _event, element in self.parser.read_events():
                yield element
            piece = next(self.pieces, None)
            if piece is None:
                return
            self.parser.feed(piece)

    def __iter__(self) -> Iterator[SitemapEntry]:
        read = 0
        try:
            for element in self._ended():
                if element.getparent() is not self.root:
                    continue
                if _local(element.tag) in {"url", "sitemap"}:
                    if read == self.max_urls:
                        self.cut = True
                        return
                    read += 1
                    entry = _entry(element)
                    if entry:
                        yield entry
                self.root.remove(element)
        except (etree.XMLSyntaxError, ValueError):  # unreadable from here on: what was read stands
            return


def open_sitemap(body: bytes | Iterable[bytes], max_urls: int = MAX_URLS) -> SitemapStream | None:
    """Start reading a sitemap or sitemap index (already gunzipped; whole, or in chunks read as
    they come); None if ``body`` is not one. Memory stays small and reading stops at ``max_urls``
    entries, whatever the file's size."""
    parser = etree.XMLPullParser(events=("end",), **_PARSER_OPTIONS)
    pieces = _pieces(body)
    try:
        for piece in pieces:
            parser.feed(piece)
            for _event, element in parser.read_events():  # the first element ended tells the root
                if _local(element.getroottree().getroot().tag) not in {"urlset", "sitemapindex"}:
                    return None
                return SitemapStream(parser, pieces, element, max_urls)  # the later events are left to it
    except (etree.XMLSyntaxError, ValueError):
        return None
    return None


def read_sitemap(body: bytes | Iterable[bytes], max_urls: int = MAX_URLS) -> Sitemap | None:
    """Parse a sitemap or sitemap index (already gunzipped), at most ``max_urls`` entries of it;
    None if ``body`` is not one."""
    stream = open_sitemap(body, max_urls)
    if stream is None:
        return None
    entries = list(stream)
    return Sitemap(is_index=stream.is_index, entries=entries, cut=stream.cut)


def sitemaps_in_robots(robots_txt: bytes, base_url: str) -> list[str]:
    """The ``Sitemap:`` URLs of a robots.txt, absolute."""
    return list(dict.fromkeys(sitemap_urls_from_robots(robots_txt, base_url=base_url)))


def period_in_url(url: str) -> tuple[date, date] | None:
    """The days a sitemap file name covers: ``…2020-09-20…`` one day, ``…2020-09…`` a month,
    ``…2020…`` a year; None when the URL carries no date."""
    path = url.split("?", 1)[0]
    if match := _DAY.search(path):
        try:
            day = date(*map(int, match.groups()))
        except ValueError:
            return None
        return day, day
    if match := _MONTH.search(path):
        year, month = map(int, match.groups())
        first = date(year, month, 1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if match := _YEAR.search(path):
        year = int(match.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    return None


def child_in_window(entry: SitemapEntry, window: Window) -> bool:
    """Whether a child sitemap may hold pages of the window: its file-name period overlaps it, or
    it was modified on or after the window's first day (unknown: follow it)."""
    period = period_in_url(entry.loc)
    if period:
        return window.overlaps(*period)
    if entry.lastmod:
        return entry.lastmod.date() >= window.start
    return True


def page_in_window(entry: SitemapEntry, window: Window) -> bool | None:
    """Whether a page is dated in the window (publication date, else lastmod); None if undated."""
    when = entry.published or entry.lastmod
    return window.contains(when.date()) if when else None
