"""Hot backup (Tx.write_to / copy_file), compact, and readers in threads
while a writer commits and grows the file."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pybbolt

from .conftest import FIXTURES
from .content import db_content, tx_content
from .workload import go_dump


def _fill(db: pybbolt.DB, start: int, n: int, size: int = 200) -> None:
    with db.update() as tx:
        b = tx.create_bucket_if_not_exists(b"data")
        for i in range(start, start + n):
            b.put(b"%08d" % i, bytes([i % 256]) * size)


def test_write_to_is_a_consistent_snapshot(tmp_path: Path, boltgo: Path) -> None:
    src = tmp_path / "src.db"
    with pybbolt.open(src) as db:
        _fill(db, 0, 3000)
        reader = db.begin()
        snapshot = tx_content(reader)
        _fill(db, 3000, 3000)  # a writer goes on while the backup is taken
        buf = io.BytesIO()
        assert reader.write_to(buf) == reader.size
        reader.copy_file(tmp_path / "copy.db")
        reader.rollback()
    backup = tmp_path / "backup.db"
    backup.write_bytes(buf.getvalue())
    assert (tmp_path / "copy.db").read_bytes() == buf.getvalue()
    assert db_content(str(backup)) == snapshot
    go = go_dump(boltgo, backup)
    assert go["check"] == []
    assert go["content"] == snapshot
    with pybbolt.open(backup, readonly=True) as b2:
        assert (b2.meta0.txid, b2.meta1.txid) == (go["meta"]["txid"], go["meta"]["txid"] - 1)


def test_compact_matches_content(tmp_path: Path, boltgo: Path) -> None:
    src_path = FIXTURES / "churn_seed2.db"
    with pybbolt.open(src_path, readonly=True) as src, pybbolt.open(tmp_path / "c.db") as dst:
        pybbolt.compact(dst, src, 4096)
    go = go_dump(boltgo, tmp_path / "c.db")
    assert go["check"] == []
    assert go["content"] == db_content(str(src_path))


def test_readers_in_threads_see_snapshots(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    errors: list[BaseException] = []
    stop = threading.Event()
    with pybbolt.open(path, no_sync=True) as db:
        _fill(db, 0, 10)

        def read() -> None:
            try:
                while not stop.is_set():
                    with db.view() as tx:
                        b = tx.bucket(b"data")
                        assert b is not None
                        keys = list(b.keys())
                        # every commit adds whole batches of 500 after the first 10
                        assert (len(keys) - 10) % 500 == 0
                        assert keys == sorted(keys)
                        assert [str(e) for e in tx.check()] == []
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=read) for _ in range(3)]
        for t in threads:
            t.start()
        for i in range(20):
            _fill(db, 10 + 500 * i, 500, size=300)
        stop.set()
        for t in threads:
            t.join()
        assert errors == []
        with db.view() as tx:
            b = tx.bucket(b"data")
            assert b is not None
            assert sum(1 for _ in b) == 10 + 500 * 20


def test_pending_pages_wait_for_readers(tmp_path: Path) -> None:
    """Pages a reader still sees are not reused while it is open."""
    path = tmp_path / "p.db"
    with pybbolt.open(path, no_sync=True) as db:
        _fill(db, 0, 2000)
        reader = db.begin()
        before = tx_content(reader)
        for round_ in range(5):
            with db.update() as tx:
                b = tx.bucket(b"data")
                assert b is not None
                for i in range(0, 2000, 3):
                    b.put(b"%08d" % i, b"round %d" % round_)
        # Read the pages again from the file, not from the reader's page cache.
        reader._branches.clear()
        reader._leaves.clear()
        assert tx_content(reader) == before
        reader.rollback()
