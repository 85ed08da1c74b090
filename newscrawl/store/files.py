"""JSON lines on local disk: documents as lines, and the spill and quarantine files.

Documents that cannot be written to the database wait in ``./data/spill/`` until replayed;
documents the database refuses, and spill lines that hold no document, go to
``./data/quarantine/`` with the reason. Every append is durable and all-or-nothing, and a spill
file is replayed only once its writer has closed it (the writer holds a lock on it meanwhile).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from newscrawl.defaults import setting_value
from newscrawl.extract.dates import parse_date_fast

#: fields stored as BSON dates (restored from ISO 8601 strings when a line is read back)
DATE_FIELDS = ("published_at", "modified_at", "fetched_at", "first_seen_at", "updated_at")


def data_dir() -> Path:
    """Where embedded databases, spill files and run files live (``NEWSCRAWL_DATA_DIR``)."""
    return Path(setting_value("NEWSCRAWL_DATA_DIR"))


def to_json_line(doc: dict[str, Any]) -> str:
    """A document as one JSON line (dates ISO 8601, ObjectIds as strings)."""
    return json.dumps(doc, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return str(value)


def from_json_line(line: str) -> Any:
    """A document back from :func:`to_json_line` (dates restored); any other JSON value as it is."""
    doc = json.loads(line)
    if not isinstance(doc, dict):
        return doc
    for name in DATE_FIELDS:
        if isinstance(doc.get(name), str):
            doc[name] = parse_date_fast(doc[name], tz="UTC")
    return doc


def _append_all(handle: BinaryIO, lines: list[str]) -> None:
    """Append ``lines`` to the open ``handle`` durably, all or none (a failed write is cut back off)."""
    data = "".join(lines).encode("utf-8")
    start = handle.seek(0, os.SEEK_END)
    try:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    except OSError:
        handle.truncate(start)
        raise


@dataclass
class JsonLinesFile:
    """A file of this process's JSON lines under ``directory``, named when first written.

    The writer holds an exclusive ``flock`` on its file from the moment the file appears under its
    name until :meth:`close` (or until the process dies: the kernel drops the lock), so a reader
    that takes the same lock (:func:`claim`) never reads a file another process is still writing.
    """

    directory: Path
    path: Path | None = None
    prefix = "lines"
    _handle: BinaryIO | None = field(default=None, repr=False)

    def line(self, entry: Any) -> str:
        """One entry as a JSON line (without its newline)."""
        raise NotImplementedError

    def write(self, entries: Iterable[Any]) -> int:
        """Append ``entries``, all or none; how many. Raises :class:`OSError` (e.g. a full disk)
        with nothing written."""
        lines = [self.line(entry) + "\n" for entry in entries]
        if not lines:
            return 0
        _append_all(self._open(), lines)
        return len(lines)

    def _open(self) -> BinaryIO:
        """This process's file, created and locked on first use: made under a hidden name, locked,
        then renamed, so no reader ever sees it unlocked."""
        if self._handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}-{id(self):x}.jsonl"
            hidden = path.with_name("." + path.name)
            handle = hidden.open("ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
                hidden.rename(path)
            except OSError:
                handle.close()
                hidden.unlink(missing_ok=True)
                raise
            self._handle, self.path = handle, path
        return self._handle

    def close(self) -> None:
        """Close the file and let readers have it; closing twice does nothing."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


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


@dataclass(frozen=True)
class BadLine:
    """A line of a spill file that holds no document: where it was, its text, and why it is bad."""

    source: str
    number: int
    text: str
    reason: str


@dataclass
class QuarantineFile(JsonLinesFile):
    """Documents the database refused, one JSON line each with the reason, under ``./data/quarantine/``.

    A line is ``{"quarantined_at", "reason", "url", "document"}`` for a refused document, and
    ``{"quarantined_at", "reason", "url": null, "source", "line"}`` for a spill file's unreadable
    line (``source`` is ``file:line-number``); written ASCII-escaped so that any text, even what
    made the write fail, survives as it was."""

    directory: Path = field(default_factory=lambda: data_dir() / "quarantine")
    prefix = "quarantine"

    def line(self, entry: tuple[dict[str, Any], str] | BadLine) -> str:
        """One (document, reason), or one bad spill line."""
        now = datetime.now(timezone.utc).isoformat()
        if isinstance(entry, BadLine):
            record: dict[str, Any] = {"quarantined_at": now, "reason": entry.reason, "url": None,
                                      "source": f"{entry.source}:{entry.number}", "line": entry.text}
        else:
            doc, reason = entry
            record = {"quarantined_at": now, "reason": reason, "url": doc.get("url"),
                      "document": {k: v for k, v in doc.items() if k != "_id"}}
        return json.dumps(record, ensure_ascii=True, default=_json_default)


def spill_files(directory: Path | None = None) -> list[Path]:
    """Spill files waiting to be replayed (and any still being written), oldest first."""
    directory = directory or data_dir() / "spill"
    return sorted(directory.glob("spill-*.jsonl")) if directory.is_dir() else []


@contextmanager
def claim(path: Path) -> Iterator[BinaryIO | None]:
    """The spill file at ``path``, open and locked for this reader; None while its writer still
    holds it, or once another reader has replayed and removed it."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle if os.fstat(handle.fileno()).st_nlink else None


def read_lines(handle: BinaryIO, source: str) -> Iterator[tuple[int, dict[str, Any] | BadLine]]:
    """The documents of one spill file with their line numbers, and a :class:`BadLine` for each
    line that holds none (not UTF-8, not JSON, not an object, torn by a crash mid-append)."""
    for number, raw in enumerate(handle, 1):
        if not raw.strip():
            continue
        torn = not raw.endswith(b"\n")
        try:
            doc = from_json_line(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 (byte {exc.start + 1})" + (", the last line, cut short" if torn else "")
        except ValueError as exc:
            reason = f"not JSON ({exc})" + (", the last line, cut short" if torn else "")
        else:
            if isinstance(doc, dict):
                yield number, doc
                continue
            reason = f"not a JSON object but {type(doc).__name__}"
        yield number, BadLine(source, number, raw.decode("utf-8", errors="backslashreplace").rstrip("\n"), reason)


def read_spill(path: Path) -> Iterator[dict[str, Any]]:
    """The documents of one spill file, bad lines left out (for reading a file that is not
    being replayed; replays go through :func:`claim` and :func:`read_lines`)."""
    with path.open("rb") as handle:
        for _, entry in read_lines(handle, path.name):
            if isinstance(entry, dict):
                yield entry
