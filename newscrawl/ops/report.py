"""The operator's picture behind ``newscrawl report``: one self-contained HTML page.

Over the last ``days`` days (calendar days in ``NEWSCRAWL_TIMEZONE``, Kyiv by default, today
included) it shows, per site, the articles published each day, the share of them with each field (a
site that changed its layout turns a row of the heatmap from green to red), each spider's longest
and median run per day coloured by how the runs ended, the alerts they raised, and tables of the
runs and of each site's newest articles. When no article was published in those days (a backfill
of an old month, the offline demo's 2023 article), the articles' window ends on the day of the
newest one instead, and the page says so; the runs' window likewise. A ``generic`` run is named by
the sites it crawled; the workers of one shared crawl are one run. The charts are SVG written here,
each with its legend and axes, scaled down to the window's width; the page loads nothing and runs
no script (its Content-Security-Policy forbids both) and every string from the database is escaped.

What it reads, all bounded by the windows:

- ``articles``: one range on ``published_at`` (index ``published``, or ``site_published`` with a
  site) projecting the short fields, newest first; one more on the same range returning only the
  ids of the articles whose body is a non-empty string, so no body is sent; when that range is
  empty, the newest article before it (one indexed ``find_one``);
- ``crawl_runs``: per spider, one range on ``started_at`` (index ``spider_started``), and when
  all are empty, each spider's newest run before it.

Counting happens here, in Python (nx-27017 groups compound ``$group`` keys wrongly, see
:mod:`newscrawl.store.nx`). Days are publication days: a backfill's articles count on the days
they were published.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from statistics import median
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

from newscrawl.defaults import default
from newscrawl.extract.items import FILL_FIELDS
from newscrawl.ops.clock import display_zone, local_time, zone_label
from newscrawl.ops.query import merge_shared_runs
from newscrawl.ops.edits import find_edits, find_removed
from newscrawl.store.database import Storage

KYIV = ZoneInfo(default("NEWSCRAWL_TIMEZONE"))
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: the newest articles listed per site, and the runs listed in the table
NEWEST_SHOWN = 5
RUNS_LISTED = 200
ARTICLE_PROJECTION = {"site": 1, "url": 1, **{name: 1 for name in FILL_FIELDS if name != "body"}}
RUN_PROJECTION = {name: 1 for name in ("spider", "sites", "crawl_id", "started_at", "finished_at", "finish_reason",
                                       "pages", "items", "errors", "outcome", "alerts")}

# chart geometry (pixels at full size; a narrower window scales the charts down)
LABEL_WIDTH = 130
RIGHT_WIDTH = 90
PLOT_WIDTH = 760
BAR_ROW = 46
BAR_HEIGHT = 34
CELL_HEIGHT = 13
AXIS_HEIGHT = 36
TICK = 4


@dataclass(frozen=True)
class Window:
    """The days a chart covers, ``first_day`` to ``last_day`` inclusive (calendar days in ``zone``);
    ``moved_from``: the day it would have ended (today) had that window held any data."""

    first_day: date
    last_day: date
    zone: ZoneInfo = KYIV
    moved_from: date | None = None

    @classmethod
    def ending(cls, last_day: date, days: int, zone: ZoneInfo = KYIV, moved_from: date | None = None) -> Window:
        """``days`` days up to ``last_day``."""
        return cls(last_day - timedelta(days=days - 1), last_day, zone, moved_from)

    @property
    def start(self) -> datetime:
        """Midnight starting the first day."""
        return datetime.combine(self.first_day, time(), self.zone)

    @property
    def end(self) -> datetime:
        """Midnight ending the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), self.zone)

    @property
    def length(self) -> int:
        """How many days."""
        return (self.last_day - self.first_day).days + 1

    def days(self) -> list[date]:
        """Every day of the window, oldest first."""
        return [self.first_day + timedelta(days=i) for i in range(self.length)]

    def day_of(self, moment: datetime) -> date:
        """The calendar day of ``moment`` in the window's zone."""
        return moment.astimezone(self.zone).date()

    def ending_at_newest(self, newest: datetime | None) -> Window:
        """This window when it is not empty (``newest`` None), else as long a window ending on the day of ``newest``."""
        if newest is None or self.day_of(newest) >= self.first_day:
            return self
        return Window.ending(self.day_of(newest), self.length, self.zone, moved_from=self.last_day)

    def describe(self, what: str) -> str:
        """``2026-11-05..2026-12-04 (30 days, Kyiv time)``, and why it ends earlier when it was moved."""
        text = f"{self.first_day}..{self.last_day} ({self.length} days, {zone_label(self.zone)}"
        if self.moved_from:
            text += f"; the newest {what}: none in the {self.length} days to {self.moved_from}"
        return text + ")"


