"""pybbolt.tx: transaction ids, size, closed and read-only errors, commit and
rollback, and the backup written by ``write_to``.

Expected values are bbolt's rules written out (tx.go: a write transaction
gets the meta's txid + 1; Commit on a read transaction is ErrTxNotWritable,
on a closed one ErrTxClosed; WriteTo writes meta 0 from the transaction's
meta, meta 1 with txid - 1, then the pages from 2 up to the high-water
mark), and Go's view of the files (``boltgo dump`` / ``boltgo replay``).
"""

from __future__ import annotations

import errno
import io
import mmap
import struct
from pathlib import Path

import pytest

import pybbolt
from pybbolt.fileio import FileIO
from pybbolt.meta import fnv1a64

from .workload import create, go_dump, go_replay, put, workload

PS = 4096


def fresh(tmp_path: Path, name: str = "t.db") -> pybbolt.DB:
    return pybbolt.open(tmp_path / name, page_size=PS)


def test_ids_follow_commits_not_rollbacks(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        # a new file: meta 0 has txid 0, meta 1 txid 1
        with db.view() as tx:
            assert tx.id == 1 and not tx.writable
        tx = db.begin(True)
        assert tx.id == 2 and tx.writable
        tx.rollback()
        with db.view() as tx:
            assert tx.id == 1
        with db.update() as tx:
            assert tx.id == 2
            tx.create_bucket(b"b")
        with db.view() as tx:
            assert tx.id == 2
        with db.update() as tx:
            assert tx.id == 3


def test_size_is_the_high_water_mark(tmp_path: Path, boltgo: Path) -> None:
    ops = [create([], b"b")] + [put([b"b"], b"%05d" % i, b"x" * 100) for i in range(300)]
    wl = workload(PS, [ops])
    go = go_replay(boltgo, wl, tmp_path / "go.db")
    with fresh(tmp_path) as db:
        with db.view() as tx:
            assert tx.size == 4 * PS and tx.page_size == PS  # metas, freelist, empty root
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(300):
                b.put(b"%05d" % i, b"x" * 100)
        with db.view() as tx:
            assert tx.meta.pgid == go["meta"]["pgid"]
            assert tx.size == go["meta"]["pgid"] * PS


def test_closed_transaction_errors(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        tx = db.begin(True)
        tx.create_bucket(b"b")
        tx.commit()
        assert tx.closed
        for action in (tx.commit, tx.rollback, lambda: tx.create_bucket(b"c"),
                       lambda: tx.write_to(io.BytesIO())):
            with pytest.raises(pybbolt.TxClosed, match=r"^tx closed$"):
                action()
        rtx = db.begin()
        rtx.rollback()
        with pytest.raises(pybbolt.TxClosed):
            rtx.rollback()
        with pytest.raises(pybbolt.TxClosed):  # closed comes before not writable
            rtx.commit()


def test_read_transaction_refuses_writes(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b")
        tx = db.begin()
        for action in (tx.commit, lambda: tx.create_bucket(b"c"),
                       lambda: tx.create_bucket_if_not_exists(b"c"),
                       lambda: tx.delete_bucket(b"b")):
            with pytest.raises(pybbolt.TxNotWritable, match=r"^tx not writable$"):
                action()
        assert not tx.closed  # a refused commit leaves a read transaction open
        tx.rollback()


def test_context_managers(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with pytest.raises(KeyError), db.update() as tx:
            tx.create_bucket(b"gone")
            raise KeyError("roll back")
        assert tx.closed
        with db.update() as tx:
            tx.create_bucket(b"kept")
        with db.view() as rtx:
            assert [n for n, _ in rtx.buckets()] == [b"kept"]
        assert rtx.closed
        with db.update() as tx:
            tx.rollback()  # closed inside the block: nothing more on exit
        with db.view() as rtx:
            assert rtx.id == 2


def test_rollback_leaves_the_file_alone(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v")
        before = (tmp_path / "t.db").read_bytes()
        tx = db.begin(True)
        b = tx.bucket(b"b")
        assert b is not None
        for i in range(500):
            b.put(b"%04d" % i, b"y" * 50)
        tx.create_bucket(b"other")
        tx.rollback()
        assert (tmp_path / "t.db").read_bytes() == before
        with db.view() as rtx:
            b = rtx.bucket(b"b")
            assert b is not None and list(b.items()) == [(b"k", b"v")]


def test_page_header_beyond_the_file(tmp_path: Path) -> None:
    with fresh(tmp_path) as db, db.view() as tx:
        h = tx.page_header(3)
        assert (h.flags, h.count, h.overflow) == (0x02, 0, 0)  # the empty root leaf
        assert tx.page_bytes(2)[:16] == struct.pack("<QHHI", 2, 0x10, 0, 0)
        pages = (tmp_path / "t.db").stat().st_size // PS
        with pytest.raises(pybbolt.CorruptionError,
                           match=rf"^page {pages}: beyond the end of the file \({pages} pages\)$"):
            tx.page_header(pages)


def test_write_to_layout(tmp_path: Path, boltgo: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(200):
                b.put(b"%04d" % i, b"z" * 80)
        data = (tmp_path / "t.db").read_bytes()
        with db.view() as tx:
            out = io.BytesIO()
            assert tx.write_to(out) == tx.size
            copy = out.getvalue()
            txid, pgid = tx.id, tx.meta.pgid
            tx.copy_file(tmp_path / "copy.db")
    assert len(copy) == pgid * PS
    assert copy[2 * PS:] == data[2 * PS: pgid * PS]
    for page, want_txid in ((0, txid), (1, txid - 1)):
        header = struct.unpack_from("<QHHI", copy, page * PS)
        assert header == (page, 0x04, 0, 0)
        fields = struct.unpack_from("<IIIIQQQQQQ", copy, page * PS + 16)
        assert fields[8] == want_txid and fields[7] == pgid
        body = copy[page * PS + 16: page * PS + 72]
        assert fields[9] == fnv1a64(body)
    assert (tmp_path / "copy.db").read_bytes() == copy
    assert (tmp_path / "copy.db").stat().st_mode & 0o777 == 0o600
    go = go_dump(boltgo, tmp_path / "copy.db")
    assert go["check"] == [] and go["meta"]["txid"] == txid
    assert go["content"]["buckets"][0]["key_count"] == 200


def test_getitem_repr_and_move_bucket(tmp_path: Path) -> None:
    with fresh(tmp_path) as db:
        with db.update() as tx:
            assert repr(tx) == "<pybbolt.Tx write id=2>"
            tx.create_bucket(b"a").put(b"k", b"v")
            tx.create_bucket(b"dst").create_bucket(b"up").put(b"u", b"w")
            assert tx[b"a"].get(b"k") == b"v"
            with pytest.raises(KeyError) as info:
                tx[b"missing"]
            assert info.value.args == (b"missing",)
        # Moved in a later transaction: bbolt moves a bucket's committed value
        # (its changes of the same transaction stay behind, as in Go).
        with db.update() as tx:
            # None: the top level, as source and as destination
            tx.move_bucket(b"a", None, tx[b"dst"])
            moved = tx.bucket(b"dst", b"a")
            assert tx.bucket(b"a") is None and moved is not None and moved.get(b"k") == b"v"
            tx.move_bucket(b"up", tx[b"dst"], None)
            assert tx.bucket(b"dst", b"up") is None and tx[b"up"].get(b"u") == b"w"
            tx.create_bucket_if_not_exists(b"c")
            assert [n for n, _ in tx.buckets()] == [b"c", b"dst", b"up"]
            tx.delete_bucket(b"c")
        with db.view() as tx:
            assert repr(tx) == "<pybbolt.Tx read id=3>"
            assert (tx.root.name, tx.root.sequence) == (b"", 0)
            assert [n for n, _ in tx.buckets()] == [b"dst", b"up"]


def test_check_forwards_its_arguments() -> None:
    """The bbolt CLI prints the same: ``bbolt check --from-page 1 nested.db`` says
    ``page ID (1) out of range [2, 38)``; from page 0 (the root), OK."""
    from .conftest import FIXTURES

    with pybbolt.open(FIXTURES / "nested.db", readonly=True) as db, db.view() as tx:
        assert list(tx.check()) == []
        assert [str(e) for e in tx.check(page_id=1)] == ["page ID (1) out of range [2, 38)"]
        assert [str(e) for e in tx.check(3)] == []


def test_free_ids_rebuilt_without_a_freelist(tmp_path: Path) -> None:
    """A file written with no_freelist_sync has no freelist page: the free ids
    are rebuilt by reachability.  Two commits of the same bucket free the
    pages of the first: the old root leaf 3 and freelist 2 of the new file,
    then the leaf the first commit wrote (page 4)."""
    with pybbolt.open(tmp_path / "n.db", page_size=PS, no_freelist_sync=True) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v")
        with db.update() as tx:
            tx[b"b"].put(b"k", b"w")
    with pybbolt.open(tmp_path / "n.db", readonly=True) as db, db.view() as tx:
        assert tx.meta.freelist == 0xFFFFFFFFFFFFFFFF
        used = {tx.meta.root, *(p for p in range(2, tx.meta.pgid) if p not in tx.free_ids())}
        assert tx.free_ids() == sorted(set(range(2, tx.meta.pgid)) - used)
        assert tx.free_ids() != []


def test_page_header_of_a_page_the_commit_wrote(tmp_path: Path) -> None:
    """During a commit, a page written but not yet in the file is read from
    the commit's own buffers."""
    with fresh(tmp_path) as db:
        tx = db.begin(True)
        page = bytearray(PS)
        struct.pack_into("<QHHI", page, 0, 9, 0x02, 5, 1)
        tx._dirty[9] = page
        h = tx.page_header(9)
        assert (h.id, h.flags, h.count, h.overflow) == (9, 0x02, 5, 1)
        tx.rollback()


def test_page_bytes_up_to_the_end_of_the_file(tmp_path: Path) -> None:
    """An overflow run ending exactly at the end of the file is read whole;
    cut inside its last page, the missing bytes read as the zeros a mapping
    shows past the end of a file up to the end of the OS page (bbolt reads
    them); a whole page less and it runs past the end."""
    with fresh(tmp_path) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"big", b"x" * (3 * PS))
    with pybbolt.open(tmp_path / "t.db", readonly=True) as db, db.view() as tx:
        big = next(p for p in range(2, tx.meta.pgid) if tx.page_header(p).overflow)
        overflow = tx.page_header(big).overflow
    assert overflow == 3
    end = (big + overflow + 1) * PS
    data = (tmp_path / "t.db").read_bytes()
    inside = end - PS + 30  # the value's bytes run on past this point
    assert data[inside] != 0 and PS == mmap.PAGESIZE
    for size, whole in ((end, True), (inside, True), (end - PS, False)):
        cut = tmp_path / f"cut{size}.db"
        cut.write_bytes(data[:size])
        with pybbolt.open(cut, readonly=True) as db, db.view() as tx:
            if whole:
                assert tx.page_bytes(big) == data[big * PS:size] + bytes(end - size)
            else:
                with pytest.raises(pybbolt.CorruptionError,
                                   match=rf"^page {big}: overflow runs past the end of the file$"):
                    tx.page_bytes(big)


def test_write_to_of_a_new_file_and_of_a_short_one(tmp_path: Path) -> None:
    """Meta 1 of the copy gets txid - 1: 0 for the first read transaction of a
    new file.  A file shorter than its high-water mark fails at the first
    chunk it cannot read whole (chunks of 256 pages: 2-257, 258-513, ...)."""
    with fresh(tmp_path) as db, db.view() as tx:
        out = io.BytesIO()
        assert tx.write_to(out) == 4 * PS
    copy = out.getvalue()
    assert struct.unpack_from("<Q", copy, 16 + 48)[0] == 1  # meta 0: txid 1
    assert struct.unpack_from("<Q", copy, PS + 16 + 48)[0] == 0  # meta 1: txid 0
    with fresh(tmp_path, "big.db") as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for i in range(600):
            b.put(b"%04d" % i, b"x" * 2000)
    data = (tmp_path / "big.db").read_bytes()
    short = tmp_path / "short.db"
    short.write_bytes(data[:290 * PS])
    with pybbolt.open(short, readonly=True) as db, db.view() as tx:
        assert tx.meta.pgid > 290
        with pytest.raises(pybbolt.CorruptionError,
                           match=r"^page 258: beyond the end of the file$"):
            tx.write_to(io.BytesIO())


class _FailingIO(FileIO):
    """File access whose page writes fail with EIO while ``fail`` is set."""

    fail = False

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
        if self.fail:
            raise OSError(errno.EIO, "Input/output error")
        super().pwrite(fd, data, offset)


def test_failed_commit_says_which_file(tmp_path: Path) -> None:
    """An OS error during the commit's page writes is a FileError with Go's
    text; the transaction is closed, its pages handed back, and the next
    commit works."""
    io_ = _FailingIO()
    path = tmp_path / "f.db"
    with pybbolt.DB(path, page_size=PS, file_io=io_) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v")
        db.begin(True).rollback()  # releases the pending pages, as the next begin does
        before = db.stats()
        io_.fail = True
        tx = db.begin(True)
        tx[b"b"].put(b"k2", b"v2")
        with pytest.raises(pybbolt.FileError) as info:
            tx.commit()
        assert str(info.value) == f"write {path}: input/output error"
        assert info.value.errno == errno.EIO
        assert tx.closed
        after = db.stats()
        assert (after.free_page_n, after.pending_page_n) == (before.free_page_n,
                                                             before.pending_page_n)
        io_.fail = False
        with db.update() as tx:
            tx[b"b"].put(b"k3", b"v3")
        with db.view() as tx:
            assert list(tx[b"b"].items()) == [(b"k", b"v"), (b"k3", b"v3")]


def test_dropped_write_tx_warns_from_tx_py(tmp_path: Path) -> None:
    """The ResourceWarning of a transaction garbage-collected while open comes
    from Tx.__del__ (stack level 1) with the transaction as its source."""
    import gc
    import inspect
    import warnings

    import pybbolt.tx

    with fresh(tmp_path) as db, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tx = db.begin(True)
        line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
        del tx
        gc.collect()
        assert [(w.category, str(w.message)) for w in caught] == [(ResourceWarning, (
            f"unclosed write transaction <pybbolt.Tx write id=2> (begun at {__file__}:{line}) "
            "was rolled back: use 'with db.view() as tx' or call tx.rollback()"))]
        assert caught[0].filename == pybbolt.tx.__file__
        assert isinstance(caught[0].source, pybbolt.Tx)
        with db.view() as rtx:  # closed before: no warning for this one
            pass
        del rtx
        gc.collect()
        assert len(caught) == 1


def test_mapping_released_after_its_quota_of_reads(tmp_path: Path) -> None:
    """Every page read counts against a quota (32 MiB of pages, at least 64);
    at 0 the mapping's resident pages are dropped and the quota starts again.
    Reading goes on unchanged."""
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"k", b"v" * 2000)  # too big to be inline
        with db.view() as tx:
            root = tx[b"b"]._root
            assert tx._resident_pages == (32 << 20) // PS
            tx._reads_left = 2
            tx._page_node(root, False)
            assert tx._reads_left == 1
            tx._page_node(root, False)  # the quota's last read: released, refilled
            assert tx._reads_left == tx._resident_pages
            assert tx[b"b"].get(b"k") == b"v" * 2000


def test_stats_and_inspect_of_a_transaction() -> None:
    """As the bbolt CLI prints them for nested.db: ``bbolt stats`` (3 branch
    pages, 19 leaf pages with 3 overflow pages, 841 pairs, 7 levels) and
    ``bbolt inspect`` (the top-level buckets with their key counts)."""
    from .conftest import FIXTURES

    with pybbolt.open(FIXTURES / "nested.db", readonly=True) as db, db.view() as tx:
        s = tx.stats()
        assert (s.branch_page_n, s.leaf_page_n, s.leaf_overflow_n, s.key_n, s.depth) == (
            3, 19, 3, 841, 7)
        root = tx.inspect()
        assert (root.name, root.key_n) == (b"root", 0)
        assert [(c.name, c.key_n) for c in root.children] == [
            (b"config", 4), (b"org", 100), (b"users", 0)]


def test_check_formats_keys_with_kv_stringer(golden: Path, tmp_path: Path) -> None:
    """bbolt's check message with the caller's key formatter (the default is
    hex: tests/test_check.py)."""
    from .test_check import damaged

    path = damaged(tmp_path, "bad/copy_page_key_order.db")
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert [str(e) for e in tx.check(kv_stringer=lambda k: k.decode())] == [
            "the first key[0]=(hex)gamma-key-00057 on leaf page(8) needs to be >= the key "
            "in the ancestor (gamma-key-00157). Stack: [41 8]"]


def test_walk_through_a_three_level_tree(tmp_path: Path) -> None:
    """A bucket whose root branch has branches below it (page size 1024, 2000
    pairs of 104 bytes): a full scan reads the lower branches as branches."""
    expected = [(b"%04d" % i, b"v" * 100) for i in range(2000)]
    with pybbolt.open(tmp_path / "deep.db", page_size=1024) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for k, v in expected:
                b.put(k, v)
        with db.view() as tx:
            assert tx.stats().depth == 3
            b = tx[b"b"]
            assert list(b.items()) == expected
            assert len(b) == 2000


def test_closed_transaction_has_no_pages(tmp_path: Path) -> None:
    """A transaction ended by rollback (or by db.close()) lets go of the
    mapping: its page reads find nothing.  tx.closed is a bool."""
    db = fresh(tmp_path)
    tx = db.begin()
    assert tx.closed is False
    tx.rollback()
    assert tx.closed is True
    with pytest.raises(pybbolt.CorruptionError,
                       match=r"^page 2: beyond the end of the file \(0 pages\)$"):
        tx.page_header(2)
    tx = db.begin()
    db.close()
    assert tx.closed is True
    with pytest.raises(pybbolt.CorruptionError,
                       match=r"^page 3: beyond the end of the file \(0 pages\)$"):
        tx.page_header(3)


def test_page_node_beyond_the_file(tmp_path: Path) -> None:
    with fresh(tmp_path) as db, db.view() as tx:
        with pytest.raises(pybbolt.CorruptionError,
                           match=r"^page 4: beyond the end of the file \(4 pages\)$"):
            tx._page_node(4)
        assert tx._page_node(3).is_leaf  # the last page of the file


def test_commit_raises_other_errors_as_they_are(tmp_path: Path) -> None:
    """Only OS errors become FileErrors; anything else the file layer raises
    reaches the caller unchanged."""
    from pybbolt.fileio import FileIO

    class Broken(FileIO):
        def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
            raise RuntimeError("broken")

    with pybbolt.DB(tmp_path / "b.db", page_size=PS, file_io=FileIO()) as db:
        pass
    with pybbolt.DB(tmp_path / "b.db", file_io=Broken()) as db:
        tx = db.begin(True)
        tx.create_bucket(b"b")
        with pytest.raises(RuntimeError, match=r"^broken$"):
            tx.commit()
        assert tx.closed


def test_growth_as_go_grows(tmp_path: Path, boltgo: Path) -> None:
    """The file grows only when a commit raises the high-water mark, to the
    mapping size (docs/FORMAT.md §10.7), as Go bbolt's files show: an empty
    commit without a freelist leaves a new file at 4 pages; a second commit
    that takes page 7 past a 32 KiB file grows it to 64 KiB."""
    from .workload import replay

    cases = [
        workload(PS, [[]], NoFreelistSync=True),
        workload(PS, [[create([], b"b"), put([b"b"], b"k", b"v" * 2000)],
                      [put([b"b"], b"k2", b"w" * 2000)]]),
    ]
    for i, wl in enumerate(cases):
        ours, theirs = tmp_path / f"py{i}.db", tmp_path / f"go{i}.db"
        replay(wl, ours)
        go_replay(boltgo, wl, theirs)
        assert ours.stat().st_size == theirs.stat().st_size
        assert ours.read_bytes() == theirs.read_bytes()
    assert (tmp_path / "py0.db").stat().st_size == 4 * PS
    assert (tmp_path / "py1.db").stat().st_size == 16 * PS


def test_reads_count_overflow_pages(tmp_path: Path) -> None:
    """A page's overflow pages count towards the mapping's release: a walk of
    big values keeps a bounded RSS (one page each would let it grow 16x for
    64 kB values).  A lookup's pages do not count (Tx._lookup_page): random
    reads of the same pages would fault them back in after each release."""
    path = tmp_path / "big.db"
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"k", bytes(range(200)) * 100)
    for read in ("get", "get past the full cache", "walk"):
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            bucket = tx.bucket(b"b")
            assert bucket is not None
            overflow = tx.page_header(bucket.root).overflow
            assert overflow == 4
            if read == "get past the full cache":
                tx._leaf_cache_limit = 0
            before = tx._reads_left
            if read == "walk":
                assert list(bucket.items()) == [(b"k", bytes(range(200)) * 100)]
            else:
                assert bucket.get(b"k") == bytes(range(200)) * 100
                assert b"k" in bucket
            assert before - tx._reads_left == (1 + overflow if read == "walk" else 0)


@pytest.mark.parametrize("full_cache", [False, True])
def test_opening_a_nested_bucket_counts_its_reads(tmp_path: Path, full_cache: bool) -> None:
    """Opening a nested bucket (a walk's step into it) counts the pages of its
    lookup, a node's or a view's; a get or ``in`` of the same key counts none."""
    path = tmp_path / "nested.db"
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        outer = tx.create_bucket(b"b")
        outer.create_bucket(b"n").put(b"k", b"v" * 3000)  # not inline
        for i in range(200):  # outer's root: a branch over leaves
            outer.put(b"%04d" % i, b"x" * 100)
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        if full_cache:
            tx._leaf_cache_limit = 0
        before = tx._reads_left
        outer = tx.bucket(b"b")
        assert outer is not None
        assert before - tx._reads_left == 1  # the top level's root leaf
        before = tx._reads_left
        inner = outer.bucket(b"n")
        assert inner is not None
        assert before - tx._reads_left == 2  # outer's root branch and a leaf
        del outer._buckets[b"n"]  # open it again: the branch is cached, the leaf if it fits
        before = tx._reads_left
        assert outer.bucket(b"n") is not None
        assert before - tx._reads_left == (1 if full_cache else 0)
        before = tx._reads_left
        assert outer.get(b"n") is None and b"n" in outer and outer.get(b"0199") == b"x" * 100
        assert b"0000" in outer and inner.get(b"k") == b"v" * 3000
        assert before - tx._reads_left == 0


def test_free_ids_walked_only_for_a_read_only_file_without_freelist(tmp_path: Path) -> None:
    """Free ids rebuilt by a walk are kept for a read-only file, and then the
    check need not walk again; a file with a freelist page, or open for
    writing, says no."""
    from .conftest import FIXTURES

    src = FIXTURES / "churn_seed1_nofreelistsync.db"
    with pybbolt.open(src, readonly=True) as db, db.view() as tx:
        assert tx.free_ids_walked() is True
        assert tx.free_ids() == tx.free_ids()  # the kept walk, as a new list each time
    with pybbolt.open(FIXTURES / "nested.db", readonly=True) as db, db.view() as tx:
        assert tx.free_ids_walked() is False
    path = tmp_path / "w.db"
    path.write_bytes(src.read_bytes())
    with pybbolt.open(path, no_freelist_sync=True) as db, db.view() as tx:
        assert tx.meta.freelist == 0xFFFFFFFFFFFFFFFF and tx.free_ids_walked() is False


# -- the nodes a commit wrote, read by the next write transaction -----------------------


def _node_state(node: object) -> tuple[object, ...]:
    return tuple(getattr(node, a) for a in (
        "is_leaf", "keys", "values", "flags", "pgids", "pgid", "key", "materialised",
        "parent", "children", "unbalanced", "spilled"))


def test_carried_nodes_are_the_pages_as_decoded(tmp_path: Path) -> None:
    """After every commit of a seeded mixed workload (splits, merges, nested
    and inline buckets, overflow values, deletes), each node the commit wrote
    gives, read back, exactly the node decoding its page gives; the next
    write transaction takes them, and its commit writes what it did before
    (the file's bytes checked against a database that never carries)."""
    import random

    from pybbolt.node import decode_page

    def run(path: Path, carry: bool) -> bytes:
        rng = random.Random(20261206)
        with pybbolt.open(path, page_size=PS) as db:
            for round_ in range(40):
                if not carry:
                    db._written = None
                with db.update() as tx:
                    if not carry:
                        assert tx._carried == {}
                    top = tx.create_bucket_if_not_exists(b"top")
                    inner = top.create_bucket_if_not_exists(b"inner%d" % (round_ % 3))
                    for _ in range(rng.randrange(1, 300)):
                        key = b"%06d" % rng.randrange(2000)
                        target = top if rng.random() < 0.7 else inner
                        if rng.random() < 0.2:
                            target.delete(key)
                        else:
                            size = rng.choice((0, 10, 100, 3000, 9000))
                            target.put(key, bytes([round_]) * size)
                    if round_ % 7 == 6:
                        top.delete_bucket(b"inner%d" % (round_ % 3))
                written = db._written
                if carry:
                    assert written is not None and written[0] is db._current_meta()
                    assert written[1]
                    with db.view() as rtx:
                        for pgid, node in written[1].items():
                            if node.keys:
                                want = decode_page(rtx._data, pgid * PS, pgid)
                                assert _node_state(node.as_read()) == _node_state(want)
        return path.read_bytes()

    assert run(tmp_path / "carry.db", True) == run(tmp_path / "decode.db", False)


def test_carried_nodes_are_taken_once(tmp_path: Path) -> None:
    """The first write transaction after a commit takes its nodes; changing
    them and rolling back leaves the next one decoding the pages, which hold
    what was committed; a read transaction takes nothing."""
    with fresh(tmp_path) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(200):
                b.put(b"%04d" % i, b"v" * 50)
        written = db._written
        assert written is not None
        with db.view() as rtx:
            assert rtx._carried == {} and db._written is written
        tx = db.begin(True)
        assert tx._carried is written[1] and db._written is None
        for i in range(200):
            tx[b"b"].put(b"%04d" % i, b"changed")
        tx.rollback()
        tx = db.begin(True)
        assert tx._carried == {}
        assert [v for _, v in tx[b"b"].items()] == [b"v" * 50] * 200
        tx.rollback()


def test_no_carried_nodes_after_a_failed_commit_or_from_another_meta(tmp_path: Path) -> None:
    io_ = _FailingIO()
    with pybbolt.DB(tmp_path / "f.db", page_size=PS, file_io=io_) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            b.put(b"k", b"v")
            for i in range(300):  # leaves under a root branch: a branch to carry
                b.put(b"x%04d" % i, b"v" * 100)
        io_.fail = True
        tx = db.begin(True)
        assert tx._carried
        tx[b"b"].put(b"k2", b"v2")
        with pytest.raises(pybbolt.FileError):
            tx.commit()
        assert db._written is None
        io_.fail = False
        with db.update() as tx:
            assert tx._carried == {}
            assert tx[b"b"].get(b"k") == b"v" and tx[b"b"].get(b"k2") is None
            tx[b"b"].put(b"k3", b"v3")
        # Nodes written from a meta that is no longer the current one are ignored.
        meta, nodes = db._written
        db._written = (meta.with_changes(), nodes)
        with db.update() as tx:
            assert tx._carried == {}
            assert tx[b"b"].get(b"k3") == b"v3"


def test_a_commit_carries_its_branches_alone(tmp_path: Path) -> None:
    """Only branch nodes are carried to the next write transaction (a
    commit's leaves kept alive until the next one cost a load of 100,000
    pairs a transaction more than twice its memory); a bucket of one leaf
    carries nothing."""
    with fresh(tmp_path) as db:
        with db.update() as tx:
            tx.create_bucket(b"small").put(b"k", b"v")
        assert db._written is not None and db._written[1] == {}
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for i in range(64 * 16):  # ~70 leaves of 4 kB at fill 0.5
                b.put(b"%06d" % i, b"v" * 100)
        written = db._written
        assert written is not None
        assert written[1] and all(not n.is_leaf for n in written[1].values())
