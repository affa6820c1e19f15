"""pybbolt.bucket: put/get/delete limits, bucket operations' errors, inline
buckets and the sequence.

The limits are bbolt's (``MaxKeySize`` 32768, ``MaxValueSize`` 2^31 - 2, an
inline bucket when its leaf fits in a quarter page and holds no bucket).
Where Go can say it, Go says it: the same workload runs through pybbolt and
``boltgo replay``, both must report the errors written here, and Go's
``boltgo dump`` must find the same content in both files.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt.bucket import _key_range
from pybbolt.node import Node

from .handmade import branch_page, build_db, chain, leaf_page, shared_leaf
from .workload import Op, create, delete, go_dump, go_replay, put, replay, workload


def _h(b: bytes) -> str:
    return b.hex()


def op(kind: str, path: list[bytes], **fields: Any) -> Op:
    return {"op": kind, "path": [_h(p) for p in path], **fields}


def both(tmp_path: Path, boltgo: Path, wl: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Run ``wl`` with pybbolt and Go: the errors (equal on both sides) and
    Go's dump of pybbolt's file (equal in content to Go's own file)."""
    ours, theirs = tmp_path / "py.db", tmp_path / "go.db"
    errors = replay(wl, ours)
    go = go_replay(boltgo, wl, theirs)
    assert errors == go["errors"]
    dump_ours, dump_go = go_dump(boltgo, ours), go_dump(boltgo, theirs)
    assert dump_ours["check"] == [] and dump_go["check"] == []
    assert dump_ours["content"] == dump_go["content"]
    return errors, dump_ours


def test_key_sizes_and_write_errors(tmp_path: Path, boltgo: Path) -> None:
    b = [b"b"]
    ops = [
        create([], b"b"),
        put(b, b"", b"v"),                              # 1: key required
        put(b, b"k", b"v"),
        put(b, b"x" * 32768, b"max key"),
        put(b, b"y" * 32769, b"v"),                     # 4: key too large
        put(b, b"empty", b""),
        create(b, b"sub"),
        put(b, b"sub", b"v"),                           # 7: a bucket there
        delete(b, b"sub"),                              # 8: a bucket there
        delete(b, b"never there"),                      # no error
        create(b, b"sub"),                              # 10: exists
        create(b, b""),                                 # 11: name required
        create(b, b"k"),                                # 12: a value there
        op("create_bucket_if_not_exists", b, name=_h(b"k")),  # 13: a value there
        op("delete_bucket", b, name=_h(b"k")),          # 14: a value there
        op("delete_bucket", b, name=_h(b"nope")),       # 15: not found
        op("create_bucket_if_not_exists", b, name=_h(b"sub")),  # no error: it exists
    ]
    errors, dump = both(tmp_path, boltgo, workload(4096, [ops]))
    assert errors == [
        [0, 1, "key required"], [0, 4, "key too large"], [0, 7, "incompatible value"],
        [0, 8, "incompatible value"], [0, 10, "bucket already exists"],
        [0, 11, "bucket name required"], [0, 12, "incompatible value"],
        [0, 13, "incompatible value"], [0, 14, "incompatible value"],
        [0, 15, "bucket not found"],
    ]
    top = dump["content"]["buckets"][0]
    assert top["key_count"] == 3  # k, the 32768-byte key, empty
    assert [c["name"] for c in top["buckets"]] == ["sub"]


def test_get_and_bucket_lookups(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "g.db") as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            b.put(b"k", b"v")
            b.put(b"empty", b"")
            b.create_bucket(b"sub")
        with db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            assert b.get(b"k") == b"v"
            assert b.get(b"empty") == b""  # an empty value is not a missing one
            assert b.get(b"missing") is None and b.get(b"") is None
            assert b.get(b"sub") is None  # bbolt's Get: nil for a bucket
            assert b.bucket(b"k") is None and b.bucket(b"missing") is None
            assert b.bucket(b"sub") is not None
            assert tx.bucket(b"k") is None


