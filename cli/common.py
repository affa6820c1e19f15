"""Pieces shared by the commands: the source path check and opening a database."""

from __future__ import annotations

import os

from .runtime import CommandError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    import pybbolt

    from .runtime import Invocation


def os_error_text(e: OSError) -> str:
    """An OS error as Go prints it (``permission denied``): pybbolt's table."""
    from pybbolt.oserrors import os_error_text as text

    return text(e)


def check_source_path(path: str) -> os.stat_result:
    """bbolt's ``checkSourceDBPath``: the file must exist and be stat-able."""
    try:
        return os.stat(path)
    except OSError as e:
        from pybbolt.gotext import go_quote_str  # for the messages only

        if isinstance(e, FileNotFoundError):
            raise CommandError(
                f"source database file {go_quote_str(path)} doesn't exist"
            ) from None
        raise CommandError(
            f"failed to open source database file {go_quote_str(path)}: "
            f"stat {path}: {os_error_text(e)}"
        ) from None


def open_readonly(path: str, inv: Invocation | None = None) -> pybbolt.DB:
    """Open read-only as the tool does (shared lock, waiting for writers as
    long as it takes, or for the command's ``--timeout``)."""
    import pybbolt

    if os.path.isdir(path):
        raise pybbolt.InvalidDatabase()
    timeout, on_lock_wait = lock_options(inv)
    try:
        return pybbolt.open(path, readonly=True, timeout=timeout, on_lock_wait=on_lock_wait)
    except pybbolt.EmptyDatabaseFile as e:
        raise CommandError(e.go_message) from None


def lock_options(
    inv: Invocation | None,
) -> tuple[float | None, Callable[[str], None] | None]:
    """``timeout`` and ``on_lock_wait`` of :func:`pybbolt.open`: the command's
    ``--timeout`` (absent: wait as bbolt does) and, on a terminal, a word on
    stderr once the wait passes a second."""
    if inv is None:
        return None, None
    err = inv.err

    def waiting(path: str) -> None:
        err.write(f"waiting for the lock on {path} (another process has it open)...\n"
                  .encode("utf-8", "surrogateescape"))
        err.flush()

    ns = inv.opts.values.get("timeout", 0)
    timeout = ns / 1e9 if isinstance(ns, int) and ns else None
    return timeout, waiting if _isatty(err) else None


def _isatty(stream: BinaryIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def preload_freelist(db: pybbolt.DB) -> None:
    """``PreLoadFreelist``: load (or rebuild) the freelist now, as bbolt's open does.

    A damaged freelist raises :class:`pybbolt.CorruptionError` (bbolt panics).
    """
    with db.view() as tx:
        tx.free_ids()

