"""The bucket tree with key counts, as bbolt's ``Tx.Inspect`` builds it.

The walk reads pages the way bbolt does (:class:`~pybbolt.page.PageReader`,
as ``check`` and ``stats`` do), so a damaged file gives bbolt's tree where
bbolt gives one (a branch page whose elements were cleared is still entered
at its element 0), and raises :class:`~pybbolt.errors.BboltPanic` with
bbolt's message where bbolt panics.
"""

from __future__ import annotations

import struct
from itertools import chain, compress, islice, repeat
from operator import add, and_, le, lt, mul, ne, not_

from .errors import BboltPanic, TxClosed
from .fastpath import Bail, element_codecs, intact_items, page_headers, without_gc
from .layout import BUCKET_LEAF_FLAG, LEAF_PAGE, PAGE_HEADER, PAGE_HEADER_SIZE, U64
from .page import PAGE_MAX_ALLOC, PageReader
from .pagebits import Freed, Reachable
from .record import REQUIRED, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, ClassVar

    from .tx import Tx

# An item as the raw cursor yields it: key, flags, value offset, value length.
_Item = tuple[bytes, int, int, int]


class BucketStructure(Record):
    """One bucket: its name, its plain keys counted, its nested buckets in key order.

    bbolt's ``BucketStructure`` (JSON fields ``name``, ``keyN``, ``buckets``); a
    record :mod:`dataclasses` accepts (see :mod:`pybbolt.record`).
    """

    __slots__ = ("children", "key_n", "name")
    __match_args__ = ("name", "key_n", "children")
    _FIELDS: ClassVar[dict[str, Any]] = {"name": REQUIRED, "key_n": 0, "children": list}

    def __init__(
        self, name: bytes, key_n: int = 0, children: list[BucketStructure] | None = None
    ) -> None:
        self.name = name
        self.key_n = key_n
        self.children: list[BucketStructure] = [] if children is None else children


def _nil_bucket() -> BboltPanic:
    return BboltPanic("runtime error: invalid memory address or nil pointer dereference", raw=True)


class _Walker:
    """``recursivelyInspect`` over raw pages."""

    def __init__(self, reader: PageReader) -> None:
        self.r = reader

    def items(self, root: int, inline: int | None) -> Iterator[_Item]:
        """The cursor's items of a bucket (``first``/``next``)."""
        if inline is None:
            yield from self.r.cursor_items(root)
            return
        _id, flags, count, _overflow = self.r.header_at(inline)
        if not flags & LEAF_PAGE:
            raise BboltPanic(f"inline bucket page is not a leaf (flags {flags:x})", raw=True)
        for i in range(count):
            yield self._inline_item(inline, i)

    def _inline_item(self, page: int, i: int) -> _Item:
        flags, pos, ksize, vsize = self.r.leaf_element(page, i)
        e = page + PAGE_HEADER_SIZE + 16 * i
        voff, vlen = self.r.value(e, pos, ksize, vsize)
        return self.r.key(e, pos, ksize), flags, voff, vlen

    def seek(self, root: int, inline: int | None, key: bytes) -> _Item | None:
        """``Cursor.seek``: the first item whose key is >= ``key``."""
        if inline is None:
            return self.r.seek(root, key)
        _id, _flags, count, _overflow = self.r.header_at(inline)
        lo, hi = 0, count
        while lo < hi:
            h = (lo + hi) >> 1
            if self._inline_item(inline, h)[0] < key:
                lo = h + 1
            else:
                hi = h
        return self._inline_item(inline, lo) if lo < count else None

    def child(self, root: int, inline: int | None, key: bytes) -> tuple[int, int | None]:
        """``Bucket.Bucket(key)``: seek, then open the bucket value found."""
        found = self.seek(root, inline, key)
        if found is None or found[0] != key or not found[1] & BUCKET_LEAF_FLAG:
            raise _nil_bucket()
        return self.r.open_bucket(found[2], found[3])

    def inspect(self, name: bytes, root: int, inline: int | None) -> BucketStructure:
        node = BucketStructure(name)
        for key, flags, _voff, _vlen in self.items(root, inline):
            if flags & BUCKET_LEAF_FLAG:
                child_root, child_inline = self.child(root, inline, key)
                node.children.append(self.inspect(bytes(key), child_root, child_inline))
            else:
                node.key_n += 1
        return node


# --- the fast path: intact trees, the buckets of one nesting level at once ---

# Buckets nested deeper than this take the exact walk.
_MAX_NESTING = 100
# Bucket values opened together: enough to read in C, few enough pages to drop after.
_SPANS_AT_ONCE = 2048


