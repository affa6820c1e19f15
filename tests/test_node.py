"""pybbolt.node: a branch or leaf node, its edits, its split and its page bytes.

Every expected value is worked out by hand from bbolt's node.go (``size``,
``put``, ``del``, ``splitTwo``/``splitIndex``, ``write``): a page header of
16 bytes, 16-byte elements, a leaf element (flags, pos, ksize, vsize) and a
branch element (pos, ksize, pgid) whose ``pos`` counts from the element itself.
"""

from __future__ import annotations

import struct

import pytest

from pybbolt import Error
from pybbolt.node import Node, run_items

PS = 4096


def leaf(keys: list[bytes], values: list[bytes], flags: list[int] | None = None) -> Node:
    return Node(True, list(keys), list(values), list(flags or [0] * len(keys)), [])


def branch(keys: list[bytes], pgids: list[int]) -> Node:
    return Node(False, list(keys), [], [], list(pgids))


def uniform_leaf(n: int, vsize: int) -> Node:
    """n items of a 4-byte key and ``vsize``-byte value: 20 + vsize bytes each."""
    return leaf([b"%04d" % i for i in range(n)], [b"v" * vsize] * n)


def split_sizes(node: Node, page_size: int = PS, fill: float = 0.5) -> list[int]:
    return [len(n.keys) for n in node.split(page_size, fill)]


# -- size ---------------------------------------------------------------------------------


def test_size_of_leaf_and_branch() -> None:
    assert leaf([], []).size() == 16
    # 16 + 2 elements * 16 + keys (1 + 2) + values (3 + 0)
    assert leaf([b"a", b"bc"], [b"xyz", b""]).size() == 54
    # a branch counts its keys only
    assert branch([b"a", b"bc"], [3, 4]).size() == 16 + 32 + 3


# -- put / delete -------------------------------------------------------------------------


def test_put_inserts_in_order_and_replaces() -> None:
    n = leaf([b"b", b"d"], [b"2", b"4"])
    n.put(b"c", b"c", b"3", 0, 0)
    n.put(b"a", b"a", b"1", 0, 1)
    n.put(b"e", b"e", b"5", 0, 0)
    assert n.keys == [b"a", b"b", b"c", b"d", b"e"]
    assert n.values == [b"1", b"2", b"3", b"4", b"5"]
    assert n.flags == [1, 0, 0, 0, 0]
    n.put(b"c", b"c", b"three", 0, 1)  # same key: replaced in place
    assert n.keys == [b"a", b"b", b"c", b"d", b"e"]
    assert (n.values[2], n.flags[2]) == (b"three", 1)


def test_put_renames_a_key_in_place() -> None:
    """bbolt's put(oldKey, newKey, ...) on a branch: the child's first key changed."""
    n = branch([b"a", b"m"], [5, 6])
    n.put(b"m", b"k", b"", 9, 0)
    assert n.keys == [b"a", b"k"] and n.pgids == [5, 9]
    n.put(b"z", b"z", b"", 7, 0)  # a key not there: inserted
    assert n.keys == [b"a", b"k", b"z"] and n.pgids == [5, 9, 7]


def test_delete_marks_unbalanced_only_when_something_went() -> None:
    n = leaf([b"a", b"b"], [b"1", b"2"])
    n.delete(b"c")
    n.delete(b"")
    assert n.keys == [b"a", b"b"] and not n.unbalanced
    n.delete(b"a")
    assert n.keys == [b"b"] and n.values == [b"2"] and n.flags == [0]
    assert n.unbalanced


def test_run_items_gives_none_for_buckets() -> None:
    run = ([0, 1, 0], [b"a", b"b", b"c"], [b"1", b"hdr", b""])
    assert list(run_items(run)) == [(b"a", b"1"), (b"b", None), (b"c", b"")]
    assert list(run_items(([0], [b"a"], [b"1"]))) == [(b"a", b"1")]


# -- split: splitTwo / splitIndex ---------------------------------------------------------
# A node splits when it has more than 4 (2 * minKeysPerPage) items and its size
# is at least the page size.  splitIndex walks the items from size 16, and cuts
# at the first i >= 2 where size + element > threshold (page size * fill
# percent, fill clamped to [0.1, 1.0]), looking at no more than n - 2 items.


def test_no_split_below_a_page() -> None:
    # 16 + 50 * 80 = 4016 < 4096
    assert split_sizes(uniform_leaf(50, 60)) == [50]


def test_split_at_exactly_a_page() -> None:
    # 16 + 51 * 80 = 4096: not less than the page.  Threshold 2048: the cut is
    # at i = 25 (16 + 25 * 80 + 80 = 2096 > 2048); the rest, 16 + 26 * 80 =
    # 2096 bytes, fits.
    assert split_sizes(uniform_leaf(51, 60)) == [25, 26]


def test_split_one_byte_under_a_page() -> None:
    # 51 items, one value a byte shorter: 4095 bytes, under a page: no split
    n = uniform_leaf(51, 60)
    n.values[0] = b"v" * 59
    assert n.size() == 4095
    assert split_sizes(n) == [51]


