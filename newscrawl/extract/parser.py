"""Layered article parsing: JSON-LD → meta → site markup → generic, as a pure ``(html, url)`` function.

A site parser is a subclass of :class:`ArticleParser` that only declares selectors (and overrides
a method where the site is odd). Parser versions for different layout eras are nested in a
:class:`ParserProxy` (Fundus style): each version has ``VALID_UNTIL`` and the proxy picks the
version by crawl date; the proxy's :class:`~newscrawl.extract.site.Site` is each version's ``site``.
Each field of the item is given by one method marked :func:`field` (web-poet style), and
:meth:`ArticleParser.parse` gives them all in the item's order.

Parsing is bounded: a page longer than ``max_bytes`` (``NEWSCRAWL_PARSE_MAX_BYTES``, default
:data:`PARSE_MAX_BYTES`, counted in UTF-8) is read without the contents of its scripts and styles
(JSON-LD kept) and its markup only up to the bound (see :func:`bounded_html`); JSON-LD blocks over
``jsonld.MAX_BLOCK_CHARS`` are skipped; the item's fields are cut to their limits
(``newscrawl.extract.items``). What was cut is named in ``Article.truncated``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property, partial
from datetime import date, datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement, HTMLParser
from parsel import Selector

from newscrawl import __version__
from newscrawl.defaults import default
from newscrawl.extract.dates import DEFAULT_LANGUAGES, DEFAULT_TZ, MAX_FUTURE, MONTH_FIRST_COUNTRIES, parse_date, stated_offset
from newscrawl.extract import jsonld as ld
from newscrawl.extract.authors import byline_names, clean_authors, is_byline
from newscrawl.extract.datesources import (
    MODIFIED_META,
    PUBLISHED_META,
    Dated,
    Scope,
    article_scope,
    article_time_elements,
    itemprop_values,
    NumericDate,
    iso_day,
    numeric_dates,
    slashed_day_first,
    url_date,
    visible_dates,
)
from newscrawl.extract.generic import generic_body, looks_like_html
from newscrawl.extract.language import guess_language, host_language
from newscrawl.extract.published import (
    DateCandidate,
    DateReader,
    Decision,
    dateline_candidates,
    decide,
    declared_candidates,
    htmldate_candidates,
    local_time,
    markup_candidates,
    stated_candidates,
    url_bound_candidates,
)
from newscrawl.extract.meta import all_values, canonical_link, first, hreflang_alternates, html_language, read_meta
from newscrawl.extract.text import (
    CAPTION_CSS,
    clean_line,
    element_text,
    join_paragraphs,
    paragraphs_until,
    split_caption_credit,
    without_boilerplate,
    word_count,
)
from newscrawl.extract.timezones import declared_country, page_zone
from newscrawl.extract.site import Site
from newscrawl.extract.title import choose_title, document_title, site_names, strip_decoration, title_key
from newscrawl.extract.items import PARSED_FIELDS, Article, Image, plausible_body, within_limits
from newscrawl.extract.urls import absolute_url, edition_language, is_http_url, same_site

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: control characters are not XML: lxml refuses them in attribute names (fuzzing found it); a space each
_CONTROL_BYTES = bytes.maketrans(bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20)]), b" " * 29)
#: bytes (UTF-8) of a page's markup parsed at most (``NEWSCRAWL_PARSE_MAX_BYTES``): without their
#: scripts and styles, the 258 Fundus pages are at most 0.5 MB; hostile markup this long parses in seconds
PARSE_MAX_BYTES: int = default("NEWSCRAWL_PARSE_MAX_BYTES")
#: an opening ``<script>``/``<style>`` tag (attributes bounded: a tag without ``>`` costs no rescans)
_SCRIPT_OPEN = re.compile(r"<(script|style)\b([^<>]{0,4000})>", re.I)
_SCRIPT_CLOSE = {"script": re.compile(r"</script", re.I), "style": re.compile(r"</style", re.I)}
Candidate = tuple[str, Callable[[], Any]]
#: characters of a body paragraph that may be a byline (a longer one is text)
_BYLINE_CHARS = 300
#: a numeric date whose day and month could be read either way ("11/01/2023", "03-04-21")
_AMBIGUOUS_NUMERIC = re.compile(r"(?<![0-9])(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|1[0-2])[/-][0-9]{2,4}(?![0-9])")


def cut_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8 (at a character boundary), and whether it was cut."""
    if len(text) <= max_bytes // 4:
        return text, False
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text, False
    end = max_bytes
    while end > 0 and data[end] & 0xC0 == 0x80:  # not inside a character
        end -= 1
    return data[:end].decode("utf-8", "surrogatepass"), True


