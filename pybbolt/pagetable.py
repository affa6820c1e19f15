"""The ``pages`` table: every page below the high-water mark, read through a
transaction with the free ids loaded, as bbolt's ``pages`` command lists it.

Apart from :mod:`pybbolt.pagefile` (whose ``page_list`` gives the rows as
objects) so that the command imports nothing but this walk: one row per
page of the file, each a tuple.
"""

from __future__ import annotations

from .layout import PAGE_HEADER, TYPE_NAMES, page_type_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .tx import Tx

__all__ = ["page_rows"]


def page_rows(tx: Tx) -> Iterator[tuple[int, str, int, int]]:
    """Every page below the high-water mark, overflow pages skipped
    (``Tx.Page``), as ``(id, kind, count, overflow)``.

    A free page (on the freelist, or found unreachable when the file has
    none) has the kind ``free``; its own header is not followed.
    """
    free = frozenset(tx.free_ids())
    return _walk_pages(tx, free)


# Pages walked between two notes to the transaction (which bounds the
# resident pages of the mapping): the headers are all the walk reads, but
# each read maps the pages around it too.
_NOTE_EVERY = 4096


def _walk_pages(tx: Tx, free: frozenset[int]) -> Iterator[tuple[int, str, int, int]]:
    hwm = tx.meta.pgid
    ps = tx.page_size
    data = tx._data
    # Beyond the mapping (or a page the transaction wrote) tx.page_header
    # reads the page, or says what is wrong with it.
    inside = 0 if tx.writable else min(hwm, len(data) // ps if ps else 0)
    unpack = PAGE_HEADER.unpack_from
    names = TYPE_NAMES.get
    note = tx._note_reads
    noted = 0
    pgid = 0
    while pgid < hwm:
        if pgid < inside:
            _, flags, count, overflow = unpack(data, pgid * ps)
        else:
            h = tx.page_header(pgid)
            flags, count, overflow = h.flags, h.count, h.overflow
        if pgid in free:
            yield pgid, "free", count, overflow
            pgid += 1
        else:
            yield pgid, names(flags) or page_type_name(flags), count, overflow
            pgid += 1 + overflow
        if pgid - noted >= _NOTE_EVERY:
            note(pgid - noted)
            noted = pgid
