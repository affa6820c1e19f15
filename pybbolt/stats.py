"""Bucket statistics (``Bucket.Stats`` of bbolt v1.5.0, docs/FORMAT.md §14).

The pages are read raw, the way bbolt reads them (:class:`~pybbolt.page.PageReader`),
so a damaged file gives bbolt's numbers where bbolt gives numbers, and
raises :class:`~pybbolt.errors.BboltPanic` (a :class:`~pybbolt.errors.CorruptionError`)
with bbolt's panic message where bbolt panics.  The walks are iterative and
bounded: pages that loop back on themselves raise instead of recursing for
ever.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from itertools import repeat
from operator import add, and_, mul
from typing import TYPE_CHECKING, cast

from .errors import BboltPanic, TxClosed
from .fastpath import (
    Bail,
    batch_pages,
    element_codecs,
    fixed_layout,
    page_headers,
    uniform_leaves,
)
from .layout import (
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    LEAF_ELEMENT,
    LEAF_PAGE,
    PAGE_HEADER_SIZE,
    element_array,
)
from .page import InlinePage, PageReader, has_prefix, keys_equal

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
        all_flags = element_array(count).unpack_from(r.data, base)[0::4]
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
    if inline is None:
        fast = _intact_stats(r, root)
        if fast is not None:
            return fast
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


# --- the fast path: an intact tree, all the children of a branch at once -----

_TAIL = struct.Struct("<4xIII")  # (pos, ksize, vsize) of a leaf element
_BRANCH_TAIL = struct.Struct("<II")  # (pos, ksize) of a branch element
# Bytes whose lowest bit is clear: deleting them from the low bytes of the
# element flags leaves something only where a bucket element is.
_NO_BUCKET_FLAG = bytes(range(0, 256, 2))
# Nested buckets deeper than this take the exact walk.
_MAX_NESTING = 128


class _Walk:
    """What the fast stats walk shares across the buckets it visits."""

    __slots__ = ("active", "left", "r")

    def __init__(self, r: PageReader) -> None:
        self.r = r
        self.left = r.npages + 1  # page visits before the walk gives up
        self.active: set[int] = set()


def _intact_stats(r: PageReader, root: int) -> BucketStats | None:
    """``Stats`` of the bucket rooted at page ``root`` with whole-page operations,
    or None when its tree (or a nested bucket's) is not plainly intact: then the
    exact walk runs and raises where bbolt panics.  The numbers do not depend on
    the order pages are visited in, which lets each branch's children be read at
    once."""
    walk = _Walk(r)
    try:
        s = _intact_bucket(walk, root)
    except (Bail, struct.error, BboltPanic):
        return None
    r.tick(r.npages + 1 - walk.left, read=False)  # noted batch by batch
    return s


def _intact_bucket(walk: _Walk, root: int) -> BucketStats:
    r = walk.r
    data = r.data
    size = r.size
    ps = r.ps
    if root >= r.npages or root in walk.active or len(walk.active) >= _MAX_NESTING:
        raise Bail
    walk.active.add(root)
    s = BucketStats(bucket_n=1)
    sub = BucketStats()
    batch = batch_pages(ps)

    # Pages of one depth, then branch pages whose children are still to
    # visit: (offset, count, depth of the children).
    pages: list[int] = [root]
    pending: list[int] = []
    depth = 0
    stack: list[tuple[int, int, int]] = []
    most = (ps - PAGE_HEADER_SIZE) // 16  # children bbolt puts on a branch page
    while True:
        n = len(pages)
        walk.left -= n
        r.note_reads(n)
        if walk.left < 0 or max(pages) >= r.npages:
            raise Bail
        uniform = uniform_leaves(data, ps, pages, False) if n > 1 else None
        if uniform is not None:
            # Leaves of one count with fixed-size keys and values, no bucket element.
            _, count, ksize, vsize = uniform
            s.key_n += n * count
            s.leaf_page_n += n
            s.leaf_inuse += n * (PAGE_HEADER_SIZE + count * (16 + ksize + vsize))
        else:
            offs, flags, counts, overflows = page_headers(data, ps, pages)
            # The last element of each page (past the end of an empty one's header).
            lasts = list(map(add, offs, map(mul, counts, repeat(16))))
            if max(lasts) + 16 > size:
                raise Bail
            if flags.count(LEAF_PAGE) == n:
                _intact_leaves(walk, s, sub, offs, counts, lasts)
                s.leaf_overflow_n += sum(overflows)
            elif flags.count(BRANCH_PAGE) == n:
                s.branch_page_n += n
                s.branch_overflow_n += sum(overflows)
                s.branch_inuse += PAGE_HEADER_SIZE * n
                full = [i for i in range(n) if counts[i]] if 0 in counts else range(n)
                if full:
                    at = map(lasts.__getitem__, full)
                    tails = map(_BRANCH_TAIL.unpack_from, repeat(data), at)
                    s.branch_inuse += 16 * (sum(counts) - len(full)) + sum(
                        map(and_, map(sum, tails), repeat(_U32))
                    )
                stack += zip(offs, counts, repeat(depth + 1))
            else:
                raise Bail
        s.depth = max(s.depth, depth + 1)
        # The children of the next branch pages of one depth, at most a batch
        # at a time (one branch may have more).
        while stack and not pending:
            depth = stack[-1][2]
            while stack and stack[-1][2] == depth and len(pending) < batch:
                off, count, _ = stack.pop()
                if count > most:
                    raise Bail
                if count:
                    fields = element_codecs((count,))(count).unpack_from(data, off + 16)
                    if any(fields[3::4]):
                        raise Bail
                    pending += fields[2::4]
        if not pending:
            break
        pages, pending = pending[:batch], pending[batch:]
    walk.active.discard(root)
    s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * ps
    s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * ps
    s.depth += sub.depth
    s.add(sub)
    return s


def _intact_leaves(
    walk: _Walk,
    s: BucketStats,
    sub: BucketStats,
    offs: list[int],
    counts: tuple[int, ...],
    lasts: list[int],
) -> None:
    """Add the leaves at ``offs`` to ``s``, and their nested buckets to ``sub``.

    ``lasts`` are the offsets of their last elements (inside the file)."""
    r = walk.r
    data = r.data
    n = len(offs)
    keys = sum(counts)
    s.key_n += keys
    s.leaf_page_n += n
    s.leaf_inuse += PAGE_HEADER_SIZE * n
    if not keys:
        return
    c = counts[0]
    _, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(data, offs[0] + PAGE_HEADER_SIZE)
    if (
        0 not in counts
        and pos == 16 * c
        and max(counts) * (16 + ksize + vsize) <= r.ps - PAGE_HEADER_SIZE
    ):
        # Laid out as bbolt writes fixed-size keys and values, no bucket
        # element?  Then each leaf uses 16 + count * (16 + ksize + vsize).
        layouts = fixed_layout(ksize, vsize, counts)
        getitem = cast("Callable[[slice], bytes]", data.__getitem__)
        first = offs[0] + PAGE_HEADER_SIZE
        if getitem(slice(first, lasts[0] + 16)) == layouts[c].array:  # else not worth trying
            bases = map(add, offs, repeat(PAGE_HEADER_SIZE))
            found = list(map(getitem, map(slice, bases, map(add, lasts, repeat(16)))))
            if found == [layouts[c].array for c in counts]:
                s.leaf_inuse += (16 + ksize + vsize) * keys
                return
    full: Sequence[int] = range(n) if 0 not in counts else [i for i in range(n) if counts[i]]
    if len(full) < n:
        lasts = list(map(lasts.__getitem__, full))
    used = list(map(sum, map(_TAIL.unpack_from, repeat(data), lasts)))
    s.leaf_inuse += 16 * (keys - len(full)) + sum(
        used if max(used) <= _U32 else map(and_, used, repeat(_U32))
    )
    starts = map(add, map(offs.__getitem__, full), repeat(PAGE_HEADER_SIZE))
    getitem = cast("Callable[[slice], bytes]", data.__getitem__)
    # The low byte of every element's flags.
    low = b"".join(map(getitem, map(slice, starts, map(add, lasts, repeat(16)), repeat(16))))
    if not low.translate(None, _NO_BUCKET_FLAG):
        return
    for i in full:
        off = offs[i]
        for j in range(counts[i]):
            flags, pos, ksize, vsize = r.leaf_element(off, j)
            if flags & BUCKET_LEAF_FLAG:
                e = off + PAGE_HEADER_SIZE + 16 * j
                root, inline = r.open_bucket_page(*r.value(e, pos, ksize, vsize))
                if inline is not None:
                    sub.add(_stats(r, 0, inline))
                else:
                    sub.add(_intact_bucket(walk, root))


def _reader(tx: Tx) -> PageReader:
    if tx.closed:
        raise TxClosed()
    return PageReader(tx._data, tx.page_size, tx._note_reads)


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