def _without_script_contents(html: str, ld_budget: int) -> tuple[str, int, bool]:
    """``html`` with its scripts and styles emptied but for JSON-LD blocks up to ``MAX_BLOCK_CHARS``,
    kept in page order while they take at most ``ld_budget`` bytes in all; the bytes they take;
    and whether a JSON-LD block was dropped. One pass, no backtracking."""
    parts: list[str] = []
    ld_bytes, dropped_ld = 0, False
    position = 0
    while opening := _SCRIPT_OPEN.search(html, position):
        start = opening.end()
        closing = _SCRIPT_CLOSE[opening.group(1).lower()].search(html, start)
        end = closing.start() if closing else len(html)
        parts.append(html[position:start])
        if "ld+json" in opening.group(2).lower():
            size = len(html[start:end].encode("utf-8", "surrogatepass")) if end - start <= ld.MAX_BLOCK_CHARS else None
            if size is not None and ld_bytes + size <= ld_budget:
                parts.append(html[start:end])
                ld_bytes += size
            else:
                dropped_ld = True
        position = end
    parts.append(html[position:])
    return "".join(parts), ld_bytes, dropped_ld


def bounded_html(html: str, max_bytes: int = PARSE_MAX_BYTES) -> tuple[str, list[str]]:
    """The part of ``html`` a parser reads, and what was left out (``html``, ``jsonld``).

    A page within ``max_bytes`` (UTF-8) is read whole. A longer one loses the contents of its
    scripts and styles, which never hold article text (pages bloated by inline code keep their
    article), but keeps its JSON-LD blocks, which hold article data and cost little to read: up to
    ``max_bytes`` of them, besides the markup. The markup is then cut at ``max_bytes``.
    """
    if not cut_utf8(html, max_bytes)[1]:
        return html, []
    kept, ld_bytes, dropped_ld = _without_script_contents(html, max_bytes)
    kept, cut = cut_utf8(kept, max_bytes + ld_bytes)
    return kept, [name for name, left_out in (("html", cut), ("jsonld", dropped_ld)) if left_out]


def page_tree(html: str) -> HtmlElement:
    """The parsed page, without its comments: a comment's text is never shown, and the text after
    it stays where it was (React separates inline parts with ``<!-- -->``; a layer that removes
    comment nodes itself, as trafilatura does, would take their tails with them)."""
    parser = HTMLParser(recover=True, encoding="utf-8", huge_tree=True, remove_comments=True)
    data = html.strip().encode("utf-8", "replace").translate(_CONTROL_BYTES)
    root = etree.fromstring(data or b"<html/>", parser=parser)
    return root if root is not None else etree.fromstring(b"<html/>", parser=parser)


class NotAnArticle(ValueError):
    """The page has no article on it (no title, or neither body nor lead)."""


@dataclass
class FeedHint:
    """What a feed or listing said about an article before it was fetched (a fallback layer)."""

    title: str | None = None
    summary: str | None = None
    published_raw: str | None = None
    section: str | None = None
    image_url: str | None = None


def _language_code(declared: str | None) -> str | None:
    """The two-letter code of a declared language (``uk-UA``, ``ru_RU``, ``EN`` → ``uk``, ``ru``, ``en``)."""
    return (declared or "").strip().lower().replace("_", "-").split("-")[0][:2] or None


def _select(sel: Selector, query: str) -> Any:
    """Run a CSS selector, or XPath when the query starts with ``/`` or ``(``."""
    return sel.xpath(query) if query.startswith(("/", "(")) else sel.css(query)


#: the attribute of a parser method that names the item field it gives (see :func:`field`)
_GIVES = "item_field"


def field(given: Callable[..., T] | str) -> Any:
    """Mark a parser method as the one that gives a field of the item: the field of its own name
    (``@field``), or the field named (``@field("site")``) where the parser's attribute of that name
    is another thing. :meth:`ArticleParser.parse` gives each field of
    :data:`~newscrawl.extract.items.PARSED_FIELDS` by its method; a site parser that overrides the
    method changes the field."""
    def gives(method: Callable[..., T], name: str) -> Callable[..., T]:
        setattr(method, _GIVES, name)
        return method

    if isinstance(given, str):
        return partial(gives, name=given)
    return gives(given, given.__name__)


