"""Walking a store through the public API: bucket paths, listings, search.

The engines of ``pybbolt ls`` and ``pybbolt find``.  A *path* is the list of
bucket names from the top level down; ``[]`` is the top level, whose entries
are all buckets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple

from .errors import BucketNotFound, CorruptionError, Error

if TYPE_CHECKING:
    from .bucket import Bucket
    from .tx import Tx

# Items handed out together by :func:`batches` (a batch costs one check of
# its bytes when formatted, see jsonfmt.json_texts).
BATCH = 1024


class Entry(NamedTuple):
    """One entry of a bucket: a pair, or a nested bucket (``value`` None)."""

    path: tuple[bytes, ...]  # the bucket holding the entry
    key: bytes
    value: bytes | None
    bucket: Bucket | None  # the nested bucket when ``value`` is None


def path_text(path: Sequence[bytes]) -> str:
    """A bucket path for messages: names joined by ``/``, bytes as Python shows them."""
    return "/".join(repr(name)[2:-1] for name in path) or "(top level)"


def resolve(tx: Tx, path: Sequence[bytes]) -> Bucket:
    """The bucket at ``path`` (``[]``: the top level); :class:`BucketNotFound` naming it."""
    bucket = tx.root
    for depth, name in enumerate(path):
        child = bucket.bucket(name)
        if child is None:
            raise BucketNotFound(f"bucket not found: {path_text(path[: depth + 1])}")
        bucket = child
    return bucket


def nested(bucket: Bucket, key: bytes, path: tuple[bytes, ...],
           roots: frozenset[int]) -> tuple[Bucket, frozenset[int]]:
    """The nested bucket ``key`` of ``bucket`` (at ``path``) to walk into, and the
    root pages of the buckets on the way down to it.

    A damaged file can make a bucket its own descendant (a root page shared
    with a bucket above it): that is an error, not an endless walk.
    """
    child = bucket.bucket(key)
    inner = (*path, key)
    if child is None:
        raise Error(f"{path_text(inner)}: a bucket entry that is not a bucket")
    root = child.root
    if not root:  # inline: its pages are inside its parent's value
        return child, roots
    if root in roots:
        raise CorruptionError(f"{path_text(inner)}: its root page {root} is the root of a "
                              "bucket above it (the bucket tree is cyclic)")
    return child, roots | {root}


def items(bucket: Bucket, prefix: bytes = b"", start: bytes | None = None,
          ) -> Iterator[tuple[bytes, bytes | None]]:
    """The pairs of ``bucket`` in key order (value None for a nested bucket),
    from ``start`` (at or after it) and only those beginning with ``prefix``."""
    if not prefix and start is None:
        yield from bucket.items()
        return
    first = max(prefix, start) if start is not None else prefix
    cursor = bucket.cursor()
    item = cursor.seek(first)
    while item is not None and item[0].startswith(prefix):
        yield item
        item = cursor.next()


def batches(bucket: Bucket, path: tuple[bytes, ...], recursive: bool = False,
            prefix: bytes = b"", start: bytes | None = None,
            roots: frozenset[int] = frozenset()) -> Iterator[list[Entry]]:
    """The entries of ``bucket`` (at ``path``) in key order, a batch at a time.

    With ``recursive``, a nested bucket's entry is followed by the entries of
    that bucket (depth first) before the next entry of its parent, in a batch
    of their own; ``prefix`` and ``start`` select the keys of ``bucket``
    itself, nested buckets are walked whole.
    """
    pairs = items(bucket, prefix, start)
    while True:
        chunk = list(islice(pairs, BATCH))
        if not chunk:
            return
        batch: list[Entry] = []
        for key, value in chunk:
            if value is not None:
                batch.append(Entry(path, key, value, None))
                continue
            child, below = nested(bucket, key, path, roots)
            batch.append(Entry(path, key, None, child))
            if recursive:
                yield batch
                batch = []
                yield from batches(child, (*path, key), True, roots=below)
        if batch:
            yield batch


class Matcher:
    """The tests of ``pybbolt find``: every given one must hold."""

    def __init__(self, key_prefix: bytes | None = None, key_regex: bytes | None = None,
                 value_regex: bytes | None = None,
                 value_of: Callable[[Entry], bytes] | None = None) -> None:
        """``value_of(entry)``: the bytes ``value_regex`` searches (default: the value)."""
        self.key_prefix = key_prefix
        self.value_of = value_of
        try:
            self.key_regex = re.compile(key_regex) if key_regex is not None else None
            self.value_regex = re.compile(value_regex) if value_regex is not None else None
        except re.error as e:
            raise Error(f"bad regular expression: {e}") from None

    def __call__(self, entry: Entry) -> bool:
        if self.key_prefix is not None and not entry.key.startswith(self.key_prefix):
            return False
        if self.key_regex is not None and self.key_regex.search(entry.key) is None:
            return False
        if self.value_regex is not None:
            if entry.value is None:
                return False
            value = entry.value if self.value_of is None else self.value_of(entry)
            return self.value_regex.search(value) is not None
        return True


def find(tx: Tx, paths: Sequence[Sequence[bytes]], match: Callable[[Entry], bool],
         progress: Callable[[int], None] | None = None) -> Iterator[Entry]:
    """The entries under the buckets at ``paths`` (all levels) that ``match``,
    in the order of a depth-first walk; ``progress(n)`` after each ``n`` entries."""
    for path in paths:
        bucket = resolve(tx, path)
        for batch in batches(bucket, tuple(path), recursive=True):
            yield from filter(match, batch)
            if progress is not None:
                progress(len(batch))
