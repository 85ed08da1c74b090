"""Author names: bylines split into people, without "By", roles, organisations, e-mails, URLs or photo credits.

:func:`clean_authors` normalizes what any layer found ("By A and B, dpa" -> ["A", "B", "dpa"]);
:func:`byline_names` reads a byline from page markup when no metadata names a person.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from parsel import Selector

from newscrawl.extract.datesources import headline_containers
from newscrawl.extract.text import PICTURE_AGENCIES, PICTURE_WORDS, clean_line
from newscrawl.extract.title import compact
from newscrawl.extract.items import MAX_AUTHORS

logger = logging.getLogger(__name__)

#: punctuation and words that join two names (or a name and a date) in a byline; a spaced slash
#: too ("Jane Doe / dpa"), never a bare one ("srf/hosb" is one desk's signature)
_JOINERS = re.compile(r"\s*(?:,|;|\||·|\s[&/]\s|\s(?:and|und|og|och|en|et|y|e|i|и|і|та|oraz|a|ve|dan)\s)\s*",
                      re.IGNORECASE)
#: "By", "Von", "Av", "Text:", "Автор:", "Written by" ... in front of a byline
_BY = re.compile(r"^(?:(?:written|reported|posted|words|story)\s+by|by|von|av|af|par|por|door|text|texte|autor|autorin|"
                 r"autoren|authors?|от|автор|авторка|автори|авторы|текст|підготував|підготувала|подготовил|подготовила)"
                 r"\b\s*:?\s*", re.IGNORECASE)
#: a role after a name: "(obe)", "| Reporter", Korean "기자" (reporter)
_ROLE = re.compile(r"\s*(?:\([^)]*\)|\s기자|\s특파원)$")
#: an address (a site's bare name, "ndr.de", is a name), a number, or the desk's sign ("red.": the editors)
_NOT_A_NAME = re.compile(r"@|https?://|www\.|^\d+$|\.(?:com|de|net|org)/|^(?:red|redaktion|редакція|редакция)\.?$",
                         re.IGNORECASE)
#: an e-mail address beside a name ("Jane Doe jane.doe@example.com")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: a photo or source credit, not a byline: "Фото: …", "Photo: …", "Фото из Инстаграма …", "Foto dpa",
#: "… / REUTERS", "Quelle: sid/dpa", "Источник: …"
_CREDIT = re.compile(
    rf"^(?:{PICTURE_WORDS}|фотографи[яі]|світлина|знімок|снимок|photograph|fotó|fotograf\w*|zdjęcie|zdjęcia|"
    r"image|images|illustration|credit|crédit|copyright|getty images|shutterstock|quelle|source|sources|джерело|"
    rf"источник)\b|\s/\s*(?:{PICTURE_AGENCIES})\b[^/]{{0,60}}$",
    re.IGNORECASE,
)
#: "Lastname, F." or "Lastname, Firstname": the inverted form of one name, not two people
_INVERTED = re.compile(
    r"^(?P<last>[^\W\d_][\w'’-]+),\s*(?:(?P<initials>(?:[^\W\d_]\.\s*){0,2}[^\W\d_]\.?)|(?P<given>[^\W\d_][\w'’-]+))$")
_MAX_WORDS = 5
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+")
#: words a byline adds to the names it lists
_BYLINE_FILLER = frozenset({
    "by", "von", "av", "par", "por", "door", "text", "texte", "autor", "autorin", "author", "authors", "автор",
    "авторка", "автори", "авторы", "текст", "and", "und", "et", "y", "i", "и", "і", "та",
})

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
#: a byline-looking node inside a picture's caption (up to three levels up) names the photographer
#: ("span.author" in football.ua's "div.photo-text")
_IN_CAPTION = ('ancestor-or-self::*[position() <= 4][self::figure or self::figcaption or contains(@class, "caption")'
               ' or contains(@class, "photo") or contains(@class, "credit")]')
#: a class or id word of a comment area: its names are commenters', its bylines a form's labels
_COMMENT_WORD = re.compile(r"(?:^|[-_])(?:comments?|commentlist|respond|replies|reply)(?:$|[-_])")
#: what a byline holds where no name is: a form's label, a user name, a placeholder
_PLACEHOLDERS = frozenset({
    "name", "your name", "ihr name", "dein name", "nom", "votre nom", "nombre", "nome", "author", "autor", "auteur",
    "admin", "administrator", "webmaster", "user", "guest", "gast", "anonymous", "anonym", "anonyme", "unknown",
    "unbekannt", "no author", "publisher", "unbenannt", "untitled",
})
#: a comment's header: "Jane Doe says:", "Max sagt:"
_SAYS = re.compile(r"\s(?:says|said|sagt|schreibt|meint|dit|dice|escribe|scrive)$", re.IGNORECASE)
_MAX_BYLINE = 120
#: characters of one raw author string read (a byline naming many people is still far shorter)
_MAX_RAW_CHARS = 1_000


def _names_site(name: str, site_names: set[str]) -> bool:
    """Whether ``name`` is the site's own name or a desk of it ("MDR THÜRINGEN", "STERN.de")."""
    whole = compact(name)
    words = {compact(word) for word in re.split(r"[\s.]+", name)}
    return whole in site_names or bool(words & site_names) or \
        any(len(site) >= 4 and site in whole for site in site_names)


