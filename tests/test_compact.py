"""pybbolt.compact: the destination file is byte for byte the one bbolt's
``compact`` command writes (docs/FORMAT.md §15), for transaction size limits
around the exact points where a commit starts a new transaction.

The source has one top-level bucket (with several per transaction bbolt's
output order varies, §15) holding pairs of exactly 10 bytes (key + value),
a nested bucket with pairs of its own and sequences everywhere, so the
number of commits, and so the destination's txid and pages, follow from
``tx_max_size`` by hand: the bucket name counts 1 byte, each pair 10.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import pybbolt

from .conftest import FIXTURES
from .test_fuzz_cli import Damage, apply_damage
from .test_fuzz_cli import _source as _shape_of


def _source(path: Path) -> Path:
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        top = tx.create_bucket(b"b")
        top.set_sequence(7)
        for i in range(4):
            top.put(b"k%02d" % i, b"v" * 7)
        nested = top.create_bucket(b"n")
        nested.set_sequence(3)
        for i in range(3):
            nested.put(b"m%02d" % i, b"w" * 7)
        top.create_bucket(b"o")  # empty: created, nothing put
        top.put(b"z00", b"y" * 7)  # after the nested buckets: put in the parent again
    return path


def _go_compact(bbolt_cli: Path, src: Path, out: Path, tx_max_size: int) -> bytes:
    out.unlink(missing_ok=True)
    subprocess.run([str(bbolt_cli), "compact", "--tx-max-size", str(tx_max_size), "-o",
                    str(out), str(src)], check=True, capture_output=True)
    return out.read_bytes()


# Items in order: b (1), k00..k03 (10 each), n (1), m00..m02 (10 each), o (1), z00 (10).
# Sizes at each point: 1, 11, 21, 31, 41 | 42 | 52, 62, 72 | 73 | 83.
@pytest.mark.parametrize("tx_max_size", [0, 1, 10, 11, 12, 20, 21, 22, 41, 42, 83, 84])
def test_same_bytes_as_bbolt(tmp_path: Path, bbolt_cli: Path, tx_max_size: int) -> None:
    src = _source(tmp_path / "src.db")
    expected = _go_compact(bbolt_cli, src, tmp_path / "go.db", tx_max_size)
    with pybbolt.open(src, readonly=True) as s, pybbolt.open(tmp_path / "py.db") as d:
        pybbolt.compact(d, s, tx_max_size)
    assert (tmp_path / "py.db").read_bytes() == expected


def test_commits_follow_the_limit(tmp_path: Path) -> None:
    """The number of commits, worked out by hand from the sizes above (a new
    file is at txid 1; each commit adds 1)."""
    src = _source(tmp_path / "src.db")
    with pybbolt.open(src, readonly=True) as s, pybbolt.open(tmp_path / "default.db") as d:
        pybbolt.compact(d, s)  # no limit: one transaction
        with d.view() as rtx:
            assert rtx.id == 2
    for tx_max_size, commits in ((0, 1), (83, 1), (82, 2), (42, 2), (41, 3), (21, 4),
                                 (20, 6), (10, 11), (1, 11)):
        out = tmp_path / f"{tx_max_size}.db"
        with pybbolt.open(src, readonly=True) as s, pybbolt.open(out) as d:
            pybbolt.compact(d, s, tx_max_size)
            with d.view() as tx:
                assert tx.id == 1 + commits, tx_max_size
                top = tx.bucket(b"b")
                assert top is not None and top.sequence == 7
                nested = top.bucket(b"n")
                assert nested is not None and nested.sequence == 3
                assert list(nested.items()) == [(b"m%02d" % i, b"w" * 7) for i in range(3)]
                assert [k for k, _ in top.items()] == [b"k00", b"k01", b"k02", b"k03", b"n",
                                                        b"o", b"z00"]


def test_fixture_same_bytes_as_bbolt(tmp_path: Path, bbolt_cli: Path) -> None:
    """A fixture of one top-level bucket, in one transaction and in several (the
    other fixtures have several: bbolt's own output varies from run to run)."""
    for tx_max_size in (0, 4096):
        expected = _go_compact(bbolt_cli, FIXTURES / "inline_bucket.db", tmp_path / "go.db",
                               tx_max_size)
        out = tmp_path / f"py{tx_max_size}.db"
        with pybbolt.open(FIXTURES / "inline_bucket.db", readonly=True) as s, \
                pybbolt.open(out) as d:
            pybbolt.compact(d, s, tx_max_size)
        assert out.read_bytes() == expected, tx_max_size


def _damaged(tmp: Path, offset: int, page: int) -> Path:
    """nested.db with the 8 bytes at ``offset`` set to ``page``."""
    path = tmp / "damaged.db"
    path.write_bytes(apply_damage(Damage(FIXTURES / "nested.db",
                                         ((offset, page.to_bytes(8, "little")),), (), "")))
    return path


def test_bucket_nested_in_itself_below_the_top(tmp_path: Path) -> None:
    """config/nested-empty (inline) given the root page of config itself (19):
    bbolt recurses until its stack overflows; compact stops at once, naming
    the page.  The page holding the top-level names (25) is not involved."""
    shape = _shape_of(FIXTURES / "nested.db")[1]
    field = next(f for f in shape.fields if f.kind == "bucket_root" and f.page == 19)
    path = _damaged(tmp_path, field.offset, 19)
    with pybbolt.open(path, readonly=True) as s, pybbolt.open(tmp_path / "out.db") as d, \
            pytest.raises(pybbolt.BboltPanic) as info:
        pybbolt.compact(d, s)
    e = info.value
    assert str(e) == "fatal error: stack overflow: bucket root page 19 contains itself"
    assert (e.raw, e.fatal, e.pgid) == (True, True, 19)
    assert e.report == str(e)  # a Go runtime fault: printed as it is


def test_bucket_listed_but_not_found(tmp_path: Path) -> None:
    """A cycle among branch pages (a child page id set to 25, the root of the
    top-level names) makes the cursor list a bucket that a seek then does not
    find: bbolt reads the nil bucket's sequence, a runtime error (raw, not
    fatal: a panic)."""
    shape = _shape_of(FIXTURES / "nested.db")[1]
    for f in shape.fields:
        if f.kind != "pgid" or not f.ancestors:
            continue
        path = _damaged(tmp_path, f.offset, 25)
        out = tmp_path / "out.db"
        out.unlink(missing_ok=True)
        with pybbolt.open(path, readonly=True) as s, pybbolt.open(out) as d:
            try:
                pybbolt.compact(d, s)
            except pybbolt.BboltPanic as e:
                if "nil pointer" not in str(e):
                    continue
                assert str(e) == "runtime error: invalid memory address or nil pointer dereference"
                assert (e.raw, e.fatal, e.pgid) == (True, False, None)
                return
            except pybbolt.CorruptionError:
                continue
    pytest.fail("no damage of nested.db reproduces the nil bucket")


def _pairs_source(path: Path) -> tuple[Path, list[int]]:
    """A bucket of pairs only (leaves copied a run at a time), of varied
    sizes, one over a page; and the running size after each item."""
    sizes = [1]  # the bucket name
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        b = tx.create_bucket(b"p")
        for i in range(400):
            value = b"v" * (5000 if i == 250 else (i * 7) % 53)
            b.put(b"%05d" % i, value)
            sizes.append(sizes[-1] + 5 + len(value))
    return path, sizes


def test_runs_of_pairs_same_bytes_as_bbolt(tmp_path: Path, bbolt_cli: Path) -> None:
    """Leaves of pairs are put a run at a time: the commits still fall where
    bbolt's item-by-item count puts them (limits at, below and above the
    running size after an item, and around the one pair over a page)."""
    src, sizes = _pairs_source(tmp_path / "src.db")
    big = sizes[251] - sizes[250]
    limits = {0, 1, sizes[100], sizes[100] + 1, sizes[100] - 1, 4096, big - 1, big, big + 1,
              sizes[-1], sizes[-1] - 1}
    for tx_max_size in sorted(limits):
        expected = _go_compact(bbolt_cli, src, tmp_path / "go.db", tx_max_size)
        out = tmp_path / f"py{tx_max_size}.db"
        with pybbolt.open(src, readonly=True) as s, pybbolt.open(out) as d:
            pybbolt.compact(d, s, tx_max_size)
        assert out.read_bytes() == expected, tx_max_size


def test_put_sorted_is_puts_or_nothing(tmp_path: Path) -> None:
    """Bucket._put_sorted appends a run as puts would, or refuses it whole:
    keys not above the leaf, unsorted or repeated keys, a key outside the
    leaf's range, an empty or too long key, a value too large, not bytes."""
    from pybbolt.layout import MAX_KEY_SIZE, MAX_VALUE_SIZE

    with pybbolt.open(tmp_path / "a.db") as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        assert b._put_sorted([b"a"], [b"1"]) is False  # no leaf yet: put first
        b.put(b"k1", b"1")
        state = (list(b._route_leaf.keys), list(b._route_leaf.values))
        for keys, values in (
            ([b"k0"], [b"x"]), ([b"k1"], [b"x"]), ([b"k3", b"k2"], [b"x", b"y"]),
            ([b"k3", b"k3"], [b"x", b"y"]), ([b"k" * (MAX_KEY_SIZE + 1)], [b"x"]),
            ([b"k5"], [b"x" * (MAX_VALUE_SIZE + 1)]), ([bytearray(b"k5")], [b"x"]),
            ([b"k5"], [memoryview(b"x")]), ([], []),
        ):
            assert b._put_sorted(keys, values) is False, keys[:1]
            assert (b._route_leaf.keys, b._route_leaf.values) == state
        assert b._put_sorted([b"k2", b"k" * MAX_KEY_SIZE], [b"2", b"x" * 10]) is True
        assert b._route_leaf.keys == [b"k1", b"k2", b"k" * MAX_KEY_SIZE]
        assert b._route_leaf.flags == [0, 0, 0]
        assert b.get(b"k2") == b"2"
        for i in range(400):
            b.put(b"%04d" % i, b"v" * 40)
    with pybbolt.open(tmp_path / "a.db") as db:
        tx = db.begin(True)
        b = tx[b"b"]
        b.put(b"0000", b"w")  # the first leaf, whose range ends at a later key
        assert b"0000" < b._route_high < b"zzzz"
        assert b._put_sorted([b"zzzz"], [b"x"]) is False
        assert b._put_sorted([b"0000a"], [b"x"]) is False  # not above the leaf's keys
        last = b._route_leaf.keys[-1]
        assert b._put_sorted([last + b"a", last + b"b"], [b"x", b"y"]) is True
        assert b._route_leaf.keys[-3:] == [last, last + b"a", last + b"b"]
        tx.rollback()
        assert b._put_sorted([b"0000b"], [b"x"]) is False  # closed
        with db.view() as rtx:
            rb = rtx[b"b"]
            rb.get(b"0000")
            assert rb._put_sorted([b"zzzz"], [b"x"]) is False  # no put, read-only


@pytest.mark.parametrize("pairs", [1, 2, 3, 4, 5, 6])
def test_short_runs_same_bytes_as_bbolt(tmp_path: Path, bbolt_cli: Path, pairs: int) -> None:
    """Runs shorter than the copier's run threshold (4 pairs) are put one by
    one, longer ones at once: the same bytes as bbolt's, with one
    transaction and with a commit after every pair or two."""
    src = tmp_path / "src.db"
    with pybbolt.open(src, page_size=4096) as db, db.update() as tx:
        for name in (b"a", b"b"):
            b = tx.create_bucket(name)
            for i in range(pairs):
                b.put(b"k%d" % i, b"v" * 5)
    for tx_max_size in (0, 7, 14):
        expected = _go_compact(bbolt_cli, src, tmp_path / "go.db", tx_max_size)
        out = tmp_path / f"py{tx_max_size}.db"
        with pybbolt.open(src, readonly=True) as s, pybbolt.open(out) as d:
            pybbolt.compact(d, s, tx_max_size)
        assert out.read_bytes() == expected, tx_max_size
