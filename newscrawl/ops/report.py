"""The operator's picture behind ``python -m newscrawl report``: one self-contained HTML page.

Over the last ``days`` days (Kyiv time, today included) it shows, per site, the articles published
each day, the share of them with each field (a site that changed its layout turns a row of the
heatmap from green to red), each spider's longest and median run per day coloured by how the
runs ended, the alerts they raised, and tables of the runs and of each site's newest articles. The
charts are SVG written here; the page loads nothing and runs no script (its Content-Security-Policy
forbids both) and every string from the database is escaped.

What it reads, all bounded by the window:

- ``articles``: one range on ``published_at`` (index ``published``, or ``site_published`` with a
  site) projecting the short fields, newest first; one more on the same range returning only the
  ids of the articles whose body is a non-empty string, so no body is sent;
- ``crawl_runs``: per spider, one range on ``started_at`` (index ``spider_started``).

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

from newscrawl.extract.dates import DEFAULT_TZ
from newscrawl.ops.edits import find_edits, find_removed
from newscrawl.store.database import Storage

KYIV = ZoneInfo(DEFAULT_TZ)
DEFAULT_DAYS = 30
MAX_DAYS = 366
#: the fields whose fill rate the page charts, in its order
FIELDS = ("title", "lead", "body", "authors", "published_at", "section", "tags", "images")
#: the newest articles listed per site, and the runs listed in the table
NEWEST_SHOWN = 5
RUNS_LISTED = 200
ARTICLE_PROJECTION = {"site": 1, "url": 1, **{name: 1 for name in FIELDS if name != "body"}}
RUN_PROJECTION = {name: 1 for name in ("spider", "started_at", "finished_at", "finish_reason", "pages", "items",
                                       "errors", "outcome", "alerts")}

# chart geometry (pixels)
LABEL_WIDTH = 150
RIGHT_WIDTH = 110
PLOT_WIDTH = 900
BAR_ROW = 46
BAR_HEIGHT = 34
CELL_HEIGHT = 13
AXIS_HEIGHT = 22


@dataclass(frozen=True)
class Window:
    """The days a report covers, ``first_day`` to ``last_day`` inclusive (Kyiv calendar days)."""

    first_day: date
    last_day: date

    @classmethod
    def ending(cls, last_day: date, days: int) -> Window:
        """``days`` days up to ``last_day``."""
        return cls(last_day - timedelta(days=days - 1), last_day)

    @property
    def start(self) -> datetime:
        """Midnight starting the first day."""
        return datetime.combine(self.first_day, time(), KYIV)

    @property
    def end(self) -> datetime:
        """Midnight ending the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), KYIV)

    def days(self) -> list[date]:
        """Every day of the window, oldest first."""
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    @staticmethod
    def day_of(moment: datetime) -> date:
        """The Kyiv calendar day of ``moment``."""
        return moment.astimezone(KYIV).date()


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

    def add(self, published_at: datetime, filled: list[str], doc: dict[str, Any]) -> None:
        """Count one article (articles come newest first: the first ones are listed)."""
        day = Window.day_of(published_at)
        self.articles[day] += 1
        self.filled.setdefault(day, Counter()).update(filled)
        if len(self.newest) < NEWEST_SHOWN:
            self.newest.append(ArticleLine(published_at, str(doc.get("title") or ""), str(doc.get("url") or ""),
                                           tuple(name for name in FIELDS if name not in filled)))

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
    """One crawl run, from its ``crawl_runs`` record (:mod:`newscrawl.ops.runs`)."""

    spider: str
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
        return cls(spider=str(record["spider"]), started_at=record["started_at"], finished_at=record["finished_at"],
                   finish_reason=str(record.get("finish_reason") or ""), pages=int(record.get("pages") or 0),
                   parsed=int(items.get("parsed") or 0), stored=int(items.get("stored") or 0),
                   updated=int(items.get("updated") or 0), errors=int(record.get("errors") or 0),
                   failure=str(outcome["cause"]) if outcome.get("code") else None,
                   alerts=tuple(record.get("alerts") or ()))

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
    """Everything the page shows."""

    window: Window
    site: str | None
    generated_at: datetime
    sites: dict[str, SiteFigures]
    runs: list[RunFigures]
    edits: EditFigures | None = None

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
        days = (self.window.last_day - self.window.first_day).days + 1
        scope = f"site {self.site}" if self.site else f"{len(self.sites)} sites"
        return (f"{self.articles} articles of {scope} published {self.window.first_day}..{self.window.last_day} "
                f"({days} days, Kyiv time), {len(self.runs)} runs, {len(self.alerts)} alerts")


