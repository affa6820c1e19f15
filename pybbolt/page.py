"""Reading pages out of a buffer (the mmap of a file, or an inline bucket).

Every read is bounds-checked against the buffer: a count, offset or page id
that points outside it raises :class:`~pybbolt.errors.CorruptionError`
instead of an IndexError or a read of garbage.  The assertion messages are
bbolt's own (``internal/common/page.go``), so ``check`` can report them as
bbolt's recovered panics.
"""

from __future__ import annotations

import mmap
from _operator import add  # operator's own, without loading operator.py

from .errors import CorruptionError
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    FREELIST_PAGE,
    LEAF_PAGE,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    element_array,
)
from .node import Node

# Anything pages are read from: the file mapping, or an inline bucket value.
Data = bytes | bytearray | memoryview | mmap.mmap

VALID_TYPES = frozenset((BRANCH_PAGE, LEAF_PAGE, META_PAGE, FREELIST_PAGE))


class PageHeader:
    """The 16-byte header every page starts with (read-only by convention).

    A plain ``__slots__`` class rather than a frozen dataclass: no import of
    ``dataclasses`` at start-up, and a cheaper ``__init__`` (one is built per
    page read).  ``==``, ``hash`` and ``repr`` are as the dataclass gave them.
    """

    __slots__ = ("id", "flags", "count", "overflow")  # noqa: RUF023 (in field order)

    def __init__(self, id: int, flags: int, count: int, overflow: int) -> None:
        self.id = id
        self.flags = flags
        self.count = count
        self.overflow = overflow

    def _fields(self) -> tuple[int, int, int, int]:
        return (self.id, self.flags, self.count, self.overflow)

    def __eq__(self, other: object) -> bool:
        if type(other) is not PageHeader:
            return NotImplemented
        assert isinstance(other, PageHeader)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"PageHeader(id={self.id!r}, flags={self.flags!r}, count={self.count!r}, "
            f"overflow={self.overflow!r})"
        )


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


def _elements_start(buf_len: int, offset: int, count: int, pgid: int) -> int:
    start = offset + PAGE_HEADER_SIZE
    if start + 16 * count > buf_len:
        raise CorruptionError(f"page {pgid}: {count} elements run past the end of the data")
    return start


def _element_fields(buf: Data, start: int, count: int) -> tuple[int, ...]:
    # All of a page's element headers in one call; keys and values are then
    # cut out by C-level maps rather than a Python loop per element.
    return element_array(count).unpack_from(buf, start)


def _sliceable(buf: Data) -> bytes | mmap.mmap:
    """``buf`` as something whose slices are bytes."""
    return buf if isinstance(buf, bytes | mmap.mmap) else bytes(buf)


def decode_leaf(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` leaf elements, their keys and values."""
    data = _sliceable(buf)
    size = len(data)
    start = _elements_start(size, offset, count, pgid)
    fields = _element_fields(data, start, count)
    bases = range(start, start + 16 * count, 16)
    key_starts = list(map(add, bases, fields[1::4]))
    key_ends = list(map(add, key_starts, fields[2::4]))
    value_ends = list(map(add, key_ends, fields[3::4]))
    if count and max(value_ends) > size:
        bad = next(i for i, end in enumerate(value_ends) if end > size)
        raise CorruptionError(f"page {pgid}: leaf element {bad} points outside the data")
    get = data.__getitem__
    keys = list(map(get, map(slice, key_starts, key_ends)))
    values = list(map(get, map(slice, key_ends, value_ends)))
    return Node(True, keys, values, list(fields[0::4]), [], pgid)


def decode_branch(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` branch elements: keys and child page ids."""
    data = _sliceable(buf)
    size = len(data)
    start = _elements_start(size, offset, count, pgid)
    fields = _element_fields(data, start, count)
    bases = range(start, start + 16 * count, 16)
    key_starts = list(map(add, bases, fields[0::4]))
    key_ends = list(map(add, key_starts, fields[1::4]))
    if count and max(key_ends) > size:
        bad = next(i for i, end in enumerate(key_ends) if end > size)
        raise CorruptionError(f"page {pgid}: branch element {bad} points outside the data")
    keys = list(map(data.__getitem__, map(slice, key_starts, key_ends)))
    # A u64 page id spans two u32 fields (little-endian).
    pgids = [lo | hi << 32 for lo, hi in zip(fields[2::4], fields[3::4])]
    if count == 0 and start + 16 <= size:
        # bbolt descends into element 0 of a branch even when it has none
        # (a damaged page): keep its child id, past the end of ``keys``.
        pgids.append(BRANCH_ELEMENT.unpack_from(buf, start)[2])
    return Node(False, keys, [], [], pgids, pgid)
