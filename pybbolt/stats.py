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
from itertools import chain, compress, repeat
from operator import add, and_, le, mul, not_

from .errors import BboltPanic, Error, TxClosed
from .fastpath import (
    Bail,
    batch_pages,
    element_codecs,
    fixed_layout,
    page_headers,
    uniform_leaves,
    without_gc,
)
from .layout import (
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    LEAF_ELEMENT,
    LEAF_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    U64,
    element_array,
)
from .page import PAGE_MAX_ALLOC, InlinePage, PageReader, has_prefix, keys_equal
from .record import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from typing import Any, ClassVar

    from .bucket import Bucket
    from .tx import Tx

__all__ = ["BucketStats", "bucket_stats", "top_level_stats", "tx_stats"]

_U32 = 0xFFFFFFFF


_STAT_FIELDS = (
    # Page count statistics.
    "branch_page_n",  # number of logical branch pages
    "branch_overflow_n",  # number of physical branch overflow pages
    "leaf_page_n",  # number of logical leaf pages
    "leaf_overflow_n",  # number of physical leaf overflow pages
    # Tree statistics.
    "key_n",  # number of keys/value pairs
    "depth",  # number of levels in B+tree
    # Page size utilization.
    "branch_alloc",  # bytes allocated for physical branch pages
    "branch_inuse",  # bytes actually used for branch data
    "leaf_alloc",  # bytes allocated for physical leaf pages
    "leaf_inuse",  # bytes actually used for leaf data
    # Bucket statistics.
    "bucket_n",  # total number of buckets including the top bucket
    "inline_bucket_n",  # total number on inlined buckets
    "inline_bucket_inuse",  # bytes used for inlined buckets (also in leaf_inuse)
)


class BucketStats(Record):
    """bbolt's ``BucketStats``: page, key and byte counts of a bucket and its
    sub-buckets (a record :mod:`dataclasses` accepts, see :mod:`pybbolt.record`)."""

    __slots__ = _STAT_FIELDS
    __match_args__ = (
        "branch_page_n", "branch_overflow_n", "leaf_page_n", "leaf_overflow_n", "key_n",
        "depth", "branch_alloc", "branch_inuse", "leaf_alloc", "leaf_inuse", "bucket_n",
        "inline_bucket_n", "inline_bucket_inuse",
    )
    _FIELDS: ClassVar[dict[str, Any]] = dict.fromkeys(_STAT_FIELDS, 0)

    def __init__(
        self,
        branch_page_n: int = 0,
        branch_overflow_n: int = 0,
        leaf_page_n: int = 0,
        leaf_overflow_n: int = 0,
        key_n: int = 0,
        depth: int = 0,
        branch_alloc: int = 0,
        branch_inuse: int = 0,
        leaf_alloc: int = 0,
        leaf_inuse: int = 0,
        bucket_n: int = 0,
        inline_bucket_n: int = 0,
        inline_bucket_inuse: int = 0,
    ) -> None:
        self.branch_page_n = branch_page_n
        self.branch_overflow_n = branch_overflow_n
        self.leaf_page_n = leaf_page_n
        self.leaf_overflow_n = leaf_overflow_n
        self.key_n = key_n
        self.depth = depth
        self.branch_alloc = branch_alloc
        self.branch_inuse = branch_inuse
        self.leaf_alloc = leaf_alloc
        self.leaf_inuse = leaf_inuse
        self.bucket_n = bucket_n
        self.inline_bucket_n = inline_bucket_n
        self.inline_bucket_inuse = inline_bucket_inuse

    def add(self, other: BucketStats) -> None:
        """bbolt's ``Add``: sum every counter; ``depth`` is the larger of the two."""
        for name in _STAT_FIELDS:
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


# --- the fast path: intact trees, many pages and buckets at once ---------------

_TAIL = struct.Struct("<4xIII")  # (pos, ksize, vsize) of a leaf element
_BRANCH_TAIL = struct.Struct("<II")  # (pos, ksize) of a branch element
# The low byte of an element's flags -> 1 for a bucket element, else 0.
_BUCKET_BIT = bytes(b & BUCKET_LEAF_FLAG for b in range(256))


