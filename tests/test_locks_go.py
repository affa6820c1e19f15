"""File locks between pybbolt and Go bbolt (docs/FORMAT.md §11.2), and between two
pybbolt processes: one writer at a time, readers share, in both directions.

Go side: ``boltgo hold FILE --mode write|read --seconds S [--timeout T]``
opens the database with bbolt (exclusive flock for a writer, shared for a
reader), prints ``locked`` and holds it.
"""

from __future__ import annotations

import json
import os
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
            with pytest.raises(pybbolt.Timeout) as info:
                pybbolt.open(path, readonly=readonly, timeout=WAIT)
            wanted = "a shared" if readonly else "an exclusive"
            assert str(info.value) == (
                f"timeout: {path}: waited {WAIT} s for {wanted} lock; another process "
                "holds an exclusive lock (a bbolt writer has it open): close it there, "
                "or open with a longer timeout")
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


# -- issue 11: locks that speak -------------------------------------------------------


def _timeout_text(path: Path, seconds: str, wanted: str, holder: str) -> str:
    return (f"timeout: {path}: waited {seconds} s for {wanted} lock; another process holds "
            f"{holder}: close it there, or open with a longer timeout")


EXCLUSIVE = "an exclusive lock (a bbolt writer has it open)"
SHARED = "a shared lock (bbolt readers have it open)"


def test_open_timeout_on_go_held_file_names_the_file(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with go_holding(boltgo, path, "write"):
        start = time.monotonic()
        with pytest.raises(pybbolt.Timeout) as info:
            pybbolt.open(path, timeout=0.5)
        elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 1.0
    assert str(info.value) == _timeout_text(path, "0.5", "an exclusive", EXCLUSIVE)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, pybbolt.Error)


def test_timeout_says_readers_hold_a_shared_lock(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with go_holding(boltgo, path, "read"), pytest.raises(pybbolt.Timeout) as info:
        pybbolt.open(path, timeout=0.3)
    assert str(info.value) == _timeout_text(path, "0.3", "an exclusive", SHARED)


def test_on_lock_wait_is_called_once_after_a_second(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    calls: list[tuple[str, float]] = []
    start = time.monotonic()
    with go_holding(boltgo, path, "write"), pytest.raises(pybbolt.Timeout):
        pybbolt.open(path, readonly=True, timeout=1.6,
                     on_lock_wait=lambda p: calls.append((p, time.monotonic() - start)))
    assert [p for p, _ in calls] == [str(path)]
    assert 1.0 <= calls[0][1] < 1.6


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "cli", *argv]


def test_cli_timeout_exits_1_naming_the_file(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    with go_holding(boltgo, path, "write"):
        start = time.monotonic()
        r = subprocess.run(_cli("buckets", "--timeout", "1s", str(path)), capture_output=True,
                           cwd=ROOT, timeout=30)
        elapsed = time.monotonic() - start
    assert elapsed < 2.0
    assert (r.returncode, r.stdout) == (1, b"")
    text = _timeout_text(path, "1", "a shared", EXCLUSIVE)
    assert r.stderr == (
        f"Error: {text}\nUsage:\n  bbolt buckets <bbolt-file> [flags]\n\nFlags:\n"
        "  -h, --help   help for buckets\n\n").encode()


def test_cli_timeout_on_every_locking_command(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    out = tmp_path / "out.db"
    commands = [["info", str(path)], ["buckets", str(path)], ["keys", str(path), "b"],
                ["get", str(path), "b", "k"], ["stats", str(path)], ["pages", str(path)],
                ["check", str(path)], ["inspect", str(path)],
                ["compact", "-o", str(out), str(path)]]
    text = _timeout_text(path, "0.2", "a shared", EXCLUSIVE)
    with go_holding(boltgo, path, "write"):
        for argv in commands:
            r = subprocess.run(_cli(*argv, "--timeout=200ms"), capture_output=True, cwd=ROOT,
                               timeout=30)
            assert r.returncode == 1, argv
            assert r.stderr.startswith(f"Error: {text}\nUsage:\n".encode()), argv
    assert not out.exists()


def test_cli_without_timeout_waits_as_bbolt(boltgo: Path, tmp_path: Path) -> None:
    path = _db(tmp_path)
    holder = subprocess.Popen([str(boltgo), "hold", str(path), "--mode", "write",
                               "--seconds", "1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        r = subprocess.run(_cli("buckets", str(path)), capture_output=True, cwd=ROOT,
                           timeout=30)
        elapsed = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    assert (r.returncode, r.stdout, r.stderr) == (0, b"b\n", b"")  # silent: not a terminal
    assert elapsed >= 1.0


def test_cli_says_it_waits_on_a_terminal(boltgo: Path, tmp_path: Path) -> None:
    import pty

    path = _db(tmp_path)
    main, side = pty.openpty()
    try:
        with go_holding(boltgo, path, "write"):
            proc = subprocess.Popen(_cli("info", "--timeout", "1.5s", str(path)),
                                    stdout=subprocess.PIPE, stderr=side, cwd=ROOT)
            proc.wait(timeout=30)
        os.close(side)
        side = -1
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if side >= 0:
            os.close(side)
        os.close(main)
    err = b"".join(chunks).replace(b"\r\n", b"\n").decode()
    assert proc.returncode == 1
    assert err.startswith(
        f"waiting for the lock on {path} (another process has it open)...\n"
        f"Error: {_timeout_text(path, '1.5', 'a shared', EXCLUSIVE)}\nUsage:\n")


def test_cli_timeout_flag_errors() -> None:
    r = subprocess.run(_cli("buckets", "--timeout", "soon", "x.db"), capture_output=True,
                       cwd=ROOT, timeout=30)
    assert r.returncode == 1
    assert r.stderr.startswith(
        b'Error: invalid argument "soon" for "--timeout" flag: '
        b'time: invalid duration "soon"\nUsage:\n  bbolt buckets <bbolt-file> [flags]\n\n'
        b"Flags:\n  -h, --help   help for buckets\n\n")
    r = subprocess.run(_cli("buckets", "--timeout", "5", "x.db"), capture_output=True,
                       cwd=ROOT, timeout=30)
    assert r.stderr.startswith(
        b'Error: invalid argument "5" for "--timeout" flag: time: missing unit in duration "5"\n')
    # Commands that do not lock the file do not take it.
    r = subprocess.run(_cli("dump", "--timeout", "1s", "x.db", "0"), capture_output=True,
                       cwd=ROOT, timeout=30)
    assert r.stderr.startswith(b"Error: unknown flag: --timeout\n")
