"""Where pages put their publication date: meta names, ``itemprop``, ``<time>``, visible text.

These helpers return raw strings; :func:`newscrawl.extract.dates.parse_date` turns them into datetimes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from parsel import Selector

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
#: ``<meta>`` names that carry the last-modified date
MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "article:modified",
    "datemodified", "dcterms.modified", "last-modified", "lastmod",
)  # fmt: skip

#: a date (numeric, ISO or with a month name) with an optional time before or after it, inside a longer text
_DATE_IN_TEXT = re.compile(
    r"(?<![\w.])(?:\d{1,2}:\d{2},?\s+)?(?:"  # a time may come first: "06:24, 18.02.23"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2})?"
    r"|\d{1,2}[./]\s?\d{1,2}[./]\s?(?:\d{4}|\d{2})(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}[:.]\d{2})?"
    r"|\d{1,2}\.?\s[^\W\d_]{3,12}\.?,?\s\d{4}(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}:\d{2})?"
    r"|[^\W\d_]{3,12}\.?\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4}(?:,?\s*(?:[^\W\d_]{1,3}\s)?\d{1,2}:\d{2}(?:\s?[ap]\.?m\.?)?)?"
    r")(?![\w])"
)
#: elements whose short text may be a dateline
_DATELINE_TAGS = "self::time or self::span or self::div or self::p or self::li or self::small or self::dd"
_MAX_DATELINE = 80
#: elements after the headline looked at for a dateline: "near" it (a page of them would cost seconds)
_MAX_DATELINE_ELEMENTS = 300


def itemprop_values(sel: Selector, prop: str) -> list[str]:
    """Values of elements with ``itemprop=prop``: ``datetime``/``content`` attribute, else the text."""
    found: list[str] = []
    for node in sel.xpath(f'//*[@itemprop="{prop}"]'):
        value = node.root.get("datetime") or node.root.get("content") or clean_line(node.xpath("string()").get())
        if value and value.strip():
            found.append(value.strip())
    return found


def article_time_elements(sel: Selector) -> list[str]:
    """``datetime`` of ``<time>`` elements in the article's header: inside ``<article>`` or
    ``<header>``, or right after the ``<h1>``, in page order; ``pubdate`` ones first."""
    queries = (
        "//time[@pubdate][@datetime]",
        "(//article|//header|//main)//time[@datetime]",
        "(//h1)[position() <= 3]/following::time[@datetime][position() <= 3]",  # the first h1s: each h1 scans the rest
    )
    found: list[str] = []
    for query in queries:
        found.extend(value.strip() for value in sel.xpath(f"{query}/@datetime").getall() if value.strip())
    return list(dict.fromkeys(found))


def visible_dates(sel: Selector, limit: int = 8) -> Iterator[str]:
    """Dates printed in short elements near the headline ("Datum 28.04.2023", "27. Januar 2026").

    Looks at up to ``limit`` short elements after the ``<h1>`` (the whole page without one)
    whose text holds something shaped like a date, and yields that part of their text.
    """
    start = "(//h1)[1]/following::*" if sel.xpath("//h1") else "//body//*"
    seen = 0
    for node in sel.xpath(f"{start}[{_DATELINE_TAGS}][not(ancestor::script)][not(ancestor::style)]"
                          f"[position() <= {_MAX_DATELINE_ELEMENTS}]"):
        text = clean_line(node.xpath("string()").get())
        if not text or len(text) > _MAX_DATELINE:
            continue
        match = _DATE_IN_TEXT.search(text)
        if match:
            yield match.group()
            seen += 1
            if seen >= limit:
                return