class _Forest:
    """The fast stats walk of many buckets at once: their pages a batch at a
    time whatever bucket they belong to, and the nested buckets met in a batch
    opened together (containerd's files hold tens of thousands of small ones).

    Every counter but the depth is a sum over the buckets' pages, so one
    :class:`BucketStats` adds them all up; a bucket's depth is its tree's plus
    the deepest of its sub-buckets', so each bucket keeps its parent and its
    tree's depth.  Every page may be visited once only: an intact file
    references each page once, and anything else takes the exact walk.
    """

    __slots__ = ("inline_parents", "own", "parent", "q_bucket", "q_depth", "q_ids", "r",
                 "s", "seen")

    def __init__(self, r: PageReader) -> None:
        self.r = r
        self.s = BucketStats()
        self.seen = bytearray(r.npages)
        self.parent: list[int] = []  # of each non-inline bucket (-1: a top-level one)
        self.own: list[int] = []  # the depth of each non-inline bucket's tree
        self.inline_parents: list[int] = []
        # Pages to visit: id, bucket, depth in the bucket's tree.
        self.q_ids: list[int] = []
        self.q_bucket: list[int] = []
        self.q_depth: list[int] = []

    def add_roots(self, roots: Iterable[int], parents: Iterable[int]) -> None:
        """Non-inline buckets with these root pages, sub-buckets of ``parents``."""
        first = len(self.parent)
        self.q_ids += roots
        self.parent += parents
        new = len(self.parent) - first
        self.q_bucket += range(first, first + new)
        self.q_depth += repeat(0, new)
        self.own += repeat(0, new)

    def run(self) -> BucketStats:
        """Visit every page queued; the sum of the buckets' statistics."""
        r = self.r
        ps = r.ps
        batch = batch_pages(ps)
        at = 0
        while at < len(self.q_ids):
            ids = self.q_ids[at : at + batch]
            self._pages(ids, self.q_bucket[at : at + batch], self.q_depth[at : at + batch])
            at += len(ids)
        r.tick(at, read=False)  # noted batch by batch
        s = self.s
        s.bucket_n += len(self.parent)
        s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * ps
        s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * ps
        # Children come after their parents: fold the depths from the last.
        sub = [0] * len(self.parent)
        for p in self.inline_parents:
            if p >= 0:
                sub[p] = 1
        depth = 1 if -1 in self.inline_parents else 0
        own, parent = self.own, self.parent
        for i in range(len(parent) - 1, -1, -1):
            d = own[i] + sub[i]
            p = parent[i]
            if p < 0:
                depth = max(depth, d)
            elif d > sub[p]:
                sub[p] = d
        s.depth = depth
        return s

    def _pages(self, ids: list[int], buckets: list[int], depths: list[int]) -> None:
        r = self.r
        data = r.data
        ps = r.ps
        n = len(ids)
        seen = self.seen
        if max(ids) >= r.npages or any(map(seen.__getitem__, ids)):
            raise Bail
        any(map(seen.__setitem__, ids, repeat(1)))  # consumed in C; each call returns None
        if n > 1 and len(set(ids)) != n:
            raise Bail
        r.note_reads(n)
        own = self.own
        b = buckets[0]
        if buckets.count(b) == n:  # the pages of one bucket (a big tree's)
            own[b] = max(own[b], max(depths) + 1)
        else:
            for b, d in zip(buckets, depths):
                if d >= own[b]:
                    own[b] = d + 1
        s = self.s
        uniform = uniform_leaves(data, ps, ids, False) if n > 1 else None
        if uniform is not None:
            # Leaves of one count with fixed-size keys and values, no bucket element.
            _, count, ksize, vsize = uniform
            s.key_n += n * count
            s.leaf_page_n += n
            s.leaf_inuse += n * (PAGE_HEADER_SIZE + count * (16 + ksize + vsize))
            return
        offs, flags, counts, overflows = page_headers(data, ps, ids)
        # The last element of each page (past the end of an empty one's header).
        lasts = list(map(add, offs, map(mul, counts, repeat(16))))
        if max(lasts) + 16 > r.size:
            raise Bail
        leaves = flags.count(LEAF_PAGE)
        if leaves == n:
            self._leaves(offs, counts, lasts, buckets)
            s.leaf_overflow_n += sum(overflows)
            return
        if flags.count(BRANCH_PAGE) + leaves != n:
            raise Bail
        if leaves:
            is_leaf = list(map((LEAF_PAGE).__eq__, flags))
            self._leaves(
                list(compress(offs, is_leaf)),
                tuple(compress(counts, is_leaf)),
                list(compress(lasts, is_leaf)),
                list(compress(buckets, is_leaf)),
            )
            s.leaf_overflow_n += sum(compress(overflows, is_leaf))
            is_branch = list(map(not_, is_leaf))
            offs = list(compress(offs, is_branch))
            counts = tuple(compress(counts, is_branch))
            lasts = list(compress(lasts, is_branch))
            overflows = tuple(compress(overflows, is_branch))
            buckets = list(compress(buckets, is_branch))
            depths = list(compress(depths, is_branch))
        self._branches(offs, counts, lasts, overflows, buckets, depths)

    def _branches(
        self,
        offs: list[int],
        counts: tuple[int, ...],
        lasts: list[int],
        overflows: tuple[int, ...],
        buckets: list[int],
        depths: list[int],
    ) -> None:
        data = self.r.data
        s = self.s
        n = len(offs)
        s.branch_page_n += n
        s.branch_overflow_n += sum(overflows)
        s.branch_inuse += PAGE_HEADER_SIZE * n
        full = [i for i in range(n) if counts[i]] if 0 in counts else range(n)
        if not full:
            return
        at = map(lasts.__getitem__, full)
        tails = map(_BRANCH_TAIL.unpack_from, repeat(data), at)
        s.branch_inuse += 16 * (sum(counts) - len(full)) + sum(
            map(and_, map(sum, tails), repeat(_U32))
        )
        most = (self.r.ps - PAGE_HEADER_SIZE) // 16  # children bbolt puts on a branch page
        if max(counts) > most:
            raise Bail
        codec = element_codecs(counts)
        for i in full:
            count = counts[i]
            fields = codec(count).unpack_from(data, offs[i] + PAGE_HEADER_SIZE)
            if any(fields[3::4]):
                raise Bail  # a child id of 2**32 or more
            self.q_ids += fields[2::4]
            self.q_bucket += repeat(buckets[i], count)
            self.q_depth += repeat(depths[i] + 1, count)

    def _leaves(
        self, offs: list[int], counts: tuple[int, ...], lasts: list[int], buckets: list[int]
    ) -> None:
        """Add the leaves at ``offs`` (of ``buckets``) and open their nested buckets.

        ``lasts`` are the offsets of their last elements (inside the file)."""
        r = self.r
        data = r.data
        s = self.s
        n = len(offs)
        keys = sum(counts)
        s.key_n += keys
        s.leaf_page_n += n
        s.leaf_inuse += PAGE_HEADER_SIZE * n
        if not keys:
            return
        c = counts[0]
        _, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(data, offs[0] + PAGE_HEADER_SIZE)
        getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
        if (
            0 not in counts
            and pos == 16 * c
            and max(counts) * (16 + ksize + vsize) <= r.ps - PAGE_HEADER_SIZE
        ):
            # Laid out as bbolt writes fixed-size keys and values, no bucket
            # element?  Then each leaf uses 16 + count * (16 + ksize + vsize).
            first = offs[0] + PAGE_HEADER_SIZE
            array = fixed_layout(ksize, vsize, (c,))[c].array
            if getitem(slice(first, lasts[0] + 16)) == array:  # else not worth trying
                layouts = fixed_layout(ksize, vsize, counts)
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
        starts = list(map(add, map(offs.__getitem__, full), repeat(PAGE_HEADER_SIZE)))
        stops = list(map(add, lasts, repeat(16)))
        # The low byte of every element's flags, reduced to its bucket bit.
        low = b"".join(map(getitem, map(slice, starts, stops, repeat(16))))
        bits = low.translate(_BUCKET_BIT)
        if 1 not in bits:
            return
        # The value spans of the bucket elements, all at once.
        elements = list(compress(chain.from_iterable(map(range, starts, stops, repeat(16))), bits))
        owners = map(repeat, map(buckets.__getitem__, full), map(counts.__getitem__, full))
        parents = list(compress(chain.from_iterable(owners), bits))
        fields = list(chain.from_iterable(map(_TAIL.unpack_from, repeat(data), elements)))
        key_ends = list(map(add, fields[0::3], fields[1::3]))
        vlens = fields[2::3]
        if max(map(add, key_ends, vlens)) > PAGE_MAX_ALLOC:
            raise Bail
        voffs = list(map(add, elements, key_ends))
        self.open(voffs, vlens, parents)

    def open(self, voffs: list[int], vlens: list[int], parents: list[int]) -> None:
        """Open the bucket values at ``voffs`` (``vlens`` bytes long) of buckets
        ``parents``: queue the roots of the non-inline ones, add up the inline ones."""
        if not voffs:
            return
        data = self.r.data
        if min(vlens) < 16 or max(map(add, voffs, vlens)) > self.r.size:
            raise Bail
        roots = list(chain.from_iterable(map(U64.unpack_from, repeat(data), voffs)))
        if all(roots):
            self.add_roots(roots, parents)
            return
        self.add_roots(compress(roots, roots), compress(parents, roots))
        inline = list(map(not_, roots))
        # An inline page read where it is: its header and elements inside the value.
        pages = list(map(add, compress(voffs, inline), repeat(16)))
        sizes = list(compress(vlens, inline))
        _, flags, counts, _ = zip(*map(PAGE_HEADER.unpack_from, repeat(data), pages))
        k = len(pages)
        if flags.count(LEAF_PAGE) != k or not all(
            map(le, map(add, map(mul, counts, repeat(16)), repeat(32)), sizes)
        ):
            raise Bail
        s = self.s
        s.inline_bucket_n += k
        s.bucket_n += k
        s.key_n += sum(counts)
        s.inline_bucket_inuse += PAGE_HEADER_SIZE * k
        full = [i for i in range(k) if counts[i]] if 0 in counts else range(k)
        if full:
            sized = map(mul, map(counts.__getitem__, full), repeat(16))
            lasts = map(add, map(pages.__getitem__, full), sized)
            used = map(sum, map(_TAIL.unpack_from, repeat(data), lasts))
            s.inline_bucket_inuse += 16 * (sum(counts) - len(full)) + sum(
                map(and_, used, repeat(_U32))
            )
        self.inline_parents += compress(parents, inline)