def gather(storage: Storage, days: int = DEFAULT_DAYS, site: str | None = None, now: datetime | None = None) -> Report:
    """The figures of the ``days`` days up to ``now`` (default: now), of one site or all."""
    now = now or datetime.now(timezone.utc)
    window = Window.ending(Window.day_of(now), days)
    return Report(window, site, now, _site_figures(storage.db.articles, window, site),
                  _run_figures(storage.db.crawl_runs, window, site), edits=_edit_figures(storage, window, site))


def site_known(storage: Storage, site: str) -> bool:
    """Whether the database holds an article of ``site`` or a run of a spider of that name."""
    return (storage.db.articles.find_one({"site": site}, {"_id": 1}) is not None
            or storage.db.crawl_runs.find_one({"spider": site}, {"_id": 1}) is not None)


def _filled(value: Any) -> bool:
    return value not in (None, "", [])


def _site_figures(articles: Collection[dict[str, Any]], window: Window, site: str | None) -> dict[str, SiteFigures]:
    match: dict[str, Any] = {"site": site} if site else {}
    match["published_at"] = {"$gte": window.start, "$lt": window.end}
    with_body = {doc["_id"] for doc in articles.find({**match, "body": {"$gt": ""}}, {"_id": 1})}
    figures: dict[str, SiteFigures] = {}
    for doc in articles.find(match, ARTICLE_PROJECTION).sort("published_at", DESCENDING):
        filled = [name for name in FIELDS if (doc["_id"] in with_body if name == "body" else _filled(doc.get(name)))]
        site_name = str(doc.get("site"))
        figures.setdefault(site_name, SiteFigures(site_name)).add(doc["published_at"], filled, doc)
    return dict(sorted(figures.items()))


def _run_figures(runs: Collection[dict[str, Any]], window: Window, site: str | None) -> list[RunFigures]:
    spiders = [site] if site else sorted(runs.distinct("spider"))
    found = [RunFigures.from_record(doc)
             for spider in spiders
             for doc in runs.find({"spider": spider, "started_at": {"$gte": window.start, "$lt": window.end}},
                                  RUN_PROJECTION).sort("started_at", ASCENDING)]
    return sorted(found, key=lambda run: run.started_at)


# rendering


