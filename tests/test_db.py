"""pybbolt.db: opening (new files, page sizes, read-only, damaged and short
files, locks), closing, and bbolt's mapping size.

A new file is compared with the one Go bbolt creates (``boltgo replay`` of
no transactions) and with its layout written out (db.go init: meta pages 0
and 1 with txid 0 and 1, a freelist at page 2, an empty leaf at page 3, the
high-water mark 4).  The mapping sizes are db.go's mmapSize worked by hand.
"""

from __future__ import annotations

import os
import re
import struct
import time
from pathlib import Path

import pytest

import pybbolt
from pybbolt.db import mmap_size

from .conftest import FIXTURES
from .workload import go_replay, workload

MAGIC = 0xED0CDAED


def test_new_file_layout(tmp_path: Path, boltgo: Path) -> None:
    ours, theirs = tmp_path / "py.db", tmp_path / "go.db"
    pybbolt.open(ours, page_size=4096).close()
    go_replay(boltgo, workload(4096, []), theirs)
    data = ours.read_bytes()
    assert data == theirs.read_bytes()
    assert len(data) == 4 * 4096
    for i in (0, 1):
        assert struct.unpack_from("<QHHI", data, i * 4096) == (i, 0x04, 0, 0)
        fields = struct.unpack_from("<IIIIQQQQQ", data, i * 4096 + 16)
        # magic, version, page size, flags, root, sequence, freelist, pgid, txid
        assert fields == (MAGIC, 2, 4096, 0, 3, 0, 2, 4, i)
    assert struct.unpack_from("<QHHI", data, 2 * 4096) == (2, 0x10, 0, 0)
    assert struct.unpack_from("<QHHI", data, 3 * 4096) == (3, 0x02, 0, 0)


def test_page_size_option_and_default(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "big.db", page_size=8192) as db:
        assert db.page_size == 8192 and db.info() == pybbolt.db.Info(8192)
    assert (tmp_path / "big.db").stat().st_size == 4 * 8192
    # an existing file keeps its own page size, whatever the option says
    with pybbolt.open(tmp_path / "big.db", page_size=4096) as db:
        assert db.page_size == 8192
    with pybbolt.open(tmp_path / "default.db") as db:
        assert db.page_size == os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("name,size", [("pagesize_8192.db", 8192), ("pagesize_16384.db", 16384),
                                       ("pagesize_65536.db", 65536), ("nested.db", 4096)])
def test_go_files_page_size(name: str, size: int) -> None:
    with pybbolt.open(FIXTURES / name, readonly=True) as db:
        assert db.page_size == size and db.readonly


def test_readonly(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    gone = re.escape(str(missing))
    with pytest.raises(pybbolt.Error, match=f"^open {gone}: No such file or directory$"):
        pybbolt.open(missing, readonly=True)
    assert not missing.exists()  # read-only never creates
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    blank = re.escape(str(empty))
    with pytest.raises(pybbolt.Error, match=f"^write {blank}: bad file descriptor$"):
        pybbolt.open(empty, readonly=True)
    pybbolt.open(tmp_path / "w.db").close()
    with pybbolt.open(tmp_path / "w.db", readonly=True) as db:
        with pytest.raises(pybbolt.DatabaseReadOnly, match=r"^database is in read-only mode$"):
            db.begin(True)
        with db.view() as tx:
            assert tx.id == 1


def test_short_and_damaged_files(tmp_path: Path) -> None:
    pybbolt.open(tmp_path / "ok.db", page_size=4096).close()
    good = (tmp_path / "ok.db").read_bytes()
    short = tmp_path / "short.db"
    short.write_bytes(good[: 2 * 4096 - 1])
    with pytest.raises(pybbolt.FileTooSmall, match=r"^file size too small 8191$"):
        pybbolt.open(short, readonly=True)
    two = tmp_path / "two.db"
    two.write_bytes(good[: 2 * 4096])  # two meta pages: enough to open
    pybbolt.open(two, readonly=True).close()

    def damaged(offset: int, value: int, both: bool) -> Path:
        data = bytearray(good)
        for page in (0, 1) if both else (0,):
            struct.pack_into("<I", data, page * 4096 + offset, value)
        path = tmp_path / f"d{offset}-{value}-{both}.db"
        path.write_bytes(bytes(data))
        return path

    with pytest.raises(pybbolt.InvalidDatabase, match=r"^invalid database$"):
        pybbolt.open(damaged(16, 0xDEADBEEF, True), readonly=True)  # magic
    with pytest.raises(pybbolt.VersionMismatch, match=r"^version mismatch$"):
        pybbolt.open(damaged(20, 1, True), readonly=True)  # version
    with pytest.raises(pybbolt.ChecksumError, match=r"^checksum error$"):
        pybbolt.open(damaged(48, 9, True), readonly=True)  # freelist (checksummed)
    # one good meta is enough: meta 1 is used
    with pybbolt.open(damaged(16, 0xDEADBEEF, False), readonly=True) as db, db.view() as tx:
        assert tx.id == 1


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown freelist type"):
        pybbolt.open(tmp_path / "x.db", freelist_type="tree")
    assert not (tmp_path / "x.db").exists()


def test_locks(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    writer = pybbolt.open(path)
    try:
        start = time.monotonic()
        with pytest.raises(pybbolt.Timeout, match=r"^timeout$"):
            pybbolt.open(path, timeout=0.2)
        with pytest.raises(pybbolt.Timeout):
            pybbolt.open(path, readonly=True, timeout=0.2)
        assert time.monotonic() - start < 5
    finally:
        writer.close()
    r1 = pybbolt.open(path, readonly=True, timeout=0.2)
    r2 = pybbolt.open(path, readonly=True, timeout=0.2)  # readers share the lock
    with pytest.raises(pybbolt.Timeout):
        pybbolt.open(path, timeout=0.2)
    r1.close()
    r2.close()
    pybbolt.open(path, timeout=0.2).close()


def test_closed_database(tmp_path: Path) -> None:
    db = pybbolt.open(tmp_path / "c.db")
    assert not db.closed
    db.close()
    db.close()  # twice is fine
    assert db.closed
    for writable in (False, True):
        with pytest.raises(pybbolt.DatabaseNotOpen, match=r"^database not open$"):
            db.begin(writable)


def test_mmap_size() -> None:
    # doubling from 32 KiB up to 1 GiB
    assert mmap_size(0, 4096) == 1 << 15
    assert mmap_size(1 << 15, 4096) == 1 << 15
    assert mmap_size((1 << 15) + 1, 4096) == 1 << 16
    assert mmap_size(1 << 30, 4096) == 1 << 30
    # then whole GiB steps, rounded up to the page size
    assert mmap_size((1 << 30) + 1, 4096) == 2 << 30
    assert mmap_size(5 << 30, 4096) == 5 << 30
    # 5 GiB is not a multiple of a 12288-byte page: the next multiple
    assert mmap_size((4 << 30) + 1, 12288) == ((5 << 30) // 12288 + 1) * 12288
    # capped at maxMapSize (0xFFFFFFFFFFFF), refused beyond it
    assert mmap_size(0xFFFFFFFFFFFF, 4096) == 0xFFFFFFFFFFFF
    with pytest.raises(pybbolt.Error, match=r"^mmap too large$"):
        mmap_size(0xFFFFFFFFFFFF + 1, 4096)
