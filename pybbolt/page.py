"""Reading pages out of a buffer (the mmap of a file, or an inline bucket).

Every read is bounds-checked against the buffer: a count, offset or page id
that points outside it raises :class:`~pybbolt.errors.CorruptionError`
instead of an IndexError or a read of garbage.  The assertion messages are
bbolt's own (``internal/common/page.go``), so ``check`` can report them as
bbolt's recovered panics.
"""

from __future__ import annotations

import mmap
import struct
from operator import add

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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from .node import LeafRun

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


def decode_page(buf: Data, offset: int, pgid: int) -> Node:
    """Check (as :func:`check_page`) and decode page ``pgid`` at ``offset``.

    The read path's entry point: the header's fields are checked as plain
    integers, without building a :class:`PageHeader`.
    """
    ident, flags, count, overflow = PAGE_HEADER.unpack_from(buf, offset)
    if flags == LEAF_PAGE and ident == pgid:
        return decode_leaf(buf, offset, count, pgid)
    header = PageHeader(ident, flags, count, overflow)
    check_page(header, pgid)
    return decode(buf, offset, header, pgid)


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
    flags, keys, values = leaf_run(buf, offset, count, pgid)
    return Node(True, list(keys), list(values), list(flags), [], pgid)


def leaf_page_run(data: bytes | mmap.mmap, offset: int, pgid: int) -> LeafRun | None:
    """The run of leaf page ``pgid`` at ``offset`` if it is one (else None).

    The scans' fast path: the header checked, the element array looked up
    by its bytes and the items cut in one call for a page of a known
    layout; anything else takes the general path.
    """
    if offset + PAGE_HEADER_SIZE > len(data):
        return None
    ident, flags, count, _ = PAGE_HEADER.unpack_from(data, offset)
    if flags != LEAF_PAGE or ident != pgid:
        return None
    start = offset + PAGE_HEADER_SIZE
    layout = _LAYOUTS.get(data[start : start + 16 * count])
    if layout is None or start + layout[0].size > len(data):
        return leaf_run(data, offset, count, pgid)
    codec, item_flags = layout
    items = codec.unpack_from(data, start)
    return item_flags, items[0::2], items[1::2]


def leaf_run(buf: Data, offset: int, count: int, pgid: int) -> LeafRun:
    """The flags, keys and values of ``count`` leaf elements, as sequences."""
    data = _sliceable(buf)
    size = len(data)
    start = _elements_start(size, offset, count, pgid)
    elements = data[start : start + 16 * count]
    layout = _LAYOUTS.get(elements) or _layout(elements, count)
    if layout is not None and start + layout[0].size <= size:
        # One C call cuts every key and value (see _layout).
        codec, item_flags = layout
        items = codec.unpack_from(data, start)
        return item_flags, items[0::2], items[1::2]
    fields = element_array(count).unpack(elements)
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
    return fields[0::4], keys, values


# Leaf element arrays seen so far (their bytes) -> the Struct that cuts all
# the keys and values of a page that has it, and the items' flags (None:
# not contiguous).  Pages of one bucket mostly share a few layouts; the
# bound keeps a file of all-different pages from filling memory.
_LAYOUTS: dict[bytes, tuple[struct.Struct, tuple[int, ...]] | None] = {}
_LAYOUTS_LIMIT = 4096


def _layout(elements: bytes, count: int) -> tuple[struct.Struct, tuple[int, ...]] | None:
    """The Struct that unpacks the keys and values of a leaf, with its flags.

    bbolt writes each key right after the previous value, the first right
    after the element headers, so a page's data is a run of ``ks`` and
    ``vs`` byte strings that one format string describes.  Layouts whose
    data is not one contiguous run (never written by bbolt) get None.
    """
    if elements in _LAYOUTS or not count:
        return _LAYOUTS.get(elements)
    fields = element_array(count).unpack(elements)
    head = 16 * count
    key_sizes, value_sizes = fields[2::4], fields[3::4]
    key_starts = list(map(add, range(0, head, 16), fields[1::4]))
    ends = list(map(add, map(add, key_starts, key_sizes), value_sizes))
    layout = None
    if key_starts[0] >= head and key_starts[1:] == ends[:-1]:
        items = "".join(map("{}s{}s".format, key_sizes, value_sizes))
        layout = struct.Struct(f"<{key_starts[0]}x{items}"), fields[0::4]
    if len(_LAYOUTS) < _LAYOUTS_LIMIT:
        _LAYOUTS[elements] = layout
    return layout


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
