"""Pick a headline among JSON-LD ``headline``, ``og:title`` and ``<h1>``, without site-name decoration.

Sites decorate their ``og:title``/``<title>`` with the site name, section or date
("Headline | Section | DW | 28.04.2023", "Headline - Golem.de"); :func:`strip_decoration` removes
such trailing segments when they name the site (its ``og:site_name``, publisher or host), a
section, an author ("by ...") or a date, and a label in front that names the medium or urgency
("ВІДЕО: ", "LIVE: ", "Exclusive: "). :func:`choose_title` then picks one. Which text a site
calls its headline varies: on the 76 Fundus pages where JSON-LD and ``og:title`` differ, Fundus
takes JSON-LD's on 38 and ``og:title``'s on 33, and which one the ``<h1>`` repeats does not tell
them apart, so JSON-LD keeps its priority.

Candidates are read up to twice the title's length limit (``TITLE_MAX_CHARS``): stripping
decoration compares every segment with the rest, which on a megabyte-long "headline" would not end.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from newscrawl.extract.text import clean_line
from newscrawl.extract.items import TITLE_MAX_CHARS

logger = logging.getLogger(__name__)

#: separators between a headline and its decoration; spaced dashes/bars/bullets, or a bare bar
_SEPARATOR = re.compile(r"\s+[|\-–—·•»:/~]\s+|\s*[|ㅣ]\s*|\s*::\s*|(?<=\S)-(?=\S)")
#: between a kicker and the headline: "Kicker: Headline", "Kicker - Headline", "Kicker / Headline"
_KICKER = re.compile(r":\s+|\s+[-–—|/]\s+")
#: a label in front of a headline that says what medium or urgency the story has, not what it is
#: about ("ВІДЕО: …", "LIVE: …", "Exclusive: …"); a kicker naming a topic stays ("Wine Guy: …")
_LABEL_KICKER = re.compile(
    r"^(?:відео|видео|video|фото(?:репортаж)?|photos?|live|онлайн|online|exclusive|ексклюзив|эксклюзив|"
    r"breaking(?: news)?|терміново|срочно|eilmeldung|update|updated|оновлено|обновлено|infografi[ck]|"
    r"інфографіка|инфографика|liveblog|live-?ticker|ticker|watch|listen|podcast|подкаст)"
    r"\s*(?:[:|]\s*|\s[-–—]\s+)",
    re.IGNORECASE,
)
#: words a headline keeps after its label at least
_MIN_HEADLINE_WORDS = 3
#: a bare dash ("Headline-Section") only separates the site's own name, never a date or a byline
_BARE_DASH = "-"
_DATE_LIKE = re.compile(r"^[\d\s./\-:,]+$")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
                         "–": "-", "—": "-"})
_HOST_NOISE = frozenset({"www", "com", "net", "org", "co", "news", "de", "uk", "at", "ch"})
#: characters of a title candidate read
_CANDIDATE_CHARS = 2 * TITLE_MAX_CHARS


def compact(text: str) -> str:
    """Letters and digits only, lower-cased, accents and umlauts spelled out (ö -> oe)."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum())


def title_key(text: str) -> str:
    """A comparison key: quotes and dashes folded, whitespace collapsed, case folded."""
    return " ".join(clean_line(text).translate(_QUOTES).casefold().split())


def site_names(url: str, names: Iterable[str | None]) -> set[str]:
    """Compact forms of the site's names: the given names (site name, publisher) and host labels."""
    found = {compact(name) for name in names if name}
    host = (urlsplit(url).hostname or "").lower()
    labels = [label for label in host.split(".")[:-1] if label and label not in _HOST_NOISE]  # not the TLD
    found.update(compact(label) for label in labels)
    found.add(compact(host.removeprefix("www.")))
    return {name for name in found if len(name) >= 2}


def _is_decoration(segment: str, sites: set[str], sections: set[str], *, bare: bool = False) -> bool:
    """Whether a trailing title segment names the site, a section, an author or a date.

    After a ``bare`` separator (a dash without spaces, as in "RTO-4") only the site's name counts.
    """
    segment = segment.strip(" |-–—·•»:/~")
    key = compact(segment)
    if not key:
        return True
    if not bare and (_DATE_LIKE.match(segment) or segment.lower().startswith("by ") or key in sections):
        return True
    # "Die Neue Südtiroler Tageszeitung" for tageszeitung.it, "DW" for DW.COM, "Golem.de" for golem.de
    return any(key == name or (len(name) >= 4 and (name in key or key in name)) for name in sites)