def test_value_too_large(tmp_path: Path) -> None:
    """MaxValueSize is 2^31 - 2: one byte more is refused before anything is
    copied (an anonymous mapping of that length costs no memory)."""
    huge = mmap.mmap(-1, (1 << 31) - 1)
    try:
        with pybbolt.open(tmp_path / "v.db") as db, db.update() as tx:
            b = tx.create_bucket(b"b")
            with pytest.raises(pybbolt.ValueTooLarge, match=r"^value too large$"):
                b.put(b"k", huge)  # type: ignore[arg-type]
            assert b.get(b"k") is None
    finally:
        huge.close()


def test_key_size_errors_are_checked_in_bbolt_order(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "o.db") as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        with db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            with pytest.raises(pybbolt.TxNotWritable):  # writable before the key
                b.put(b"", b"v")
        tx = db.begin(True)
        b = tx.bucket(b"b")
        assert b is not None
        tx.rollback()
        with pytest.raises(pybbolt.TxClosed):  # closed before writable
            b.put(b"k", b"v")


@pytest.mark.parametrize("page_size", [4096, 8192])
def test_inline_bucket_limit(tmp_path: Path, boltgo: Path, page_size: int) -> None:
    """Inline while the leaf fits in page_size / 4: 16 (header) + 16 (element)
    + 1 (key) + v bytes, so v = page_size / 4 - 33 is the largest value."""
    limit = page_size // 4 - 33
    ops = [create([], b"at"), put([b"at"], b"k", b"a" * limit),
           create([], b"over"), put([b"over"], b"k", b"a" * (limit + 1)),
           create([], b"parent"), create([b"parent"], b"child"),
           create([], b"none")]
    _, dump = both(tmp_path, boltgo, workload(page_size, [ops]))
    inline = {b["name"]: b["inline"] for b in dump["content"]["buckets"]}
    assert inline == {"at": True, "over": False, "parent": False, "none": True}
    with pybbolt.open(tmp_path / "py.db", readonly=True) as db, db.view() as tx:
        for name, want in inline.items():
            b = tx.bucket(name.encode())
            assert b is not None
            assert b.inline is want and (b.root == 0) is want, name


def test_sequence(tmp_path: Path, boltgo: Path) -> None:
    s = [b"s"]
    ops = [create([], b"s"), op("next_sequence", s), op("next_sequence", s),
           create([], b"w"), op("set_sequence", [b"w"], n=(1 << 64) - 1),
           op("next_sequence", [b"w"]),  # wraps to 0, as Go's uint64
           create([], b"m"), op("set_sequence", [b"m"], n=(1 << 64) - 1)]
    _, dump = both(tmp_path, boltgo, workload(4096, [ops]))
    assert {b["name"]: b["sequence"] for b in dump["content"]["buckets"]} == {
        "s": 2, "w": 0, "m": (1 << 64) - 1}
    with pybbolt.open(tmp_path / "py.db") as db, db.update() as tx:
        b = tx.bucket(b"s")
        assert b is not None
        assert b.sequence == 2 and b.next_sequence() == 3
        for bad in (-1, 1 << 64):
            with pytest.raises(ValueError, match=(
                    r"^sequence must fit in an unsigned 64-bit integer$")):
                b.set_sequence(bad)
        for wrong, kind in ((True, "bool"), (1.0, "float"), (b"1", "bytes")):
            with pytest.raises(TypeError, match=f"^sequence must be an int, not {kind}$"):
                b.set_sequence(wrong)  # type: ignore[arg-type]
        assert b.sequence == 3
        b.set_sequence(0)
        assert b.next_sequence() == 1


def test_sequence_needs_a_writable_tx(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "r.db") as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        with db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            with pytest.raises(pybbolt.TxNotWritable):
                b.next_sequence()
            with pytest.raises(pybbolt.TxNotWritable):
                b.set_sequence(1)
            assert b.sequence == 0


