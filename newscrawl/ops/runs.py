"""Run records and alerts: a Scrapy extension that, when a crawl ends, writes what happened.

One document per run goes to the ``crawl_runs`` collection: spider, start and end, pages, HTTP
status counts, retries, items parsed/stored/updated/dropped by reason, per-field fill rates, the
extraction layers used, errors, and the alerts :func:`newscrawl.ops.alerts.evaluate` raises against the
spider's recent runs. Alerts go to the log (ERROR), to the optional webhook
(``NEWSCRAWL_WEBHOOK_URL``, one JSON POST per alert) and, through the summary file
``NEWSCRAWL_RUN_SUMMARY``, to the exit code of ``python -m newscrawl run``. A record that could not
be stored (database down) waits in ``data/runs/`` and is loaded by the next run or ``flush-spill``.
"""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newscrawl.crawl.failures import FailedPages
from newscrawl.defaults import setting_value
from newscrawl.ops.alerts import Alert, AlertRules, evaluate
from newscrawl.crawl.outcome import crawl_outcome, shared_crawl
from newscrawl.distributed.scheduler import SharedScheduler
from newscrawl.stats import (
    ARTICLES_PARSED,
    ARTICLE_RESPONSES,
    BLOCKED,
    DROPPED_REASONS_PREFIX,
    ERRORS_LOGGED,
    FEEDS_NOT_MODIFIED,
    FEED_ENTRIES,
    FILL_PREFIX,
    INCREMENTAL_REFETCH_MODIFIED,
    INCREMENTAL_SKIPPED_STORED,
    ITEMS_SCRAPED,
    LAYER_PREFIX,
    LISTING_LINKS,
    MONGO_INSERTED,
    MONGO_QUARANTINED,
    MONGO_SPILLED,
    MONGO_UNSAVED,
    MONGO_UPDATED,
    NOT_ARTICLE,
    PARSE_ERRORS,
    RESPONSES_RECEIVED,
    RETRIES,
    REVISIT_PREFIX,
    SITEMAP_ENTRIES,
    STATUS_COUNT_PREFIX,
    WEBHOOK_FAILED,
)
from newscrawl.store.service import StorageService
from newscrawl.extract.items import FILL_FIELDS
from newscrawl.store.files import data_dir, to_json_line

logger = logging.getLogger(__name__)
HISTORY_RUNS = 10
RUN_DATES = ("started_at", "finished_at")


def load_pending_runs(runs: Any, directory: Path) -> int:
    """Insert the run records waiting in ``directory`` into ``runs``; return how many were loaded."""
    loaded = 0
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            for name in RUN_DATES:
                record[name] = datetime.fromisoformat(record[name])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("skipping unreadable run record %s: %s", path, exc)
            continue
        if runs.find_one({"_id": record["_id"]}, {"_id": 1}) is None:
            runs.insert_one(record)
        path.unlink()
        loaded += 1
    if loaded:
        logger.info("loaded %d run records written while the database was unavailable", loaded)
    return loaded


def spider_sites(spider: Spider) -> list[str]:
    """The site keys of the articles a spider stores: its declared site, or for ``generic`` the
    hosts it was given (an undeclared site's key is its host without ``www.``)."""
    parser = getattr(spider, "parser", None)
    site = getattr(parser, "site", None)
    if site is not None:
        return [site.name]
    return sorted({edition.host for edition in getattr(spider, "selected", ())}) or [spider.name]