@dataclass(frozen=True)
class ArticleLine:
    """One of a site's newest articles, as listed."""

    published_at: datetime
    title: str
    url: str
    missing: tuple[str, ...]


@dataclass
class SiteFigures:
    """One site's articles per day, and how many of them had each field."""

    site: str
    articles: Counter[date] = field(default_factory=Counter)
    filled: dict[date, Counter[str]] = field(default_factory=dict)
    newest: list[ArticleLine] = field(default_factory=list)

    def add(self, day: date, published_at: datetime, filled: list[str], doc: dict[str, Any]) -> None:
        """Count one article published on ``day`` (articles come newest first: the first ones are listed)."""
        self.articles[day] += 1
        self.filled.setdefault(day, Counter()).update(filled)
        if len(self.newest) < NEWEST_SHOWN:
            self.newest.append(ArticleLine(published_at, str(doc.get("title") or ""), str(doc.get("url") or ""),
                                           tuple(name for name in FILL_FIELDS if name not in filled)))

    @property
    def total(self) -> int:
        """Articles in the window."""
        return sum(self.articles.values())

    def rate(self, name: str, day: date | None = None) -> float | None:
        """The share of the articles of ``day`` (default: the window) with field ``name``; None without articles."""
        if day is None:
            count, total = sum(by_field[name] for by_field in self.filled.values()), self.total
        else:
            count, total = self.filled.get(day, Counter())[name], self.articles[day]
        return count / total if total else None


@dataclass(frozen=True)
class RunFigures:
    """One crawl run, from its ``crawl_runs`` record (:mod:`newscrawl.ops.runs`), or the records of
    the ``workers`` of one shared crawl."""

    spider: str
    sites: tuple[str, ...]
    workers: int
    started_at: datetime
    finished_at: datetime
    finish_reason: str
    pages: int
    parsed: int
    stored: int
    updated: int
    errors: int
    failure: str | None
    alerts: tuple[dict[str, Any], ...]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RunFigures:
        """The figures of a run record."""
        items = record.get("items") or {}
        outcome = record.get("outcome") or {}
        spider = str(record["spider"])
        return cls(spider=spider, sites=tuple(record.get("sites") or [spider]), workers=int(record.get("workers") or 1),
                   started_at=record["started_at"], finished_at=record["finished_at"],
                   finish_reason=str(record.get("finish_reason") or ""), pages=int(record.get("pages") or 0),
                   parsed=int(items.get("parsed") or 0), stored=int(items.get("stored") or 0),
                   updated=int(items.get("updated") or 0), errors=int(record.get("errors") or 0),
                   failure=str(outcome["cause"]) if outcome.get("code") else None,
                   alerts=tuple(record.get("alerts") or ()))

    @property
    def label(self) -> str:
        """The spider, and the sites it crawled when they are not its own name (``generic (example.ua)``)."""
        if self.sites == (self.spider,):
            return self.spider
        shown = ", ".join(self.sites[:3]) + (f" +{len(self.sites) - 3}" if len(self.sites) > 3 else "")
        return f"{self.spider} ({shown})"

    @property
    def seconds(self) -> float:
        """How long the run took."""
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def result(self) -> str:
        """``failed`` (exit 1), ``alerts`` (it raised some) or ``ok``."""
        return "failed" if self.failure else "alerts" if self.alerts else "ok"


@dataclass
class Report:
    """Everything the page shows: articles over ``window``, runs over ``run_window``."""

    window: Window
    run_window: Window
    site: str | None
    generated_at: datetime
    sites: dict[str, SiteFigures]
    runs: list[RunFigures]
    edits: EditFigures | None = None
    #: the days edits and removals are counted over: the last days, never moved (they are seen now)
    edits_window: Window | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The zone of every day and time shown."""
        return self.window.zone

    @property
    def articles(self) -> int:
        """Articles published in the window."""
        return sum(figures.total for figures in self.sites.values())

    @property
    def alerts(self) -> list[tuple[RunFigures, dict[str, Any]]]:
        """Every alert of the window's runs with its run, newest first."""
        return [(run, alert) for run in reversed(self.runs) for alert in run.alerts]

    def describe(self) -> str:
        """What the report covers, in one line."""
        scope = f"site {self.site}" if self.site else f"{len(self.sites)} sites"
        runs = f"{len(self.runs)} runs"
        if self.run_window != self.window:
            runs += " started " + self.run_window.describe("runs")
        return (f"{self.articles} articles of {scope} published {self.window.describe('articles')}, {runs}, "
                f"{len(self.alerts)} alerts")


