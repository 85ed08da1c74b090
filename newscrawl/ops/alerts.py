"""Alerts from a run record: the site broke, blocks us, or changed its layout.

A pure function of the run (see :mod:`newscrawl.ops.runs`) and the spider's recent runs, so the rules
can be tested and tuned without crawling. Each alert names its rule, says what was seen, and
carries the numbers behind it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import mean
from typing import Any

from newscrawl.defaults import default


@dataclass(frozen=True)
class AlertRules:
    """Thresholds (settings ``NEWSCRAWL_ALERT_*``; defaults fit a news site that serves JSON-LD or markup)."""

    #: a field filled on fewer parsed articles than this share is an alert
    fill_thresholds: dict[str, float] = field(default_factory=lambda: default("NEWSCRAWL_ALERT_FILL_THRESHOLDS"))
    #: a field filled on less than this fraction of its recent average is layout drift
    drift_ratio: float = default("NEWSCRAWL_ALERT_DRIFT_RATIO")
    #: the generic body layer's share rising by this much over its recent average is layout drift
    generic_rise: float = default("NEWSCRAWL_ALERT_GENERIC_RISE")
    #: rate rules need at least this many parsed articles
    min_items: int = default("NEWSCRAWL_ALERT_MIN_ITEMS")
    #: block responses (403, 429, block pages) above this share of responses
    blocked_share: float = default("NEWSCRAWL_ALERT_BLOCKED_SHARE")
    min_blocked: int = 5


@dataclass(frozen=True)
class Alert:
    """One problem found in a run."""

    rule: str
    message: str
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (stored in ``crawl_runs``, sent to the webhook)."""
        return asdict(self)


def evaluate(run: dict[str, Any], history: list[dict[str, Any]], rules: AlertRules) -> list[Alert]:
    """The alerts a finished run raises, given earlier runs of the same spider (newest first)."""
    alerts: list[Alert] = []
    parsed = run["items"]["parsed"]
    discovered = run["discovered"]
    new_links = discovered["entries"] - discovered["skipped_stored"]
    # a worker of a shared crawl queues the links it finds for all: only its own fetches count
    if parsed == 0 and (run["article_responses"] > 0 or (new_links > 0 and not run.get("shared"))):
        alerts.append(Alert("zero_items", f"no article parsed although feeds, listings and sitemaps "
                            f"listed {new_links} new links", {"new_links": new_links,
                                                             "article_responses": run["article_responses"]}))
    backfill = run.get("backfill")
    if backfill and parsed == 0 and not run.get("shared"):
        alerts.append(Alert("backfill_empty", f"the backfill of {backfill['since']} to {backfill['until']} parsed "
                            f"no article ({run['pages']} pages fetched, statuses {run['status_counts'] or 'none'})",
                            {**backfill, "pages": run["pages"], "status_counts": run["status_counts"]}))
    if parsed >= rules.min_items:
        comparable = [r for r in history if r["items"]["parsed"] >= rules.min_items]
        alerts += _fill_alerts(run, comparable, rules)
        alerts += _markup_alerts(run, comparable, rules)
        alerts += _generic_alerts(run, comparable, rules)
    blocked = run["blocked"]
    if blocked >= rules.min_blocked and blocked > rules.blocked_share * max(1, run["pages"]):
        alerts.append(Alert("blocked", f"{blocked} of {run['pages']} responses were 403/429 or block pages",
                            {"blocked": blocked, "pages": run["pages"]}))
    return alerts


def _fill_alerts(run: dict[str, Any], history: list[dict[str, Any]], rules: AlertRules) -> list[Alert]:
    alerts = []
    for name, rate in run["fill_rate"].items():
        threshold = rules.fill_thresholds.get(name)
        recent = [r["fill_rate"].get(name, 0.0) for r in history]
        usual = mean(recent) if recent else None
        if threshold is not None and rate < threshold:
            alerts.append(Alert("fill_rate", f"{name} filled on {rate:.0%} of articles (threshold {threshold:.0%})",
                                {"field": name, "rate": rate, "threshold": threshold, "recent": usual}))
        elif usual and rate < rules.drift_ratio * usual:
            alerts.append(Alert("layout_drift", f"{name} filled on {rate:.0%} of articles, usually {usual:.0%}",
                                {"field": name, "rate": rate, "recent": usual}))
    return alerts


def _markup_alerts(run: dict[str, Any], history: list[dict[str, Any]], rules: AlertRules) -> list[Alert]:
    """The site's own markup answering a field far less often than it used to: its layout changed,
    even where other layers (JSON-LD, page structure) still fill the field."""
    alerts = []
    for name in sorted({field for past in history for field in past.get("markup_share", {})}):
        usual = mean(past.get("markup_share", {}).get(name, 0.0) for past in history)
        share = run["markup_share"].get(name, 0.0)
        if usual >= 0.5 and share < rules.drift_ratio * usual:
            alerts.append(Alert("layout_drift", f"the site's markup gave {name} on {share:.0%} of articles, "
                                f"usually {usual:.0%}", {"field": name, "markup_share": share, "recent": usual}))
    return alerts


def _generic_alerts(run: dict[str, Any], history: list[dict[str, Any]], rules: AlertRules) -> list[Alert]:
    if not history:  # sites without declared markup always use it: only a rise over their past counts
        return []
    share = run["generic_share"]
    usual = mean(r["generic_share"] for r in history)
    if share - usual >= rules.generic_rise:
        return [Alert("generic_fallback", f"the generic extractor gave the body of {share:.0%} of articles, "
                      f"usually {usual:.0%}: the site's markup may have changed", {"share": share, "recent": usual})]
    return []