def _intact_stats(r: PageReader, root: int | list[tuple[int, int]]) -> BucketStats | None:
    """``Stats`` of the bucket rooted at page ``root`` (or the sum of those
    whose bucket values are at these (offset, length) spans) with whole-page
    operations, or None when a tree (or a nested bucket's) is not plainly
    intact: then the exact walk runs and raises where bbolt panics.  The
    numbers do not depend on the order pages are visited in, which lets the
    pages of many branches and buckets be read at once."""
    try:
        return without_gc(_forest_stats, r, root)
    except (Bail, struct.error):
        return None


def _forest_stats(r: PageReader, root: int | list[tuple[int, int]]) -> BucketStats:
    forest = _Forest(r)
    if isinstance(root, int):
        forest.add_roots((root,), (-1,))
    else:
        spans = list(zip(*root)) or [(), ()]
        forest.open(list(spans[0]), list(spans[1]), [-1] * len(root))
    return forest.run()


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


def _top_level_values(r: PageReader, root: int, prefix: bytes) -> Iterator[tuple[int, int]]:
    """The (offset, length) of the bucket values of the top-level buckets whose
    name starts with ``prefix``, in key order, each opened as bbolt's ``stats``
    command opens it (raising where it panics)."""
    for key, _, _, _ in r.cursor_items(root):
        # tx.ForEach opens every key as a bucket, then the command filters.
        found = r.seek(root, key)
        child: tuple[int, InlinePage | None] | None = None
        if found is not None and keys_equal(key, found[0]) and found[1] & BUCKET_LEAF_FLAG:
            child = r.open_bucket_page(found[2], found[3])
        if not has_prefix(key, prefix):
            continue
        if child is None or found is None:
            raise BboltPanic(
                "runtime error: invalid memory address or nil pointer dereference", raw=True
            )
        yield found[2], found[3]


