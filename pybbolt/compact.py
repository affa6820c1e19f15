"""Compaction: copy every bucket and pair of one database into a fresh one."""

from __future__ import annotations

from collections.abc import Iterator

from .bucket import Bucket
from .db import DB
from .tx import Tx

# (path of parent bucket names, key, value or None for a bucket, sequence)
_Item = tuple[list[bytes], bytes, bytes | None, int]


def compact(dst: DB, src: DB, tx_max_size: int = 0) -> None:
    """Copy ``src`` into ``dst`` as bbolt's ``Compact`` does (FORMAT.md 15).

    Items are written in pre-order, with ``FillPercent = 1.0`` on every
    destination bucket that receives one, committing whenever the keys and
    values written in the current transaction would exceed ``tx_max_size``
    bytes (0: one transaction).  The last transaction is always committed.
    """
    size = 0
    tx = dst.begin(writable=True)
    try:
        with src.view() as source:
            for path, key, value, sequence in _walk(source):
                item_size = len(key) + (len(value) if value is not None else 0)
                if tx_max_size and size + item_size > tx_max_size:
                    tx.commit()
                    tx = dst.begin(writable=True)
                    size = 0
                size += item_size
                _copy(tx, path, key, value, sequence)
        tx.commit()
    finally:
        if not tx.closed:
            tx.rollback()


def _copy(tx: Tx, path: list[bytes], key: bytes, value: bytes | None, sequence: int) -> None:
    if not path:
        tx.create_bucket(key).set_sequence(sequence)
        return
    parent = tx.bucket(path[0])
    for name in path[1:]:
        assert parent is not None
        parent = parent.bucket(name)
    assert parent is not None
    parent.fill_percent = 1.0
    if value is None:
        parent.create_bucket(key).set_sequence(sequence)
    else:
        parent.put(key, value)


def _walk(tx: Tx) -> Iterator[_Item]:
    for name, bucket in tx.buckets():
        yield from _walk_bucket(bucket, [], name, frozenset([tx.meta.root]))


def _walk_bucket(
    bucket: Bucket, path: list[bytes], name: bytes, active: frozenset[int]
) -> Iterator[_Item]:
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
    yield path, name, None, bucket.sequence
    inner = [*path, name]
    for key, value in bucket.items():
        if value is None:
            child = bucket.bucket(key)
            if child is None:  # damage: bbolt reads the nil bucket's sequence
                from .check import BboltPanic

                raise BboltPanic(
                    "runtime error: invalid memory address or nil pointer dereference", raw=True
                )
            yield from _walk_bucket(child, inner, key, active)
        else:
            yield inner, key, value, bucket.sequence
