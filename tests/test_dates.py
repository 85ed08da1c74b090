"""newscrawl.dates: the formats news sites print, Kyiv time, rejection of impossible dates.

Every test passes ``now`` explicitly: nothing depends on the machine's clock, locale or zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dateparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.dates import parse_date, parse_date_fast

UTC = timezone.utc
KYIV = ZoneInfo("Europe/Kyiv")
NOW = datetime(2023, 2, 18, 23, 30, tzinfo=UTC)  # already 19 Feb in Kyiv (01:30 local)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # UNIAN article info line and listing (Kyiv winter time, UTC+2)
        ("06:24, 18.02.23", utc(2023, 2, 18, 4, 24)),
        ("15:59, 15.12.2022", utc(2022, 12, 15, 13, 59)),
        ("18.02.2023 06:24", utc(2023, 2, 18, 4, 24)),
        ("18.02.2023, 06:24", utc(2023, 2, 18, 4, 24)),
        ("18.02.2023", utc(2023, 2, 17, 22, 0)),
        # summer time, UTC+3
        ("12:00, 15.07.2022", utc(2022, 7, 15, 9, 0)),
        ("Mon, 28 Sep 2020 16:35:12 +0300", utc(2020, 9, 28, 13, 35, 12)),
        ("Sat, 18 Feb 2023 07:00:00 GMT", utc(2023, 2, 18, 7, 0)),
        ("28 Sep 2020 16:35:12 +0300", utc(2020, 9, 28, 13, 35, 12)),
        # ISO 8601, with and without offset
        ("2023-02-18T06:24:00+02:00", utc(2023, 2, 18, 4, 24)),
        ("2023-02-18T04:24:00Z", utc(2023, 2, 18, 4, 24)),
        ("2023-02-18T04:24:00.123456Z", datetime(2023, 2, 18, 4, 24, 0, 123456, tzinfo=UTC)),
        ("2020-12-03T18:47", utc(2020, 12, 3, 16, 47)),
        ("2023-02-18", utc(2023, 2, 17, 22, 0)),
        # month names, all three languages, cases, weekdays, "year" suffixes
        ("18 лютого 2023", utc(2023, 2, 17, 22, 0)),
        ("18 лютий 2023", utc(2023, 2, 17, 22, 0)),
        ("18 лютого 2023 року, 06:24", utc(2023, 2, 18, 4, 24)),
        ("субота, 18 лютого 2023 06:24", utc(2023, 2, 18, 4, 24)),
        ("П’ятниця, 17 лютого 2023 о 14:30", utc(2023, 2, 17, 12, 30)),
        ("18 февраля 2023, 06:24", utc(2023, 2, 18, 4, 24)),
        ("18 февраля 2023 г. в 06:24", utc(2023, 2, 18, 4, 24)),
        ("02:59 воскресенье, 18 марта 2018", utc(2018, 3, 18, 0, 59)),
        ("Saturday, 18 February 2023", utc(2023, 2, 17, 22, 0)),
        ("February 18, 2023 06:24", utc(2023, 2, 18, 4, 24)),
        ("18 Feb 2023", utc(2023, 2, 17, 22, 0)),
        ("1 липня 2022, 10:00", utc(2022, 7, 1, 7, 0)),
        # relative to now (NOW is 01:30 on 19 Feb in Kyiv)
        ("Сьогодні, 14:30", utc(2023, 2, 19, 12, 30)),
        ("Вчора 14:30", utc(2023, 2, 18, 12, 30)),
        ("вчора, 14:30", utc(2023, 2, 18, 12, 30)),
        ("Сегодня", utc(2023, 2, 18, 22, 0)),
        ("Вчера в 09:15", utc(2023, 2, 18, 7, 15)),
        ("Today", utc(2023, 2, 18, 22, 0)),
        ("Yesterday, 10:00", utc(2023, 2, 18, 8, 0)),
        ("5 хвилин тому", NOW - timedelta(minutes=5)),
        ("2 години тому", NOW - timedelta(hours=2)),
        ("хвилину тому", NOW - timedelta(minutes=1)),
        ("3 часа назад", NOW - timedelta(hours=3)),
        ("2 дні тому", NOW - timedelta(days=2)),
        ("an hour ago", NOW - timedelta(hours=1)),
        ("5 minutes ago", NOW - timedelta(minutes=5)),
        ("щойно", NOW),
    ],
)
def test_formats_news_sites_print(text: str, expected: datetime) -> None:
    assert parse_date_fast(text, now=NOW) == expected, "fast path"
    assert parse_date(text, now=NOW) == expected
    assert parse_date(text, now=NOW).tzinfo is UTC


def test_dateparser_fallback_answers_what_the_fast_path_does_not() -> None:
    text = "18 of February 2023 at 6:24 am"
    assert parse_date_fast(text, now=NOW) is None
    assert parse_date(text, now=NOW, languages=["en"]) == utc(2023, 2, 18, 4, 24)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "garbage",
        "hello 18.02.2023",  # a date inside a sentence is not a date string
        "31.02.2023",  # no such day
        "25:61, 18.02.2023",
        "1985-06-01",  # before the 1990 floor
        "20.02.2023 12:00",  # more than a day after NOW
        "x" * 500,
    ],
)
def test_impossible_or_unreadable_dates_are_rejected(text: str | None) -> None:
    assert parse_date(text, now=NOW) is None


def test_floor_is_configurable() -> None:
    # Kyiv kept Moscow summer time (UTC+4) in 1985; tzdata knows, and so must we
    assert parse_date("1985-06-01", now=NOW, floor=utc(1980, 1, 1)) == utc(1985, 5, 31, 20, 0)


def test_timezone_argument() -> None:
    assert parse_date("06:24, 18.02.23", now=NOW, tz="UTC") == utc(2023, 2, 18, 6, 24)
    assert parse_date("06:24, 18.02.23", now=NOW, tz="Europe/Warsaw") == utc(2023, 2, 18, 5, 24)


def test_dst_switch_does_not_crash() -> None:
    # 26 March 2023: Kyiv clocks jump from 03:00 to 04:00; 03:30 does not exist locally
    assert parse_date("03:30, 26.03.2023", now=utc(2023, 3, 27)) is not None


# -- property: wherever the fast path answers, dateparser gives the same instant ----------------

UK_GENITIVE = "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня".split()
RU_GENITIVE = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split()
EN_MONTHS = "January February March April May June July August September October November December".split()
WEEKDAYS = {
    "uk": "понеділок вівторок середа четвер пʼятниця субота неділя".split(),
    "ru": "понедельник вторник среда четверг пятница суббота воскресенье".split(),
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
}


#: after every generated moment: dateparser resolves two-digit years towards the past of "now"
PROPERTY_NOW = utc(2031, 1, 1)


def render(moment: datetime, style: int, with_weekday: bool) -> tuple[str, str]:
    """``moment`` (Kyiv local) in one of the printed styles; returns (text, language)."""
    d, m, y, hh, mm = moment.day, moment.month, moment.year, moment.hour, moment.minute
    lang = ("uk", "ru", "en")[style % 3]
    styles = [
        f"{hh:02d}:{mm:02d}, {d:02d}.{m:02d}.{y % 100:02d}",
        f"{hh:02d}:{mm:02d}, {d:02d}.{m:02d}.{y}",
        f"{d:02d}.{m:02d}.{y} {hh:02d}:{mm:02d}",
        f"{d} {UK_GENITIVE[m - 1]} {y}, {hh:02d}:{mm:02d}",
        f"{d} {RU_GENITIVE[m - 1]} {y}, {hh:02d}:{mm:02d}",
        f"{EN_MONTHS[m - 1]} {d}, {y} {hh:02d}:{mm:02d}",
        f"{d} {EN_MONTHS[m - 1]} {y} {hh:02d}:{mm:02d}",
        moment.isoformat(timespec="seconds"),
    ]
    text = styles[style]
    lang = {3: "uk", 4: "ru", 5: "en", 6: "en"}.get(style, lang)
    if with_weekday and style in (3, 4, 5, 6):
        text = f"{WEEKDAYS[lang][moment.weekday()]}, {text}"
    return text, lang


def dateparser_instant(text: str, lang: str, now: datetime) -> datetime | None:
    value = dateparser.parse(
        text,
        languages=[lang],
        settings={
            "RELATIVE_BASE": now.astimezone(KYIV).replace(tzinfo=None),
            "TIMEZONE": "Europe/Kyiv",
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
        },
    )
    return value.astimezone(UTC) if value else None


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda naive: naive.replace(second=0, microsecond=0, tzinfo=KYIV)
    ),
    style=st.integers(min_value=0, max_value=7),
    with_weekday=st.booleans(),
)
def test_fast_path_agrees_with_dateparser(moment: datetime, style: int, with_weekday: bool) -> None:
    if style == 0 and not 2000 <= moment.year <= 2069:
        return  # two-digit years: both read 00-69 as 20xx
    if moment.fold or moment.astimezone(UTC).astimezone(KYIV).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return  # local times that do not exist or repeat at the DST switch have no single answer
    text, lang = render(moment, style, with_weekday)
    fast = parse_date_fast(text, now=PROPERTY_NOW)
    assert fast == moment.astimezone(UTC), text
    assert dateparser_instant(text, lang, PROPERTY_NOW) == fast, text


@settings(max_examples=100, deadline=None)
@given(
    minutes_ago=st.integers(min_value=1, max_value=59),
    hours_ago=st.integers(min_value=2, max_value=23),
    day_word=st.sampled_from([("Вчора", "uk"), ("Вчера", "ru"), ("Yesterday", "en"), ("Сьогодні", "uk"), ("Сегодня", "ru")]),
    clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    now=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda n: n.replace(tzinfo=UTC)),
)
def test_relative_forms_agree_with_dateparser(minutes_ago: int, hours_ago: int, day_word: tuple[str, str], clock, now: datetime) -> None:
    """Bare "today"/"yesterday" with no time are left out: the fast path reads the day (midnight),
    dateparser answers "now" minus days; with a time both must agree."""
    cases = [
        (f"{minutes_ago} хвилин тому", "uk"),
        (f"{hours_ago} часов назад", "ru"),
        (f"{minutes_ago} minutes ago", "en"),
        (f"{day_word[0]}, {clock:%H:%M}", day_word[1]),
    ]
    for text, lang in cases:
        fast = parse_date_fast(text, now=now)
        if fast is None:  # a "today, HH:MM" that falls into a DST gap
            continue
        if fast.astimezone(KYIV).utcoffset() != now.astimezone(KYIV).utcoffset():
            continue  # dateparser subtracts in naive local time, an hour off across a DST switch; we do not
        assert dateparser_instant(text, lang, now) == fast, text
    assert parse_date_fast(f"{minutes_ago} хвилин тому", now=now) == now - timedelta(minutes=minutes_ago)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_string_is_answered_without_raising(text: str) -> None:
    value = parse_date(text, now=NOW)
    assert value is None or (value.tzinfo is UTC and utc(1990, 1, 1) <= value <= NOW + timedelta(days=1))