class ArticleParser:
    """Generic layered parser; site parsers override the class attributes below.

    Markup selectors (CSS, or XPath when starting with ``/`` or ``(``) feed the ``html`` layer;
    ``None`` means the site has no such markup and the layer is skipped.
    """

    #: the site whose pages these are, as its :class:`ParserProxy` declares it (None: any site,
    #: named by the page's host)
    site: ClassVar[Site | None] = None
    VALID_UNTIL: ClassVar[date] = date.max
    #: zone of local times the site prints; None: inferred per page (see ``timezone``)
    TIMEZONE: ClassVar[str | None] = DEFAULT_TZ
    #: whether the site's own name is the author when no person is named ("Ukrinform" on ukrinform.ru):
    #: on a declared site ``Article.site`` already says it; on an unknown one it names the newsroom
    SITE_AS_AUTHOR: ClassVar[bool] = False
    #: whether a page with no headline in JSON-LD, ``og:title`` or ``title_css`` takes its ``<title>``
    #: (a site parser's page without its headline markup is no article of the site)
    TITLE_FROM_DOCUMENT: ClassVar[bool] = False

    title_css: ClassVar[str | None] = "h1"
    lead_css: ClassVar[str | None] = None
    published_css: ClassVar[str | None] = None
    modified_css: ClassVar[str | None] = None
    author_css: ClassVar[str | None] = None
    body_css: ClassVar[str | None] = None
    body_exclude: ClassVar[tuple[str, ...]] = ()
    #: a body paragraph starting with one of these ends the body ("more news:" blocks)
    body_stop_markers: ClassVar[tuple[str, ...]] = ()
    figure_css: ClassVar[str | None] = None
    figure_image_attrs: ClassVar[tuple[str, ...]] = ("data-src", "src")
    caption_css: ClassVar[str] = "figcaption"
    tags_css: ClassVar[str | None] = None
    section_css: ClassVar[str | None] = None

    def __init__(
        self,
        html: str,
        url: str,
        *,
        fetched_at: datetime | None = None,
        hint: FeedHint | None = None,
        max_bytes: int = PARSE_MAX_BYTES,
    ) -> None:
        self.html, self.truncated = bounded_html(html or "", max_bytes)
        self.url = url
        self.sel = Selector(root=page_tree(self.html), type="html")
        self.fetched_at = fetched_at or datetime.now(timezone.utc)
        self.hint = hint or FeedHint()
        self.ld_blocks = ld.read_blocks(self.sel)
        self.ld = ld.find_article(self.ld_blocks) or {}
        if self.ld_blocks.oversized and "jsonld" not in self.truncated:
            self.truncated.append("jsonld")
        self.meta = read_meta(self.sel)
        self.layers: dict[str, str | int] = {}
        #: links the page gave for URL fields that are not http(s) (``javascript:``, ``data:``…): left out
        self.unsafe_urls_dropped = 0

    # -- plumbing ---------------------------------------------------------------------------

    @classmethod
    def parser_name(cls) -> str:
        """``<ProxyName>.<Version>`` for nested versions, else the class name."""
        return cls.__qualname__

    def _first(self, field: str, candidates: Iterable[Candidate]) -> Any:
        """Try layers in order; keep the first non-empty answer and record which layer gave it."""
        for layer, produce in candidates:
            value = produce()
            if value:
                self.layers[field] = layer
                return value
        return None

    def _node_texts(self, query: str | None) -> list[str]:
        """The text of each node the selector finds, in page order (attribute selections: values)."""
        if not query:
            return []
        found = (clean_line(node.root if isinstance(node.root, str) else node.xpath("string()").get())
                 for node in _select(self.sel, query))
        return [text for text in found if text]

    def _markup_texts(self, query: str | None) -> list[str]:
        return list(dict.fromkeys(self._node_texts(query)))

    def _markup_text(self, query: str | None) -> str | None:
        return clean_line(" ".join(self._node_texts(query))) or None

    def _page_url(self, link: str | None) -> str | None:
        """``link`` made absolute against the page; None for no link, an unreadable one, or one that
        is not http(s) (counted in ``unsafe_urls_dropped``)."""
        url = absolute_url(self.url, link) if link else None
        if url is None:
            return None
        if not is_http_url(url):
            self.unsafe_urls_dropped += 1
            return None
        return url

    @cached_property
    def _edition_languages(self) -> dict[str, str]:
        """{edition prefix: language} of the site (``pravda.com.ua/rus/`` -> ``ru``)."""
        return self.site.edition_languages if self.site else {}

    def _same_site(self, url: str) -> bool:
        """Whether ``url`` is on this page's site: its registrable domain, or the site's editions."""
        return same_site(self.url, url, (prefix.partition("/")[0] for prefix in self._edition_languages))

    @cached_property
    def _language(self) -> str | None:
        """The page's language (see ``language``), found once: dates and the zone are read in it."""
        return self._first("language", [
            ("url", lambda: edition_language(self.url, self._edition_languages)),
            ("html", lambda: _language_code(html_language(self.sel))),
            ("jsonld", lambda: _language_code(ld.text_value(self.ld.get("inLanguage")))),
            ("meta", lambda: _language_code(first(self.meta, "og:locale"))),
            ("generic", lambda: self._guessed_language),
        ])

    @cached_property
    def _guessed_language(self) -> str | None:
        """The language of the page's headline, description and paragraphs, guessed (uk/ru/en)."""
        parts = [first(self.meta, "og:title", "og:description", "description") or "",
                 *self.sel.xpath("//h1//text() | //p//text()").getall()]
        return guess_language(" ".join(parts))

    def _date_languages(self) -> list[str] | None:
        """The page's language; else the defaults and the language of the host's country."""
        if self._language:
            return [self._language]
        country = host_language(self.url)
        return list(dict.fromkeys([*DEFAULT_LANGUAGES, country])) if country else None

    def _date(self, raw: str | None, max_future: timedelta | None = MAX_FUTURE) -> datetime | None:
        if not raw:
            return None
        day_first = self._day_first if _AMBIGUOUS_NUMERIC.search(raw) else True
        return parse_date(raw, languages=self._date_languages(), tz=self.timezone, now=self.fetched_at,
                          max_future=max_future, day_first=day_first)

    @cached_property
    def _locales(self) -> tuple[str | None, ...]:
        """The language tags the page declares: ``<html lang>``, ``og:locale``, JSON-LD ``inLanguage``."""
        return (self.sel.xpath("/html/@lang").get(), first(self.meta, "og:locale"),
                ld.text_value(self.ld.get("inLanguage")))

    @cached_property
    def _numeric_dates(self) -> list[NumericDate]:
        """The numeric dates the page prints (read once: the day order and htmldate's check use them)."""
        return numeric_dates(self.sel.root)

    @cached_property
    def _day_first(self) -> bool:
        """Whether the page writes numeric dates day first: as the unambiguous ones it prints do
        ("25/10/2023"); else as the ambiguous ones it prints for days its data or URL give
        ("11/2/23" beside "2023-11-02T…"); else as its locale does (month first in the US:
        ``en-US``, a ``.us`` domain)."""
        shown = slashed_day_first(self._numeric_dates)
        if shown is None:
            shown = slashed_day_first(self._numeric_dates, self._data_days)
        if shown is not None:
            return shown
        tld = (urlsplit(self.url).hostname or "").rsplit(".", 1)[-1].lower()
        country = tld if tld == "us" else declared_country(self._locales, self._language)
        return country not in MONTH_FIRST_COUNTRIES

    @cached_property
    def _data_days(self) -> set[date]:
        """The days the page's data and URL give as written (``YYYY-MM-DD…`` strings; no zone needed)."""
        texts = [*ld.all_values(self.ld_blocks, "datePublished"), *ld.all_values(self.ld_blocks, "dateModified"),
                 *all_values(self.meta, (*PUBLISHED_META, *MODIFIED_META))]
        days = {found for text in texts if (found := iso_day(text))}
        day = url_date(self.url)
        return days | {date(day.year, day.month, day.day)} if day and day.day else days

    @cached_property
    def _scope(self) -> Scope:
        """Where the article is on the page: its headline's containers, its own addresses."""
        return article_scope(self.sel, self.url, self._declared_url)

    @cached_property
    def _article_times(self) -> list[Dated]:
        """The ``<time datetime>`` elements of the article's header (read once: the zone and the date use them)."""
        return article_time_elements(self.sel, self._scope)

    @cached_property
    def _visible_dates(self) -> list[Dated]:
        """The dates printed near the headline (read once: the zone and the dateline use them)."""
        return list(visible_dates(self.sel, scope=self._scope))

    @cached_property
    def timezone(self) -> str:
        """The zone of local times on the page: ``TIMEZONE``, else inferred from the page."""
        if self.TIMEZONE:
            return self.TIMEZONE
        dated = [*ld.all_values(self.ld_blocks, "datePublished"), *ld.all_values(self.ld_blocks, "dateModified"),
                 *(value for key in (*PUBLISHED_META, *MODIFIED_META) for value in self.meta.get(key, [])),
                 *(found.text for found in self._article_times)]
        printed = (found.text for found in self._visible_dates if not found.other_item)  # read only if needed
        return page_zone(self.url, dated, self._language, printed, self.fetched_at, self._locales,
                         self._given_days(found.text for found in self._visible_dates if not found.other_item))

    def _given_days(self, printed: Iterable[str]) -> Iterator[date]:
        """The days the page gives as written: its URL's, and those of the dates it prints (without
        an offset: a printed date is the page's wall clock)."""
        day = url_date(self.url)
        if day and day.day:
            yield date(day.year, day.month, day.day)
        languages = self._date_languages()
        for text in printed:
            day_first = self._day_first if _AMBIGUOUS_NUMERIC.search(text) else True
            if stated_offset(text) is None and (value := parse_date(text, languages=languages, tz="UTC",
                                                                      now=self.fetched_at, day_first=day_first)):
                yield value.date()

    # -- fields: one method per field of the item (``@field``) ------------------------------------

    @field("url")
    def fetched_url(self) -> str:
        """The URL the page was fetched from."""
        return self.url

    @field("site")
    def site_name(self) -> str:
        """The site's name; for a page of no declared site, its host without ``www.``."""
        return self.site.name if self.site else (urlsplit(self.url).hostname or "").removeprefix("www.")

    @field
    def language(self) -> str | None:
        """The edition's language from the URL; else the page's declared language (``<html lang>``,
        JSON-LD ``inLanguage``, ``og:locale``); else a guess from the page's text (layer ``generic``)."""
        return self._language

    @field
    def source_id(self) -> str | None:
        """The site's story id from the article URL."""
        pattern = self.site.article_url if self.site else None
        match = pattern.search(self.url) if pattern else None
        return match.group("id") if match else None

    @cached_property
    def _declared_url(self) -> str | None:
        """The http(s) URL the page declares for itself: ``<link rel=canonical>``, else ``og:url``."""
        return self._page_url(canonical_link(self.sel) or first(self.meta, "og:url"))

    @field
    def canonical_url(self) -> str:
        """The declared URL when it is on this page's site, else the fetched URL: a page cannot
        speak for another site's article (that claim is kept as ``claimed_canonical``)."""
        declared = self._declared_url
        return declared if declared and self._same_site(declared) else self.url

    @field
    def claimed_canonical(self) -> str | None:
        """A declared URL on another site: recorded, never used as the article's identity."""
        declared = self._declared_url
        return declared if declared and not self._same_site(declared) else None

    def _site_names(self) -> set[str]:
        """Compact names of the site (``og:site_name``, publisher, host) for stripping titles."""
        publisher = self.ld.get("publisher")
        names = [first(self.meta, "og:site_name"), first(self.meta, "application-name"),
                 (first(self.meta, "twitter:site") or "").lstrip("@"), *ld.names(publisher)]
        return site_names(self.url, names)

    @field
    def title(self) -> str | None:
        """Headline: JSON-LD ``headline``, ``og:title`` and markup by vote (see ``choose_title``), then the feed, then the page's ``<title>`` (see ``document_title``).

        Site names, sections, bylines and dates appended to any of them are stripped first.
        """
        return self._headline

    @cached_property
    def _headline(self) -> str | None:
        """The headline (see ``title``), chosen once: the body's cleanup compares paragraphs with it."""
        sites = self._site_names()
        sections = [*ld.string_list(self.ld.get("articleSection")), *self.meta.get("article:section", [])]
        chosen = choose_title(
            strip_decoration(ld.text_value(self.ld.get("headline")), sites, sections),
            strip_decoration(first(self.meta, "og:title", "twitter:title"), sites, sections),
            strip_decoration(self._markup_text(self.title_css), sites, sections),
        )
        if chosen:
            self.layers["title"] = chosen[0]
            return chosen[1]
        return self._first("title", [
            ("rss", lambda: clean_line(self.hint.title)),
            ("generic", lambda: document_title(self.sel.xpath("string(//title)").get(),
                                               self.sel.xpath("//h2").xpath("normalize-space(.)").getall()[:5],
                                               sites, sections) if self.TITLE_FROM_DOCUMENT else None),
        ])

    @field
    def lead(self) -> str | None:
        """Standfirst: JSON-LD ``description``, then meta description, then markup, then the feed."""
        return self._lead

    @cached_property
    def _lead(self) -> str | None:
        return self._first(
            "lead",
            [
                ("jsonld", lambda: clean_line(ld.text_value(self.ld.get("description")))),
                ("meta", lambda: clean_line(first(self.meta, "og:description", "description"))),
                ("html", lambda: self._markup_text(self.lead_css)),
                ("rss", lambda: clean_line(self.hint.summary)),
            ],
        )

    def _markup_body(self) -> str | None:
        if not self.body_css:
            return None
        nodes = _select(self.sel, self.body_css)
        if not nodes:
            return None
        text = element_text(nodes[0], exclude=(*self.body_exclude, CAPTION_CSS))
        return paragraphs_until(text, self.body_stop_markers) or None

    def _without_furniture(self, text: str | None) -> str | None:
        """Body text without paragraphs that repeat the headline, the byline or the printed
        publication date, and without page furniture ("read also" links, captions, copyright
        lines: see ``without_boilerplate``)."""
        if not text:
            return None
        headline = self.title()
        title = title_key(headline) if headline else None
        authors = self._author_names
        dateline = self.published()[1]
        kept = [p for p in text.split("\n\n")
                if not (len(p) <= _BYLINE_CHARS and is_byline(p, authors)
                        or headline and len(p) <= 2 * len(headline) and title_key(p) == title
                        or p == dateline)]
        return without_boilerplate("\n\n".join(kept)) or None

    @field
    def body(self) -> str | None:
        """Article text: site markup, then the generic extractor, then JSON-LD ``articleBody``;
        from each only a text that can be a body (``plausible_body``: not a heading, a site's name
        or a navigation line).

        ``articleBody`` comes last: sites usually flatten it to one paragraph without sub-headings.
        """
        return self._body

    @cached_property
    def _body(self) -> str | None:
        def plausible(text: str | None) -> str | None:
            return text if plausible_body(text) else None

        return self._first(
            "body",
            [
                ("html", lambda: plausible(self._without_furniture(self._markup_body()))),
                ("generic", lambda: plausible(self._without_furniture(generic_body(self.sel.root, self.url)))
                 if looks_like_html(self.html, self.sel.root) else None),
                ("jsonld", lambda: plausible(self._without_furniture(
                    join_paragraphs(str(self.ld.get("articleBody") or "").split("\n"))))),
            ],
        )

    @field
    def authors(self) -> list[str]:
        """Author names: JSON-LD ``author``, then ``author`` meta, then markup (site selector, bylines).

        People come first: names are split and cleaned (see ``clean_authors``) and a layer that
        only names the site or an organization gives way to the next. When no layer names a
        person, the organization credited in JSON-LD or meta is the author ("dpa"; the site itself,
        "BBC News", only where ``SITE_AS_AUTHOR``).
        """
        return list(self._author_names)

    @cached_property
    def _author_names(self) -> list[str]:
        """The authors (see ``authors``), found once: the body's cleanup looks for their byline too."""
        sites = self._site_names()
        credited = set() if self.SITE_AS_AUTHOR else sites
        meta_names = ("article:author", "author", "byl", "dc.creator", "sailthru.author")
        return (
            self._first(
                "authors",
                [
                    ("jsonld", lambda: clean_authors(ld.person_names(self.ld.get("author")), sites)),
                    ("meta", lambda: clean_authors(all_values(self.meta, meta_names), sites)),
                    ("html", lambda: clean_authors(self._markup_texts(self.author_css), sites)),
                    ("generic", lambda: clean_authors(byline_names(self.sel), sites)),
                    ("jsonld", lambda: clean_authors(ld.names(self.ld.get("author")), credited)),
                    ("meta", lambda: clean_authors(all_values(self.meta, meta_names), credited)),
                ],
            )
            or []
        )

    def _dated(self, field: str, candidates: Iterable[tuple[str, Callable[[], Iterable[str | None]]]]) -> tuple[datetime | None, str | None]:
        """First (datetime, raw string) a layer yields that parses to a plausible date.

        Each layer yields its strings in order of preference; the first that parses wins.
        """
        for layer, produce in candidates:
            for raw in produce():
                parsed = self._date(raw)
                if parsed is not None:
                    self.layers[field] = layer
                    return parsed, raw
        return None, None

    @cached_property
    def _published_decision(self) -> Decision:
        """The publication date by the rules of ``newscrawl.extract.published``, looking further only
        while the answer is unsettled: what the page states as data (JSON-LD, meta, URL), then the
        site's markup and the feed, then the page's structure, then the dateline near the headline,
        then htmldate's fast search; its extensive search only when there is no date at all, and last
        a date printed anywhere on the page that fits the URL's date."""
        modified, _ = self.modified()
        day = url_date(self.url)
        reader = DateReader(partial(self._date, max_future=None), self.timezone)
        htmldate = partial(htmldate_candidates, reader, self.sel.root, self.url, self.fetched_at)
        found = stated_candidates(reader, self.sel, self.meta, self.ld, day)
        stages: tuple[Callable[[], list[DateCandidate]], ...] = (
            lambda: declared_candidates(reader, self._markup_text(self.published_css), self.hint.published_raw),
            lambda: markup_candidates(reader, self.sel, self._scope, self.ld_blocks, self.ld, self._article_times),
            lambda: dateline_candidates(reader, self._visible_dates),
            lambda: htmldate(self._numeric_dates, self._day_first),
        )
        decide_among = partial(decide, fetched_at=self.fetched_at, url_date=day, modified=modified)
        decision = decide_among(found)
        for more in stages:
            if decision.settled:
                break
            found += more()
            decision = decide_among(found)
        if decision.chosen is None:
            found += htmldate(self._numeric_dates, self._day_first, extensive=True)
            decision = decide_among(found)
        if decision.chosen is None and day is not None:
            found += url_bound_candidates(reader, self.sel, self._scope, day)
            decision = decide_among(found)
        if decision.chosen:
            self.layers["published_at"] = decision.chosen.source
        self.layers["published_rejected"] = len(decision.rejected)
        return decision

    def published(self) -> tuple[datetime | None, str | None]:
        """Publication date (UTC) and the string it was read from, decided among every date the page
        gives (see ``_published_decision``)."""
        chosen = self._published_decision.chosen
        return (chosen.value, chosen.raw) if chosen else (None, None)

    @field
    def published_at(self) -> datetime | None:
        """The publication date, UTC (see ``published``)."""
        return self.published()[0]

    @field
    def published_raw(self) -> str | None:
        """The string the publication date was read from."""
        return self.published()[1]

    @field
    def published_source(self) -> str | None:
        """The layer the publication date came from."""
        chosen = self._published_decision.chosen
        return chosen.source if chosen else None

    @field
    def published_local(self) -> str | None:
        """The publication time on the page's clock, ISO 8601 with its offset: the offset the date
        string states, else the page's zone (``timezone``)."""
        chosen = self._published_decision.chosen
        return local_time(chosen.value, chosen.raw, self.timezone).isoformat() if chosen else None

    def modified(self) -> tuple[datetime | None, str | None]:
        """Last-modified date: JSON-LD ``dateModified``, meta, markup."""
        return self._modified

    @field
    def modified_at(self) -> datetime | None:
        """The last-modified date, UTC (see ``modified``)."""
        return self.modified()[0]

    @cached_property
    def _modified(self) -> tuple[datetime | None, str | None]:
        return self._dated(
            "modified_at",
            [
                ("jsonld", lambda: [ld.text_value(self.ld.get("dateModified"))]),
                ("meta", lambda: all_values(self.meta, MODIFIED_META)),
                ("html", lambda: [self._markup_text(self.modified_css)]),
                ("generic", lambda: [found.text for found in itemprop_values(self.sel, "dateModified", self._scope)]),
            ],
        )

    @field
    def section(self) -> str | None:
        """Section: JSON-LD ``articleSection``, ``article:section`` meta, markup, the feed category."""
        return self._first(
            "section",
            [
                ("jsonld", lambda: (ld.string_list(self.ld.get("articleSection")) or [None])[0]),
                ("meta", lambda: first(self.meta, "article:section")),
                ("html", lambda: self._markup_text(self.section_css)),
                ("rss", lambda: clean_line(self.hint.section)),
            ],
        )

    @field
    def tags(self) -> list[str]:
        """Tags: JSON-LD ``keywords``, ``article:tag`` meta, markup."""
        return (
            self._first(
                "tags",
                [
                    ("jsonld", lambda: list(dict.fromkeys(ld.string_list(self.ld.get("keywords"))))),
                    ("meta", lambda: list(dict.fromkeys(self.meta.get("article:tag", [])))),
                    ("html", lambda: self._markup_texts(self.tags_css)),
                ],
            )
            or []
        )

    def _markup_images(self) -> list[Image]:
        if not self.figure_css:
            return []
        images: list[Image] = []
        for figure in _select(self.sel, self.figure_css):
            src = next(
                (value for attr in self.figure_image_attrs
                 if (value := figure.css(f"img::attr({attr})").get()) and not value.startswith("data:")),
                None,
            )
            if not src:
                continue
            caption_text = clean_line(figure.css(self.caption_css).xpath("string()").get())
            caption, credit = split_caption_credit(caption_text or figure.css("img::attr(alt)").get())
            url = self._page_url(src)
            if url:
                images.append(Image(url=url, caption=caption, credit=credit))
        return images

    @field
    def images(self) -> list[Image]:
        """Pictures: site markup (with captions), then JSON-LD ``image``, ``og:image``, the feed."""
        def from_ld() -> list[Image]:
            pairs = ((self._page_url(url), caption) for url, caption in ld.image_urls(self.ld.get("image")))
            return [Image(url, *split_caption_credit(caption)) for url, caption in pairs if url]

        def from_meta() -> list[Image]:
            urls = (self._page_url(url) for url in self.meta.get("og:image", [])[:1])
            return [Image(url) for url in urls if url]

        def from_feed() -> list[Image]:
            url = self._page_url(self.hint.image_url)
            return [Image(url)] if url else []

        return (
            self._first(
                "images",
                [
                    ("html", self._markup_images),
                    ("jsonld", from_ld),
                    ("meta", from_meta),
                    ("rss", from_feed),
                ],
            )
            or []
        )

    @field
    def translations(self) -> dict[str, str]:
        """The same story in the site's other editions, from ``hreflang`` alternates.

        Alternates that point at a home page (some sites list their editions' roots) are not
        translations of the story and are left out, and so are alternates on another site.
        """
        own = self._language
        found = {}
        for lang, href in hreflang_alternates(self.sel).items():
            url = self._page_url(href)
            if url and lang != own and urlsplit(url).path.strip("/") and self._same_site(url):
                found[lang] = url
        return found

    @field
    def word_count(self) -> int:
        """The words of the body."""
        return word_count(self.body())

    # -- fields: what the parse records of itself ------------------------------------------------

    @field("fetched_at")
    def fetched_at_utc(self) -> datetime:
        """When the page was fetched, UTC."""
        return self.fetched_at.astimezone(timezone.utc)

    @field
    def parser(self) -> str:
        """Which code read the page: ``<ProxyName>.<Version>@newscrawl-<package version>``."""
        return f"{self.parser_name()}@newscrawl-{__version__}"

    @field("layers")
    def layers_used(self) -> dict[str, str | int]:
        """The layer that answered each field (given after the fields that record one)."""
        return dict(self.layers)

    @field("truncated")
    def left_out(self) -> list[str]:
        """What was cut to stay within bounds: fields over their limit, ``html``, ``jsonld``."""
        return list(self.truncated)

    @field("unsafe_urls_dropped")
    def unsafe_urls(self) -> int:
        """The links left out for not being http(s) (given last: the URL fields count into it)."""
        return self.unsafe_urls_dropped

    def validate_page(self, title: str | None, body: str | None, lead: str | None) -> None:
        """Raise :class:`NotAnArticle` when the page carries no article."""
        if not title or not (body or lead):
            raise NotAnArticle(f"no article on {self.url}: title={bool(title)} body={bool(body)} lead={bool(lead)}")

    def parse(self) -> Article:
        """Every field of an :class:`Article` the parser gives
        (:data:`~newscrawl.extract.items.PARSED_FIELDS`), in the item's order, each by its ``@field``
        method; :class:`NotAnArticle` first when the page carries no article."""
        title, lead, body = self.title(), self.lead(), self.body()
        self.validate_page(title, body, lead)
        producers = field_methods(type(self))
        return within_limits(Article(**{name: getattr(self, producers[name])() for name in PARSED_FIELDS}))


