"""The read path against databases written by Go bbolt: content, metas, errors, locks."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt import layout
from pybbolt.meta import Meta

from .conftest import FIXTURES, GOLDEN, need
from .content import db_content


def _manifest_entries(manifest: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not manifest.exists():  # the test then fails in CI, skips elsewhere (need)
        return [(manifest, {})]
    data = json.loads(manifest.read_text())
    by_path = {d["path"]: d for d in data["databases"]}
    out = []
    for d in data["databases"]:
        content = d.get("content")
        if content is None and d.get("content_same_as"):
            content = by_path[d["content_same_as"]].get("content")
        if content is not None:
            out.append((manifest.parent / d["path"], {**d, "content": content}))
    return out


FIXTURE_CASES = _manifest_entries(FIXTURES / "manifest.json")
GOLDEN_CASES = _manifest_entries(GOLDEN / "manifest.json")


@pytest.mark.parametrize(("path", "entry"), FIXTURE_CASES, ids=lambda x: getattr(x, "name", ""))
def test_fixture_content_matches_go(path: Path, entry: dict[str, Any]) -> None:
    assert entry, f"{path} is missing"
    assert db_content(str(path)) == entry["content"]


@pytest.mark.parametrize(("path", "entry"), GOLDEN_CASES, ids=lambda x: getattr(x, "name", ""))
def test_golden_content_matches_go(path: Path, entry: dict[str, Any], golden: Path) -> None:
    need(bool(entry), "../shared/golden/manifest.json is missing")
    assert db_content(str(path)) == entry["content"]


@pytest.mark.parametrize(
    ("path", "entry"),
    [(p, e) for p, e in FIXTURE_CASES + GOLDEN_CASES if "meta" in e],
    ids=lambda x: getattr(x, "name", ""),
)
def test_meta_in_use_matches_manifest(path: Path, entry: dict[str, Any]) -> None:
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        m = entry["meta"]
        assert (tx.id, tx.meta.root, tx.meta.freelist, tx.meta.pgid) == (
            m["txid"], m["root"], m["freelist"], m["pgid"])
        assert db.active_meta_page == entry["active_meta_page"]
        assert db.page_size == entry["page_size"]


def test_fresh_file_is_bbolts(tmp_path: Path) -> None:
    # docs/FORMAT.md §19: byte-exact empty database.
    path = tmp_path / "new.db"
    pybbolt.open(path, page_size=4096).close()
    data = path.read_bytes()
    assert len(data) == 16384
    assert data[0:16] == bytes.fromhex("0000000000000000 0400000000000000".replace(" ", ""))
    assert data[0x40:0x50] == bytes.fromhex("0000000000000000eefd894611 6e5107".replace(" ", ""))
    assert data[0x1040:0x1050] == bytes.fromhex("01000000000000000f4879511a354c26")
    assert data[0x2000:0x2010] == bytes.fromhex("02000000000000001000000000000000")
    assert data[0x3000:0x3010] == bytes.fromhex("03000000000000000200000000000000")
    nonzero = {i // 4096 for i, b in enumerate(data) if b}
    assert nonzero == {0, 1, 2, 3}
    need((GOLDEN / "db" / "empty.db").exists(), "../shared/golden is not next to the repository")
    assert data == (GOLDEN / "db" / "empty.db").read_bytes()


def _write_meta(path: Path, page: int, ps: int, **changes: int) -> None:
    data = bytearray(path.read_bytes())
    m = Meta.decode(data, page * ps + 16)
    fixed = m.with_changes(**changes) if changes else m
    data[page * ps + 16 : page * ps + 80] = layout.META.pack(*fixed.fields())
    path.write_bytes(bytes(data))


def _two_meta_db(tmp_path: Path) -> Path:
    src = GOLDEN / "db" / "nested.db"
    need(src.exists(), "../shared/golden is not present next to the repository")
    dst = tmp_path / "db"
    shutil.copyfile(src, dst)
    return dst


def test_meta_fallback_on_bad_checksum(tmp_path: Path) -> None:
    path = _two_meta_db(tmp_path)
    with pybbolt.open(path, readonly=True) as db:
        newest, active = db.view().id, db.active_meta_page
    data = bytearray(path.read_bytes())
    data[active * 4096 + 72] ^= 0xFF  # break the newest meta's checksum
    path.write_bytes(bytes(data))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert tx.id == newest - 1
        assert db.active_meta_page == 1 - active


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("magic", 0x12345678, pybbolt.InvalidDatabase), ("version", 1, pybbolt.VersionMismatch),
     ("checksum", 1, pybbolt.ChecksumError)],
)
def test_both_metas_bad(tmp_path: Path, field: str, value: int, error: type) -> None:
    path = _two_meta_db(tmp_path)
    data = bytearray(path.read_bytes())
    for page in (0, 1):
        m = Meta.decode(data, page * 4096 + 16)
        fields = {**m.__dict__, field: value}
        fixed = Meta(**fields)
        if field != "checksum":
            fixed = fixed.with_changes()
        data[page * 4096 + 16 : page * 4096 + 80] = layout.META.pack(*fixed.fields())
    path.write_bytes(bytes(data))
    with pytest.raises(error) as info:
        pybbolt.open(path, readonly=True)
    assert str(info.value) == error.message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "{path}: the file is empty (0 bytes), not a bbolt database: open it writable "
      "(readonly=False) to create a new database there"),
     (b"hello\n" * 100, "invalid database"), (b"\0" * 100, "invalid database")],
)
def test_not_a_database(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(pybbolt.InvalidDatabase) as info:
        pybbolt.open(path, readonly=True)
    assert str(info.value) == message.format(path=path)
    if not content:  # bbolt's own words, which the CLI prints
        assert isinstance(info.value, pybbolt.EmptyDatabaseFile)
        assert info.value.go_message == f"write {path}: bad file descriptor"
    assert path.read_bytes() == content


def test_file_too_small(tmp_path: Path) -> None:
    path = _two_meta_db(tmp_path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(pybbolt.FileTooSmall, match=r"^file size too small 5000$"):
        pybbolt.open(path, readonly=True)


def test_readonly_leaves_file_untouched(tmp_path: Path) -> None:
    sources = sorted(FIXTURES.glob("*.db")) + sorted((GOLDEN / "db").glob("*.db"))
    assert sources
    for src in sources:
        path = tmp_path / src.name
        shutil.copyfile(src, path)
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        mtime = path.stat().st_mtime_ns
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            db_content(str(path))
            list(tx.buckets())
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
        assert path.stat().st_mtime_ns == mtime


_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX if sys.argv[2] == "ex" else fcntl.LOCK_SH)
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
"""


