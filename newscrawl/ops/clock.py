"""The time zone people read times and calendar days in: ``NEWSCRAWL_TIMEZONE`` (default Europe/Kyiv).

The report, ``stats --runs`` and the days of ``query``/``export --since/--until`` all use it, and
every time they print carries its zone (``2026-12-04 02:38 EET``). Dates are stored in UTC whatever
it is.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newscrawl.defaults import setting_value


class UnknownZone(ValueError):
    """``NEWSCRAWL_TIMEZONE`` names no time zone; the message says so in one line."""


def display_zone(name: str | None = None) -> ZoneInfo:
    """The zone named ``name`` (default ``NEWSCRAWL_TIMEZONE``, else Europe/Kyiv)."""
    name = name or setting_value("NEWSCRAWL_TIMEZONE")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(f"NEWSCRAWL_TIMEZONE={name!r} is not a time zone (e.g. Europe/Kyiv, UTC)") from None


def zone_label(zone: ZoneInfo) -> str:
    """How the zone is named in a sentence: ``Kyiv time``, ``New York time``, ``UTC``."""
    if zone.key in ("UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"):
        return "UTC"
    return zone.key.rsplit("/", 1)[-1].replace("_", " ") + " time"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` to the minute in ``zone``, labelled with the zone's abbreviation then (EET, EEST, UTC)."""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone.key)
