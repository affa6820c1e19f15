"""Compaction: copy every bucket and pair of one database into a fresh one."""

from __future__ import annotations

from .bucket import Bucket
from .db import DB


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
                copier.copy_bucket(bucket, [], name, active)
        copier.tx.commit()
    finally:
        if not copier.tx.closed:
            copier.tx.rollback()


class _Copier:
    """Writes the source's items into ``dst``, a transaction at a time."""

    def __init__(self, dst: DB, tx_max_size: int) -> None:
        self.dst = dst
        self.tx_max_size = tx_max_size
        self.tx = dst.begin(writable=True)
        self.size = 0

    def make_room(self, item_size: int) -> bool:
        """Count an item; True if that committed and began a new transaction."""
        size = self.size + item_size
        if self.tx_max_size and size > self.tx_max_size:
            self.tx.commit()
            self.tx = self.dst.begin(writable=True)
            self.size = item_size
            return True
        self.size = size
        return False

    def bucket(self, path: list[bytes]) -> Bucket:
        """The destination bucket at ``path`` in the current transaction."""
        parent = self.tx.bucket(path[0])
        for name in path[1:]:
            assert parent is not None
            parent = parent.bucket(name)
        assert parent is not None
        parent.fill_percent = 1.0
        return parent

    def copy_bucket(
        self, bucket: Bucket, path: list[bytes], name: bytes, active: frozenset[int]
    ) -> None:
        """Create bucket ``name`` under ``path`` and copy ``bucket`` into it."""
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
        parent = self.bucket(path) if path else self.tx
        parent.create_bucket(name).set_sequence(bucket.sequence)
        inner = [*path, name]
        put = self.bucket(inner).put
        limit = self.tx_max_size or -1
        for key, value in bucket.items():
            if value is None:
                child = bucket.bucket(key)
                if child is None:  # damage: bbolt reads the nil bucket's sequence
                    from .check import BboltPanic

                    raise BboltPanic(
                        "runtime error: invalid memory address or nil pointer dereference",
                        raw=True,
                    )
                self.copy_bucket(child, inner, key, active)
                put = self.bucket(inner).put
                continue
            # make_room, inline: this is the loop every pair goes through.
            size = self.size + len(key) + len(value)
            if size > limit > 0:
                self.make_room(len(key) + len(value))
                put = self.bucket(inner).put
            else:
                self.size = size
            put(key, value)
