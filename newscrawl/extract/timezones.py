"""The time zone a page's local times (dates printed without an offset) are in.

A page that prints "2024-04-25 14:07" means its own wall clock. Which clock that is comes, in this
order, from the country of the host's top-level domain when the country has one zone, from an offset
the page gives elsewhere (another date on it that carries one), from a time it prints for an instant
its data gives in UTC (``printed_zone``); else it is guessed: the zone of the country the page
declares for its language (``lang="fr-CA"``, ``og:locale`` ``en_US``: the main one where the country
spans several) or its domain names when the country spans several zones (``.ca``); without a
country, the zone of a language spoken in one zone only. A guess must fit the days the page gives
(its URL's, its datelines'): a zone that puts an instant the page gives in UTC on another day than
the one printed for it is not the page's (``fits_days``); the main zone of a country of several
zones that only a language tag names (``en_US``) may move an instant the page gives in UTC to
another day only where the page gives that day. Else UTC.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from datetime import date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from newscrawl.extract.dates import parse_date

logger = logging.getLogger(__name__)

#: country-code top-level domain -> the zone of (nearly) the whole country; countries spanning
#: several zones (us, ca, au, br, mx, ...) are left out: their domain says nothing about the clock
TLD_ZONES = {
    "ua": "Europe/Kyiv", "ru": "Europe/Moscow", "by": "Europe/Minsk", "md": "Europe/Chisinau",
    "pl": "Europe/Warsaw", "de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich",
    "li": "Europe/Vaduz", "lu": "Europe/Luxembourg", "be": "Europe/Brussels", "nl": "Europe/Amsterdam",
    "fr": "Europe/Paris", "it": "Europe/Rome", "es": "Europe/Madrid", "pt": "Europe/Lisbon",
    "uk": "Europe/London", "ie": "Europe/Dublin", "dk": "Europe/Copenhagen", "no": "Europe/Oslo",
    "se": "Europe/Stockholm", "fi": "Europe/Helsinki", "is": "Atlantic/Reykjavik", "ee": "Europe/Tallinn",
    "lv": "Europe/Riga", "lt": "Europe/Vilnius", "cz": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "ro": "Europe/Bucharest", "bg": "Europe/Sofia", "gr": "Europe/Athens",
    "si": "Europe/Ljubljana", "hr": "Europe/Zagreb", "rs": "Europe/Belgrade", "ge": "Asia/Tbilisi",
    "am": "Asia/Yerevan", "az": "Asia/Baku", "tr": "Europe/Istanbul", "il": "Asia/Jerusalem",
    "lb": "Asia/Beirut", "jp": "Asia/Tokyo", "kr": "Asia/Seoul", "cn": "Asia/Shanghai",
    "tw": "Asia/Taipei", "hk": "Asia/Hong_Kong", "in": "Asia/Kolkata", "vn": "Asia/Ho_Chi_Minh",
    "my": "Asia/Kuala_Lumpur", "sg": "Asia/Singapore", "th": "Asia/Bangkok", "ph": "Asia/Manila",
    "pk": "Asia/Karachi", "ae": "Asia/Dubai", "sa": "Asia/Riyadh", "za": "Africa/Johannesburg",
    "na": "Africa/Windhoek", "ls": "Africa/Maseru", "tz": "Africa/Dar_es_Salaam", "ke": "Africa/Nairobi",
    "ng": "Africa/Lagos", "eg": "Africa/Cairo", "py": "America/Asuncion", "ar": "America/Argentina/Buenos_Aires",
    "cl": "America/Santiago", "co": "America/Bogota", "pe": "America/Lima", "gl": "America/Nuuk",
    "nz": "Pacific/Auckland",
}  # fmt: skip
#: the zone of the capital or the main newsrooms of countries spanning several zones
MAIN_ZONES = {
    "us": "America/New_York", "ca": "America/Toronto", "au": "Australia/Sydney", "br": "America/Sao_Paulo",
    "mx": "America/Mexico_City", "id": "Asia/Jakarta", "kz": "Asia/Almaty", "cd": "Africa/Kinshasa",
}  # fmt: skip
#: a country (ISO 3166 code, as in language tags: ``gb``, not ``uk``) -> the zone of its clock
COUNTRY_ZONES = {**TLD_ZONES, "gb": "Europe/London", **MAIN_ZONES}
#: languages spoken (for news) in one time zone
LANGUAGE_ZONES = {
    "uk": "Europe/Kyiv", "de": "Europe/Berlin", "fr": "Europe/Paris", "it": "Europe/Rome",
    "nl": "Europe/Amsterdam", "pl": "Europe/Warsaw", "cs": "Europe/Prague", "da": "Europe/Copenhagen",
    "sv": "Europe/Stockholm", "nb": "Europe/Oslo", "nn": "Europe/Oslo", "no": "Europe/Oslo",
    "fi": "Europe/Helsinki", "el": "Europe/Athens", "hu": "Europe/Budapest", "ro": "Europe/Bucharest",
    "tr": "Europe/Istanbul", "he": "Asia/Jerusalem", "ja": "Asia/Tokyo", "ko": "Asia/Seoul",
    "zh": "Asia/Shanghai", "vi": "Asia/Ho_Chi_Minh", "th": "Asia/Bangkok", "id": "Asia/Jakarta",
}  # fmt: skip
_OFFSET = re.compile(r"\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*([+-])(\d\d):?(\d\d)$")
#: a date string with a time of day in UTC ("Z", "+00:00")
_UTC_TIME = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:z|[+-]00:?00)$", re.I)
_CLOCK = re.compile(r"\d:\d\d")
#: the region of a language tag: ``fr-CA``, ``en_US``, ``de_DE_formal``
_REGION = re.compile(r"^[a-z]{2,3}[-_]([a-z]{2})(?:[-_]|$)", re.I)
#: the farthest a clock is from UTC, in hours
_MAX_OFFSET_HOURS = 14


def offset_zone(text: str) -> str | None:
    """An ``Etc/GMT±N`` zone for a date string ending in a whole-hour UTC offset, else None.

    A zero offset ("+00:00", like "Z") says nothing about the site's clock (many sites print UTC)
    and is ignored.
    """
    match = _OFFSET.search(text.strip())
    if not match or match[3] != "00" or match[2] == "00":
        return None
    hours = int(match[2])
    # Etc/GMT signs are inverted: Etc/GMT-2 is two hours ahead of UTC
    return f"Etc/GMT{'-' if match[1] == '+' else '+'}{hours}"


def printed_zone(dated: Iterable[str], printed: Iterable[str], now: datetime | None = None) -> str | None:
    """An ``Etc/GMT±N`` zone when a time the page prints without an offset ("November 8, 2023 at
    11:30 p.m.") is a whole number of hours, to the minute, from an instant it gives in UTC
    ("2023-11-09T05:30:59Z"): the page's own clock. None without such a pair.

    :param dated: date strings of the page's data (JSON-LD, meta, ``<time>``)
    :param printed: date strings printed on the page (datelines)
    :param now: the fetch time (for relative dates)
    """
    instants = [value.replace(second=0, microsecond=0) for text in dated if _UTC_TIME.search(text.strip())
                if (value := parse_date(text, tz="UTC", now=now))]
    if not instants:
        return None
    for text in printed:
        wall = parse_date(text, tz="UTC", now=now) if _CLOCK.search(text) and offset_zone(text) is None else None
        for instant in instants if wall else ():
            minutes = (wall - instant).total_seconds() / 60
            if minutes and minutes % 60 == 0 and abs(minutes) <= _MAX_OFFSET_HOURS * 60:
                hours = int(minutes // 60)
                # Etc/GMT signs are inverted: Etc/GMT+6 is six hours behind UTC
                return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"
    return None


def declared_country(tags: Iterable[str | None], language: str | None = None) -> str | None:
    """The country of the first language tag in ``tags`` that names one (``fr-CA`` -> ``ca``), of
    ``language`` when given (a page in German that keeps its CMS's default ``en_US`` is not American)."""
    for tag in tags:
        match = _REGION.match((tag or "").strip())
        if match and (language is None or match[0][:len(language)].lower() == language):
            return match[1].lower()
    return None


def _utc_instants(dated: Iterable[str], now: datetime | None) -> list[datetime]:
    """The instants of the strings in ``dated`` that give a time of day in UTC other than midnight
    (a midnight is a day written as an instant)."""
    found = []
    for text in dated:
        if _UTC_TIME.search(text.strip()) and (value := parse_date(text, tz="UTC", now=now)):
            if value.time() != time(0):
                found.append(value)
    return found


def fits_days(zone: str, instants: Iterable[datetime], days: Collection[date], supported: bool = False) -> bool:
    """Whether ``zone`` puts no instant on a day the page does not give while its UTC day is one the
    page gives (``days``: its URL's, its datelines'): a page that prints "5 April" beside
    "2015-04-05T00:08Z" is not in New York. With ``supported``, an instant ``zone`` puts on another
    day than UTC does must fall on a day the page gives."""
    clock = ZoneInfo(zone)
    for instant in instants:
        local = instant.astimezone(clock).date()
        if local != instant.date() and (instant.date() in days and local not in days
                                        or supported and local not in days):
            return False
    return True


def page_zone(url: str, dated: Iterable[str], language: str | None, printed: Iterable[str] = (),
              now: datetime | None = None, locales: Iterable[str | None] = (), days: Iterable[date] = ()) -> str:
    """The zone for local times on the page at ``url``.

    :param dated: date strings found on the page (their offsets say where its clock is)
    :param language: the page's language
    :param printed: date strings printed on the page, read only when the domain and the offsets say nothing
        (see :func:`printed_zone`)
    :param now: the fetch time
    :param locales: the language tags the page declares (``<html lang>``, ``og:locale``, JSON-LD ``inLanguage``)
    :param days: the days the page gives without a time (its URL's, its datelines'): a guessed zone must fit them
    """
    tld = (urlsplit(url).hostname or "").rstrip(".").rsplit(".", 1)[-1].lower()
    if tld in TLD_ZONES:
        return TLD_ZONES[tld]
    dated = list(dated)
    for text in dated:
        zone = offset_zone(text)
        if zone:
            return zone
    found = printed_zone(dated, printed, now)
    if found:
        return found
    country = tld if tld in MAIN_ZONES else declared_country(locales, language)
    guess = COUNTRY_ZONES.get(country) if country else LANGUAGE_ZONES.get(language or "")
    if not guess:
        return "UTC"
    # a country of several zones named only by a language tag (WordPress writes en_US for any English
    # site) moves the page's UTC instants to other days only where the page's own days bear that out
    supported = country in MAIN_ZONES and country != tld
    instants = _utc_instants(dated, now)
    return guess if not instants or fits_days(guess, instants, set(days), supported) else "UTC"