def test_delete_bucket_and_recreate_in_one_tx(tmp_path: Path, boltgo: Path) -> None:
    ops = [create([], b"a"), create([b"a"], b"deep"), put([b"a", b"deep"], b"k", b"v"),
           op("delete_bucket", [], name=_h(b"a")), create([], b"a"), put([b"a"], b"k2", b"v2")]
    errors, dump = both(tmp_path, boltgo, workload(4096, [ops]))
    assert errors == []
    a = dump["content"]["buckets"][0]
    assert a["name"] == "a" and a["key_count"] == 1 and a["buckets"] == []


def move(name: bytes, src: list[bytes], dst: list[bytes]) -> Op:
    return {"op": "move_bucket", "name": _h(name), "src": [_h(p) for p in src],
            "dst": [_h(p) for p in dst]}


def test_move_bucket(tmp_path: Path, boltgo: Path) -> None:
    """MoveBucket's checks in bbolt's order, then the moves Go makes too."""
    a, d = [b"a"], [b"dst"]
    first = [
        create([], b"a"), create(a, b"child"), put([b"a", b"child"], b"k", b"v"),
        create([], b"dst"), put(d, b"key", b"v"), create(d, b"taken"),
        create(a, b"taken"), create(a, b"key"), put(a, b"plain", b"p"),
        move(b"child", a, d),
        move(b"missing", a, d),                  # 10: not found
        move(b"plain", a, d),                    # 11: a value, not a bucket
        move(b"taken", a, d),                    # 12: exists there
        move(b"key", a, d),                      # 13: a value there
        move(b"taken", d, d),                    # 14: the same bucket
        move(b"child", d, []),
    ]
    second = [move(b"child", [], a), move(b"taken", d, [b"a", b"child"]),
              put([b"a", b"child", b"taken"], b"t", b"1")]
    errors, dump = both(tmp_path, boltgo, workload(4096, [first, second]))
    assert errors == [
        [0, 10, "bucket not found"], [0, 11, "incompatible value"],
        [0, 12, "bucket already exists"], [0, 13, "incompatible value"],
        [0, 14, "the source and target are the same bucket"],
    ]
    top = {b["name"]: b for b in dump["content"]["buckets"]}
    assert sorted(top) == ["a", "dst"]
    assert [c["name"] for c in top["a"]["buckets"]] == ["child", "key", "taken"]
    assert top["dst"]["buckets"] == [] and top["dst"]["key_count"] == 1


# -- damaged trees, built by hand (tests/handmade.py) -----------------------------------------


def _b(tx: pybbolt.Tx, name: bytes = b"b") -> pybbolt.Bucket:
    b = tx.bucket(name)
    assert b is not None
    return b


def test_full_scans_at_the_depth_limit(tmp_path: Path) -> None:
    """63 branches over a leaf read; 64 are taken for a cycle (page 67 is the 64th)."""
    with pybbolt.open(build_db(tmp_path / "63.db", chain(63)), readonly=True) as db, \
            db.view() as tx:
        assert (list(_b(tx).items()), len(_b(tx))) == ([(b"k", b"v")], 1)
    path = build_db(tmp_path / "64.db", chain(64))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx, pytest.raises(
            pybbolt.CorruptionError, match=r"^page 67: the page tree is cyclic$"):
        list(_b(tx).keys())


def test_full_scans_count_shared_leaves(tmp_path: Path, boltgo: Path) -> None:
    """Seven children sharing one leaf scan as Go's ForEach does (seven times the key); the
    file has 6 pages, so an eighth leaf is one more than a scan accepts."""
    path = build_db(tmp_path / "7.db", shared_leaf(7))
    assert go_dump(boltgo, path)["content"]["buckets"][0]["key_count"] == 7
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert list(_b(tx).keys()) == [b"k"] * 7 and len(_b(tx)) == 7
    with pybbolt.open(build_db(tmp_path / "8.db", shared_leaf(8)), readonly=True) as db, \
            db.view() as tx, pytest.raises(pybbolt.CorruptionError, match=(
            r"^the bucket has more leaves than the file has pages: "
            r"pages are shared or cyclic$")):
        len(_b(tx))