def gather(storage: Storage, days: int = DEFAULT_DAYS, site: str | None = None, now: datetime | None = None,
           zone: ZoneInfo | None = None) -> Report:
    """The figures of the ``days`` days up to ``now`` (default: now) in ``zone`` (default
    ``NEWSCRAWL_TIMEZONE``), of one site or all; each window ends at the newest data when it holds none."""
    zone = zone or display_zone()
    now = now or datetime.now(timezone.utc)
    recent = Window.ending(now.astimezone(zone).date(), days, zone)
    window = recent.ending_at_newest(_newest_article(storage.db.articles, recent, site))
    spiders = _spiders(storage.db.crawl_runs, site)
    runs = _run_figures(storage.db.crawl_runs, recent, spiders, site)
    run_window = recent
    if not runs:
        run_window = recent.ending_at_newest(_newest_run(storage.db.crawl_runs, recent, spiders, site))
        runs = _run_figures(storage.db.crawl_runs, run_window, spiders, site) if run_window != recent else runs
    return Report(window, run_window, site, now, _site_figures(storage.db.articles, window, site), runs,
                  edits=_edit_figures(storage, recent, site), edits_window=recent)


def site_known(storage: Storage, site: str) -> bool:
    """Whether the database holds an article of ``site`` or a run of a spider of that name or that crawled it."""
    return (storage.db.articles.find_one({"site": site}, {"_id": 1}) is not None
            or storage.db.crawl_runs.find_one({"spider": site}, {"_id": 1}) is not None
            or storage.db.crawl_runs.find_one({"sites": site}, {"_id": 1}) is not None)


def _newest_article(articles: Collection[dict[str, Any]], window: Window, site: str | None) -> datetime | None:
    """The publication of the newest article before the window's end when the window has none."""
    match: dict[str, Any] = {"site": site} if site else {}
    if articles.find_one({**match, "published_at": {"$gte": window.start, "$lt": window.end}}, {"_id": 1}):
        return None
    newest = articles.find_one({**match, "published_at": {"$lt": window.end}}, {"published_at": 1},
                               sort=[("published_at", DESCENDING)])
    return newest["published_at"] if newest else None


def _spiders(runs: Collection[dict[str, Any]], site: str | None) -> list[str]:
    """The spiders whose runs the report reads: all, or those that crawled ``site``."""
    if not site:
        return sorted(runs.distinct("spider"))
    return sorted({site} | set(runs.distinct("spider", {"sites": site})))


def _of_site(record: dict[str, Any], site: str | None) -> bool:
    return not site or record["spider"] == site or site in (record.get("sites") or ())


def _newest_run(runs: Collection[dict[str, Any]], window: Window, spiders: list[str],
                site: str | None) -> datetime | None:
    """The start of the newest run before the window's end (the window has none)."""
    starts = []
    for spider in spiders:
        match = {"spider": spider} if not site or spider == site else {"spider": spider, "sites": site}
        newest = runs.find_one({**match, "started_at": {"$lt": window.end}}, {"started_at": 1},
                               sort=[("started_at", DESCENDING)])
        if newest:
            starts.append(newest["started_at"])
    return max(starts, default=None)


def _filled(value: Any) -> bool:
    return value not in (None, "", [])


def _site_figures(articles: Collection[dict[str, Any]], window: Window, site: str | None) -> dict[str, SiteFigures]:
    match: dict[str, Any] = {"site": site} if site else {}
    match["published_at"] = {"$gte": window.start, "$lt": window.end}
    with_body = {doc["_id"] for doc in articles.find({**match, "body": {"$gt": ""}}, {"_id": 1})}
    figures: dict[str, SiteFigures] = {}
    for doc in articles.find(match, ARTICLE_PROJECTION).sort("published_at", DESCENDING):
        filled = [name for name in FILL_FIELDS
                  if (doc["_id"] in with_body if name == "body" else _filled(doc.get(name)))]
        site_name = str(doc.get("site"))
        day = window.day_of(doc["published_at"])
        figures.setdefault(site_name, SiteFigures(site_name)).add(day, doc["published_at"], filled, doc)
    return dict(sorted(figures.items()))


def _run_figures(runs: Collection[dict[str, Any]], window: Window, spiders: list[str],
                 site: str | None) -> list[RunFigures]:
    records = [doc for spider in spiders
               for doc in runs.find({"spider": spider, "started_at": {"$gte": window.start, "$lt": window.end}},
                                    RUN_PROJECTION).sort("started_at", ASCENDING)
               if _of_site(doc, site)]
    found = [RunFigures.from_record(record) for record in merge_shared_runs(records)]
    return sorted(found, key=lambda run: run.started_at)


# rendering


