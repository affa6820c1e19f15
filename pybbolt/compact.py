"""Compaction: copy every bucket and pair of one database into a fresh one."""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate
from operator import add

from .bucket import Bucket
from .db import DB
from .node import run_items

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


def compact(dst: DB, src: DB, tx_max_size: int = 0) -> None:
    """Copy ``src`` into ``dst`` as bbolt's ``Compact`` does (docs/FORMAT.md §15).

    Items are written in pre-order, with ``FillPercent = 1.0`` on every
    destination bucket that receives one, committing whenever the keys and
    values written in the current transaction would exceed ``tx_max_size``
    bytes (0: one transaction).  The last transaction is always committed.
    """
    copier = _Copier(dst, tx_max_size)
    try:
        with src.view() as source:
            active = frozenset([source.meta.root])
            for name, bucket in source.buckets():
                copier.copy_bucket(bucket, name, active)
        copier.tx.commit()
    finally:
        if not copier.tx.closed:
            copier.tx.rollback()


# Fewer pairs than this are put one by one (checking a run costs about as much).
_RUN = 4


class _Copier:
    """Writes the source's items into ``dst``, a transaction at a time."""

    def __init__(self, dst: DB, tx_max_size: int) -> None:
        self.dst = dst
        self.tx_max_size = tx_max_size
        self.tx = dst.begin(writable=True)
        self.size = 0
        # The names of the bucket being copied, outermost first, and the
        # destination buckets of a prefix of that path opened in the current
        # transaction.  bbolt opens the path from the top for every item; that
        # finds the same buckets again, so they are kept until the next commit.
        self.path: list[bytes] = []
        self.open: list[Bucket] = []

    def make_room(self, item_size: int) -> bool:
        """Count an item; True if that committed and began a new transaction."""
        size = self.size + item_size
        if self.tx_max_size and size > self.tx_max_size:
            self.tx.commit()
            self.tx = self.dst.begin(writable=True)
            self.open.clear()
            self.size = item_size
            return True
        self.size = size
        return False

    def receiver(self, depth: int) -> Bucket:
        """The destination bucket of the first ``depth`` names of the path,
        about to receive an item: bbolt fills its pages entirely."""
        opened = self.open
        if len(opened) < depth:
            found = opened[-1] if opened else None
            for name in self.path[len(opened) : depth]:
                found = self.tx.bucket(name) if found is None else found.bucket(name)
                assert found is not None
                opened.append(found)
        found = opened[depth - 1]
        found.fill_percent = 1.0
        return found

    def copy_items(
        self, bucket: Bucket, items: Iterable[tuple[bytes, bytes | None]], inner: int,
        active: frozenset[int],
    ) -> None:
        """Copy items of ``bucket`` (pairs, and nested buckets as None) one by one."""
        put = None
        tx = self.tx
        limit = self.tx_max_size or -1
        for key, value in items:
            if value is None:
                child = bucket.bucket(key)
                if child is None:  # damage: bbolt reads the nil bucket's sequence
                    from .check import BboltPanic

                    raise BboltPanic(
                        "runtime error: invalid memory address or nil pointer dereference",
                        raw=True,
                    )
                self.copy_bucket(child, key, active)
                if self.tx is not tx:
                    put = None
                continue
            # make_room, inline: this is the loop every pair goes through.
            size = self.size + len(key) + len(value)
            if size > limit > 0:
                self.make_room(len(key) + len(value))
                put = None
            else:
                self.size = size
            if put is None:
                put = self.receiver(inner).put
                tx = self.tx
            put(key, value)

    def copy_run(self, keys: Sequence[bytes], values: Sequence[bytes], inner: int) -> None:
        """Copy a leaf's pairs (no bucket among them): what :meth:`copy_items`
        does, with the pairs that fit in the transaction put at once."""
        sums = list(accumulate(map(add, map(len, keys), map(len, values)), initial=0))
        limit = self.tx_max_size
        start, n = 0, len(keys)
        while start < n:
            # The pairs from start on that keep the transaction's size within
            # the limit (the first one over it commits first, as make_room).
            end = n
            if limit > 0:
                end = min(bisect_right(sums, limit - self.size + sums[start], start) - 1, n)
            if end > start:
                self.size += sums[end] - sums[start]
                receiver = self.receiver(inner)
                first = start
                if receiver._route_leaf is None or end - start < _RUN:
                    # A new bucket (no leaf yet), or too few pairs to pay for
                    # the run's checks: the first put finds the leaf.
                    receiver.put(keys[start], values[start])
                    first += 1
                if end - first >= _RUN and receiver._put_sorted(keys[first:end], values[first:end]):
                    first = end
                put = receiver.put
                for i in range(first, end):
                    put(keys[i], values[i])
                start = end
            if start < n:  # over the limit: commit, then the pair begins the next one
                self.make_room(sums[start + 1] - sums[start])
                self.receiver(inner).put(keys[start], values[start])
                start += 1

    def copy_bucket(self, bucket: Bucket, name: bytes, active: frozenset[int]) -> None:
        """Create bucket ``name`` at the end of the path and copy ``bucket`` into it."""
        # A bucket whose root page is already open above it nests forever: bbolt
        # recurses until its stack overflows (writing ever more to the output).
        root = bucket._root
        if root:
            if root in active:
                from .check import BboltPanic  # only on damage: keeps `import pybbolt` light

                raise BboltPanic(
                    f"fatal error: stack overflow: bucket root page {root} contains itself",
                    raw=True, fatal=True, pgid=root,
                )
            active = active | {root}
        self.make_room(len(name))
        path, opened = self.path, self.open
        depth = len(path)
        created = (self.receiver(depth) if depth else self.tx).create_bucket(name)
        created.set_sequence(bucket.sequence)
        path.append(name)
        if len(opened) == depth:
            opened.append(created)
        inner = depth + 1
        for run in bucket._leaf_runs():
            flags, keys, values = run
            if any(flags):
                self.copy_items(bucket, run_items(run), inner, active)
            else:
                self.copy_run(keys, values, inner)
        path.pop()
        del opened[depth:]