def run_document(spider_name: str, stats: dict[str, Any], started_at: datetime, finished_at: datetime,
                 reason: str, *, shared: bool = False, crawl_id: str | None = None,
                 sites: list[str] | None = None, backfill: dict[str, str] | None = None,
                 failed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``crawl_runs`` document of a run, from its Scrapy stats; ``shared``: one worker of a
    crawl shared on Redis (the links it finds may be fetched by the others), ``crawl_id`` that
    crawl's id (the same in every worker's record); ``sites``: the site keys it crawled (default:
    the spider's name); ``backfill``: the window (``since``, ``until``) of a backfill; ``failed``:
    the failed article pages (:class:`~newscrawl.crawl.failures.FailedPages`)."""
    def value(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    def under(prefix: str) -> dict[str, int]:
        return {key[len(prefix):]: int(count) for key, count in stats.items() if key.startswith(prefix)}

    parsed = value(ARTICLES_PARSED)
    layers: dict[str, dict[str, int]] = {}
    for key, count in under(LAYER_PREFIX).items():
        name, _, layer = key.partition("/")
        layers.setdefault(name, {})[layer] = count
    statuses = under(STATUS_COUNT_PREFIX)
    return {
        "_id": uuid.uuid4().hex,
        "spider": spider_name,
        "sites": sites or [spider_name],
        "started_at": started_at,
        "finished_at": finished_at,
        "finish_reason": reason,
        "shared": shared,
        "crawl_id": crawl_id,
        "backfill": backfill,
        "pages": value(RESPONSES_RECEIVED),
        "status_counts": statuses,
        "retries": value(RETRIES),
        "article_responses": value(ARTICLE_RESPONSES),
        "discovered": {
            "entries": value(FEED_ENTRIES) + value(LISTING_LINKS) + value(SITEMAP_ENTRIES),
            "skipped_stored": value(INCREMENTAL_SKIPPED_STORED),
            "refetched_modified": value(INCREMENTAL_REFETCH_MODIFIED),
            "feeds_not_modified": value(FEEDS_NOT_MODIFIED),
        },
        "items": {
            "parsed": parsed,
            "scraped": value(ITEMS_SCRAPED),
            "stored": value(MONGO_INSERTED),
            "updated": value(MONGO_UPDATED),
            "spilled": value(MONGO_SPILLED),
            "quarantined": value(MONGO_QUARANTINED),
            "unsaved": value(MONGO_UNSAVED),
            "dropped": under(DROPPED_REASONS_PREFIX),
            "not_article": value(NOT_ARTICLE),
            "parse_errors": value(PARSE_ERRORS),
        },
        "fill_rate": {name: round(value(FILL_PREFIX + name) / parsed, 4) if parsed else 0.0
                      for name in FILL_FIELDS},
        "layers": layers,
        "generic_share": round(layers.get("body", {}).get("generic", 0) / parsed, 4) if parsed else 0.0,
        "markup_share": {name: round(by_layer.get("html", 0) / parsed, 4) for name, by_layer in layers.items()}
        if parsed else {},
        "blocked": value(BLOCKED),
        # stored articles fetched again (newscrawl.crawl.revisit): due, left, fetched, not_modified, removed, failed
        "revisits": under(REVISIT_PREFIX),
        "errors": value(ERRORS_LOGGED),
        "outcome": crawl_outcome(reason, stats, shared=shared).as_dict(),
        "failed_pages": failed or {"pages": [], "more": 0},
        "alerts": [],
    }


def post_webhook(url: str, alert: Alert, run: dict[str, Any], timeout: float = 10.0) -> bool:
    """POST one alert as JSON; False (logged, without the URL's secrets) when it fails."""
    payload = {"spider": run["spider"], "run_id": run["_id"], "finished_at": run["finished_at"].isoformat(),
               **alert.as_dict()}
    request = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (operator's URL)
            return 200 <= response.status < 300
    except OSError as exc:
        logger.error("webhook to %s failed: %s", urlsplit(url).hostname, exc)
        return False


class RunRecorder:
    """Writes the run record and raises the alerts when the spider closes."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("NEWSCRAWL_RECORD_RUN"):
            raise NotConfigured("not a crawl run (NEWSCRAWL_RECORD_RUN is off)")
        self.crawler = crawler
        settings = crawler.settings
        self.rules = AlertRules(
            fill_thresholds=setting_value("NEWSCRAWL_ALERT_FILL_THRESHOLDS", settings),
            drift_ratio=setting_value("NEWSCRAWL_ALERT_DRIFT_RATIO", settings),
            generic_rise=setting_value("NEWSCRAWL_ALERT_GENERIC_RISE", settings),
            min_items=setting_value("NEWSCRAWL_ALERT_MIN_ITEMS", settings),
            blocked_share=setting_value("NEWSCRAWL_ALERT_BLOCKED_SHARE", settings),
        )
        self.webhook = setting_value("NEWSCRAWL_WEBHOOK_URL", settings)
        self.summary_path = setting_value("NEWSCRAWL_RUN_SUMMARY", settings)
        self.data_dir = data_dir()
        self.started_at = datetime.now(timezone.utc)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        """Scrapy's extension constructor."""
        return cls(crawler)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Build the record, evaluate the alerts, store and announce them."""
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        scheduler = self.crawler.engine.scheduler
        since, until = getattr(spider, "since", None), getattr(spider, "until", None)
        backfill = {"since": since.isoformat(), "until": until.isoformat()} if since and until else None
        failed = FailedPages.of(self.crawler)
        run = run_document(spider.name, stats, self.started_at, datetime.now(timezone.utc), reason,
                           shared=shared_crawl(self.crawler),
                           crawl_id=scheduler.crawl if isinstance(scheduler, SharedScheduler) else None,
                           sites=spider_sites(spider), backfill=backfill, failed=failed.as_dict() if failed else None)
        storage = self.crawler.get_extension(StorageService)
        opened_here = storage is not None and not storage.opened  # no pipeline used storage
        db = storage.database() if storage is not None else None
        runs = db.crawl_runs if db is not None else None
        if runs is not None:
            try:
                load_pending_runs(runs, self.data_dir / "runs")
            except Exception as exc:  # the record must not fail the crawl
                logger.warning("could not load earlier run records: %s", exc)
        history = self._history(runs, spider.name)
        alerts = evaluate(run, history, self.rules)
        run["alerts"] = [alert.as_dict() for alert in alerts]
        for alert in alerts:
            logger.error("ALERT %s [%s]: %s", spider.name, alert.rule, alert.message)
            if self.webhook and not post_webhook(self.webhook, alert, run):
                self.crawler.stats.inc_value(WEBHOOK_FAILED)
        self._store(runs, run)
        if storage is not None and opened_here:
            storage.close()  # opened during spider_closed: its own close hook would not run any more
        if self.summary_path:
            summary = {"run_id": run["_id"], "spider": run["spider"], "alerts": run["alerts"],
                       "errors": run["errors"], "finish_reason": reason, "items": run["items"],
                       "outcome": run["outcome"]}
            Path(self.summary_path).write_text(json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8")

    def _history(self, runs: Any, spider_name: str) -> list[dict[str, Any]]:
        if runs is None:
            return []
        try:
            return list(runs.find({"spider": spider_name}).sort("started_at", -1).limit(HISTORY_RUNS))
        except Exception as exc:  # the record must not fail the crawl
            logger.warning("could not read earlier runs: %s", exc)
            return []

    def _store(self, runs: Any, run: dict[str, Any]) -> None:
        if runs is not None:
            try:
                runs.insert_one(run)
                return
            except Exception as exc:
                logger.warning("could not store the run record: %s", exc)
        fallback = self.data_dir / "runs" / f"{run['_id']}.json"
        try:
            fallback.parent.mkdir(parents=True, exist_ok=True)
            fallback.write_text(to_json_line(run), encoding="utf-8")
        except OSError as exc:
            logger.error("could not keep the run record in %s either: %s", fallback.parent, exc.strerror or exc)
            return
        logger.warning("run record written to %s (database unavailable); the next run or flush-spill loads it", fallback)
