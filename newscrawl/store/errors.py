"""What a database failure means: unreachable, out of disk space, a document it cannot take, or a
duplicate key. The adapter (:mod:`newscrawl.store.mongo`) raises these in place of the driver's
errors, so nothing above it knows the driver."""

from __future__ import annotations

import re

DUPLICATE_KEY = 11000
#: MongoDB's OutOfDiskSpace; other servers say so only in the message (SQLite: "database or disk is full")
OUT_OF_DISK_SPACE = 14031
_FULL_MESSAGE = re.compile(r"disk is full|no space left|out of disk space|quota exceeded", re.I)


class StorageError(RuntimeError):
    """The database cannot be reached or started."""


class StorageFault(StorageError):
    """A storage call failed; ``error`` is the driver's error it stands for (None when the
    storage code found the fault itself)."""

    def __init__(self, error: BaseException | str) -> None:
        super().__init__(str(error))
        self.error = error if isinstance(error, BaseException) else None


class StorageDown(StorageFault):
    """The database server cannot be reached (or stopped answering)."""


class DocumentRefused(StorageFault):
    """The driver cannot encode a document: the fault is the document's, not the server's."""


class StorageFull(StorageFault):
    """The database server has no room left to write."""


class ServerFault(StorageFault):
    """Any other failure of the server."""


def is_storage_full(code: int | None, message: str | None) -> bool:
    """Whether a server error (code, message) says its disk is full."""
    return code == OUT_OF_DISK_SPACE or bool(message and _FULL_MESSAGE.search(message))


def describe(error: BaseException) -> str:
    """One short line naming an error, the driver's for a storage fault that stands for one (never
    a document's text: messages are cut at 300 characters)."""
    if isinstance(error, StorageFault) and error.error is not None:
        error = error.error
    return f"{type(error).__name__}: {str(error)[:300]}"
