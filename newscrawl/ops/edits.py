"""Stored articles changed after publication: the reads behind ``python -m newscrawl edits`` and the
report's "changed after publication" section.

An edit is a revision (``article_revisions``, see :mod:`newscrawl.store.writer`): the version an
article had before a revisit or a listing found its text changed. The version that replaced it is
the next revision's ``previous``, or the article itself for the newest. Each edit is shown as
the article's ``url`` and ``site``, the new version's ``title`` and number (``revision``), the
``changed_fields``, when the change was seen (``seen_at``), and a word-level ``diff`` of each
changed field. A removal is an article whose page answered 404 or 410 on a revisit
(``removed_at``).

Reads: revisions by ``seen_at`` (index ``seen``), the articles and later revisions of those
found by ``$in`` (articles by ``_id``); removed articles by ``removed_at`` (index ``removed``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from difflib import SequenceMatcher
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from newscrawl.store.edits import EDIT_FIELDS, instant, normalised

#: unchanged words kept on each side of a change in a diff; longer unchanged runs are cut at "…"
CONTEXT = 8
#: the earliest date a query can ask for (every removal is later)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: what an edit shows of a version
VERSION_FIELDS = (*EDIT_FIELDS, "modified_at")
#: revisions read per lookup of their articles
BATCH = 500


def words_of(doc: dict[str, Any], name: str) -> list[str]:
    """The words of field ``name`` of a version, as compared (list fields joined by ``;``)."""
    value = instant(doc.get(name)) if name == "modified_at" else normalised(doc, name)
    text = " ; ".join(value) if isinstance(value, list) else value
    return text.split()


def _shortened(words: list[str], *, first: bool, last: bool) -> str:
    """An unchanged run of words, cut to :data:`CONTEXT` words beside each change."""
    if first and last:
        return " ".join(words)
    if first:
        return " ".join((["…"] if len(words) > CONTEXT else []) + words[-CONTEXT:])
    if last:
        return " ".join(words[:CONTEXT] + (["…"] if len(words) > CONTEXT else []))
    if len(words) <= 2 * CONTEXT:
        return " ".join(words)
    return " ".join([*words[:CONTEXT], "…", *words[-CONTEXT:]])


def word_diff(old: list[str], new: list[str]) -> list[list[str]]:
    """A word-level diff: ``[op, text]`` pairs in reading order, ``op`` one of ``=`` (kept), ``-``
    (removed), ``+`` (added); kept runs cut to :data:`CONTEXT` words beside each change."""
    codes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    diff: list[list[str]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag == "equal":
            diff.append(["=", _shortened(old[i1:i2], first=index == 0, last=index == len(codes) - 1)])
            continue
        if i2 > i1:
            diff.append(["-", " ".join(old[i1:i2])])
        if j2 > j1:
            diff.append(["+", " ".join(new[j1:j2])])
    return diff


def _query(site: str | None, since: datetime | None, date_field: str, **more: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"site": site} if site else {}
    if since is not None:
        query[date_field] = {"$gte": since}
    return {**query, **more}


def find_edits(db: Database[dict[str, Any]], *, site: str | None = None, since: datetime | None = None,
               until: datetime | None = None, field: str | None = None, limit: int = 0) -> Iterator[dict[str, Any]]:
    """The edits seen from ``since`` (to before ``until``), of ``site``, that changed ``field``, newest
    first, at most ``limit`` (0: all); each with its word diffs (see the module docstring)."""
    query = _query(site, since, "seen_at", **({"changed_fields": field} if field else {}))
    if until is not None:
        query.setdefault("seen_at", {})["$lt"] = until
    cursor = db.article_revisions.find(query).sort("seen_at", DESCENDING)
    batch: list[dict[str, Any]] = []
    for revision in cursor.limit(limit) if limit else cursor:
        batch.append(revision)
        if len(batch) == BATCH:
            yield from _edits_of(db, batch)
            batch = []
    yield from _edits_of(db, batch)


def _edits_of(db: Database[dict[str, Any]], revisions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The edits of ``revisions``: their articles and the later revisions of those read by ``$in``."""
    ids = list({revision["article_id"] for revision in revisions})
    if not ids:
        return
    projection = {**dict.fromkeys(VERSION_FIELDS, 1), "url": 1, "site": 1, "revision": 1}
    articles = {doc["_id"]: doc for doc in db.articles.find({"_id": {"$in": ids}}, projection)}
    later = {(doc["article_id"], doc["revision"]): doc["previous"]
             for doc in db.article_revisions.find({"article_id": {"$in": ids}}, {"article_id": 1, "revision": 1, "previous": 1})}
    for revision in revisions:
        article = articles.get(revision["article_id"])
        if article is None:
            continue
        number = int(revision["revision"]) + 1
        new = later.get((revision["article_id"], number), article)
        changed = list(revision.get("changed_fields") or [])
        yield {
            "url": article.get("url"), "site": article.get("site"), "title": new.get("title"), "revision": number,
            "changed_fields": changed, "seen_at": revision.get("seen_at") or revision.get("saved_at"),
            "diff": {name: word_diff(words_of(revision["previous"], name), words_of(new, name)) for name in changed},
        }  # fmt: skip


def find_removed(db: Database[dict[str, Any]], *, site: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 0) -> Iterator[dict[str, Any]]:
    """The articles found removed (404, 410) from ``since`` (to before ``until``), of ``site``,
    newest first, as edits without a diff, with ``removed_at`` and the ``status``."""
    query = _query(site, since or EPOCH, "removed_at")
    if until is not None:
        query["removed_at"]["$lt"] = until
    projection = {"url": 1, "site": 1, "title": 1, "revision": 1, "removed_at": 1, "removed_status": 1}
    cursor = db.articles.find(query, projection).sort("removed_at", DESCENDING)
    for doc in cursor.limit(limit) if limit else cursor:
        yield {"url": doc.get("url"), "site": doc.get("site"), "title": doc.get("title"),
               "revision": int(doc.get("revision") or 1), "changed_fields": [], "seen_at": doc["removed_at"],
               "removed_at": doc["removed_at"], "status": doc.get("removed_status"), "diff": {}}
