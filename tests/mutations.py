"""Mutated real pages and random documents for fuzzing the parsers (tests/test_fuzz.py, bench/fuzz.py).

A case is a saved page (tests/files/regional, UNIAN reconstructions of tests/sites and tests/files) with one or more
mutations applied — truncation, deleted tag spans, duplicated or shuffled chunks, injected unicode
and control characters, broken JSON-LD — or a random string. :func:`check` runs one parser on it,
then the clean pipeline, and returns the outcome; anything else escaping is a bug.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import bson
import bson.errors
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from conftest import FILES, SITES, read_page
from newscrawl.extract.parser import GenericParser, NotAnArticle, ParserProxy
from newscrawl.sites import parser_for_url
from pipelines.clean import CleanPipeline
from spiders.unian import UnianParser

FETCHED = datetime(2026, 1, 9, 12, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Source:
    """A real page and the URL it was published at."""

    name: str
    url: str
    html: str


#: the pages (under tests/files, else a path of their own) and the URL each was published at
_PAGES = {
    "regional/pravda_ru_2026-01-08.html": "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/",
    "regional/unn_ru_2020-12-03.html": "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona",
    "regional/ukrinform_ru_2020-09-20.html":
        "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
    "regional/football_ua_ru_2016-08-15.html": "https://football.ua/germany/311510-podolski-zavershil-kareru-v-sbornojj.html",
    "regional/24tv_2020-09-21.html": "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177",
    "regional/liga_ru_2021-08-22.reconstructed.html":
        "https://news.liga.net/sport/news/futbol-arsenal-chelsi-gde-i-kogda-smotret-match-angliyskoy-premer-ligi",
    "regional/ukranews_ru_2020-09-28.reconstructed.html":
        "https://ukranews.com/news/728743-gubernator-hersonshhiny-gusev-kupil-kvartiru-v-kredit",
    SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz":
        "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html",
    "unian/all_news_unian_info_2023-02-18.reconstructed.html": "https://www.unian.info/detail/all_news",
}
#: each page named by its folder and file name
SOURCES = tuple(Source("/".join((FILES / page).parts[-2:]), url, read_page(page)) for page, url in _PAGES.items())
#: the parsers a case may be run with: the site's own (by URL), the generic one, UNIAN's
PARSERS: dict[str, Callable[[str], type[ParserProxy]]] = {
    "site": parser_for_url,
    "generic": lambda url: GenericParser,
    "unian": lambda url: UnianParser,
}

_TAG_SPAN = re.compile(r"<(\w+)\b[^>]*>.*?</\1>", re.S)
_JSONLD = re.compile(r"(<script[^>]*application/ld\+json[^>]*>)(.*?)(</script>)", re.S | re.I)
#: characters a mutation injects: controls, zero-width and bidi marks, oddities, markup, JSON escapes
_ODD = ("\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u00a0", "\u200b", "\u200e", "\u202e",
        "\u2028", "\ufeff", "\ufffd", "\U0001f600", "\U000e0041", "<", ">", "&", "&amp;", "&#0;", "&#x110000;",
        '"', "'", "]]>", "<!--", "-->", "<![CDATA[", "</script>", "<script>", "{", "}", "\\", "\r",
        "\\ud800", "\\udfff", "\\u0000")  # the last three: escapes JSON turns into lone surrogates and NUL


def truncate(html: str, rng: random.Random) -> str:
    """Cut the page at a random point."""
    return html[: rng.randrange(len(html) + 1)]


def delete_tag_span(html: str, rng: random.Random) -> str:
    """Delete one element (open tag to its close tag), or a random slice when none is found."""
    spans = [m.span() for m in _TAG_SPAN.finditer(html, rng.randrange(len(html) + 1))][:50]
    start, end = rng.choice(spans) if spans else sorted(rng.randrange(len(html) + 1) for _ in range(2))
    return html[:start] + html[end:]


def duplicate_chunk(html: str, rng: random.Random) -> str:
    """Copy a random chunk to a random place."""
    start = rng.randrange(len(html) + 1)
    chunk = html[start:start + rng.randrange(1, 5000)]
    at = rng.randrange(len(html) + 1)
    return html[:at] + chunk * rng.randint(1, 3) + html[at:]


def shuffle_chunks(html: str, rng: random.Random) -> str:
    """Split the page into a few chunks and put them in a random order."""
    cuts = sorted(rng.randrange(len(html) + 1) for _ in range(rng.randint(1, 8)))
    chunks = [html[a:b] for a, b in zip([0, *cuts], [*cuts, len(html)], strict=True)]
    rng.shuffle(chunks)
    return "".join(chunks)


def inject_characters(html: str, rng: random.Random) -> str:
    """Insert control, zero-width, bidi, astral and markup characters at random places."""
    out = list(html)
    for _ in range(rng.randint(1, 40)):
        odd = rng.choice(_ODD) if rng.random() < 0.7 else chr(rng.choice((rng.randrange(0x20, 0xD800), rng.randrange(0xE000, 0x110000))))
        out.insert(rng.randrange(len(out) + 1), odd)
    return "".join(out)


def break_jsonld(html: str, rng: random.Random) -> str:
    """Damage the JSON-LD blocks: cut, wrong types, nested garbage or emptied."""
    def damage(match: re.Match[str]) -> str:
        data = match.group(2)
        kind = rng.randrange(6)
        if kind == 0:
            data = data[: rng.randrange(len(data) + 1)]
        elif kind == 1:
            data = re.sub(r'"(headline|datePublished|author|articleBody|@type|image)"\s*:', r'"\1": [[null, 1e999, {}]], "x":', data)
        elif kind == 2:
            data = re.sub(r'"(datePublished|dateModified)"\s*:\s*"[^"]*"', r'"\1": "0000-99-99T99:99:99+99:99"', data)
        elif kind == 3:
            data = "[" * rng.randint(1, 2000) + data
        elif kind == 4:
            data = '{"@type": "NewsArticle", "headline": {"@value": 5}, "author": "' + "\\u0000" * 3 + '"}'
        else:
            data = ""
        return match.group(1) + data + match.group(3)

    return _JSONLD.sub(damage, html) if _JSONLD.search(html) else inject_characters(html, rng)


MUTATORS: dict[str, Callable[[str, random.Random], str]] = {
    "truncate": truncate,
    "delete_tag_span": delete_tag_span,
    "duplicate_chunk": duplicate_chunk,
    "shuffle_chunks": shuffle_chunks,
    "inject_characters": inject_characters,
    "break_jsonld": break_jsonld,
}


def mutate(html: str, names: list[str], rng: random.Random) -> str:
    """``html`` with the named mutations applied in order."""
    for name in names:
        html = MUTATORS[name](html, rng)
    return html


def random_document(rng: random.Random) -> str:
    """A random string: noise, or noise wrapped in article-like markup."""
    alphabet = "abc <>/=\"'&;#{}[]:,.0123456789 \n\tабвгїєґ\u200b\x00\ufeff"
    noise = "".join(rng.choice(alphabet) if rng.random() < 0.9 else chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(400)))
    if rng.random() < 0.5:
        return noise
    return (f"<html><head><title>{noise[:40]}</title><script type=\"application/ld+json\">{noise[40:80]}</script>"
            f"</head><body><h1>{noise[:60]}</h1><time datetime=\"{noise[60:90]}\">{noise[90:120]}</time>"
            f"<article><p>{noise[120:]}</p></article></body></html>")


_HTML_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|<!--|<script", re.I)


class BrokenInvariant(AssertionError):
    """A parsed article that must not be stored as it is."""


def check(html: str, url: str, parser: type[ParserProxy], pipeline: CleanPipeline) -> str:
    """Parse ``html`` and validate the result: ``parsed``, ``not_article`` or ``dropped/<Reason>``.

    Raises :class:`BrokenInvariant` for a stored body holding markup; any other exception is a bug."""
    try:
        article = parser.parse(html, url, fetched_at=FETCHED)
    except NotAnArticle:
        return "not_article"
    try:
        pipeline.process_item(article)
    except DropItem as exc:
        return f"dropped/{type(exc).__name__}"
    for name in ("title", "lead", "body"):
        text = getattr(article, name) or ""
        if _HTML_TAG.search(text):
            raise BrokenInvariant(f"{name} holds markup: {_HTML_TAG.search(text).group()!r}")
    for name in ("published_at", "modified_at"):
        value = getattr(article, name)
        if value is not None and value.utcoffset() is None:
            raise BrokenInvariant(f"{name} is naive: {value!r}")
    try:
        bson.encode(ItemAdapter(article).asdict())
    except (bson.errors.BSONError, UnicodeError, OverflowError) as exc:
        raise BrokenInvariant(f"the article cannot be stored: {exc}") from exc
    return "parsed"
