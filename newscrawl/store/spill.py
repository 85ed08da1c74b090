"""Where documents go that the database does not take, and how they come back.

- spilled: the database was down or could not take the batch; JSON lines under ``./data/spill/``,
  written on the next start or by ``python -m newscrawl flush-spill`` (:meth:`Spillway.replay`);
- quarantined: the database refused the document itself; under ``./data/quarantine/`` with the
  reason, for the operator;
- unsaved: even the file could not be written (the same full disk); counted
  ``newscrawl/mongo/unsaved``: they are not in the database, so the next run fetches them again.

No database here: a replay is handed the sink's steps (prepare, dedupe check, write).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from newscrawl.stats import MONGO_QUARANTINED, MONGO_SPILLED, MONGO_SPILL_REPLAYED, MONGO_UNSAVED, SPILL_BAD_LINES
from newscrawl.store.dedupe import Decision, Verdict
from newscrawl.store.errors import describe
from newscrawl.store.files import BadLine, JsonLinesFile, QuarantineFile, SpillFile, claim, read_lines, spill_files, to_json_line

logger = logging.getLogger(__name__)

Counter = Callable[[str, int], None]
Document = dict[str, Any]


class Spillway:
    """This process's spill and quarantine files, what could not be set aside, and the replay of
    the spill files of earlier runs."""

    def __init__(self, spill_dir: Path | None, quarantine_dir: Path | None, count: Counter) -> None:
        self.spill_file = SpillFile(spill_dir) if spill_dir else SpillFile()
        self.quarantine_file = QuarantineFile(quarantine_dir) if quarantine_dir else QuarantineFile()
        self.count = count
        #: documents neither stored, quarantined nor spilled (they are fetched again next run)
        self.unsaved = 0

    def spill(self, docs: list[Document]) -> None:
        """Spill ``docs`` to disk; when even that fails, count them unsaved."""
        if docs and self._set_aside(self.spill_file, docs, MONGO_SPILLED):
            logger.warning("spilled %d articles to %s", len(docs), self.spill_file.path)

    def quarantine(self, refused: list[tuple[Document, str]]) -> None:
        """Put refused documents aside with their reasons (counted, one log line each, no text)."""
        if not refused:
            return
        for doc, reason in refused:
            logger.error("quarantined %s: %s", doc.get("url"), reason)
        self._set_aside(self.quarantine_file, refused, MONGO_QUARANTINED)

    def _set_aside(self, file: JsonLinesFile, entries: list[Any], stat: str) -> bool:
        """Write ``entries`` to a spill or quarantine file and count them; when the disk refuses,
        count them unsaved (not stored: the next run fetches them again). Whether they were written."""
        try:
            written = file.write(entries)
        except OSError as exc:
            self.unsaved += len(entries)
            self.count(MONGO_UNSAVED, len(entries))
            logger.error("could not write %d articles to %s (%s); they are not stored and will be fetched "
                         "again on the next run", len(entries), file.directory, exc.strerror or exc)
            return False
        self.count(stat, written)
        return True

    def replay(
        self,
        prepare: Callable[[Document], Document],
        check: Callable[[list[Document]], list[Decision]],
        write: Callable[[list[Document]], bool],
    ) -> int:
        """Write every spill file no other process is still writing: each document prepared, the
        new or changed ones (``check``) written (``write``: True when the database took them);
        quarantine the lines that hold no document; return how many documents were read. Never
        raises: a file that cannot be replayed now stays for the next attempt."""
        total = 0
        for path in spill_files(self.spill_file.directory):
            if path == self.spill_file.path:
                continue
            try:
                with claim(path) as handle:
                    if handle is None:  # still being written, or replayed by another process
                        continue
                    read, done = self._replay(path, handle, prepare, check, write)
            except Exception as exc:  # a fault of this code or of the disk: the file waits
                logger.error("could not replay spill file %s (%s); it is kept", path, describe(exc))
                break
            total += read
            if not done:
                break
        self.count(MONGO_SPILL_REPLAYED, total)
        return total

    def _replay(
        self,
        path: Path,
        handle: BinaryIO,
        prepare: Callable[[Document], Document],
        check: Callable[[list[Document]], list[Decision]],
        write: Callable[[list[Document]], bool],
    ) -> tuple[int, bool]:
        """Write one claimed spill file and remove it; (documents read, whether to go on)."""
        docs: list[Document] = []
        bad: list[BadLine] = []
        for number, entry in read_lines(handle, path.name):
            if isinstance(entry, BadLine):
                bad.append(entry)
                continue
            try:
                docs.append(prepare(entry))
            except Exception as exc:  # an object without an article's fields
                bad.append(BadLine(path.name, number, to_json_line(entry), f"not an article ({describe(exc)})"))
        if bad:
            try:
                self.count(SPILL_BAD_LINES, self.quarantine_file.write(bad))
            except OSError as exc:
                logger.error("could not quarantine the bad lines of %s (%s); the file is kept", path, exc.strerror or exc)
                return len(docs), False
            for line in bad:
                logger.error("quarantined line %d of spill file %s: %s", line.number, path, line.reason)
        unsaved_before = self.unsaved
        kept = [doc for doc, decision in zip(docs, check(docs)) if decision.verdict in (Verdict.NEW, Verdict.UPDATE)]
        written = write(kept)
        if self.unsaved > unsaved_before:  # neither stored nor spilled again: keep the file
            return len(docs), False
        path.unlink()  # written, quarantined, or spilled again into this run's own spill file
        logger.info("replayed spill file %s (%d articles, %d new or changed, %d bad lines quarantined)",
                    path, len(docs), len(kept), len(bad))
        return len(docs), written

    def close(self) -> None:
        """Close this process's files (readers may have them)."""
        self.spill_file.close()
        self.quarantine_file.close()