def test_full_scan_of_an_empty_branch_follows_element_0(tmp_path: Path) -> None:
    """As bbolt's cursor does (test_cursor: Go's own walk of this file)."""
    empty = bytearray(branch_page(4, [(b"k", 5)]))
    struct.pack_into("<H", empty, 10, 0)  # count 0; element 0's bytes stay
    path = build_db(tmp_path / "e.db", [bytes(empty), leaf_page(5, [(b"k", b"v", 0)])])
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert list(_b(tx).items()) == [(b"k", b"v")]


@pytest.mark.parametrize(("value", "message"), [
    (b"\0" * 15, "value of 15 bytes is shorter than a bucket header"),
    (bytes(16) + branch_page(0, [(b"k", 5)])[:64], "inline page is not a leaf"),
])
def test_damaged_bucket_values(tmp_path: Path, value: bytes, message: str) -> None:
    path = build_db(tmp_path / "v.db", [], value)
    with pybbolt.open(path, readonly=True) as db, db.view() as tx, pytest.raises(
            pybbolt.CorruptionError, match=f"^bucket 62: {message}$"):
        tx.bucket(b"b")


def test_an_inline_bucket_of_16_bytes_plus_a_page(tmp_path: Path) -> None:
    value = bytes(16) + leaf_page(0, [(b"k", b"v", 0)])[:34]
    with pybbolt.open(build_db(tmp_path / "i.db", [], value), readonly=True) as db, \
            db.view() as tx:
        b = _b(tx)
        assert (b.inline, b.root, list(b.items()), b.get(b"k")) == (True, 0, [(b"k", b"v")], b"v")


def _branch(*keys: bytes) -> Node:
    return Node(False, list(keys), [], [], list(range(10, 10 + len(keys))))


@pytest.mark.parametrize(("indexes", "low", "high"), [
    ([0, 0], b"", b"f"),        # the first child everywhere: unbounded below
    ([0, 1], b"f", b"j"),
    ([0, 2], b"j", b"m"),       # the last child of a branch: bounded by its parent
    ([1, 0], b"m", b"p"),       # separator 0 of a child equals the parent's separator
    ([1, 1], b"p", b"t"),
    ([2, 0], b"t", b"w"),
    ([2, 1], b"w", b"\xff" * 32769),  # the last child at every level: above every key
])
def test_key_range_of_a_search_path(indexes: list[int], low: bytes, high: bytes) -> None:
    """The keys a search routes to the leaf at the end of a path, worked out by hand:
    a root with separators a, m, t over branches [a f j], [m p], [t w]."""
    children = [_branch(b"a", b"f", b"j"), _branch(b"m", b"p"), _branch(b"t", b"w")]
    nodes = [_branch(b"a", b"m", b"t"), children[indexes[0]], Node(True, [], [], [], [])]
    assert _key_range(nodes, indexes) == (low, high)


def test_delete_buckets_of_many_pages(tmp_path: Path, boltgo: Path) -> None:
    """Deleting buckets of several levels of pages, clean or changed in the same
    transaction, frees each page once: Go's check finds none lost or freed twice."""
    big, deep = [b"big"], [b"big", b"deep"]
    fill = [put(big, b"%05d" % i, b"v" * 100) for i in range(400)]
    fill += [create(big, b"deep"), create(big, b"small"), put([b"big", b"small"], b"k", b"v")]
    fill += [put(deep, b"%05d" % i, b"w" * 200) for i in range(150)]
    first = [create([], b"big"), *fill, create([], b"keep"), put([b"keep"], b"k", b"v")]
    changed = [put(big, b"%05d" % i, b"x" * 300) for i in range(0, 400, 7)]
    second = [*changed, put(deep, b"00001", b"y"), op("delete_bucket", [], name=_h(b"big"))]
    third = [create([], b"big"), *fill, op("delete_bucket", big, name=_h(b"deep"))]
    errors, dump = both(tmp_path, boltgo, workload(4096, [first, second, third]))
    assert errors == []
    top = {b["name"]: b for b in dump["content"]["buckets"]}
    assert top["big"]["key_count"] == 400 and [c["name"] for c in top["big"]["buckets"]] == [
        "small"]


