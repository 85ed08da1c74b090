"""The alert rules on run records built from real stats shapes (newscrawl.ops.runs.run_document)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from newscrawl.ops.alerts import AlertRules, evaluate
from newscrawl.ops.runs import run_document

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
RULES = AlertRules()


def run(**stats: int) -> dict[str, Any]:
    return run_document("site", {key.replace("__", "/"): value for key, value in stats.items()}, NOW, NOW, "finished")


def healthy(parsed: int = 20) -> dict[str, Any]:
    fill = {f"newscrawl__fill__{name}": parsed for name in ("title", "body", "published_at", "authors")}
    return run(newscrawl__articles_parsed=parsed, newscrawl__feed_entries=parsed, response_received_count=parsed + 2,
               newscrawl__layer__body__html=parsed, **fill)


def rules_of(alerts: list) -> set[str]:
    return {alert.rule for alert in alerts}


def test_a_healthy_run_raises_nothing() -> None:
    assert evaluate(healthy(), [healthy(), healthy()], RULES) == []


def test_zero_items_although_the_feeds_listed_new_links() -> None:
    broken = run(newscrawl__feed_entries=30, newscrawl__article_responses=30, newscrawl__not_article=30,
                 response_received_count=31)
    (alert,) = evaluate(broken, [healthy()], RULES)
    assert alert.rule == "zero_items" and alert.details["new_links"] == 30


def test_nothing_new_is_not_zero_items() -> None:
    quiet = run(newscrawl__feed_entries=30, newscrawl__incremental__skipped_stored=30, response_received_count=1)
    assert evaluate(quiet, [healthy()], RULES) == []


def test_fill_rate_below_threshold_and_drop_against_history() -> None:
    drifted = healthy()
    drifted["fill_rate"].update(published_at=0.5, authors=0.4)
    found = {(a.rule, a.details["field"]) for a in evaluate(drifted, [healthy()] * 3, RULES)}
    assert found == {("fill_rate", "published_at"), ("layout_drift", "authors")}
    # without history, a field with no threshold cannot drift
    assert {a.details["field"] for a in evaluate(drifted, [], RULES)} == {"published_at"}


def test_too_few_items_for_rates() -> None:
    small = healthy(parsed=3)
    small["fill_rate"]["published_at"] = 0.0
    assert evaluate(small, [healthy()], RULES) == []


def test_generic_fallback_only_as_a_rise_over_history() -> None:
    generic_site = run(newscrawl__articles_parsed=20, newscrawl__layer__body__generic=20,
                       **{f"newscrawl__fill__{n}": 20 for n in ("title", "body", "published_at", "authors")})
    assert evaluate(generic_site, [], RULES) == []  # a site without markup always uses it
    assert evaluate(generic_site, [generic_site], RULES) == []
    # against runs whose bodies came from the site's markup, it is drift twice over
    assert rules_of(evaluate(generic_site, [healthy()], RULES)) == {"generic_fallback", "layout_drift"}


def test_markup_drift_while_other_layers_still_fill_the_field() -> None:
    drifted = run(newscrawl__articles_parsed=20, newscrawl__layer__body__html=20,
                  newscrawl__layer__published_at__html=8, newscrawl__layer__published_at__generic=12,
                  **{f"newscrawl__fill__{n}": 20 for n in ("title", "body", "published_at", "authors")})
    before = run(newscrawl__articles_parsed=20, newscrawl__layer__body__html=20, newscrawl__layer__published_at__html=20,
                 **{f"newscrawl__fill__{n}": 20 for n in ("title", "body", "published_at", "authors")})
    (alert,) = evaluate(drifted, [before, before], RULES)
    assert (alert.rule, alert.details["field"], alert.details["markup_share"]) == ("layout_drift", "published_at", 0.4)
    assert alert.message == "the site's markup gave published_at on 40% of articles, usually 100%"


def test_blocked_share() -> None:
    blocked = healthy()
    blocked.update(blocked=12, pages=30)
    assert rules_of(evaluate(blocked, [healthy()], RULES)) == {"blocked"}
    blocked.update(blocked=4)
    assert evaluate(blocked, [healthy()], RULES) == []


def test_a_worker_of_a_shared_crawl_whose_links_others_fetched_is_fine() -> None:
    worker = run(newscrawl__feed_entries=30, response_received_count=3)
    worker["shared"] = True
    assert evaluate(worker, [], RULES) == []
    worker["article_responses"] = 5  # but pages it fetched itself gave nothing: an alert
    assert rules_of(evaluate(worker, [], RULES)) == {"zero_items"}
