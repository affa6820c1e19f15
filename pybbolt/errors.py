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


# --- the check's errors, and bbolt's panics -----------------------------------

# The kinds of CheckError.

ALREADY_FREED = "already_freed"
OUT_OF_BOUNDS = "out_of_bounds"
MULTIPLE_REFERENCES = "multiple_references"
REACHABLE_FREED = "reachable_freed"
INVALID_TYPE = "invalid_type"
KEY_ORDER = "key_order"
UNEXPECTED_PAGE_TYPE = "unexpected_page_type"
UNREACHABLE_UNFREED = "unreachable_unfreed"
PAGE_ID_OUT_OF_RANGE = "page_id_out_of_range"
PANIC = "panic"  # bbolt panicked and v1.5.0 recovered: the check's last error
FATAL = "fatal"  # bbolt's process would die here (exit status 2): the check's last error


class CheckError(Error):
    """One problem found by ``Tx.check``; ``str(err)`` is bbolt's message.

    ``kind`` is one of the kind constants above (``ALREADY_FREED``,
    ``KEY_ORDER``, ``PANIC``, ...), ``pgid`` the page the message is about
    (None when it names none), ``stack`` the page ids from the bucket root to
    that page when bbolt prints one, ``key`` the offending key of a key-order
    error.  ``fatal`` is set on the last error of a check that bbolt itself
    would not have survived (its process dies with exit status 2).
    """

    def __init__(
        self,
        message: str,
        kind: str,
        pgid: int | None = None,
        stack: tuple[int, ...] = (),
        key: bytes | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.pgid = pgid
        self.stack = stack
        self.key = key
        self.fatal = fatal

    @property
    def message(self) -> str:  # type: ignore[override]
        return str(self.args[0])

    def __repr__(self) -> str:
        extra = ", fatal=True" if self.fatal else ""
        return f"CheckError({self.message!r}, kind={self.kind!r}, pgid={self.pgid}{extra})"


class BboltPanic(CorruptionError):
    """Damage on which bbolt panics (or dies); the message is bbolt's.

    ``raw`` messages are Go runtime errors and fault reports, printed as they
    are; the others are panic values, which bbolt's check reports prefixed
    with ``panic: `` (:attr:`report`).  ``fatal`` means bbolt cannot recover
    from it at all (a fault, a stack overflow, running out of memory).
    """

    def __init__(
        self, message: str, *, raw: bool = False, fatal: bool = False, pgid: int | None = None
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.fatal = fatal
        self.pgid = pgid

    @property
    def report(self) -> str:
        """The line bbolt's check prints for this panic."""
        text = str(self.args[0])
        return text if self.raw else "panic: " + text

    def as_check_error(self) -> CheckError:
        """The panic as the check's last error (kind ``PANIC`` or ``FATAL``)."""
        return CheckError(
            self.report, FATAL if self.fatal else PANIC, pgid=self.pgid, fatal=self.fatal
        )


def go_runtime_error(message: str) -> BboltPanic:
    """The panic of a Go runtime error (an index or slice out of range)."""
    return BboltPanic("runtime error: " + message, raw=True)


def go_fault(offset: int, size: int, pgid: int | None = None) -> BboltPanic:
    """The fatal fault of a read past the end of the mapping (bbolt's process dies)."""
    what = f"page {pgid} at offset {offset}" if pgid is not None else f"offset {offset}"
    return BboltPanic(
        f"fatal error: fault: read of {what} is beyond the end of the file ({size} bytes)",
        raw=True,
        fatal=True,
        pgid=pgid,
    )


def go_stack(ids: list[int]) -> str:
    """A list of page ids as Go's %v prints a slice."""
    return "[" + " ".join(map(str, ids)) + "]"


def go_stack_overflow(pgid: int, ids: list[int]) -> BboltPanic:
    """The fatal error of a page tree that loops back on itself (Go's stack overflow)."""
    return BboltPanic(
        f"fatal error: stack overflow: page {pgid} is its own descendant "
        f"(stack: {go_stack(ids)})",
        raw=True,
        fatal=True,
        pgid=pgid,
    )