# -- rebalance: the same pages as Go ------------------------------------------------------------


def _emptied(keys: list[bytes], lo: int, hi: int) -> list[Op]:
    return [delete([b"r"], k) for k in keys[lo:hi]]


def _rebalance_workloads() -> dict[str, dict[str, Any]]:
    """Deletes that leave one leaf under-filled or empty per transaction, so that bbolt's
    rebalance (which visits nodes in Go map order) has one order only: 60 Go replays of
    each gave one file."""
    short = [b"%05d" % i for i in range(400)]
    fill = [create([], b"r")] + [put([b"r"], k, b"x" * 100) for k in short]
    # 300-byte keys: six to a branch, three levels, so branches merge too
    long = [b"%03d" % i + b"k" * 300 for i in range(200)]
    fill_long = [create([], b"r")] + [put([b"r"], k, b"") for k in long]
    dense = {"op": "fill_percent", "path": [_h(b"r")], "value": 0.9}
    return {
        # the first leaf merges its right sibling in, a middle one goes into its left one,
        # then whole leaves are emptied
        "leaves": workload(4096, [fill, _emptied(short, 0, 10), _emptied(short, 200, 210),
                                  _emptied(short, 100, 140)]),
        # two leaves become one: the root branch of one child gives way to it
        "root": workload(4096, [fill[:41], _emptied(short, 20, 40)]),
        "branches-first": workload(4096, [fill_long] + [
            _emptied(long, lo, lo + 6) for lo in range(0, 120, 6)]),
        "branches-last": workload(4096, [fill_long] + [
            [dense, *_emptied(long, hi - 6, hi)] for hi in range(200, 80, -6)]),
        # down to one leaf, a leaf at a time, then at once: the root gives way twice
        "collapse": workload(4096, [fill_long] + [
            _emptied(long, hi - 6, hi) for hi in range(200, 6, -6)]),
        "collapse-at-once": workload(4096, [fill_long, _emptied(long, 0, 190)]),
    }


@pytest.mark.parametrize("name", list(_rebalance_workloads()))
def test_rebalance_writes_gos_pages(tmp_path: Path, boltgo: Path, name: str) -> None:
    work = _rebalance_workloads()[name]
    ours, theirs = tmp_path / "py.db", tmp_path / "go.db"
    assert replay(work, ours) == go_replay(boltgo, work, theirs)["errors"] == []
    assert ours.read_bytes() == theirs.read_bytes()


# -- a write transaction's own changes ------------------------------------------------------------


def test_scans_in_a_write_tx_see_its_changes(tmp_path: Path) -> None:
    """Full scans and backward ranges walk the changed nodes, empty leaves included."""
    keys = [b"%04d" % i for i in range(300)]
    with pybbolt.open(tmp_path / "w.db") as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for k in keys:
                b.put(k, b"v" * 60)
        tx = db.begin(True)
        try:
            b = _b(tx)
            b.put(b"0100", b"new")
            for k in keys[200:]:  # the last leaves, emptied
                b.delete(k)
            kept = keys[:200]
            assert list(b.keys()) == kept and len(b) == 200
            assert dict(b.items())[b"0100"] == b"new"
            assert list(b.keys(stop=b"\xff", reverse=True)) == kept[::-1]
            assert list(b.keys(b"0150", b"1", reverse=True)) == kept[:149:-1]
        finally:
            tx.rollback()


def test_rewriting_every_key_in_order(tmp_path: Path, boltgo: Path) -> None:
    """A put on the first key of a leaf (its separator in the branch) goes to that leaf,
    not to the leaf the previous put went to: Go finds each key once."""
    keys = [b"%04d" % i for i in range(300)]
    fill = [create([], b"b")] + [put([b"b"], k, b"v" * 60) for k in keys]
    rewrite = [put([b"b"], k, b"w" * 30) for k in keys]
    errors, dump = both(tmp_path, boltgo, workload(4096, [fill, rewrite]))
    assert errors == [] and dump["content"]["buckets"][0]["key_count"] == 300


