"""Database files built by hand, page by page, in bbolt's layout (docs/FORMAT.md) written
out here independently of pybbolt: the damaged trees a writer never makes (cycles, shared
children, empty branches) and the legal extremes next to them.

Every file has 4096-byte pages: two metas, an empty freelist at page 2, the root bucket's
leaf at page 3 holding bucket ``b`` whose root is page 4, then the pages of ``b``.
"""

from __future__ import annotations

import struct
from pathlib import Path

PS = 4096
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


def _fnv64a(data: bytes) -> int:
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def _page(pgid: int, flags: int, elements: list[bytes], tails: list[bytes]) -> bytes:
    """A page: header, 16-byte elements (their key offsets already set), keys and values."""
    body = struct.pack("<QHHI", pgid, flags, len(elements), 0) + b"".join(elements)
    return (body + b"".join(tails)).ljust(PS, b"\0")


def leaf_page(pgid: int, items: list[tuple[bytes, bytes, int]]) -> bytes:
    """A leaf page of (key, value, flags) elements."""
    elements, tails, pos = [], [], 16 * len(items)
    for i, (k, v, flags) in enumerate(items):
        elements.append(struct.pack("<IIII", flags, pos - 16 * i, len(k), len(v)))
        tails.append(k + v)
        pos += len(k) + len(v)
    return _page(pgid, 0x02, elements, tails)


def branch_page(pgid: int, children: list[tuple[bytes, int]]) -> bytes:
    """A branch page of (key, child page id) elements."""
    elements, tails, pos = [], [], 16 * len(children)
    for i, (k, child) in enumerate(children):
        elements.append(struct.pack("<IIQ", pos - 16 * i, len(k), child))
        tails.append(k)
        pos += len(k)
    return _page(pgid, 0x01, elements, tails)


def build_db(path: Path, tree: list[bytes], value: bytes = struct.pack("<QQ", 4, 0)) -> Path:
    """Write a file whose bucket ``b`` is ``tree`` (the pages from page 4 on); ``value``
    is the bucket's value in the root bucket (its header: root page 4, sequence 0)."""
    pages = [b"", b"", _page(2, 0x10, [], []), leaf_page(3, [(b"b", value, 0x01)]), *tree]
    for txid in (0, 1):
        meta = struct.pack("<IIIIQQQQQ", 0xED0CDAED, 2, PS, 0, 3, 0, 2, len(pages), txid)
        pages[txid] = (struct.pack("<QHHI", txid, 0x04, 0, 0) + meta
                       + struct.pack("<Q", _fnv64a(meta))).ljust(PS, b"\0")
    path.write_bytes(b"".join(pages))
    return path


def chain(levels: int) -> list[bytes]:
    """``levels`` branch pages, each the only child of the one before, over one leaf."""
    tree = [branch_page(4 + i, [(b"k", 5 + i)]) for i in range(levels)]
    return [*tree, leaf_page(4 + levels, [(b"k", b"v", 0)])]


def shared_leaf(children: int) -> list[bytes]:
    """A branch of ``children`` elements that all point to the same one-key leaf."""
    return [branch_page(4, [(bytes([i]), 5) for i in range(children)]),
            leaf_page(5, [(b"k", b"v", 0)])]