def _e(value: object) -> str:
    """``value`` as text safe in HTML content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


#: fill-rate colours: red at 0, yellow at 0.5, green at 1
_RATE_STOPS = ((0.0, (178, 24, 43)), (0.5, (244, 208, 63)), (1.0, (26, 152, 80)))
_NO_DATA = "#e8e8e8"
_RESULT_COLOURS = {"ok": "#2e86c1", "alerts": "#e67e22", "failed": "#c0392b"}
_BAR, _ZERO, _WEEKEND = "#2e86c1", "#bbbbbb", "#ececec"


def rate_colour(rate: float) -> str:
    """The colour of a fill rate (0..1)."""
    for (low, low_rgb), (high, high_rgb) in zip(_RATE_STOPS, _RATE_STOPS[1:]):
        if rate <= high:
            share = (rate - low) / (high - low)
            rgb = (round(a + (b - a) * share) for a, b in zip(low_rgb, high_rgb))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*_RATE_STOPS[-1][1])


@dataclass(frozen=True)
class _Columns:
    """The x axis of a chart: one column per day of its window."""

    window: Window

    @property
    def days(self) -> list[date]:
        return self.window.days()

    @property
    def width(self) -> float:
        return PLOT_WIDTH / self.window.length

    def x(self, index: int) -> float:
        return LABEL_WIDTH + index * self.width

    def svg_width(self) -> int:
        return LABEL_WIDTH + PLOT_WIDTH + RIGHT_WIDTH

    def axis(self, y: float) -> str:
        """The day axis at ``y``: a line, a tick and a label under about a dozen days, and its title."""
        step = max(1, math.ceil(len(self.days) / 12))
        parts = [f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{y}" y2="{y}" class="rule"/>']
        for i, day in enumerate(self.days):
            if i % step == 0:
                middle = self.x(i) + self.width / 2
                parts.append(f'<line x1="{middle:.1f}" x2="{middle:.1f}" y1="{y}" y2="{y + TICK}" class="rule"/>'
                             f'<text x="{middle:.1f}" y="{y + TICK + 11:.1f}" class="axis">{day:%m-%d}</text>')
        first, last = self.window.first_day.year, self.window.last_day.year
        years = str(first) if first == last else f"{first}–{last}"
        parts.append(f'<text x="{LABEL_WIDTH + PLOT_WIDTH / 2:.1f}" y="{y + AXIS_HEIGHT - 4:.1f}" class="axis title">'
                     f'day ({_e(zone_label(self.window.zone))}), {years}</text>')
        return "".join(parts)

    def weekends(self, y: float, height: float) -> str:
        """Shading behind the Saturdays and Sundays of a row."""
        return "".join(f'<rect x="{self.x(i):.1f}" y="{y:.1f}" width="{self.width:.1f}" height="{height}" '
                       'class="weekend"/>' for i, day in enumerate(self.days) if day.weekday() >= 5)


def _value_axis(top: float, base: float, ticks: list[tuple[float, str]]) -> str:
    """A row's value axis right of the plot: a line from ``base`` (0) to ``top`` (the row's maximum),
    with a tick and a label at each (share of the way up, text)."""
    x = LABEL_WIDTH + PLOT_WIDTH + 3
    parts = [f'<line x1="{x}" x2="{x}" y1="{top:.1f}" y2="{base:.1f}" class="rule"/>']
    for share, text in ticks:
        y = base - (base - top) * share
        parts.append(f'<line x1="{x}" x2="{x + TICK}" y1="{y:.1f}" y2="{y:.1f}" class="rule"/>'
                     f'<text x="{x + TICK + 3}" y="{y + 3.5:.1f}" class="tick">{_e(text)}</text>')
    return "".join(parts)


def _count_ticks(most: int) -> list[tuple[float, str]]:
    ticks = [(0.0, "0"), (1.0, str(most))]
    if most >= 2 and most % 2 == 0:
        ticks.insert(1, (0.5, str(most // 2)))
    return ticks


def _svg(width: int, height: float, label: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}" style="max-width:{width}px" role="img" '
            f'aria-label="{_e(label)}">{body}</svg>')


def _articles_chart(report: Report, columns: _Columns) -> str:
    """Bars of the articles published per day, one row per site, each on its own scale."""
    parts = []
    for row, figures in enumerate(report.sites.values()):
        top = row * BAR_ROW + 6
        base = top + BAR_HEIGHT
        most = max(figures.articles.values())
        parts.append(columns.weekends(top, BAR_HEIGHT))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{base - 12}" class="label">{_e(figures.site)}</text>')
        for i, day in enumerate(columns.days):
            count = figures.articles[day]
            height = max(1.5, BAR_HEIGHT * count / most) if count else 1.0
            parts.append(
                f'<rect x="{columns.x(i) + 1:.1f}" y="{base - height:.1f}" width="{max(1.0, columns.width - 2):.1f}" '
                f'height="{height:.1f}" class="{"bar" if count else "zero"}" data-site="{_e(figures.site)}" '
                f'data-day="{day}" data-count="{count}"><title>{_e(figures.site)} {day}: {count} articles</title></rect>')
        parts.append(_value_axis(top, base, _count_ticks(most)))
    height = len(report.sites) * BAR_ROW + 6
    return _svg(columns.svg_width(), height + AXIS_HEIGHT, "articles published per site per day",
                "".join(parts) + columns.axis(height))


def _fill_chart(report: Report, columns: _Columns) -> str:
    """A heatmap per site: one row per field, one column per day, coloured by the share of articles with it."""
    parts = []
    top = 0.0
    block = len(FILL_FIELDS) * (CELL_HEIGHT + 1) - 1
    for figures in report.sites.values():
        parts.append(f'<text x="0" y="{top + 13:.1f}" class="site">{_e(figures.site)}</text>'
                     f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{top + 13:.1f}" class="tick">all days</text>')
        top += 18
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{top:.1f}" width="{PLOT_WIDTH}" height="{block}" fill="{_NO_DATA}"/>')
        for name in FILL_FIELDS:
            parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{top + CELL_HEIGHT - 3:.1f}" class="label">{name}</text>')
            for i, day in enumerate(columns.days):
                rate = figures.rate(name, day)
                if rate is None:
                    continue
                parts.append(
                    f'<rect x="{columns.x(i):.1f}" y="{top:.1f}" width="{columns.width:.1f}" height="{CELL_HEIGHT}" '
                    f'data-site="{_e(figures.site)}" data-day="{day}" data-field="{name}" fill="{rate_colour(rate)}" '
                    f'data-rate="{rate:.3f}"><title>{_e(figures.site)} {day} {name}: {figures.filled[day][name]} of '
                    f'{figures.articles[day]} ({rate:.0%})</title></rect>')
            overall = figures.rate(name)
            parts.append(f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{top + CELL_HEIGHT - 3:.1f}" class="note">'
                         f'{_percent(overall)}</text>')
            top += CELL_HEIGHT + 1
        top += 8
    return _svg(columns.svg_width(), top + AXIS_HEIGHT, "share of articles with each field per site per day",
                "".join(parts) + columns.axis(top))


def _runs_chart(report: Report, columns: _Columns) -> str:
    """Per spider (a generic one per site list) and day, a bar as high as the day's longest run with a
    tick at the median run, coloured by the day's worst end (one row each, on its own scale)."""
    by_day: dict[str, dict[date, list[RunFigures]]] = {}
    for run in report.runs:
        by_day.setdefault(run.label, {}).setdefault(columns.window.day_of(run.started_at), []).append(run)
    parts = []
    for row, (label, days) in enumerate(sorted(by_day.items())):
        top = row * BAR_ROW + 6
        base = top + BAR_HEIGHT
        scale = max(run.seconds for runs in days.values() for run in runs) or 1.0
        parts.append(columns.weekends(top, BAR_HEIGHT))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{base - 12}" class="label">{_e(label)}</text>')
        for i, day in enumerate(columns.days):
            runs = days.get(day)
            if not runs:
                continue
            longest, middle = max(run.seconds for run in runs), median(run.seconds for run in runs)
            result = next(r for r in ("failed", "alerts", "ok") if any(run.result == r for run in runs))
            height = max(2.0, BAR_HEIGHT * longest / scale)
            x, width = columns.x(i) + 1, max(1.0, columns.width - 2)
            ended = ", ".join(f"{count} {name}" for name, count in Counter(run.result for run in runs).items())
            parts.append(
                f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{_RESULT_COLOURS[result]}" data-spider="{_e(runs[0].spider)}" data-day="{day}" data-runs="{len(runs)}" '
                f'data-longest="{longest:.0f}" data-median="{middle:.0f}" data-result="{result}" '
                f'data-sites="{_e(" ".join(runs[0].sites))}"><title>{_e(label)} '
                f'{day}: {len(runs)} runs ({ended}), longest {_duration(longest)}, median {_duration(middle)}</title></rect>'
                f'<line x1="{x:.1f}" x2="{x + width:.1f}" y1="{base - BAR_HEIGHT * middle / scale:.1f}" '
                f'y2="{base - BAR_HEIGHT * middle / scale:.1f}" class="median"/>')
        parts.append(_value_axis(top, base, [(0.0, "0"), (0.5, _duration(scale / 2)), (1.0, _duration(scale))]))
    height = len(by_day) * BAR_ROW + 6
    return _svg(columns.svg_width(), height + AXIS_HEIGHT, "crawl run durations per spider per day",
                "".join(parts) + columns.axis(height))


