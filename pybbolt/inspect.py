"""The bucket tree with key counts, as bbolt's ``Tx.Inspect`` builds it.

The walk reads pages the way bbolt does (:class:`~pybbolt.page.PageReader`,
as ``check`` and ``stats`` do), so a damaged file gives bbolt's tree where
bbolt gives one (a branch page whose elements were cleared is still entered
at its element 0), and raises :class:`~pybbolt.errors.BboltPanic` with
bbolt's message where bbolt panics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import BboltPanic, TxClosed
from .layout import BUCKET_LEAF_FLAG, LEAF_PAGE, PAGE_HEADER_SIZE
from .page import PageReader

if TYPE_CHECKING:
    from .tx import Tx

# An item as the raw cursor yields it: key, flags, value offset, value length.
_Item = tuple[bytes, int, int, int]


@dataclass
class BucketStructure:
    """One bucket: its name, its plain keys counted, its nested buckets in key order.

    bbolt's ``BucketStructure`` (JSON fields ``name``, ``keyN``, ``buckets``).
    """

    name: bytes
    key_n: int = 0
    children: list[BucketStructure] = field(default_factory=list)


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


def inspect_tree(tx: Tx) -> BucketStructure:
    """The whole tree below the root bucket, whose name is ``root``."""
    if tx.closed:
        raise TxClosed()
    walker = _Walker(PageReader(tx._data, tx.page_size))
    if tx.meta.root == 0:  # bbolt's root bucket then has neither page nor node
        raise _nil_bucket()
    try:
        return walker.inspect(b"root", tx.meta.root, None)
    except RecursionError:
        raise BboltPanic(
            "fatal error: stack overflow: buckets nest too deeply", raw=True, fatal=True
        ) from None