def test_split_fill_percent_bounds() -> None:
    # fill 1.0: threshold 4096 is never passed within the first n - 2 = 49
    # items, so the cut is at the last index looked at, 48; 3 items remain.
    assert split_sizes(uniform_leaf(51, 60), fill=1.0) == [48, 3]
    assert split_sizes(uniform_leaf(51, 60), fill=2.0) == [48, 3]  # clamped to 1.0
    # fill 0.1: threshold int(409.6) = 409; 16 + 4 * 80 + 80 = 416 > 409 at i = 4
    # (16 + 3 * 80 + 80 = 336 is not); the other 47 items are 3776 bytes.
    assert split_sizes(uniform_leaf(51, 60), fill=0.1) == [4, 47]
    assert split_sizes(uniform_leaf(51, 60), fill=0.0) == [4, 47]  # clamped to 0.1


def test_split_keeps_min_keys_per_page() -> None:
    # 4 items never split, however big
    assert split_sizes(uniform_leaf(4, 5000)) == [4]
    # 5 items of 1020 bytes (5116 in all): i = 0, 1 are taken whatever the
    # size (minKeysPerPage), at i = 2 16 + 2040 + 1020 > 2048 cuts; 3 remain.
    assert split_sizes(uniform_leaf(5, 1000)) == [2, 3]


def test_split_repeats_until_the_rest_fits() -> None:
    # 200 items of 80 bytes (16016 bytes): cuts of 25 while the rest is a page
    # or more; after six, 50 items (16 + 50 * 80 = 4016 bytes) remain.
    sizes = split_sizes(uniform_leaf(200, 60))
    assert sizes == [25] * 6 + [50]
    assert sum(sizes) == 200


def test_split_branch_counts_keys_only() -> None:
    # branch elements: 16 + 48-byte key = 64 bytes; 16 + 64 * 64 = 4112 >= 4096.
    # Threshold 2048: cut at i = 31 (16 + 31 * 64 + 64 = 2064 > 2048).
    n = branch([b"%048d" % i for i in range(64)], list(range(100, 164)))
    nodes = n.split(PS, 0.5)
    assert [len(x.keys) for x in nodes] == [31, 33]
    assert nodes[1].pgids == list(range(131, 164))
    assert nodes[0] is n and nodes[0].pgids == list(range(100, 131))


def test_split_links_a_new_parent() -> None:
    n = uniform_leaf(51, 60)
    first, second = n.split(PS, 0.5)
    assert first is n
    parent = n.parent
    assert parent is not None and not parent.is_leaf
    assert parent.children == [first, second] and second.parent is parent
    assert second.keys[0] == b"0025" and first.keys[-1] == b"0024"


# -- encode: node.write -------------------------------------------------------------------


def test_encode_leaf_bytes() -> None:
    n = leaf([b"a", b"bc"], [b"xyz", b""], [0, 1])
    page = n.encode(5, 64)
    want = bytearray(64)
    struct.pack_into("<QHHI", want, 0, 5, 0x02, 2, 0)
    # data starts at 16 + 2 * 16 = 48; pos is relative to the element
    struct.pack_into("<IIII", want, 16, 0, 48 - 16, 1, 3)
    struct.pack_into("<IIII", want, 32, 1, 52 - 32, 2, 0)
    want[48:54] = b"axyzbc"
    assert bytes(page) == bytes(want)


def test_encode_branch_bytes() -> None:
    n = branch([b"k1", b"zz"], [7, (1 << 33) + 2])
    page = n.encode(9, 64, overflow=0)
    want = bytearray(64)
    struct.pack_into("<QHHI", want, 0, 9, 0x01, 2, 0)
    struct.pack_into("<IIQ", want, 16, 48 - 16, 2, 7)
    struct.pack_into("<IIQ", want, 32, 50 - 32, 2, (1 << 33) + 2)
    want[48:52] = b"k1zz"
    assert bytes(page) == bytes(want)


def test_encode_empty_and_overflow_header() -> None:
    page = leaf([], []).encode(3, 4096 * 3, overflow=2)
    assert struct.unpack_from("<QHHI", page) == (3, 0x02, 0, 2)
    assert len(page) == 3 * 4096 and not any(page[16:])


def test_encode_refuses_65535_items() -> None:
    keys = [i.to_bytes(3, "big") for i in range(0xFFFF)]
    n = leaf(keys, [b""] * 0xFFFF)
    with pytest.raises(Error, match=r"^inode overflow: 65535 \(pgid=3\)$"):
        n.encode(3, n.size())
    del n.keys[-1], n.values[-1], n.flags[-1]
    page = n.encode(3, n.size())  # 65534 items: the count still fits in u16
    assert struct.unpack_from("<QHHI", page) == (3, 0x02, 0xFFFE, 0)


def test_copy_is_detached() -> None:
    n = leaf([b"a"], [b"1"])
    c = n.copy()
    c.put(b"b", b"b", b"2", 0, 0)
    assert n.keys == [b"a"] and c.keys == [b"a", b"b"]
    assert c.key == b"a" and c.parent is None
