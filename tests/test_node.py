"""pybbolt.node: a branch or leaf node, its edits, its split and its page bytes.

Every expected value is worked out by hand from bbolt's node.go (``size``,
``put``, ``del``, ``splitTwo``/``splitIndex``, ``write``): a page header of
16 bytes, 16-byte elements, a leaf element (flags, pos, ksize, vsize) and a
branch element (pos, ksize, pgid) whose ``pos`` counts from the element itself.
"""

from __future__ import annotations

import struct

import pytest

from pybbolt import CorruptionError, Error
from pybbolt.node import Node, decode, decode_branch, decode_leaf, decode_page, run_items
from pybbolt.page import PageHeader

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


def sized_leaf(item_sizes: list[int]) -> Node:
    """Items of the given serialised sizes (element 16 + 4-byte key + value)."""
    keys = [b"%04d" % i for i in range(len(item_sizes))]
    return leaf(keys, [b"v" * (size - 20) for size in item_sizes])


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


@pytest.mark.parametrize("top", [0xFFFFFFFE, 0xFFFFFFFF, 1 << 32, (1 << 32) + 1])
def test_branch_page_ids_at_the_high_word(top: int) -> None:
    """Ids below 2^32 leave every high word 0 (the fast path); one id at or
    above it takes the split: both give bbolt's u64 element field."""
    pgids = [3, top, 5]
    n = branch([b"a", b"b", b"c"], pgids)
    page = n.encode(9, 128)
    assert [struct.unpack_from("<IIQ", page, 16 + 16 * i)[2] for i in range(3)] == pgids
    assert struct.unpack_from("<III", page, 16 + 16 + 8)[0] == top & 0xFFFFFFFF
    assert struct.unpack_from("<I", page, 16 + 16 + 12)[0] == top >> 32
    back = decode_page(bytes(page), 0, 9)
    assert back.pgids == pgids and all(type(p) is int for p in back.pgids)


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


def test_new_node_state() -> None:
    """A node starts unsaved (pgid 0), detached, not materialised, clean."""
    n = leaf([b"a", b"b"], [b"1", b"2"])
    assert n.pgid == 0 and n.key == b"a" and n.parent is None and n.children == []
    assert n.materialised is False and n.unbalanced is False and n.spilled is False
    assert branch([], []).key is None
    assert Node(False, [b"k"], [], [], [3], 7).pgid == 7


def test_copy_keeps_everything_but_the_tree() -> None:
    n = leaf([b"a", b"b"], [b"1", b"2"], [0, 1])
    n.pgid = 9
    c = n.copy()
    assert (c.is_leaf, c.keys, c.values, c.flags, c.pgids, c.pgid) == (
        True, [b"a", b"b"], [b"1", b"2"], [0, 1], [], 9)
    assert c.values is not n.values and c.flags is not n.flags
    # a damaged branch's stale element-0 child id (pgids longer than keys) is dropped
    b = Node(False, [], [], [], [42], 5)
    bc = b.copy()
    assert (bc.is_leaf, bc.keys, bc.pgids, bc.pgid) == (False, [], [], 5)
    b2 = branch([b"a", b"m"], [3, 4]).copy()
    assert b2.is_leaf is False and b2.pgids == [3, 4]


def test_tree_links() -> None:
    root = branch([b"a", b"m"], [3, 4])
    left, right = leaf([b"a"], [b"1"]), leaf([b"m", b"n"], [b"2", b"3"])
    for child in (left, right):
        child.parent = root
        root.children.append(child)
    assert root.child_index(left) == 0 and root.child_index(right) == 1
    right.key = b"l"  # a key between: the item it would be inserted at
    assert root.child_index(right) == 1
    right.key = None  # a node made by a split: searched as b""
    assert root.child_index(right) == 0
    assert branch([b"A", b"B"], [3, 4]).child_index(right) == 0
    assert left.root() is root and root.root() is root
    root.remove_child(right)
    assert root.children == [left]
    root.remove_child(right)  # not a child: nothing happens
    assert root.children == [left]
    left.append_items(right)
    assert (left.keys, left.values, left.flags) == ([b"a", b"m", b"n"], [b"1", b"2", b"3"],
                                                    [0, 0, 0])
    root.append_items(branch([b"z"], [9]))
    assert root.keys == [b"a", b"m", b"z"] and root.pgids == [3, 4, 9]
    holder = leaf([b"q"], [b"0"])
    holder.take_items(root)
    assert holder.is_leaf is False and holder.keys is root.keys and holder.pgids is root.pgids
    assert holder.values is root.values and holder.flags is root.flags
    holder.take_items(left)
    assert holder.is_leaf is True and holder.values is left.values
    assert holder.flags is left.flags and holder.pgids is left.pgids


