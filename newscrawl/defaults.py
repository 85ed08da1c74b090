"""Every setting the project reads, with its default: the one place a default is written.

``newscrawl/settings.py`` builds the Scrapy settings from this table and the environment; code reads
a setting with :func:`setting_value` (the crawl's Scrapy settings, else the environment for the
settings marked so, else the table), so a crawler made without the project's settings (tests'
``get_crawler``) and the commands that run outside a crawl get the same defaults. docs/SETTINGS.md
describes each row (tests/test_settings_table.py holds the two together).

This module imports nothing of the project: every floor may read it.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def integer(value: Any) -> int:
    """A whole number (``"5"`` or ``5``)."""
    return int(value)


def number(value: Any) -> float:
    """A number (``"0.5"`` or ``0.5``)."""
    return float(value)


def switch(value: Any) -> bool:
    """On unless ``0``, ``false`` or ``off`` (any case) when given as text."""
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "off")
    return bool(value)


def text(value: Any) -> str:
    """The value as text; empty text stays empty (``NEWSCRAWL_REVISIT_AGES=`` turns revisits off)."""
    return str(value)


def unless_empty(value: Any) -> str | None:
    """The value as text; empty means not given (the table's default)."""
    return str(value) if value else None


def names(value: Any) -> tuple[str, ...]:
    """Comma-separated names (``"a,b"``), or a list of them."""
    parts: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    return tuple(str(part) for part in parts if part)


def mapping(value: Any) -> dict[str, Any] | None:
    """A JSON object (``'{"title": 0.9}'``) or a dict; empty means not given (the table's default)."""
    return dict(json.loads(value) if isinstance(value, str) else value) or None


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and reader, what it means, and where it may be given."""

    name: str
    default: Any
    #: reads a value given as text (environment, ``-s``) or as a Python value (a Scrapy settings dict)
    parse: Callable[[Any], Any]
    meaning: str
    #: also read from the environment (``export NAME=value``); ``-s NAME=value`` wins over it
    environment: bool = False
    #: a Scrapy setting of ``newscrawl/settings.py``; False: read from the environment only, or set
    #: during the crawl by the project itself
    scrapy: bool = True
    #: how docs/SETTINGS.md states a default that depends on the machine or the run
    shown: str = ""


def _rows(*rows: Setting) -> dict[str, Setting]:
    """The table by name."""
    return {row.name: row for row in rows}


#: every setting the project reads, by name
SETTINGS: dict[str, Setting] = _rows(
    # -- politeness and Scrapy
    Setting("NEWSCRAWL_CONTACT", "https://github.com/newscrawl/newscrawl", text,
            "the contact URL in the User-Agent", environment=True),
    Setting("CONCURRENT_REQUESTS", 16, integer, "requests in flight in one process", environment=True),
    Setting("CONCURRENT_REQUESTS_PER_DOMAIN", 4, integer, "requests in flight per site", environment=True),
    Setting("DOWNLOAD_DELAY", 0.5, number, "seconds between requests to a site (AutoThrottle adapts it)",
            environment=True),
    Setting("AUTOTHROTTLE_MAX_DELAY", 30.0, number, "AutoThrottle's longest pause, in seconds", environment=True),
    Setting("DOWNLOAD_MAXSIZE", 20 * 1024 * 1024, integer,
            "bytes of a response, and of every decompression (newscrawl/crawl/integrity.py)"),
    Setting("NEWSCRAWL_RETRY_BACKOFF_BASE", 2.0, number, "seconds of the first retry pause, doubled at each retry"),
    Setting("NEWSCRAWL_RETRY_BACKOFF_MAX", 120.0, number, "seconds of a retry pause at most"),
    Setting("LOG_LEVEL", "INFO", text, "Scrapy's log level", environment=True),
    # -- safety
    Setting("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", (), names,
            "hosts allowed to resolve to private or loopback addresses", environment=True),
    Setting("NEWSCRAWL_LOCAL_SCHEMES", (), names, "URL schemes besides http(s) a crawl may fetch"),
    # -- discovery
    Setting("NEWSCRAWL_LISTING_PAGES", 2, integer, "all-news listing pages read per edition without `since`",
            environment=True),
    Setting("NEWSCRAWL_ARCHIVE_MAX_PAGES", 30, integer, "pages followed per archive day", environment=True),
    Setting("NEWSCRAWL_SITEMAPS", True, switch, "read robots.txt sitemaps in latest crawls", environment=True),
    Setting("NEWSCRAWL_RECENT_DAYS", 2, integer, "days back a latest crawl takes sitemap pages", environment=True),
    Setting("NEWSCRAWL_SITEMAP_MAX_FILES", 200, integer, "child sitemaps followed per crawl at most",
            environment=True),
    Setting("NEWSCRAWL_INCREMENTAL", True, switch, "skip article pages already stored; conditional feeds",
            environment=True),
    # -- revisits
    Setting("NEWSCRAWL_REVISIT_AGES", "1h,6h,1d,3d,7d", text,
            "ages after first seen at which a stored article is fetched again; empty: off", environment=True),
    Setting("NEWSCRAWL_REVISIT_MAX_PER_RUN", "", text, "revisits per run at most; empty: from the previous run",
            environment=True, shown="half the requests of the spider's previous run, at least 1,000"),
    # -- bounds
    Setting("NEWSCRAWL_MAX_LINKS_PER_PAGE", 2000, integer, "links read per listing, home page or feed",
            environment=True),
    Setting("NEWSCRAWL_PARSE_MAX_BYTES", 1024 * 1024, integer, "bytes (UTF-8) of a page parsed at most",
            environment=True),
    Setting("NEWSCRAWL_PARSE_WORKERS", os.cpu_count() or 1, integer,
            "processes that parse article pages; 0 parses in the crawler's process", environment=True,
            shown="the machine's cores"),
    # -- archive and replay
    Setting("NEWSCRAWL_WARC_OUT", None, unless_empty, "write every response to this WARC file", environment=True),
    Setting("NEWSCRAWL_REPLAY", None, unless_empty, "answer every request from this WARC file", environment=True),
    # -- items
    Setting("NEWSCRAWL_CHECK_LANGUAGE", True, switch, "drop items whose text is not in the edition's language"),
    Setting("NEWSCRAWL_DEDUPE_MAX_DISTANCE", 3, integer, "near-duplicate threshold in SimHash bits"),
    Setting("NEWSCRAWL_DEDUPE_MIN_WORDS", 50, integer, "shorter texts get no SimHash"),
    Setting("NEWSCRAWL_DEDUPE_MEMORY_ITEMS", 100_000, integer, "keys kept in the in-run dedupe memory"),
    Setting("NEWSCRAWL_DEDUPE_BATCH", 200, integer, "dedupe checks answered by one lookup at most"),
    Setting("NEWSCRAWL_DEDUPE_BATCH_SECONDS", 0.2, number, "seconds a dedupe check waits for others at most"),
    # -- storage
    Setting("MONGO_URI", None, unless_empty, "the MongoDB to store in; unset: the embedded server",
            environment=True),
    Setting("MONGO_DATABASE", "newscrawl", unless_empty, "the database name", environment=True),
    Setting("NEWSCRAWL_DATA_DIR", "./data", unless_empty,
            "embedded databases, spill and quarantine files, run records, locks, logs",
            environment=True, scrapy=False),
    Setting("NEWSCRAWL_MONGO_BATCH", 200, integer, "articles per bulk write"),
    Setting("NEWSCRAWL_MONGO_FLUSH_SECONDS", 5.0, number, "seconds between batch writes at most"),
    Setting("NEWSCRAWL_MONGO_RETRIES", 3, integer, "retries of a failed write"),
    Setting("NEWSCRAWL_MONGO_BACKOFF_SECONDS", 0.5, number, "first pause between write retries (doubling)"),
    Setting("NEWSCRAWL_MONGO_DOWN_SECONDS", 30.0, number, "seconds an unreachable server is left alone"),
    Setting("NEWSCRAWL_MONGO_TIMEOUT_MS", 5000, integer, "milliseconds one operation waits for the server"),
    # -- Redis workers
    Setting("NEWSCRAWL_REDIS_URL", None, unless_empty, "share the crawl with other workers through this Redis",
            environment=True),
    Setting("NEWSCRAWL_REDIS_IDLE_SECONDS", 10.0, number, "seconds an idle worker waits for the others' requests",
            environment=True),
    Setting("NEWSCRAWL_REDIS_HEARTBEAT_SECONDS", 30, integer, "whole seconds of silence after which a worker is dead",
            environment=True),
    Setting("NEWSCRAWL_REDIS_OUTAGE_SECONDS", 60.0, number, "seconds a worker waits for an unavailable Redis",
            environment=True),
    Setting("NEWSCRAWL_BLOOM_CAPACITY", 10_000_000, integer, "URLs the shared Bloom filter is sized for",
            environment=True),
    Setting("NEWSCRAWL_BLOOM_ERROR_RATE", 0.001, number, "the Bloom filter's false-positive rate at capacity",
            environment=True),
    # -- rendering
    Setting("NEWSCRAWL_PLAYWRIGHT", "auto", text, "browser rendering: auto, 1 (required) or 0 (off)",
            environment=True),
    Setting("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium", text, "the browser", environment=True),
    # set by newscrawl.crawl.rendering.PlaywrightAddon at the add-on priority, under the project's
    Setting("NEWSCRAWL_RENDERING", False, switch, "the browser handler is installed for this crawl", scrapy=False),
    # -- run records and alerts
    Setting("NEWSCRAWL_WEBHOOK_URL", None, unless_empty, "POST each alert here as JSON", environment=True),
    Setting("NEWSCRAWL_RUN_SUMMARY", None, unless_empty, "write the run's record as JSON to this file",
            environment=True),
    Setting("NEWSCRAWL_RECORD_RUN", False, switch, "write a run record and raise alerts for this crawl"),
    Setting("NEWSCRAWL_FAILED_PAGES_KEEP", 100, integer, "failed article pages a run record keeps with their reason"),
    Setting("NEWSCRAWL_PROGRESS_FILE", None, unless_empty, "write the crawl's counts to this file every second"),
    Setting("NEWSCRAWL_TIMEZONE", "Europe/Kyiv", unless_empty, "the time zone of the days and times commands print",
            environment=True, scrapy=False),
    Setting("NEWSCRAWL_ALERT_MIN_ITEMS", 5, integer, "rate rules need at least this many parsed articles"),
    Setting("NEWSCRAWL_ALERT_FILL_THRESHOLDS", {"title": 0.95, "body": 0.9, "published_at": 0.9}, mapping,
            "per-field fill-rate floors"),
    Setting("NEWSCRAWL_ALERT_DRIFT_RATIO", 0.7, number, "a fill rate below this share of its average is drift"),
    Setting("NEWSCRAWL_ALERT_GENERIC_RISE", 0.3, number, "a rise of the generic body share by this much is drift"),
    Setting("NEWSCRAWL_ALERT_BLOCKED_SHARE", 0.2, number, "blocked responses above this share raise an alert"),
)


def default(name: str) -> Any:
    """The table's default of setting ``name`` (a copy, for a dict)."""
    return copy.copy(SETTINGS[name].default)


def setting_value(name: str, settings: Mapping[str, Any] | None = None) -> Any:
    """Setting ``name``: its value in ``settings`` (a crawl's Scrapy settings) if given there, else
    in the environment if it is read from there, else the table's default."""
    row = SETTINGS[name]
    value = settings.get(name) if settings is not None else None
    if value is None and row.environment:
        value = os.environ.get(name)
    parsed = None if value is None else row.parse(value)
    return default(name) if parsed is None else parsed


def project_settings() -> dict[str, Any]:
    """The Scrapy settings of the table for ``newscrawl/settings.py``: the environment's, else the defaults."""
    return {row.name: setting_value(row.name) for row in SETTINGS.values() if row.scrapy}
