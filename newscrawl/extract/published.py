"""The publication date, decided among candidates by rules with names.

A page gives its publication date in many places, and some of them are wrong: a ``dateModified``
copied into a "published" tag, a related article's ``<time>``, a comment's date, a year-old
copyright line. The parser collects every date the page gives as a :class:`DateCandidate` (what it
read, where, and on which local day that is), with the functions of this module (``*_candidates``),
and :func:`decide` picks one:

1. ``after_fetch``: a date after the page was fetched is not when it was published (rejected, never
   clamped). On a page that gives one, htmldate's day is rejected too: it restates that date
   without its time, or, told that no date comes after the fetch, reads it another way (day and
   month swapped, a month as its first day). A page whose only date is in the future has no date.
2. ``url_bound``: a year, month and day in the URL pin the local day to within a day either side (the
   URL's day is the site's, the candidate's day may be read in another zone); a year and month pin
   the month, with a day either side; when no candidate fits that month, the page is newer than its
   URL (republished, kept up to date) and the bound holds only from below: a page is never older
   than its URL.
3. ``year_only``: htmldate's January 1 that no other source gives is a bare year (a copyright line,
   "since 1998") read as a day.
4. ``other_item``: a date printed in comments, related-article, teaser and event lists, side bars,
   the page footer, a link to another page or another ``<article>`` than the headline's belongs to
   something else (see ``datesources.belongs_to_other_item``).
5. ``updated``: a date the page labels as its update ("Aktualisiert am", "Updated:", "Stand:",
   ``<time class="updated">``) loses to a date of an earlier day that it does not so label (stated in
   the page's data, its markup or its URL: see :data:`WITNESS_KINDS`), and to one of another day
   that it labels as its publication ("Erschienen am", "Published:"); so does
   htmldate's day when it is only such an update's.
6. ``modified``: a date equal (to the minute) to the page's ``dateModified`` loses when the page states
   an earlier publication date (its most trusted JSON-LD, meta or microdata candidate): the page itself
   tells them apart. (Pages that give the same instant for both were never updated: nothing is suspect.)
   A meta tag whose name does not say which date it holds (``date``, ``dc.date``: some CMSs write
   their last change there) loses to an earlier date printed after the headline, unless the page's
   data or markup gives its day too; and htmldate's day goes with them when nothing else gives it.
7. ``agreement``: of the local days left, the one that the most independent sources (see
   :data:`FAMILIES`) give wins; a tie goes to the day of the most trusted candidate (see :data:`KINDS`).
   htmldate reads the page's JSON-LD, meta tags and microdata first: its day adds a source (and its
   trust to the tie) only where none of those gives it. The answer is the most trusted candidate of
   that day that gives a time of day, else the most trusted.

A decision is ``settled`` when every candidate left gives the same day and at least two independent
sources give it, or the site parser's own markup (``published_css``) does: the parser then looks no further (visible datelines and htmldate's search cost time).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from htmldate import find_date
from lxml.html import HtmlElement
from parsel import Selector

from newscrawl.extract import jsonld as ld
from newscrawl.extract.dates import stated_offset
from newscrawl.extract.datesources import (
    PUBLISHED_META,
    UNSPECIFIC_META,
    Dated,
    NumericDate,
    Scope,
    UrlDate,
    itemprop_values,
    printed_dates,
)
from newscrawl.extract.meta import all_values

logger = logging.getLogger(__name__)

#: kinds of candidate, most trusted first, and the item layer each is recorded as (``published_source``)
KINDS: dict[str, str] = {
    "jsonld": "jsonld",  # the article's JSON-LD ``datePublished``
    "meta": "meta",  # ``article:published_time`` and the other published meta tags
    "meta_date": "meta",  # ``<meta name="date">``, ``dc.date``: names that do not say which date they hold
    "html": "html",  # the site parser's ``published_css``
    "itemprop": "generic",  # ``itemprop="datePublished"`` elements
    "time": "generic",  # ``<time datetime>`` in the article's header
    "rss": "rss",  # the feed entry's date
    "jsonld_other": "jsonld",  # ``datePublished`` of the page's other JSON-LD objects
    "htmldate": "generic",  # htmldate's search
    "dateline": "generic",  # the first date printed after the headline
    "printed": "generic",  # a date printed anywhere on the page that fits the URL's date
    "url": "url",  # the date in the URL's path
}
#: sources that are not independent of each other count once in an agreement
FAMILIES: dict[str, str] = {**{kind: kind for kind in KINDS}, "jsonld_other": "jsonld", "itemprop": "markup",
                            "time": "markup", "meta_date": "meta"}
#: kinds in which a page states its own publication date
STATED_KINDS = ("jsonld", "meta", "itemprop", "meta_date")
#: the site parser's own declaration (``published_css``): uncontradicted, it settles the decision. A
#: JSON-LD or meta date alone does not (measured on the dates development set: 5 of 400 pages would
#: lose their day to a modified or a template date that a later stage overrules)
DECLARED_FAMILIES = frozenset({"html"})
#: what htmldate reads before its own search: its day is no source of its own where one of these gives it
HTMLDATE_READS = ("jsonld", "meta", "itemprop", "jsonld_other", "meta_date")
#: kinds whose earlier date shows a labelled update is not the publication (a date further down the page,
#: or htmldate's, may be anything)
WITNESS_KINDS = ("jsonld", "meta", "html", "itemprop", "time", "rss", "jsonld_other", "meta_date", "url")


#: a date string that gives a time of day
_TIME_OF_DAY = re.compile(r"[0-9]:[0-9]{2}")
#: midnight in UTC: how many sites write a day alone as an instant ("2020-01-10T00:00:00+00:00")
_UTC_MIDNIGHT = re.compile(r"[t ]00:00(?::00(?:[.,]0+)?)?\s*(?:z|[+-]00:?00)$", re.IGNORECASE)


def local_time(value: datetime, raw: str, zone: str) -> datetime:
    """``value`` on the clock of the page: at the UTC offset ``raw`` states when it states one other
    than zero (a zero offset or a "Z" is how many sites print UTC, not where they are), else in ``zone``;
    midnight in UTC stays in UTC (it is the day alone, written as an instant)."""
    if _UTC_MIDNIGHT.search(raw.strip()):
        return value.astimezone(timezone.utc)
    offset = stated_offset(raw)
    return value.astimezone(timezone(offset) if offset else ZoneInfo(zone))


@dataclass(frozen=True)
class DateCandidate:
    """A date the page gives for its publication, and where.

    :param kind: where it was found (a key of :data:`KINDS`)
    :param raw: the string read
    :param value: the instant, UTC
    :param local_day: the day it is on the page's clock
    :param timed: whether it gives a time of day
    :param other_item: found where other items' dates are (comments, related lists, footer)
    :param updated: labelled as the page's update ("Aktualisiert am", ``<time class="updated">``)
    :param labelled: labelled as the page's publication ("Veröffentlicht am", ``<time class="published">``)
    """

    kind: str
    raw: str
    value: datetime
    local_day: date
    timed: bool
    other_item: bool = False
    updated: bool = False
    labelled: bool = False

    @property
    def source(self) -> str:
        """The item layer it counts as (``published_source``)."""
        return KINDS[self.kind]

    @property
    def rank(self) -> int:
        """Trust: lower is more trusted."""
        return list(KINDS).index(self.kind)


@dataclass(frozen=True)
class Decision:
    """The chosen candidate (None: no date), the candidates rejected and by which rule."""

    chosen: DateCandidate | None
    rejected: list[tuple[DateCandidate, str]] = field(default_factory=list)
    settled: bool = False


def _rejection(candidate: DateCandidate, fetched_at: datetime, url_date: UrlDate | None,
               bound_holds: bool = True) -> str | None:
    """The rule (after_fetch, url_bound, other_item) that rejects ``candidate`` on its own, if any (``url_date``: the URL's date;
    ``bound_holds``: it bounds the day from above too)."""
    if candidate.value > fetched_at:
        return "after_fetch"
    if url_date is not None and candidate.kind != "url" and (
            url_date.precedes(candidate.local_day) or (bound_holds and not url_date.admits(candidate.local_day))):
        return "url_bound"
    if candidate.other_item:
        return "other_item"
    return None


def _same_minute(a: datetime, b: datetime) -> bool:
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def _split(candidates: list[DateCandidate], rule: str, rejects: Callable[[DateCandidate], bool],
           rejected: list[tuple[DateCandidate, str]]) -> list[DateCandidate]:
    """``candidates`` that ``rejects`` keeps; the others are added to ``rejected`` under ``rule``."""
    rejected += [(c, rule) for c in candidates if rejects(c)]
    return [c for c in candidates if not rejects(c)]


def decide(candidates: Sequence[DateCandidate], *, fetched_at: datetime, url_date: UrlDate | None = None,
           modified: datetime | None = None) -> Decision:
    """The publication date among ``candidates`` (in the order found) by the rules of this module.

    :param fetched_at: when the page was fetched (aware)
    :param url_date: the date the page's URL gives, if any
    :param modified: the page's last-modified instant, if it gives one
    """
    bound_holds = url_date is None or url_date.day is not None or any(
        url_date.admits(c.local_day) and _rejection(c, fetched_at, None) is None for c in candidates)
    rejected: list[tuple[DateCandidate, str]] = []
    kept: list[DateCandidate] = []
    for candidate in candidates:
        rule = _rejection(candidate, fetched_at, url_date, bound_holds)
        if rule:
            rejected.append((candidate, rule))
        else:
            kept.append(candidate)
    late = any(rule == "after_fetch" for _, rule in rejected)
    kept = _split(kept, "after_fetch", lambda c: late and c.kind == "htmldate", rejected)
    given_days = {c.local_day for c in candidates if c.kind != "htmldate"}
    kept = _split(kept, "year_only", lambda c: c.kind == "htmldate" and (c.local_day.month, c.local_day.day) == (1, 1)
                  and c.local_day not in given_days, rejected)
    first_day = min((c.local_day for c in kept if not c.updated and (c.kind in WITNESS_KINDS or c.labelled)), default=None)
    published_days = {c.local_day for c in kept if c.labelled and not c.updated}
    kept = _split(kept, "updated", lambda c: c.updated and (first_day is not None and c.local_day > first_day
                                                            or bool(published_days - {c.local_day})), rejected)
    own_days = {c.local_day for c in kept if c.kind != "htmldate"}
    updated_days = {c.local_day for c, rule in rejected if rule == "updated"} - own_days
    kept = _split(kept, "updated", lambda c: c.kind == "htmldate" and c.local_day in updated_days, rejected)
    order = {id(c): position for position, c in enumerate(candidates)}
    kept.sort(key=lambda c: (c.rank, order[id(c)]))
    stated = next((c for c in kept if c.kind in STATED_KINDS), None)
    if modified is not None and stated is not None and stated.value < modified \
            and not _same_minute(stated.value, modified):
        kept = _split(kept, "modified", lambda c: _same_minute(c.value, modified), rejected)
    printed_days = [c.local_day for c in kept if c.kind == "dateline" and not c.updated]
    witnessed = {c.local_day for c in kept if c.kind in WITNESS_KINDS and c.kind != "meta_date"}
    kept = _split(kept, "modified", lambda c: c.kind == "meta_date" and c.local_day not in witnessed
                  and any(day < c.local_day for day in printed_days), rejected)
    changed_days = {c.local_day for c, rule in rejected if rule == "modified" and c.kind in HTMLDATE_READS}
    own_days = {c.local_day for c in kept if c.kind != "htmldate"}
    kept = _split(kept, "modified", lambda c: c.kind == "htmldate" and c.local_day in changed_days - own_days, rejected)
    if not kept:
        return Decision(None, rejected)
    families: dict[date, set[str]] = {}
    for candidate in kept:
        families.setdefault(candidate.local_day, set()).add(FAMILIES[candidate.kind])
    read_by_htmldate = {FAMILIES[kind] for kind in HTMLDATE_READS}
    for sources in families.values():
        if "htmldate" in sources and sources & read_by_htmldate:
            sources.discard("htmldate")
    best_rank = {day: next((i for i, c in enumerate(kept) if c.local_day == day and
                            (c.kind != "htmldate" or "htmldate" in families[day])), len(kept)) for day in families}
    day = min(families, key=lambda d: (-len(families[d]), best_rank[d]))
    of_day = [c for c in kept if c.local_day == day]
    chosen = next((c for c in of_day if c.timed), of_day[0])
    declared = families[day] & DECLARED_FAMILIES
    return Decision(chosen, rejected, settled=len(families) == 1 and (len(families[day]) >= 2 or bool(declared)))


# -- the candidates a page gives ------------------------------------------------------------------


@dataclass(frozen=True)
class DateReader:
    """How one page's dates are read: ``parse`` gives the instant a date string means there (in the
    page's languages, zone and day order; None for no date, a date after the fetch kept: the rules
    reject it), ``zone`` is the page's clock."""

    parse: Callable[[str], datetime | None]
    zone: str

    def candidates(self, kind: str, found: Iterable[str | Dated | None]) -> list[DateCandidate]:
        """The strings in ``found`` that parse to a date, as candidates of ``kind`` (once each)."""
        candidates: dict[str, DateCandidate] = {}
        for entry in found:
            dated = entry if isinstance(entry, Dated) else Dated(entry or "")
            text = dated.text
            value = self.parse(text) if text and text not in candidates else None
            if value is not None:
                local_day = local_time(value, text, self.zone).date()
                timed = bool(_TIME_OF_DAY.search(text))
                candidates[text] = DateCandidate(kind, text, value, local_day, timed, dated.other_item, dated.updated,
                                                 dated.published)
        return list(candidates.values())


