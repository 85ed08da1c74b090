"""The only place a string becomes a datetime.

:func:`parse_date` reads the dates news sites print and returns a timezone-aware UTC datetime.
A fast path (precompiled patterns) covers ISO 8601, RFC 822 (feeds), numeric day-first dates
("06:24, 18.02.23", "18.02.2023 06:24"), Ukrainian/Russian/English month names in every
grammatical case with or without a weekday ("02:59 воскресенье, 18 марта 2018"), "today/yesterday"
words ("вчора, 14:30") and "N units ago" ("5 хвилин тому", "3 часа назад", "an hour ago").
Everything else goes to dateparser with pinned settings, so no answer depends on the machine's
clock, locale or timezone. Local times are in ``tz`` (Europe/Kyiv, DST-aware). Results more than
a day after ``now`` or before ``floor`` (1990 by default) are rejected: None, never a wrong date.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import dateparser

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Europe/Kyiv"
DEFAULT_FLOOR = datetime(1990, 1, 1, tzinfo=timezone.utc)
DEFAULT_LANGUAGES = ("uk", "ru", "en")
MAX_FUTURE = timedelta(days=1)
MAX_LENGTH = 200  # longer strings are not dates

_MONTH_FORMS = {
    1: "січень січня січні січ январь января январе янв january jan",
    2: "лютий лютого лютому лютім лют февраль февраля феврале фев february feb",
    3: "березень березня березні бер март марта марте мар march mar",
    4: "квітень квітня квітні квіт апрель апреля апреле апр april apr",
    5: "травень травня травні трав май мая мае may",
    6: "червень червня червні черв июнь июня июне июн june jun",
    7: "липень липня липні лип июль июля июле июл july jul",
    8: "серпень серпня серпні серп август августа августе авг august aug",
    9: "вересень вересня вересні вер сентябрь сентября сентябре сент сен september sept sep",
    10: "жовтень жовтня жовтні жовт октябрь октября октябре окт october oct",
    11: "листопад листопада листопаді лист ноябрь ноября ноябре нояб ноя november nov",
    12: "грудень грудня грудні груд декабрь декабря декабре дек december dec",
}
MONTHS = {form: number for number, forms in _MONTH_FORMS.items() for form in forms.split()}
_WEEKDAYS = (
    "понеділок понеділка вівторок вівторка середа середу четвер четверга пʼятниця пʼятницю субота суботу "
    "неділя неділю понедельник вторник среда среду четверг пятница пятницу суббота субботу воскресенье "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "пн вт ср чт пт сб нд вс"
).split()
_DAY_WORDS = {
    "сьогодні": 0, "сегодня": 0, "today": 0,
    "вчора": 1, "вчера": 1, "yesterday": 1,
    "позавчора": 2, "позавчера": 2,
}  # fmt: skip
_NOW_WORDS = ("щойно", "только что", "just now", "зараз", "сейчас", "now")
_UNITS = {
    "seconds": "секунд секунду секунди секунды сек с second seconds sec secs",
    "minutes": "хвилин хвилину хвилини хв минут минуту минуты мин minute minutes min mins",
    "hours": "годин годину години год час часа часов hour hours hr hrs h",
    "days": "день дні днів дня дней day days",
    "weeks": "тиждень тижні тижнів неделю недели недель week weeks",
}
UNITS = {form: unit for unit, forms in _UNITS.items() for form in forms.split()}
_ONE_WORDS = ("a", "an", "one", "одну", "одна", "один", "одне")

_MONTH_RE = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_APOSTROPHES = re.compile(r"['’ʼ`]")
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?\s*(?:z|[+-]\d{2}(?::?\d{2})?)?$"
)
_RFC822 = re.compile(
    r"^(?:[a-z]{3},\s*)?\d{1,2}\s+[a-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|gmt|ut|utc|z)$"
)
_TIME = re.compile(r"(?<![\d.:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,2})([./])(\d{1,2})\2(\d{4}|\d{2})(?![\d.])")
_DAY_MONTH_YEAR = re.compile(rf"(?<!\w)(\d{{1,2}})\s*(?:-?го\s+)?({_MONTH_RE})\.?\s*,?\s*(\d{{4}})(?!\d)")
_MONTH_DAY_YEAR = re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})(?!\d)")
_WORD = re.compile(r"[^\W\d_]+")
_FILLER = frozenset(
    "о в во at on року рік года год г р y р. г. the of".split()
)  # connectors and "year" suffixes that may stand around the parts of a date
_AGO = re.compile(
    r"^(?:(\d+|" + "|".join(_ONE_WORDS) + r")\s*)?(" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
    + r")\.?\s+(?:тому|назад|ago)$"
)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:
        value += 2000 if value < 70 else 1900
    return value


def _local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime | None:
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(timezone.utc)
    except ValueError:
        return None


def _leftover_is_filler(text: str) -> bool:
    """After removing the date parts, only weekday names, connectors and punctuation may remain."""
    return all(word in _FILLER or word in _WEEKDAYS for word in _WORD.findall(text))


def _relative(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    if text in _NOW_WORDS:
        return now
    match = _AGO.match(text)
    if match:
        count_text, unit = match.groups()
        count = int(count_text) if count_text and count_text.isdigit() else 1
        return now - timedelta(**{UNITS[unit]: count})
    return None


def parse_date_fast(text: str, *, tz: str = DEFAULT_TZ, now: datetime | None = None) -> datetime | None:
    """The fast path alone: a UTC datetime for the formats news sites print, else None.

    No plausibility check (see :func:`parse_date`).
    """
    zone = _zone(tz)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    text = _APOSTROPHES.sub("ʼ", text.strip().lower())
    text = " ".join(text.split())
    if not text or len(text) > MAX_LENGTH:
        return None
    if _ISO.match(text):
        try:
            value = datetime.fromisoformat(text.replace(",", ".").upper())
        except ValueError:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(timezone.utc)
    if _RFC822.match(text):
        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(timezone.utc)
    relative = _relative(text, zone, now)
    if relative is not None:
        return relative
    return _calendar(text, zone, now)


def _calendar(text: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """Day + month (number or name) + year, or a today/yesterday word, with an optional time."""
    hour = minute = second = 0
    time_match = _TIME.search(text)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        text = text[: time_match.start()] + " " + text[time_match.end():]
    found = _NUMERIC_DATE.search(text)
    if found:
        day, month, year = int(found.group(1)), int(found.group(3)), _year(found.group(4))
    elif found := _DAY_MONTH_YEAR.search(text):
        day, month, year = int(found.group(1)), MONTHS[found.group(2)], int(found.group(3))
    elif found := _MONTH_DAY_YEAR.search(text):
        day, month, year = int(found.group(2)), MONTHS[found.group(1)], int(found.group(3))
    else:
        words = _WORD.findall(text)
        day_words = [w for w in words if w in _DAY_WORDS]
        if len(day_words) != 1 or not all(w in _DAY_WORDS or w in _FILLER for w in words):
            return None
        if re.search(r"\d", text):
            return None
        local_day = now.astimezone(zone).date() - timedelta(days=_DAY_WORDS[day_words[0]])
        return _local(zone, local_day.year, local_day.month, local_day.day, hour, minute, second)
    rest = text[: found.start()] + " " + text[found.end():]
    if re.search(r"\d", rest) or not _leftover_is_filler(rest):
        return None
    return _local(zone, year, month, day, hour, minute, second)


def _dateparser(text: str, languages: Sequence[str], zone_name: str, now: datetime) -> datetime | None:
    settings = {
        "RELATIVE_BASE": now.astimezone(_zone(zone_name)).replace(tzinfo=None),
        "TIMEZONE": zone_name,
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
    }
    try:
        value = dateparser.parse(text, languages=list(languages), settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; none may escape
        logger.debug("dateparser failed on %r", text, exc_info=True)
        return None
    return value.astimezone(timezone.utc) if value else None


def parse_date(
    text: str | None,
    *,
    languages: Sequence[str] | None = None,
    tz: str = DEFAULT_TZ,
    now: datetime | None = None,
    floor: datetime | None = None,
) -> datetime | None:
    """Parse a date string as printed by news sites; return a tz-aware datetime in UTC, or None.

    :param languages: hints for dateparser (default uk, ru, en); the fast path knows all three.
    :param tz: the zone of local times (strings without an offset).
    :param now: the moment relative dates resolve against and the future limit (default: now).
    :param floor: the oldest acceptable result (default 1990-01-01 UTC).
    """
    if not text or not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    try:
        value = parse_date_fast(text, tz=tz, now=now)
    except (ValueError, OverflowError):
        value = None
    if value is None:
        value = _dateparser(text, languages or DEFAULT_LANGUAGES, tz, now)
    if value is None:
        return None
    if value > now + MAX_FUTURE or value < (floor or DEFAULT_FLOOR):
        logger.debug("rejected implausible date %s from %r", value.isoformat(), text)
        return None
    return value
