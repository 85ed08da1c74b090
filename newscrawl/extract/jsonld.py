"""Read schema.org article data from ``<script type="application/ld+json">`` blocks.

A block longer than :data:`MAX_BLOCK_CHARS` is skipped (a page's article data is a few kilobytes;
a 10 MB "headline" is an attack on the parser's time), and list values are read up to
:data:`MAX_LIST_ITEMS` items.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from parsel import Selector

logger = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "Report",
        "WebPage",
    }
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BLOCKS = '//script[contains(@type, "ld+json")]/text()'
#: longest JSON-LD block read, in characters; longer ones are skipped (see :func:`oversized_blocks`)
MAX_BLOCK_CHARS = 1_000_000
#: items of a list value (authors, keywords, images) read at most
MAX_LIST_ITEMS = 1_000


def load_block(raw: str) -> Any:
    """Parse one JSON-LD block, tolerating the usual breakage (control characters, comment and CDATA wrappers)."""
    text = _CONTROL_CHARS.sub(" ", raw).strip()
    text = re.sub(r"^\s*(?:<!--|(?://\s*)?<!\[CDATA\[)|(?:-->|(?://\s*)?\]\]>)\s*$", "", text).strip().rstrip(";")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # broken, or nested deeper than Python recurses
        logger.debug("unreadable JSON-LD block (%d chars)", len(text))
        return None


class Blocks(list[Any]):
    """The page's JSON-LD blocks, read once: each one that is not oversized, parsed (None when
    unreadable); ``oversized`` counts the blocks longer than :data:`MAX_BLOCK_CHARS` (not read)."""

    oversized: int = 0


def read_blocks(sel: Selector) -> Blocks:
    """The JSON-LD blocks of the page (see :class:`Blocks`)."""
    blocks = Blocks()
    for raw in sel.xpath(_BLOCKS).getall():
        if len(raw) <= MAX_BLOCK_CHARS:
            blocks.append(load_block(raw))
        else:
            blocks.oversized += 1
    return blocks


def _items(value: Any) -> list[Any]:
    """A list value's first :data:`MAX_LIST_ITEMS` items; any other value as a list of one."""
    return value[:MAX_LIST_ITEMS] if isinstance(value, list) else [value]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Yield every object in a JSON-LD tree (lists and ``@graph`` flattened)."""
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _walk(node["@graph"])
        main = node.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _walk(main)


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return {str(name).rsplit("/", 1)[-1] for name in names if name}


def find_article(blocks: Blocks) -> dict[str, Any] | None:
    """Return the most article-like JSON-LD object of the page's ``blocks``, or None.

    A ``NewsArticle``-family object with a headline beats a bare ``WebPage``.
    """
    best: dict[str, Any] | None = None
    best_rank = 0
    for block in blocks:
        for obj in _walk(block):
            kinds = _types(obj) & ARTICLE_TYPES
            if not kinds:
                continue
            rank = (1 if kinds == {"WebPage"} else 3) + (1 if obj.get("headline") else 0)
            if rank > best_rank:
                best, best_rank = obj, rank
    return best


def all_values(blocks: Blocks, key: str) -> list[str]:
    """String values of ``key`` in every JSON-LD object of the page's ``blocks``, in page order."""
    found: list[str] = []
    for block in blocks:
        for obj in _walk(block):
            value = text_value(obj.get(key))
            if value:
                found.append(value)
    return found


def unescape(text: str) -> str:
    """Undo HTML escaping that some sites apply to JSON-LD strings, even twice (``&amp;nbsp;``)."""
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    return text


def text_value(value: Any) -> str | None:
    """A plain string from a JSON-LD value that may be a string, a list or an object."""
    if isinstance(value, str):
        return unescape(value).strip() or None
    if isinstance(value, list):
        for item in _items(value):
            found = text_value(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return text_value(value.get("name") or value.get("@value") or value.get("text"))
    return None


def names(value: Any) -> list[str]:
    """Person/organization names from an ``author``-like value (string, object or list)."""
    items = _items(value)
    found: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):
            found.extend(names(name))
        elif isinstance(name, str) and name.strip():
            found.append(unescape(name).strip())
    return found


def person_names(value: Any) -> list[str]:
    """Names from an ``author``-like value, leaving out objects typed as organizations."""
    items = _items(value)
    people = [item for item in items
              if not (isinstance(item, dict) and any("Organization" in kind for kind in _types(item)))]
    return names(people)


def string_list(value: Any) -> list[str]:
    """Keywords/sections: a list, or a comma-separated string, as a list of strings."""
    if isinstance(value, str):
        return [part.strip() for part in unescape(value).split(",") if part.strip()]
    if isinstance(value, list):
        return [part for item in _items(value) for part in string_list(item)]
    return []


def image_urls(value: Any) -> list[tuple[str, str | None]]:
    """(url, caption) pairs from an ``image`` value (URL string, ImageObject or list)."""
    items = _items(value)
    found: list[tuple[str, str | None]] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            found.append((item.strip(), None))
        elif isinstance(item, dict):
            url = item.get("url") or item.get("contentUrl")
            if isinstance(url, str) and url.strip():
                caption = item.get("caption") or item.get("description")
                found.append((url.strip(), caption if isinstance(caption, str) else None))
    return found
