"""JSON lines on local disk: documents as lines, and the spill and quarantine files.

Documents that cannot be written to the database wait in ``./data/spill/`` until replayed;
documents the database refuses go to ``./data/quarantine/`` with the reason. Every append is
durable and all-or-nothing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from newscrawl.extract.dates import parse_date_fast

logger = logging.getLogger(__name__)

#: fields stored as BSON dates (restored from ISO 8601 strings when a line is read back)
DATE_FIELDS = ("published_at", "modified_at", "fetched_at", "first_seen_at", "updated_at")


def data_dir() -> Path:
    """Where embedded databases, spill files and run files live (``NEWSCRAWL_DATA_DIR``, ``./data``)."""
    return Path(os.getenv("NEWSCRAWL_DATA_DIR") or "data")


def to_json_line(doc: dict[str, Any]) -> str:
    """A document as one JSON line (dates ISO 8601, ObjectIds as strings)."""
    return json.dumps(doc, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return str(value)


def from_json_line(line: str) -> dict[str, Any]:
    """A document back from :func:`to_json_line` (dates restored)."""
    doc = json.loads(line)
    for name in DATE_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = parse_date_fast(doc[name], tz="UTC")
    return doc


def _append_all(path: Path, lines: list[str]) -> None:
    """Append ``lines`` to ``path`` durably, all or none (a failed write is cut back off)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(lines).encode("utf-8")
    with path.open("ab") as out:
        start = out.tell()
        try:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        except OSError:
            out.truncate(start)
            raise


@dataclass
class JsonLinesFile:
    """A file of this process's JSON lines under ``directory``, named when first written."""

    directory: Path
    path: Path | None = None
    prefix = "lines"

    def line(self, entry: Any) -> str:
        """One entry as a JSON line (without its newline)."""
        raise NotImplementedError

    def write(self, entries: Iterable[Any]) -> int:
        """Append ``entries``, all or none; how many. Raises :class:`OSError` (e.g. a full disk)
        with nothing written."""
        lines = [self.line(entry) + "\n" for entry in entries]
        if not lines:
            return 0
        if self.path is None:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            self.path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}.jsonl"
        _append_all(self.path, lines)
        return len(lines)


@dataclass
class SpillFile(JsonLinesFile):
    """Documents that could not be written, as JSON lines under ``./data/spill/`` until replayed."""

    directory: Path = field(default_factory=lambda: data_dir() / "spill")
    prefix = "spill"

    def line(self, entry: dict[str, Any]) -> str:
        """The document without ``_id``; text a UTF-8 file cannot hold (a lone surrogate) escaped."""
        doc = {k: v for k, v in entry.items() if k != "_id"}
        line = to_json_line(doc)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:
            line = json.dumps(doc, ensure_ascii=True, default=_json_default)
        return line


@dataclass
class QuarantineFile(JsonLinesFile):
    """Documents the database refused, one JSON line each with the reason, under ``./data/quarantine/``.

    A line is ``{"quarantined_at", "reason", "url", "document"}``, written ASCII-escaped so that
    any text, even what made the write fail, survives as it was."""

    directory: Path = field(default_factory=lambda: data_dir() / "quarantine")
    prefix = "quarantine"

    def line(self, entry: tuple[dict[str, Any], str]) -> str:
        """One (document, reason)."""
        doc, reason = entry
        return json.dumps({"quarantined_at": datetime.now(timezone.utc).isoformat(), "reason": reason,
                           "url": doc.get("url"), "document": {k: v for k, v in doc.items() if k != "_id"}},
                          ensure_ascii=True, default=_json_default)


def spill_files(directory: Path | None = None) -> list[Path]:
    """Spill files waiting to be replayed, oldest first."""
    directory = directory or data_dir() / "spill"
    return sorted(directory.glob("spill-*.jsonl")) if directory.is_dir() else []


def read_spill(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of one spill file (a torn last line from a crash is skipped)."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                yield from_json_line(line)
            except ValueError:
                logger.warning("skipping unreadable line %d of %s", number, path)