class _Level:
    """The buckets of one nesting level, read together (containerd's files
    hold tens of thousands of small ones): each is a root page, or an inline
    page whose elements lie inside its bucket value.

    Every key of a leaf holding bucket elements must be above the one before
    it (and a tree of several pages holding one must be intact as the check's
    fast walk sees it): then bbolt's ``Bucket(key)`` seek finds the very
    element the cursor gave, and the tree is the exact walk's.  A tree of
    several pages holding no bucket element is only counted: the cursor
    reads no key of it that could fail.  The pages seen are marked
    in ``reach``: a page met twice (a bucket inside itself) takes the exact
    walk.
    """

    __slots__ = ("bounds", "counts", "freed", "next", "nodes", "offs", "r", "reach")

    def __init__(self, r: PageReader, reach: Reachable, freed: Freed) -> None:
        self.r = r
        self.reach = reach
        self.freed = freed  # nothing: no page is free to the inspect walk
        # The leaves to read: offset, count, bucket, end of what they may use.
        self.offs: list[int] = []
        self.counts: list[int] = []
        self.nodes: list[BucketStructure] = []
        self.bounds: list[int] = []
        # The nested buckets met: the next level, as (bucket, value offset, length).
        self.next: list[tuple[BucketStructure, int, int]] = []

    def open(self, spans: list[tuple[BucketStructure, int, int]]) -> None:
        """Open the bucket values ``spans``: root pages read now, inline pages queued."""
        r = self.r
        data = r.data
        nodes, voffs, vlens = zip(*spans)
        if min(vlens) < 16 or max(map(add, voffs, vlens)) > r.size:
            raise Bail
        roots = list(chain.from_iterable(map(U64.unpack_from, repeat(data), voffs)))
        if any(roots):
            self.roots(list(compress(nodes, roots)), list(compress(roots, roots)))
        inline = list(map(not_, roots))
        if not any(inline):
            return
        pages = list(map(add, compress(voffs, inline), repeat(16)))
        ends = list(map(add, compress(voffs, inline), compress(vlens, inline)))
        _, flags, counts, _ = zip(*map(PAGE_HEADER.unpack_from, repeat(data), pages))
        elements = map(add, pages, map(mul, counts, repeat(16)))
        if flags.count(LEAF_PAGE) != len(pages) or not all(
            map(le, map(add, elements, repeat(PAGE_HEADER_SIZE)), ends)
        ):
            raise Bail
        self.offs += pages
        self.counts += counts
        self.nodes += compress(nodes, inline)
        self.bounds += ends

    def roots(self, nodes: list[BucketStructure], roots: list[int]) -> None:
        """Read the buckets with root pages ``roots``: a leaf is queued, a
        tree of several pages read through the check's fast walk."""
        r = self.r
        bits = self.reach.bits
        if max(roots) >= r.npages or len(set(roots)) != len(roots):
            raise Bail
        offs, flags, counts, _ = page_headers(r.data, r.ps, roots)
        leaves = list(map(LEAF_PAGE.__eq__, flags))
        if not all(leaves):
            if any(leaves):
                self.roots(list(compress(nodes, leaves)), list(compress(roots, leaves)))
            trees = list(map(not_, leaves))
            self._trees(list(compress(nodes, trees)), list(compress(roots, trees)))
            return
        if any(map(bits.__getitem__, roots)):
            raise Bail
        any(map(bits.__setitem__, roots, repeat(1)))  # consumed in C
        r.note_reads(len(roots))  # keeps a long walk's resident pages bounded
        self.offs += offs
        self.counts += counts
        self.nodes += nodes
        self.bounds += repeat(r.size, len(nodes))

    def _trees(self, nodes: list[BucketStructure], roots: list[int]) -> None:
        """Read the buckets whose root pages are not leaves with the check's
        fast walk: counted without their keys when they hold no bucket
        element (the cursor's walk then reads none), else with them."""
        r = self.r
        for node, root in zip(nodes, roots):
            items = intact_items(r, self.reach, self.freed, r.npages, root, None, None, True)
            if items is not None:
                node.key_n = items
                continue
            entries: list[tuple[int, int]] = []
            names: list[bytes] = []
            items = intact_items(r, self.reach, self.freed, r.npages, root, entries, names)
            if items is None:
                raise Bail
            node.key_n = items - len(names)
            for name, (voff, vlen) in zip(names, entries):
                child = BucketStructure(name)
                node.children.append(child)
                self.next.append((child, voff, vlen))

    def leaves(self) -> None:
        """Count the keys of the queued leaves and collect their nested buckets."""
        if not self.offs:
            return
        r = self.r
        data = r.data
        getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
        nodes, counts = self.nodes, self.counts
        for node, count in zip(nodes, counts):
            node.key_n = count
        starts = list(map(add, self.offs, repeat(PAGE_HEADER_SIZE)))
        if max(map(add, starts, map(mul, counts, repeat(16)))) > r.size:
            raise Bail
        arrays = map(struct.Struct.unpack_from, map(element_codecs(counts), counts),
                     repeat(data), starts)
        fields = list(chain.from_iterable(arrays))
        if not fields:
            return
        key_ends = list(map(add, fields[1::4], fields[2::4]))  # from each element
        vsizes = fields[3::4]
        # The cursor slices every key and value (bbolt panics past its limit).
        if max(map(add, key_ends, vsizes)) > PAGE_MAX_ALLOC:
            raise Bail
        bits = list(map(and_, fields[0::4], repeat(BUCKET_LEAF_FLAG)))
        if not any(bits):
            return
        # The leaves holding bucket elements: their keys in order, and the
        # keys and values inside what each leaf may use.
        owners = list(chain.from_iterable(map(repeat, range(len(nodes)), counts)))
        wanted = bytearray(len(nodes))
        any(map(wanted.__setitem__, compress(owners, bits), repeat(1)))  # consumed in C
        keep = list(map(wanted.__getitem__, owners))
        ends = map(add, starts, map(mul, counts, repeat(16)))
        elements = list(compress(chain.from_iterable(map(range, starts, ends, repeat(16))), keep))
        key_starts = list(map(add, elements, compress(fields[1::4], keep)))
        key_ends = list(map(add, elements, compress(key_ends, keep)))
        vsizes = list(compress(vsizes, keep))
        owners = list(compress(owners, keep))
        bits = list(compress(bits, keep))
        if not all(map(le, map(add, key_ends, vsizes), map(self.bounds.__getitem__, owners))):
            raise Bail
        keys = list(map(getitem, map(slice, key_starts, key_ends)))
        order = list(map(lt, keys, islice(keys, 1, None)))
        # The last key of a leaf is not compared with the next leaf's first.
        for i in compress(range(len(owners) - 1), map(ne, owners, islice(owners, 1, None))):
            order[i] = True
        if not all(order):
            raise Bail
        found = zip(owners, keys, key_ends, vsizes)
        for i, key, voff, vlen in compress(found, bits):
            node = nodes[i]
            node.key_n -= 1
            child = BucketStructure(key)
            node.children.append(child)
            self.next.append((child, voff, vlen))


