"""pybbolt.tx: transaction ids, size, closed and read-only errors, commit and
rollback, and the backup written by ``write_to``.

Expected values are bbolt's rules written out (tx.go: a write transaction
gets the meta's txid + 1; Commit on a read transaction is ErrTxNotWritable,
on a closed one ErrTxClosed; WriteTo writes meta 0 from the transaction's
meta, meta 1 with txid - 1, then the pages from 2 up to the high-water
mark), and Go's view of the files (``boltgo dump`` / ``boltgo replay``).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

import pybbolt
from pybbolt.meta import fnv1a64

from .workload import create, go_dump, go_replay, put, workload

PS = 4096


def fresh(tmp_path: Path, name: str = "t.db") -> pybbolt.DB:
    return pybbolt.open(tmp_path / name, page_size=PS)


def test_ids_follow_commits_not_rollbacks(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        # a new file: meta 0 has txid 0, meta 1 txid 1
        with db.view() as tx:
            assert tx.id == 1 and not tx.writable
        tx = db.begin(True)
        assert tx.id == 2 and tx.writable
        tx.rollback()
        with db.view() as tx:
            assert tx.id == 1
        with db.update() as tx:
            assert tx.id == 2
            tx.create_bucket(b"b")
        with db.view() as tx:
            assert tx.id == 2
        with db.update() as tx:
            assert tx.id == 3


def test_size_is_the_high_water_mark(tmp_path: Path, boltgo: Path) -> None:
    ops = [create([], b"b")] + [put([b"b"], b"%05d" % i, b"x" * 100) for i in range(300)]
    wl = workload(PS, [ops])
    go = go_replay(boltgo, wl, tmp_path / "go.db")
    with fresh(tmp_path) as db:
        with db.view() as tx:
            assert tx.size == 4 * PS and tx.page_size == PS  # metas, freelist, empty root
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(300):
                b.put(b"%05d" % i, b"x" * 100)
        with db.view() as tx:
            assert tx.meta.pgid == go["meta"]["pgid"]
            assert tx.size == go["meta"]["pgid"] * PS


def test_closed_transaction_errors(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        tx = db.begin(True)
        tx.create_bucket(b"b")
        tx.commit()
        assert tx.closed
        for action in (tx.commit, tx.rollback, lambda: tx.create_bucket(b"c"),
                       lambda: tx.write_to(io.BytesIO())):
            with pytest.raises(pybbolt.TxClosed, match=r"^tx closed$"):
                action()
        rtx = db.begin()
        rtx.rollback()
        with pytest.raises(pybbolt.TxClosed):
            rtx.rollback()
        with pytest.raises(pybbolt.TxClosed):  # closed comes before not writable
            rtx.commit()


def test_read_transaction_refuses_writes(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        tx = db.begin()
        for action in (tx.commit, lambda: tx.create_bucket(b"c"),
                       lambda: tx.create_bucket_if_not_exists(b"c"),
                       lambda: tx.delete_bucket(b"b")):
            with pytest.raises(pybbolt.TxNotWritable, match=r"^tx not writable$"):
                action()
        assert not tx.closed  # a refused commit leaves a read transaction open
        tx.rollback()


def test_context_managers(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with pytest.raises(KeyError), db.update() as tx:
            tx.create_bucket(b"gone")
            raise KeyError("roll back")
        assert tx.closed
        with db.update() as tx:
            tx.create_bucket(b"kept")
        with db.view() as rtx:
            assert [n for n, _ in rtx.buckets()] == [b"kept"]
        assert rtx.closed
        with db.update() as tx:
            tx.rollback()  # closed inside the block: nothing more on exit
        with db.view() as rtx:
            assert rtx.id == 2


def test_rollback_leaves_the_file_alone(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v")
        before = (tmp_path / "t.db").read_bytes()
        tx = db.begin(True)
        b = tx.bucket(b"b")
        assert b is not None
        for i in range(500):
            b.put(b"%04d" % i, b"y" * 50)
        tx.create_bucket(b"other")
        tx.rollback()
        assert (tmp_path / "t.db").read_bytes() == before
        with db.view() as rtx:
            b = rtx.bucket(b"b")
            assert b is not None and list(b.items()) == [(b"k", b"v")]


def test_page_header_beyond_the_file(tmp_path: Path) -> None:
    with fresh(tmp_path) as db, db.view() as tx:
        h = tx.page_header(3)
        assert (h.flags, h.count, h.overflow) == (0x02, 0, 0)  # the empty root leaf
        assert tx.page_bytes(2)[:16] == struct.pack("<QHHI", 2, 0x10, 0, 0)
        pages = (tmp_path / "t.db").stat().st_size // PS
        with pytest.raises(pybbolt.CorruptionError, match="beyond the end of the file"):
            tx.page_header(pages)


def test_write_to_layout(tmp_path: Path, boltgo: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(200):
                b.put(b"%04d" % i, b"z" * 80)
        data = (tmp_path / "t.db").read_bytes()
        with db.view() as tx:
            out = io.BytesIO()
            assert tx.write_to(out) == tx.size
            copy = out.getvalue()
            txid, pgid = tx.id, tx.meta.pgid
            tx.copy_file(tmp_path / "copy.db")
    assert len(copy) == pgid * PS
    assert copy[2 * PS:] == data[2 * PS: pgid * PS]
    for page, want_txid in ((0, txid), (1, txid - 1)):
        header = struct.unpack_from("<QHHI", copy, page * PS)
        assert header == (page, 0x04, 0, 0)
        fields = struct.unpack_from("<IIIIQQQQQQ", copy, page * PS + 16)
        assert fields[8] == want_txid and fields[7] == pgid
        body = copy[page * PS + 16: page * PS + 72]
        assert fields[9] == fnv1a64(body)
    assert (tmp_path / "copy.db").read_bytes() == copy
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    go = go_dump(boltgo, tmp_path / "copy.db")
    assert go["check"] == [] and go["meta"]["txid"] == txid
    assert go["content"]["buckets"][0]["key_count"] == 200


def test_reads_count_overflow_pages(tmp_path: Path) -> None:
    """A page's overflow pages count towards the mapping's release: a walk of
    big values keeps a bounded RSS (one page each would let it grow 16x for
    64 kB values)."""
    path = tmp_path / "big.db"
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"k", bytes(range(200)) * 100)
    for walk in (False, True):
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            bucket = tx.bucket(b"b")
            assert bucket is not None
            overflow = tx.page_header(bucket.root).overflow
            assert overflow == 4
            before = tx._reads_left
            if walk:
                assert list(bucket.items()) == [(b"k", bytes(range(200)) * 100)]
            else:
                assert bucket.get(b"k") == bytes(range(200)) * 100
            assert before - tx._reads_left == 1 + overflow