def test_puts_into_an_inline_bucket_of_an_earlier_tx(tmp_path: Path, boltgo: Path) -> None:
    i = [b"i"]
    first = [create([], b"i"), put(i, b"a", b"1"), put(i, b"c", b"3")]
    second = [put(i, b"b", b"2"), put(i, b"d", b"4"), put(i, b"a", b"0")]
    _, dump = both(tmp_path, boltgo, workload(4096, [first, second]))
    assert dump["content"]["buckets"][0]["inline"] is True
    with pybbolt.open(tmp_path / "py.db", readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"i")
        assert b is not None
        assert list(b.items()) == [(b"a", b"0"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")]


def test_create_if_not_exists_opens_the_stored_bucket(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "c.db") as db:
        with db.update() as tx:
            tx.create_bucket(b"a").put(b"k", b"v")
        with db.update() as tx:
            a = tx.root.create_bucket_if_not_exists(b"a")
            assert (a.name, a.get(b"k"), a.inline) == (b"a", b"v", True)
            assert tx.bucket(b"a") is a
            a.put(b"k2", b"v2")
        with db.view() as tx:
            assert list(_b(tx, b"a").items()) == [(b"k", b"v"), (b"k2", b"v2")]


def test_missing_keys_raise_key_error_naming_them(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "k.db") as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        b[b"k"] = b"v"
        for lookup in (lambda: b[b"nope"], lambda: b.__delitem__(b"nope")):
            with pytest.raises(KeyError) as info:
                lookup()
            assert info.value.args == (b"nope",)
        with pytest.raises(TypeError, match=(
                r"^bucket name must be bytes, bytearray or memoryview, not str: "
                r"encode it, e.g\. 'k'\.encode\(\)$")):
            b.move_bucket("k", tx.root)  # type: ignore[arg-type]


def test_prefix_ranges_end_after_the_prefix(tmp_path: Path) -> None:
    """The keys under a prefix end at the prefix with its last non-0xff byte raised."""
    keys = [b"aX", b"aXa", b"aX\xff", b"aY", b"a\xff", b"a\xff\x00", b"b"]
    with pybbolt.open(tmp_path / "p.db") as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for k in keys:
            b.put(k, b"")
        assert list(b.keys(prefix=b"aX")) == [b"aX", b"aXa", b"aX\xff"]
        assert list(b.keys(prefix=b"a\xff", reverse=True)) == [b"a\xff\x00", b"a\xff"]
        assert list(b.keys(prefix=b"\xff")) == []


def test_a_branch_of_one_child_cannot_rebalance(tmp_path: Path) -> None:
    """bbolt asserts that a node's parent has two children or more when it rebalances."""
    tree = [branch_page(4, [(b"a", 5), (b"m", 6)]), branch_page(5, [(b"a", 7)]),
            branch_page(6, [(b"m", 8)]), leaf_page(7, [(b"a", b"v", 0), (b"b", b"v", 0)]),
            leaf_page(8, [(b"m", b"v", 0), (b"n", b"v", 0)])]
    with pybbolt.open(build_db(tmp_path / "one.db", tree)) as db:
        tx = db.begin(True)
        _b(tx).delete(b"a")
        with pytest.raises(pybbolt.CorruptionError,
                           match=r"^parent must have at least 2 children$"):
            tx.commit()


def test_leaves_of_exact_page_multiples(tmp_path: Path, boltgo: Path) -> None:
    """A leaf of one key takes 16 + 16 + 1 + len(value) bytes: one byte under, at and over
    a page boundary, and two pages exactly, it takes 1, 1, 2 and 2 pages, as in Go's file."""
    # one bucket a transaction: Go spills the buckets of a transaction in map order
    work = workload(4096, [[create([], name), put([name], b"k", b"v" * vsize)] for name, vsize in (
        (b"under", 4062), (b"at", 4063), (b"over", 4064), (b"two", 8159))])
    ours, theirs = tmp_path / "py.db", tmp_path / "go.db"
    assert replay(work, ours) == go_replay(boltgo, work, theirs)["errors"] == []
    assert ours.read_bytes() == theirs.read_bytes()
