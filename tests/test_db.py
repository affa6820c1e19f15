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
from typing import Any

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
    with pytest.raises(pybbolt.FileNotFound, match=f"^open {gone}: no such file or directory$"):
        pybbolt.open(missing, readonly=True)
    assert not missing.exists()  # read-only never creates
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(pybbolt.EmptyDatabaseFile) as info:
        pybbolt.open(empty, readonly=True)
    assert info.value.go_message == f"write {empty}: bad file descriptor"  # bbolt's words
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
    message = r"^freelist_type must be 'array' or 'hashmap', not 'tree'$"
    with pytest.raises(ValueError, match=message):
        pybbolt.open(tmp_path / "x.db", freelist_type="tree")
    assert not (tmp_path / "x.db").exists()


def test_locks(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    writer = pybbolt.open(path)
    try:
        start = time.monotonic()
        # A second writer in this process would wait for itself: refused at once.
        with pytest.raises(pybbolt.AlreadyOpen):
            pybbolt.open(path, timeout=0.2)
        with pytest.raises(pybbolt.Timeout, match=r"^timeout: .*waited 0\.2 s for a shared lock"):
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
    assert mmap_size((1 << 30) + 1, 12288) == -(-(2 << 30) // 12288) * 12288
    # 5 GiB is not a multiple of a 12288-byte page: the next multiple
    assert mmap_size((4 << 30) + 1, 12288) == ((5 << 30) // 12288 + 1) * 12288
    # capped at maxMapSize (0xFFFFFFFFFFFF), refused beyond it
    assert mmap_size(0xFFFFFFFFFFFF, 4096) == 0xFFFFFFFFFFFF
    with pytest.raises(pybbolt.Error, match=r"^mmap too large$"):
        mmap_size(0xFFFFFFFFFFFF + 1, 4096)


@pytest.mark.parametrize("name,ps", [("pagesize_4096.db", 4096), ("pagesize_8192.db", 8192),
                                     ("pagesize_65536.db", 65536)])
def test_page_size_from_the_second_meta(tmp_path: Path, bbolt_cli: Path, name: str,
                                        ps: int) -> None:
    """Meta 0 damaged: bbolt looks for meta 1 at 1 KiB << i while that is more
    than 1 KiB before the end of the file, taking a short last read as read
    (getPageSizeFromSecondMeta).  Whatever ``bbolt info`` says of each cut of
    the file, pybbolt says too: the page size, or the error."""
    import subprocess

    data = bytearray((FIXTURES / name).read_bytes())
    struct.pack_into("<I", data, 16, 0xDEADBEEF)  # meta 0's magic
    both = bytearray(data)
    struct.pack_into("<I", both, ps + 16, 0xDEADBEEF)  # and meta 1's
    good = (FIXTURES / name).read_bytes()
    second = bytearray(good)
    struct.pack_into("<I", second, ps + 16, 0xDEADBEEF)  # meta 1's magic only
    cases = [(data, n) for n in (len(data), 2 * ps, ps + 2000, ps + 80, ps + 79, ps + 1024,
                                 ps + 1025, 3000, 1500)] + [(both, len(both))] + [
        (second, len(second)), (good, 4095), (good, 2048)]
    for i, (image, size) in enumerate(cases):
        path = tmp_path / f"{i}.db"
        path.write_bytes(image[:size])
        go = subprocess.run([str(bbolt_cli), "info", str(path)], capture_output=True,
                            text=True)
        try:
            with pybbolt.open(path, readonly=True) as db:
                ours = f"Page Size: {db.page_size}\n"
        except pybbolt.Error as e:
            ours = f"Error: {e}\n"
        assert ours == (go.stdout or go.stderr.splitlines(keepends=True)[0]), size


def test_db_defaults_are_open_defaults(tmp_path: Path) -> None:
    """pybbolt.DB takes the same defaults as pybbolt.open (bbolt's Options):
    writable, synced, array freelist, no size limit; a new file is 0600 and
    its descriptor is not inherited by child processes."""
    import fcntl

    from pybbolt.layout import DEFAULT_ALLOC_SIZE

    with pybbolt.DB(tmp_path / "d.db") as db:
        assert (db.readonly, db.no_sync, db.no_grow_sync, db.no_freelist_sync,
                db.freelist_type, db.max_size, db.alloc_size) == (
            False, False, False, False, "array", 0, DEFAULT_ALLOC_SIZE)
        assert fcntl.fcntl(db._fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert type(db._freelist).__name__ == "Freelist"  # array: first fit
        with db.update() as tx:  # writable by default
            tx.create_bucket(b"b")
    assert (tmp_path / "d.db").stat().st_mode & 0o777 == 0o600
    old = os.umask(0)
    try:
        pybbolt.open(tmp_path / "m.db", mode=0o640).close()
    finally:
        os.umask(old)
    assert (tmp_path / "m.db").stat().st_mode & 0o777 == 0o640
    bytes_path: Any = os.fsencode(tmp_path / "bytes.db")  # accepted, as os.open does
    with pybbolt.open(bytes_path, no_sync=True, no_grow_sync=True, freelist_type="hashmap",
                      max_size=1 << 20) as db:
        assert db.path == str(tmp_path / "bytes.db")
        assert (db.no_sync, db.no_grow_sync, db.freelist_type, db.max_size) == (
            True, True, "hashmap", 1 << 20)
        assert type(db._freelist).__name__ == "HashmapFreelist"


def test_a_refused_open_leaves_nothing_behind(tmp_path: Path) -> None:
    """No ResourceWarning, no error at collection, and the standard
    descriptors untouched, after an open that failed."""
    import gc
    import sys
    import warnings

    unraisable: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(pybbolt.FileNotFound):
                pybbolt.open(tmp_path / "missing.db", readonly=True)
            with pytest.raises(pybbolt.InvalidOption):  # refused before any file is opened
                pybbolt.open(tmp_path / "x.db", freelist_type="list")
            gc.collect()
    finally:
        sys.unraisablehook = hook
    assert caught == [] and unraisable == []
    os.fstat(1)  # still open


def test_opening_a_file_without_freelist(tmp_path: Path) -> None:
    """bbolt persists a freelist at once when a writer opens a file that has
    none (docs/FORMAT.md §7.3), unless no_freelist_sync; readers never write."""
    src = (FIXTURES / "churn_seed1_nofreelistsync.db").read_bytes()
    path = tmp_path / "n.db"
    for readonly, no_freelist_sync in ((True, False), (False, True)):
        path.write_bytes(src)
        with pybbolt.open(path, readonly=readonly, no_freelist_sync=no_freelist_sync) as db:
            assert not db.has_freelist
        assert path.read_bytes() == src
    with pybbolt.open(path, readonly=True) as db:
        txid = db._meta.txid
    with pybbolt.open(path) as db:
        assert db.has_freelist and db._meta.txid == txid + 1
        assert db.active_meta_page == (txid + 1) % 2
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert tx.id == txid + 1 and tx.meta.freelist != 0xFFFFFFFFFFFFFFFF
        assert list(tx.check()) == []


def test_lock_wait_notice_and_timeout_message(tmp_path: Path) -> None:
    """``on_lock_wait(path)`` is called once, after a second of waiting; the
    timeout names the file, the wait and the lock the other side holds."""
    path = tmp_path / "l.db"
    calls: list[str] = []
    with pybbolt.open(path):
        start = time.monotonic()
        with pytest.raises(pybbolt.Timeout) as info:
            pybbolt.open(path, readonly=True, timeout=1.2, on_lock_wait=calls.append)
        assert 1.0 <= time.monotonic() - start < 5
    assert calls == [str(path)]
    assert str(info.value) == (
        f"timeout: {path}: waited 1.2 s for a shared lock; another process holds an "
        "exclusive lock (a bbolt writer has it open): close it there, or open with a "
        "longer timeout")
    with pybbolt.open(path, readonly=True), pytest.raises(pybbolt.Timeout) as info:
        pybbolt.open(path, timeout=0.1)
    assert str(info.value) == (
        f"timeout: {path}: waited 0.1 s for an exclusive lock; another process holds a "
        "shared lock (bbolt readers have it open): close it there, or open with a "
        "longer timeout")


def test_max_size(tmp_path: Path) -> None:
    """docs/FORMAT.md §10.6 worked by hand, page size 4096.  A fresh file's
    first commit of one 1000-byte value allocates pages 4, 5 and 6 from the
    high-water mark (minsz 24576, 28672, 32768; mmapSize 32768 each); the
    next commit reuses the freed pages 2 and 3, then needs page 7 (minsz
    36864, mmapSize 65536).  With alloc_size 8192 the prediction is minsz +
    8192 once mmapSize passes it: 32768, 36864, 40960."""

    from pybbolt.layout import DEFAULT_ALLOC_SIZE

    def first_commit(path: Path, max_size: int, alloc_size: int = DEFAULT_ALLOC_SIZE) -> None:
        with pybbolt.DB(path, page_size=4096, max_size=max_size, alloc_size=alloc_size) as db, \
                db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v" * 1000)

    for max_size, alloc_size, fits in ((1, DEFAULT_ALLOC_SIZE, False),
                                       (32768, 32768, True),  # mmapSize == AllocSize
                                       (32767, DEFAULT_ALLOC_SIZE, False),
                                       (32768, DEFAULT_ALLOC_SIZE, True),
                                       (40959, 8192, False), (40960, 8192, True)):
        path = tmp_path / f"{max_size}-{alloc_size}.db"
        pybbolt.open(path, page_size=4096).close()
        if fits:
            first_commit(path, max_size, alloc_size)
        else:
            with pytest.raises(pybbolt.MaxSizeReached, match=r"^database reached maximum size$"):
                first_commit(path, max_size, alloc_size)
            with pybbolt.open(path, readonly=True) as db, db.view() as tx:
                assert tx.bucket(b"b") is None and tx.meta.pgid == 4
            continue
        with pybbolt.DB(path, max_size=max_size, alloc_size=alloc_size) as db:
            with db.view() as tx:
                assert tx.meta.pgid == 7 and tx[b"b"].get(b"k") == b"v" * 1000
            if alloc_size != DEFAULT_ALLOC_SIZE or max_size != 32768:
                continue
            assert path.stat().st_size == 32768
            with pytest.raises(pybbolt.MaxSizeReached), db.update() as tx:
                tx[b"b"].put(b"k2", b"w" * 1000)  # the bucket stays on its own page
            with db.view() as tx:  # the failed commit changed nothing
                assert tx.meta.pgid == 7 and tx[b"b"].get(b"k") == b"v" * 1000
    # 0 or less: no limit
    for max_size in (0, -1):
        first_commit(tmp_path / f"nolimit{max_size}.db", max_size)


def test_pages_between_readers_are_reused(tmp_path: Path) -> None:
    """docs/FORMAT.md §9 with readers left open.  At a write's begin, pages
    freed in a transaction before the oldest reader are released, and pages
    freed in t and allocated in a when no open reader lies in [a, t] (bbolt's
    releaseRange): the file does not grow.  Each commit rewrites three pages
    (the bucket's leaf, the root leaf, the freelist), taken from free pages.
    Worked by hand, as (pages taken from the initial free ones, pending):
    reader A at 4; commits 5-8 (7 and 8 release what 6 and 7 freed); reader C
    at 8; commit 9; reader B at 9; C closes; commit 10 releases what 8 freed
    (allocated in 7, between A and B), commit 11 nothing; A closes: commit 12
    releases what 4 and 5 freed and what 11 freed; B closes: 13 releases all;
    reader D at 13, commit 14, reader E at 14, D closes: commit 15 releases
    what 13 freed (before E, the oldest reader now)."""
    with pybbolt.open(tmp_path / "r.db", page_size=4096, no_sync=True) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"0" * 2000)
            big = tx.create_bucket(b"big")
            for i in range(20):
                big.put(b"%02d" % i, b"x" * 3000)
        with db.update() as tx:
            tx.delete_bucket(b"big")
        with db.update():
            pass  # releases the pages of "big"
        s = db.stats()
        free0, hwm = s.free_page_n, tx.meta.pgid
        assert s.pending_page_n == 1  # the last freelist page

        def commit(txid: int, taken: int, pending: int) -> None:
            with db.update() as tx:
                assert tx.id == txid
                tx[b"b"].put(b"k", b"%d" % txid * 2000)
            s = db.stats()
            assert (free0 - s.free_page_n, s.pending_page_n, tx.meta.pgid) == (
                taken, pending, hwm), txid

        def reread(reader: pybbolt.Tx, txid: int) -> None:
            reader._branches.clear()  # its pages were kept: read them again from the file
            reader._leaves.clear()
            assert reader.id == txid
            assert reader[b"b"].get(b"k") == (b"%d" % txid if txid > 4 else b"0") * 2000

        a = db.begin()
        for txid, taken, pending in ((5, 3, 4), (6, 6, 7), (7, 6, 7), (8, 6, 7)):
            commit(txid, taken, pending)
        c = db.begin()
        commit(9, 9, 10)
        b = db.begin()
        reread(c, 8)
        c.rollback()
        commit(10, 9, 10)
        commit(11, 12, 13)
        reread(a, 4)
        a.rollback()
        commit(12, 8, 9)
        reread(b, 9)
        b.rollback()
        commit(13, 2, 3)
        d = db.begin()
        commit(14, 5, 6)
        e = db.begin()
        d.rollback()
        commit(15, 5, 6)
        e.rollback()
        commit(16, 2, 3)


def test_commits_alternate_meta_pages(tmp_path: Path) -> None:
    """Transaction t writes meta page t % 2 (db.go: meta txid 0 and 1 in a new
    file, then 2 to page 0, 3 to page 1, ...), which becomes the active one."""
    path = tmp_path / "m.db"
    with pybbolt.open(path, page_size=4096) as db:
        assert (db.meta0.txid, db.meta1.txid, db.active_meta_page) == (0, 1, 1)
        for txid in (2, 3, 4):
            with db.update() as tx:
                tx.create_bucket(b"%d" % txid)
            assert db.active_meta_page == txid % 2
            assert (db.meta0.txid, db.meta1.txid) == ((txid, txid - 1) if txid % 2 == 0
                                                      else (txid - 1, txid))
            data = path.read_bytes()
            assert struct.unpack_from("<Q", data, (txid % 2) * 4096 + 16 + 48)[0] == txid
            with db.view() as rtx:
                assert rtx.id == txid and rtx.bucket(b"%d" % txid) is not None


def test_failed_meta_write_refuses_further_writes(tmp_path: Path) -> None:
    """A meta page write that fails may still have reached the file: the
    database refuses write transactions until it is reopened (reads go on);
    the meta in memory stays the last one written."""
    import errno

    from pybbolt.fileio import FileIO

    class MetaFails(FileIO):
        fail = False

        def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
            if self.fail and offset < 2 * 4096:
                raise OSError(errno.EIO, "Input/output error")
            super().pwrite(fd, data, offset)

    io_ = MetaFails()
    path = tmp_path / "m.db"
    with pybbolt.DB(path, page_size=4096, file_io=io_) as db:
        with db.update() as tx:
            tx.create_bucket(b"a")
        io_.fail = True
        with pytest.raises(pybbolt.FileError, match=rf"^write {path}: input/output error$"), \
                db.update() as tx:
            tx.create_bucket(b"b")
        io_.fail = False
        assert (db.meta0.txid, db.meta1.txid, db.active_meta_page) == (2, 1, 0)
        for _ in range(2):
            with pytest.raises(pybbolt.Error, match=r"^a commit failed writing its meta page: "
                                                    r"reopen the database to write$"):
                db.begin(True)
        with db.view() as rtx:
            assert rtx.id == 2 and rtx.bucket(b"a") is not None and rtx.bucket(b"b") is None
    with pybbolt.DB(path, page_size=4096) as db, db.update() as tx:
        tx.create_bucket(b"c")


def test_stats_info_and_repr(tmp_path: Path) -> None:
    from pybbolt.db import Info, Stats

    path = tmp_path / "s.db"
    with pybbolt.open(path, page_size=4096) as db:
        assert repr(db) == f"<pybbolt.DB {str(path)!r}>"
        s = db.stats()
        assert s == Stats(0, 0, 0, 0, 0, 16)
        assert repr(s) == ("Stats(free_alloc=0, free_page_n=0, freelist_inuse=16, open_tx_n=0, "
                           "pending_page_n=0, tx_n=0)")
        for i in range(6):
            fields = [0, 0, 0, 0, 0, 16]
            fields[i] += 1
            assert s != Stats(*fields)
        assert s != (0, 0, 0, 0, 0, 16)
        assert db.info() == Info(4096) and db.info() != Info(8192) and db.info() != 4096
        assert hash(db.info()) == hash(Info(4096)) == hash(4096)
        assert repr(db.info()) == "Info(page_size=4096)"
    with pybbolt.open(path, readonly=True) as db:
        assert repr(db) == f"<pybbolt.DB {str(path)!r} readonly>"


def test_option_types(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    for value in (True, 4096.0, "4096"):
        with pytest.raises(TypeError) as info:
            pybbolt.open(path, page_size=value)  # type: ignore[arg-type]
        assert str(info.value) == f"page_size must be an int, not {value!r}"
    with pytest.raises(TypeError) as info:
        pybbolt.open(path, timeout=True)
    assert str(info.value) == "timeout must be a number of seconds or None, not True"
    assert not path.exists()
    # 0 is no page size (the default) and no timeout (wait): both accepted
    with pybbolt.open(path, page_size=0, timeout=0) as db:
        assert db.page_size == os.sysconf("SC_PAGE_SIZE")
    with pybbolt.open(path, timeout=0.5) as db:
        assert db.page_size == os.sysconf("SC_PAGE_SIZE")


def test_initial_mmap_size_sets_the_first_growth(tmp_path: Path) -> None:
    """docs/FORMAT.md §10.7: the file grows to the mapping size, which starts
    at mmapSize(max(file size, InitialMmapSize))."""
    path = tmp_path / "i.db"
    with pybbolt.open(path, page_size=4096, initial_mmap_size=1 << 20) as db:
        assert path.stat().st_size == 4 * 4096  # opening writes nothing
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v" * 2000)
    assert path.stat().st_size == 1 << 20


def test_batch_waits_for_another_threads_writer(tmp_path: Path) -> None:
    """A batch call while another thread holds the write transaction waits for
    it, then runs; one call alone waits max_batch_delay, not more; a batch
    in the thread that holds the writer is refused at once, leaving no
    transaction behind."""
    import gc
    import threading
    import warnings

    with pybbolt.open(tmp_path / "b.db", no_sync=True) as db:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                db.batch(lambda tx: tx.create_bucket_if_not_exists(b"b").put(b"t", b"1"))
            except BaseException as e:  # reported below
                errors.append(e)

        tx = db.begin(True)
        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.05)
        tx.create_bucket(b"main")
        tx.commit()
        t.join()
        assert errors == []
        with db.view() as rtx:
            assert rtx.bucket(b"main") is not None and rtx[b"b"].get(b"t") == b"1"

        db.max_batch_delay = 0.01
        start = time.monotonic()
        db.batch(lambda tx: tx[b"b"].put(b"u", b"2"))
        assert time.monotonic() - start < 0.9

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with db.update(), pytest.raises(pybbolt.NestedWriteTx):
                db.batch(lambda tx: None)
            gc.collect()
        assert caught == []
        assert db.stats().open_tx_n == 0


def test_dropped_db_warns_from_db_py(tmp_path: Path) -> None:
    """The ResourceWarning of a database collected while open comes from
    DB.__del__ (stack level 1) with the database as its source."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        db = pybbolt.open(tmp_path / "d.db")
        del db
        gc.collect()
    assert [w.category for w in caught] == [ResourceWarning]
    assert caught[0].filename == pybbolt.db.__file__
    assert isinstance(caught[0].source, pybbolt.DB)


def test_database_on_descriptor_0(tmp_path: Path) -> None:
    """With standard input closed, the database gets descriptor 0: it is open
    all the same (and warned about when dropped unclosed)."""
    import gc
    import warnings

    saved = os.dup(0)
    os.close(0)
    try:
        db = pybbolt.open(tmp_path / "z.db")
        assert db._fd == 0 and not db.closed
        with db.update() as tx:
            tx.create_bucket(b"b")
        with db.view() as rtx:
            assert rtx.bucket(b"b") is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del db, tx, rtx  # the transactions refer to their database
            gc.collect()
        assert [w.category for w in caught] == [ResourceWarning]
        with pybbolt.open(tmp_path / "z.db", timeout=0.2):  # descriptor 0 was closed
            pass
    finally:
        os.dup2(saved, 0)
        os.close(saved)


def test_close_waits_for_another_threads_writer(tmp_path: Path) -> None:
    import threading

    db = pybbolt.open(tmp_path / "c.db")
    began, errors = threading.Event(), []

    def write() -> None:
        try:
            with db.update() as tx:
                began.set()
                time.sleep(0.1)
                tx.create_bucket(b"late")
        except BaseException as e:  # reported below
            errors.append(e)

    t = threading.Thread(target=write)
    t.start()
    began.wait()
    db.close()  # waits for the commit
    t.join()
    assert errors == [] and db.closed
    with pybbolt.open(tmp_path / "c.db", readonly=True) as db2, db2.view() as tx:
        assert tx.bucket(b"late") is not None


def test_growth_by_alloc_size_and_syncs(tmp_path: Path) -> None:
    """docs/FORMAT.md §10.7: a commit past the end truncates the file to the
    mapping size while that is at most AllocSize, else to the needed size +
    AllocSize.  The first commit of a new file needs 8 pages (hwm 7, + 1)
    and maps 32768 bytes.  Then the file operations of a commit: the pages,
    fdatasync, the meta page, fdatasync (none with no_sync); the growth's
    truncate and fsync; DB.sync is one fdatasync of the file."""
    from pybbolt.fileio import FileIO

    class Recording(FileIO):
        def __init__(self) -> None:
            self.ops: list[tuple[str, int]] = []

        def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
            self.ops.append(("pwrite", offset // 4096))
            super().pwrite(fd, data, offset)

        def truncate(self, fd: int, size: int) -> None:
            self.ops.append(("truncate", size))
            super().truncate(fd, size)

        def fsync(self, fd: int) -> None:
            self.ops.append(("fsync", fd))
            super().fsync(fd)

        def fdatasync(self, fd: int) -> None:
            self.ops.append(("fdatasync", fd))
            super().fdatasync(fd)

    for alloc_size, size in ((8192, 8 * 4096 + 8192), (32768, 32768), (32767, 8 * 4096 + 32767)):
        path = tmp_path / f"a{alloc_size}.db"
        pybbolt.open(path, page_size=4096).close()
        with pybbolt.DB(path, alloc_size=alloc_size) as db, db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v" * 2000)
        assert path.stat().st_size == size, alloc_size
    for no_sync in (False, True):
        path = tmp_path / f"s{no_sync}.db"
        pybbolt.open(path, page_size=4096).close()
        rec = Recording()
        with pybbolt.DB(path, file_io=rec, no_sync=no_sync) as db:
            with db.update() as tx:
                tx.create_bucket(b"b").put(b"k", b"v" * 2000)
            fd = db._fd
            sync = [] if no_sync else [("fdatasync", fd)]
            assert rec.ops == [("truncate", 32768), ("fsync", fd), ("pwrite", 4), ("pwrite", 5),
                               ("pwrite", 6), *sync, ("pwrite", 0), *sync]
            rec.ops.clear()
            db.sync()
            assert rec.ops == [("fdatasync", fd)]


def test_close_ends_every_open_transaction(tmp_path: Path) -> None:
    db = pybbolt.open(tmp_path / "e.db")
    with db.update() as tx:
        tx.create_bucket(b"b")
    readers = [db.begin(), db.begin()]
    writer = db.begin(True)
    writer.rollback()
    db.close()
    for tx in readers:
        assert tx.closed
        with pytest.raises(pybbolt.DatabaseNotOpen):
            tx.bucket(b"b")
    with pytest.raises(pybbolt.TxClosed):  # ended before the close
        writer.bucket(b"b")


def test_rolled_back_delete_frees_nothing(tmp_path: Path) -> None:
    """Deleting a bucket frees its pages in the transaction; a rollback gives
    them back, so they are neither pending nor free afterwards."""
    with pybbolt.open(tmp_path / "d.db", page_size=4096) as db:
        with db.update() as tx:
            big = tx.create_bucket(b"big")
            for i in range(20):
                big.put(b"%02d" % i, b"x" * 3000)
        db.begin(True).rollback()  # releases what that commit freed, as every begin does
        before = db.stats()
        tx = db.begin(True)
        tx.delete_bucket(b"big")
        tx.rollback()
        after = db.stats()
        assert (after.free_page_n, after.pending_page_n) == (before.free_page_n,
                                                             before.pending_page_n)
        with db.update() as tx:
            tx.create_bucket(b"other").put(b"k", b"y" * 3000)
        with db.view() as rtx:
            assert [k for k, _ in rtx[b"big"].items()] == [b"%02d" % i for i in range(20)]
            assert list(rtx.check()) == []


def test_dropped_read_tx_warns(tmp_path: Path) -> None:
    import gc
    import warnings

    with pybbolt.open(tmp_path / "r.db") as db, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tx = db.begin()
        del tx
        gc.collect()
        assert [str(w.message).split(" (")[0] for w in caught] == [
            "unclosed read transaction <pybbolt.Tx read id=1>"]
        assert db.stats().open_tx_n == 0
