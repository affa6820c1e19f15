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
    """The database is closed (also raised by a transaction used after ``db.close()``)."""

    message = "database not open"


class InvalidDatabase(Error):
    """The file is not a bbolt database (no valid meta page)."""

    message = "invalid database"


class InvalidMapping(Error):
    """The file is shorter than its meta page says (bbolt's ``ErrInvalidMapping``)."""

    message = "database isn't correctly mapped"


class VersionMismatch(Error):
    """The file's format version is not bbolt's version 2."""

    message = "version mismatch"


class ChecksumError(Error):
    """A meta page's checksum does not match its content."""

    message = "checksum error"


class Timeout(Error, builtins.TimeoutError):
    """The file lock was not granted within ``timeout`` seconds.

    bbolt's message is ``timeout``; pybbolt's starts with it and goes on with
    the file, the wait and which kind of lock another process holds.
    """

    message = "timeout"


class TxNotWritable(Error):
    """A change was attempted in a read-only transaction."""

    message = "tx not writable"


class TxClosed(Error):
    """The transaction was already committed or rolled back."""

    message = "tx closed"


class DatabaseReadOnly(Error):
    """A write transaction was begun on a database opened with ``readonly=True``."""

    message = "database is in read-only mode"


class FreePagesNotLoaded(Error):
    """The free pages were needed but not loaded (bbolt's ``ErrFreePagesNotLoaded``)."""

    message = "free pages are not pre-loaded"


class BucketNotFound(Error):
    """The bucket does not exist."""

    message = "bucket not found"


class BucketExists(Error):
    """A bucket of that name already exists."""

    message = "bucket already exists"


class BucketNameRequired(Error):
    """A bucket name must not be empty."""

    message = "bucket name required"


class KeyRequired(Error):
    """A key must not be empty."""

    message = "key required"


class KeyTooLarge(Error):
    """A key is longer than 32768 bytes."""

    message = "key too large"


class ValueTooLarge(Error):
    """A value is longer than 2**31 - 2 bytes."""

    message = "value too large"


class MaxSizeReached(Error):
    """The write would grow the file past the database's ``max_size``."""

    message = "database reached maximum size"


class IncompatibleValue(Error):
    """A key names a bucket where a value was expected, or the reverse."""

    message = "incompatible value"


class SameBuckets(Error):
    """The source and destination of a bucket move are the same bucket."""

    message = "the source and target are the same bucket"


class DifferentDB(Error):
    """The source and destination of a bucket move are in different transactions."""

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
        """bbolt's message (the same as ``str(err)``)."""
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


# -- pybbolt's own errors (bbolt has no counterpart, or only a hang) ----------


class InvalidOption(Error, ValueError):
    """An option of :func:`pybbolt.open` (or of a DB attribute) is out of range."""


class NestedWriteTx(Error):
    """A write transaction was begun in a thread that already has one open on
    the same database: it would wait for itself forever."""


class AlreadyOpen(Error):
    """The file is already open for writing in this process: a second writable
    open would wait forever for the lock this process holds."""


class EmptyDatabaseFile(InvalidDatabase):
    """A read-only open met a 0-byte file (bbolt: ``write PATH: bad file descriptor``)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}: the file is empty (0 bytes), not a bbolt database: "
            "open it writable (readonly=False) to create a new database there"
        )
        self.path = path

    @property
    def go_message(self) -> str:
        """What bbolt says for the same file (its read-only open tries to initialise it)."""
        return f"write {self.path}: bad file descriptor"


class FileError(Error, OSError):
    """An operating-system failure on the database file.

    Both a :class:`pybbolt.Error` and an :class:`OSError` (``errno``,
    ``strerror`` and ``filename`` set); a subclass also derives from the
    matching builtin (:class:`FileNotFoundError`, :class:`PermissionError`,
    ...).  The message is Go's: ``open PATH: permission denied``.
    """

    def __init__(self, message: str, errno: int, strerror: str, filename: str) -> None:
        OSError.__init__(self, errno, strerror, filename)
        self._message = message

    def __str__(self) -> str:
        return self._message


class FileNotFound(FileError, FileNotFoundError):
    """The file (or a directory of its path) does not exist (``ENOENT``)."""


class FilePermissionError(FileError, PermissionError):
    """The file may not be opened or locked this way (``EACCES``, ``EPERM``)."""


class FileIsADirectory(FileError, IsADirectoryError):
    """The path names a directory (``EISDIR``)."""


class FileNotADirectory(FileError, NotADirectoryError):
    """A component of the path is not a directory (``ENOTDIR``)."""


class FileExists(FileError, FileExistsError):
    """The file already exists (``EEXIST``)."""


class FileInterrupted(FileError, InterruptedError):
    """A system call was interrupted by a signal (``EINTR``)."""


def require_bytes(value: object, what: str = "key") -> bytes:
    """``value`` as ``bytes`` if it is bytes-like, else a TypeError that says
    what to do (keys, values and bucket names are bytes, not ``str``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return bytes_view(value, what).tobytes()


def bytes_view(value: object, what: str = "value") -> memoryview:
    """A memoryview of bytes-like ``value`` (any buffer: ``mmap`` too), no copy;
    a TypeError that says what to do for anything else."""
    if not isinstance(value, str):
        try:
            return memoryview(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    if isinstance(value, str):
        shown = repr(value) if len(value) <= 40 else "text"
        hint = f": encode it, e.g. {shown}.encode()"
    else:
        hint = ""
    raise TypeError(
        f"{what} must be bytes, bytearray or memoryview, not {type(value).__name__}{hint}")