def _inverted_name(chunk: str) -> str | None:
    """"Smith, J." -> "J. Smith", "Smith, John" -> "John Smith": one name written surname first
    (an initial after the comma, or two single capitalized words: "dpa, AFP" and "Reuters, AP" are
    two names); None for anything else."""
    found = _INVERTED.match(chunk.strip())
    if not found:
        return None
    if found["initials"]:
        initials = " ".join(f"{letter}." for letter in re.findall(r"[^\W\d_]", found["initials"]))
        return f"{initials} {found['last']}"
    if all(word[0].isupper() and word[1:].islower() and len(word) > 2 for word in (found["last"], found["given"])):
        return f"{found['given']} {found['last']}"
    return None


def _byline_parts(text: str) -> list[str]:
    """A byline split into names; "Lastname, Firstname" forms stay one name ("Firstname Lastname")."""
    parts: list[str] = []
    for chunk in text.split(";") if ";" in text else [text]:
        inverted = _inverted_name(chunk)
        parts.extend([inverted] if inverted else _JOINERS.split(chunk))
    return parts


def clean_authors(names: Iterable[str | None], site_names: set[str] = frozenset()) -> list[str]:
    """Names from raw author strings: split, without prefixes, roles, dates, e-mails, photo credits
    and the site itself (pass no ``site_names`` to keep it: an organization's byline when no person
    is named); at most ``MAX_AUTHORS`` of them."""
    found: dict[str, None] = {}
    for raw in names:
        if len(found) >= MAX_AUTHORS:
            break
        text = clean_line(raw[:_MAX_RAW_CHARS] if raw else raw)
        if not text or _NOT_A_NAME.search(text) and " " not in text.strip():
            continue
        text = _BY.sub("", _EMAIL.sub(" ", text).strip(" :-|/,;"))
        if _CREDIT.search(text):
            continue
        parts = _byline_parts(text)
        if site_names and len(parts) > 1 and _names_site(parts[0].strip(" .:-|/"), site_names):
            continue  # the site's own credit with where it wrote from: "hessenschau.de, Frankfurt, Germany"
        for part in parts:
            name = _ROLE.sub("", _BY.sub("", part.strip(" .:-|/"))).strip(" .:-|/")
            if not name or _NOT_A_NAME.search(name) or _DIGIT.search(name) or len(name.split()) > _MAX_WORDS:
                continue
            if name.endswith("*") or name.casefold() in _PLACEHOLDERS or _SAYS.search(name):
                continue  # a form's label ("Name *": a required field), a placeholder, a commenter
            if _CREDIT.search(name) or site_names and _names_site(name, site_names):
                continue
            found[" ".join(name.split())] = None
    return list(found)[:MAX_AUTHORS]


def is_byline(paragraph: str, names: Iterable[str]) -> bool:
    """Whether a paragraph says no more than who wrote the article: one of ``names`` at least, the
    others and byline words ("By", "Автор:", "і") at most ("Ярослав Кузишин, Антон Зелинский")."""
    name_words = [set(_WORD.findall(name.casefold())) for name in names]
    words = {word for word in _WORD.findall(paragraph.casefold()) if word not in _BYLINE_FILLER}
    if not words or len(words) > _MAX_WORDS * MAX_AUTHORS or not words <= set().union(*name_words):
        return False
    return any(name and name <= words for name in name_words)


def _in_comments(element: Any, headline: set[Any]) -> bool:
    """Whether an lxml element sits in a form or a comment area (a container whose class or id says
    so), short of the containers of the headline (``headline``): a comment form's "Name *" label,
    a commenter's name."""
    for node in (element, *element.iterancestors()):
        if node in headline:
            return False
        if node.tag == "form":
            return True
        words = f"{node.get('class') or ''} {node.get('id') or ''}".lower().split()
        if any(_COMMENT_WORD.search(word) for word in words):
            return True
    return False


def _is_byline(node: Selector, headline: set[Any]) -> bool:
    """Whether byline-looking markup names the article's author: not a picture's credit, a mail
    link ("Sende uns eine E-Mail"), or a form's or comment's name."""
    return not node.xpath(_IN_CAPTION) and not node.xpath('ancestor-or-self::a[starts-with(@href, "mailto:")]') \
        and not _in_comments(node.root, headline)


def byline_names(sel: Selector) -> list[str]:
    """Raw author strings from the first byline markup the page has (``itemprop``, ``rel``, classes)."""
    headline: set[Any] | None = None
    for query in _BYLINE_QUERIES:
        found = sel.xpath(query)
        headline = headline_containers(sel) if found and headline is None else headline
        nodes = [node for node in found if _is_byline(node, headline or set())]
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
