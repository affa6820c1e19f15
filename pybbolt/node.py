"""Nodes: a branch or leaf page decoded into parallel lists (bbolt's ``node.go``).

Read transactions decode pages into nodes and cache them for the life of the
transaction; write transactions also materialise nodes (mutable copies linked
to their parent) and serialise them back into pages when committing.  Keeping
both in one shape lets the cursor walk pages and dirty nodes alike.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate, repeat
from operator import add, itemgetter, sub

from .errors import CorruptionError, Error
from .fastpath import UNIFORM_LEAF_ELEMENTS, leaf_run, remember_uniform_leaf
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    LEAF_PAGE,
    MAX_FILL_PERCENT,
    MIN_FILL_PERCENT,
    MIN_KEYS_PER_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    element_array,
)
from .page import Data, PageHeader, check_page, elements_start, sliceable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    # A leaf's flags, keys and values, parallel: a node's lists, or the tuples
    # cut straight out of a page by a walk that needs no node.
    LeafRun = tuple[Sequence[int], Sequence[bytes], Sequence[bytes]]


def run_items(run: LeafRun) -> Iterable[tuple[bytes, bytes | None]]:
    """A leaf's ``(key, value)`` pairs; None as the value of a bucket."""
    flags, keys, values = run
    if any(flags):
        return [
            (key, None if flag & BUCKET_LEAF_FLAG else value)
            for key, value, flag in zip(keys, values, flags)
        ]
    return zip(keys, values)


class LeafView(tuple):  # type: ignore[type-arg]
    """A leaf's run (flags, keys, values) read for one lookup, without a Node.

    What :func:`~pybbolt.cursor.descend` and ``Bucket.get`` read of a leaf
    node (``is_leaf``, ``flags``, ``keys``, ``values``), over the tuples cut
    from the page: a random read of a big file meets mostly leaves that the
    transaction's full cache would not keep, and building a node of lists
    for each costs more than the search.  Read-only.
    """

    __slots__ = ()
    is_leaf = True
    flags = property(itemgetter(0))
    keys = property(itemgetter(1))
    values = property(itemgetter(2))


