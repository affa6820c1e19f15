"""Operating-system errors as Go prints them, and as pybbolt raises them.

The one place that turns an :class:`OSError` into text: Go's syscall error
strings (``permission denied``, lower case, not the C library's
``Permission denied``), used by the library's :class:`~pybbolt.FileError`
messages and by every CLI message that shows an OS failure.
"""

from __future__ import annotations

import errno as _errno
import os

from .errors import (
    FileError,
    FileExists,
    FileInterrupted,
    FileIsADirectory,
    FileNotADirectory,
    FileNotFound,
    FilePermissionError,
)

# Go's syscall error table (syscall/zerrors_linux_*.go) for the errnos a file
# open, lock, map, read, write or sync can meet.
_GO_TEXT = {
    _errno.EPERM: "operation not permitted",
    _errno.ENOENT: "no such file or directory",
    _errno.EINTR: "interrupted system call",
    _errno.EIO: "input/output error",
    _errno.ENXIO: "no such device or address",
    _errno.E2BIG: "argument list too long",
    _errno.EBADF: "bad file descriptor",
    _errno.EAGAIN: "resource temporarily unavailable",
    _errno.ENOMEM: "cannot allocate memory",
    _errno.EACCES: "permission denied",
    _errno.EFAULT: "bad address",
    _errno.EBUSY: "device or resource busy",
    _errno.EEXIST: "file exists",
    _errno.EXDEV: "invalid cross-device link",
    _errno.ENODEV: "no such device",
    _errno.ENOTDIR: "not a directory",
    _errno.EISDIR: "is a directory",
    _errno.EINVAL: "invalid argument",
    _errno.ENFILE: "too many open files in system",
    _errno.EMFILE: "too many open files",
    _errno.ENOTTY: "inappropriate ioctl for device",
    _errno.ETXTBSY: "text file busy",
    _errno.EFBIG: "file too large",
    _errno.ENOSPC: "no space left on device",
    _errno.ESPIPE: "illegal seek",
    _errno.EROFS: "read-only file system",
    _errno.EMLINK: "too many links",
    _errno.EPIPE: "broken pipe",
    _errno.EDEADLK: "resource deadlock avoided",
    _errno.ENAMETOOLONG: "file name too long",
    _errno.ENOLCK: "no locks available",
    _errno.ENOSYS: "function not implemented",
    _errno.ENOTEMPTY: "directory not empty",
    _errno.ELOOP: "too many levels of symbolic links",
    _errno.EOVERFLOW: "value too large for defined data type",
    _errno.EOPNOTSUPP: "operation not supported",
    _errno.ESTALE: "stale file handle",
    _errno.EUCLEAN: "structure needs cleaning",
    _errno.EREMOTEIO: "remote I/O error",
    _errno.EDQUOT: "disk quota exceeded",
    _errno.ENOMEDIUM: "no medium found",
    _errno.ECANCELED: "operation canceled",
}

_CLASSES: dict[int, type[FileError]] = {
    _errno.ENOENT: FileNotFound,
    _errno.EACCES: FilePermissionError,
    _errno.EPERM: FilePermissionError,
    _errno.EISDIR: FileIsADirectory,
    _errno.ENOTDIR: FileNotADirectory,
    _errno.EEXIST: FileExists,
    _errno.EINTR: FileInterrupted,
}


def errno_text(number: int) -> str:
    """Go's ``syscall.Errno(number).Error()`` (``errno N`` when Go has no text)."""
    text = _GO_TEXT.get(number)
    if text is not None:
        return text
    try:
        text = os.strerror(number)
    except ValueError:
        text = ""
    if not text or text.startswith("Unknown error"):
        return f"errno {number}"
    return text[:1].lower() + text[1:]


def os_error_text(e: OSError) -> str:
    """An OS error's own text as Go prints it (``permission denied``)."""
    if e.errno is not None:
        return errno_text(e.errno)
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]


def file_error(op: str, path: str, e: OSError) -> FileError:
    """``e``, met by ``op`` on ``path``, as a :class:`FileError` with Go's
    ``*PathError`` message (``open PATH: permission denied``)."""
    if isinstance(e, FileError):
        return e
    text = os_error_text(e)
    cls = _CLASSES.get(e.errno or 0, FileError)
    error = cls(f"{op} {path}: {text}", e.errno or 0, e.strerror or text, path)
    error.__cause__ = e
    return error
