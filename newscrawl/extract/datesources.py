"""Where pages put their publication date: meta names, ``itemprop``, ``<time>``, visible text, the URL.

These helpers return raw strings (with whether they sit where other items' dates are);
:func:`newscrawl.extract.dates.parse_date` turns them into datetimes.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from newscrawl.extract.jsonld import ARTICLE_TYPES
from newscrawl.extract.text import clean_line

logger = logging.getLogger(__name__)

#: ``<meta>`` names (lower-cased) that carry the publication date, most specific first
PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "article:published", "og:published_time",
    "published_time", "article.published", "parsely-pub-date", "sailthru.date", "datepublished",
    "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dcterms.created", "date",
    "pubdate", "publishdate", "publish-date", "publish_date", "article_date_original", "og:pubdate",
    "cxenseparse:recs:publishtime", "originalpublicationdate", "release_date",
)  # fmt: skip
#: the names of :data:`PUBLISHED_META` that do not say which date they hold (a CMS may write its last change there)
UNSPECIFIC_META = frozenset({"date", "dc.date", "dcterms.date"})
#: ``<meta>`` names that carry the last-modified date
MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "article:modified",
    "datemodified", "dcterms.modified", "last-modified", "lastmod",
)  # fmt: skip

#: a date (numeric, ISO or with a month name) with an optional time before or after it, inside a longer text
_DATE_IN_TEXT = re.compile(
    r"(?<![\w.])(?:\d{1,2}:\d{2},?\s+)?(?:"  # a time may come first: "06:24, 18.02.23"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:?\d{2})?)?(?:\s?(?:Z|UTC))?)?"
    r"|\d{1,2}[./]\s?\d{1,2}[./]\s?(?:\d{4}|\d{2})(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}[:.]\d{2})?"
    r"|\d{1,2}\.?\s[^\W\d_]{3,12}\.?,?\s\d{4}(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}:\d{2})?"
    r"|[^\W\d_]{3,12}\.?\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}:\d{2}(?:\s?[ap]\.?m\.?)?)?"
    r")(?![\w])"
)
_DIGIT = re.compile(r"\d")
#: a press dateline opening a paragraph: "Karlsruhe, (12.11.2021). …", "BERLIN (dpa), 5. März 2023 – …"
_LEAD_DATELINE = re.compile(
    r"^(?:[^\W\d_][^\W\d_'.-]*(?:[ /-][^\W\d_]+){0,3}\s*(?:\([^()]{1,20}\))?\s*[,:]\s*)?"
    rf"\(?({_DATE_IN_TEXT.pattern})\)?\s*[.:–—-]\s"
)
#: characters at the start of a paragraph read for a press dateline
_LEAD_CHARS = 120
#: elements whose short text may be a dateline
_DATELINE_TAGS = frozenset(("time", "span", "div", "p", "li", "small", "dd"))
_MAX_DATELINE = 80
#: characters of an element's text read at most (before collapsing whitespace) to see if it is short
_MAX_DATELINE_RAW = 500
#: elements after the headline looked at for a dateline: "near" it (a page of them would cost seconds)
_MAX_DATELINE_ELEMENTS = 300


#: dates and characters of a page's text read at most when looking for a date anywhere in it
_MAX_PRINTED_DATES = 60
_MAX_PRINTED_CHARS = 300_000
_UNPRINTED_TAGS = frozenset(("script", "style", "noscript", "template"))

#: a class or id word of a container of other items' dates: comments, related articles, side bars,
#: lists of teasers and of events
_OTHER_ITEM_WORD = re.compile(
    r"(?:^|[-_])(?:comments?|commentlist|respond|replies|related|recommended|recommendations|sidebar|widget"
    r"|popular|trending|mostread|most-read|readalso|read-also|more-news|more-stories|similar|caption"
    r"|teasers|teaser-list|event-list|events-list|calendar|kalender|termine|agenda|veranstaltungen)(?:$|[-_])"
)
#: a class word that files the page in a category or under a tag (WordPress: ``category-veranstaltungen``),
#: whatever word follows
_TAXONOMY_CLASS = re.compile(r"^(?:category|tag|cat|post_tag|topic)-")
#: a label that says a date is the page's last update or revision: "Aktualisiert am", "Updated:",
#: "Stand:", "Mis à jour le", "Last modified", "This page was last edited on", "Letzte Änderung:"
_UPDATE_LABEL = re.compile(
    r"(?:updated?|last modified|modified|revised|edited|aktualisiert|aktualisierung|geändert|änderung|bearbeitet"
    r"|stand|mis à jour|mise à jour|modification|modifié"
    r"|actualizado|actualización|aggiornato|aggiornamento|bijgewerkt|oppdatert|opdateret|uppdaterad|päivitetty"
    r"|zaktualizowano|aktualizace|оновлено|обновлено)(?:\s+(?:am|on|le|el|il|op|den|the))?\s*[:.,-]?\s*$",
    re.IGNORECASE,
)
#: a label that says a date is the page's publication: "Veröffentlicht am", "Erschienen am:", "Published on"
_PUBLISHED_WORDS = (
    r"(?:published|posted|publiziert|veröffentlicht|erschienen|erstellt|publié|publication|publicado|publicación"
    r"|pubblicato|pubblicazione|gepubliceerd|publicerad|publisert|udgivet|julkaistu|opublikowano|publikováno"
    r"|опубліковано|опубликовано)(?:\s+(?:am|on|le|el|il|op|den|the|at))?\s*[:.,-]?\s*"
)
_PUBLISHED_LABEL = re.compile(_PUBLISHED_WORDS + "$", re.IGNORECASE)
#: a date labelled as the publication or the update inside a longer text ("… 14:49:39 Erschienen am: 01.11.2023 …")
#: (the label opening the text or following a number or a separator, as in a footer's list of facts;
#: "The report, published on 5 May 2020, …" is a sentence about something else)
_LABELLED_DATE = re.compile(
    rf"(?:^|(?<=[\d|·•/–—:)-])\s*|(?<=\s[|·•/–—-])\s*)(?:{_PUBLISHED_WORDS}|{_UPDATE_LABEL.pattern.removesuffix('$')})"
    rf"({_DATE_IN_TEXT.pattern})", re.IGNORECASE)
#: characters before a date read for its label
_MAX_LABEL = 40
#: a class word of a ``<time>`` element holding the publication (WordPress: ``time.entry-date.published``)
_PUBLISHED_CLASS = re.compile(r"(?:^|[-_])(?:published|pubdate|publish-date|date-published)(?:$|[-_])")
#: a class word of a ``<time>`` element holding the update (WordPress: ``time.updated``)
_UPDATE_CLASS = re.compile(r"(?:^|[-_])(?:updated|modified|update|last-modified)(?:$|[-_])")
#: a class or id word of an ``<aside>`` that holds the article's own data ("aside.meta": its date, its author)
_ARTICLE_META_WORD = re.compile(r"(?:^|[-_])(?:meta|byline|dateline|info)(?:$|[-_])")
#: a date in a URL's path: ``/2023/04/28/``, ``/2023-04-28-slug``, ``/20230428/``; a year and month: ``/2023/04/``
#: (a one-digit day must end the path segment: ``/2023/10/3-fragen`` is a slug)
_URL_DAYS = (
    re.compile(r"(?<![0-9])(?P<year>(?:19|20)[0-9]{2})(?P<sep>[/_-])(?P<month>[0-9]{1,2})(?P=sep)"
               r"(?P<day>[0-9]{2}(?=[/_.-]|$)|[0-9](?=[/.]|$))"),
    re.compile(r"/(?P<year>(?:19|20)[0-9]{2})(?P<month>0[1-9]|1[0-2])(?P<day>0[1-9]|[12][0-9]|3[01])(?=[/_.-]|$)"),
)
_URL_MONTH = re.compile(r"/((?:19|20)[0-9]{2})/(0?[1-9]|1[0-2])/")
#: the path of a site's archive of a day, a month or a year: ``/2019/12/09/``, ``/hemeroteca/2024-10-15/``,
#: ``/archiv/2019-12-09.html``; or of its author's page (a byline's link holding the date)
_DATE_ARCHIVE = re.compile(r"/(?:19|20)[0-9]{2}(?:[/-][0-9]{1,2}){0,2}(?:/|\.[a-z]{3,5})?$|/(?:author|autor|authors|profile)/")


class Dated(NamedTuple):
    """A date string the page gives, whether it sits where other items' dates are, and whether the
    page labels it as an update ("Aktualisiert am", "Updated:", ``<time class="updated">``) or as the
    publication ("Veröffentlicht am", "Published:", ``<time class="published">``)."""

    text: str
    other_item: bool = False
    updated: bool = False
    published: bool = False


def labels_update(before: str) -> bool:
    """Whether the text just before a date (``before``) says it is when the page was updated."""
    return bool(_UPDATE_LABEL.search(before[-_MAX_LABEL:]))


def labels_publication(before: str) -> bool:
    """Whether the text just before a date (``before``) says it is when the page was published."""
    return bool(_PUBLISHED_LABEL.search(before[-_MAX_LABEL:]))


def _labelled(text: str, before: str, other_item: bool) -> Dated:
    """``text`` (a date) as :class:`Dated`, with what the text before it (``before``) labels it."""
    return Dated(text, other_item, labels_update(before), labels_publication(before))


def _text_before(element: Any) -> str:
    """The last characters of text before ``element`` (lxml) inside its parent: its label."""
    parts: list[str] = []
    size = 0
    node = element
    while (previous := node.getprevious()) is not None and size < _MAX_LABEL:
        for piece in (previous.tail or "", previous.text_content() if isinstance(previous.tag, str) else ""):
            parts.append(piece)
            size += len(piece)
        node = previous
    parent = element.getparent()
    if size < _MAX_LABEL and parent is not None:
        parts.append(parent.text or "")
    return "".join(reversed(parts))[-_MAX_LABEL:]


def headline_containers(sel: Selector) -> set[Any]:
    """The elements that hold the page's first ``<h1>`` (it included): the article's, not another item's."""
    headline = sel.xpath("(//h1)[1]")
    return {headline[0].root, *headline[0].root.iterancestors()} if headline else set()


