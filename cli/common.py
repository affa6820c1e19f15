"""Pieces shared by the commands: the source path check and opening a database."""

from __future__ import annotations

import os

from .runtime import CommandError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import pybbolt


def os_error_text(e: OSError) -> str:
    """An OS error as Go prints it (lowercase ``strerror``)."""
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]


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


def open_readonly(path: str) -> pybbolt.DB:
    """Open read-only as the tool does (shared lock, waiting for writers)."""
    import pybbolt

    if os.path.isdir(path):
        raise pybbolt.InvalidDatabase()
    try:
        return pybbolt.open(path, readonly=True)
    except OSError as e:
        raise CommandError(f"open {path}: {os_error_text(e)}") from None


def preload_freelist(db: pybbolt.DB) -> None:
    """``PreLoadFreelist``: load (or rebuild) the freelist now, as bbolt's open does.

    A damaged freelist raises :class:`pybbolt.CorruptionError` (bbolt panics).
    """
    with db.view() as tx:
        tx.free_ids()

