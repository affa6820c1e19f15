"""The Python stores under test: pybbolt, py-lmdb and sqlite3.

Each operation is a function ``(timer, job) -> verify`` that prepares its
inputs, runs the measured part inside ``with timer:`` and returns a few
numbers that show the work was done (``found``, ``count``...).  Opening a
source database and building the key and value lists are outside the timer;
writers open their file without syncing (bbolt ``NoSync``, lmdb
``sync=False``, sqlite ``synchronous=OFF``), as Go's side does.
"""

from __future__ import annotations

import cProfile
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .workload import BATCH, BUCKET, TX_MAX_SIZE, sequential_keys, value_of

Verify = dict[str, Any]


class Timer:
    """Measures the one region of an operation that counts."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.seconds = time.perf_counter() - self._start


class ProfilingTimer(Timer):
    """A timer that also runs cProfile over the measured region."""

    def __init__(self) -> None:
        super().__init__()
        self.profile = cProfile.Profile()

    def __enter__(self) -> Timer:
        self.profile.enable()
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self.profile.disable()


@dataclass(frozen=True)
class Job:
    """One repetition of one operation on one store."""

    op: str
    db: Path  # the file loaded (a, b, c2) or read (d..h)
    keys: list[bytes]  # load order (a, b, c2) or keys to get (d); else empty
    dst: Path | None = None  # compaction destination (h)
    n: int = 0  # the number of pairs in the store


def remove(path: Path) -> None:
    for p in (path, Path(f"{path}-lock"), Path(f"{path}-journal"), Path(f"{path}-wal")):
        p.unlink(missing_ok=True)


Op = Callable[[Timer, Job], Verify]


# -- pybbolt ---------------------------------------------------------------


def _pybbolt_load(timer: Timer, job: Job) -> Verify:
    import pybbolt

    keys = job.keys
    values = [value_of(k) for k in keys]
    batch = len(keys) if job.op == "a" else BATCH
    remove(job.db)
    db = pybbolt.open(job.db, no_sync=True)
    try:
        with timer:
            with db.update() as tx:
                tx.create_bucket(BUCKET)
            for lo in range(0, len(keys), batch):
                with db.update() as tx:
                    b = tx.bucket(BUCKET)
                    assert b is not None
                    put = b.put
                    for i in range(lo, min(lo + batch, len(keys))):
                        put(keys[i], values[i])
    finally:
        db.close()
    return {}


def _pybbolt_read(timer: Timer, job: Job) -> Verify:
    import pybbolt
    import pybbolt.check
    import pybbolt.stats  # the modules (f) and (g) load on first use: start-up, not timed

    verify: Verify = {}
    with pybbolt.open(job.db, readonly=True) as db, timer, db.view() as tx:
        b = tx.bucket(BUCKET)
        assert b is not None
        if job.op == "d":
            found = total = 0
            get = b.get
            for k in job.keys:
                v = get(k)
                if v is not None:
                    found += 1
                    total += len(v)
            verify = {"found": found, "bytes": total}
        elif job.op in ("e", "e2"):
            count = total = 0
            for k, v in b.cursor() if job.op == "e" else b.items():
                count += 1
                total += len(k) + len(v or b"")
            verify = {"count": count, "bytes": total}
        elif job.op == "f":
            verify = {"errors": sum(1 for _ in tx.check())}
        elif job.op == "g":
            s = b.stats()
            verify = {"KeyN": s.key_n, "LeafPageN": s.leaf_page_n, "BranchPageN": s.branch_page_n}
    return verify


def _pybbolt_compact(timer: Timer, job: Job) -> Verify:
    import pybbolt
    import pybbolt.compact  # loaded on first use: start-up, not timed

    assert job.dst is not None
    remove(job.dst)
    try:
        with pybbolt.open(job.db, readonly=True) as src, pybbolt.open(
            job.dst, no_sync=True
        ) as dst, timer:
            pybbolt.compact(dst, src, TX_MAX_SIZE)
        return {"size": job.dst.stat().st_size}
    finally:
        remove(job.dst)


# -- py-lmdb ---------------------------------------------------------------

_LMDB_MAP_SIZE = 1 << 34  # sparse; far more than 1M pairs need


def _lmdb_load(timer: Timer, job: Job) -> Verify:
    import lmdb

    keys = job.keys
    values = [value_of(k) for k in keys]
    batch = len(keys) if job.op == "a" else BATCH
    remove(job.db)
    env = lmdb.open(
        str(job.db), subdir=False, map_size=_LMDB_MAP_SIZE, max_dbs=2,
        sync=False, metasync=False,
    )
    try:
        with timer:
            dbi = env.open_db(BUCKET)
            for lo in range(0, len(keys), batch):
                with env.begin(write=True, db=dbi) as txn:
                    put = txn.put
                    for i in range(lo, min(lo + batch, len(keys))):
                        put(keys[i], values[i])
    finally:
        env.close()
    return {}


def _lmdb_read(timer: Timer, job: Job) -> Verify:
    import lmdb

    env = lmdb.open(str(job.db), subdir=False, readonly=True, lock=False, max_dbs=2)
    verify: Verify = {}
    try:
        with timer:
            dbi = env.open_db(BUCKET, create=False)
            with env.begin(db=dbi) as txn:
                if job.op == "d":
                    found = total = 0
                    get = txn.get
                    for k in job.keys:
                        v = get(k)
                        if v is not None:
                            found += 1
                            total += len(v)
                    verify = {"found": found, "bytes": total}
                elif job.op == "e":
                    count = total = 0
                    for k, v in txn.cursor():
                        count += 1
                        total += len(k) + len(v)
                    verify = {"count": count, "bytes": total}
    finally:
        env.close()
    return verify


def _lmdb_compact(timer: Timer, job: Job) -> Verify:
    import lmdb

    assert job.dst is not None
    remove(job.dst)
    env = lmdb.open(str(job.db), subdir=False, readonly=True, lock=False, max_dbs=2)
    try:
        fd = os.open(job.dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with timer:
                env.copyfd(fd, compact=True)
        finally:
            os.close(fd)
        return {"size": job.dst.stat().st_size}
    finally:
        env.close()
        remove(job.dst)


# -- sqlite3 ---------------------------------------------------------------

_CREATE = "CREATE TABLE bench (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID"
_PUT = "INSERT OR REPLACE INTO bench (k, v) VALUES (?, ?)"
_GET = "SELECT v FROM bench WHERE k = ?"


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def _sqlite_load(timer: Timer, job: Job) -> Verify:
    keys = job.keys
    values = [value_of(k) for k in keys]
    batch = len(keys) if job.op == "a" else BATCH
    remove(job.db)
    conn = _sqlite_connect(job.db)
    try:
        with timer:
            conn.execute(_CREATE)
            execute = conn.cursor().execute
            for lo in range(0, len(keys), batch):
                execute("BEGIN")
                for i in range(lo, min(lo + batch, len(keys))):
                    execute(_PUT, (keys[i], values[i]))
                execute("COMMIT")
    finally:
        conn.close()
    return {}


def _sqlite_read(timer: Timer, job: Job) -> Verify:
    conn = _sqlite_connect(job.db)
    verify: Verify = {}
    try:
        with timer:
            conn.execute("BEGIN")
            if job.op == "d":
                found = total = 0
                execute = conn.cursor().execute
                for k in job.keys:
                    row = execute(_GET, (k,)).fetchone()
                    if row is not None:
                        found += 1
                        total += len(row[0])
                verify = {"found": found, "bytes": total}
            elif job.op == "e":
                count = total = 0
                for k, v in conn.execute("SELECT k, v FROM bench ORDER BY k"):
                    count += 1
                    total += len(k) + len(v)
                verify = {"count": count, "bytes": total}
            elif job.op == "f":
                rows = conn.execute("PRAGMA integrity_check").fetchall()
                verify = {"errors": 0 if rows == [("ok",)] else len(rows)}
            conn.execute("COMMIT")
    finally:
        conn.close()
    return verify


def _sqlite_compact(timer: Timer, job: Job) -> Verify:
    assert job.dst is not None
    remove(job.dst)
    conn = _sqlite_connect(job.db)
    try:
        with timer:
            conn.execute("VACUUM INTO ?", (str(job.dst),))
        return {"size": job.dst.stat().st_size}
    finally:
        conn.close()
        remove(job.dst)


# -- the pure-Python floor ------------------------------------------------
#
# What no Python store can beat: the benchmark's own loop, with a dict or
# prebuilt lists of the same N pairs standing in for the store (built
# outside the timer).  The put and the get are one C call each; the scans
# walk ``zip(keys, values)``.  The loop bodies are those of pybbolt's above.


def _floor_load(timer: Timer, job: Job) -> Verify:
    keys = job.keys
    values = [value_of(k) for k in keys]
    table: dict[bytes, bytes] = {}
    with timer:
        for lo in range(0, len(keys), BATCH):
            put = table.__setitem__
            for i in range(lo, min(lo + BATCH, len(keys))):
                put(keys[i], values[i])
    return {"count": len(table)}


def _floor_read(timer: Timer, job: Job) -> Verify:
    keys = sequential_keys(job.n)
    values = [value_of(k) for k in keys]
    verify: Verify = {}
    if job.op == "d":
        get = dict(zip(keys, values)).get
        with timer:
            found = total = 0
            for k in job.keys:
                v = get(k)
                if v is not None:
                    found += 1
                    total += len(v)
        verify = {"found": found, "bytes": total}
    else:
        with timer:
            count = total = 0
            for k, v in zip(keys, values):
                count += 1
                total += len(k) + len(v or b"")
        verify = {"count": count, "bytes": total}
    return verify


# The operations each Python store has; a missing one is reported as n/a.
STORES: dict[str, dict[str, Op]] = {
    "pybbolt": {
        "a": _pybbolt_load, "b": _pybbolt_load, "c2": _pybbolt_load,
        "d": _pybbolt_read, "e": _pybbolt_read, "e2": _pybbolt_read, "f": _pybbolt_read,
        "g": _pybbolt_read,
        "h": _pybbolt_compact,
    },
    "lmdb": {
        "a": _lmdb_load, "b": _lmdb_load, "c2": _lmdb_load,
        "d": _lmdb_read, "e": _lmdb_read,
        "h": _lmdb_compact,
    },
    "sqlite": {
        "a": _sqlite_load, "b": _sqlite_load, "c2": _sqlite_load,
        "d": _sqlite_read, "e": _sqlite_read, "f": _sqlite_read,
        "h": _sqlite_compact,
    },
    "floor": {"c2": _floor_load, "d": _floor_read, "e": _floor_read, "e2": _floor_read},
}

