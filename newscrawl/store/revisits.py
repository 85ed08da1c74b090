"""When a stored article is fetched again, which ones are due, and what a revisit leaves behind.

The policy is a list of ages after an article was first seen (``NEWSCRAWL_REVISIT_AGES``, its
default in docs/SETTINGS.md). A stored article holds ``next_revisit_at``, the first of those moments still
ahead, set when it is stored; a revisit moves it to the next age not yet passed (ages missed
between two runs are covered by one revisit) and removes it after the last. ``0s`` in the list
makes every stored article (not removed) due at once and leaves the schedules as they are;
an empty list turns revisits off.

``next_revisit_at`` is a number, seconds since the epoch (UTC), and the due articles are one
range on its index, sorted by it: nx-27017 answers a range on a date field by reading every
article, a range on a number from the index (see :mod:`newscrawl.store.nx`).

A run revisits at most ``NEWSCRAWL_REVISIT_MAX_PER_RUN`` articles (default :func:`revisit_cap`:
half the requests of the spider's previous run, and at least :data:`MIN_CAP`); the most overdue
go first and the rest wait for the next run.

What a revisit found (:class:`RevisitOutcome`) is written by :meth:`RevisitLog.write`: the next
due time and the page's validators (``http``: ``etag``, ``last_modified``, sent back as a
conditional request), or, for a page that answers 404 or 410, ``removed_at`` (the time it was
seen gone) and ``removed_status``: the article is kept. A changed page is a new version of the
article, stored by the writer with its revision (:mod:`newscrawl.store.writer`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.database import Database

from newscrawl.defaults import default

#: revisits of one run at least, whatever the previous run's size
MIN_CAP = 1000
#: the share of the previous run's requests a run may add as revisits
CAP_SHARE = 0.5
#: HTTP statuses that mean the article is gone
GONE = frozenset({404, 410})
#: what a revisit reads of a due article
DUE_PROJECTION = {"url": 1, "url_key": 1, "first_seen_at": 1, "next_revisit_at": 1, "http": 1}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"(\d+)([smhdw])")


class PolicyError(ValueError):
    """A revisit setting that cannot be used; the message names it."""


def epoch(moment: datetime) -> int:
    """Seconds since the epoch of ``moment`` (a naive one is UTC), rounded up."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    seconds = moment.timestamp()
    return int(seconds) + (seconds > int(seconds))


@dataclass(frozen=True)
class RevisitPolicy:
    """The ages (seconds after first seen) at which a stored article is fetched again."""

    ages: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> RevisitPolicy:
        """The policy of a ``NEWSCRAWL_REVISIT_AGES`` value (``"1h,6h,1d"``; empty: off)."""
        ages = set()
        for part in (text or "").replace(" ", "").split(","):
            if not part:
                continue
            match = _AGE.fullmatch(part.lower())
            if match is None:
                raise PolicyError(f"NEWSCRAWL_REVISIT_AGES={text!r}: {part!r} is not a duration; give ages after "
                                  f"an article was first seen like {default('NEWSCRAWL_REVISIT_AGES')} (units s, m, h, d, w), or nothing")
            ages.add(int(match.group(1)) * _UNITS[match.group(2)])
        return cls(tuple(sorted(ages)))

    @property
    def enabled(self) -> bool:
        """Whether stored articles are revisited at all."""
        return bool(self.ages)

    @property
    def every_article(self) -> bool:
        """``0s``: every stored article is due at once, schedules left as they are."""
        return 0 in self.ages

    def next_due(self, first_seen: datetime, now: datetime) -> int | None:
        """When an article first seen at ``first_seen`` is next due after ``now`` (seconds since the
        epoch); None once every age has passed."""
        start, after = epoch(first_seen), now.timestamp()
        return next((start + age for age in self.ages if age and start + age > after), None)


def parse_cap(value: Any) -> int | None:
    """``NEWSCRAWL_REVISIT_MAX_PER_RUN``: a number of revisits, or None for the default (empty)."""
    if value is None or str(value).strip() == "":
        return None
    try:
        cap = int(str(value).strip())
    except ValueError:
        cap = -1
    if cap < 0:
        raise PolicyError(f"NEWSCRAWL_REVISIT_MAX_PER_RUN={value!r}: give a number of revisits (0 or more), or nothing "
                          f"for half the requests of the spider's previous run (at least {MIN_CAP})")
    return cap