def stated_candidates(reader: DateReader, sel: Selector, meta: dict[str, list[str]], article: dict[str, Any],
                      day: UrlDate | None) -> list[DateCandidate]:
    """Publication dates the page states as data: its JSON-LD ``article``, its ``meta`` tags, its URL's ``day``."""
    in_microdata: set[str] = set()
    if "datepublished" in meta:  # itemprop <meta> tags are microdata: read with their context
        in_microdata = set(sel.xpath('//meta[@itemprop="datePublished"]/@content').getall())
    specific = [value for value in all_values(meta, (key for key in PUBLISHED_META if key not in UNSPECIFIC_META))
                if value not in in_microdata]
    unspecific = [value for value in all_values(meta, (key for key in PUBLISHED_META if key in UNSPECIFIC_META))
                  if value not in in_microdata and value not in specific]
    return [
        *reader.candidates("jsonld", [ld.text_value(article.get("datePublished"))]),
        *reader.candidates("meta", specific),
        *reader.candidates("meta_date", unspecific),
        *reader.candidates("url", [f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if day and day.day else None]),
    ]


def declared_candidates(reader: DateReader, markup: str | None, feed: str | None) -> list[DateCandidate]:
    """Publication dates where the site parser and the feed say they are: the ``markup`` its
    ``published_css`` selects, the ``feed`` entry's date."""
    return [*reader.candidates("html", [markup]), *reader.candidates("rss", [feed])]


