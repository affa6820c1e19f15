"""Bucket statistics (``Bucket.Stats`` of bbolt v1.5.0, FORMAT.md 14).

The pages are read raw, the way bbolt reads them (:class:`~pybbolt.check.PageReader`),
so a damaged file gives bbolt's numbers where bbolt gives numbers, and
raises :class:`~pybbolt.check.BboltPanic` (a :class:`~pybbolt.errors.CorruptionError`)
with bbolt's panic message where bbolt panics.  The walks are iterative and
bounded: pages that loop back on themselves raise instead of recursing for
ever.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, fields
from itertools import repeat
from operator import and_
from typing import TYPE_CHECKING

from .check import BboltPanic, InlinePage, PageReader, has_prefix, keys_equal
from .errors import TxClosed
from .layout import BRANCH_PAGE, BUCKET_LEAF_FLAG, LEAF_PAGE, PAGE_HEADER_SIZE

if TYPE_CHECKING:
    from .bucket import Bucket
    from .tx import Tx

__all__ = ["BucketStats", "bucket_stats", "top_level_stats", "tx_stats"]

_U32 = 0xFFFFFFFF


@dataclass
class BucketStats:
    """bbolt's ``BucketStats``: page, key and byte counts of a bucket and its sub-buckets."""

    # Page count statistics.
    branch_page_n: int = 0  # number of logical branch pages
    branch_overflow_n: int = 0  # number of physical branch overflow pages
    leaf_page_n: int = 0  # number of logical leaf pages
    leaf_overflow_n: int = 0  # number of physical leaf overflow pages

    # Tree statistics.
    key_n: int = 0  # number of keys/value pairs
    depth: int = 0  # number of levels in B+tree

    # Page size utilization.
    branch_alloc: int = 0  # bytes allocated for physical branch pages
    branch_inuse: int = 0  # bytes actually used for branch data
    leaf_alloc: int = 0  # bytes allocated for physical leaf pages
    leaf_inuse: int = 0  # bytes actually used for leaf data

    # Bucket statistics.
    bucket_n: int = 0  # total number of buckets including the top bucket
    inline_bucket_n: int = 0  # total number on inlined buckets
    inline_bucket_inuse: int = 0  # bytes used for inlined buckets (also in leaf_inuse)

    def add(self, other: BucketStats) -> None:
        """bbolt's ``Add``: sum every counter; ``depth`` is the larger of the two."""
        for f in fields(self):
            name = f.name
            if name == "depth":
                self.depth = max(self.depth, other.depth)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))


class _Frame:
    """One bucket whose ``Stats()`` is being computed."""

    __slots__ = ("children", "inline", "pages", "root", "s", "sub")

    def __init__(
        self, root: int, inline: bool, pages: Iterator[tuple[_Page, int, int, int, int]]
    ) -> None:
        self.root = root
        self.inline = inline
        self.pages = pages
        self.s = BucketStats(bucket_n=1, inline_bucket_n=1 if inline else 0)
        self.sub = BucketStats()
        self.children: Iterator[tuple[int, InlinePage | None]] | None = None


# A page as the stats walk sees it: its offset in the file, or an inline page.
_Page = int | InlinePage


def _tree_pages(r: PageReader, root: int) -> Iterator[tuple[_Page, int, int, int, int]]:
    """(offset, flags, count, overflow, depth) of every page of a non-inline bucket."""
    for _, off, flags, count, overflow, ids in r.iter_pages(root):
        yield off, flags, count, overflow, len(ids) - 1


def _inline_page(page: InlinePage) -> Iterator[tuple[_Page, int, int, int, int]]:
    """The one page of an inline bucket (not asserted: bbolt reads it as it is)."""
    _, flags, count, overflow = page.header()
    yield page, flags, count, overflow, 0


def _bucket_values(r: PageReader, off: int, count: int) -> Iterator[tuple[int, InlinePage | None]]:
    """The sub-buckets of a leaf page, opened as ``openBucket`` does: (root, inline page)."""
    base = off + PAGE_HEADER_SIZE
    if base + 16 * count <= r.size:
        # Most leaves hold no sub-bucket: look at all the element flags at once.
        all_flags = struct.unpack_from(f"<{4 * count}I", r.data, base)[0::4]
        if not max(all_flags) or not any(map(and_, all_flags, repeat(BUCKET_LEAF_FLAG))):
            return
    for i in range(count):
        flags, pos, ksize, vsize = r.leaf_element(off, i)
        if flags & BUCKET_LEAF_FLAG:
            e = off + PAGE_HEADER_SIZE + 16 * i
            voff, vlen = r.value(e, pos, ksize, vsize)
            yield r.open_bucket_page(voff, vlen)


