"""Pages read straight from a bbolt file, without locking or a transaction.

This is how bbolt's ``page``, ``page-item``, ``dump`` and ``surgery`` tools
look at a file (``internal/guts_cli``): the page size and high-water mark
come from meta page 0 whatever its state, and a page is whatever bytes sit at
``id * page size``.  Errors carry the Go tool's messages.  Nothing here
trusts the file: an element that points outside its page raises
:class:`~pybbolt.errors.CorruptionError` (where bbolt would read foreign
memory or panic).

:func:`page_list` is the odd one out: the ``pages`` table, which bbolt builds
through a read transaction with the freelist loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import layout
from .errors import CorruptionError, Error
from .layout import (
    BRANCH_PAGE,
    BUCKET_HEADER,
    BUCKET_LEAF_FLAG,
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    LEAF_PAGE,
    MAGIC,
    MAX_ALLOC_SIZE,
    META_PAGE,
    META_SIZE,
    PAGE_HEADER_SIZE,
    U64,
    page_type_name,
)
from .meta import Meta
from .oserrors import os_error_text
from .page import ELEMENT_SIZE, PageHeader, element_within, item_spans
from .pagetable import page_rows

if TYPE_CHECKING:
    from .tx import Tx

_META_PROBE = 4096
_INT64_LIMIT = 1 << 63
_U64 = (1 << 64) - 1


class RawPageError(Error):
    """A failure of the raw page reader, with the Go tool's message."""


# --- reading and writing whole pages --------------------------------------


def _go_open_error(path: str, e: OSError) -> RawPageError:
    return RawPageError(f"open {path}: {os_error_text(e)}")


def _read_at(fd: int, size: int, offset: int, path: str) -> bytes:
    """Go's ``File.ReadAt`` of ``size`` bytes: ``EOF`` unless all were read."""
    offset &= _U64
    if offset >= _INT64_LIMIT:
        raise RawPageError(f"readat {path}: negative offset")
    if size == 0:
        return b""
    end = os.fstat(fd).st_size
    if offset + size > end:
        raise RawPageError("EOF")
    try:
        data = os.pread(fd, size, offset)
    except OSError as e:
        raise RawPageError(f"read {path}: {os_error_text(e)}") from None
    if len(data) != size:
        raise RawPageError("EOF")
    return data


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _go_open_error(path, e) from None


def read_meta0_geometry(path: str) -> tuple[int, int]:
    """bbolt's ``ReadPageAndHWMSize``: meta 0's page size and high-water mark.

    Meta 0 is used even when meta 1 is newer or meta 0's checksum is wrong;
    only its magic is checked.
    """
    fd = _open(path)
    try:
        try:
            buf = os.pread(fd, _META_PROBE, 0)
        except OSError as e:
            raise RawPageError(f"read {path}: {os_error_text(e)}") from None
    finally:
        os.close(fd)
    if not buf:
        raise RawPageError("EOF")
    if len(buf) < _META_PROBE:
        raise RawPageError("unexpected EOF")
    meta = Meta.decode(buf)
    if meta.magic != MAGIC:
        raise RawPageError("the Meta Page has wrong (unexpected) magic")
    return meta.page_size, meta.pgid


@dataclass(frozen=True)
class RawPage:
    """A page as read from the file: its header and all of its bytes."""

    pgid: int
    header: PageHeader
    data: bytes

    @property
    def type_name(self) -> str:
        return page_type_name(self.header.flags)


def read_page(path: str, pgid: int) -> RawPage:
    """bbolt's ``guts_cli.ReadPage``: page ``pgid`` with its overflow pages."""
    try:
        page_size, hwm = read_meta0_geometry(path)
    except RawPageError as e:
        raise RawPageError(f"read Page size: {e}") from None
    fd = _open(path)
    try:
        data = _read_at(fd, page_size, pgid * page_size, path)
        header = _header(data)
        if header.id != pgid:
            raise RawPageError(
                f"error: invalid value due to unexpected Page id: {header.id} != {pgid}"
            )
        if header.overflow >= ((hwm & 0xFFFFFFFF) - 3) & 0xFFFFFFFF:
            raise RawPageError(
                f"error: invalid value, Page claims to have {header.overflow} overflow pages "
                f"(>=hwm={hwm}). Interrupting to avoid risky OOM"
            )
        if header.overflow:
            data = _read_at(fd, (header.overflow + 1) * page_size, pgid * page_size, path)
            header = _header(data)
    finally:
        os.close(fd)
    return RawPage(pgid, header, data)


