"""Read-only really is read-only.

Extends tests/test_read.py (read-only opens leave bytes and mtime alone):
every read API of the library, a read-write open that only reads, and every
CLI command that reads a database (surgery commands included: they write
their --output copy, never the source) leave the file's bytes, size, mtime
and ctime unchanged.  Write attempts on a read-only DB raise
DatabaseReadOnly ("database is in read-only mode"), write operations in a
read transaction raise TxNotWritable, and neither writes anything.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import pybbolt
from cli.main import execute

from .conftest import FIXTURES, GOLDEN, ROOT

SOURCES = sorted(FIXTURES.glob("*.db")) + sorted((GOLDEN / "db").glob("*.db"))
# The CLI runs every command on each: the files up to 1 MiB keep it quick.
CLI_SOURCES = [p for p in SOURCES if p.stat().st_size <= 1 << 20]
OLD = 1_000_000_000_000_000_000  # a fixed mtime (2001), so any touch shows


class Guard:
    """Remembers a file's bytes and times; ``assert_same()`` compares."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.utime(path, ns=(OLD, OLD))
        self.digest = hashlib.sha256(path.read_bytes()).hexdigest()
        st = path.stat()
        self.stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)

    def assert_same(self, what: object) -> None:
        st = self.path.stat()
        assert (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode) == self.stat, what
        assert hashlib.sha256(self.path.read_bytes()).hexdigest() == self.digest, what


def _copy(src: Path, tmp: Path) -> Path:
    dst = tmp / src.name
    dst.write_bytes(src.read_bytes())
    return dst


def _first_bucket_and_key(path: Path) -> tuple[list[bytes], bytes | None]:
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        for name, b in tx.buckets():
            trail = [name]
            while True:
                for key, value in b.items():
                    if value is not None:
                        return trail, key
                sub = next(b.buckets(), None)
                if sub is None:
                    return trail, None
                trail.append(sub[0])
                b = sub[1]
    return [], None


def cli_commands(path: Path, out: Path) -> list[list[str]]:
    """Every command that reads ``path``; the writing ones write to ``out``."""
    f = str(path)
    o = str(out)
    trail, key = _first_bucket_and_key(path)
    names = [os.fsdecode(n) for n in trail]
    cmds = [["check", f], ["check", "--from-page", "2", f], ["buckets", f], ["info", f],
            ["stats", f], ["pages", f], ["page", "--all", f], ["page", f, "0", "1", "2", "3"],
            ["page-item", f, "3", "0"], ["dump", f, "0", "1", "2"], ["inspect", f],
            ["compact", "-o", o, f],
            ["surgery", "meta", "validate", f],
            ["surgery", "revert-meta-page", f, "--output", o],
            ["surgery", "copy-page", f, "--output", o, "--from-page", "3", "--to-page", "2"],
            ["surgery", "clear-page", f, "--output", o, "--pageId", "3"],
            ["surgery", "clear-page-elements", f, "--output", o, "--pageId", "3",
             "--from-index", "0", "--to-index", "1"],
            ["surgery", "freelist", "abandon", f, "--output", o],
            ["surgery", "freelist", "rebuild", f, "--output", o],
            ["surgery", "meta", "update", f, "--output", o, "--fields", "pgid:9"]]
    if names and all("\0" not in n for n in names):
        cmds.append(["keys", f, *names])
        if key is not None:
            cmds.append(["get", "--parse-format", "hex", f, *names, key.hex()])
    return cmds


@pytest.mark.skipif(not CLI_SOURCES, reason="no databases")
def test_every_cli_command_leaves_the_file_alone(tmp_path: Path) -> None:
    runs = 0
    statuses: dict[int, int] = {}
    for src in CLI_SOURCES:
        path = _copy(src, tmp_path)
        guard = Guard(path)
        out = tmp_path / "out.db"
        for argv in cli_commands(path, out):
            out.unlink(missing_ok=True)
            stdout, stderr = io.BytesIO(), io.BytesIO()
            status = execute(argv, stdout, stderr)
            assert status in (0, 1, 2), (src.name, argv)
            statuses[status] = statuses.get(status, 0) + 1
            guard.assert_same((src.name, argv))
            runs += 1
        path.unlink()
    print(f"read-only CLI: {runs} command runs on {len(CLI_SOURCES)} files, statuses {statuses}")
    assert statuses.get(0, 0) > runs // 2


def test_entry_point_leaves_the_file_alone(tmp_path: Path) -> None:
    """The same through ``python -m pybbolt.cli`` (one file, half the commands)."""
    src = FIXTURES / "nested.db"
    path = _copy(src, tmp_path)
    guard = Guard(path)
    out = tmp_path / "out.db"
    for argv in cli_commands(path, out)[::2]:  # every other one: a start-up is slow
        out.unlink(missing_ok=True)
        r = subprocess.run([sys.executable, "-m", "pybbolt.cli", *argv], cwd=ROOT,
                           capture_output=True, timeout=60)
        assert r.returncode in (0, 1), (argv, r.stderr)
        guard.assert_same(argv)


