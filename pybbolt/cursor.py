"""Cursors: ordered traversal of a bucket, with bbolt's exact movement rules.

A cursor keeps a stack of (node, index) from the bucket's root to a leaf.
Nodes are decoded pages (or dirty nodes of a write transaction), so the same
code serves both.  Movement follows bbolt's ``cursor.go``: empty leaves are
skipped, ``next`` at the end stays on the last item, ``seek`` past the end of
a leaf moves on to the next leaf.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import chain

from .errors import CorruptionError, IncompatibleValue, require_bytes
from .layout import BUCKET_LEAF_FLAG, MAX_DEPTH
from .node import Node, run_items

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import TypeVar

    from .bucket import Bucket
    from .node import LeafView

    # What a descent's fetch gives: nodes, or for a lookup leaf views too.
    Fetched = TypeVar("Fetched", Node, Node | LeafView)

Item = tuple[bytes, bytes | None]


def descend(
    node: Node,
    key: bytes,
    first: Callable[[int], Node | None],
    second: Callable[[int], Node | None],
    fetch: Callable[[int], Fetched],
    stack: tuple[list[Node], list[int]] | None = None,
) -> tuple[Fetched, int]:
    """bbolt's ``Cursor.search`` from ``node`` down to a leaf: the leaf where
    ``key`` is or would be, and its index there.

    The one descent of ``Bucket.get`` and of cursors (kept in one function,
    without a call per level: a child is ``first(pgid)``, else ``second(pgid)``,
    else ``fetch(pgid)``, so the caller passes its caches' ``get``).  When
    ``stack`` (nodes, indexes) is given the branches passed and the index
    taken in each are appended to it (a cursor's stack).
    """
    depth = 0
    while not node.is_leaf:
        keys = node.keys
        if not keys:
            # bbolt's binary search indexes an empty slice here and panics.
            raise CorruptionError(f"page {node.pgid}: branch page has no elements")
        index = bisect_left(keys, key)
        if index == len(keys) or keys[index] != key:
            index = index - 1 if index else 0
        if stack is not None:
            stack[0].append(node)
            stack[1].append(index)
        depth += 1
        if depth >= MAX_DEPTH:
            raise CorruptionError(f"page {node.pgid}: the page tree is cyclic")
        pgid = node.pgids[index]
        # A LeafView (a lookup's fetch) is a leaf: it only ends the loop.
        node = first(pgid) or second(pgid) or fetch(pgid)  # type: ignore[assignment]
    return node, bisect_left(node.keys, key)


class Cursor:
    """Iterates the key/value pairs of a bucket in key order.

    Every move returns ``(key, value)`` or ``None`` when there is no item;
    ``value`` is ``None`` for a nested bucket.  Valid for the life of its
    transaction; reposition it after changing the bucket.
    """

    __slots__ = ("_bucket", "_indexes", "_nodes", "_visits")

    def __init__(self, bucket: Bucket) -> None:
        self._bucket = bucket
        self._nodes: list[Node] = []
        self._indexes: list[int] = []
        self._visits = 0

    @property
    def bucket(self) -> Bucket:
        """The bucket this cursor walks."""
        return self._bucket

    # -- public moves ------------------------------------------------------

    def first(self) -> Item | None:
        """Move to the first item."""
        self._bucket._check_open()
        self._reset()
        self._push(self._bucket._root_node(), 0)
        self._go_first()
        if not self._nodes[-1].keys:
            self._next()
        return self._item()

    def last(self) -> Item | None:
        """Move to the last item."""
        self._bucket._check_open()
        self._reset()
        root = self._bucket._root_node()
        self._push(root, len(root.keys) - 1)
        self._go_last()
        # Deletes can leave empty leaves: step back to the last non-empty one.
        while len(self._nodes) > 1 and not self._nodes[-1].keys:
            self._prev()
        if not self._nodes:
            return None
        return self._item()

    def next(self) -> Item | None:
        """Move to the next item; ``None`` (staying on the last) at the end."""
        self._bucket._check_open()
        if not self._nodes:
            return None
        return self._item() if self._next() else None

    def prev(self) -> Item | None:
        """Move to the previous item; ``None`` (staying on the first) at the beginning."""
        self._bucket._check_open()
        if not self._nodes or not self._prev():
            return None
        return self._item()

    def seek(self, key: bytes) -> Item | None:
        """Move to ``key``, or to the first key after it; ``None`` if none follows."""
        self._bucket._check_open()
        if type(key) is not bytes:
            key = require_bytes(key)
        self._reset()
        self._search(key)
        if self._indexes[-1] >= len(self._nodes[-1].keys):
            return self._item() if self._next() else None
        return self._item()

    def delete(self) -> None:
        """Delete the item under the cursor (not a nested bucket)."""
        bucket = self._bucket
        bucket._check_writable()
        if not self._nodes:
            return
        node, index = self._nodes[-1], self._indexes[-1]
        if index >= len(node.keys):
            return
        if node.flags[index] & BUCKET_LEAF_FLAG:
            raise IncompatibleValue()
        bucket._leaf_for_write(self).delete(node.keys[index])

    def __iter__(self) -> Iterator[Item]:
        """Iterate forward from where the cursor stands: the current item
        first (after ``seek(k)``, the item ``seek`` returned), then each
        :meth:`next` one; from the first item if the cursor was never moved.

        An unmoved cursor's items come a leaf at a time straight from the
        pages, so the cursor does not move while they do.  When the
        iteration ends the cursor is left on the last item, as after
        :meth:`last`.
        """
        if not self._nodes:
            return chain.from_iterable(self._leaf_runs())
        return self._from_here()

    def _from_here(self) -> Iterator[Item]:
        self._bucket._check_open()
        item = self._item()
        while item is not None:
            yield item
            item = self.next()

    def _leaf_runs(self) -> Iterator[Iterable[Item]]:
        yield from map(run_items, self._bucket._leaf_runs())
        self.last()

    # -- internals ---------------------------------------------------------

    def _reset(self) -> None:
        self._nodes.clear()
        self._indexes.clear()
        self._visits = 0

    def _push(self, node: Node, index: int) -> None:
        if node.is_leaf:
            self._count_leaf()
        self._nodes.append(node)
        self._indexes.append(index)

    def _child(self) -> Node:
        """The child of the top branch at its index, guarding against cycles."""
        node, index = self._nodes[-1], self._indexes[-1]
        if not 0 <= index < len(node.pgids):
            raise CorruptionError(f"page {node.pgid}: branch page has no elements")
        if len(self._nodes) >= MAX_DEPTH:
            raise CorruptionError(f"page {node.pgid}: the page tree is cyclic")
        return self._bucket._node(node.pgids[index])

    def _count_leaf(self) -> None:
        # A damaged file can make branches share children, so a walk could
        # revisit the same leaves exponentially often: bound it by the file.
        self._visits += 1
        if self._visits > self._bucket._tx._max_leaf_visits():
            raise CorruptionError(
                "cursor met more leaves than the file has pages: pages are shared or cyclic"
            )

    def _go_first(self) -> None:
        while not self._nodes[-1].is_leaf:
            self._push(self._child(), 0)

    def _go_last(self) -> None:
        while not self._nodes[-1].is_leaf:
            child = self._child()
            self._push(child, len(child.keys) - 1)

    def _next(self) -> bool:
        nodes, indexes = self._nodes, self._indexes
        while True:
            i = len(nodes) - 1
            while i >= 0:
                if indexes[i] < len(nodes[i].keys) - 1:
                    indexes[i] += 1
                    break
                i -= 1
            if i < 0:
                return False
            del nodes[i + 1 :], indexes[i + 1 :]
            self._go_first()
            if nodes[-1].keys:
                return True

    def _prev(self) -> bool:
        nodes, indexes = self._nodes, self._indexes
        while nodes:
            if indexes[-1] > 0:
                indexes[-1] -= 1
                break
            if len(nodes) == 1:
                # At the beginning: stay on the first item so that next()
                # walks forward again (bbolt issue 733).
                self.first()
                return False
            nodes.pop()
            indexes.pop()
        if not nodes:
            return False
        self._go_last()
        return True

    def _search(self, key: bytes) -> None:
        bucket = self._bucket
        nodes, indexes = self._nodes, self._indexes
        # bbolt's pageNode: a dirty node, else the page (from the tx's caches
        # without a call when nothing is dirty).  A fetch always gives a node.
        tx = bucket._tx
        first: Callable[[int], Node | None]
        second: Callable[[int], Node | None]
        fetch: Callable[[int], Node]
        if bucket._root == 0:
            first, second = bucket._nodes.get, bucket._node
            fetch = second
        elif bucket._nodes:
            first, second = bucket._nodes.get, tx._page_node
            fetch = second
        else:
            first, second, fetch = tx._branches.get, tx._leaves.get, tx._page_node
        leaf, index = descend(bucket._root_node(), key, first, second, fetch, (nodes, indexes))
        # One leaf: no need to count visits as the walks do.
        nodes.append(leaf)
        indexes.append(index)

    def _item(self) -> Item | None:
        node, index = self._nodes[-1], self._indexes[-1]
        if index >= len(node.keys) or index < 0:
            return None
        if node.flags[index] & BUCKET_LEAF_FLAG:
            return node.keys[index], None
        return node.keys[index], node.values[index]

    def _seek_raw(self, key: bytes) -> tuple[bytes, bytes, int] | None:
        """bbolt's internal ``seek``: position at ``key``'s slot, no skipping."""
        self._reset()
        self._search(key)
        return self._raw()

    def _raw(self) -> tuple[bytes, bytes, int] | None:
        """Key, value and flags under the cursor (bucket values included)."""
        node, index = self._nodes[-1], self._indexes[-1]
        if index >= len(node.keys) or index < 0:
            return None
        return node.keys[index], node.values[index], node.flags[index]