def _hold(path: Path, mode: str, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), mode, str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_reader_waits_for_writer_lock(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    pybbolt.open(path).close()
    proc = _hold(path, "ex", 5)
    try:
        with pytest.raises(pybbolt.Timeout) as info:
            pybbolt.open(path, readonly=True, timeout=0.2)
        assert str(info.value) == (
            f"timeout: {path}: waited 0.2 s for a shared lock; another process holds an "
            "exclusive lock (a bbolt writer has it open): close it there, or open with a "
            "longer timeout")
    finally:
        proc.kill()
        proc.wait()
    pybbolt.open(path, readonly=True, timeout=0.2).close()


def test_readers_share_lock(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    pybbolt.open(path).close()
    proc = _hold(path, "sh", 5)
    try:
        with pybbolt.open(path, readonly=True, timeout=0.2) as db:
            assert db.view().id == 1
        with pytest.raises(pybbolt.Timeout):
            pybbolt.open(path, timeout=0.2)
    finally:
        proc.kill()
        proc.wait()


def test_flock_is_bsd_flock(tmp_path: Path) -> None:
    # Go bbolt uses flock(2); an exclusive flock held by us must block another
    # open file description in this process as well.
    path = tmp_path / "l.db"
    with pybbolt.open(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_api_shape(tmp_path: Path) -> None:
    src = GOLDEN / "db" / "nested.db"
    need(src.exists(), "../shared/golden is not present next to the repository")
    with pybbolt.open(src, readonly=True, timeout=None) as db, db.view() as tx:
        names = [name for name, _ in tx.buckets()]
        assert names == sorted(names)
        c = tx.cursor()
        first = c.first()
        assert first is not None and first[1] is None
        b = tx.bucket(names[0])
        assert isinstance(b, pybbolt.Bucket)
        assert tx.bucket(b"no such bucket") is None
        for key, value in b.items():
            if value is not None:
                assert b.get(key) == value and b[key] == value and key in b
            else:
                assert b.get(key) is None and b.bucket(key) is not None
        with pytest.raises(KeyError):
            b[b"\xff\xff missing"]
    with pytest.raises(pybbolt.TxClosed):
        tx.bucket(b"x")