def test_split_at_exactly_the_threshold() -> None:
    # 33 items of 127 bytes: 16 + 33 * 127 = 4207.  At i = 15, 16 + 15 * 127 +
    # 127 = 2048 is not more than the threshold: taken; at i = 16 the cut.
    assert split_sizes(sized_leaf([127] * 33)) == [16, 17]


def test_split_stops_at_four_items_even_over_a_page() -> None:
    # 16 + 20 + 20 + 2000 + 3 * 700 = 4156 bytes: cut at i = 2 (56 + 2000 >
    # 2048); the rest, 4 items of 4116 bytes, is still a page but splitTwo
    # leaves 4 items alone.
    assert split_sizes(sized_leaf([20, 20, 2000, 700, 700, 700])) == [2, 4]


def test_split_index_looks_at_n_minus_2_items_of_the_rest() -> None:
    # fill 1.0: 100 items of 80 bytes and 2 of 3000.  The first cut at i = 51
    # (16 + 51 * 80 + 80 > 4096); then 51 items are left, splitIndex looks at
    # 49 of them (all 80 bytes: no cut) and ends at index 48; 3 items remain.
    assert split_sizes(sized_leaf([80] * 100 + [3000] * 2), fill=1.0) == [51, 48, 3]


def test_split_items_and_new_nodes() -> None:
    n = leaf([b"%04d" % i for i in range(51)], [b"%060d" % i for i in range(51)],
             [i % 2 for i in range(51)])
    first, second = n.split(PS, 0.5)
    assert first.values == [b"%060d" % i for i in range(25)]
    assert second.values == [b"%060d" % i for i in range(25, 51)]
    assert first.flags == [i % 2 for i in range(25)]
    assert second.flags == [i % 2 for i in range(25, 51)]
    assert first.pgids == second.pgids == []
    assert second.is_leaf is True and second.materialised is True and second.pgid == 0
    parent = n.parent
    assert parent is not None
    assert parent.is_leaf is False and parent.materialised is True and parent.pgid == 0
    assert (parent.keys, parent.values, parent.flags, parent.pgids) == ([], [], [], [])


def test_split_under_an_existing_parent() -> None:
    parent = branch([b"0000"], [3])
    parent.materialised = True
    n = uniform_leaf(51, 60)
    n.parent = parent
    parent.children.append(n)
    first, second = n.split(PS, 0.5)
    assert n.parent is parent and second.parent is parent
    assert parent.children == [first, second]
    assert parent.keys == [b"0000"] and parent.pgids == [3]


# -- decode: node.read --------------------------------------------------------------------


def leaf_page(pgid: int, items: list[tuple[int, bytes, bytes]], length: int = 128) -> bytes:
    """A leaf page packed by hand: (flags, key, value) items, data after the elements."""
    buf = bytearray(length)
    struct.pack_into("<QHHI", buf, 0, pgid, 0x02, len(items), 0)
    data = 16 + 16 * len(items)
    for i, (flags, key, value) in enumerate(items):
        elem = 16 + 16 * i
        struct.pack_into("<IIII", buf, elem, flags, data - elem, len(key), len(value))
        buf[data : data + len(key) + len(value)] = key + value
        data += len(key) + len(value)
    return bytes(buf)


def branch_page(pgid: int, items: list[tuple[bytes, int]], length: int = 128) -> bytes:
    """A branch page packed by hand: (key, child pgid) items."""
    buf = bytearray(length)
    struct.pack_into("<QHHI", buf, 0, pgid, 0x01, len(items), 0)
    data = 16 + 16 * len(items)
    for i, (key, child) in enumerate(items):
        elem = 16 + 16 * i
        struct.pack_into("<IIQ", buf, elem, data - elem, len(key), child)
        buf[data : data + len(key)] = key
        data += len(key)
    return bytes(buf)


def test_decode_leaf_page() -> None:
    page = leaf_page(6, [(0, b"a", b"xyz"), (1, b"bc", b"hdr-bytes"), (0, b"d", b"")])
    buf = bytes(6 * 128) + page  # the page at its offset in the file
    for n in (decode_page(buf, 6 * 128, 6), decode_leaf(buf, 6 * 128, 3, 6),
              decode(buf, 6 * 128, PageHeader(6, 0x02, 3, 0), 6)):
        assert (n.is_leaf, n.keys, n.values, n.flags, n.pgids, n.pgid) == (
            True, [b"a", b"bc", b"d"], [b"xyz", b"hdr-bytes", b""], [0, 1, 0], [], 6)
        assert n.key == b"a"
    assert decode_page(bytearray(page), 0, 6).keys == [b"a", b"bc", b"d"]


