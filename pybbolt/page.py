"""Reading pages out of a buffer (the mmap of a file, or an inline bucket).

Every read is bounds-checked against the buffer: a count, offset or page id
that points outside it raises :class:`~pybbolt.errors.CorruptionError`
instead of an IndexError or a read of garbage.  The assertion messages are
bbolt's own (``internal/common/page.go``), so ``check`` can report them as
bbolt's recovered panics.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass

from .errors import CorruptionError
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    FREELIST_PAGE,
    LEAF_ELEMENT,
    LEAF_PAGE,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
)
from .node import Node

# Anything pages are read from: the file mapping, or an inline bucket value.
Data = bytes | bytearray | memoryview | mmap.mmap

VALID_TYPES = frozenset((BRANCH_PAGE, LEAF_PAGE, META_PAGE, FREELIST_PAGE))


@dataclass(frozen=True, slots=True)
class PageHeader:
    """The 16-byte header every page starts with."""

    id: int
    flags: int
    count: int
    overflow: int


def read_header(buf: Data, offset: int) -> PageHeader:
    """The 16-byte page header at ``offset``; raises if it is outside ``buf``."""
    if offset < 0 or offset + PAGE_HEADER_SIZE > len(buf):
        raise CorruptionError(f"page header at offset {offset} is beyond the end of the data")
    return PageHeader(*PAGE_HEADER.unpack_from(buf, offset))


def check_page(header: PageHeader, pgid: int) -> None:
    """bbolt's ``Page.FastCheck``: the page names itself and has one valid type."""
    if header.id != pgid:
        raise CorruptionError(
            f"assertion failed: Page expected to be: {pgid}, but self identifies as {header.id}"
        )
    if header.flags not in VALID_TYPES:
        raise CorruptionError(
            f"assertion failed: page {pgid}: has unexpected type/flags: {header.flags:x}"
        )


def decode(buf: Data, offset: int, header: PageHeader, pgid: int) -> Node:
    """Decode the branch or leaf page whose header is at ``offset``.

    Any other page type raises, as bbolt's cursor panics on it.
    """
    if header.flags == LEAF_PAGE:
        return decode_leaf(buf, offset, header.count, pgid)
    if header.flags == BRANCH_PAGE:
        return decode_branch(buf, offset, header.count, pgid)
    raise CorruptionError(f"invalid page type: {pgid}: {header.flags:x}")


def _elements_end(buf_len: int, offset: int, count: int, pgid: int) -> int:
    start = offset + PAGE_HEADER_SIZE
    end = start + 16 * count
    if end > buf_len:
        raise CorruptionError(
            f"page {pgid}: {count} elements run past the end of the data"
        )
    return start


def decode_leaf(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` leaf elements, their keys and values."""
    size = len(buf)
    start = _elements_end(size, offset, count, pgid)
    elems = LEAF_ELEMENT.iter_unpack(buf[start : start + 16 * count])
    keys: list[bytes] = []
    values: list[bytes] = []
    flags: list[int] = []
    base = start
    for flag, pos, ksize, vsize in elems:
        k = base + pos
        v = k + ksize
        e = v + vsize
        if e > size:
            raise CorruptionError(
                f"page {pgid}: leaf element {len(keys)} points outside the data"
            )
        keys.append(bytes(buf[k:v]))
        values.append(bytes(buf[v:e]))
        flags.append(flag)
        base += 16
    return Node(True, keys, values, flags, [], pgid)


def decode_branch(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` branch elements: keys and child page ids."""
    size = len(buf)
    start = _elements_end(size, offset, count, pgid)
    elems = BRANCH_ELEMENT.iter_unpack(buf[start : start + 16 * count])
    keys: list[bytes] = []
    pgids: list[int] = []
    base = start
    for pos, ksize, child in elems:
        k = base + pos
        e = k + ksize
        if e > size:
            raise CorruptionError(
                f"page {pgid}: branch element {len(keys)} points outside the data"
            )
        keys.append(bytes(buf[k:e]))
        pgids.append(child)
        base += 16
    if count == 0 and start + 16 <= size:
        # bbolt descends into element 0 of a branch even when it has none
        # (a damaged page): keep its child id, past the end of ``keys``.
        pgids.append(BRANCH_ELEMENT.unpack_from(buf, start)[2])
    return Node(False, keys, [], [], pgids, pgid)