def _e(value: object) -> str:
    """``value`` as text safe in HTML content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def _kyiv(moment: datetime) -> str:
    return moment.astimezone(KYIV).strftime("%Y-%m-%d %H:%M")


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
    """The x axis shared by the charts: one column per day of the window."""

    days: list[date]

    @property
    def width(self) -> float:
        return PLOT_WIDTH / len(self.days)

    def x(self, index: int) -> float:
        return LABEL_WIDTH + index * self.width

    def svg_width(self) -> int:
        return LABEL_WIDTH + PLOT_WIDTH + RIGHT_WIDTH

    def axis(self, y: float) -> str:
        """The axis line at ``y`` with about a dozen day labels under it."""
        step = max(1, math.ceil(len(self.days) / 12))
        labels = [f'<text x="{self.x(i) + self.width / 2:.1f}" y="{y + 14:.1f}" class="axis">{day:%m-%d}</text>'
                  for i, day in enumerate(self.days) if i % step == 0]
        return f'<line x1="{LABEL_WIDTH}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{y}" y2="{y}" class="rule"/>' + "".join(labels)

    def weekends(self, y: float, height: float) -> str:
        """Shading behind the Saturdays and Sundays of a row."""
        return "".join(f'<rect x="{self.x(i):.1f}" y="{y:.1f}" width="{self.width:.1f}" height="{height}" class="weekend"/>'
                       for i, day in enumerate(self.days) if day.weekday() >= 5)


def _svg(width: int, height: float, label: str, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{_e(label)}">{body}</svg>')


def _articles_chart(report: Report, columns: _Columns) -> str:
    """Bars of the articles published per day, one row per site, each on its own scale."""
    parts = []
    for row, figures in enumerate(report.sites.values()):
        top = row * BAR_ROW + 6
        base = top + BAR_HEIGHT
        most = max(figures.articles.values())
        parts.append(columns.weekends(top, BAR_HEIGHT))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{base - 12}" class="label">{_e(figures.site)}</text>')
        parts.append(f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{base - 12}" class="note">max {most}/day</text>')
        for i, day in enumerate(columns.days):
            count = figures.articles[day]
            height = max(1.5, BAR_HEIGHT * count / most) if count else 1.0
            parts.append(
                f'<rect x="{columns.x(i) + 1:.1f}" y="{base - height:.1f}" width="{max(1.0, columns.width - 2):.1f}" '
                f'height="{height:.1f}" class="{"bar" if count else "zero"}" data-site="{_e(figures.site)}" '
                f'data-day="{day}" data-count="{count}"><title>{_e(figures.site)} {day}: {count} articles</title></rect>')
    height = len(report.sites) * BAR_ROW + 6
    return _svg(columns.svg_width(), height + AXIS_HEIGHT, "articles published per site per day",
                "".join(parts) + columns.axis(height))


def _fill_chart(report: Report, columns: _Columns) -> str:
    """A heatmap per site: one row per field, one column per day, coloured by the share of articles with it."""
    parts = []
    top = 0.0
    block = len(FIELDS) * (CELL_HEIGHT + 1) - 1
    for figures in report.sites.values():
        parts.append(f'<text x="0" y="{top + 13:.1f}" class="site">{_e(figures.site)}</text>')
        top += 18
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{top:.1f}" width="{PLOT_WIDTH}" height="{block}" fill="{_NO_DATA}"/>')
        for name in FIELDS:
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
    """Per spider and day, a bar as high as the day's longest run with a tick at the median run,
    coloured by the day's worst end (one row per spider, each on its own scale)."""
    by_day: dict[str, dict[date, list[RunFigures]]] = {}
    for run in report.runs:
        by_day.setdefault(run.spider, {}).setdefault(Window.day_of(run.started_at), []).append(run)
    parts = []
    for row, (spider, days) in enumerate(sorted(by_day.items())):
        top = row * BAR_ROW + 6
        base = top + BAR_HEIGHT
        scale = max(run.seconds for runs in days.values() for run in runs) or 1.0
        parts.append(columns.weekends(top, BAR_HEIGHT))
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{base - 12}" class="label">{_e(spider)}</text>')
        parts.append(f'<text x="{LABEL_WIDTH + PLOT_WIDTH + 6}" y="{base - 12}" class="note">max {_duration(scale)}</text>')
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
                f'fill="{_RESULT_COLOURS[result]}" data-spider="{_e(spider)}" data-day="{day}" data-runs="{len(runs)}" '
                f'data-longest="{longest:.0f}" data-median="{middle:.0f}" data-result="{result}"><title>{_e(spider)} '
                f'{day}: {len(runs)} runs ({ended}), longest {_duration(longest)}, median {_duration(middle)}</title></rect>'
                f'<line x1="{x:.1f}" x2="{x + width:.1f}" y1="{base - BAR_HEIGHT * middle / scale:.1f}" '
                f'y2="{base - BAR_HEIGHT * middle / scale:.1f}" class="median"/>')
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
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _rate_cell(rate: float | None) -> str:
    if rate is None:
        return '<td class="num">–</td>'
    ink = "#fff" if rate < 0.2 or rate > 0.8 else "#000"
    return f'<td class="num" style="background:{rate_colour(rate)};color:{ink}">{rate:.0%}</td>'


