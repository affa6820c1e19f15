"""The library as Python users expect it (issue 11): errors at the boundary that
say what to do, OS errors that are OSErrors, ranges, paths, lengths, cleanup of
forgotten transactions, the version, and a docstring on every public name."""

from __future__ import annotations

import errno
import gc
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import pybbolt

from .conftest import ROOT, need
from .workload import go_dump

KEYS = [b"a", b"ab", b"abc", b"abd", b"ac", b"b", b"b\xff", b"b\xff\xff", b"c\x00", b"c\xff"]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[pybbolt.DB]:
    with pybbolt.open(tmp_path / "api.db") as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for k in KEYS:
                b.put(k, b"v-" + k)
            b.create_bucket(b"abz").create_bucket(b"deep").put(b"x", b"y")
        yield db


# -- 3. errors at the boundary ----------------------------------------------------


def _bytes_message(what: str, shown: str) -> str:
    return (f"{what} must be bytes, bytearray or memoryview, not str: "
            f"encode it, e.g. {shown}.encode()")


def test_str_keys_raise_type_error_saying_encode(db: pybbolt.DB) -> None:
    key = _bytes_message("key", "'k'")
    with db.view() as tx:
        b = tx[b"b"]
        cases = [
            (lambda: b.get("k"), key),  # type: ignore[arg-type]
            (lambda: "k" in b, key),
            (lambda: b["k"], key),  # type: ignore[index]
            (lambda: tx.bucket("b"), _bytes_message("bucket name", "'b'")),  # type: ignore[arg-type]
            (lambda: tx["b"], _bytes_message("bucket name", "'b'")),  # type: ignore[index]
            (lambda: b.bucket(b"abz", "deep"),  # type: ignore[arg-type]
             _bytes_message("bucket name", "'deep'")),
            (lambda: b.cursor().seek("k"), key),  # type: ignore[arg-type]
            (lambda: list(b.items("a")), _bytes_message("start", "'a'")),  # type: ignore[arg-type]
            (lambda: list(b.keys(stop="a")), _bytes_message("stop", "'a'")),  # type: ignore[arg-type]
            (lambda: list(b.items(prefix="a")),  # type: ignore[arg-type]
             _bytes_message("prefix", "'a'")),
        ]
        for call, message in cases:
            with pytest.raises(TypeError) as info:
                call()
            assert str(info.value) == message
        with pytest.raises(TypeError) as info:
            b.get(5)  # type: ignore[arg-type]
        assert str(info.value) == "key must be bytes, bytearray or memoryview, not int"
    with db.update() as tx:
        b = tx[b"b"]
        for call, message in [
            (lambda: b.put("k", b"v"), key),  # type: ignore[arg-type]
            (lambda: b.put(b"k", "v"), _bytes_message("value", "'v'")),  # type: ignore[arg-type]
            (lambda: b.delete("a"), _bytes_message("key", "'a'")),  # type: ignore[arg-type]
            (lambda: tx.create_bucket("n"), _bytes_message("bucket name", "'n'")),  # type: ignore[arg-type]
            (lambda: tx.create_bucket_if_not_exists("n"),  # type: ignore[arg-type]
             _bytes_message("bucket name", "'n'")),
            (lambda: tx.delete_bucket("b"), _bytes_message("bucket name", "'b'")),  # type: ignore[arg-type]
        ]:
            with pytest.raises(TypeError) as info:
                call()
            assert str(info.value) == message
        with pytest.raises(TypeError) as info:
            b.put(b"k", None)  # type: ignore[arg-type]
        assert str(info.value) == "value must be bytes, bytearray or memoryview, not NoneType"
        long = "x" * 41
        with pytest.raises(TypeError) as info:
            b.put(long, b"v")  # type: ignore[arg-type]
        assert str(info.value) == _bytes_message("key", "text")
        # Every bytes-like type is accepted, and values come back as bytes.
        b.put(bytearray(b"ba"), memoryview(b"mv"))
        assert b.get(memoryview(b"ba")) == b"mv" and type(b.get(b"ba")) is bytes
        assert bytearray(b"ba") in b and memoryview(b"ba") in b and b"zz" not in b