class Node:
    """The items of one branch or leaf page.

    ``keys`` is sorted.  A leaf has ``values`` and ``flags`` parallel to it;
    a branch has ``pgids`` (child page ids; a damaged branch page without
    elements keeps the stale id of its element 0, which bbolt still follows).
    """

    __slots__ = (
        "children",
        "flags",
        "is_leaf",
        "key",
        "keys",
        "materialised",
        "parent",
        "pgid",
        "pgids",
        "spilled",
        "unbalanced",
        "values",
    )

    def __init__(
        self,
        is_leaf: bool,
        keys: list[bytes],
        values: list[bytes],
        flags: list[int],
        pgids: list[int],
        pgid: int = 0,
    ) -> None:
        self.is_leaf = is_leaf
        self.keys = keys
        self.values = values
        self.flags = flags
        self.pgids = pgids
        self.pgid = pgid
        # Write-path state (docs/FORMAT.md §10.1): the first key when loaded (None
        # for a node made by a split), the parent and the materialised children.
        self.key: bytes | None = keys[0] if keys else None
        self.materialised = False
        self.parent: Node | None = None
        self.children: list[Node] = []
        self.unbalanced = False
        self.spilled = False

    def size(self) -> int:
        """Serialised size in bytes (docs/FORMAT.md §5.3)."""
        n = len(self.keys)
        total = PAGE_HEADER_SIZE + 16 * n + sum(map(len, self.keys))
        if self.is_leaf:
            total += sum(map(len, self.values))
        return total

    def copy(self) -> Node:
        """A mutable copy, detached from any tree."""
        n = Node(
            self.is_leaf, list(self.keys), list(self.values), list(self.flags),
            self.pgids[: len(self.keys)], self.pgid,
        )
        n.key = self.key
        return n

    def as_read(self) -> Node:
        """What decoding the branch page this node was just written to gives
        (keys non-empty: a branch page without elements decodes to a stale
        child id).  It shares this node's keys, which nothing changes any
        more (this node's transaction is over, and a writer copies a branch)."""
        keys = self.keys
        pgids = self.pgids
        return Node(False, keys, [], [], pgids if len(pgids) == len(keys) else pgids[: len(keys)],
                    self.pgid)

    # -- edits (bbolt's node.put / node.del) -------------------------------

    def put(self, old_key: bytes, new_key: bytes, value: bytes, pgid: int, flags: int) -> None:
        """Replace the item at ``old_key`` (or insert one) with the new item."""
        keys = self.keys
        i = bisect_left(keys, old_key)
        if i < len(keys) and keys[i] == old_key:
            keys[i] = new_key
            if self.is_leaf:
                self.values[i] = value
                self.flags[i] = flags
            else:
                self.pgids[i] = pgid
            return
        keys.insert(i, new_key)
        if self.is_leaf:
            self.values.insert(i, value)
            self.flags.insert(i, flags)
        else:
            self.pgids.insert(i, pgid)

    def delete(self, key: bytes) -> None:
        """Remove ``key`` if present and mark the node for rebalancing."""
        keys = self.keys
        i = bisect_left(keys, key)
        if i >= len(keys) or keys[i] != key:
            return
        del keys[i]
        if self.is_leaf:
            del self.values[i], self.flags[i]
        else:
            del self.pgids[i]
        self.unbalanced = True

    def child_index(self, child: Node) -> int:
        """Index of the item that points at ``child`` (by its load-time key)."""
        return bisect_left(self.keys, child.key or b"")

    def remove_child(self, target: Node) -> None:
        for i, child in enumerate(self.children):
            if child is target:
                del self.children[i]
                return

    def take_items(self, other: Node) -> None:
        """Become a node of ``other``'s type holding ``other``'s items."""
        self.is_leaf = other.is_leaf
        self.keys = other.keys
        self.values = other.values
        self.flags = other.flags
        self.pgids = other.pgids

    def append_items(self, other: Node) -> None:
        self.keys += other.keys
        self.values += other.values
        self.flags += other.flags
        self.pgids += other.pgids

    def root(self) -> Node:
        n = self
        while n.parent is not None:
            n = n.parent
        return n

    # -- splitting (docs/FORMAT.md §10.5) ----------------------------------------

    def split(self, page_size: int, fill_percent: float) -> list[Node]:
        """Break the node into page-sized nodes; the first is the node itself.

        bbolt splits off one node at a time (``splitTwo``); the same cut
        points are found here in one pass over the items, so that a node of
        a huge transaction splits in linear rather than quadratic time.
        """
        cuts = self._cuts(page_size, fill_percent)
        if not cuts:
            return [self]
        parent = self.parent
        if parent is None:
            parent = Node(False, [], [], [], [])
            parent.materialised = True
            parent.children = [self]
            self.parent = parent
        nodes = [self]
        keys, values, flags, pgids = self.keys, self.values, self.flags, self.pgids
        for start, end in zip(cuts, [*cuts[1:], len(keys)]):
            nxt = Node(self.is_leaf, keys[start:end], values[start:end], flags[start:end],
                       pgids[start:end])
            nxt.materialised = True
            nxt.parent = parent
            parent.children.append(nxt)
            nodes.append(nxt)
        del keys[cuts[0] :], values[cuts[0] :], flags[cuts[0] :], pgids[cuts[0] :]
        return nodes

    def _cuts(self, page_size: int, fill_percent: float) -> list[int]:
        """Indexes where bbolt's successive ``splitTwo`` calls cut the items."""
        keys, n = self.keys, len(self.keys)
        if n <= MIN_KEYS_PER_PAGE * 2:
            return []
        if self.is_leaf:
            sizes = list(map(add, map(len, keys), map(len, self.values)))
        else:
            sizes = list(map(len, keys))
        remaining = PAGE_HEADER_SIZE + 16 * n + sum(sizes)  # size of a node of items[start:]
        if remaining < page_size:
            return []  # the common case: the node fits
        # sums[i]: the elements and data of items[:i], element headers included.
        sums = list(accumulate(map(add, sizes, repeat(16, n)), initial=0))
        fill = min(max(fill_percent, MIN_FILL_PERCENT), MAX_FILL_PERCENT)
        threshold = int(page_size * fill)
        cuts: list[int] = []
        start = 0
        # splitTwo leaves a node alone with <= 4 items or under a page.
        while n - start > MIN_KEYS_PER_PAGE * 2 and remaining >= page_size:
            # bbolt's splitIndex adds items to a page header until one would
            # pass the threshold (from item MIN_KEYS_PER_PAGE on), over at
            # most the first n - start - MIN_KEYS_PER_PAGE items: its cut is
            # the first i with header + size of items[start:start + i + 1]
            # over the threshold, within those bounds.
            over = bisect_right(sums, threshold - PAGE_HEADER_SIZE + sums[start], start + 1)
            index = min(max(over - start - 1, MIN_KEYS_PER_PAGE), n - start - MIN_KEYS_PER_PAGE - 1)
            remaining -= sums[start + index] - sums[start]
            start += index
            cuts.append(start)
        return cuts

    # -- serialising (docs/FORMAT.md §5.3) ---------------------------------------

    def encode(self, pgid: int, length: int, overflow: int = 0) -> bytearray:
        """The node as a page of ``length`` bytes (zero-padded)."""
        n = len(self.keys)
        if n >= 0xFFFF:
            raise Error(f"inode overflow: {n} (pgid={pgid})")
        buf = bytearray(length)
        PAGE_HEADER.pack_into(buf, 0, pgid, LEAF_PAGE if self.is_leaf else BRANCH_PAGE, n, overflow)
        if not n:
            return buf
        keys = self.keys
        key_sizes = list(map(len, keys))
        data_start = PAGE_HEADER_SIZE + 16 * n
        uniform = None
        if self.is_leaf:
            values = self.values
            value_sizes = list(map(len, values))
            interleaved: list[bytes] = [b""] * (2 * n)
            interleaved[0::2] = keys
            interleaved[1::2] = values
            data = b"".join(interleaved)
            ksize, vsize = key_sizes[0], value_sizes[0]
            if key_sizes.count(ksize) == n and value_sizes.count(vsize) == n and not any(
                self.flags
            ):
                # Every item alike: the element array depends on the sizes alone.
                uniform = (n, ksize, vsize)
                elements = UNIFORM_LEAF_ELEMENTS.get(uniform)
                if elements is not None and length >= data_start:
                    buf[PAGE_HEADER_SIZE:data_start] = elements
                    buf[data_start : data_start + len(data)] = data
                    return buf
            item_sizes: Iterator[int] = map(add, key_sizes, value_sizes)
            fields = [0] * (4 * n)
            fields[0::4] = self.flags
            fields[2::4] = key_sizes
            fields[3::4] = value_sizes
        else:
            item_sizes = iter(key_sizes)
            fields = [0] * (4 * n)
            fields[1::4] = key_sizes
            pgids = self.pgids[:n]
            if max(pgids) <= 0xFFFFFFFF:  # ids below 2^32: the high words stay 0
                fields[2::4] = pgids
            else:
                fields[2::4] = [p & 0xFFFFFFFF for p in pgids]
                fields[3::4] = [p >> 32 for p in pgids]
            data = b"".join(keys)
        # Each element's data offset, relative to the element itself.
        offsets = accumulate(item_sizes, initial=data_start)
        positions = list(map(sub, offsets, range(PAGE_HEADER_SIZE, data_start, 16)))
        fields[0 if not self.is_leaf else 1 :: 4] = positions
        element_array(n).pack_into(buf, PAGE_HEADER_SIZE, *fields)
        if uniform is not None:
            remember_uniform_leaf(uniform, bytes(buf[PAGE_HEADER_SIZE:data_start]))
        buf[data_start : data_start + len(data)] = data
        return buf