def _sites_table(report: Report) -> str:
    last_runs = {run.spider: run for run in report.runs}
    rows = []
    for figures in report.sites.values():
        newest = figures.newest[0].published_at if figures.newest else None
        last = last_runs.get(figures.site)
        last_text = f"{_kyiv(last.started_at)} {last.result}" if last else "–"
        rows.append(f'<tr data-site="{_e(figures.site)}" data-articles="{figures.total}"><td>{_e(figures.site)}</td>'
                    f'<td class="num">{figures.total}</td>{"".join(_rate_cell(figures.rate(n)) for n in FIELDS)}'
                    f'<td>{_kyiv(newest) if newest else "–"}</td><td>{_e(last_text)}</td></tr>')
    return _table(["site", "articles", *FIELDS, "newest published", "last run"], rows,
                  "No articles published in the window.")


def _alerts_table(report: Report) -> str:
    rows = [f'<tr class="alert"><td>{_kyiv(run.finished_at)}</td><td>{_e(run.spider)}</td>'
            f'<td>{_e(alert.get("rule", ""))}</td><td>{_e(alert.get("message", ""))}</td></tr>'
            for run, alert in report.alerts]
    return _table(["finished", "spider", "rule", "message"], rows, "No alerts in the window.")


def _runs_table(report: Report) -> str:
    rows = []
    for run in list(reversed(report.runs))[:RUNS_LISTED]:
        end = f"FAILED: {run.failure}" if run.failure else run.finish_reason
        rows.append(f'<tr class="{run.result}"><td>{_kyiv(run.started_at)}</td><td>{_e(run.spider)}</td>'
                    f'<td class="num">{_duration(run.seconds)}</td><td class="num">{run.pages}</td>'
                    f'<td class="num">{run.parsed}</td><td class="num">{run.stored}</td><td class="num">{run.updated}</td>'
                    f'<td class="num">{run.errors}</td><td>{_e(end)}</td><td class="num">{len(run.alerts)}</td></tr>')
    table = _table(["started", "spider", "duration", "pages", "parsed", "stored", "updated", "errors", "end", "alerts"],
                   rows, "No crawl runs recorded in the window.")
    more = len(report.runs) - RUNS_LISTED
    return table + (f'<p class="note">{more} older runs not listed.</p>' if more > 0 else "")


def _newest_table(report: Report) -> str:
    rows = [f'<tr><td>{_kyiv(line.published_at)}</td><td>{_e(figures.site)}</td>'
            f'<td>{_link(line.url, line.title[:200] or line.url)}</td><td>{_e(", ".join(line.missing))}</td></tr>'
            for figures in report.sites.values() for line in figures.newest]
    return _table(["published", "site", "title", "missing fields"], rows, "No articles published in the window.")


