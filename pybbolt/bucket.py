"""Buckets: named collections of key/value pairs and nested buckets."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .cursor import Cursor, Item
from .errors import CorruptionError, TxClosed, TxNotWritable
from .layout import (
    BUCKET_HEADER,
    BUCKET_HEADER_SIZE,
    BUCKET_LEAF_FLAG,
    DEFAULT_FILL_PERCENT,
)
from .node import Node
from .page import decode, read_header

if TYPE_CHECKING:
    from .stats import BucketStats
    from .tx import Tx

# Deeper than any real tree (fanout >= 2 on 2^64 pages): a deeper descent
# means the pages form a cycle.
MAX_DEPTH = 64


class Bucket:
    """A bucket of a transaction: its keys, values and nested buckets.

    Obtained from :meth:`Tx.bucket` or :meth:`Bucket.bucket`; valid for the
    life of the transaction.
    """

    __slots__ = (
        "_buckets",
        "_inline",
        "_nodes",
        "_root",
        "_root_materialised",
        "_tx",
        "fill_percent",
        "name",
        "sequence_value",
    )

    def __init__(self, tx: Tx, root: int, sequence: int, inline: Node | None, name: bytes) -> None:
        self._tx = tx
        self._root = root
        self.sequence_value = sequence
        self._inline = inline
        self.name = name
        self._buckets: dict[bytes, Bucket] = {}
        self._nodes: dict[int, Node] = {}
        self._root_materialised: Node | None = None
        self.fill_percent = DEFAULT_FILL_PERCENT

    @classmethod
    def from_value(cls, tx: Tx, name: bytes, value: bytes) -> Bucket:
        """Open the nested bucket whose leaf value is ``value``."""
        if len(value) < BUCKET_HEADER_SIZE:
            raise CorruptionError(
                f"bucket {name.hex()}: value of {len(value)} bytes is shorter than a bucket header"
            )
        root, sequence = BUCKET_HEADER.unpack_from(value)
        inline = None
        if root == 0:
            header = read_header(value, BUCKET_HEADER_SIZE)
            inline = decode(value, BUCKET_HEADER_SIZE, header, 0)
            if not inline.is_leaf:
                raise CorruptionError(f"bucket {name.hex()}: inline page is not a leaf")
        return cls(tx, root, sequence, inline, name)

    # -- properties --------------------------------------------------------

    @property
    def tx(self) -> Tx:
        """The transaction this bucket belongs to."""
        return self._tx

    @property
    def root(self) -> int:
        """Page id of the bucket's root page (0 for an inline bucket)."""
        return self._root

    @property
    def sequence(self) -> int:
        """The bucket's sequence counter."""
        return self.sequence_value

    @property
    def inline(self) -> bool:
        """Whether the bucket is stored inline in its parent's leaf."""
        return self._root == 0

    @property
    def writable(self) -> bool:
        """Whether the bucket belongs to a writable transaction."""
        return self._tx.writable

    # -- reading -----------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, or None if absent or ``key`` names a bucket."""
        node, index = self._find(key)
        if index < len(node.keys) and node.keys[index] == key:
            if node.flags[index] & BUCKET_LEAF_FLAG:
                return None
            return node.values[index]
        return None

    def bucket(self, name: bytes) -> Bucket | None:
        """The nested bucket ``name``, or None."""
        child = self._buckets.get(name)
        if child is not None:
            return child
        node, index = self._find(name)
        if (
            index >= len(node.keys)
            or node.keys[index] != name
            or not node.flags[index] & BUCKET_LEAF_FLAG
        ):
            return None
        child = Bucket.from_value(self._tx, name, node.values[index])
        self._buckets[name] = child
        return child

    def cursor(self) -> Cursor:
        """A new cursor over this bucket."""
        self._check_open()
        return Cursor(self)

    def items(self) -> Iterator[Item]:
        """All ``(key, value)`` pairs in key order; value None for a bucket."""
        return iter(self.cursor())

    def keys(self) -> Iterator[bytes]:
        """All keys (nested bucket names included) in key order."""
        for key, _ in self.items():
            yield key

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """The nested buckets in key order, as ``(name, bucket)``."""
        for key, value in self.items():
            if value is None:
                child = self.bucket(key)
                if child is not None:
                    yield key, child

    def for_each(self) -> Iterator[tuple[bytes, bytes | None]]:
        """Alias of :meth:`items` (bbolt's ForEach)."""
        return self.items()

    def stats(self) -> BucketStats:
        """Page and key statistics of this bucket and its nested buckets (bbolt's Stats)."""
        from .stats import bucket_stats

        return bucket_stats(self)

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes | bytearray):
            return False
        node, index = self._find(bytes(key))
        return index < len(node.keys) and node.keys[index] == key

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __repr__(self) -> str:
        return f"<pybbolt.Bucket {self.name!r} root={self._root} seq={self.sequence_value}>"

    # -- internals shared with Cursor and the writer -----------------------

    def _check_open(self) -> None:
        if self._tx.closed:
            raise TxClosed()

    def _check_writable(self) -> None:
        self._check_open()
        if not self._tx.writable:
            raise TxNotWritable()

    def _root_node(self) -> Node:
        if self._root_materialised is not None:
            return self._root_materialised
        if self._root == 0:
            assert self._inline is not None
            return self._inline
        return self._node(self._root)

    def _node(self, pgid: int) -> Node:
        """bbolt's ``pageNode``: a dirty node of this bucket, else the page."""
        if self._root == 0:
            raise CorruptionError(f"inline bucket {self.name.hex()} refers to page {pgid}")
        node = self._nodes.get(pgid) if self._nodes else None
        if node is not None:
            return node
        return self._tx._page_node(pgid)

    def _find(self, key: bytes) -> tuple[Node, int]:
        """The leaf node where ``key`` is or would be, and its index there."""
        self._check_open()
        node = self._root_node()
        depth = 0
        while not node.is_leaf:
            keys = node.keys
            index = bisect_left(keys, key)
            if index == len(keys) or keys[index] != key:
                index = index - 1 if index > 0 else 0
            if index >= len(node.pgids):
                raise CorruptionError(f"page {node.pgid}: branch page has no elements")
            depth += 1
            if depth > MAX_DEPTH:
                raise CorruptionError(f"page {node.pgid}: the page tree is cyclic")
            node = self._node(node.pgids[index])
        return node, bisect_left(node.keys, key)