def test_options_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    for size in (1000, 512, 131072, 3000):
        with pytest.raises(pybbolt.InvalidOption) as info:
            pybbolt.open(path, page_size=size)
        assert str(info.value) == (
            f"page_size must be a power of two from 1024 to 65536 (bbolt's limits), not {size}")
        assert isinstance(info.value, ValueError)
    for timeout in (-1, -0.5, float("nan")):
        with pytest.raises(pybbolt.InvalidOption) as info:
            pybbolt.open(path, timeout=timeout)
        assert str(info.value) == (
            f"timeout must be >= 0 seconds (0 or None: wait for the lock), not {timeout!r}")
    with pytest.raises(TypeError) as terr:
        pybbolt.open(path, timeout="1")  # type: ignore[arg-type]
    assert str(terr.value) == "timeout must be a number of seconds or None, not '1'"
    with pytest.raises(pybbolt.InvalidOption) as info:
        pybbolt.open(path, freelist_type="list")
    assert str(info.value) == "freelist_type must be 'array' or 'hashmap', not 'list'"
    assert not path.exists()  # nothing was created by a refused open
    for size in (1024, 65536):
        with pybbolt.open(tmp_path / f"p{size}.db", page_size=size) as db:
            assert db.page_size == size


def test_os_errors_are_oserrors_with_go_text(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "x.db"
    with pytest.raises(pybbolt.FileNotFound) as info:
        pybbolt.open(missing)
    e = info.value
    assert isinstance(e, FileNotFoundError) and isinstance(e, pybbolt.FileError)
    assert isinstance(e, pybbolt.Error)
    assert (e.errno, e.filename, str(e)) == (
        errno.ENOENT, str(missing), f"open {missing}: no such file or directory")

    for readonly in (False, True):
        with pytest.raises(pybbolt.FileIsADirectory) as dinfo:
            pybbolt.open(tmp_path, readonly=readonly)
        assert isinstance(dinfo.value, IsADirectoryError)
        assert (dinfo.value.errno, dinfo.value.filename, str(dinfo.value)) == (
            errno.EISDIR, str(tmp_path), f"open {tmp_path}: is a directory")

    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    with pytest.raises(pybbolt.FileNotADirectory) as ninfo:
        pybbolt.open(plain / "x.db")
    assert isinstance(ninfo.value, NotADirectoryError)
    assert str(ninfo.value) == f"open {plain}/x.db: not a directory"

    # A 0-byte file read-only: not a database, and the message says what to do.
    with pytest.raises(pybbolt.EmptyDatabaseFile) as einfo:
        pybbolt.open(plain, readonly=True)
    assert str(einfo.value) == (
        f"{plain}: the file is empty (0 bytes), not a bbolt database: open it writable "
        "(readonly=False) to create a new database there")
    assert isinstance(einfo.value, pybbolt.InvalidDatabase)


def test_go_errno_texts() -> None:
    from pybbolt.oserrors import errno_text, file_error

    # Go's syscall strings (lower case, Go's own wording where the C library's differs).
    assert errno_text(errno.EACCES) == "permission denied"
    assert errno_text(errno.ENOENT) == "no such file or directory"
    assert errno_text(errno.EISDIR) == "is a directory"
    assert errno_text(errno.EIO) == "input/output error"
    assert errno_text(errno.ENOSPC) == "no space left on device"
    assert errno_text(errno.EROFS) == "read-only file system"
    assert errno_text(errno.EAGAIN) == "resource temporarily unavailable"
    assert errno_text(errno.ESTALE) == "stale file handle"
    assert errno_text(errno.ELOOP) == "too many levels of symbolic links"
    assert errno_text(99999) == "errno 99999"
    e = file_error("write", "f.db", OSError(errno.ENOSPC, "No space left on device"))
    assert type(e) is pybbolt.FileError and str(e) == "write f.db: no space left on device"
    assert (e.errno, e.filename) == (errno.ENOSPC, "f.db")
    perm = file_error("open", "f.db", PermissionError(errno.EACCES, "Permission denied"))
    assert isinstance(perm, PermissionError) and isinstance(perm, pybbolt.FilePermissionError)
    assert str(perm) == "open f.db: permission denied"


def _unprivileged(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` as a user whom file permissions apply to (root ignores them)."""
    if os.getuid() != 0:
        return subprocess.run(argv, capture_output=True, timeout=60, cwd=ROOT)
    setpriv = shutil.which("setpriv")
    need(setpriv is not None, "setpriv is needed to drop root for a permission test")
    assert setpriv is not None
    return subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *argv],
                          capture_output=True, timeout=60, cwd=ROOT)


@pytest.fixture
def unreadable() -> Iterator[Path]:
    """A database file nobody may open (in a directory everyone may enter)."""
    directory = Path(tempfile.mkdtemp(prefix="pybbolt-perm-"))
    try:
        directory.chmod(0o755)
        path = directory / "locked.db"
        pybbolt.open(path).close()
        path.chmod(0)
        yield path
    finally:
        shutil.rmtree(directory)


def test_permission_denied_library(unreadable: Path) -> None:
    code = (
        "import json, sys, pybbolt\n"
        "try:\n"
        "    pybbolt.open(sys.argv[1], readonly=True)\n"
        "except PermissionError as e:\n"
        "    print(json.dumps([type(e).__name__, isinstance(e, pybbolt.Error),"
        " e.errno, e.filename, str(e)]))\n"
    )
    r = _unprivileged([sys.executable, "-c", code, str(unreadable)])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [
        "FilePermissionError", True, errno.EACCES, str(unreadable),
        f"open {unreadable}: permission denied"]


def test_permission_denied_cli_is_bbolts_text(unreadable: Path, bbolt_cli: Path) -> None:
    ours = _unprivileged([sys.executable, "-c", "import sys, cli.main; "
                          "sys.exit(cli.main.main())", "buckets", str(unreadable)])
    theirs = _unprivileged([str(bbolt_cli), "buckets", str(unreadable)])
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stderr.startswith(f"Error: open {unreadable}: permission denied\n".encode())


def test_sequence_is_read_only(db: pybbolt.DB) -> None:
    with db.update() as tx:
        b = tx[b"b"]
        with pytest.raises(AttributeError):
            b.sequence = 5  # type: ignore[misc]
        assert not hasattr(b, "sequence_value")
        b.set_sequence(41)
        assert b.next_sequence() == 42 and b.sequence == 42
        with pytest.raises(TypeError) as info:
            b.set_sequence("1")  # type: ignore[arg-type]
        assert str(info.value) == "sequence must be an int, not str"
    with db.view() as tx:
        assert tx[b"b"].sequence == 42
        with pytest.raises(pybbolt.TxNotWritable):
            tx[b"b"].set_sequence(1)


# -- 2. transactions that clean up ----------------------------------------------


def test_tx_after_close_raises_database_not_open(tmp_path: Path) -> None:
    db = pybbolt.open(tmp_path / "c.db")
    with db.update() as tx:
        tx.create_bucket(b"b").put(b"k", b"v")
    tx = db.begin()
    b = tx[b"b"]
    c = b.cursor()
    db.close()
    for call in (lambda: tx.bucket(b"b"), lambda: b.get(b"k"), lambda: c.first(),
                 lambda: list(b.items()), lambda: tx.rollback(), lambda: list(tx.check()),
                 lambda: tx.stats()):
        with pytest.raises(pybbolt.DatabaseNotOpen) as info:
            call()
        assert str(info.value) == "database not open"
    db.close()  # twice: nothing happens
    # A transaction ended normally stays "tx closed".
    with pybbolt.open(tmp_path / "c.db") as db2, db2.view() as tx2:
        pass
    with pytest.raises(pybbolt.TxClosed, match=r"^tx closed$"):
        tx2.bucket(b"b")


def test_stats_fields(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "s.db", page_size=4096) as db:
        # A new file: meta 0 and 1, freelist page 2 (empty), root leaf 3.
        s = db.stats()
        assert (s.tx_n, s.open_tx_n, s.free_page_n, s.pending_page_n, s.free_alloc,
                s.freelist_inuse) == (0, 0, 0, 0, 0, 16)
        reader = db.begin()
        with db.update() as tx:
            tx.create_bucket(b"b")
        # The commit freed the old root (3) and freelist (2) pages; the open
        # reader keeps them pending: 2 ids = 16 + 2 * 8 bytes of freelist.
        s = db.stats()
        assert (s.tx_n, s.open_tx_n, s.free_page_n, s.pending_page_n, s.free_alloc,
                s.freelist_inuse) == (1, 1, 0, 2, 8192, 32)
        reader.rollback()
        assert db.stats().open_tx_n == 0
        with db.view():
            assert db.stats().tx_n == 2


def test_dropped_read_tx_is_rolled_back_with_a_warning(tmp_path: Path, boltgo: Path) -> None:
    """A read transaction forgotten in a loop of small writes: garbage-collected,
    it is rolled back and warned about, and the file stays small."""
    path = tmp_path / "leak.db"
    with pybbolt.open(path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tx = db.begin()
            line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
            for i in range(10):
                with db.update() as wtx:
                    wtx[b"b"].put(b"k%d" % i, b"x" * 100)
            # While the reader is open, the pages freed since it began stay
            # pending (not reused): the leak shows in the stats.
            pinned = db.stats()
            assert pinned.open_tx_n == 1 and pinned.pending_page_n >= 20
            del tx
            gc.collect()
            for i in range(600):
                with db.update() as wtx:
                    wtx[b"b"].put(b"k%d" % (i % 20), b"x" * 100)
        leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert len(leaks) == 1
        assert str(leaks[0].message) == (
            f"unclosed read transaction <pybbolt.Tx read id=2> (begun at {__file__}:{line}) "
            "was rolled back: use 'with db.view() as tx' or call tx.rollback()")
        after = db.stats()
        assert after.open_tx_n == 0
    assert path.stat().st_size < 1 << 20
    assert go_dump(boltgo, path)["check"] == []


def test_dropped_write_tx_releases_the_writer(tmp_path: Path) -> None:
    with pybbolt.open(tmp_path / "w.db") as db:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tx = db.begin(writable=True)
            tx.create_bucket(b"lost")
            del tx
            gc.collect()
        assert [str(w.message).split(" (")[0] for w in caught] == [
            "unclosed write transaction <pybbolt.Tx write id=2>"]
        with db.update() as tx2:  # not a deadlock: the writer lock was released
            assert tx2.bucket(b"lost") is None


def test_dropped_db_releases_its_lock_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        db = pybbolt.open(path)
        shown = repr(db)
        del db
        gc.collect()
    assert [str(w.message) for w in caught] == [f"unclosed database {shown}"]
    assert [w.category for w in caught] == [ResourceWarning]
    with pybbolt.open(path, timeout=0.2):  # neither AlreadyOpen nor a Timeout
        pass


# -- 1. locks in one process -------------------------------------------------------


def test_nested_write_tx_raises_at_once(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    message = (f"a write transaction on {path} is already open in this thread: commit or "
               "roll it back before beginning another (bbolt allows one writer at a time; "
               "this one would wait for itself forever)")
    with pybbolt.open(path, timeout=1) as db:
        with db.update() as tx:
            with pytest.raises(pybbolt.NestedWriteTx) as info:
                db.update()
            assert str(info.value) == message
            with pytest.raises(pybbolt.NestedWriteTx) as info:
                db.batch(lambda t: None)
            assert str(info.value) == message
            with pytest.raises(pybbolt.NestedWriteTx) as info:
                db.close()
            assert str(info.value) == (
                f"close of {path} while this thread has a write transaction open: "
                "commit or roll it back first")
            with db.view() as rtx:  # readers are fine
                assert rtx.bucket(b"b") is None
            tx.create_bucket(b"b")
        with db.update() as tx:
            assert tx.bucket(b"b") is not None


def test_second_writable_open_raises_at_once(tmp_path: Path) -> None:
    path = tmp_path / "twice.db"
    with pybbolt.open(path) as db:
        with pytest.raises(pybbolt.AlreadyOpen) as info:
            pybbolt.open(f"{tmp_path}/./twice.db")
        assert str(info.value) == (
            f"{tmp_path}/./twice.db is already open for writing in this process (as {path}): "
            "a second writable open would wait forever for this process's own lock; use "
            "that DB, or close it first")
        assert not db.closed
    with pybbolt.open(path) as db, db.update() as tx:  # closed: open again
        tx.create_bucket(b"b")
    with pybbolt.open(path, readonly=True) as r1, pybbolt.open(path, readonly=True) as r2, \
            r1.view() as t1, r2.view() as t2:  # readers share
        assert t1.bucket(b"b") is not None and t2.bucket(b"b") is not None


# -- 4. ranges, paths, lengths ------------------------------------------------------


def _model(start: bytes | None, stop: bytes | None, prefix: bytes | None) -> list[bytes]:
    keys = sorted([*KEYS, b"abz"])
    return [k for k in keys if (start is None or k >= start) and (stop is None or k < stop)
            and (prefix is None or k.startswith(prefix))]


def test_items_ranges(db: pybbolt.DB) -> None:
    with db.view() as tx:
        b = tx[b"b"]
        assert list(b.keys()) == [b"a", b"ab", b"abc", b"abd", b"abz", b"ac", b"b", b"b\xff",
                                  b"b\xff\xff", b"c\x00", b"c\xff"]
        assert list(b.keys(b"ab", b"b")) == [b"ab", b"abc", b"abd", b"abz", b"ac"]
        assert list(b.keys(prefix=b"ab")) == [b"ab", b"abc", b"abd", b"abz"]
        assert list(b.keys(prefix=b"ab", reverse=True)) == [b"abz", b"abd", b"abc", b"ab"]
        assert list(b.keys(prefix=b"b\xff")) == [b"b\xff", b"b\xff\xff"]
        assert list(b.keys(b"abd", prefix=b"ab")) == [b"abd", b"abz"]
        assert list(b.keys(b"b", reverse=True)) == [b"c\xff", b"c\x00", b"b\xff\xff",
                                                    b"b\xff", b"b"]
        assert list(b.keys(stop=b"ab", reverse=True)) == [b"a"]
        assert list(b.items(b"abd", b"ac")) == [(b"abd", b"v-abd"), (b"abz", None)]
        assert list(b.items(b"c", b"a")) == [] and list(b.items(prefix=b"zz")) == []
        bounds = [None, b"", b"a", b"ab", b"abc", b"abzz", b"b", b"b\xff", b"c", b"d"]
        for start in bounds:
            for stop in bounds:
                for prefix in (None, b"", b"a", b"ab", b"b\xff", b"c", b"q"):
                    want = _model(start, stop, prefix)
                    assert list(b.keys(start, stop, prefix=prefix)) == want
                    assert list(b.keys(start, stop, prefix=prefix, reverse=True)) == want[::-1]
                    items = list(b.items(start, stop, prefix=prefix, reverse=True))
                    assert [k for k, _ in items] == want[::-1]
                    assert all(v == (None if k == b"abz" else b"v-" + k) for k, v in items)


def test_ranges_stream_over_many_pages(tmp_path: Path) -> None:
    keys = [b"%06d" % i for i in range(0, 20000, 3)]
    with pybbolt.open(tmp_path / "big.db") as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for k in keys:
                b.put(k, k)
        with db.view() as tx:
            b = tx[b"b"]
            assert len(b) == len(keys)
            it = b.items(b"010000", reverse=True)
            assert next(it) == (b"019998", b"019998")  # lazy: one item asked for
            assert list(b.keys(b"005000", b"005100")) == [
                k for k in keys if b"005000" <= k < b"005100"]
            assert list(b.keys(prefix=b"0199", reverse=True)) == [
                k for k in reversed(keys) if k.startswith(b"0199")]


def test_cursor_iteration_continues_from_where_it_stands(db: pybbolt.DB) -> None:
    with db.view() as tx:
        c = tx[b"b"].cursor()
        assert [k for k, _ in c] == sorted([*KEYS, b"abz"])  # unmoved: from the first
        assert c.seek(b"b\x01") == (b"b\xff", b"v-b\xff")
        assert [k for k, _ in c] == [b"b\xff", b"b\xff\xff", b"c\x00", b"c\xff"]
        c.first()
        c.next()
        it = iter(c)
        assert next(it) == (b"ab", b"v-ab")
        assert next(it) == (b"abc", b"v-abc")
        assert c.seek(b"zz") is None
        assert list(c) == []


def test_len_paths_and_getitem(db: pybbolt.DB) -> None:
    with db.view() as tx:
        b = tx[b"b"]
        assert len(b) == len(list(b.items())) == 11
        deep = tx.bucket(b"b", b"abz", b"deep")
        assert deep is not None and deep.get(b"x") == b"y" and len(deep) == 1
        assert b.bucket(b"abz", b"deep") is not None
        assert tx.bucket(b"b", b"missing", b"deep") is None
        assert tx.bucket(b"b", b"ab") is None  # a plain key, not a bucket
        assert tx.bucket(b"b", b"abz", b"deep", b"x") is None
        with pytest.raises(KeyError) as info:
            tx[b"missing"]
        assert info.value.args == (b"missing",)
        assert b[b"ab"] == b"v-ab"
        with pytest.raises(KeyError):
            b[b"abz"]  # a bucket: bucket[key] stays the value lookup
        with pytest.raises(TypeError, match=r"^bucket\(\) needs at least one bucket name$"):
            tx.bucket()
    with db.update() as tx:
        empty = tx.create_bucket(b"empty")
        assert len(empty) == 0 and bool(empty)  # an existing bucket is always true


# -- 5. version and docstrings ---------------------------------------------------------


def test_version() -> None:
    assert pybbolt.__version__ == "0.1.0"
    assert pybbolt.BBOLT_VERSION == "1.5.0"
    r = subprocess.run([sys.executable, "-m", "cli", "--version"], capture_output=True,
                       cwd=ROOT, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, b"pybbolt 0.1.0 (bbolt v1.5.0 file format and command line)\n", b"")
    r = subprocess.run([sys.executable, "-m", "cli", "version"], capture_output=True,
                       cwd=ROOT, timeout=60)
    assert r.stdout.startswith(b"bbolt Version: 1.4.0-alpha.0\n")  # bbolt's command, as is


def _public_members(obj: type) -> Iterator[tuple[str, object]]:
    for name, value in vars(obj).items():
        if name.startswith("_") and name not in ("__getitem__", "__len__", "__iter__",
                                                 "__contains__", "__bool__"):
            continue
        if isinstance(value, property | staticmethod | classmethod) or inspect.isfunction(value):
            yield name, value


def test_every_public_name_has_a_docstring() -> None:
    missing = []
    for name in pybbolt.__all__:
        obj = getattr(pybbolt, name)
        if isinstance(obj, str):
            continue  # __version__, BBOLT_VERSION
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(name)
        if isinstance(obj, type) and obj.__module__.startswith("pybbolt"):
            for member, value in _public_members(obj):
                doc = value.__doc__ if not isinstance(value, property) else value.fget.__doc__  # type: ignore[union-attr]
                if not (doc or "").strip():
                    missing.append(f"{name}.{member}")
    assert missing == []