@cache
def field_methods(parser: type[ArticleParser]) -> dict[str, str]:
    """{item field: the name of the ``parser`` method that gives it} (see :func:`field`)."""
    return {getattr(member, _GIVES): name for cls in reversed(parser.__mro__)
            for name, member in vars(cls).items() if hasattr(member, _GIVES)}


class ParserProxy:
    """A site's parser versions by layout era; nested :class:`ArticleParser` subclasses.

    Versions are ordered by ``VALID_UNTIL``; the newest has ``date.max``. Calling the proxy with
    a crawl date returns the version valid on that date.
    """

    versions: ClassVar[list[type[ArticleParser]]] = []
    #: the site whose pages these are (None: any site)
    site: ClassVar[Site | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Order the versions by era and give each the site."""
        super().__init_subclass__(**kwargs)
        found = [v for v in vars(cls).values() if isinstance(v, type) and issubclass(v, ArticleParser)]
        found.sort(key=lambda v: v.VALID_UNTIL)
        until = [v.VALID_UNTIL for v in found]
        if len(set(until)) != len(until):
            raise ValueError(f"{cls.__name__}: two parser versions share a VALID_UNTIL; give each its own date")
        cls.versions = found
        if cls.site is not None:
            for version in found:
                version.site = cls.site

    @classmethod
    def for_date(cls, crawl_date: date) -> type[ArticleParser]:
        """The version valid on ``crawl_date``."""
        for version in cls.versions:
            if crawl_date < version.VALID_UNTIL:
                return version
        return cls.versions[-1]

    @classmethod
    def parse(
        cls, html: str, url: str, *, fetched_at: datetime | None = None, hint: FeedHint | None = None,
        max_bytes: int = PARSE_MAX_BYTES,
    ) -> Article:
        """Parse with the version valid at ``fetched_at`` (default: now), reading at most ``max_bytes`` of the page."""
        when = fetched_at or datetime.now(timezone.utc)
        return cls.for_date(when.date())(html, url, fetched_at=when, hint=hint, max_bytes=max_bytes).parse()


class GenericParser(ParserProxy):
    """Any news site nobody wrote a parser for: JSON-LD, meta, ``<h1>``, trafilatura for the body."""

    class V1(ArticleParser):
        """The only version: no site markup is known, and the site's clock is inferred per page."""

        TIMEZONE = None
        SITE_AS_AUTHOR = True
        TITLE_FROM_DOCUMENT = True
