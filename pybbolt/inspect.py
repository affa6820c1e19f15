"""The bucket tree with key counts, as bbolt's ``Tx.Inspect`` builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import CorruptionError

if TYPE_CHECKING:
    from .bucket import Bucket
    from .tx import Tx


@dataclass
class BucketStructure:
    """One bucket: its name, its plain keys counted, its nested buckets in key order.

    bbolt's ``BucketStructure`` (JSON fields ``name``, ``keyN``, ``buckets``).
    """

    name: bytes
    key_n: int = 0
    children: list[BucketStructure] = field(default_factory=list)


def inspect_bucket(bucket: Bucket, name: bytes) -> BucketStructure:
    """bbolt's ``recursivelyInspect``: walk ``bucket`` depth first, in key order."""
    node = BucketStructure(name)
    for key, value in bucket.items():
        if value is None:
            child = bucket.bucket(key)
            if child is None:
                raise CorruptionError(f"bucket {key.hex()}: flagged as a bucket but unreadable")
            node.children.append(inspect_bucket(child, key))
        else:
            node.key_n += 1
    return node


def inspect_tree(tx: Tx) -> BucketStructure:
    """The whole tree below the root bucket, whose name is ``root``."""
    try:
        return inspect_bucket(tx.root, b"root")
    except RecursionError:
        raise CorruptionError("buckets nest too deeply: the bucket tree is cyclic") from None