# --- reading a page into a node (bbolt's node.read) ---------------------------


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


def decode_leaf(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` leaf elements, their keys and values."""
    flags, keys, values = leaf_run(buf, offset, count, pgid)
    return Node(True, list(keys), list(values), list(flags), [], pgid)


def decode_branch(buf: Data, offset: int, count: int, pgid: int) -> Node:
    """Decode ``count`` branch elements: keys and child page ids."""
    data = sliceable(buf)
    size = len(data)
    start = elements_start(size, offset, count, pgid)
    fields = element_array(count).unpack_from(data, start)
    bases = range(start, start + 16 * count, 16)
    key_starts = list(map(add, bases, fields[0::4]))
    key_ends = list(map(add, key_starts, fields[1::4]))
    if count and max(key_ends) > size:
        bad = next(i for i, end in enumerate(key_ends) if end > size)
        raise CorruptionError(f"page {pgid}: branch element {bad} points outside the data")
    keys = list(map(data.__getitem__, map(slice, key_starts, key_ends)))
    # A u64 page id spans two u32 fields (little-endian); the high words
    # are all 0 below 2^32 pages.
    highs = fields[3::4]
    if any(highs):
        pgids = [lo | hi << 32 for lo, hi in zip(fields[2::4], highs)]
    else:
        pgids = list(fields[2::4])
    if count == 0 and start + 16 <= size:
        # bbolt descends into element 0 of a branch even when it has none
        # (a damaged page): keep its child id, past the end of ``keys``.
        pgids.append(BRANCH_ELEMENT.unpack_from(buf, start)[2])
    return Node(False, keys, [], [], pgids, pgid)