def test_decode_branch_page() -> None:
    page = branch_page(9, [(b"k1", 7), (b"zz", (1 << 33) + 2), (b"zzz", 0xFFFFFFFF)])
    buf = bytes(128) + page
    for n in (decode_page(buf, 128, 9), decode_branch(buf, 128, 3, 9),
              decode_page(bytearray(buf), 128, 9),
              decode(buf, 128, PageHeader(9, 0x01, 3, 0), 9)):
        assert (n.is_leaf, n.keys, n.values, n.flags, n.pgids, n.pgid) == (
            False, [b"k1", b"zz", b"zzz"], [], [], [7, (1 << 33) + 2, 0xFFFFFFFF], 9)
    # node.write's bytes read back
    n = branch([b"k1", b"zz"], [7, (1 << 33) + 2])
    back = decode_page(bytes(n.encode(4, 64)), 0, 4)
    assert (back.keys, back.pgids) == ([b"k1", b"zz"], [7, (1 << 33) + 2])


def test_decode_leaf_past_the_data() -> None:
    page = leaf_page(6, [(0, b"a", b"1")], 34)  # the value ends the data
    assert decode_leaf(page, 0, 1, 6).values == [b"1"]
    with pytest.raises(CorruptionError,
                       match=r"^page 6: 2 elements run past the end of the data$"):
        decode_leaf(page, 0, 2, 6)
    short = bytearray(page)
    struct.pack_into("<I", short, 16 + 12, 2)  # a value of 2 bytes: one past the end
    with pytest.raises(CorruptionError,
                       match=r"^page 6: leaf element 0 points outside the data$"):
        decode_leaf(bytes(short), 0, 1, 6)


def test_decode_branch_without_elements() -> None:
    """bbolt descends into element 0 of an empty branch page: its child id is kept."""
    page = bytearray(branch_page(3, [(b"k", 77)], 64))
    struct.pack_into("<H", page, 10, 0)  # count 0; element 0's bytes stay
    n = decode_page(bytes(page), 0, 3)
    assert (n.is_leaf, n.keys, n.pgids) == (False, [], [77])
    # the page ends right after its header: no element 0 to read
    n = decode_branch(bytes(page[:16]), 0, 0, 3)
    assert (n.keys, n.pgids) == ([], [])
    n = decode_branch(bytes(page[:32]), 0, 0, 3)  # exactly one element's bytes
    assert n.pgids == [77]


def test_decode_branch_key_past_the_data() -> None:
    page = bytearray(branch_page(5, [(b"ab", 3), (b"cd", 4)], 52))  # keys end at 52
    assert decode_branch(bytes(page), 0, 2, 5).keys == [b"ab", b"cd"]
    struct.pack_into("<I", page, 32 + 4, 3)  # element 1's key: 3 bytes, one past the end
    struct.pack_into("<I", page, 16, 50 - 16)  # element 0's key: the last 2 bytes, in bounds
    with pytest.raises(CorruptionError,
                       match=r"^page 5: branch element 1 points outside the data$"):
        decode_branch(bytes(page), 0, 2, 5)
    with pytest.raises(CorruptionError,
                       match=r"^page 5: 3 elements run past the end of the data$"):
        decode_branch(bytes(page), 0, 3, 5)


def test_decode_refuses_other_pages() -> None:
    page = bytearray(leaf_page(6, [(0, b"a", b"1")]))
    with pytest.raises(CorruptionError, match=r"^assertion failed: Page expected to be: 7, "
                                              r"but self identifies as 6$"):
        decode_page(bytes(page), 0, 7)
    struct.pack_into("<H", page, 8, 0x01)
    with pytest.raises(CorruptionError, match=r"^assertion failed: Page expected to be: 7, "
                                              r"but self identifies as 6$"):
        decode_page(bytes(page), 0, 7)
    struct.pack_into("<H", page, 8, 0x10)  # a freelist page where a node is expected
    with pytest.raises(CorruptionError, match=r"^invalid page type: 6: 10$"):
        decode_page(bytes(page), 0, 6)
    with pytest.raises(CorruptionError, match=r"^invalid page type: 6: 4$"):
        decode(bytes(page), 0, PageHeader(6, 0x04, 1, 0), 6)
    struct.pack_into("<H", page, 8, 0x20)
    with pytest.raises(CorruptionError, match=r"^assertion failed: page 6: has unexpected "
                                              r"type/flags: 20$"):
        decode_page(bytes(page), 0, 6)