def _read_everything(db: pybbolt.DB, tmp: Path) -> None:
    """Every read API of the library."""
    db.info()
    _ = db.has_freelist
    with db.view() as tx:
        _ = tx.id, tx.size, tx.page_size, tx.root
        list(tx.check())
        tx.stats()
        tx.inspect()
        tx.free_ids()
        for pgid in (0, 1, tx.meta.root, tx.meta.freelist):
            if pgid < tx.meta.pgid:
                tx.page_header(pgid)
                tx.page_bytes(pgid)
        tx.write_to(io.BytesIO())
        tx.copy_file(tmp / "copy.db")
        c = tx.cursor()
        c.first(), c.next(), c.last(), c.prev(), c.seek(b"m")
        todo = [b for _, b in tx.buckets()]
        while todo:
            b = todo.pop()
            _ = b.sequence, b.inline, b.root, b.writable
            b.stats()
            list(b.keys())
            for key, value in b.items():
                if value is None:
                    child = b.bucket(key)
                    assert child is not None
                    todo.append(child)
                else:
                    assert b.get(key) == value
            list(b.for_each())
            c = b.cursor()
            c.last(), c.prev(), c.first(), c.seek(b"\x00"), c.next()


@pytest.mark.skipif(not SOURCES, reason="no databases")
def test_every_read_api_leaves_the_file_alone(tmp_path: Path) -> None:
    for src in SOURCES:
        path = _copy(src, tmp_path)
        guard = Guard(path)
        with pybbolt.open(path, readonly=True) as db:
            _read_everything(db, tmp_path)
        guard.assert_same((src.name, "read-only"))
        with pybbolt.open(path, readonly=True) as db:
            persisted = db.has_freelist  # else opening for writing persists one, as bbolt
        if persisted:
            with pybbolt.open(path) as db:
                _read_everything(db, tmp_path)
                db.begin(True).rollback()  # a write transaction that writes nothing
                with pytest.raises(RuntimeError), db.update() as tx:
                    tx.create_bucket(b"never committed")
                    raise RuntimeError("roll back")
            guard.assert_same((src.name, "read-write, reads only"))
        path.unlink()


WRITES_ON_TX: list[tuple[str, Callable[[pybbolt.Tx], object]]] = [
    ("tx.create_bucket", lambda tx: tx.create_bucket(b"new")),
    ("tx.create_bucket_if_not_exists", lambda tx: tx.create_bucket_if_not_exists(b"new")),
    ("tx.delete_bucket", lambda tx: tx.delete_bucket(b"b")),
    ("tx.move_bucket", lambda tx: tx.move_bucket(b"sub", tx.bucket(b"b"), None)),
    ("tx.commit", lambda tx: tx.commit()),
]
WRITES_ON_BUCKET: list[tuple[str, Callable[[pybbolt.Bucket], object]]] = [
    ("put", lambda b: b.put(b"k", b"w")),
    ("put new", lambda b: b.put(b"new", b"w")),
    ("delete", lambda b: b.delete(b"k")),
    ("create_bucket", lambda b: b.create_bucket(b"new")),
    ("create_bucket_if_not_exists", lambda b: b.create_bucket_if_not_exists(b"sub")),
    ("delete_bucket", lambda b: b.delete_bucket(b"sub")),
    ("move_bucket", lambda b: b.move_bucket(b"sub", b.tx.root)),
    ("set_sequence", lambda b: b.set_sequence(7)),
    ("next_sequence", lambda b: b.next_sequence()),
    ("cursor.delete", lambda b: _cursor_delete(b)),
]


def _cursor_delete(b: pybbolt.Bucket) -> None:
    c = b.cursor()
    c.first()
    c.delete()


@pytest.mark.parametrize("readonly", [True, False], ids=["readonly-db", "read-tx"])
def test_writes_are_refused(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "w.db"
    with pybbolt.open(path) as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        b.put(b"k", b"v")
        b.create_bucket(b"sub").put(b"x", b"y")
    guard = Guard(path)
    with pybbolt.open(path, readonly=readonly) as db:
        if readonly:
            attempts: list[Callable[[], object]] = [
                lambda: db.begin(True), db.update, lambda: db.batch(lambda tx: None)]
            for attempt in attempts:
                with pytest.raises(pybbolt.DatabaseReadOnly,
                                   match=r"^database is in read-only mode$"):
                    attempt()
        for name, tx_write in WRITES_ON_TX:
            with db.view() as tx, pytest.raises(pybbolt.TxNotWritable,
                                                match=r"^tx not writable$"):
                tx_write(tx)
            assert name
        for name, write in WRITES_ON_BUCKET:
            with db.view() as tx:
                bucket = tx.bucket(b"b")
                assert bucket is not None
                with pytest.raises(pybbolt.TxNotWritable, match=r"^tx not writable$"):
                    write(bucket)
                assert bucket.get(b"k") == b"v", name
        with db.view() as tx:
            assert [str(e) for e in tx.check()] == []
    guard.assert_same("refused writes")
