"""Turn HTML fragments into clean plain text: paragraphs separated by blank lines."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from lxml import etree
from parsel import Selector
from w3lib.html import remove_tags, replace_entities

#: Elements whose text never belongs to an article (scripts, embeds, page furniture).
NOISE_TAGS = frozenset(
    {"script", "style", "noscript", "iframe", "form", "button", "svg", "template", "nav", "aside", "footer"}
)
#: Elements that start a new paragraph.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "blockquote", "li", "ul", "ol", "table", "tr",
        "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "pre", "header", "dl", "dt", "dd",
    }
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
#: what UTF-8 and BSON cannot carry or a reader never wants: lone surrogates, NUL and the other
#: C0/C1 control characters (tab, newline and carriage return stay)
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PARAGRAPH_BREAK = "\x00"


_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>|<!--|</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?$")
_WHOLE_TAG = re.compile(r"</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>")
_DANGLING = re.compile(r"<!--.*\Z|</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?\Z", re.S)


#: a comment, or an element whose content is never text
#: elements whose content is no text of the page: dropped with it (see :func:`without_hidden_elements`)
HIDDEN_TAGS = ("script", "style", "noscript", "iframe", "object")
_HIDDEN_OPEN = re.compile(rf"<!--|<({'|'.join(HIDDEN_TAGS)})\b", re.I)
_HIDDEN_CLOSE = {name: re.compile(rf"</{name}\s*>", re.I) for name in HIDDEN_TAGS}


def without_hidden_elements(text: str) -> str:
    """``text`` without comments and script, style, noscript, iframe and object elements, content
    included. A comment left open runs to the end; an element left open loses only its tag. Time
    linear in the length: searches move forward, and a closing tag found missing is not sought again."""
    parts: list[str] = []
    position = 0
    unclosed: set[str] = set()
    while opening := _HIDDEN_OPEN.search(text, position):
        parts.append(text[position:opening.start()])
        name = (opening.group(1) or "").lower()
        if not name:
            found = text.find("-->", opening.end())
            if found < 0:
                return "".join(parts)
            parts.append(" ")
            position = found + 3
            continue
        closing = None if name in unclosed else _HIDDEN_CLOSE[name].search(text, opening.end())
        if closing is None:
            unclosed.add(name)
            parts.append(opening.group())  # the tag alone goes with the other tags
            position = opening.end()
        else:
            position = closing.end()
    parts.append(text[position:])
    return "".join(parts)


def plain_text(text: str) -> str:
    """``text`` without HTML: scripts and styles dropped with their content, other tags removed,
    entities decoded. Text without markup comes back unchanged. Time linear in the length."""
    if not _TAG.search(text):
        return text
    text = remove_tags(without_hidden_elements(text))
    # what w3lib leaves (a tag holding odd characters), and tags that removing others joined ("<<b>y …>")
    while (stripped := _WHOLE_TAG.sub("", text)) != text:
        text = stripped
    # a tag or comment cut off by the end of the text ("… <script type=") goes with the rest of it
    return replace_entities(_DANGLING.sub("", text))


def plain_paragraphs(body: str) -> str:
    """``body`` (paragraphs separated by blank lines) as plain paragraphs: each made plain text
    and cleaned, then the whole once more, for a tag a blank line cut in two (an attribute holding
    line breaks)."""
    body = join_paragraphs(plain_text(paragraph) for paragraph in body.split("\n\n"))
    return join_paragraphs(plain_text(body).split("\n\n")) if _TAG.search(body) else body


def storable_text(text: str) -> str:
    """``text`` without lone surrogates and control characters: always encodable as UTF-8 and BSON."""
    return _UNSTORABLE.sub("", text)


def clean_line(text: str | None) -> str:
    """NFC-normalize, drop zero-width and unstorable characters, collapse whitespace to single spaces."""
    if not text:
        return ""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFC", storable_text(text)))
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Clean each paragraph, drop empty ones, join with blank lines."""
    return "\n\n".join(line for line in (clean_line(p) for p in paragraphs) if line)


def _walk(node: etree._Element, out: list[str], drop: set[etree._Element]) -> None:
    tag = node.tag.lower() if isinstance(node.tag, str) else ""
    if node in drop or tag in NOISE_TAGS or not isinstance(node.tag, str):
        if node.tail:
            out.append(node.tail)
        return
    block = tag in BLOCK_TAGS
    if block:
        out.append(_PARAGRAPH_BREAK)
    if tag == "br":
        out.append(_PARAGRAPH_BREAK)
    if node.text:
        out.append(node.text)
    for child in node:
        _walk(child, out, drop)
    if block:
        out.append(_PARAGRAPH_BREAK)
    if node.tail:
        out.append(node.tail)


def element_text(node: Selector, *, exclude: Iterable[str] = ()) -> str:
    """Plain text of an element: block elements become paragraphs separated by blank lines.

    ``exclude`` are CSS selectors (relative to ``node``) whose elements are left out, with
    their text; scripts, styles, forms, navigation and embeds are always left out.
    """
    root = node.root
    if not isinstance(root, etree._Element):
        return clean_line(str(root))
    drop = {found.root for css in exclude for found in node.css(css)}
    out: list[str] = []
    _walk(root, out, drop)
    return join_paragraphs("".join(out).split(_PARAGRAPH_BREAK))


def paragraphs_until(text: str, stop_markers: Iterable[str]) -> str:
    """Cut ``text`` at the first paragraph that starts with one of ``stop_markers``."""
    markers = tuple(stop_markers)
    kept: list[str] = []
    for paragraph in text.split("\n\n"):
        if markers and paragraph.startswith(markers):
            break
        kept.append(paragraph)
    return "\n\n".join(kept)