def _header(data: bytes) -> PageHeader:
    if len(data) < PAGE_HEADER_SIZE:
        raise CorruptionError(f"runtime error: index out of range [0] with length {len(data)}")
    h = layout.PageHeader.parse(data[:PAGE_HEADER_SIZE])
    return PageHeader(h.id, h.flags, h.count, h.overflow)


def read_block(path: str, pgid: int, page_size: int) -> bytes:
    """One page-size block at ``pgid * page_size`` (``dump``; overflow not followed)."""
    fd = _open(path)
    try:
        return _read_at(fd, page_size, pgid * page_size, path)
    finally:
        os.close(fd)


def write_page(path: str, data: bytes) -> None:
    """bbolt's ``guts_cli.WritePage``: write a whole page back at its header's id."""
    page_size, _hwm = read_meta0_geometry(path)
    header = _header(data)
    expected = page_size * (header.overflow + 1)
    if expected != len(data):
        raise RawPageError(
            f"WritePage: len(buf):{len(data)} != pageSize*(overflow+1):{expected}"
        )
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _go_open_error(path, e) from None
    try:
        os.pwrite(fd, data, header.id * page_size)
    finally:
        os.close(fd)


def set_page_id(data: bytes, pgid: int) -> bytes:
    """``data`` with the page header's id replaced."""
    return U64.pack(pgid) + data[8:]


# --- decoding a raw page ----------------------------------------------------


@dataclass(frozen=True)
class LeafItem:
    """One leaf element: key, value (a bucket value for bucket entries), flags."""

    key: bytes
    value: bytes
    flags: int
    # The 16 bytes from the start of the value (a bucket header is read there
    # even when the value is shorter), or fewer at the end of the page.
    head: bytes = b""

    @property
    def is_bucket(self) -> bool:
        return bool(self.flags & BUCKET_LEAF_FLAG)


@dataclass(frozen=True)
class BranchItem:
    """One branch element: the first key of the child and its page id."""

    key: bytes
    pgid: int


def _outside(page: RawPage, what: str) -> CorruptionError:
    return CorruptionError(f"page {page.pgid}: {what} lies outside the page")


def _slice_end(j: int) -> None:
    """bbolt slices keys and values as ``(*[maxAllocSize]byte)(elem)[i:j:j]``
    (``UnsafeByteSlice``), counted from the element: an end beyond
    maxAllocSize is Go's bounds panic, whatever the page holds."""
    if j > MAX_ALLOC_SIZE:
        raise CorruptionError(
            f"runtime error: slice bounds out of range [::{j}] with length {MAX_ALLOC_SIZE}"
        )


def leaf_item(page: RawPage, index: int) -> LeafItem:
    """Leaf element ``index`` (no count or type check)."""
    data = page.data
    at = element_within(len(data), 0, index)
    if at is None:
        raise _outside(page, f"leaf element {index}")
    e = layout.LeafElement.parse(data[at : at + ELEMENT_SIZE])
    flags, pos, ksize, vsize = e.flags, e.pos, e.ksize, e.vsize
    # In bbolt's order: slice the key, read it, then slice the value (an
    # empty key or value reads nothing, wherever it points).
    _slice_end(pos + ksize)  # Key()
    start, vstart, end = item_spans(at, pos, ksize, vsize)
    if ksize and vstart > len(data):
        raise _outside(page, f"the key of leaf element {index}")
    _slice_end(pos + ksize + vsize)  # Value()
    if vsize and end > len(data):
        raise _outside(page, f"the value of leaf element {index}")
    head = data[vstart : vstart + BUCKET_HEADER.size]
    return LeafItem(data[start:vstart], data[vstart:end], flags, head)


