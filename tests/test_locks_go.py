"""File locks between pybbolt and Go bbolt (docs/FORMAT.md §11.2), and between two
pybbolt processes: one writer at a time, readers share, in both directions.

Go side: ``boltgo hold FILE --mode write|read --seconds S [--timeout T]``
opens the database with bbolt (exclusive flock for a writer, shared for a
reader), prints ``locked`` and holds it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import pybbolt

from .conftest import ROOT

WAIT = 0.3


@contextmanager
def go_holding(boltgo: Path, path: Path, mode: str, seconds: float = 30) -> Iterator[None]:
    """Go bbolt holds ``path`` open (``mode`` write or read) inside the block."""
    proc = subprocess.Popen([str(boltgo), "hold", str(path), "--mode", mode,
                             "--seconds", str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.kill()
        proc.wait()


def go_try(boltgo: Path, path: Path, mode: str, timeout: float = WAIT) -> tuple[int, str]:
    """Go bbolt tries to open ``path`` within ``timeout``: (status, first line)."""
    r = subprocess.run([str(boltgo), "hold", str(path), "--mode", mode, "--seconds", "0",
                        "--timeout", str(timeout)], capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stdout.splitlines() or [""])[0]


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "locks.db"
    with pybbolt.open(path) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"k", b"v")
    return path


def test_go_writer_excludes_pybbolt_writers_and_readers(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with go_holding(boltgo, path, "write"):
        for readonly in (False, True):
            start = time.monotonic()
            with pytest.raises(pybbolt.Timeout, match=r"^timeout$"):
                pybbolt.open(path, readonly=readonly, timeout=WAIT)
            assert WAIT - 0.06 <= time.monotonic() - start < WAIT + 1
    with pybbolt.open(path, timeout=WAIT) as db:  # released with the Go process
        assert db.begin().bucket(b"b") is not None


def test_go_reader_shares_with_pybbolt_readers_only(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with go_holding(boltgo, path, "read"):
        with pybbolt.open(path, readonly=True, timeout=WAIT) as db, db.view() as tx:
            assert tx.bucket(b"b").get(b"k") == b"v"  # type: ignore[union-attr]
        with pytest.raises(pybbolt.Timeout):
            pybbolt.open(path, timeout=WAIT)
    pybbolt.open(path, timeout=WAIT).close()


def test_pybbolt_writer_excludes_go(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with pybbolt.open(path):
        for mode in ("write", "read"):
            status, line = go_try(boltgo, path, mode)
            assert (status, json.loads(line)) == (1, {"error": "timeout"})
    assert go_try(boltgo, path, "write") == (0, "locked")


def test_pybbolt_reader_lets_go_readers_in(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with pybbolt.open(path, readonly=True) as db, db.view():
        assert go_try(boltgo, path, "read") == (0, "locked")
        status, line = go_try(boltgo, path, "write")  # but not Go writers
        assert (status, json.loads(line)) == (1, {"error": "timeout"})


def test_go_writer_waits_for_pybbolt_to_close(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    db = pybbolt.open(path)
    proc = subprocess.Popen([str(boltgo), "hold", str(path), "--mode", "write", "--seconds", "0",
                             "--timeout", "10"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert proc.poll() is None  # still waiting for the lock
        with db.update() as tx:
            tx.bucket(b"b").put(b"late", b"commit")  # type: ignore[union-attr]
        db.close()
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and out.split() == ["locked"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        db.close()


WRITER = """
import sys, time
import pybbolt
path, name, hold = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
asked = time.time()
print("asking", flush=True)
with pybbolt.open(path) as db:
    got = time.time()
    print("locked", flush=True)
    with db.update() as tx:
        b = tx.create_bucket_if_not_exists(b"writers")
        b.put(name, b"%f" % got)
    if hold == "wait":
        sys.stdin.readline()  # holds the lock until the test says so
    released = time.time()
print(f"{asked} {got} {released}", flush=True)
"""


def test_two_pybbolt_writers_take_turns(tmp_path: Path) -> None:
    """The second writer process waits for the first, then commits; both
    commits are in the file."""
    path = _db(tmp_path)

    def writer(name: str, hold: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, hold],
                                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)

    # The first writer holds the lock until the second has asked for it (no
    # timing assumption: a loaded machine may take seconds to start Python).
    first = writer("first", "wait")
    assert first.stdout is not None and first.stdin is not None
    assert [first.stdout.readline().strip() for _ in range(2)] == ["asking", "locked"]
    second = writer("second", "go")
    assert second.stdout is not None and second.stdout.readline().strip() == "asking"
    time.sleep(0.3)  # let it block on the lock
    first.stdin.write("\n")
    first.stdin.flush()
    out1, _ = first.communicate(timeout=30)
    out2, _ = second.communicate(timeout=30)
    assert first.returncode == second.returncode == 0
    _, _, released1 = map(float, out1.split()[-3:])
    asked2, got2, _ = map(float, out2.split()[-3:])
    assert asked2 < released1 <= got2  # it asked while the first held the lock, and waited
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert [str(e) for e in tx.check()] == []
        writers = tx.bucket(b"writers")
        assert writers is not None and [k for k, _ in writers.items()] == [b"first", b"second"]
