"""Counts the MongoDB commands of a process the tests start, through pymongo's command monitoring.

Python imports ``sitecustomize`` at startup from the first directory on its path that has one, so
a process started with this directory first on ``PYTHONPATH`` and ``MONGOCOUNT_RECORD`` naming a
file registers a :class:`pymongo.monitoring.CommandListener` before any client exists, and writes
at exit, as JSON, how many commands it sent: ``{"total": n, "by_kind": {"find articles url_key": n,
...}}``. A kind is the command, its collection and, for reads and deletes, the fields its filter
names (``_id`` for a key lookup). Any ``sitecustomize`` later on the path is loaded too.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

RECORD_VARIABLE = "MONGOCOUNT_RECORD"


def command_kind(name: str, command: dict[str, Any]) -> str:
    """``"find articles url_key"``: the command, its collection, the fields its filter names."""
    collection = command.get(name)
    parts = [name, collection if isinstance(collection, str) else ""]
    query = command.get("filter") or command.get("query")
    if name == "delete" and command.get("deletes"):
        query = command["deletes"][0].get("q")
    if isinstance(query, dict):
        parts.append(",".join(sorted(query)))
    return " ".join(part for part in parts if part)


def install(record: Path) -> None:
    """Count every command this process sends; write the counts to ``record`` at exit."""
    from pymongo import monitoring

    counts: Counter[str] = Counter()
    lock = threading.Lock()

    class Counting(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            with lock:
                counts[command_kind(event.command_name, event.command)] += 1

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    def write() -> None:
        with lock:
            if not counts:  # a process that never talked to MongoDB (the crawl's parse workers) leaves the record alone
                return
            record.write_text(json.dumps({"total": sum(counts.values()), "by_kind": dict(counts)}), encoding="utf-8")

    monitoring.register(Counting())
    atexit.register(write)


def _load_next_sitecustomize() -> None:
    """Run the ``sitecustomize`` this one shadows, if the path has another."""
    here = Path(__file__).resolve().parent
    for entry in sys.path:
        candidate = Path(entry or ".") / "sitecustomize.py"
        if candidate.is_file() and candidate.resolve().parent != here:
            spec = importlib.util.spec_from_file_location("_mongocount_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                spec.loader.exec_module(importlib.util.module_from_spec(spec))
            return


if os.environ.get(RECORD_VARIABLE):
    install(Path(os.environ[RECORD_VARIABLE]))
_load_next_sitecustomize()
