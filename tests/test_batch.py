"""``db.batch``: bbolt's Batch — concurrent calls coalesced into one write
transaction, a failing call retried alone with its error for its caller only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import pybbolt

from .workload import go_dump


def _commits(db: pybbolt.DB) -> int:
    """The txid of the last commit (each commit adds one)."""
    with db.view() as tx:
        return tx.id


def _run_threads(n: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def test_defaults_are_bbolts(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "d.db") as db:
        assert (db.max_batch_size, db.max_batch_delay) == (1000, 0.01)


def test_eight_threads_share_transactions(tmp_path: Path, boltgo: Path) -> None:
    path = tmp_path / "batch.db"
    with pybbolt.open(path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        db.max_batch_delay = 1.0  # the 8th call, not the clock, starts the batch
        db.max_batch_size = 8
        before = _commits(db)
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def worker(i: int) -> None:
            barrier.wait()
            try:
                db.batch(lambda tx: tx[b"b"].put(b"key-%d" % i, b"value-%d" % i))
            except BaseException as e:  # pragma: no cover (reported below)
                errors.append(e)

        _run_threads(8, worker)
        assert errors == []
        assert _commits(db) - before == 1  # fewer than 8: one transaction for all
        with db.view() as tx:
            assert list(tx[b"b"].items()) == [(b"key-%d" % i, b"value-%d" % i)
                                              for i in range(8)]
    dump = go_dump(boltgo, path)
    assert dump["check"] == []
    (bucket,) = dump["content"]["buckets"]
    assert bucket["key_count"] == 8


def test_default_delay_coalesces(tmp_path: Path) -> None:
    """With bbolt's defaults (10 ms), 8 calls released together still share."""
    with pybbolt.open(tmp_path / "d.db") as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        before = _commits(db)
        barrier = threading.Barrier(8)

        def worker(i: int) -> None:
            barrier.wait()
            db.batch(lambda tx: tx[b"b"].put(b"%d" % i, b""))

        _run_threads(8, worker)
        assert _commits(db) - before < 8
        with db.view() as tx:
            assert len(tx[b"b"]) == 8


def test_max_batch_size_splits(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "s.db") as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        db.max_batch_size = 2
        db.max_batch_delay = 5.0  # only a full batch runs before the delay
        before = _commits(db)
        barrier = threading.Barrier(8)

        def worker(i: int) -> None:
            barrier.wait()
            db.batch(lambda tx: tx[b"b"].put(b"%d" % i, b""))

        _run_threads(8, worker)
        assert _commits(db) - before == 4
        with db.view() as tx:
            assert list(tx[b"b"].keys()) == [b"%d" % i for i in range(8)]


class Boom(Exception):
    pass


def test_failing_call_is_retried_alone(tmp_path: Path, boltgo: Path) -> None:
    path = tmp_path / "f.db"
    with pybbolt.open(path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        db.max_batch_delay = 1.0
        db.max_batch_size = 4
        before = _commits(db)
        barrier = threading.Barrier(4)
        calls: dict[int, int] = {i: 0 for i in range(4)}
        outcome: dict[int, BaseException | None] = {}

        def worker(i: int) -> None:
            def fn(tx: pybbolt.Tx) -> None:
                calls[i] += 1
                tx[b"b"].put(b"k%d" % i, b"v")
                if i == 2:
                    raise Boom(f"call {i} fails")

            barrier.wait()
            try:
                db.batch(fn)
                outcome[i] = None
            except BaseException as e:
                outcome[i] = e

        _run_threads(4, worker)
        # Only the failing caller gets its error, of its own type and message.
        assert [i for i, e in outcome.items() if e is not None] == [2]
        error = outcome[2]
        assert type(error) is Boom and str(error) == "call 2 fails"
        # Run in the batch (rolled back), then alone: twice.  The others ran
        # in the retry without it, and those before it in the batch also in
        # the rolled-back attempt (their order is the threads' arrival).
        assert calls[2] == 2 and all(calls[i] in (1, 2) for i in (0, 1, 3))
        assert _commits(db) - before == 1  # the retry; the solo run rolled back
        with db.view() as tx:
            assert list(tx[b"b"].keys()) == [b"k0", b"k1", b"k3"]
    assert go_dump(boltgo, path)["check"] == []


def test_single_call_commits(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "one.db") as db:
        db.batch(lambda tx: tx.create_bucket(b"b").put(b"k", b"v"))
        with db.view() as tx:
            assert tx[b"b"][b"k"] == b"v"
        with pytest.raises(pybbolt.BucketExists, match=r"^bucket already exists$"):
            db.batch(lambda tx: tx.create_bucket(b"b"))


def test_batch_on_read_only_db(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    pybbolt.open(path).close()
    with pybbolt.open(path, readonly=True) as db, pytest.raises(
            pybbolt.DatabaseReadOnly, match=r"^database is in read-only mode$"):
        db.batch(lambda tx: None)