def leaf_items(page: RawPage) -> Iterator[LeafItem]:
    """The ``count`` leaf elements, one at a time (a damaged one raises when reached)."""
    for i in range(page.header.count):
        yield leaf_item(page, i)


def branch_items(page: RawPage) -> Iterator[BranchItem]:
    """The ``count`` branch elements, one at a time."""
    data = page.data
    for i in range(page.header.count):
        at = element_within(len(data), 0, i)
        if at is None:
            raise _outside(page, f"branch element {i}")
        e = layout.BranchElement.parse(data[at : at + ELEMENT_SIZE])
        _slice_end(e.pos + e.ksize)
        start, end, _ = item_spans(at, e.pos, e.ksize, 0)
        if end > len(data):
            raise _outside(page, f"the key of branch element {i}")
        yield BranchItem(data[start:end], e.pgid)


def bucket_header(item: LeafItem) -> tuple[int, int]:
    """Root page id and sequence of a bucket entry (``<pgid=R,seq=S>``)."""
    if not item.value:
        raise CorruptionError("runtime error: index out of range [0] with length 0")
    if len(item.head) < BUCKET_HEADER.size:
        raise CorruptionError("the bucket header of a leaf element lies outside the page")
    h = layout.BucketHeader.parse(item.head[: BUCKET_HEADER.size])
    return h.root, h.sequence


def page_meta(page: RawPage) -> Meta:
    """The meta structure of a meta page."""
    if len(page.data) < PAGE_HEADER_SIZE + META_SIZE:
        raise _outside(page, "the meta structure")
    return Meta.parse(page.data)


def freelist_ids(page: RawPage) -> list[int]:
    """The ids stored in a freelist page, in stored order (0xFFFF count convention)."""
    data = page.data
    count = page.header.count
    start = PAGE_HEADER_SIZE
    if count == FREELIST_COUNT_OVERFLOW:
        if len(data) < layout.FREELIST_OVERFLOW_DECL.size:
            raise _outside(page, "the freelist count")
        count = layout.FreelistOverflowHeader.parse(data).count
        start = layout.FREELIST_OVERFLOW_DECL.size
    if start + 8 * count > len(data):
        raise _outside(page, f"the {count} freelist ids")
    return list(layout.freelist_page_construct(count).parse(data[start : start + 8 * count]))


def page_item(page: RawPage, index: int) -> LeafItem:
    """The checked lookup of ``page-item``: index below count, then a leaf page."""
    count = page.header.count
    if index >= count:
        raise RawPageError(
            f"leafPageElement: expected item index less than {count}, but got {index}"
        )
    if page.header.flags != LEAF_PAGE:
        raise RawPageError(
            f"leafPageElement: expected page type of 'leaf', but got '{page.type_name}'"
        )
    return leaf_item(page, index)


# --- the pages table --------------------------------------------------------


@dataclass(frozen=True)
class PageInfo:
    """A row of ``bbolt pages``: ``kind`` is the type name or ``free``."""

    id: int
    kind: str
    count: int
    overflow: int


def page_list(tx: Tx) -> Iterator[PageInfo]:
    """Every page below the high-water mark, overflow pages skipped (``Tx.Page``).

    A free page (on the freelist, or found unreachable when the file has
    none) is listed as ``free``; its own header is not followed.
    """
    return (PageInfo(*row) for row in page_rows(tx))


__all__ = [
    "BRANCH_PAGE",
    "FREELIST_PAGE",
    "LEAF_PAGE",
    "META_PAGE",
    "BranchItem",
    "LeafItem",
    "PageInfo",
    "RawPage",
    "RawPageError",
    "branch_items",
    "bucket_header",
    "freelist_ids",
    "leaf_item",
    "leaf_items",
    "page_item",
    "page_list",
    "page_meta",
    "read_block",
    "read_meta0_geometry",
    "read_page",
    "set_page_id",
    "write_page",
]
