"""pybbolt.cursor: first/last/next/prev/seek and delete, at the edges.

The database is written by Go bbolt (``boltgo replay``) from a workload whose
keys are known: 200 even numbers ``0000``..``0398`` in bucket ``b`` (several
leaf pages), an empty bucket, a bucket holding a nested bucket.  Where the
leaf pages begin and end is read from the file bytes by the small page parser
below (bbolt's layout, written out here), so the moves across page boundaries
are checked against the file itself; the moves at the ends (past the last,
before the first) are checked against Go's own cursor (``boltgo cursor``).
"""

from __future__ import annotations

import itertools
import json
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pybbolt

from .handmade import branch_page, build_db, chain, leaf_page, shared_leaf
from .workload import create, go_replay, put, workload

VALUE = b"v" * 60
KEYS = [b"%04d" % i for i in range(0, 400, 2)]
PS = 4096


@pytest.fixture(scope="module")
def go_db(tmp_path_factory: pytest.TempPathFactory, boltgo: Path) -> Path:
    path = tmp_path_factory.mktemp("cursor") / "go.db"
    ops = [create([], b"b"), create([], b"empty"), create([], b"nest"),
           create([b"nest"], b"child"), put([b"nest"], b"a", b"1"), put([b"nest"], b"z", b"")]
    ops += [put([b"b"], k, VALUE) for k in KEYS]
    result = go_replay(boltgo, workload(PS, [ops]), path)
    assert result["errors"] == []
    return path


# -- the file, read by hand ---------------------------------------------------------------


def _elements(data: bytes, pgid: int) -> tuple[int, list[tuple[bytes, bytes, int]]]:
    """(flags, [(key, value or b"", flags or child pgid)]) of a page."""
    base = pgid * PS
    _, flags, count, _ = struct.unpack_from("<QHHI", data, base)
    out = []
    for i in range(count):
        at = base + 16 + 16 * i
        if flags == 0x01:
            pos, ksize, child = struct.unpack_from("<IIQ", data, at)
            out.append((data[at + pos: at + pos + ksize], b"", child))
        else:
            eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, at)
            k = data[at + pos: at + pos + ksize]
            out.append((k, data[at + pos + ksize: at + pos + ksize + vsize], eflags))
    return flags, out


def _leaves(data: bytes, pgid: int) -> Iterator[list[bytes]]:
    flags, elements = _elements(data, pgid)
    if flags == 0x02:
        yield [k for k, _, _ in elements]
        return
    for _, _, child in elements:
        yield from _leaves(data, child)


def leaf_keys(path: Path) -> list[list[bytes]]:
    """The keys of bucket ``b``, leaf page by leaf page."""
    data = path.read_bytes()
    metas = [struct.unpack_from("<IIIIQQQQQQ", data, i * PS + 16) for i in (0, 1)]
    meta = max(metas, key=lambda m: m[8])  # both valid: the larger txid
    _, names = _elements(data, meta[4])
    value = next(v for k, v, _ in names if k == b"b")
    root = struct.unpack_from("<Q", value)[0]
    assert root != 0, "bucket b is inline: the workload should fill pages"
    return list(_leaves(data, root))


def item(k: bytes) -> tuple[bytes, bytes]:
    return (k, VALUE)


# -- reading --------------------------------------------------------------------------------


def test_the_file_has_several_leaves(go_db: Path) -> None:
    leaves = leaf_keys(go_db)
    assert len(leaves) >= 4
    assert [k for leaf in leaves for k in leaf] == KEYS