def _link(url: str, text: str) -> str:
    """``text`` linking to ``url`` when it is an http(s) URL."""
    if urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(text)}</a>'
    return _e(text)


def _table(headers: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h).replace('_', '_<wbr>')}</th>" for h in headers)  # published_at may break
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _rate_cell(rate: float | None) -> str:
    if rate is None:
        return '<td class="num">–</td>'
    ink = "#fff" if rate < 0.2 or rate > 0.8 else "#000"
    return f'<td class="num" style="background:{rate_colour(rate)};color:{ink}">{rate:.0%}</td>'


def _sites_table(report: Report) -> str:
    rows = []
    for figures in report.sites.values():
        newest = figures.newest[0].published_at if figures.newest else None
        last = next((run for run in reversed(report.runs) if figures.site in run.sites), None)
        last_text = f"{local_time(last.started_at, report.zone)} {last.result}" if last else "–"
        rows.append(f'<tr data-site="{_e(figures.site)}" data-articles="{figures.total}"><td>{_e(figures.site)}</td>'
                    f'<td class="num">{figures.total}</td>{"".join(_rate_cell(figures.rate(n)) for n in FILL_FIELDS)}'
                    f'<td>{local_time(newest, report.zone) if newest else "–"}</td>'
                    f'<td class="last-run">{_e(last_text)}</td></tr>')
    return _table(["site", "articles", *FILL_FIELDS, "newest published", "last run"], rows,
                  "No articles published in the window.")


