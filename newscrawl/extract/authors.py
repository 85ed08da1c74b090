"""Author names: bylines split into people, without "By", roles, organisations, e-mails or URLs.

:func:`clean_authors` normalizes what any layer found ("By A and B, dpa" -> ["A", "B", "dpa"]);
:func:`byline_names` reads a byline from page markup when no metadata names a person.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from parsel import Selector

from newscrawl.extract.text import clean_line
from newscrawl.extract.title import compact
from newscrawl.extract.items import MAX_AUTHORS

logger = logging.getLogger(__name__)

#: punctuation and words that join two names (or a name and a date) in a byline
_JOINERS = re.compile(r"\s*(?:,|;|\||·|\s&\s|\s(?:and|und|og|och|en|et|y|e|i|и|і|та|oraz|a|ve|dan)\s)\s*", re.IGNORECASE)
#: "By", "Von", "Av", "Text:" ... in front of a byline
_BY = re.compile(r"^(?:by|von|av|af|par|por|door|text|texte|autor|autorin|author|от|автор)\b\s*:?\s*", re.IGNORECASE)
#: a role after a name: "(obe)", "| Reporter", Korean "기자" (reporter)
_ROLE = re.compile(r"\s*(?:\([^)]*\)|\s기자|\s특파원)$")
_NOT_A_NAME = re.compile(r"@|https?://|www\.|^\d+$|\.(?:com|de|net|org)\b", re.IGNORECASE)
_MAX_WORDS = 5
_DIGIT = re.compile(r"\d")

#: markup that holds a byline, most specific first (relative to the page)
_BYLINE_QUERIES = (
    '//*[@itemprop="author"]//*[@itemprop="name"]',
    '//*[@itemprop="author"][not(.//*[@itemprop="name"])]',
    '//a[@rel="author"]',
    '(//h1)[position() <= 3]/following::*[contains(concat(" ", normalize-space(@class), " "), " byline ") or contains(@class, "author")]'
    '[position() <= 12]//a[contains(@href, "/author") or contains(@href, "/autor") or contains(@href, "/profile")]',
    '(//h1)[position() <= 3]/following::*[contains(@class, "author") or contains(@class, "byline")][position() <= 5]'
    '[not(.//*[contains(@class, "author") or contains(@class, "byline")])]',
)
_MAX_BYLINE = 120
#: characters of one raw author string read (a byline naming many people is still far shorter)
_MAX_RAW_CHARS = 1_000


def _names_site(name: str, site_names: set[str]) -> bool:
    """Whether ``name`` is the site's own name or a desk of it ("MDR THÜRINGEN", "STERN.de")."""
    whole = compact(name)
    words = {compact(word) for word in re.split(r"[\s.]+", name)}
    return whole in site_names or bool(words & site_names) or \
        any(len(site) >= 4 and site in whole for site in site_names)


def clean_authors(names: Iterable[str | None], site_names: set[str] = frozenset()) -> list[str]:
    """Names from raw author strings: split, without prefixes, roles, dates, and the site itself
    (pass no ``site_names`` to keep it: an organization's byline when no person is named); at most
    ``MAX_AUTHORS`` of them."""
    found: dict[str, None] = {}
    for raw in names:
        if len(found) >= MAX_AUTHORS:
            break
        text = clean_line(raw[:_MAX_RAW_CHARS] if raw else raw)
        if not text or _NOT_A_NAME.search(text) and " " not in text.strip():
            continue
        for part in _JOINERS.split(_BY.sub("", text)):
            name = _ROLE.sub("", _BY.sub("", part.strip(" .:-|/"))).strip(" .:-|/")
            if not name or _NOT_A_NAME.search(name) or _DIGIT.search(name) or len(name.split()) > _MAX_WORDS:
                continue
            if site_names and _names_site(name, site_names):
                continue
            found[name] = None
    return list(found)[:MAX_AUTHORS]


def byline_names(sel: Selector) -> list[str]:
    """Raw author strings from the first byline markup the page has (``itemprop``, ``rel``, classes)."""
    for query in _BYLINE_QUERIES:
        nodes = sel.xpath(query)
        if not nodes:
            continue
        # one byline: the nodes in the first one's neighbourhood, not every teaser's author on the page
        scope = nodes[0].xpath("../..")
        if scope:
            members = set(scope[0].root.iter())
            nodes = [node for node in nodes if node.root in members]
        texts = [clean_line(node.xpath("string()").get()) or clean_line(node.root.get("content"))
                 for node in nodes]
        texts = [text for text in texts if text and len(text) <= _MAX_BYLINE]
        if texts:
            return list(dict.fromkeys(texts))
    return []