def without_label(title: str) -> str:
    """``title`` without a medium or urgency label in front ("ВІДЕО: Headline" -> "Headline") when
    what follows is a headline of its own (three words or more)."""
    label = _LABEL_KICKER.match(title)
    rest = title[label.end():] if label else ""
    return rest if len(rest.split()) >= _MIN_HEADLINE_WORDS else title


def strip_decoration(title: str | None, sites: set[str], sections: Iterable[str] = ()) -> str:
    """``title`` (its first ``_CANDIDATE_CHARS`` characters) without a label in front and trailing
    segments naming the site, a section, an author or a date."""
    title = clean_line(html.unescape(clean_line((title or "")[:_CANDIDATE_CHARS])))[:_CANDIDATE_CHARS]
    title = without_label(title)
    section_keys = {compact(s) for s in sections if s}
    while True:
        cuts = [m for m in _SEPARATOR.finditer(title) if m.start() > 0]
        if not cuts:
            return title
        last = cuts[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :]
        if not head or not _is_decoration(tail, sites, section_keys, bare=last.group() == _BARE_DASH):
            return title
        title = head


def choose_title(jsonld: str, og: str, h1: str) -> tuple[str, str] | None:
    """(layer, headline): JSON-LD, then ``og:title``, then ``<h1>``.

    A kicker in front of the JSON-LD headline is dropped when ``og:title`` is the headline alone
    ("Kicker: Headline" vs "Headline"; an ``<h1>`` without it proves nothing: kickers are often
    marked up apart from the headline). Without JSON-LD, when ``og:title`` and ``<h1>`` differ
    only in their kickers ("Kicker A: Headline" vs "Kicker B - Headline"), the shared headline is
    taken.
    """
    candidates = (jsonld, og, h1)
    jsonld, og, h1 = (_without_extra_segment(text, candidates) for text in candidates)
    if jsonld:
        return "jsonld", _without_kicker(jsonld, og)
    if og and h1 and title_key(og) != title_key(h1):
        common = _common_headline(og, h1)
        if common:
            return "meta", common
    for layer, value in (("meta", og), ("html", h1)):
        if value:
            return layer, value
    return None


def document_title(title_tag: str | None, headings: Iterable[str], sites: set[str],
                   sections: Iterable[str] = ()) -> str | None:
    """The headline a page without JSON-LD, ``og:title`` or ``<h1>`` gives in its ``<title>``: the
    segment a heading repeats ("Blog of X | Headline" with an ``<h2>`` "Headline"), else the
    ``<title>`` without its decoration."""
    whole = clean_line(html.unescape(clean_line((title_tag or "")[:_CANDIDATE_CHARS])))
    if not whole:
        return None
    keys = {title_key(heading) for heading in headings if heading}
    bounds = [0, *(point for cut in _SEPARATOR.finditer(whole) for point in (cut.start(), cut.end())), len(whole)]
    for start, end in zip(bounds[::2], bounds[1::2]):
        segment = whole[start:end].strip()
        if segment and title_key(segment) in keys:
            return segment
    return strip_decoration(whole, sites, sections) or None


def _without_kicker(text: str, bare: str) -> str:
    """``text`` without its kicker when ``bare`` is exactly the rest."""
    for cut in _KICKER.finditer(text):
        tail = text[cut.end() :].strip()
        if bare and tail and title_key(tail) == title_key(bare):
            return tail
    return text


def _without_extra_segment(text: str, others: Iterable[str]) -> str:
    """``text`` cut at a separator when another candidate is exactly the part before it.

    "Headline | Sport" becomes "Headline" when ``og:title`` or ``<h1>`` says just "Headline";
    only a short tail (up to three words) is cut: a longer one is part of the headline.
    """
    keys = {title_key(other) for other in others if other and other != text}
    for cut in _SEPARATOR.finditer(text):
        head = text[: cut.start()].strip()
        if head and title_key(head) in keys and len(text[cut.end() :].split()) <= 3:
            return head
    return text


def _balanced(text: str) -> bool:
    """Whether quotes and brackets in ``text`` pair up (a cut inside a quotation does not)."""
    folded = text.translate(_QUOTES)
    return folded.count('"') % 2 == 0 and folded.count("(") == folded.count(")") and \
        re.sub(r"(?<=\w)'(?=\w)", "", folded).count("'") % 2 == 0


def _common_headline(first: str, second: str) -> str | None:
    """The ending two titles share after different kickers, if it is most of each."""
    for cut in _KICKER.finditer(first):
        tail = first[cut.end() :].strip()
        if not _balanced(tail):
            continue
        if len(tail) >= 0.5 * len(first) and title_key(second).endswith(title_key(tail)) and \
                len(tail) >= 0.5 * len(second):
            rest = title_key(second)[: -len(title_key(tail))].rstrip()
            if rest and rest[-1] in "|-:·•»/~":
                return tail
    return None