def _alerts_table(report: Report) -> str:
    rows = [f'<tr class="alert"><td>{local_time(run.finished_at, report.zone)}</td><td>{_e(run.label)}</td>'
            f'<td>{_e(alert.get("rule", ""))}</td><td>{_e(alert.get("message", ""))}</td></tr>'
            for run, alert in report.alerts]
    return _table(["finished", "spider", "rule", "message"], rows, "No alerts in the window.")


def _runs_table(report: Report) -> str:
    rows = []
    for run in list(reversed(report.runs))[:RUNS_LISTED]:
        end = f"FAILED: {run.failure}" if run.failure else run.finish_reason
        workers = f" ({run.workers} workers)" if run.workers > 1 else ""
        rows.append(f'<tr class="{run.result}" data-workers="{run.workers}"><td>{local_time(run.started_at, report.zone)}</td>'
                    f'<td>{_e(run.label + workers)}</td>'
                    f'<td class="num">{_duration(run.seconds)}</td><td class="num">{run.pages}</td>'
                    f'<td class="num">{run.parsed}</td><td class="num">{run.stored}</td><td class="num">{run.updated}</td>'
                    f'<td class="num">{run.errors}</td><td>{_e(end)}</td><td class="num">{len(run.alerts)}</td></tr>')
    table = _table(["started", "spider", "duration", "pages", "parsed", "stored", "updated", "errors", "end", "alerts"],
                   rows, "No crawl runs recorded in the window.")
    more = len(report.runs) - RUNS_LISTED
    return table + (f'<p class="note">{more} older runs not listed.</p>' if more > 0 else "")


def _newest_table(report: Report) -> str:
    rows = [f'<tr><td>{local_time(line.published_at, report.zone)}</td><td>{_e(figures.site)}</td>'
            f'<td>{_link(line.url, line.title[:200] or line.url)}</td><td>{_e(", ".join(line.missing))}</td></tr>'
            for figures in report.sites.values() for line in figures.newest]
    return _table(["published", "site", "title", "missing fields"], rows, "No articles published in the window.")


def _legend(items: list[tuple[str, str]]) -> str:
    """Swatches (a CSS background) and what they mean."""
    return '<p class="legend">' + "".join(f'<span><i style="background:{swatch}"></i>{_e(text)}</span>'
                                          for swatch, text in items) + "</p>"