def test_first_last_and_full_walks(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert c.first() == item(b"0000")
        walked = [b"0000"]
        while (it := c.next()) is not None:
            walked.append(it[0])
            assert it[1] == VALUE
        assert walked == KEYS
        assert c.last() == item(b"0398")
        back = [b"0398"]
        while (it := c.prev()) is not None:
            back.append(it[0])
        assert back == KEYS[::-1]
        assert list(b.cursor()) == [item(k) for k in KEYS]


def test_moves_across_page_boundaries(go_db: Path) -> None:
    leaves = leaf_keys(go_db)
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        for left, right in itertools.pairwise(leaves):
            last, first = left[-1], right[0]
            assert c.seek(last + b"\x00") == item(first)  # between pages: the next page
            assert c.prev() == item(last)
            assert c.next() == item(first)
            assert c.seek(first) == item(first)
            assert c.seek(last) == item(last)
            assert c.next() == item(first)


def test_seek_between_and_outside(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert c.seek(b"") == item(b"0000")
        assert c.seek(b"0") == item(b"0000")
        assert c.seek(b"0001") == item(b"0002")
        assert c.seek(b"0100") == item(b"0100")
        assert c.seek(b"01000") == item(b"0102")
        assert c.seek(b"0398") == item(b"0398")
        assert c.seek(b"0399") is None
        assert c.seek(b"\xff") is None


def test_empty_bucket(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"empty")
        assert b is not None
        c = b.cursor()
        assert (c.first(), c.last(), c.seek(b""), c.seek(b"x")) == (None, None, None, None)
        assert (c.next(), c.prev()) == (None, None)
        assert list(c) == []


def test_nested_bucket_and_top_level(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"nest")
        assert b is not None
        assert list(b.cursor()) == [(b"a", b"1"), (b"child", None), (b"z", b"")]
        assert b.cursor().seek(b"b") == (b"child", None)
        top = tx.cursor()
        assert top.first() == (b"b", None)
        assert [top.next(), top.next(), top.next()] == [(b"empty", None), (b"nest", None), None]


def _go_cursor(boltgo: Path, path: Path, lines: list[dict[str, Any]]) -> list[Any]:
    feed = "".join(json.dumps(line) + "\n" for line in lines)
    out = subprocess.run([str(boltgo), "cursor", str(path)], input=feed, capture_output=True,
                         text=True, check=True, timeout=60)
    return [json.loads(line)["results"] for line in out.stdout.splitlines()]


def test_moves_past_the_ends_as_go(go_db: Path, boltgo: Path) -> None:
    """After a move off either end, what the next moves return is bbolt's choice:
    Go answers, pybbolt must answer the same."""
    sequences = [
        ["last", "next", "prev", "prev", "next", "next"],
        ["first", "prev", "next", "next", "prev", "prev"],
        ["seek:0399", "prev", "next"],
        ["seek:ff", "next", "prev", "prev"],
        ["seek:", "prev", "prev", "next"],
    ]
    lines = [{"path": [b"b".hex()], "ops": [["seek", s[5:].encode().hex() if s != "seek:ff"
                                             else "ff"] if s.startswith("seek") else [s]
                                            for s in seq]} for seq in sequences]
    lines.append({"path": [b"empty".hex()], "ops": [["last"], ["prev"], ["next"], ["first"]]})
    go = _go_cursor(boltgo, go_db, lines)
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        for line, want in zip(lines, go):
            bucket = tx.bucket(bytes.fromhex(line["path"][0]))
            assert bucket is not None
            c = bucket.cursor()
            got = []
            for op in line["ops"]:
                it = c.seek(bytes.fromhex(op[1])) if op[0] == "seek" else getattr(c, op[0])()
                got.append(None if it is None else [it[0].hex(), it[1].hex()])
            assert got == want, line
    # the first two sequences, spelled out: off the end, the cursor stays put
    assert go[0][:3] == [[b"0398".hex(), VALUE.hex()], None, [b"0396".hex(), VALUE.hex()]]
    assert go[1][:3] == [[b"0000".hex(), VALUE.hex()], None, [b"0002".hex(), VALUE.hex()]]


# -- writing ----------------------------------------------------------------------------------


def test_emptied_leaf_is_skipped(go_db: Path, tmp_path: Path) -> None:
    """Deleting every key of a leaf in a write transaction leaves an empty node
    until commit: the moves step over it."""
    path = tmp_path / "w.db"
    path.write_bytes(go_db.read_bytes())
    leaves = leaf_keys(path)
    gone = leaves[1]
    with pybbolt.open(path) as db:
        tx = db.begin(True)
        try:
            b = tx.bucket(b"b")
            assert b is not None
            for k in gone:
                b.delete(k)
            kept = [k for k in KEYS if k not in gone]
            assert [k for k, _ in b.cursor()] == kept
            c = b.cursor()
            assert c.seek(gone[0]) == item(leaves[2][0])
            assert c.seek(gone[-1] + b"\x00") == item(leaves[2][0])
            # bbolt's prev does not skip an empty leaf (cursor.go prev: it goes
            # to the last element of the previous leaf, which has none, and
            # keyValue reports nothing); the next move leaves it again.
            assert c.prev() is None
            assert c.next() == item(leaves[2][0])
            assert c.seek(leaves[0][-1]) == item(leaves[0][-1])
            assert c.next() == item(leaves[2][0])  # next skips it
            assert c.first() == item(b"0000")
            walked = [c.next() for _ in range(len(kept) - 1)]
            assert [it[0] for it in walked if it is not None] == kept[1:]
            assert c.next() is None
            assert c.last() == item(b"0398")
        finally:
            tx.rollback()


def test_cursor_delete(go_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    path.write_bytes(go_db.read_bytes())
    with pybbolt.open(path) as db:
        with db.update() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            c = b.cursor()
            it = c.first()
            while it is not None:
                if int(it[0]) % 4 == 0:
                    c.delete()
                it = c.next()
            n = tx.bucket(b"nest")
            assert n is not None
            nc = n.cursor()
            assert nc.seek(b"child") == (b"child", None)
            with pytest.raises(pybbolt.IncompatibleValue, match=r"^incompatible value$"):
                nc.delete()
        with db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            assert [k for k, _ in b.cursor()] == [k for k in KEYS if int(k) % 4 == 2]
            c = b.cursor()
            c.first()
            with pytest.raises(pybbolt.TxNotWritable, match=r"^tx not writable$"):
                c.delete()
            assert [str(e) for e in tx.check()] == []


def test_closed_transaction(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db:
        tx = db.begin()
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        tx.rollback()
        for move in (c.first, c.last, c.next, c.prev):
            with pytest.raises(pybbolt.TxClosed, match=r"^tx closed$"):
                move()
        with pytest.raises(pybbolt.TxClosed):
            c.seek(b"0002")


# -- damaged trees, built by hand (tests/handmade.py) ---------------------------------------


def test_a_tree_63_branches_deep_is_read(tmp_path: Path, boltgo: Path) -> None:
    """MAX_DEPTH (64) pages on a path is the limit: 63 branches and a leaf read as Go does."""
    path = build_db(tmp_path / "deep.db", chain(63))
    lines = [{"path": [b"b".hex()], "ops": [["first"], ["last"], ["seek", b"k".hex()]]}]
    assert _go_cursor(boltgo, path, lines) == [[[b"k".hex(), b"v".hex()]] * 3]
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert (c.first(), c.last(), c.seek(b"k"), c.seek(b"")) == ((b"k", b"v"),) * 4
        assert b.get(b"k") == b"v"
        assert list(b.items()) == [(b"k", b"v")]


def test_a_tree_64_branches_deep_is_cyclic(tmp_path: Path) -> None:
    """One level more: every descent stops at the 64th branch (page 67)."""
    path = build_db(tmp_path / "deeper.db", chain(64))
    cyclic = r"^page 67: the page tree is cyclic$"
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        for move in (c.first, c.last, lambda: c.seek(b"k"), lambda: b.get(b"k")):
            with pytest.raises(pybbolt.CorruptionError, match=cyclic):
                move()


def test_an_empty_branch(tmp_path: Path, boltgo: Path) -> None:
    """A branch page with no elements: bbolt's first() still follows element 0's child
    (the bytes after the header), a search or last() cannot."""
    empty = bytearray(branch_page(4, [(b"k", 5)]))
    struct.pack_into("<H", empty, 10, 0)  # count 0; element 0's bytes stay
    path = build_db(tmp_path / "empty.db", [bytes(empty), leaf_page(5, [(b"k", b"v", 0)])])
    lines = [{"path": [b"b".hex()], "ops": [["first"], ["next"]]}]
    assert _go_cursor(boltgo, path, lines) == [[[b"k".hex(), b"v".hex()], None]]
    no_elements = r"^page 4: branch page has no elements$"
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert (c.first(), c.next()) == ((b"k", b"v"), None)
        for move in (c.last, lambda: c.seek(b"k"), lambda: b.get(b"k")):
            with pytest.raises(pybbolt.CorruptionError, match=no_elements):
                move()


def test_shared_leaves_are_counted(tmp_path: Path, boltgo: Path) -> None:
    """A branch whose children are all one leaf: Go walks it once per child; pybbolt
    stops a walk that meets more leaves than the file has pages, plus one (the file is
    6 pages: 7 leaves pass, 8 do not)."""
    for children in (7, 8):
        path = build_db(tmp_path / f"shared{children}.db", shared_leaf(children))
        ops = [["first"]] + [["next"]] * children
        go = _go_cursor(boltgo, path, [{"path": [b"b".hex()], "ops": ops}])[0]
        assert go == [[b"k".hex(), b"v".hex()]] * children + [None]
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            c = b.cursor()
            if children == 7:
                got = [c.first()] + [c.next() for _ in range(children)]
                assert got == [(b"k", b"v")] * children + [None]
                assert c.last() == (b"k", b"v")
                continue
            walked = [c.first()] + [c.next() for _ in range(children - 2)]
            assert walked == [(b"k", b"v")] * (children - 1)
            with pytest.raises(pybbolt.CorruptionError, match=(
                    r"^cursor met more leaves than the file has pages: "
                    r"pages are shared or cyclic$")):
                c.next()


def test_iteration_continues_from_the_cursor(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert c.seek(b"0391") == item(b"0392")
        assert list(c) == [item(k) for k in (b"0392", b"0394", b"0396", b"0398")]
        assert c.prev() == item(b"0396")  # left on the last item
        c.first()
        c.next()
        assert [k for k, _ in c] == KEYS[1:]
        assert c.seek(b"1") is None
        assert list(c) == []


def test_seek_takes_bytes_like_keys(go_db: Path) -> None:
    with pybbolt.open(go_db, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        c = b.cursor()
        assert c.seek(memoryview(b"0101")) == item(b"0102")  # type: ignore[arg-type]
        assert c.seek(bytearray(b"0398")) == item(b"0398")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^key must be bytes.*'0100'\.encode\(\)$"):
            c.seek("0100")  # type: ignore[arg-type]


def test_deletes_past_the_last_key_do_nothing(go_db: Path, tmp_path: Path) -> None:
    """bbolt's Delete after a seek past the end finds no item and changes nothing."""
    path = tmp_path / "past.db"
    path.write_bytes(go_db.read_bytes())
    with pybbolt.open(path) as db:
        with db.update() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            c = b.cursor()
            assert c.seek(b"0399") is None
            c.delete()
            b.delete(b"0399")
            b.delete(b"\xff")
            assert c.last() == item(b"0398")
        with db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            assert [k for k, _ in b.cursor()] == KEYS


def _depth(data: bytes, pgid: int) -> int:
    flags, elements = _elements(data, pgid)
    return 1 if flags == 0x02 else 1 + _depth(data, elements[-1][2])


@pytest.mark.parametrize("long_keys", [False, True], ids=["two-levels", "three-levels"])
def test_last_steps_back_over_an_emptied_last_leaf(go_db: Path, tmp_path: Path, boltgo: Path,
                                                   long_keys: bool) -> None:
    """Deleting every key of the last leaf leaves it empty until commit: last() steps back
    to the leaf before it, however deep the tree (1000-byte keys make three levels)."""
    path = tmp_path / "last.db"
    if long_keys:
        keys = [b"%04d" % i + b"x" * 996 for i in range(16)]
        assert go_replay(boltgo, workload(PS, [[create([], b"b")] + [
            put([b"b"], k, b"") for k in keys]]), path)["errors"] == []
    else:
        path.write_bytes(go_db.read_bytes())
    data = path.read_bytes()
    leaves = leaf_keys(path)
    meta = max((struct.unpack_from("<IIIIQQQQQQ", data, i * PS + 16) for i in (0, 1)),
               key=lambda m: m[8])
    root = struct.unpack_from("<Q", next(v for k, v, _ in _elements(data, meta[4])[1]
                                         if k == b"b"))[0]
    assert _depth(data, root) == (3 if long_keys else 2)
    with pybbolt.open(path) as db:
        tx = db.begin(True)
        try:
            b = tx.bucket(b"b")
            assert b is not None
            for k in leaves[-1]:
                b.delete(k)
            c = b.cursor()
            assert c.last() == (leaves[-2][-1], b.get(leaves[-2][-1]))
        finally:
            tx.rollback()
