"""newscrawl.extract.dates: the formats news sites print, Kyiv time, rejection of impossible dates.

Every test passes ``now`` explicitly: nothing depends on the machine's clock, locale or zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import dateparser
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newscrawl.extract.dates import DEFAULT_FLOOR, DEFAULT_TZ, parse_date, parse_date_fast

UTC = timezone.utc
KYIV = ZoneInfo("Europe/Kyiv")
W = datetime(2023, 2, 18, 23, 30, tzinfo=UTC)  # winter, UTC+2: already 01:30 on 19 Feb in Kyiv
S = datetime(2023, 7, 15, 21, 30, tzinfo=UTC)  # summer, UTC+3: already 00:30 on 16 Jul in Kyiv


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def kyiv_time(*args: int, fold: int = 0) -> datetime:
    """A Kyiv wall-clock time as a UTC datetime (``fold=1``: the second 03:xx of an autumn switch)."""
    return datetime(*args, tzinfo=KYIV, fold=fold).astimezone(UTC)


FORMATS = [
    # numeric, day first (UNIAN article line and listings)
    ("06:24, 18.02.23", W, utc(2023, 2, 18, 4, 24)),
    ("15:59, 15.12.2022", W, utc(2022, 12, 15, 13, 59)),
    ("06:24:30, 18.02.23", W, utc(2023, 2, 18, 4, 24, 30)),
    ("18.02.2023 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18.02.2023, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18.02.2023", W, utc(2023, 2, 17, 22, 0)),
    ("18/02/2023", W, utc(2023, 2, 17, 22, 0)),
    ("18-02-2023 6:24", W, utc(2023, 2, 18, 4, 24)),
    ("1.2.2023", W, utc(2023, 1, 31, 22, 0)),
    ("12:00, 15.07.2023", S, utc(2023, 7, 15, 9, 0)),
    ("15.07.2023", S, utc(2023, 7, 14, 21, 0)),
    # ISO 8601: offsets kept, naive is Kyiv time
    ("2023-02-18T06:24:00+02:00", W, utc(2023, 2, 18, 4, 24)),
    ("2023-02-18T04:24:00Z", W, utc(2023, 2, 18, 4, 24)),
    ("2023-02-18T04:24:00.123456Z", W, datetime(2023, 2, 18, 4, 24, 0, 123456, tzinfo=UTC)),
    ("2023-02-18T06:24:00,5+0200", W, datetime(2023, 2, 18, 4, 24, 0, 500000, tzinfo=UTC)),
    ("2023-02-18 06:24:00 +0200", W, utc(2023, 2, 18, 4, 24)),
    ("2023-02-18 06:24:00", W, utc(2023, 2, 18, 4, 24)),
    ("2023-07-15T12:00", S, utc(2023, 7, 15, 9, 0)),
    ("2023-02-18", W, utc(2023, 2, 17, 22, 0)),
    ("2023-07-15", S, utc(2023, 7, 14, 21, 0)),
    ("2023-02-18+02:00", W, utc(2023, 2, 17, 22, 0)),
    # RFC 822/1123 (RSS, HTTP Date), RFC 850
    ("Mon, 28 Sep 2020 16:35:12 +0300", W, utc(2020, 9, 28, 13, 35, 12)),
    ("Sat, 18 Feb 2023 07:00:00 GMT", W, utc(2023, 2, 18, 7, 0)),
    ("28 Sep 2020 16:35:12 +0300", W, utc(2020, 9, 28, 13, 35, 12)),
    ("Sat, 18 Feb 23 07:00 -0000", W, utc(2023, 2, 18, 7, 0)),
    ("Sat, 18 Feb 2023 02:00:00 EST", W, utc(2023, 2, 18, 7, 0)),
    ("Saturday, 18-Feb-23 07:00:00 GMT", W, utc(2023, 2, 18, 7, 0)),
    # Ukrainian month names: cases, abbreviations, weekdays, "року"/"р.", "о"
    ("18 лютого 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 лютий 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 лютому 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 феврале 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 лют. 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 ЛЮТОГО 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 лютого 2023 року", W, utc(2023, 2, 17, 22, 0)),
    ("18 лютого 2023 р., 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18 лютого 2023 року о 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("субота, 18 лютого 2023 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("П’ятниця, 17 лютого 2023 о 14:30", W, utc(2023, 2, 17, 12, 30)),
    ("п'ятниця, 17 лютого 2023", W, utc(2023, 2, 16, 22, 0)),
    ("пʼятниця, 17 лютого 2023", W, utc(2023, 2, 16, 22, 0)),
    ("у суботу, 18 лютого 2023", W, utc(2023, 2, 17, 22, 0)),
    ("1 липня 2023, 10:00", S, utc(2023, 7, 1, 7, 0)),
    # Russian
    ("18 февраля 2023, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18 февраль 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18 февр. 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18-го февраля 2023 года", W, utc(2023, 2, 17, 22, 0)),
    ("18 февраля 2023 г. в 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("02:59 воскресенье, 18 марта 2018", W, utc(2018, 3, 18, 0, 59)),
    ("15 июля 2023 в 12:00", S, utc(2023, 7, 15, 9, 0)),
    ("00:20 1 января 2023", W, utc(2022, 12, 31, 22, 20)),
    # English
    ("Saturday, 18 February 2023", W, utc(2023, 2, 17, 22, 0)),
    ("February 18, 2023 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("February 18th, 2023 at 6:24 pm", W, utc(2023, 2, 18, 16, 24)),
    ("18 Feb 2023", W, utc(2023, 2, 17, 22, 0)),
    ("Sat, 18 Feb 2023", W, utc(2023, 2, 17, 22, 0)),
    ("Thur, 16 Feb 2023", W, utc(2023, 2, 15, 22, 0)),
    ("12:00 Mon, 13 February 2023", W, utc(2023, 2, 13, 10, 0)),
    ("July 15, 2023 12:00 PM", S, utc(2023, 7, 15, 9, 0)),
    ("July 15, 2023 12:30 a.m.", S, utc(2023, 7, 14, 21, 30)),
    # German
    ("18. Februar 2023, 14:05 Uhr", W, utc(2023, 2, 18, 12, 5)),
    ("Sa., 18. Feb. 2023", W, utc(2023, 2, 17, 22, 0)),
    ("18.02.2023 um 14:05 Uhr", W, utc(2023, 2, 18, 12, 5)),
    ("Mo., 13. Februar 2023, 10:00 Uhr", W, utc(2023, 2, 13, 8, 0)),
    ("18. Mär. 2022", W, utc(2022, 3, 17, 22, 0)),
    ("18. Jänner 2023", W, utc(2023, 1, 17, 22, 0)),
    # no year: the latest year that puts the date not after now (W is 01:30 on 19 Feb in Kyiv)
    ("18 лютого, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18 лютого о 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("06:24, 18 лютого", W, utc(2023, 2, 18, 4, 24)),
    ("18 лютого", W, utc(2023, 2, 17, 22, 0)),
    ("18 лютий", W, utc(2023, 2, 17, 22, 0)),
    ("18 лют., 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18 лют 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("субота, 18 лютого, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("19 лютого, 01:30", W, utc(2023, 2, 18, 23, 30)),  # now itself
    ("19 лютого, 01:31", W, utc(2022, 2, 18, 23, 31)),  # a minute after now: last year's
    ("20 лютого", W, utc(2022, 2, 19, 22, 0)),
    ("31 грудня", W, utc(2022, 12, 30, 22, 0)),
    ("29 лютого", W, utc(2020, 2, 28, 22, 0)),  # the last leap year
    ("18 февраля в 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18 февраль", W, utc(2023, 2, 17, 22, 0)),
    ("18 февр., 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18-го февраля", W, utc(2023, 2, 17, 22, 0)),
    ("15 июля, 12:00", S, utc(2023, 7, 15, 9, 0)),
    ("16 липня, 00:31", S, utc(2022, 7, 15, 21, 31)),
    ("Feb 18, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("February 18 at 6:24 pm", W, utc(2023, 2, 18, 16, 24)),
    ("18 February, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("18th February, 06:24", W, utc(2023, 2, 18, 4, 24)),
    ("Feb. 18", W, utc(2023, 2, 17, 22, 0)),
    ("Sat, Feb 18, 6:24 PM", W, utc(2023, 2, 18, 16, 24)),
    ("Sept. 5", W, utc(2022, 9, 4, 21, 0)),
    ("18. Februar, 14:05", W, utc(2023, 2, 18, 12, 5)),
    ("9:05, 1. Februar", W, utc(2023, 2, 1, 7, 5)),
    ("18. März", W, utc(2022, 3, 17, 22, 0)),
    # today/yesterday: the calendar day in Kyiv at now (W is 01:30 on 19 Feb there, S 00:30 on 16 Jul)
    ("Сьогодні, 14:30", W, utc(2023, 2, 19, 12, 30)),
    ("сьогодні о 01:00", W, utc(2023, 2, 18, 23, 0)),
    ("Вчора 14:30", W, utc(2023, 2, 18, 12, 30)),
    ("вчора, 14:30", W, utc(2023, 2, 18, 12, 30)),
    ("Позавчора о 10:00", W, utc(2023, 2, 17, 8, 0)),
    ("Сегодня", W, utc(2023, 2, 18, 22, 0)),
    ("Вчера в 09:15", W, utc(2023, 2, 18, 7, 15)),
    ("Today", W, utc(2023, 2, 18, 22, 0)),
    ("Yesterday, 10:00", W, utc(2023, 2, 18, 8, 0)),
    ("yesterday at 11:30 pm", W, utc(2023, 2, 18, 21, 30)),
    ("yesterday, 2:05 pm", W, utc(2023, 2, 18, 12, 5)),
    ("gestern um 14:05 Uhr", W, utc(2023, 2, 18, 12, 5)),
    ("Heute, 00:10", W, utc(2023, 2, 18, 22, 10)),
    ("Vorgestern, 10:00", W, utc(2023, 2, 17, 8, 0)),
    ("Вчора, 23:50", S, utc(2023, 7, 15, 20, 50)),
    ("Сьогодні, 00:10", S, utc(2023, 7, 15, 21, 10)),
    # "N units ago" and "just now"
    ("5 хвилин тому", W, W - timedelta(minutes=5)),
    ("5 хв. тому", W, W - timedelta(minutes=5)),
    ("2 години тому", W, W - timedelta(hours=2)),
    ("година тому", W, W - timedelta(hours=1)),
    ("хвилину тому", W, W - timedelta(minutes=1)),
    ("2 дні тому", W, W - timedelta(days=2)),
    ("тиждень тому", W, W - timedelta(weeks=1)),
    ("3 часа назад", W, W - timedelta(hours=3)),
    ("3 часа тому назад", W, W - timedelta(hours=3)),
    ("минуту назад", W, W - timedelta(minutes=1)),
    ("an hour ago", W, W - timedelta(hours=1)),
    ("5 minutes ago", W, W - timedelta(minutes=5)),
    ("a day ago", W, W - timedelta(days=1)),
    ("півгодини тому", W, W - timedelta(minutes=30)),
    ("полчаса назад", W, W - timedelta(minutes=30)),
    ("half an hour ago", W, W - timedelta(minutes=30)),
    ("vor 5 Minuten", W, W - timedelta(minutes=5)),
    ("vor einer Stunde", W, W - timedelta(hours=1)),
    ("vor 2 Std.", W, W - timedelta(hours=2)),
    ("vor 3 Tagen", W, W - timedelta(days=3)),
    ("vor einer Woche", W, W - timedelta(weeks=1)),
    ("щойно", W, W),
    ("только что", W, W),
    ("just now", W, W),
    ("gerade eben", W, W),
]


@pytest.mark.parametrize(("text", "now", "expected"), FORMATS)
def test_formats_news_sites_print(text: str, now: datetime, expected: datetime) -> None:
    assert parse_date_fast(text, now=now) == expected, "fast path"
    value = parse_date(text, now=now)
    assert value == expected
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "languages", "expected"),
    [
        ("18 of February 2023 at 6:24 am", ["en"], utc(2023, 2, 18, 4, 24)),
        ("Sat, 18 Feb 2023 07:00:00 CET", None, utc(2023, 2, 18, 6, 0)),
        # against the pinned now (not the clock), on the 1st of the month (PREFER_DAY_OF_MONTH)
        ("2 місяці тому", ["uk"], utc(2022, 11, 30, 23, 30)),
    ],
)
def test_dateparser_answers_what_the_fast_path_does_not(text: str, languages: list[str] | None, expected: datetime) -> None:
    assert parse_date_fast(text, now=W) is None
    assert parse_date(text, now=W, languages=languages) == expected


def test_fast_path_knows_all_three_languages_whatever_the_hints() -> None:
    assert parse_date("18 лютого 2023", now=W, languages=["en"]) == utc(2023, 2, 17, 22, 0)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "garbage",
        "hello 18.02.2023",  # a date inside a sentence is not a date string
        "31.02.2023",  # no such day
        "31 квітня",  # no such day in any year
        "30 лютого, 10:00",
        "25:00, 18 лютого",
        "25:61, 18.02.2023",
        "1985-06-01",  # before the 1990 floor
        "01.06.1985 12:00",
        "20.02.2023 12:00",  # a day and a half after now
        "2023-02-20T23:30:00Z",  # exactly two days after now
        "x" * 500,
    ],
)
def test_impossible_or_unreadable_dates_are_rejected(text: str | None) -> None:
    assert parse_date(text, now=W) is None


def test_up_to_one_day_after_now_is_accepted() -> None:
    assert parse_date("2023-02-19T23:30:00Z", now=W) == W + timedelta(days=1)
    assert parse_date("2023-02-19T23:31:00Z", now=W) is None


def test_floor_is_configurable() -> None:
    assert DEFAULT_FLOOR == utc(1990, 1, 1)
    assert parse_date("1990-01-01T00:00:00Z", now=W) == DEFAULT_FLOOR
    # Kyiv kept Moscow summer time (UTC+4) in 1985; tzdata knows, and so must we
    assert parse_date("1985-06-01", now=W, floor=utc(1980, 1, 1)) == utc(1985, 5, 31, 20, 0)


def test_two_digit_years() -> None:
    assert parse_date_fast("18.02.69", now=W) == datetime(2069, 2, 18, tzinfo=KYIV).astimezone(UTC)
    assert parse_date_fast("18.02.70", now=W) == datetime(1970, 2, 18, tzinfo=KYIV).astimezone(UTC)
    assert parse_date_fast("Wed, 18 Feb 98 00:00 GMT", now=W) == utc(1998, 2, 18)
    assert parse_date("18.02.69", now=W) is None  # in the future
    assert parse_date("18.02.70", now=W) is None  # before the floor


def test_timezone_argument() -> None:
    assert DEFAULT_TZ == "Europe/Kyiv"
    assert parse_date("06:24, 18.02.23", now=W) == utc(2023, 2, 18, 4, 24)
    assert parse_date("06:24, 18.02.23", now=W, tz="UTC") == utc(2023, 2, 18, 6, 24)
    assert parse_date("06:24, 18.02.23", now=W, tz="Europe/Warsaw") == utc(2023, 2, 18, 5, 24)
    # "yesterday" is the day before the calendar day in tz: the 18th in Kyiv, the 17th in UTC
    assert parse_date("вчора, 14:30", now=W, tz="UTC") == utc(2023, 2, 17, 14, 30)
    # an offset in the string wins over tz
    assert parse_date("2023-02-18T06:24:00+02:00", now=W, tz="UTC") == utc(2023, 2, 18, 4, 24)


def test_naive_now_is_wall_clock_time_in_tz() -> None:
    assert parse_date("вчора, 14:30", now=datetime(2023, 2, 19, 1, 30)) == utc(2023, 2, 18, 12, 30)


def test_dst_switches_read_with_fold_0() -> None:
    # 26 March 2023: Kyiv clocks jump from 03:00 to 04:00; 03:30 does not exist, fold=0 reads it at UTC+2
    assert parse_date("03:30, 26.03.2023", now=utc(2023, 3, 27)) == utc(2023, 3, 26, 1, 30)
    # 29 October 2023: 03:00-04:00 happens twice; fold=0 is the first time, still UTC+3
    assert parse_date("03:30, 29.10.2023", now=utc(2023, 10, 30)) == utc(2023, 10, 29, 0, 30)


#: (text, now, expected): dates without a year and relative dates at midnight, the new year and the DST
#: switches in Kyiv; dateparser gives the same unless a comment says otherwise (checked in the test)
BOUNDARIES = [
    # the new year: now is 00:30 on 1 January 2024 in Kyiv
    ("31 грудня, 23:59", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 12, 31, 23, 59)),
    ("31 декабря в 23:59", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 12, 31, 23, 59)),
    ("Dec 31, 11:59 pm", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 12, 31, 23, 59)),
    ("вчора, 23:59", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 12, 31, 23, 59)),
    ("40 хвилин тому", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 12, 31, 23, 50)),
    ("1 січня", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2024, 1, 1)),
    ("1 січня, 00:10", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2024, 1, 1, 0, 10)),
    ("1 січня, 00:45", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 1, 1, 0, 45)),  # not in the future
    ("2 января", kyiv_time(2024, 1, 1, 0, 30), kyiv_time(2023, 1, 2)),
    # midnight, and just after it
    ("сьогодні, 00:00", kyiv_time(2023, 2, 19), kyiv_time(2023, 2, 19)),
    ("19 лютого", kyiv_time(2023, 2, 19), kyiv_time(2023, 2, 19)),
    ("19 лютого, 00:01", kyiv_time(2023, 2, 19), kyiv_time(2022, 2, 19, 0, 1)),
    ("вчера, 23:59", kyiv_time(2023, 2, 19), kyiv_time(2023, 2, 18, 23, 59)),
    ("вчора, 23:59", kyiv_time(2023, 2, 19, 0, 0, 30), kyiv_time(2023, 2, 18, 23, 59)),
    ("yesterday, 11:59 pm", kyiv_time(2023, 2, 19, 0, 0, 30), kyiv_time(2023, 2, 18, 23, 59)),
    ("сьогодні, 00:00", kyiv_time(2023, 2, 18, 23, 59, 59), kyiv_time(2023, 2, 18)),
    # 29 February: back to the last leap year that is not after now
    ("29 лютого", kyiv_time(2024, 2, 10), kyiv_time(2020, 2, 29)),
    ("29 лютого", kyiv_time(2024, 3, 1), kyiv_time(2024, 2, 29)),
    ("29 лютого, 12:00", kyiv_time(2024, 2, 29, 11), kyiv_time(2020, 2, 29, 12)),
    ("29 февраля", kyiv_time(2100, 3, 1), kyiv_time(2096, 2, 29)),  # 2100 is not a leap year
    # spring: on 26 March 2023 Kyiv clocks jump from 03:00 (UTC+2) to 04:00 (UTC+3)
    ("2 години тому", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 26, 0, 30)),
    ("3 часа назад", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 25, 23, 30)),
    ("26 березня, 03:30", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 26, 1, 30)),  # no such time: fold=0
    ("26 березня, 04:30", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 26, 1, 30)),
    ("25 березня, 23:00", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 25, 21, 0)),
    ("вчора, 10:00", kyiv_time(2023, 3, 27, 12), utc(2023, 3, 26, 7, 0)),
    # autumn: on 29 October 2023 Kyiv clocks go back from 04:00 (UTC+3) to 03:00 (UTC+2)
    ("2 години тому", kyiv_time(2023, 10, 29, 5, 30), utc(2023, 10, 29, 1, 30)),
    ("вчора, 12:00", kyiv_time(2023, 10, 30, 12), utc(2023, 10, 29, 10, 0)),
]


@pytest.mark.parametrize(("text", "now", "expected"), BOUNDARIES)
def test_relative_and_yearless_dates_at_the_boundaries(text: str, now: datetime, expected: datetime) -> None:
    assert parse_date_fast(text, now=now) == expected
    assert parse_date(text, now=now) == expected
    assert dateparser_instant(text, ["uk", "ru", "en"], now) == expected


SECOND_0320 = kyiv_time(2023, 10, 29, 3, 20, fold=1)  # 01:20 UTC, the second 03:20 in Kyiv that night


@pytest.mark.parametrize(
    ("text", "now", "expected", "dateparser_answer"),
    [
        # dateparser keeps now's UTC offset for "today/yesterday" across a switch: an hour off
        ("сьогодні, 02:30", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 26, 0, 30), utc(2023, 3, 25, 23, 30)),
        ("вчора, 02:30", kyiv_time(2023, 3, 27, 12), utc(2023, 3, 26, 0, 30), utc(2023, 3, 25, 23, 30)),
        # a time that does not exist: fold=0 reads it at UTC+2 (as dateparser does with a date, not with "today")
        ("сьогодні, 03:30", kyiv_time(2023, 3, 26, 5, 30), utc(2023, 3, 26, 1, 30), utc(2023, 3, 26, 0, 30)),
        # a time that happens twice: fold=0 is the first, still UTC+3; dateparser takes the second
        ("сьогодні, 03:30", kyiv_time(2023, 10, 29, 5), utc(2023, 10, 29, 0, 30), utc(2023, 10, 29, 1, 30)),
        ("29 жовтня, 03:10", SECOND_0320, utc(2023, 10, 29, 0, 10), utc(2023, 10, 29, 1, 10)),
        # now is the second 03:20; the first 03:30 was an hour ago, but dateparser compares wall clocks
        # (03:30 after 03:20) and goes back a year: wrong
        ("29 жовтня, 03:30", SECOND_0320, utc(2023, 10, 29, 0, 30), utc(2022, 10, 29, 0, 30)),
    ],
)
def test_dst_switches_where_dateparser_differs(
    text: str, now: datetime, expected: datetime, dateparser_answer: datetime
) -> None:
    assert parse_date_fast(text, now=now) == expected
    assert dateparser_instant(text, ["uk"], now) == dateparser_answer


def test_yearless_dates_in_the_zone_of_tz() -> None:
    # W is 23:30 on 18 February in UTC, 01:30 on 19 February in Kyiv
    assert parse_date("19 лютого", now=W) == kyiv_time(2023, 2, 19)
    assert parse_date("19 лютого", now=W, tz="UTC") == utc(2022, 2, 19)
    assert dateparser_instant("19 лютого", ["uk"], W, tz="UTC") == utc(2022, 2, 19)


def test_absurd_relative_dates_do_not_raise() -> None:
    assert parse_date_fast("5 днів тому", now=utc(1, 1, 2)) is None
    assert parse_date("99999 тижнів тому", now=W) is None  # year 107: before the floor


# -- property: wherever the fast path answers, dateparser gives the same instant ----------------
#
# Left out because dateparser 1.5 gets them wrong or not at all (checked; each has a row in
# FORMATS above instead): Ukrainian locative/dative and Russian prepositional month forms
# ("18 лютому", "18 феврале"), "18-го", the accusative weekday after "у"/"в" ("у суботу,
# 18 лютого 2023"), English "Thur"/"Thurs", "Mon" right after the time ("12:00 Mon, 13 February
# 2023": None), Russian time + space + one-digit day ("00:20 1 января 2023": dateparser says
# 00:21), "тому назад", "тиждень/день/хвилина тому" without a number, "half an hour ago" (None),
# German "Sonnabend" (None), and the "just now" words other than English ("gerade eben": None).
# Bare "today"/"yesterday" are left out on purpose: the fast path reads the day (midnight),
# dateparser the current time minus days.

#: after every generated moment, so that dateparser's "prefer the past" changes nothing
PROPERTY_NOW = utc(2031, 1, 1)

MONTHS = {  # (full forms, abbreviations) per month, only forms dateparser knows
    "uk": [
        (("січень", "січня"), ("січ",)),
        (("лютий", "лютого"), ("лют",)),
        (("березень", "березня"), ("бер",)),
        (("квітень", "квітня"), ("квіт", "кві")),
        (("травень", "травня"), ("трав", "тра")),
        (("червень", "червня"), ("черв", "чер")),
        (("липень", "липня"), ("лип",)),
        (("серпень", "серпня"), ("серп", "сер")),
        (("вересень", "вересня"), ("вер",)),
        (("жовтень", "жовтня"), ("жовт", "жов")),
        (("листопад", "листопада"), ("лист", "лис")),
        (("грудень", "грудня"), ("груд", "гру")),
    ],
    "ru": [
        (("январь", "января"), ("янв",)),
        (("февраль", "февраля"), ("фев", "февр")),
        (("март", "марта"), ("мар",)),
        (("апрель", "апреля"), ("апр",)),
        (("май", "мая"), ()),
        (("июнь", "июня"), ("июн",)),
        (("июль", "июля"), ("июл",)),
        (("август", "августа"), ("авг",)),
        (("сентябрь", "сентября"), ("сент", "сен")),
        (("октябрь", "октября"), ("окт",)),
        (("ноябрь", "ноября"), ("нояб", "ноя")),
        (("декабрь", "декабря"), ("дек",)),
    ],
    "en": [
        (("January",), ("Jan",)),
        (("February",), ("Feb",)),
        (("March",), ("Mar",)),
        (("April",), ("Apr",)),
        (("May",), ()),
        (("June",), ("Jun",)),
        (("July",), ("Jul",)),
        (("August",), ("Aug",)),
        (("September",), ("Sept", "Sep")),
        (("October",), ("Oct",)),
        (("November",), ("Nov",)),
        (("December",), ("Dec",)),
    ],
    "de": [
        (("Januar", "Jänner"), ("Jan",)),
        (("Februar",), ("Feb",)),
        (("März",), ("Mär",)),
        (("April",), ("Apr",)),
        (("Mai",), ()),
        (("Juni",), ("Jun",)),
        (("Juli",), ("Jul",)),
        (("August",), ("Aug",)),
        (("September",), ("Sept", "Sep")),
        (("Oktober",), ("Okt",)),
        (("November",), ("Nov",)),
        (("Dezember",), ("Dez",)),
    ],
}
WEEKDAYS = {  # (full, abbreviations...) from Monday
    "uk": [("понеділок", "пн"), ("вівторок", "вт"), ("середа", "ср"), ("четвер", "чт"), ("пʼятниця", "пт"),
           ("субота", "сб"), ("неділя", "нд")],
    "ru": [("понедельник", "пн"), ("вторник", "вт"), ("среда", "ср"), ("четверг", "чт"), ("пятница", "пт"),
           ("суббота", "сб"), ("воскресенье", "вс")],
    "en": [("Monday", "Mon"), ("Tuesday", "Tue", "Tues"), ("Wednesday", "Wed"), ("Thursday", "Thu"), ("Friday", "Fri"),
           ("Saturday", "Sat"), ("Sunday", "Sun")],
    "de": [("Montag", "Mo", "Mo."), ("Dienstag", "Di", "Di."), ("Mittwoch", "Mi", "Mi."), ("Donnerstag", "Do", "Do."),
           ("Freitag", "Fr", "Fr."), ("Samstag", "Sa", "Sa."), ("Sonntag", "So", "So.")],
}  # fmt: skip
YEAR_WORDS = {"uk": ("", " року", " р."), "ru": ("", " года", " г."), "en": ("",), "de": ("",)}
AT_WORDS = {"uk": "о", "ru": "в", "en": "at", "de": "um"}
LANGUAGES = sorted(MONTHS)
CASES: list[Callable[[str], str]] = [str, str.lower, str.upper, str.title]
RFC_ZONES = {"GMT": 0, "UT": 0, "UTC": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "PST": -8, "PDT": -7}

#: naive wall-clock times; two-digit years of 1990-2030 are unambiguous
walls = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda value: value.replace(microsecond=0, fold=0)
)
#: naive wall-clock times to the minute in years when Kyiv's rules stayed the same (a date a year on is
#: 365 or 366 days later)
recent_walls = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2029, 12, 31)).map(
    lambda value: value.replace(second=0, microsecond=0, fold=0)
)
#: UTC offsets in use somewhere (dateparser answers None for made-up ones such as +00:15)
offsets = st.one_of(
    st.integers(min_value=-12, max_value=14).map(lambda hours: timedelta(hours=hours)),
    st.sampled_from(["-09:30", "-04:30", "-03:30", "-02:30", "+03:30", "+04:30", "+05:30", "+05:45", "+06:30", "+08:45",
                     "+09:30", "+10:30", "+11:30", "+12:45"]).map(
        lambda text: (-1 if text[0] == "-" else 1) * timedelta(hours=int(text[1:3]), minutes=int(text[4:]))
    ),
)


def kyiv(wall: datetime) -> datetime:
    """``wall`` as Kyiv time in UTC; skips times that do not exist or repeat at a DST switch."""
    local = wall.replace(tzinfo=KYIV)
    assume(local.astimezone(UTC).astimezone(KYIV).replace(tzinfo=None) == wall)
    assume(wall.replace(fold=1).replace(tzinfo=KYIV).utcoffset() == local.utcoffset())
    return local.astimezone(UTC)


def offset_text(offset: timedelta, colon: bool) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


def clock(draw: st.DrawFn, wall: datetime, english: bool) -> str:
    """The time of ``wall``: 24-hour with or without seconds, or (English) 12-hour."""
    if english and draw(st.booleans()):
        suffix = draw(st.sampled_from(["am", "AM", "a.m."]))
        suffix = suffix.replace("a", "p").replace("A", "P") if wall.hour >= 12 else suffix
        return f"{(wall.hour - 1) % 12 + 1}:{wall.minute:02d} {suffix}"
    hour = draw(st.sampled_from([f"{wall.hour:02d}", str(wall.hour)]))
    return f"{hour}:{wall.minute:02d}" + (f":{wall.second:02d}" if draw(st.booleans()) else "")


@st.composite
def numeric_dates(draw: st.DrawFn) -> tuple[str, str, datetime]:
    """ "06:24, 18.02.23", "18.02.2023 06:24", "18/02/2023", "1-2-2023, 6:24:10"."""
    wall = draw(walls)
    separator = draw(st.sampled_from("./-"))
    day, month = (f"{wall.day:02d}", f"{wall.month:02d}") if draw(st.booleans()) else (str(wall.day), str(wall.month))
    year = f"{wall.year % 100:02d}" if draw(st.booleans()) else str(wall.year)
    date = separator.join((day, month, year))
    placement = draw(st.sampled_from(["before", "after", "none"]))
    if placement == "none":
        return date, "uk", kyiv(wall.replace(hour=0, minute=0, second=0))
    text = clock(draw, wall, english=False)
    if text.count(":") < 2:
        wall = wall.replace(second=0)
    return (f"{text}, {date}" if placement == "before" else f"{date}{draw(st.sampled_from([' ', ', ']))}{text}"), "uk", kyiv(wall)


@st.composite
def iso_dates(draw: st.DrawFn) -> tuple[str, str, datetime]:
    """ISO 8601: date only, or date and time with or without seconds, fraction and offset."""
    wall = draw(walls)
    if draw(st.booleans()):
        wall = wall.replace(microsecond=draw(st.integers(min_value=0, max_value=999_999)))
    elif draw(st.booleans()):
        wall = wall.replace(second=0)
    zone = draw(st.sampled_from(["local", "Z", "colon", "plain"]))
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        wall, zone = wall.replace(hour=0, minute=0, second=0, microsecond=0), "local"
        text = wall.date().isoformat()
    else:
        text = wall.isoformat(sep=draw(st.sampled_from("T ")), timespec="minutes" if wall.second == wall.microsecond == 0 else "auto")
    if zone == "local":
        return text, "en", kyiv(wall)
    offset = timedelta(0) if zone == "Z" else draw(offsets)
    suffix = "Z" if zone == "Z" else offset_text(offset, colon=zone == "colon")
    return text + suffix, "en", (wall - offset).replace(tzinfo=UTC)


@st.composite
def rfc822_dates(draw: st.DrawFn) -> tuple[str, str, datetime]:
    """RFC 822/1123 as in feeds and HTTP ("Mon, 28 Sep 2020 16:35:12 +0300"), and RFC 850."""
    wall = draw(walls)
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[wall.month - 1]
    rfc850 = draw(st.booleans())
    day = f"{wall.day:02d}" if rfc850 or draw(st.booleans()) else str(wall.day)
    year = f"{wall.year % 100:02d}" if draw(st.booleans()) else str(wall.year)
    if not draw(st.booleans()):
        wall = wall.replace(second=0)
    text = f"{wall:%H:%M}" + (f":{wall.second:02d}" if wall.second or draw(st.booleans()) else "")
    if draw(st.booleans()):
        zone = draw(st.sampled_from(sorted(RFC_ZONES)))
        offset = timedelta(hours=RFC_ZONES[zone])
    else:
        offset = draw(offsets)
        zone = offset_text(offset, colon=False)
    expected = (wall - offset).replace(tzinfo=UTC)
    if rfc850:
        return f"{WEEKDAYS['en'][wall.weekday()][0]}, {day}-{month}-{year} {text} {zone}", "en", expected
    weekday = f"{WEEKDAYS['en'][wall.weekday()][1]}, " if draw(st.booleans()) else ""
    return f"{weekday}{day} {month} {year} {text} {zone}", "en", expected


def month_name_date(draw: st.DrawFn, lang: str, wall: datetime, with_year: bool) -> tuple[str, datetime]:
    """``wall``'s date with the month's name, in any letter case, with or without a weekday (full or
    abbreviated), "року"/"года" words and a time before or after ("о"/"в"/"at"/"um"); and the
    wall-clock time it stands for (midnight when no time is printed)."""
    full, abbreviations = MONTHS[lang][wall.month - 1]
    month = draw(st.sampled_from(full + abbreviations))
    if month in abbreviations and draw(st.booleans()):
        month += "."
    day = f"{wall.day}." if lang == "de" else str(wall.day)
    if lang == "en" and draw(st.booleans()):
        day += "th" if wall.day in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(wall.day % 10, "th")
    year = f" {wall.year}" if with_year else ""
    if lang == "en" and draw(st.booleans()):
        date = f"{month} {day}" + (f",{year}" if with_year else "")
    else:
        date = f"{day} {month}{year}" + (draw(st.sampled_from(YEAR_WORDS[lang])) if with_year else "")
    placement = draw(st.sampled_from(["before", "after", "none"]))
    weekday = draw(st.sampled_from(WEEKDAYS[lang][wall.weekday()])) if draw(st.booleans()) else None
    # excluded: dateparser answers None for "12:00 Mon, 15 February 2023"
    assume(not (weekday == "Mon" and placement == "before"))
    if weekday == "пʼятниця":
        weekday = "п" + draw(st.sampled_from("'’ʼ")) + "ятниця"
    if weekday:
        date = f"{weekday}, {date}"
    if placement == "none":
        return draw(st.sampled_from(CASES))(date), wall.replace(hour=0, minute=0)
    hours = clock(draw, wall, english=lang == "en")
    if lang == "de" and draw(st.booleans()):
        hours += " Uhr"
    if placement == "before":
        separator = draw(st.sampled_from([" ", ", "]))
        # excluded: dateparser (ru) adds a one-digit day to the minutes: "00:20 1 января 2000" is 00:21
        assume(not (lang == "ru" and separator == " " and not weekday and wall.day < 10))
        text = f"{hours}{separator}{date}"
    else:
        connector = draw(st.sampled_from([" ", ", ", f" {AT_WORDS[lang]} "]))
        text = f"{date}{connector}{hours}"
    return draw(st.sampled_from(CASES))(text), wall


@st.composite
def named_month_dates(draw: st.DrawFn) -> tuple[str, str, datetime]:
    """Month names in Ukrainian, Russian, English or German, with the year (see :func:`month_name_date`)."""
    lang = draw(st.sampled_from(LANGUAGES))
    text, wall = month_name_date(draw, lang, draw(walls).replace(second=0), with_year=True)
    return text, lang, kyiv(wall)


def dateparser_instant(text: str, languages: list[str], now: datetime, tz: str = DEFAULT_TZ) -> datetime | None:
    """dateparser itself, with the settings parse_date pins (spelled out here, not imported)."""
    value = dateparser.parse(
        text,
        languages=languages,
        settings={
            "RELATIVE_BASE": now.astimezone(ZoneInfo(tz)).replace(tzinfo=None),
            "TIMEZONE": tz,
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DAY_OF_MONTH": "first",
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
        },
    )
    return value.astimezone(UTC) if value else None


@settings(max_examples=400, deadline=None)
@given(st.one_of(numeric_dates(), iso_dates(), rfc822_dates(), named_month_dates()))
def test_fast_path_agrees_with_dateparser(case: tuple[str, str, datetime]) -> None:
    text, lang, expected = case
    assert parse_date_fast(text, now=PROPERTY_NOW) == expected, text
    assert dateparser_instant(text, [lang], PROPERTY_NOW) == expected, text


UNIT_WORDS = {  # (minutes, hours, days) forms per language
    "uk": (("хвилин", "хвилини", "хв"), ("годин", "години", "год"), ("днів", "дні")),
    "ru": (("минут", "минуты", "мин"), ("часов", "часа", "ч"), ("дней", "дня")),
    "en": (("minutes", "mins", "min"), ("hours", "hrs"), ("days",)),
    "de": (("Minuten", "Min."), ("Stunden", "Std."), ("Tagen",)),
}
AGO = {"uk": "тому", "ru": "назад", "en": "ago"}  # German: "vor" first
DAY_WORDS = {"uk": ("Сьогодні", "Вчора", "Позавчора"), "ru": ("Сегодня", "Вчера", "Позавчера"),
             "en": ("Today", "Yesterday"), "de": ("Heute", "Gestern", "Vorgestern")}


def comparable(answer: datetime, now: datetime) -> bool:
    """Whether dateparser can get a relative date right: it counts back from ``now`` as a naive
    Kyiv time (RELATIVE_BASE) and keeps now's UTC offset, so it is an hour off when the answer lies
    across a DST switch from ``now``, and ``now`` in the repeated hour of autumn is ambiguous."""
    local = now.astimezone(KYIV)
    return answer.astimezone(KYIV).utcoffset() == local.utcoffset() == local.replace(fold=1 - local.fold).utcoffset()


@settings(max_examples=300, deadline=None)
@given(
    lang=st.sampled_from(["uk", "ru", "en"]),
    unit=st.integers(min_value=0, max_value=2),
    count=st.integers(min_value=1, max_value=59),
    days_back=st.integers(min_value=0, max_value=2),
    wall=st.times().map(lambda value: value.replace(second=0, microsecond=0, fold=0)),
    now=st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda n: n.replace(tzinfo=UTC)),
    data=st.data(),
)
def test_relative_forms_agree_with_dateparser(
    lang: str, unit: int, count: int, days_back: int, wall: time, now: datetime, data: st.DataObject
) -> None:
    """The fast path is checked against the exact answer, dateparser against the fast path where
    it can be expected to agree (see :func:`comparable`)."""
    ago = f"{count} {data.draw(st.sampled_from(UNIT_WORDS[lang][unit]))} {AGO[lang]}"
    fast = parse_date_fast(ago, now=now)
    assert fast == now - timedelta(**{("minutes", "hours", "days")[unit]: count}), ago
    if comparable(fast, now):
        assert dateparser_instant(ago, [lang], now) == fast, ago

    days_back = min(days_back, len(DAY_WORDS[lang]) - 1)
    text = f"{DAY_WORDS[lang][days_back]}{data.draw(st.sampled_from([', ', ' ', f' {AT_WORDS[lang]} ']))}{wall:%H:%M}"
    text = data.draw(st.sampled_from(CASES))(text)
    local_day = now.astimezone(KYIV).date() - timedelta(days=days_back)
    fast = parse_date_fast(text, now=now)
    assert fast == datetime.combine(local_day, wall, tzinfo=KYIV).astimezone(UTC), text
    if comparable(fast, now):
        assert dateparser_instant(text, [lang], now) == fast, text


#: the moments the relative and year-less strategies fetch their pages at
fetch_times = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda value: value.replace(tzinfo=UTC)
)


@st.composite
def yearless_dates(draw: st.DrawFn) -> tuple[str, str, datetime, datetime]:
    """Dates without a year as listings print them ("18 лютого, 06:24", "Feb 18", "18. Februar,
    14:05") and the fetch time: up to a week after the date mostly, up to 364 days after it
    otherwise, so that the date's year is the latest that is not after the fetch time."""
    lang = draw(st.sampled_from(LANGUAGES))
    text, wall = month_name_date(draw, lang, draw(recent_walls), with_year=False)
    expected = kyiv(wall)
    week, year = 7 * 86400, 364 * 86400
    now = expected + timedelta(seconds=draw(st.one_of(st.integers(0, week), st.integers(0, year))))
    # excluded: dateparser compares wall-clock times, which run backwards in the autumn's repeated hour
    assume(now.astimezone(KYIV).replace(tzinfo=None) >= wall)
    return text, lang, expected, now


@st.composite
def relative_dates(draw: st.DrawFn) -> tuple[str, str, datetime, datetime]:
    """What listings print for recent stories ("5 хвилин тому", "вчора, 14:05", "vor 2 Stunden",
    "Yesterday at 09:15") and the fetch time; only where dateparser can be right (see :func:`comparable`)."""
    lang = draw(st.sampled_from(LANGUAGES))
    now = draw(fetch_times)
    if draw(st.booleans()):
        unit = draw(st.integers(min_value=0, max_value=2))
        count = draw(st.integers(min_value=1, max_value=(59, 23, 6)[unit]))
        word = draw(st.sampled_from(UNIT_WORDS[lang][unit]))
        text = f"vor {count} {word}" if lang == "de" else f"{count} {word} {AGO[lang]}"
        expected = now - timedelta(**{("minutes", "hours", "days")[unit]: count})
    else:
        days_back = draw(st.integers(min_value=0, max_value=len(DAY_WORDS[lang]) - 1))
        day = now.astimezone(KYIV).date() - timedelta(days=days_back)
        wall = datetime.combine(day, draw(st.times()).replace(second=0, microsecond=0, fold=0))
        connector = draw(st.sampled_from([", ", " ", f" {AT_WORDS[lang]} "]))
        text = f"{DAY_WORDS[lang][days_back]}{connector}{clock(draw, wall, english=lang == 'en')}"
        expected = wall.replace(tzinfo=KYIV).astimezone(UTC)
        assume(expected <= now)  # a listing prints no time later than it was fetched
    assume(comparable(expected, now))
    return draw(st.sampled_from(CASES))(text), lang, expected, now


@settings(max_examples=300, deadline=None)
@given(st.one_of(yearless_dates(), relative_dates()))
def test_yearless_and_relative_dates_agree_with_dateparser(case: tuple[str, str, datetime, datetime]) -> None:
    text, lang, expected, now = case
    assert parse_date_fast(text, now=now) == expected, text
    assert dateparser_instant(text, [lang], now) == expected, text


# -- fuzz: no string makes parse_date raise or answer outside [floor, now + 1 day] --------------

TOKENS = (
    "18 02 2023 23 69 1985 0 31 99999 06:24 25:61 6:24:30 18.02.23 18/02/2023 2023-02-18 T Z +0300 -02:00 "
    "GMT EST лютого лютому февраля Feb May мая субота п'ятниця воскресенье Sat Mon року г. р. о в at "
    "вчора сегодня today тому назад ago хвилин часа hour a an щойно just now pm a.m. -го th , . : - /"
).split()


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join)))
def test_any_string_is_answered_without_raising(text: str) -> None:
    fast = parse_date_fast(text, now=W)
    assert fast is None or fast.tzinfo is UTC
    value = parse_date(text, now=W)
    assert value is None or (value.tzinfo is UTC and DEFAULT_FLOOR <= value <= W + timedelta(days=1))
