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