def revisit_problem(ages: str | None, cap: str | None) -> str | None:
    """What is wrong with the revisit settings ``NEWSCRAWL_REVISIT_AGES`` and
    ``NEWSCRAWL_REVISIT_MAX_PER_RUN``, if anything (one line)."""
    try:
        RevisitPolicy.parse(ages)
        parse_cap(cap)
    except PolicyError as exc:
        return str(exc)
    return None


def revisit_cap(db: Database[dict[str, Any]], spider: str, setting: int | None) -> int:
    """The revisits one run of ``spider`` may make: ``setting`` when given, else half the
    requests (pages) of its newest recorded run and at least :data:`MIN_CAP`."""
    if setting is not None:
        return setting
    last = db.crawl_runs.find_one({"spider": spider}, {"pages": 1}, sort=[("started_at", DESCENDING)])
    return max(MIN_CAP, int(CAP_SHARE * int((last or {}).get("pages") or 0)))


@dataclass
class DueArticles:
    """The articles of a site a run revisits, and how many more were due."""

    articles: list[dict[str, Any]]
    left: int = 0


def due_articles(db: Database[dict[str, Any]], site: str, policy: RevisitPolicy, now: datetime,
                 limit: int) -> DueArticles:
    """The articles of ``site`` due at ``now`` (at most ``limit``, most overdue first) with
    :data:`DUE_PROJECTION`. One indexed range on ``next_revisit_at``; with ``0s`` in the policy,
    every article of the site not removed."""
    if not policy.enabled or limit <= 0:
        return DueArticles([])
    if policy.every_article:
        found = [doc for doc in db.articles.find({"site": site}, {**DUE_PROJECTION, "removed_at": 1}).sort("_id", ASCENDING)
                 if doc.get("removed_at") is None]
        return DueArticles(found[:limit], max(0, len(found) - limit))
    due = {"next_revisit_at": {"$lte": now.timestamp()}, "site": site}
    found = list(db.articles.find(due, DUE_PROJECTION).sort("next_revisit_at", ASCENDING).limit(limit + 1))
    if len(found) <= limit:
        return DueArticles(found)
    return DueArticles(found[:limit], len(list(db.articles.find(due, {"_id": 1}))) - limit)


@dataclass(frozen=True)
class RevisitOutcome:
    """What one revisit found: the HTTP status, the page's validators, and the article's next
    due time (``reschedule`` False: left as it is). The article is named by its ``_id``, or by the
    hex string of it a revisit request carries."""

    article_id: ObjectId | str
    status: int
    validators: dict[str, str] | None = None
    next_revisit_at: int | None = None
    reschedule: bool = True

    @property
    def removed(self) -> bool:
        """The page answers that it is gone."""
        return self.status in GONE


@dataclass
class RevisitLog:
    """Revisit outcomes waiting to be written, all in one bulk write."""

    outcomes: list[RevisitOutcome] = field(default_factory=list)

    def add(self, outcome: RevisitOutcome) -> None:
        """Keep ``outcome`` for the next write."""
        self.outcomes.append(outcome)

    def write(self, db: Database[dict[str, Any]]) -> int:
        """Write the outcomes to the articles (one unordered bulk write); how many were written.

        ``removed_at`` is set with ``$currentDate``, which stores a date on every server (a
        ``$set`` of a date stores its text on nx-27017; ServerTraits.set_dates_are_dates)."""
        outcomes, self.outcomes = self.outcomes, []
        updates = [UpdateOne({"_id": ObjectId(outcome.article_id)}, update)
                   for outcome in outcomes if (update := _update(outcome))]
        if updates:
            db.articles.bulk_write(updates, ordered=False)
        return len(updates)


def _update(outcome: RevisitOutcome) -> dict[str, Any]:
    """The update of an article one revisit calls for (empty: none)."""
    if outcome.removed:
        return {"$currentDate": {"removed_at": True}, "$set": {"removed_status": outcome.status},
                "$unset": {"next_revisit_at": ""}}
    update: dict[str, Any] = {}
    if outcome.validators:
        update["$set"] = {"http": outcome.validators}
    if outcome.reschedule and outcome.next_revisit_at is not None:
        update.setdefault("$set", {})["next_revisit_at"] = outcome.next_revisit_at
    elif outcome.reschedule:
        update["$unset"] = {"next_revisit_at": ""}
    return update
