"""What a database failure means: unreachable, out of disk space, or a duplicate key."""

from __future__ import annotations

import re

from pymongo.errors import PyMongoError

DUPLICATE_KEY = 11000
#: MongoDB's OutOfDiskSpace; other servers say so only in the message (SQLite: "database or disk is full")
OUT_OF_DISK_SPACE = 14031
_FULL_MESSAGE = re.compile(r"disk is full|no space left|out of disk space|quota exceeded", re.I)


class StorageError(RuntimeError):
    """The database cannot be reached or started."""


class StorageFull(StorageError):
    """The database server has no room left to write."""


def is_storage_full(code: int | None, message: str | None) -> bool:
    """Whether a server error (code, message) says its disk is full."""
    return code == OUT_OF_DISK_SPACE or bool(message and _FULL_MESSAGE.search(message))


def is_full_error(error: Exception) -> bool:
    """Whether a raised error says the database server's disk is full."""
    return isinstance(error, StorageFull) or (
        isinstance(error, PyMongoError) and is_storage_full(getattr(error, "code", None), str(error))
    )
