"""Crash consistency by fault injection (tests/faults.py).

For each workload the writer runs through a :class:`FaultIO` and dies at every
operation index of its commits, in four ways:

* process: the process dies before operation N; every completed write is in
  the file (the kernel keeps it);
* torn: operation N, a write, only writes a prefix (half of it; for a meta page
  also 40 bytes, in the middle of the meta) and the process dies;
* power: the power fails before operation N; only what was fsynced or
  fdatasynced survives, plus (variants) some of the unsynced writes, one torn;
* error: operation N fails with EIO/ENOSPC, the program retries the
  transaction and carries on.

Every crash image opens with pybbolt, ``tx.check()`` is empty, Go's
``boltgo dump`` finds ``tx.Check()`` empty as well, and the content is exactly
the last committed state or the one being committed: the one being committed
exactly when its meta page made it to the image whole.  A commit that
returned is never lost.  Each distinct image is then opened read-write, a
commit is made on top of it, and the result checks clean again.

``PYBBOLT_FAULT_FULL=1`` runs more tear lengths and power-cut subsets.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import time
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import pybbolt

from .conftest import BIN, need
from .content import model_content, new_model, tx_content, without_inline
from .faults import Crash, FaultIO, Image
from .faults import Op as FaultOp
from .workload import Op, _apply, create, delete, go_dump, model_apply, put

FULL = os.environ.get("PYBBOLT_FAULT_FULL") == "1"
RECOVER_EVERY = 3  # the default run commits on top of every third distinct image
META_END = 80  # page header + meta fields up to and including the checksum

STATS: Counter[str] = Counter()


# -- the workloads -----------------------------------------------------------------


def _keys(prefix: bytes, n: int, vsize: int, start: int = 0, step: int = 1) -> list[Op]:
    b = [b"b"]
    return [put(b, prefix + b"%06d" % i, bytes([i % 251]) * vsize)
            for i in range(start, start + n * step, step)]


@dataclass
class Study:
    name: str
    txs: list[list[Op]]  # the studied transactions, committed one after the other
    setup: list[list[Op]] = field(default_factory=list)  # committed before the study
    options: dict[str, Any] = field(default_factory=dict)
    page_size: int = 4096


def _random_ops(seed: int, puts: int, deletes: int) -> list[Op]:
    rng = random.Random(seed)
    ops = [put([b"b"], b"r%06d" % rng.randrange(10**6), rng.randbytes(rng.randrange(40)))
           for _ in range(puts)]
    return ops + [delete([b"b"], b"r%06d" % rng.randrange(10**6)) for _ in range(deletes)]


def _nested_ops() -> list[Op]:
    top = [b"top"]
    mid = [b"top", b"mid"]
    ops: list[Op] = [create(top, b"mid"), create(mid, b"leafy")]
    ops += [put([*mid, b"leafy"], b"k%04d" % i, b"n" * 60) for i in range(120)]
    ops += [put(top, b"inline-now-big-%03d" % i, b"i" * 30) for i in range(60)]
    ops.append({"op": "delete_bucket", "path": ["746f70"], "name": b"gone".hex()})
    ops.append({"op": "next_sequence", "path": [p.hex() for p in mid]})
    return ops


STUDIES = [
    Study("small_puts", setup=[[create([], b"b"), *_keys(b"k", 10, 20)]],
          txs=[_keys(b"s", 3, 15, start=i * 3) for i in range(3)]),
    Study("growth", setup=[[create([], b"b")]],
          txs=[_keys(b"g", 160, 200)]),
    Study("splits", setup=[[create([], b"b"), *_keys(b"k", 200, 40, step=2)]],
          txs=[_keys(b"k", 200, 40, start=1, step=2)]),
    Study("deletes_rebalance",
          setup=[[create([], b"b"), *_keys(b"k", 600, 50)], [create([], b"other"),
                 put([b"other"], b"x", b"y" * 3000)]],
          txs=[[delete([b"b"], b"k%06d" % i) for i in range(40, 560)],
               [{"op": "delete_bucket", "path": [], "name": b"other".hex()}]]),
    Study("nested", setup=[[create([], b"top"), create([b"top"], b"gone"),
                            put([b"top", b"gone"], b"a", b"b"), put([b"top"], b"t", b"1")]],
          txs=[_nested_ops()]),
    Study("overflow", setup=[[create([], b"b"), put([b"b"], b"big", b"x" * 9000)]],
          txs=[[put([b"b"], b"big", b"y" * 20000), put([b"b"], b"new", b"z" * 5000)],
               [delete([b"b"], b"big")]]),
    Study("nofreelistsync", options={"no_freelist_sync": True},
          setup=[[create([], b"b"), *_keys(b"k", 300, 30)]],
          txs=[_keys(b"n", 100, 30), [delete([b"b"], b"k%06d" % i) for i in range(0, 300, 2)]]),
    Study("several_txs", options={"freelist_type": "hashmap"},
          setup=[[create([], b"b")]],
          txs=[[put([b"b"], b"t%d-%d" % (t, i), b"v" * (t * 37 + i)) for i in range(8)]
               + ([delete([b"b"], b"t%d-%d" % (t - 1, 3))] if t else [])
               + ([create([], b"c%d" % t)] if t % 2 else [])
               for t in range(6)]),
    Study("deep_tree_1k_pages", page_size=1024,
          setup=[[create([], b"b"), *_random_ops(1, 800, 0)]],
          txs=[_random_ops(2, 250, 0) + [delete([b"b"], b"r%06d" % i) for i in range(150_000)
                                         if i % 997 == 0]]),
    Study("no_grow_sync", options={"no_grow_sync": True},
          setup=[[create([], b"b")]],
          txs=[_keys(b"g", 150, 150)]),
]


# -- running a study ---------------------------------------------------------------


def _open(path: Path, study: Study, io: FaultIO | None = None) -> pybbolt.DB:
    return pybbolt.DB(path, page_size=study.page_size, file_io=io, **study.options)


def _run_txs(db: pybbolt.DB, txs: list[list[Op]], retry: bool = False) -> int:
    """Commit ``txs``; with ``retry``, a commit failing with OSError is redone
    once in a new transaction.  Returns the number of failed commits."""
    failures = 0
    for ops in txs:
        for attempt in (0, 1):
            tx = db.begin(True)
            try:
                for op in ops:
                    _apply(tx, op)
                tx.commit()
                break
            except OSError:
                if not retry or attempt:
                    raise
                failures += 1
            finally:
                if not tx.closed:
                    tx.rollback()
    return failures


@dataclass
class Reference:
    base: bytes
    contents: list[dict[str, Any]]  # contents[j]: after j studied commits (the model's)
    starts: list[int]  # index of the first operation of each studied commit
    meta_ops: list[int]  # index of each commit's meta page write
    ops: list[FaultOp]  # the operations of the studied commits

    @property
    def total(self) -> int:
        return len(self.ops)


def _reference(study: Study, tmp: Path) -> Reference:
    # The expected states come from a model of the ops, not from the writer
    # under test; the writer must agree with it before the study starts.
    model = new_model()
    for ops in study.setup:
        for op in ops:
            model_apply(model, op)
    contents = [model_content(model, study.page_size)]
    base = tmp / "base.db"
    with _open(base, study) as db:
        _run_txs(db, study.setup)
        with db.view() as tx:
            assert without_inline(tx_content(tx)) == contents[0], "the writer is not the model"
    data = base.read_bytes()
    ref = tmp / "ref.db"
    ref.write_bytes(data)
    io = FaultIO(data)
    starts: list[int] = []
    with _open(ref, study, io) as db:
        for ops in study.txs:
            starts.append(len(io.ops))
            _run_txs(db, [ops])
            for op in ops:
                model_apply(model, op)
            contents.append(model_content(model, study.page_size))
            with db.view() as tx:
                assert without_inline(tx_content(tx)) == contents[-1], "the writer is not the model"
    assert not io.pending, "every commit ends with a sync"
    assert io.durable == ref.read_bytes()
    meta_ops = []
    for j, start in enumerate(starts):
        end = starts[j + 1] if j + 1 < len(starts) else len(io.ops)
        writes = [op for op in io.ops[start:end] if op.kind == "pwrite"]
        meta = writes[-1]
        ps = study.page_size
        assert meta.offset in (0, ps) and meta.length == ps
        meta_ops.append(meta.index)
    return Reference(data, contents, starts, meta_ops, io.ops)


@dataclass
class Observed:
    error: str | None = None
    check: list[str] = field(default_factory=list)
    content: dict[str, Any] | None = None
    go_check: list[str] | None = None
    go_content: dict[str, Any] | None = None
    recovery: list[str] = field(default_factory=list)


class Verifier:
    """Opens crash images (each distinct one once) and compares them with the
    expected states."""

    def __init__(self, study: Study, tmp: Path, boltgo: Path | None) -> None:
        self.study = study
        self.tmp = tmp
        self.boltgo = boltgo
        self.cache: dict[str, Observed] = {}
        self.seen = 0

    def observe(self, image: bytes) -> Observed:
        digest = hashlib.sha256(image).hexdigest()
        if digest not in self.cache:
            self.cache[digest] = self._observe(image)
        return self.cache[digest]

    def _observe(self, image: bytes) -> Observed:
        path = self.tmp / "image.db"
        path.write_bytes(image)
        obs = Observed()
        try:
            with pybbolt.open(path, readonly=True) as db, db.view() as tx:
                obs.check = [str(e) for e in tx.check()]
                obs.content = without_inline(tx_content(tx))
        except pybbolt.Error as e:
            obs.error = f"{type(e).__name__}: {e}"
            return obs
        if self.boltgo is not None:
            go = go_dump(self.boltgo, path)
            obs.go_check = go.get("check")
            obs.go_content = without_inline(go["content"]) if go.get("content") else None
        self.seen += 1
        if FULL or self.seen % RECOVER_EVERY == 1:
            obs.recovery = self._recover(path, obs.content)
            STATS["recoveries"] += 1
        return obs

    def _recover(self, path: Path, content: dict[str, Any]) -> list[str]:
        """Open the crash image for writing, commit on top of it, check again."""
        problems: list[str] = []
        with _open(path, self.study) as db:
            with db.update() as tx:
                b = tx.create_bucket_if_not_exists(b"\xffrecovery")
                for i in range(30):
                    b.put(b"r%03d" % i, b"after the crash" * 3)
            with db.view() as tx:
                problems += [str(e) for e in tx.check()]
                got = without_inline(tx_content(tx))
        got["buckets"] = [b for b in got["buckets"] if b["name_hex"] != "ff7265636f76657279"]
        if got != content:
            problems.append("content changed by the recovery commit")
        if self.boltgo is not None:
            problems += [f"go: {e}" for e in go_dump(self.boltgo, path).get("check") or []]
        return problems

    def expect(self, image: bytes, ref: Reference, j: int, committed: bool, what: str) -> None:
        """``image``, a crash during studied commit ``j``, holds that commit iff
        ``committed``."""
        obs = self.observe(image)
        want = ref.contents[j + 1 if committed else j]
        where = f"{self.study.name} {what}"
        assert obs.error is None, f"{where}: {obs.error}"
        assert obs.check == [], f"{where}: {obs.check}"
        if obs.content != want:
            other = ref.contents[j if committed else j + 1]
            state = "the other state" if obs.content == other else "neither state"
            pytest.fail(f"{where}: content is {state} (expected commit {j} "
                        f"{'present' if committed else 'absent'})")
        if self.boltgo is not None:
            assert obs.go_check == [], f"{where}: Go check {obs.go_check}"
            assert obs.go_content == want, f"{where}: Go content differs"
        assert obs.recovery == [], f"{where}: after recovery {obs.recovery}"


def _crash_run(study: Study, ref: Reference, path: Path, io: FaultIO) -> None:
    """Run the studied transactions from the base until ``io`` kills the process."""
    path.write_bytes(ref.base)
    db = _open(path, study, io)
    try:
        _run_txs(db, study.txs)
    except Crash:
        pass
    finally:
        db.close()


def _run_with_errors(study: Study, ref: Reference, path: Path, io: FaultIO) -> tuple[int, int]:
    """Commit the studied transactions through ``io``, which fails one operation.

    After a failed commit the program goes on as a careful one would: if the
    database refuses writes it reopens it; the commit's outcome is then read
    from the file (it must be one of the two states) and redone if absent.
    Returns (failed commits, reopens).
    """
    path.write_bytes(ref.base)
    failures = reopened = 0
    db = _open(path, study, io)
    try:
        j = 0
        while j < len(study.txs):
            try:
                _run_txs(db, [study.txs[j]])
                j += 1
                continue
            except OSError:
                failures += 1
            try:
                db.begin(True).rollback()
            except pybbolt.Error as e:
                assert "reopen" in str(e), e
                db.close()
                db = _open(path, study, io)
                reopened += 1
            with db.view() as tx:
                state = without_inline(tx_content(tx))
            assert state in (ref.contents[j], ref.contents[j + 1]), "neither state after an error"
            if state == ref.contents[j + 1]:
                j += 1
    finally:
        db.close()
    return failures, reopened


def _tx_of(ref: Reference, n: int) -> int:
    return bisect_right(ref.starts, n) - 1


def _meta_survives(ref: Reference, j: int, image: Image, synced: bool) -> bool:
    meta = ref.meta_ops[j]
    if synced or meta in image.kept:
        return True
    return image.torn is not None and image.torn[0] == meta and image.torn[1] >= META_END


def _power_variants(io: FaultIO, n: int) -> list[tuple[str, Image]]:
    """Power-cut images at the moment of the crash."""
    pending = io.pending_indices
    out = [("power/synced-only", io.power_image())]
    if not pending:
        return out
    out.append(("power/all-but-last", io.power_image(pending[:-1])))
    writes = io.pending_writes()
    if writes:
        last = writes[-1]
        keep = [i for i in pending if i != last.op.index]
        out.append(("power/last-torn", io.power_image(keep, (last.op.index, len(last.data) // 2))))
    rng = random.Random(n)
    for k in range(6 if FULL else 1):
        subset = [i for i in pending if rng.random() < 0.5]
        tear = None
        if writes and k % 2:
            victim = rng.choice(writes)
            if victim.op.index not in subset:
                tear = (victim.op.index, rng.randrange(len(victim.data) + 1) // 512 * 512)
        out.append((f"power/subset{k}", io.power_image(subset, tear)))
    return out


def _tear_lengths(ref: Reference, index: int, length: int) -> list[int]:
    lengths = [length // 2]
    if index in ref.meta_ops:
        lengths += [40, META_END]
    if FULL:
        lengths += [1, 512, length - 1]
    return sorted({n for n in lengths if 0 < n < length})


def _study(study: Study, tmp: Path, boltgo: Path | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    ref = _reference(study, tmp)
    assert len(ref.contents) == len(study.txs) + 1
    assert all(a != b for a, b in zip(ref.contents, ref.contents[1:])), "every commit changes"
    v = Verifier(study, tmp, boltgo)
    path = tmp / "crash.db"
    for n in range(ref.total + 1):
        io = FaultIO(ref.base, stop_at=n)
        _crash_run(study, ref, path, io)
        if n == ref.total:  # no crash: the last commit returned, it must be durable
            assert io.crashed_at is None
            j = len(study.txs) - 1
            v.expect(path.read_bytes(), ref, j, True, "completed run")
            v.expect(io.power_image().data, ref, j, True, "power cut after the last commit")
            counts["process"] += 1
            counts["power"] += 1
            continue
        assert io.crashed_at == n and len(io.ops) == n + 1
        j = _tx_of(ref, n)
        op = io.ops[n]
        done = ref.meta_ops[j] < n
        v.expect(path.read_bytes(), ref, j, done, f"process crash before op {n} ({op.kind})")
        counts["process"] += 1
        synced = done and ref.meta_ops[j] not in io.pending_indices
        for name, image in _power_variants(io, n):
            survived = _meta_survives(ref, j, image, synced)
            v.expect(image.data, ref, j, survived, f"{name} before op {n}")
            counts["power"] += 1
    for op in ref.ops:
        if op.kind != "pwrite":
            continue
        j = _tx_of(ref, op.index)
        for keep in _tear_lengths(ref, op.index, op.length):
            io = FaultIO(ref.base, tear_at=op.index, tear_len=keep)
            _crash_run(study, ref, path, io)
            assert io.crashed_at == op.index and io.torn_len == keep
            whole = op.index == ref.meta_ops[j] and keep >= META_END
            v.expect(path.read_bytes(), ref, j, whole, f"torn write {op.index} at {keep}")
            image = io.power_image((), (op.index, keep))
            v.expect(image.data, ref, j, whole, f"power, torn write {op.index} at {keep}")
            counts["torn"] += 2
    for n in range(ref.total):
        code = errno.ENOSPC if n % 2 else errno.EIO
        io = FaultIO(ref.base, fail_at=n, fail_errno=code)
        failures, reopened = _run_with_errors(study, ref, path, io)
        assert failures == 1
        if n >= ref.meta_ops[_tx_of(ref, n)]:
            assert reopened, f"writes allowed after a failed meta write (op {n})"
        v.expect(path.read_bytes(), ref, len(study.txs) - 1, True, f"I/O error at op {n}")
        counts["error"] += 1
    counts["distinct images"] = len(v.cache)
    return counts


@pytest.mark.parametrize("study", STUDIES, ids=lambda s: s.name)
def test_crash_at_every_operation(study: Study, tmp_path: Path) -> None:
    boltgo = BIN / "boltgo"
    need(boltgo.exists(), "Go tools not built (.bin/boltgo): run `make gotools`")
    start = time.monotonic()
    counts = _study(study, tmp_path, boltgo)
    STATS.update(counts)
    STATS["studies"] += 1
    print(f"faults {study.name}: {dict(counts)} in {time.monotonic() - start:.1f}s")
    assert counts["process"] >= 10 and counts["torn"] >= 4 and counts["error"] >= 9


@pytest.mark.parametrize(("op", "fail_len"), [("fdatasync", None), ("pwrite", None),
                                             ("pwrite", 100), ("pwrite", 40)])
def test_failed_meta_write_then_crash(op: str, fail_len: int | None, tmp_path: Path) -> None:
    """Regression: a commit whose meta page write or sync fails (the new meta
    may be in the file, whole) must not let a later commit of the same
    process reuse the pages that meta points at.  pybbolt used to roll back and
    carry on; a crash during the next commit then left a file mixing the pages
    of both commits: it checked clean but held neither state.  Now writes are
    refused until the database is reopened, which follows the file."""
    path = tmp_path / "db"
    with pybbolt.DB(path, page_size=4096) as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for i in range(300):
            b.put(b"k%05d" % i, b"a" * 50)
    base = path.read_bytes()

    def failing(tx: pybbolt.Tx) -> None:
        for i in range(0, 300, 3):
            tx.bucket(b"b").put(b"k%05d" % i, b"B" * 50)  # type: ignore[union-attr]

    def other(tx: pybbolt.Tx) -> None:
        for i in range(1, 300, 2):
            tx.bucket(b"b").put(b"k%05d" % i, b"C" * 70)  # type: ignore[union-attr]

    probe = FaultIO(base)
    with pybbolt.DB(path, file_io=probe) as db:
        db.batch(failing)
    kinds = [o.kind for o in probe.ops]
    fail_at = len(kinds) - 1 if op == "fdatasync" else len(kinds) - 2
    assert kinds[fail_at] == op
    # The four possible states, from a model (not from the writer under test).
    before = {b"k%05d" % i: b"a" * 50 for i in range(300)}
    after_failing = {b"k%05d" % i: b"B" * 50 for i in range(0, 300, 3)}
    after_other = {b"k%05d" % i: b"C" * 70 for i in range(1, 300, 2)}
    states = {}
    for name, changes in {"before": [], "failing": [after_failing], "other": [after_other],
                          "both": [after_failing, after_other]}.items():
        kv = dict(before)
        for change in changes:
            kv.update(change)
        states[name] = model_content({"buckets": {b"b": {**new_model(), "kv": kv}}}, 4096)
    crashes = refused = 0
    for k in range(0, 40):
        path.write_bytes(base)
        io = FaultIO(base, fail_at=fail_at, fail_len=fail_len)
        db = pybbolt.DB(path, file_io=io)
        with pytest.raises(OSError):
            db.batch(failing)
        io.stop_at = len(io.ops) + k  # the program goes on, and dies k operations later
        try:
            try:
                db.batch(other)
            except pybbolt.Error as e:
                assert "reopen" in str(e)
                refused += 1
                db.close()
                db = pybbolt.DB(path, file_io=io)
                db.batch(other)
        except Crash:
            crashes += 1
        finally:
            db.close()
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert [str(e) for e in tx.check()] == []
            got = without_inline(tx_content(tx))
        whole = op == "fdatasync" or (fail_len is not None and fail_len >= META_END)
        allowed = ["failing", "both"] if whole else ["before", "other"]
        assert got in [states[n] for n in allowed], (k, [n for n in states if states[n] == got])
    assert crashes >= 10 and refused == 40


def test_fault_counts() -> None:
    """Runs last in this module: the crash points really were tested."""
    if STATS["studies"] < len(STUDIES):
        pytest.skip("the studies did not all run")
    total = STATS["process"] + STATS["power"] + STATS["torn"] + STATS["error"]
    print(f"fault injection: {total} crash points, {dict(STATS)}")
    assert STATS["process"] >= 250
    assert total >= 1500

