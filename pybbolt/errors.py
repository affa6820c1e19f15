"""Exceptions raised by pybbolt.

Every error bbolt returns has a class here with bbolt's own message, so code
and tools that match on bbolt's wording keep working.  Damage that bbolt
would meet with a panic (or undefined behaviour) is reported as
:class:`CorruptionError`; nothing pybbolt does on bad input escapes as another
exception type.
"""

from __future__ import annotations

import builtins


class Error(Exception):
    """Base class of every error pybbolt raises."""

    message = "bbolt error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message if message is not None else self.message)

    def __str__(self) -> str:
        return str(self.args[0])


class DatabaseNotOpen(Error):
    message = "database not open"


class InvalidDatabase(Error):
    message = "invalid database"


class InvalidMapping(Error):
    message = "database isn't correctly mapped"


class VersionMismatch(Error):
    message = "version mismatch"


class ChecksumError(Error):
    message = "checksum error"


class Timeout(Error, builtins.TimeoutError):
    message = "timeout"


class TxNotWritable(Error):
    message = "tx not writable"


class TxClosed(Error):
    message = "tx closed"


class DatabaseReadOnly(Error):
    message = "database is in read-only mode"


class FreePagesNotLoaded(Error):
    message = "free pages are not pre-loaded"


class BucketNotFound(Error):
    message = "bucket not found"


class BucketExists(Error):
    message = "bucket already exists"


class BucketNameRequired(Error):
    message = "bucket name required"


class KeyRequired(Error):
    message = "key required"


class KeyTooLarge(Error):
    message = "key too large"


class ValueTooLarge(Error):
    message = "value too large"


class MaxSizeReached(Error):
    message = "database reached maximum size"


class IncompatibleValue(Error):
    message = "incompatible value"


class SameBuckets(Error):
    message = "the source and target are the same bucket"


class DifferentDB(Error):
    message = "the source and target buckets are in different database files"


class FileTooSmall(Error):
    """The file is shorter than two pages (bbolt: ``file size too small N``)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file size too small {size}")


class CorruptionError(Error):
    """The file is damaged in a way bbolt would panic on (or read garbage)."""

    message = "database file is corrupt"


class PageError(CorruptionError):
    """A page is damaged: out of the file, of the wrong type, or inconsistent."""

    def __init__(self, pgid: int, problem: str) -> None:
        super().__init__(f"page {pgid}: {problem}")
        self.pgid = pgid