def _legend(items: list[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(f'<span><i style="background:{colour}"></i>{_e(text)}</span>'
                                          for colour, text in items) + "</p>"


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
th{background:#f5f5f5}td.num{text-align:right}tr.failed td{background:#fdecea}tr.alerts td{background:#fff4e5}
tr.alert td{background:#fff4e5}.summary{color:#444}.empty,.note{color:#777}
.legend span{margin-right:16px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.label{text-anchor:end}svg text.site{font-weight:bold}
svg text.axis{text-anchor:middle;fill:#666;font-size:10px}svg text.note{fill:#666}
svg .bar{fill:#2e86c1}svg .zero{fill:#bbb}svg .weekend{fill:#f3f3f3}svg .rule{stroke:#999}
svg .median{stroke:#fff;stroke-width:2}
"""


def render(report: Report) -> str:
    """The page: one HTML document with its charts inline, loading nothing."""
    window = report.window
    columns = _Columns(window.days())
    title = f"newscrawl report {window.first_day} – {window.last_day}" + (f" ({report.site})" if report.site else "")
    no_articles = '<p class="empty">No articles published in the window.</p>'
    no_runs = '<p class="empty">No crawl runs recorded in the window.</p>'
    fill_legend = _legend([(rate_colour(r), f"{r:.0%}") for r in (0.0, 0.25, 0.5, 0.75, 1.0)] + [(_NO_DATA, "no articles")])
    run_legend = _legend([(_RESULT_COLOURS["ok"], "all ok"), (_RESULT_COLOURS["alerts"], "a run raised alerts"),
                          (_RESULT_COLOURS["failed"], "a run failed (exit 1)")])
    sections = [
        ("Sites", "Articles published in the window and the share with each field.", _sites_table(report)),
        ("Articles per day", "Articles published each day (Kyiv time); grey: none. Each site on its own scale.",
         _articles_chart(report, columns) if report.sites else no_articles),
        ("Field fill rates per day", "Share of each day's articles with the field (grey: no articles that day): "
         "a row turning red is a layout change.",
         fill_legend + _fill_chart(report, columns) if report.sites else no_articles),
        ("Run durations", "Per day, the longest run (the white tick: the median one), coloured by the day's "
         "worst end. Each spider on its own scale.",
         run_legend + _runs_chart(report, columns) if report.runs else no_runs),
        ("Alerts", "Alerts the runs raised, newest first.", _alerts_table(report)),
        ("Runs", "The newest runs first.", _runs_table(report)),
        ("Newest articles", f"The {NEWEST_SHOWN} newest of each site and the fields they lack.", _newest_table(report)),
        _edits_section(report, columns),
    ]
    body = "".join(f'<section><h2>{_e(heading)}</h2><p class="note">{_e(note)}</p>{content}</section>'
                   for heading, note, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_STYLE}{_EDITS_STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="summary">{_e(report.describe())}. '
        f"Generated {_kyiv(report.generated_at)} Kyiv time.</p>{body}</body></html>\n"
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
        figures.edits[(str(revision.get("site")), Window.day_of(revision["seen_at"]))] += 1
    for removal in find_removed(db, site=site, since=window.start, until=window.end):
        figures.removed[(str(removal["site"]), Window.day_of(removal["removed_at"]))] += 1
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


def _edits_table(figures: EditFigures) -> str:
    rows = [f'<tr class="edit" data-revision="{int(edit["revision"])}"><td>{_kyiv(edit["seen_at"])}</td>'
            f'<td>{_e(edit["site"])}</td><td>{_link(str(edit["url"] or ""), str(edit["title"] or edit["url"] or ""))}</td>'
            f'{_diff_html(edit["diff"])}</tr>' for edit in figures.newest]
    return _table(["seen", "site", "article", "what changed"], rows, "No article edited in the window.")


def _edits_section(report: Report, columns: _Columns) -> tuple[str, str, str]:
    """The "Changed after publication" section: (heading, note, content)."""
    figures = report.edits or EditFigures()
    legend = _legend([(_EDIT_COLOURS["edits"], "edited"), (_EDIT_COLOURS["removed"], "removed (404, 410)")])
    chart = legend + _edits_chart(figures, columns) if figures.sites else \
        '<p class="empty">No article edited or removed in the window.</p>'
    note = (f"Stored articles whose text changed or whose page was gone when they were fetched again, per day they "
            f"were seen (Kyiv time), each site on its own scale; then the {EDITS_SHOWN} newest edits, word by word.")
    return "Changed after publication", note, chart + _edits_table(figures)
