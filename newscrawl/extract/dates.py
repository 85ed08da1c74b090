"""The only place a string becomes a datetime.

:func:`parse_date` reads the dates news sites print and returns a timezone-aware UTC datetime. A
fast path (precompiled patterns, :func:`parse_date_fast`) covers ISO 8601, RFC 822/1123/850 (feeds,
HTTP headers), Unix timestamps (10 digits, seconds; 13, milliseconds: some JSON-LD has them),
numeric dates ("06:24, 18.02.23", "18.02.2023 06:24"; day first, with slashes or dashes month first
where the page's locale writes them so: ``day_first``), Ukrainian/Russian/English/German
month names in every grammatical case and common abbreviations, with or without a weekday ("02:59
воскресенье, 18 марта 2018", "Sa., 18. Feb. 2023"), with or without a year ("18 лютого, 06:24",
"Feb 18, 6:24 pm"), "today/yesterday" words ("вчора, 14:30", "gestern um 14:05 Uhr") and "N units
ago" ("5 хвилин тому", "3 часа назад", "an hour ago", "vor 5 Minuten"). Everything else goes to
dateparser with pinned settings, so no answer depends on the machine's clock, locale or timezone.

Relative dates count from ``now`` (the page's fetch time): "N units ago" is that long before it,
"yesterday" is the calendar day before now's in ``tz``, and a date without a year takes the latest
year that puts it not after ``now`` (31 December fetched on 1 January is last year's; 29 February
goes back to the last leap year). Nothing else comes from ``now``: a bare time of day ("14:30"),
a month and year, a year or a day number alone is no date (None). Local times (no offset in the string) are in ``tz``
(Europe/Kyiv, DST-aware; a time that does not exist or repeats at a DST switch is read with
zoneinfo's ``fold=0``). Two-digit years 00-69 are 20xx, 70-99 are 19xx. Results more than a day
after ``now`` or before ``floor`` (1990 by default) are rejected: None, never a wrong date, and
never an exception.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import dateparser

logger = logging.getLogger(__name__)

DEFAULT_TZ = "Europe/Kyiv"
#: countries that write a numeric date month first ("11/01/2023" is 1 November)
MONTH_FIRST_COUNTRIES = frozenset({"us", "ph", "pr", "gu", "as", "vi", "mp", "um", "fm", "mh", "pw"})
DEFAULT_FLOOR = datetime(1990, 1, 1, tzinfo=timezone.utc)
DEFAULT_LANGUAGES = ("uk", "ru", "en")
MAX_FUTURE = timedelta(days=1)
MAX_LENGTH = 200  # longer strings are not dates

_MONTH_FORMS = {  # Ukrainian, Russian, English, German
    1: "січень січня січні січ январь января январе янв january jan januar jänner jän",
    2: "лютий лютого лютому лютім лют февраль февраля феврале фев февр february feb februar",
    3: "березень березня березні бер март марта марте мар march mar märz mär mrz",
    4: "квітень квітня квітні квіт кві апрель апреля апреле апр april apr",
    5: "травень травня травні трав тра май мая мае may mai",
    6: "червень червня червні черв чер июнь июня июне июн june jun juni",
    7: "липень липня липні лип июль июля июле июл july jul juli",
    8: "серпень серпня серпні серп сер август августа августе авг august aug",
    9: "вересень вересня вересні вер сентябрь сентября сентябре сент сен september sept sep",
    10: "жовтень жовтня жовтні жовт жов октябрь октября октябре окт october oct oktober okt",
    11: "листопад листопада листопаді лист лис ноябрь ноября ноябре нояб ноя november nov",
    12: "грудень грудня грудні груд гру декабрь декабря декабре дек december dec dezember dez",
}
MONTHS = {form: number for number, forms in _MONTH_FORMS.items() for form in forms.split()}
_EN_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun"
WEEKDAYS = frozenset(
    (
        "понеділок вівторок середа середу четвер пʼятниця пʼятницю субота суботу неділя неділю "
        "понедельник вторник среда среду четверг пятница пятницу суббота субботу воскресенье "
        "montag dienstag mittwoch donnerstag freitag samstag sonntag mo di mi do fr sa so "
        f"пн вт ср чт пт сб нд вс {_EN_WEEKDAYS}"
    ).split()
)
#: connectors and "year" words that may stand around the parts of a date ("о 14:30", "2023 року", "14:05 Uhr")
FILLER = frozenset("о об у в во at on року рік р года год г um am uhr".split())
DAY_WORDS = {
    "сьогодні": 0, "сегодня": 0, "today": 0, "heute": 0,
    "вчора": 1, "вчера": 1, "yesterday": 1, "gestern": 1,
    "позавчора": 2, "позавчера": 2, "vorgestern": 2,
}  # fmt: skip
NOW_WORDS = frozenset(("щойно", "зараз", "только что", "сейчас", "just now", "now", "gerade eben"))
_UNIT_FORMS = {
    "seconds": "секунда секунду секунди секунд сек с секунды second seconds sec secs s sekunde sekunden",
    "minutes": "хвилина хвилину хвилини хвилин хв минута минуту минуты минут мин minute minutes min mins minuten",
    "hours": "година годину години годин год час часа часов ч hour hours hr hrs h stunde stunden std",
    "days": "день дні днів дня дней day days tag tagen",
    "weeks": "тиждень тижні тижнів неделю недели недель week weeks woche wochen",
}
UNITS = {form: unit for unit, forms in _UNIT_FORMS.items() for form in forms.split()}
HALF_HOURS = frozenset(("півгодини", "пів години", "полчаса", "half an hour"))
_ONE_WORDS = "a an one одну одна один одне"
_GERMAN_ONE_WORDS = "eine einer einem einen ein"
#: RFC 822 zone names (military zones other than Z are not used by anyone)
_RFC_ZONES = {
    "gmt": 0, "ut": 0, "utc": 0, "z": 0,
    "edt": -4, "est": -5, "cdt": -5, "cst": -6, "mdt": -6, "mst": -7, "pdt": -7, "pst": -8,
}  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so that no word stops at a shorter prefix."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_MONTH_RE = _alternatives(MONTHS)
_NOT_LETTER = r"(?![^\W\d_])"
_APOSTROPHES = re.compile(r"['’ʼ`]")
_ISO = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[t ]([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?))?"
    r"\s*(z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_RFC822 = re.compile(
    rf"^(?:(?:{_alternatives(_EN_WEEKDAYS.split())}),?\s*)?([0-9]{{1,2}})[ -]([a-z]{{3}})[ -]([0-9]{{4}}|[0-9]{{2}})"
    r"\s+([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([+-][0-9]{4}|[a-z]{1,3})$"
)
_TIME = re.compile(
    r"(?<![0-9.:])([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?:\s*([ap])\.?m\.?(?![^\W\d_]))?(?![0-9:])"
)
_NUMERIC_DATE = re.compile(
    r"(?<![0-9])(?<![0-9][./-])([0-9]{1,2})([./-])([0-9]{1,2})\2([0-9]{4}|[0-9]{2})(?![0-9]|[./-][0-9])"
)
_DAY = r"(?<!\w)([0-9]{1,2})(?:-?го|st|nd|rd|th|\.)?"  # "18", "18-го", "18th", "18." (German)
_DAY_MONTH_YEAR = re.compile(rf"{_DAY}\s*({_MONTH_RE})\.?{_NOT_LETTER}\s*,?\s*([0-9]{{4}})(?![0-9])")
_MONTH_DAY_YEAR = re.compile(
    rf"(?<!\w)({_MONTH_RE})\.?\s*([0-9]{{1,2}})(?:st|nd|rd|th)?{_NOT_LETTER}\s*,?\s*([0-9]{{4}})(?![0-9])"
)
_DAY_MONTH = re.compile(rf"{_DAY}\s*({_MONTH_RE})\.?{_NOT_LETTER}")
_MONTH_DAY = re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s*([0-9]{{1,2}})(?:st|nd|rd|th)?(?![0-9]){_NOT_LETTER}")
_AGO = re.compile(
    rf"^(?:(?:(?P<count>[0-9]{{1,5}})\s*|(?:{_alternatives(_ONE_WORDS.split())})\s+)?"
    rf"(?P<unit>{_alternatives(UNITS)})\.?|(?P<half_hour>{_alternatives(HALF_HOURS)}))\s+(?:тому|назад|тому назад|ago)$"
)
_VOR = re.compile(  # German puts "ago" first: "vor 5 Minuten", "vor einer Stunde"
    rf"^vor\s+(?:(?P<count>[0-9]{{1,5}})\s*|(?:{_alternatives(_GERMAN_ONE_WORDS.split())})\s+)"
    rf"(?P<unit>{_alternatives(UNITS)})\.?$"
)
_EPOCH = re.compile(r"^([0-9]{10}|[0-9]{13})$")
_STATED_OFFSET = re.compile(
    r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?\s*(?:gmt|utc)?\s*([+-])([0-9]{2}):?([0-9]{2})$"
)
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    """The zone called ``name`` (raises for unknown names: a programming error, not an input)."""
    return ZoneInfo(name)


def _to_utc(value: datetime, zone: ZoneInfo) -> datetime:
    """``value`` in UTC; a naive value is a wall-clock time in ``zone``."""
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(timezone.utc)


def _year(text: str) -> int:
    """A printed year; two digits: 00-69 are 20xx, 70-99 are 19xx."""
    value = int(text)
    if len(text) == 2:
        value += 2000 if value < 70 else 1900
    return value


def parse_date_fast(text: str, *, tz: str = DEFAULT_TZ, now: datetime | None = None,
                    day_first: bool = True) -> datetime | None:
    """The fast path alone: a UTC datetime for the formats news sites print, else None.

    No plausibility check (see :func:`parse_date`); never raises on any string.
    """
    if len(text) > MAX_LENGTH:
        return None
    zone = _zone(tz)
    now = _to_utc(now or datetime.now(timezone.utc), zone)
    text = " ".join(_APOSTROPHES.sub("ʼ", text.lower()).split())
    try:
        if match := _ISO.match(text):
            return _iso(match, zone)
        if (match := _RFC822.match(text)) and (value := _rfc822(match)):
            return value
        if match := _EPOCH.match(text):
            return datetime.fromtimestamp(int(match[1]) / (1000 if len(match[1]) == 13 else 1), timezone.utc)
        if text in NOW_WORDS:
            return now
        if match := _AGO.match(text) or _VOR.match(text):
            found = match.groupdict()
            if found.get("half_hour"):
                return now - timedelta(minutes=30)
            return now - timedelta(**{UNITS[found["unit"]]: int(found["count"] or 1)})
        return _calendar(text, zone, now, day_first)
    except (ValueError, OverflowError):  # no such day or time, offset out of range, year out of range
        return None


def stated_offset(text: str | None) -> timedelta | None:
    """The UTC offset a date string states after its time ("…T14:07:00+02:00", "…14:07 +0200"), else None."""
    match = _STATED_OFFSET.search(" ".join((text or "")[:MAX_LENGTH].lower().split()))
    if not match or int(match[2]) > 14 or int(match[3]) >= 60:
        return None
    offset = timedelta(hours=int(match[2]), minutes=int(match[3]))
    return -offset if match[1] == "-" else offset


def _iso(match: re.Match[str], zone: ZoneInfo) -> datetime:
    """ISO 8601 as matched by ``_ISO``; date only is local midnight, no offset is local time."""
    day, clock, offset = match.groups()
    value = datetime.fromisoformat(f"{day}T{(clock or '00:00').replace(',', '.')}{(offset or '').upper()}")
    return _to_utc(value, zone)


def _rfc822(match: re.Match[str]) -> datetime | None:
    """RFC 822/1123/850 with a numeric offset or a zone name RFC 822 defines, else None."""
    day, month_name, year, hour, minute, second, zone_name = match.groups()
    month = MONTHS.get(month_name)
    if zone_name[0] in "+-" and int(zone_name[3:]) < 60:
        minutes = int(zone_name[:3]) * 60 + int(zone_name[0] + zone_name[3:])
    elif zone_name in _RFC_ZONES:
        minutes = _RFC_ZONES[zone_name] * 60
    else:
        return None  # a zone only dateparser knows ("CET")
    if month is None:
        return None
    zone = timezone(timedelta(minutes=minutes))
    value = datetime(_year(year), month, int(day), int(hour), int(minute), int(second or 0), tzinfo=zone)
    return value.astimezone(timezone.utc)


def _calendar(text: str, zone: ZoneInfo, now: datetime, day_first: bool = True) -> datetime | None:
    """Day + month (number or name) + optional year, or a today/yesterday word, with an optional time.

    Numbers separated by slashes or dashes are read month first when not ``day_first`` (the
    page's locale: "11/01/2023" is 1 November in the US); with dots always day first.
    Whatever is left after taking out the time and the date may only be weekday names,
    connectors, "year" words and punctuation.
    """
    hour = minute = second = 0
    if time_match := _TIME.search(text):
        hour, minute, second = int(time_match[1]), int(time_match[2]), int(time_match[3] or 0)
        if time_match[4]:  # 12-hour clock
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if time_match[4] == "p" else 0)
        text = f"{text[: time_match.start()]} {text[time_match.end() :]}"
    if found := _NUMERIC_DATE.search(text):
        day, month, year = int(found[1]), int(found[3]), _year(found[4])
        if not day_first and found[2] != ".":
            day, month = month, day
    elif found := _DAY_MONTH_YEAR.search(text):
        day, month, year = int(found[1]), MONTHS[found[2]], int(found[3])
    elif found := _MONTH_DAY_YEAR.search(text):
        day, month, year = int(found[2]), MONTHS[found[1]], int(found[3])
    elif found := _DAY_MONTH.search(text):
        day, month, year = int(found[1]), MONTHS[found[2]], None
    elif found := _MONTH_DAY.search(text):
        day, month, year = int(found[2]), MONTHS[found[1]], None
    else:
        return _day_word(text, zone, now, hour, minute, second)
    rest = f"{text[: found.start()]} {text[found.end() :]}"
    if _DIGIT.search(rest) or not all(word in FILLER or word in WEEKDAYS for word in _WORD.findall(rest)):
        return None
    if year is None:
        return _latest_year(month, day, time(hour, minute, second), zone, now)
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(timezone.utc)


def _latest_year(month: int, day: int, clock: time, zone: ZoneInfo, now: datetime) -> datetime | None:
    """A date printed without a year, in the latest year that puts it not after ``now``, else None.

    Looks back as far as 29 February needs (eight years, across 2100); no such day in any of them
    (31 April) is None.
    """
    this_year = now.astimezone(zone).year
    for year in range(this_year, this_year - 9, -1):
        try:
            value = datetime.combine(date(year, month, day), clock, tzinfo=zone).astimezone(timezone.utc)
        except ValueError:
            continue
        if value <= now:
            return value
    return None


def _day_word(text: str, zone: ZoneInfo, now: datetime, hour: int, minute: int, second: int) -> datetime | None:
    """A today/yesterday word ("Сьогодні, 14:30", "вчера в 09:15"): that calendar day in ``zone`` at ``now``."""
    words = _WORD.findall(text)
    days = [DAY_WORDS[word] for word in words if word in DAY_WORDS]
    if len(days) != 1 or _DIGIT.search(text) or not all(word in DAY_WORDS or word in FILLER for word in words):
        return None
    day = now.astimezone(zone).date() - timedelta(days=days[0])
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone).astimezone(timezone.utc)


def _dateparser(text: str, languages: Sequence[str], tz: str, now: datetime, day_first: bool = True) -> datetime | None:
    """dateparser with pinned settings: nothing is taken from the machine's clock, locale or zone,
    and no part of an absolute date from ``now`` (a bare time, month or year is no date)."""
    settings = {
        "RELATIVE_BASE": now.astimezone(_zone(tz)).replace(tzinfo=None),
        "TIMEZONE": tz,
        "TO_TIMEZONE": "UTC",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DAY_OF_MONTH": "first",
        "DATE_ORDER": "DMY" if day_first else "MDY",
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"],
    }
    try:
        value = dateparser.parse(text, languages=list(languages), settings=settings)
        return _to_utc(value, _zone(tz)) if value else None
    except Exception:  # dateparser raises assorted errors on odd input; none may escape
        logger.debug("dateparser failed on %r", text, exc_info=True)
        return None


def parse_date(
    text: str | None,
    *,
    languages: Sequence[str] | None = None,
    tz: str = DEFAULT_TZ,
    now: datetime | None = None,
    floor: datetime | None = None,
    max_future: timedelta | None = MAX_FUTURE,
    day_first: bool = True,
) -> datetime | None:
    """Parse a date string as printed by news sites; return a tz-aware datetime in UTC, or None.

    :param languages: hints for dateparser (default uk, ru, en); the fast path knows these three and
        German whatever the hints.
    :param tz: the zone of local times (strings without an offset).
    :param now: the moment relative dates resolve against and the future limit (default: the
        current time; a naive value is a wall-clock time in ``tz``).
    :param floor: the oldest acceptable result (default 1990-01-01 UTC; naive: in ``tz``).
    :param max_future: how far after ``now`` a result may be (None: any date; the publication date's
        rules reject a later one themselves, and want to know the page gives one).
    :param day_first: read "11/01/2023" as 11 January (else, as in the US, 1 November).
    """
    if not text or not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    zone = _zone(tz)
    now = _to_utc(now or datetime.now(timezone.utc), zone)
    value = parse_date_fast(text, tz=tz, now=now, day_first=day_first) or _dateparser(
        text, languages or DEFAULT_LANGUAGES, tz, now, day_first)
    if value is None:
        return None
    if (max_future is not None and value > now + max_future) or value < _to_utc(floor or DEFAULT_FLOOR, zone):
        logger.debug("rejected implausible date %s from %r", value.isoformat(), text)
        return None
    return value
