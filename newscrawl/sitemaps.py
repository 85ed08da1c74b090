"""Sitemaps and news sitemaps: read them, and pick what falls in a date window.

Sites list their sitemaps in robots.txt (``Sitemap:`` lines). An index lists child sitemaps, often
one per day or month (the date in the file name or in ``<lastmod>``); a urlset lists pages with
``<lastmod>`` and, in news sitemaps, ``<news:publication_date>`` and ``<news:title>``. A backfill
follows only the children whose period overlaps the window and keeps only the pages dated in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lxml import etree
from scrapy.utils.sitemap import sitemap_urls_from_robots

from newscrawl.dates import parse_date

_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, remove_comments=True,
                          remove_pis=True, collect_ids=False)
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


def _child_text(element: etree._Element, *path: str) -> str | None:
    node: etree._Element | None = element
    for name in path:
        node = next((child for child in node if _local(child.tag) == name), None) if node is not None else None
    text = node.text.strip() if node is not None and node.text else ""
    return text or None


def read_sitemap(body: bytes) -> Sitemap | None:
    """Parse a sitemap or sitemap index (already gunzipped); None if ``body`` is not one."""
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root is None or _local(root.tag) not in {"urlset", "sitemapindex"}:
        return None
    is_index = _local(root.tag) == "sitemapindex"
    entries = []
    for element in root:
        if _local(element.tag) not in {"url", "sitemap"}:
            continue
        loc = _child_text(element, "loc")
        if not loc:
            continue
        lastmod = _child_text(element, "lastmod")
        published = _child_text(element, "news", "publication_date")
        entries.append(
            SitemapEntry(
                loc=loc,
                lastmod=parse_date(lastmod) if lastmod else None,
                published=parse_date(published) if published else None,
                title=_child_text(element, "news", "title"),
            )
        )
    return Sitemap(is_index=is_index, entries=entries)


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