def top_level_stats(tx: Tx, prefix: bytes = b"") -> tuple[int, BucketStats]:
    """What bbolt's ``stats`` command adds up: the number of top-level buckets whose
    name starts with ``prefix``, and the sum of their ``Stats()``."""
    root = tx.meta.root
    if root == 0:  # bbolt's root bucket then has neither page nor node
        raise BboltPanic(
            "runtime error: invalid memory address or nil pointer dereference", raw=True
        )
    try:
        spans = list(_top_level_values(_reader(tx), root, prefix))
    except Error:
        spans = None  # the exact walk below meets it where bbolt does
    if spans is not None:
        fast = _intact_stats(_reader(tx), spans)
        if fast is not None:
            return len(spans), fast
    # Bucket by bucket, as bbolt goes, on a fresh count of page visits.
    r = _reader(tx)
    total = BucketStats()
    n = 0
    for voff, vlen in _top_level_values(r, root, prefix):
        total.add(_stats(r, *r.open_bucket_page(voff, vlen)))
        n += 1
    return n, total


def tx_stats(tx: Tx, prefix: bytes = b"") -> BucketStats:
    """The ``Stats()`` of every top-level bucket whose name starts with ``prefix``,
    added together (what bbolt's ``stats`` command prints)."""
    return top_level_stats(tx, prefix)[1]