def _address(url: str) -> str:
    """A URL as compared with the page's own: host without ``www.``, path without a final slash, query."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}{'?' + parts.query if parts.query else ''}"


@dataclass(frozen=True)
class Scope:
    """Where the article is on its page: what holds its headline, and the addresses that are its own."""

    #: the elements that hold the page's first ``<h1>``, it included (see :func:`headline_containers`)
    headline: frozenset[Any] = frozenset()
    #: the headline sits in an ``<article>``: the page's other ``<article>`` elements are other items
    in_article: bool = False
    #: the page's URL and the URL it declares (canonical), as :func:`_address` writes them
    own: frozenset[str] = frozenset()
    #: the URL links are read against
    base: str | None = None

    def links_elsewhere(self, link: Any) -> bool:
        """Whether an ``<a href>`` (lxml) leads to another page: not to this one, a part of it or a
        date archive (a blog's "posted on" date links its day's archive)."""
        href = (link.get("href") or "").strip()
        if self.base is None or not href or href.startswith(("#", "javascript:", "mailto:")):
            return False
        url = urljoin(self.base, href)
        return _address(url) not in self.own and not _DATE_ARCHIVE.search(urlsplit(url).path)


def article_scope(sel: Selector, url: str | None = None, declared: str | None = None) -> Scope:
    """The :class:`Scope` of the article on the page at ``url`` (``declared``: the URL it gives itself)."""
    headline = headline_containers(sel)
    own = frozenset(_address(link) for link in (url, declared) if link)
    in_article = any(getattr(node, "tag", None) == "article" for node in headline)
    return Scope(frozenset(headline), in_article, own, url)


def belongs_to_other_item(element: Any, scope: Scope = Scope()) -> bool:
    """Whether an lxml element sits in comments, a related-articles list, a side bar (``<aside>``
    but one named for the article's data, "aside.meta"; ``<nav>``, a container named so), a link to
    another page (a teaser: see :meth:`Scope.links_elsewhere`), another ``<article>`` than the
    headline's, a picture's caption (``<figure>``, ``<figcaption>``, a container
    named so), the page's footer (a ``<footer>`` outside any ``<article>`` or ``<main>``) or another
    item's microdata (an ``itemscope`` that is no article): dates there are other items', the
    picture's or the copyright's. Containers that also hold the headline (``scope.headline``) are the
    article's and its page's, whatever their names."""
    in_footer = False
    scoped = False
    for node in (element, *element.iterancestors()):
        tag = node.tag if isinstance(node.tag, str) else ""
        if node in scope.headline or tag in ("body", "html"):
            break
        if tag == "a" and scope.links_elsewhere(node) or tag == "article" and scope.in_article:
            return True
        if node is element:
            continue
        if not scoped and node.get("itemscope") is not None:
            scoped = True
            if not any(kind.rsplit("/", 1)[-1] in ARTICLE_TYPES for kind in (node.get("itemtype") or "").split()):
                return True
        words = f"{node.get('class') or ''} {node.get('id') or ''}".lower().split()
        if tag in ("nav", "figure", "figcaption") or tag == "aside" and not any(
                _ARTICLE_META_WORD.search(word) for word in words):
            return True
        if tag == "footer":
            in_footer = True
        elif tag in ("article", "main"):
            in_footer = False
        if any(_OTHER_ITEM_WORD.search(word) and not _TAXONOMY_CLASS.match(word) for word in words):
            return True
    return in_footer


def itemprop_values(sel: Selector, prop: str, scope: Scope | None = None) -> list[Dated]:
    """Values of elements with ``itemprop=prop``: ``datetime``/``content`` attribute, else the text
    (``scope``: the article's, see :func:`article_scope`)."""
    found: list[Dated] = []
    nodes = sel.xpath(f'//*[@itemprop="{prop}"]')
    scope = scope or (article_scope(sel) if nodes else Scope())
    for node in nodes:
        value = node.root.get("datetime") or node.root.get("content") or clean_line(node.xpath("string()").get())
        if value and value.strip():
            found.append(Dated(value.strip(), belongs_to_other_item(node.root, scope)))
    return found


def article_time_elements(sel: Selector, scope: Scope | None = None) -> list[Dated]:
    """``datetime`` of ``<time>`` elements in the article's header: inside ``<article>`` or
    ``<header>``, or right after the ``<h1>``, in page order; ``pubdate`` ones first (``scope``:
    the article's, see :func:`article_scope`)."""
    queries = (
        "//time[@pubdate][@datetime]",
        "//time[@datetime][ancestor::article or ancestor::header or ancestor::main]",
        "(//h1)[position() <= 3]/following::time[@datetime][position() <= 3]",  # the first h1s: each h1 scans the rest
    )
    found: dict[str, Dated] = {}
    for query in queries:
        for node in sel.xpath(query):
            value = node.root.get("datetime", "").strip()
            if value and value not in found:
                scope = scope or article_scope(sel)
                words = (node.root.get("class") or "").lower().split()
                dated = _labelled(value, _text_before(node.root), belongs_to_other_item(node.root, scope))
                published = dated.published or any(_PUBLISHED_CLASS.search(word) for word in words)
                # WordPress writes "entry-date published updated" on a post never updated
                updated = dated.updated or not published and any(_UPDATE_CLASS.search(word) for word in words)
                found[value] = dated._replace(updated=updated, published=published)
    return list(found.values())


def _elements_after_headline(sel: Selector, tags: frozenset[str], limit: int) -> Iterator[Any]:
    """The first ``limit`` lxml elements named in ``tags`` after the first ``<h1>`` (outside it), in
    page order; in the ``<body>`` when the page has no ``<h1>``. Read lazily: a dateline is near;
    lxml filters the tags, so the elements in between cost nothing in Python."""
    headlines = sel.xpath("(//h1)[1]")
    if headlines:
        following = _following(headlines[0].root, tags)
    else:
        bodies = sel.xpath("//body")
        if not bodies:
            return
        following = bodies[0].root.iter(*tags)
    for count, element in enumerate(following, 1):
        yield element
        if count >= limit:
            return


def _following(start: Any, tags: frozenset[str]) -> Iterator[Any]:
    """The elements named in ``tags`` after ``start`` and outside it, in page order (XPath's
    ``following`` axis): each later sibling's subtree, then those of its parent's later siblings."""
    node = start
    while node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter(*tags)
        node = node.getparent()


def _text_upto(element: Any, limit: int) -> tuple[str, bool]:
    """The text of an lxml element (as XPath ``string()``) up to ``limit`` characters, and whether
    that is all of it (lxml writes the text out: faster than reading it piece by piece in Python)."""
    text = etree.tostring(element, method="text", encoding=str, with_tail=False)
    return text[:limit], len(text) <= limit


def visible_dates(sel: Selector, limit: int = 8, scope: Scope | None = None) -> Iterator[Dated]:
    """Dates printed in short elements near the headline ("Datum 28.04.2023", "27. Januar 2026"),
    and press datelines that open a paragraph ("Karlsruhe, (12.11.2021). …").

    Looks at the elements after the ``<h1>`` (the whole page without one) and yields up to
    ``limit`` dates: every date in a short element's text, the date opening a longer one (``scope``:
    the article's, see :func:`article_scope`).
    """
    scope = scope or article_scope(sel)
    seen = 0
    for node in _elements_after_headline(sel, _DATELINE_TAGS, _MAX_DATELINE_ELEMENTS):
        raw, whole = _text_upto(node, _MAX_DATELINE_RAW)
        if not _DIGIT.search(raw if whole else raw[:_LEAD_CHARS]):  # every date form has digits
            continue
        text = clean_line(raw if whole else raw[:_LEAD_CHARS])
        if not whole or len(text) > _MAX_DATELINE:  # a paragraph or more: a press dateline may open it,
            lead = _LEAD_DATELINE.match(text[:_LEAD_CHARS])  # and a short one labelled ("Erschienen am: …")
            matches = [lead] if lead else []
            if whole:
                matches += [match for match in _LABELLED_DATE.finditer(text) if not lead or match.start(1) != lead.start(1)]
            for match in matches:
                yield _labelled(match.group(1), text[:match.start(1)], belongs_to_other_item(node, scope))
                seen += 1
                if seen >= limit:
                    return
            continue
        other_item: bool | None = None
        for match in _DATE_IN_TEXT.finditer(text):  # "Veröffentlicht am 3.5.2023, aktualisiert am 5.5.2023"
            if other_item is None:
                other_item = belongs_to_other_item(node, scope) or _captions_a_picture(node, text)
            yield _labelled(match.group(), text[:match.start()] or _text_before(node), other_item)
            seen += 1
            if seen >= limit:
                return


def printed_dates(sel: Selector, limit: int = _MAX_PRINTED_DATES, scope: Scope | None = None) -> list[Dated]:
    """Dates printed anywhere in the page's ``<body>`` text, in page order: the first ``limit`` in
    its first ``_MAX_PRINTED_CHARS`` characters (scripts and styles left out; ``scope``: the
    article's, see :func:`article_scope`)."""
    bodies = sel.xpath("//body")
    if not bodies:
        return []
    scope = scope or article_scope(sel)
    found: list[Dated] = []
    read = 0
    for element in bodies[0].root.iter():
        if not isinstance(element.tag, str):
            continue
        own = None if element.tag in _UNPRINTED_TAGS else element.text
        for piece, holder in ((own, element), (element.tail, element.getparent())):
            if not piece or holder is None:
                continue
            read += len(piece)
            for match in _DATE_IN_TEXT.finditer(piece):
                found.append(_labelled(match.group(), piece[:match.start()], belongs_to_other_item(holder, scope)))
                if len(found) >= limit:
                    return found
            if read > _MAX_PRINTED_CHARS:
                return found
    return found


def _captions_a_picture(element: Any, text: str) -> bool:
    """Whether ``text`` (of an lxml element) repeats the ``alt`` or ``title`` of a picture in it or
    right before it: a caption."""
    pictures = element.xpath(".//img | preceding-sibling::*[1]/descendant-or-self::img")
    return any(clean_line(picture.get(name)) == text for picture in pictures for name in ("alt", "title"))


#: a numeric date: "25/10/2023", "10/25/23", "11.01.2023"
_NUMERIC_DATE = re.compile(r"(?<![0-9./-])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![0-9])")
#: characters of a page's text searched for numeric dates
_MAX_NUMERIC_CHARS = 300_000
#: the text of a page's body, scripts and styles left out
_BODY_TEXT = etree.XPath("//body//text()[not(parent::script or parent::style)]")


class NumericDate(NamedTuple):
    """A numeric date as written: its first and second numbers, separator and year (as written: 23 or 2023)."""

    first: int
    separator: str
    second: int
    year: int


def numeric_dates(root: Any) -> list[NumericDate]:
    """The numeric dates printed in a page (its lxml ``root``; the first ``_MAX_NUMERIC_CHARS``
    characters of its text)."""
    text = " ".join(_BODY_TEXT(root))
    return [NumericDate(int(match[1]), match[2], int(match[3]), int(match[4]))
            for match in _NUMERIC_DATE.finditer(text, 0, _MAX_NUMERIC_CHARS)]


def slashed_day_first(found: list[NumericDate], days: set[date] | None = None) -> bool | None:
    """How a page writes numeric dates with slashes or dashes, where ``found`` (its numeric dates)
    shows it: True for day first ("25/10/2023"), False for month first ("10/25/2023"), by the
    majority; None when none shows it. With ``days`` (days the page's data give), the ambiguous
    ones count instead, by which reading gives one of those days ("11/2/23" and 2023-11-02)."""
    day_first = month_first = 0
    for first, separator, second, year in found:
        if separator == ".":
            continue
        if days is None:
            day_first += 12 < first <= 31 and 1 <= second <= 12
            month_first += 12 < second <= 31 and 1 <= first <= 12
        elif first != second and first <= 12 and second <= 12:
            full_year = year if year > 99 else 2000 + year
            day_first += date(full_year, second, first) in days and date(full_year, first, second) not in days
            month_first += date(full_year, first, second) in days and date(full_year, second, first) not in days
    return None if day_first == month_first else day_first > month_first


#: how far (days) a publication's local day may be from the URL's day: their zones may differ
URL_DAY_SLACK = 1


@dataclass(frozen=True)
class UrlDate:
    """The date a URL's path gives: a year and month, and the day when it has one."""

    year: int
    month: int
    day: int | None = None

    def precedes(self, day: date) -> bool:
        """Whether local day ``day`` is before this URL's date (a day of slack for zones): a page is
        not published before the URL it was given."""
        first = date(self.year, self.month, self.day or 1)
        return day < first - timedelta(days=URL_DAY_SLACK)

    def admits(self, day: date) -> bool:
        """Whether a publication on local day ``day`` fits this URL (a day either side for zones)."""
        slack = timedelta(days=URL_DAY_SLACK)
        if self.day is not None:
            named = date(self.year, self.month, self.day)
            return named - slack <= day <= named + slack
        first = date(self.year, self.month, 1)
        last = date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return first - slack <= day <= last + slack


_ISO_DAY = re.compile(r"^\s*((?:19|20)[0-9]{2})-([0-9]{2})-([0-9]{2})")


def iso_day(text: str | None) -> date | None:
    """The day an ISO 8601 string (``2023-11-02T13:12:39Z``) writes, as written."""
    match = _ISO_DAY.match(text or "")
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        return None


def url_date(url: str) -> UrlDate | None:
    """The date the URL's path gives (a day, else a year and month), if any."""
    path = urlsplit(url).path
    for pattern in _URL_DAYS:
        match = pattern.search(path)
        if match:
            year, month, day = (int(part) for part in match.group("year", "month", "day"))
            try:
                return UrlDate(year, month, date(year, month, day).day)
            except ValueError:  # no such day
                continue
    match = _URL_MONTH.search(path)
    return UrlDate(int(match[1]), int(match[2])) if match else None