def _split_two_cuts(node: Node, page_size: int, fill_percent: float) -> list[int]:
    """bbolt's splitTwo/splitIndex, repeated, item by item: where it cuts."""
    sizes = [16 + len(k) + (len(v) if node.is_leaf else 0)
             for k, v in zip(node.keys, node.values if node.is_leaf else node.keys)]
    fill = min(max(fill_percent, 0.1), 1.0)
    threshold = int(page_size * fill)
    cuts: list[int] = []
    start = 0
    while len(sizes) - start > 4 and 16 + sum(sizes[start:]) >= page_size:
        size, index = 16, 0
        for i in range(len(sizes) - start - 2):
            index = i
            if i >= 2 and size + sizes[start + i] > threshold:
                break
            size += sizes[start + i]
        start += index
        cuts.append(start)
    return cuts


def test_split_cuts_match_split_index_item_by_item() -> None:
    """The cuts found from the running sums are splitIndex's, on seeded
    nodes of every shape: small and page-sized items, leaves and branches,
    fill percents below, inside and above bbolt's bounds."""
    import random

    rng = random.Random(20250101)
    for _ in range(3000):
        n = rng.randrange(0, 120)
        top = rng.choice([40, 600, 5000])
        keys = [b"k" * rng.randrange(1, top) for _ in range(n)]
        is_leaf = rng.random() < 0.7
        values = [b"v" * rng.randrange(0, top) for _ in range(n)] if is_leaf else []
        node = Node(is_leaf, keys, values, [0] * n if is_leaf else [], [] if is_leaf else [2] * n)
        page_size = rng.choice([512, 1024, 4096])
        fill = rng.choice([0.0, 0.1, 0.5, 0.73, 1.0, 1.5])
        want = _split_two_cuts(node, page_size, fill)
        assert node._cuts(page_size, fill) == want
        assert [len(p.keys) for p in node.split(page_size, fill)] == [
            b - a for a, b in zip([0, *want], [*want, n])]


def test_uniform_leaf_elements_come_from_the_first_encode(monkeypatch: pytest.MonkeyPatch) -> None:
    """A leaf whose items share one key size and one value size (no flags)
    reuses the element array its first encode computed; any other leaf, even
    of the same count and total size, is encoded item by item."""
    from pybbolt import fastpath

    monkeypatch.setattr(fastpath, "UNIFORM_LEAF_ELEMENTS", {})
    import pybbolt.node as node_module

    monkeypatch.setattr(node_module, "UNIFORM_LEAF_ELEMENTS", fastpath.UNIFORM_LEAF_ELEMENTS)
    want = bytearray(128)
    struct.pack_into("<QHHI", want, 0, 5, 0x02, 2, 0)
    struct.pack_into("<IIII", want, 16, 0, 48 - 16, 2, 3)
    struct.pack_into("<IIII", want, 32, 0, 53 - 32, 2, 3)
    want[48:58] = b"k1v01k2v02"
    first = leaf([b"k1", b"k2"], [b"v01", b"v02"]).encode(5, 128)
    assert bytes(first) == bytes(want)
    assert {(2, 2, 3): bytes(want[16:48])} == fastpath.UNIFORM_LEAF_ELEMENTS
    again = leaf([b"k1", b"k2"], [b"v01", b"v02"]).encode(5, 128)
    assert bytes(again) == bytes(want)
    # Same count and sizes in total, items not alike: positions of their own.
    mixed = leaf([b"k", b"k2x"], [b"v01", b"v02"]).encode(5, 128)
    assert struct.unpack_from("<8I", mixed, 16) == (0, 32, 1, 3, 0, 20, 3, 3)
    flagged = leaf([b"k1", b"k2"], [b"v01", b"v02"], [0, 1]).encode(5, 128)
    assert struct.unpack_from("<8I", flagged, 16) == (0, 32, 2, 3, 1, 21, 2, 3)
    assert list(fastpath.UNIFORM_LEAF_ELEMENTS) == [(2, 2, 3)]
    # A page too short for its element array still refuses it, cached or not.
    for _ in range(2):
        with pytest.raises(struct.error):
            leaf([b"k1", b"k2"], [b"v01", b"v02"]).encode(5, 40)


def test_uniform_leaf_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from pybbolt import fastpath

    monkeypatch.setattr(fastpath, "UNIFORM_LEAF_ELEMENTS", {})
    monkeypatch.setattr(fastpath, "_UNIFORM_LEAF_BYTES", [64])
    fastpath.remember_uniform_leaf((4, 1, 1), bytes(64))  # exactly what is left
    fastpath.remember_uniform_leaf((1, 1, 1), bytes(16))  # nothing is left
    assert list(fastpath.UNIFORM_LEAF_ELEMENTS) == [(4, 1, 1)]
    assert fastpath._UNIFORM_LEAF_BYTES == [0]