def markup_candidates(reader: DateReader, sel: Selector, scope: Scope, blocks: ld.Blocks, article: dict[str, Any],
                      times: list[Dated]) -> list[DateCandidate]:
    """Publication dates in the page's structure: ``itemprop`` elements, the ``<time>`` elements of
    the article's header (``times``), the JSON-LD ``blocks`` other than the ``article``."""
    article_date = ld.text_value(article.get("datePublished"))
    return [
        *reader.candidates("itemprop", itemprop_values(sel, "datePublished", scope)),
        *reader.candidates("time", times),
        *reader.candidates("jsonld_other", [value for value in ld.all_values(blocks, "datePublished")
                                            if value != article_date]),
    ]


def dateline_candidates(reader: DateReader, printed: Iterable[Dated]) -> list[DateCandidate]:
    """Dates ``printed`` near the headline up to the first that is the article's own (its dateline;
    other items' dates and updates before it are candidates too, to be rejected)."""
    found: list[DateCandidate] = []
    for dated in printed:
        found += reader.candidates("dateline", [dated])
        if found and not (found[-1].other_item or found[-1].updated):
            break
    return found


def url_bound_candidates(reader: DateReader, sel: Selector, scope: Scope, day: UrlDate) -> list[DateCandidate]:
    """The first date printed anywhere on the page that fits the URL's date ``day`` (a page that
    gives no other date of that time, as a blog's "posted on" line in its footer)."""
    for candidate in reader.candidates("printed", printed_dates(sel, scope=scope)):
        if day.admits(candidate.local_day) and not (candidate.other_item or candidate.updated):
            return [candidate]
    return []