def _stats(r: PageReader, root: int, inline: InlinePage | None) -> BucketStats:
    """``Bucket.Stats`` of the bucket with this root (or this inline page), iteratively."""
    ps = r.ps

    def frame(root: int, inline: InlinePage | None) -> _Frame:
        if inline is not None:
            return _Frame(root, True, _inline_page(inline))
        return _Frame(root, False, _tree_pages(r, root))

    frames = [frame(root, inline)]
    active = {root} if inline is None else set()
    while True:
        fr = frames[-1]
        if fr.children is not None:
            nxt = next(fr.children, None)
            if nxt is not None:
                child_root, child_inline = nxt
                if child_inline is None:
                    if child_root in active:
                        raise BboltPanic(
                            f"fatal error: stack overflow: bucket root page {child_root} "
                            "contains itself",
                            raw=True,
                            fatal=True,
                            pgid=child_root,
                        )
                    active.add(child_root)
                frames.append(frame(child_root, child_inline))
                continue
            fr.children = None
        page = next(fr.pages, None)
        if page is not None:
            where, flags, count, overflow, depth = page
            s = fr.s
            if flags == LEAF_PAGE:
                s.key_n += count
                used = PAGE_HEADER_SIZE
                if count:
                    used += 16 * (count - 1)
                    if isinstance(where, InlinePage):
                        _, pos, ksize, vsize = where.leaf_element(count - 1)
                    else:
                        _, pos, ksize, vsize = r.leaf_element(where, count - 1)
                    used += (pos + ksize + vsize) & _U32
                if fr.inline:
                    s.inline_bucket_inuse += used
                else:
                    s.leaf_page_n += 1
                    s.leaf_inuse += used
                    s.leaf_overflow_n += overflow
                    if count and not isinstance(where, InlinePage):
                        fr.children = _bucket_values(r, where, count)
            elif flags == BRANCH_PAGE:
                s.branch_page_n += 1
                used = PAGE_HEADER_SIZE
                if count:
                    used += 16 * (count - 1)
                    if isinstance(where, InlinePage):
                        pos, ksize, _ = where.branch_element(count - 1)
                    else:
                        pos, ksize, _ = r.branch_element(where, count - 1)
                    used += (pos + ksize) & _U32
                s.branch_inuse += used
                s.branch_overflow_n += overflow
            s.depth = max(s.depth, depth + 1)
            continue
        # All pages seen: finish this bucket and hand it to its parent.
        s = fr.s
        s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * ps
        s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * ps
        s.depth += fr.sub.depth
        s.add(fr.sub)
        frames.pop()
        if not fr.inline:
            active.discard(fr.root)
        if not frames:
            return s
        frames[-1].sub.add(s)


def _reader(tx: Tx) -> PageReader:
    if tx.closed:
        raise TxClosed()
    return PageReader(tx._data, tx.page_size)


def bucket_stats(bucket: Bucket) -> BucketStats:
    """bbolt's ``Bucket.Stats``: the bucket's pages and keys, nested buckets included."""
    r = _reader(bucket.tx)
    if not bucket.inline:
        return _stats(r, bucket.root, None)
    # An inline bucket: its one leaf page, as decoded when it was opened.
    node = bucket._root_node()
    n = len(node.keys)
    used = PAGE_HEADER_SIZE + 16 * n + sum(map(len, node.keys)) + sum(map(len, node.values))
    return BucketStats(
        key_n=n, depth=1, bucket_n=1, inline_bucket_n=1, inline_bucket_inuse=used
    )


def top_level_stats(tx: Tx, prefix: bytes = b"") -> tuple[int, BucketStats]:
    """What bbolt's ``stats`` command adds up: the number of top-level buckets whose
    name starts with ``prefix``, and the sum of their ``Stats()``."""
    r = _reader(tx)
    total = BucketStats()
    n = 0
    root = tx.meta.root
    if root == 0:  # bbolt's root bucket then has neither page nor node
        raise BboltPanic(
            "runtime error: invalid memory address or nil pointer dereference", raw=True
        )
    for key, _, _, _ in r.cursor_items(root):
        # tx.ForEach opens every key as a bucket, then the command filters.
        found = r.seek(root, key)
        child: tuple[int, InlinePage | None] | None = None
        if found is not None and keys_equal(key, found[0]) and found[1] & BUCKET_LEAF_FLAG:
            child = r.open_bucket_page(found[2], found[3])
        if not has_prefix(key, prefix):
            continue
        if child is None:
            raise BboltPanic(
                "runtime error: invalid memory address or nil pointer dereference", raw=True
            )
        total.add(_stats(r, child[0], child[1]))
        n += 1
    return n, total


def tx_stats(tx: Tx, prefix: bytes = b"") -> BucketStats:
    """The ``Stats()`` of every top-level bucket whose name starts with ``prefix``,
    added together (what bbolt's ``stats`` command prints)."""
    return top_level_stats(tx, prefix)[1]
