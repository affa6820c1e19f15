"""The freelist: which page ids are free, and how they are stored on disk.

On disk (FORMAT.md 7) a freelist page lists sorted u64 ids; a count of
0xFFFF in the header means the real count is the first u64.  Files written
with NoFreelistSync have no freelist page: the free ids are then every page
below the high-water mark that no bucket reaches (:func:`rebuild`).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .errors import CorruptionError
from .layout import (
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    PAGE_HEADER_SIZE,
    U64,
    page_type_name,
)
from .page import Data, read_header

if TYPE_CHECKING:
    from .tx import Tx


def read_ids(data: Data, pgid: int, page_size: int) -> list[int]:
    """The ids stored in freelist page ``pgid``, sorted (bbolt sorts on load)."""
    offset = pgid * page_size
    header = read_header(data, offset)
    if header.flags != FREELIST_PAGE:
        raise CorruptionError(
            f"invalid freelist page: {pgid}, page type is {page_type_name(header.flags)}"
        )
    start = offset + PAGE_HEADER_SIZE
    count = header.count
    if count == FREELIST_COUNT_OVERFLOW:
        if start + 8 > len(data):
            raise CorruptionError(f"freelist page {pgid}: count is beyond the end of the file")
        (count,) = U64.unpack_from(data, start)
        start += 8
    end = start + 8 * count
    if end > len(data):
        raise CorruptionError(
            f"freelist page {pgid}: {count} ids run past the end of the file"
        )
    ids = list(struct.unpack_from(f"<{count}Q", data, start))
    ids.sort()
    return ids


def rebuild(tx: Tx) -> list[int]:
    """Free ids of a file without a persisted freelist: the unreachable pages.

    Raises :class:`CorruptionError` with bbolt's ``freepages`` message when
    the walk meets a problem (bbolt panics there).
    """
    from .check import reachable_pages

    seen, problem = reachable_pages(tx)
    if problem is not None:
        raise CorruptionError(f"freepages: failed to get all reachable pages ({problem})")
    return [i for i in range(2, tx.meta.pgid) if i not in seen]
