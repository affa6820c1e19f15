"""The write API: bbolt's errors, in bbolt's order, with bbolt's messages."""

from __future__ import annotations

from pathlib import Path

import pytest

import pybbolt
from pybbolt.layout import MAX_KEY_SIZE


@pytest.fixture
def db(tmp_path: Path) -> pybbolt.DB:
    d = pybbolt.open(tmp_path / "w.db", no_sync=True)
    yield d  # type: ignore[misc]
    d.close()


def test_put_errors(db: pybbolt.DB) -> None:
    with db.update() as tx:
        b = tx.create_bucket(b"b")
        with pytest.raises(pybbolt.KeyRequired, match=r"^key required$"):
            b.put(b"", b"v")
        with pytest.raises(pybbolt.KeyTooLarge, match=r"^key too large$"):
            b.put(b"k" * (MAX_KEY_SIZE + 1), b"v")
        b.put(b"k" * MAX_KEY_SIZE, b"max")
        b.create_bucket(b"sub")
        with pytest.raises(pybbolt.IncompatibleValue, match=r"^incompatible value$"):
            b.put(b"sub", b"v")
        with pytest.raises(pybbolt.IncompatibleValue):
            b.delete(b"sub")
        b.delete(b"absent")  # no error
        b.put(b"empty", b"")
    with db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        assert b.get(b"empty") == b""
        assert b.get(b"k" * MAX_KEY_SIZE) == b"max"
        with pytest.raises(pybbolt.TxNotWritable, match=r"^tx not writable$"):
            b.put(b"x", b"y")
        with pytest.raises(pybbolt.TxNotWritable):
            tx.create_bucket(b"x")
        with pytest.raises(pybbolt.TxNotWritable):
            tx.commit()


def test_bucket_errors(db: pybbolt.DB) -> None:
    with db.update() as tx:
        with pytest.raises(pybbolt.BucketNameRequired, match=r"^bucket name required$"):
            tx.create_bucket(b"")
        b = tx.create_bucket(b"a")
        with pytest.raises(pybbolt.BucketExists, match=r"^bucket already exists$"):
            tx.create_bucket(b"a")
        assert tx.create_bucket_if_not_exists(b"a") is b
        b.put(b"plain", b"1")
        with pytest.raises(pybbolt.IncompatibleValue):
            b.create_bucket(b"plain")
        with pytest.raises(pybbolt.IncompatibleValue):
            b.create_bucket_if_not_exists(b"plain")
        with pytest.raises(pybbolt.IncompatibleValue):
            b.delete_bucket(b"plain")
        with pytest.raises(pybbolt.BucketNotFound, match=r"^bucket not found$"):
            tx.delete_bucket(b"missing")
        c = tx.create_bucket(b"c")
        b.create_bucket(b"child").put(b"x", b"y")
    # bbolt's MoveBucket moves the stored bucket value: move committed buckets.
    with db.update() as tx:
        b, c = tx.bucket(b"a"), tx.bucket(b"c")
        assert b is not None and c is not None
        with pytest.raises(pybbolt.SameBuckets):
            tx.move_bucket(b"child", b, b)
        tx.move_bucket(b"child", b, c)
        assert b.bucket(b"child") is None
        child = c.bucket(b"child")
        assert child is not None and child.get(b"x") == b"y"
        with pytest.raises(pybbolt.BucketNotFound):
            tx.move_bucket(b"child", b, c)


def test_sequences(db: pybbolt.DB) -> None:
    with db.update() as tx:
        b = tx.create_bucket(b"s")
        assert b.sequence == 0
        assert b.next_sequence() == 1
        assert b.next_sequence() == 2
        b.set_sequence(2**64 - 1)
        assert b.next_sequence() == 0
        b.set_sequence(41)
    with db.view() as tx:
        s = tx.bucket(b"s")
        assert s is not None and s.sequence == 41


def test_rollback_on_exception_and_closed_tx(db: pybbolt.DB) -> None:
    with pytest.raises(RuntimeError), db.update() as tx:
        tx.create_bucket(b"gone")
        raise RuntimeError("boom")
    with db.view() as tx:
        assert tx.bucket(b"gone") is None
    tx = db.begin(writable=True)
    tx.create_bucket(b"kept")
    tx.commit()
    with pytest.raises(pybbolt.TxClosed, match=r"^tx closed$"):
        tx.commit()
    with pytest.raises(pybbolt.TxClosed):
        tx.rollback()
    with db.view() as rtx:
        assert rtx.bucket(b"kept") is not None


def test_readonly_db_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    pybbolt.open(path).close()
    with pybbolt.open(path, readonly=True) as db, pytest.raises(
        pybbolt.DatabaseReadOnly, match=r"^database is in read-only mode$"
    ):
        db.begin(writable=True)


def test_cursor_delete_and_dict_protocol(db: pybbolt.DB) -> None:
    with db.update() as tx:
        b = tx.create_bucket(b"d")
        for i in range(1000):
            b[b"%04d" % i] = b"v"
        c = b.cursor()
        item = c.seek(b"0500")
        assert item is not None
        c.delete()
        del b[b"0501"]
        with pytest.raises(KeyError):
            del b[b"0501"]
        b.create_bucket(b"zz")
        c.last()
        with pytest.raises(pybbolt.IncompatibleValue):
            c.delete()
    with db.view() as tx:
        b = tx.bucket(b"d")
        assert b is not None
        assert b"0500" not in b and b"0501" not in b and b"0502" in b
        assert sum(1 for _ in b) == 999


def test_fill_percent_and_batch(db: pybbolt.DB) -> None:
    def load(tx: pybbolt.Tx) -> None:
        for name, fill in ((b"full", 1.0), (b"half", 0.5)):
            b = tx.create_bucket(name)
            b.fill_percent = fill
            for i in range(5000):
                b.put(b"%06d" % i, b"x" * 50)

    db.batch(load)
    with db.view() as tx:
        full, half = (tx.bucket(n).stats() for n in (b"full", b"half"))  # type: ignore[union-attr]
    assert full.key_n == half.key_n == 5000
    # 5000 elements of 16 + 6 + 50 bytes fill 88 pages when packed.
    assert 88 <= full.leaf_page_n <= 90
    assert half.leaf_page_n >= 2 * full.leaf_page_n - 2


def test_new_file_options(tmp_path: Path) -> None:
    for ps in (1024, 4096, 8192, 65536):
        path = tmp_path / f"p{ps}.db"
        with pybbolt.open(path, page_size=ps, mode=0o640) as db:
            assert db.page_size == ps
        assert path.stat().st_size == 4 * ps
        assert path.stat().st_mode & 0o777 == 0o640
        other = 2048 if ps != 2048 else 4096
        with pybbolt.open(path, page_size=other) as db:  # the file's page size wins
            assert db.page_size == ps