#: markup of a picture's caption and credit inside an article body (pravda's "div.image-box__caption")
CAPTION_CSS = ('figcaption, [class*="caption"], [class*="credit"], [class*="image"][class*="author"], '
               '[class*="photo"][class*="author"], figure [class*="author"]')
#: a paragraph that points to other stories: "Читайте також: …", "Read more: …", "NOTAS RELACIONADAS";
#: the English markers only before a colon or dash, or alone ("Related to this, …" is a sentence)
_READ_ALSO = re.compile(
    r"^(?:(?:читайте|читай) (?:також|также|більше|еще|ще)|дивіться також|смотрите также|див\. також|см\. также|"
    r"також читайте|также читайте|lesen sie (?:auch|mehr)|mehr zum thema|(?:à |a )?lire aussi|lea también|"
    r"lee también|notas relacionadas|noticias relacionadas|czytaj (?:także|też|więcej)|zobacz (?:także|też))\b"
    r"|^ähnliche(?: artikel| beiträge| themen)?\s*(?::|$)"
    r"|^(?:read (?:also|more)|also read|see also|related(?: (?:articles?|stories|news|coverage))?|more on this)"
    r"\s*(?:[:\-–—|»>]|$)",
    re.IGNORECASE,
)
#: words that name a picture and introduce its credit (regex alternatives): "Фото: …", "/ Скриншот …"
PICTURE_WORDS = "фото|photos?|fotos?|images?|bild|скриншот|скріншот|колаж|коллаж|ілюстрація|иллюстрация|джерело фото|источник фото"
#: picture agencies credited after a slash: "… / REUTERS", "… / EPA-EFE"
PICTURE_AGENCIES = ("reuters|epa(?:-efe)?|afp|ap photo|getty images|shutterstock|depositphotos|уніан|униан|тасс")
#: a caption with its credit: "Прокурори вивчали матеріали / Фото РБК", "Headline / REUTERS"
_CAPTION_CREDIT = re.compile(
    rf"\s/\s*(?:{PICTURE_WORDS}|{PICTURE_AGENCIES})\b[^/]{{0,80}}$|^(?:{PICTURE_WORDS})\s*:",
    re.IGNORECASE,
)
#: an advertisement's label standing alone
_AD_LABELS = frozenset({"реклама", "advertisement", "anzeige", "werbung", "publicidad", "publicité", "reklama"})
#: the page's copyright line
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)|all rights reserved|alle rechte vorbehalten|(?:усі|всі) права захищені|"
    r"все права защищены|tous droits réservés|todos los derechos reservados|wszelkie prawa zastrzeżone",
    re.IGNORECASE,
)
#: a call to subscribe: a newsletter box, "Підписуйтесь на наш Telegram"
_NEWSLETTER = re.compile(
    r"newsletter|\bsubscribe\b|\bsign up\b|підпишіться|підписуйтеся|підписуйтесь|подпишитесь|подписывайтесь|"
    r"abonnieren sie|jetzt abonnieren|abonnez-vous|suscríbete|zapisz się",
    re.IGNORECASE,
)
#: characters of a paragraph of furniture at most (a longer one is article text that happens to match)
_FURNITURE_CHARS = 300
#: characters of a related story's headline listed under a bare "read also" marker
_HEADLINE_CHARS = 200
#: related headlines dropped after one bare marker
_MAX_RELATED = 6
#: trailing paragraphs looked at for copyright lines and newsletter boxes
_MAX_TRAILING = 4


def _is_furniture(paragraph: str) -> bool:
    """Whether one paragraph is a "read also" link, a caption with its credit, or an ad label."""
    return len(paragraph) <= _FURNITURE_CHARS and (
        paragraph.strip(" :").casefold() in _AD_LABELS
        or bool(_READ_ALSO.search(paragraph) or _CAPTION_CREDIT.search(paragraph)))


def without_boilerplate(text: str | None) -> str:
    """Body text without page furniture: "read also" links (uk, ru, en, de, fr, es, pl) with the
    headlines listed under a bare marker, captions with their credits, ad labels, and copyright lines
    and newsletter boxes at its end."""
    kept: list[str] = []
    related = 0  # headlines still to drop after a bare "read also" marker
    for paragraph in (text or "").split("\n\n"):
        if related and len(paragraph) <= _HEADLINE_CHARS and not paragraph.endswith("."):
            related -= 1
            continue
        related = 0
        if _is_furniture(paragraph):
            bare = _READ_ALSO.fullmatch(paragraph.rstrip(" :.-–—|»>")) is not None
            related = _MAX_RELATED if bare else 0
            continue
        kept.append(paragraph)
    trailing = 0
    while kept and trailing < _MAX_TRAILING and len(kept[-1]) <= _FURNITURE_CHARS and (
            _COPYRIGHT.search(kept[-1]) or _NEWSLETTER.search(kept[-1])):
        kept.pop()
        trailing += 1
    return "\n\n".join(kept)


def word_count(text: str | None) -> int:
    """Number of words (runs of letters/digits) in ``text``."""
    return len(re.findall(r"\w+", text)) if text else 0


def split_caption_credit(text: str | None) -> tuple[str | None, str | None]:
    """Split "caption / REUTERS" into ("caption", "REUTERS"); a short tail after " / " is a credit."""
    text = clean_line(text)
    if not text:
        return None, None
    caption, sep, credit = text.rpartition(" / ")
    if sep and caption and 0 < len(credit.split()) <= 4:
        return caption.strip() or None, credit.strip()
    return text, None