_WEEKEND_ITEM = (_WEEKEND, "band: Saturday and Sunday")
_MEDIAN = f"linear-gradient({_RESULT_COLOURS['ok']} 42%,#fff 42%,#fff 62%,{_RESULT_COLOURS['ok']} 62%)"

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.wide{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
td:not(.num,.name){overflow-wrap:anywhere}
th{background:#f5f5f5}td.num{text-align:right}tr.failed td{background:#fdecea}tr.alerts td{background:#fff4e5}
tr.alert td{background:#fff4e5}.summary{color:#444}.empty,.note{color:#777}.moved{background:#fff4e5;padding:6px 10px}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0}
.legend i{display:inline-block;width:14px;height:12px;margin-right:5px;vertical-align:-1px;border:1px solid #ccc}
svg.chart{display:block;width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.label{text-anchor:end}svg text.site{font-weight:bold}
svg text.axis{text-anchor:middle;fill:#555;font-size:10px}svg text.title{font-size:11px}
svg text.note,svg text.tick{fill:#555;font-size:10px}
svg .bar{fill:#2e86c1}svg .zero{fill:#bbb}svg .weekend{fill:#ececec}svg .rule{stroke:#888}
svg .median{stroke:#fff;stroke-width:2}
@media (max-width:900px){body{margin:10px;font-size:13px}table{font-size:12px}th,td{padding:2px 4px}}
"""


def _moved_notice(window: Window, what: str) -> str:
    if not window.moved_from:
        return ""
    return (f'<p class="moved">No {what} in the {window.length} days to {window.moved_from}: shown are the '
            f'{window.length} days to the newest, {window.first_day} to {window.last_day}.</p>')


def render(report: Report) -> str:
    """The page: one HTML document with its charts inline, loading nothing."""
    window, zone = report.window, report.zone
    title = f"newscrawl report {window.first_day} – {window.last_day}" + (f" ({report.site})" if report.site else "")
    no_articles = '<p class="empty">No articles published in the window.</p>'
    no_runs = '<p class="empty">No crawl runs recorded in the window.</p>'
    article_legend = _legend([(_BAR, "articles published that day"), (_ZERO, "none that day"), _WEEKEND_ITEM])
    fill_legend = _legend([(rate_colour(r), f"{r:.0%}") for r in (0.0, 0.25, 0.5, 0.75, 1.0)]
                          + [(_NO_DATA, "no articles that day")])
    run_legend = _legend([(_RESULT_COLOURS["ok"], "all runs ok"), (_RESULT_COLOURS["alerts"], "a run raised alerts"),
                          (_RESULT_COLOURS["failed"], "a run failed (exit 1)"), (_MEDIAN, "white tick: the median run"),
                          _WEEKEND_ITEM])
    articles_moved, runs_moved = _moved_notice(window, "articles published"), _moved_notice(report.run_window, "runs")
    sections = [
        ("Sites", "Articles published in the window, the share with each field, the newest, and the last run "
         "of a spider that crawled the site.", articles_moved + _sites_table(report)),
        ("Articles per day", "Articles published each day, one row per site; the axis on the right is each row's "
         "own scale, in articles a day.",
         articles_moved + (article_legend + _articles_chart(report, _Columns(window))
                           if report.sites else no_articles)),
        ("Field fill rates per day", "Share of each day's articles with the field, one row per field; on the right, "
         "the share over all the days. A row turning red is a layout change.",
         articles_moved + (fill_legend + _fill_chart(report, _Columns(window)) if report.sites else no_articles)),
        ("Run durations", "Per day, the longest run, coloured by the day's worst end; the axis on the right is each "
         "row's own scale.",
         runs_moved + (run_legend + _runs_chart(report, _Columns(report.run_window)) if report.runs else no_runs)),
        ("Alerts", "Alerts the runs raised, newest first.", _alerts_table(report)),
        ("Runs", "The newest runs first; the workers of one shared crawl are one run.",
         runs_moved + _runs_table(report)),
        ("Newest articles", f"The {NEWEST_SHOWN} newest of each site and the fields they lack.",
         articles_moved + _newest_table(report)),
        _edits_section(report, _Columns(report.edits_window or window)),
    ]
    body = "".join(f'<section><h2>{_e(heading)}</h2><p class="note">{_e(note)}</p>{content}</section>'
                   for heading, note, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_STYLE}{_EDITS_STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="summary">{_e(report.describe())}. '
        f"Days and times are {_e(zone_label(zone))} ({_e(zone.key)}; NEWSCRAWL_TIMEZONE). "
        f"Generated {local_time(report.generated_at, zone)}.</p>{body}</body></html>\n"
    )


# -- changed after publication: edits and removals (newscrawl.ops.edits) -------------------------

#: the newest edits listed with their word diffs
EDITS_SHOWN = 20
#: characters of one run of a diff shown at most
DIFF_CHARS = 400
_EDIT_COLOURS = {"edits": "#8e44ad", "removed": "#c0392b"}
_EDITS_STYLE = """
.diff del{background:#fdd;color:#900;text-decoration:line-through}.diff ins{background:#dfd;color:#060;text-decoration:none}
.diff b{display:inline-block;min-width:5em;color:#555;font-weight:normal}.diff div{margin:2px 0}
svg .edits{fill:#8e44ad}svg .removed{fill:#c0392b}
"""


@dataclass
class EditFigures:
    """Edits and removals seen in the window, per site and day, and the newest edits."""

    edits: Counter[tuple[str, date]] = field(default_factory=Counter)
    removed: Counter[tuple[str, date]] = field(default_factory=Counter)
    newest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sites(self) -> list[str]:
        """The sites with a change in the window."""
        return sorted({site for site, _ in self.edits} | {site for site, _ in self.removed})


def _edit_figures(storage: Storage, window: Window, site: str | None) -> EditFigures:
    """What changed after publication in the window: revisions by ``seen_at``, removals by ``removed_at``."""
    db = storage.db
    seen: dict[str, Any] = {"seen_at": {"$gte": window.start, "$lt": window.end}, **({"site": site} if site else {})}
    figures = EditFigures()
    for revision in db.article_revisions.find(seen, {"site": 1, "seen_at": 1}):
        figures.edits[(str(revision.get("site")), window.day_of(revision["seen_at"]))] += 1
    for removal in find_removed(db, site=site, since=window.start, until=window.end):
        figures.removed[(str(removal["site"]), window.day_of(removal["removed_at"]))] += 1
    figures.newest = list(find_edits(db, site=site, since=window.start, until=window.end, limit=EDITS_SHOWN))
    return figures


def _edits_chart(figures: EditFigures, columns: _Columns) -> str:
    """Per site, one row: each day's edits (bar) and removals (bar beside it), on the site's own scale."""
    parts = []
    for row, site in enumerate(figures.sites):
        top = row * BAR_ROW + 6
        base = top + BAR_HEIGHT
        most = max(figures.edits[(site, day)] + figures.removed[(site, day)] for day in columns.days) or 1
        parts.append(columns.weekends(top, BAR_HEIGHT))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{base - 12}" class="label">{_e(site)}</text>')
        parts.append(f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{base - 12}" class="note">max {most}/day</text>')
        half = max(1.0, columns.width / 2 - 1)
        for i, day in enumerate(columns.days):
            edits, removed = figures.edits[(site, day)], figures.removed[(site, day)]
            if not edits and not removed:
                continue
            title = f"{_e(site)} {day}: {edits} edited, {removed} removed"
            for offset, kind, count in ((0.0, "edits", edits), (half, "removed", removed)):
                if count:
                    height = max(2.0, BAR_HEIGHT * count / most)
                    parts.append(f'<rect x="{columns.x(i) + 0.5 + offset:.1f}" y="{base - height:.1f}" width="{half:.1f}" '
                                 f'height="{height:.1f}" class="{kind}" data-site="{_e(site)}" data-day="{day}" '
                                 f'data-{kind}="{count}"><title>{title}</title></rect>')
    height = len(figures.sites) * BAR_ROW + 6
    return _svg(columns.svg_width(), height + AXIS_HEIGHT, "articles edited and removed after publication per site per day",
                "".join(parts) + columns.axis(height))


def _diff_html(diff: dict[str, list[list[str]]]) -> str:
    """A word diff per field, inline: removed words struck through, added words marked."""
    tags = {"-": "del", "+": "ins"}
    lines = []
    for name, ops in diff.items():
        words = []
        for op, text in ops:
            text = text if len(text) <= DIFF_CHARS else text[:DIFF_CHARS] + " …"
            words.append(f"<{tags[op]}>{_e(text)}</{tags[op]}>" if op in tags else _e(text))
        lines.append(f"<div><b>{_e(name)}</b> {' '.join(words)}</div>")
    return f'<td class="diff">{"".join(lines)}</td>'


def _edits_table(figures: EditFigures, zone: ZoneInfo) -> str:
    rows = [f'<tr class="edit" data-revision="{int(edit["revision"])}"><td>{local_time(edit["seen_at"], zone)}</td>'
            f'<td class="name">{_e(edit["site"])}</td><td>{_link(str(edit["url"] or ""), str(edit["title"] or edit["url"] or ""))}</td>'
            f'{_diff_html(edit["diff"])}</tr>' for edit in figures.newest]
    return _table(["seen", "site", "article", "what changed"], rows, "No article edited in the window.")


def _edits_section(report: Report, columns: _Columns) -> tuple[str, str, str]:
    """The "Changed after publication" section: (heading, note, content)."""
    figures = report.edits or EditFigures()
    legend = _legend([(_EDIT_COLOURS["edits"], "edited"), (_EDIT_COLOURS["removed"], "removed (404, 410)"),
                      _WEEKEND_ITEM])
    chart = legend + _edits_chart(figures, columns) if figures.sites else \
        '<p class="empty">No article edited or removed in the window.</p>'
    note = (f"Stored articles whose text changed or whose page was gone when they were fetched again, per day they "
            f"were seen ({zone_label(report.zone)}), each site on its own scale; then the {EDITS_SHOWN} newest edits, word by word.")
    return "Changed after publication", note, chart + _edits_table(figures, report.zone)