def htmldate_candidates(reader: DateReader, root: HtmlElement, url: str, fetched_at: datetime,
                        numeric: list[NumericDate], day_first: bool, *, extensive: bool = False) -> list[DateCandidate]:
    """The day htmldate finds in the tree ``root`` of the page at ``url`` (original, not updated,
    dates; the URL left out: it is a candidate of its own), by its fast search or its ``extensive``
    one (free text, with dateparser: slow), read as the page writes its ``numeric`` dates (see
    :func:`in_page_order`)."""
    local_today = fetched_at.astimezone(ZoneInfo(reader.zone)).date()
    try:
        found = find_date(root, extensive_search=extensive, original_date=True, outputformat="%Y-%m-%d",
                          url="", max_date=datetime.combine(local_today, datetime.max.time()))
    except Exception:  # htmldate raises assorted errors on hostile markup
        logger.debug("htmldate failed on %s", url, exc_info=True)
        return []
    return reader.candidates("htmldate", [in_page_order(found, numeric, day_first)])


def in_page_order(day: str | None, numeric: list[NumericDate], day_first: bool) -> str | None:
    """htmldate's ``day`` (``YYYY-MM-DD``) as the page means it: htmldate reads a numeric date in
    the order of the language it detects, so "11/01/2023" on a Swiss page with English words in
    it can come back as 1 November. When the page writes the day only that way round among its
    ``numeric`` dates and writes numeric dates ``day_first``, it is 11 January."""
    try:
        found = date.fromisoformat(day) if day else None
    except ValueError:
        return day
    if found is None or found.day > 12 or found.day == found.month or not day_first:
        return day
    written = {(first, second) for first, _, second, year in numeric if year in (found.year, found.year % 100)}
    if (found.month, found.day) in written and (found.day, found.month) not in written:
        return date(found.year, found.day, found.month).isoformat()
    return day