def _intact_tree(r: PageReader, root: int) -> BucketStructure:
    """The tree below the root page ``root`` read a nesting level at a time;
    raises :class:`Bail` (or ``struct.error``) where it is not plainly intact."""
    top = BucketStructure(b"root")
    reach, freed = Reachable(r.npages), Freed(r.npages)
    level = _Level(r, reach, freed)
    level.roots([top], [root])
    level.leaves()
    spans = level.next
    for _ in range(_MAX_NESTING - 1):
        if not spans:
            return top
        spans = _next_level(r, reach, freed, spans)
    if not spans:
        return top
    raise Bail


def _next_level(
    r: PageReader, reach: Reachable, freed: Freed, spans: list[tuple[BucketStructure, int, int]]
) -> list[tuple[BucketStructure, int, int]]:
    """The buckets nested in the bucket values ``spans``, read a batch at a
    time: a level's pages are told to the transaction as they are read, so
    they need not all be resident at once (containerd: 17,000 on one level)."""
    found: list[tuple[BucketStructure, int, int]] = []
    for start in range(0, len(spans), _SPANS_AT_ONCE):
        level = _Level(r, reach, freed)
        level.open(spans[start:start + _SPANS_AT_ONCE])
        level.leaves()
        found += level.next
    return found


def inspect_tree(tx: Tx) -> BucketStructure:
    """The whole tree below the root bucket, whose name is ``root``."""
    if tx.closed:
        raise TxClosed()
    if tx.meta.root == 0:  # bbolt's root bucket then has neither page nor node
        raise _nil_bucket()
    try:
        return _tree(tx)
    finally:
        # The walk read every page of the tree: the caller renders the result
        # (containerd: 16 MB of JSON) without them resident.
        tx._release_mapping()


def _tree(tx: Tx) -> BucketStructure:
    """The fast walk's tree, or the exact walk's where the fast one bails."""
    try:
        reader = PageReader(tx._data, tx.page_size, tx._note_reads)
        return without_gc(_intact_tree, reader, tx.meta.root)
    except (Bail, struct.error):
        pass  # the exact walk meets what is wrong where bbolt does
    walker = _Walker(PageReader(tx._data, tx.page_size, tx._note_reads))
    try:
        return walker.inspect(b"root", tx.meta.root, None)
    except RecursionError:
        raise BboltPanic(
            "fatal error: stack overflow: buckets nest too deeply", raw=True, fatal=True
        ) from None
