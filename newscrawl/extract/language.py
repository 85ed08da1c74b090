"""Guess a text's language when the page does not declare one (uk, ru or en only).

A cheap guess by script and letters: Cyrillic text is Ukrainian or Russian by the letters only one
of them has (і ї є ґ vs ы э ъ ё); Latin text is English only when English function words are
common in it (a German or French page is not guessed as English). Anything else is None.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYRILLIC = re.compile(r"[а-яА-ЯіїєґІЇЄҐёЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
_LATIN_WORD = re.compile(r"[a-zA-Z]+")
_ENGLISH_WORDS = frozenset(
    "the and of to a in is that for on with his her was it as at by from are be this have has he she "
    "they an not but who which its their will would said".split()
)
#: share of Latin words that must be English function words for an "en" guess
_ENGLISH_SHARE = 0.1
_MIN_LETTERS = 40
#: country-code top-level domain -> the language most of the country's pages are in
TLD_LANGUAGES = {
    "ua": "uk", "ru": "ru", "by": "ru", "de": "de", "at": "de", "ch": "de", "li": "de", "fr": "fr", "be": "fr",
    "it": "it", "es": "es", "pt": "pt", "br": "pt", "nl": "nl", "pl": "pl", "cz": "cs", "sk": "sk", "dk": "da",
    "se": "sv", "no": "nb", "fi": "fi", "hu": "hu", "ro": "ro", "gr": "el", "tr": "tr", "uk": "en", "ie": "en",
}  # fmt: skip
#: characters of text read: a page's first paragraphs tell its language as well as all of them
SAMPLE_CHARS = 2000


def guess_language(text: str) -> str | None:
    """A cheap script-based guess among uk/ru/en from the first :data:`SAMPLE_CHARS` characters;
    None when the text is too short or other."""
    text = text[:SAMPLE_CHARS]
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if cyrillic + latin < _MIN_LETTERS:
        return None
    if latin > cyrillic * 2:
        words = [word.lower() for word in _LATIN_WORD.findall(text)]
        english = sum(word in _ENGLISH_WORDS for word in words)
        return "en" if words and english >= _ENGLISH_SHARE * len(words) else None
    if cyrillic > latin:
        ukrainian, russian = len(_UKRAINIAN_ONLY.findall(text)), len(_RUSSIAN_ONLY.findall(text))
        if ukrainian > russian * 2:
            return "uk"
        if russian > ukrainian * 2:
            return "ru"
    return None


def host_language(url: str) -> str | None:
    """The language most pages of the URL's country-code domain are in (``.de`` -> de), if known."""
    host = urlsplit(url).hostname or ""
    return TLD_LANGUAGES.get(host.rsplit(".", 1)[-1])
