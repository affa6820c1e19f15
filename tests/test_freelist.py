"""The freelist: on-disk encoding (with the 0xFFFF count convention), allocation
and release rules, and files whose freelist holds more than 65534 ids.

Expected values are worked out by hand from bbolt's freelist.go (``allocate``,
``free``, ``release``, ``releaseRange``, ``rollback``, ``write``) and its
hashmap variant, or are Go's: the free pages the bbolt CLI's ``pages`` lists
for a file without a persisted freelist."""

from __future__ import annotations

import random
import re
import struct
import subprocess
from pathlib import Path

import pytest

import pybbolt
from pybbolt import BboltPanic, CorruptionError, freelist
from pybbolt.freelist import MAX_IDS_BEYOND_FILE, Freelist, HashmapFreelist, rebuild
from pybbolt.layout import FREELIST_PAGE, PAGE_HEADER
from pybbolt.page import read_freelist_ids

from .conftest import FIXTURES
from .workload import go_dump


def test_encode_small_and_overflowing_counts() -> None:
    fl = Freelist()
    fl.load([9, 3, 4])
    page = fl.encode(7, 4096, 0)
    assert PAGE_HEADER.unpack_from(page) == (7, FREELIST_PAGE, 3, 0)
    assert struct.unpack_from("<3Q", page, 16) == (3, 4, 9)
    assert read_freelist_ids(bytes(7 * 4096) + bytes(page), 7, 4096) == [3, 4, 9]
    big = Freelist()
    big.load(list(range(2, 70002)))
    length = (big.estimated_page_bytes() // 4096 + 1) * 4096
    page = big.encode(5, length, length // 4096 - 1)
    assert PAGE_HEADER.unpack_from(page) == (5, FREELIST_PAGE, 0xFFFF, length // 4096 - 1)
    assert struct.unpack_from("<Q", page, 16) == (70000,)
    assert struct.unpack_from("<2Q", page, 24) == (2, 3)
    data = bytes(5 * 4096) + bytes(page)
    assert read_freelist_ids(data, 5, 4096) == list(range(2, 70002))
    # est = 16 + 8 * (n + 1) when n >= 0xFFFF (docs/FORMAT.md §7.2)
    assert big.estimated_page_bytes() == 16 + 8 * 70001


def test_allocation_is_first_fit() -> None:
    fl = Freelist()
    fl.load([3, 4, 6, 7, 8, 12])
    assert fl.allocate(5, 3) == 6
    assert fl.ids == [3, 4, 12]
    assert fl.allocate(5, 2) == 3
    assert fl.allocate(5, 2) == 0
    assert fl.allocate(5, 1) == 12
    hm = HashmapFreelist()
    hm.load([3, 4, 6, 7, 8, 12])
    assert hm.allocate(5, 1) == 12  # an exact span first
    assert hm.allocate(5, 2) == 3


def test_pending_release_respects_readers() -> None:
    fl = Freelist()
    fl.free(10, 20, 1)  # pages 20, 21 freed by tx 10
    fl.free(12, 30, 0)
    assert fl.all_ids() == [20, 21, 30] and fl.ids == []
    fl.release(10)  # readers from tx 11 on: tx 10's pages are free
    assert fl.ids == [20, 21]
    fl.rollback(12)
    assert fl.all_ids() == [20, 21]


def test_freelist_over_65534_ids_go_reads_it(tmp_path: Path, boltgo: Path) -> None:
    path = tmp_path / "big.db"
    with pybbolt.open(path, page_size=1024, no_sync=True) as db:
        with db.update() as tx:
            tx.create_bucket(b"b").put(b"huge", b"x" * (70_000 * 1024))
        with db.update() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            b.delete(b"huge")
        with db.update() as tx:  # the released pages are now free, not pending
            tx.bucket(b"b").put(b"small", b"y")  # type: ignore[union-attr]
        with db.view() as tx:
            freelist = tx.page_header(tx.meta.freelist)
            assert freelist.count == 0xFFFF and freelist.overflow > 500
            assert len(tx.free_ids()) > 0xFFFF
            assert [str(e) for e in tx.check()] == []
    go = go_dump(boltgo, path)
    assert go["check"] == []
    assert go["content"]["buckets"][0]["entries"] == [{"k": b"small".hex(), "v": b"y".hex()}]


def test_encode_at_exactly_0xffff_ids() -> None:
    """0xFFFF ids already take the overflow form: count 0xFFFF in the header,
    the real count as the first u64 (bbolt's ``write``: ``l >= 0xFFFF``)."""
    fl = Freelist()
    fl.load(list(range(2, 2 + 0xFFFF)))
    assert fl.estimated_page_bytes() == 16 + 8 * 0x10000
    page = fl.encode(4, 16 + 8 * 0x10000, 0)
    assert PAGE_HEADER.unpack_from(page) == (4, FREELIST_PAGE, 0xFFFF, 0)
    assert struct.unpack_from("<3Q", page, 16) == (0xFFFF, 2, 3)
    assert struct.unpack_from("<Q", page, len(page) - 8) == (0xFFFF + 1,)
    fl.load(list(range(2, 2 + 0xFFFE)))  # one fewer: the plain form
    assert fl.estimated_page_bytes() == 16 + 8 * 0xFFFE
    page = fl.encode(4, 16 + 8 * 0xFFFE, 0)
    assert PAGE_HEADER.unpack_from(page) == (4, FREELIST_PAGE, 0xFFFE, 0)
    assert struct.unpack_from("<2Q", page, 16) == (2, 3)


def test_allocate_from_page_2_and_refuse_meta_ids() -> None:
    fl = Freelist()
    fl.load([2, 3, 5])
    assert fl.allocate(4, 1) == 2  # the lowest id, 2, is a run of its own
    assert fl.ids == [3, 5] and fl.allocs == {2: 4}
    assert fl.allocate(4, 1) == 3
    for bad in ([1, 2], [0, 5]):
        fl.load(bad)
        with pytest.raises(CorruptionError, match=rf"^invalid page allocation: {bad[0]}$"):
            fl.allocate(4, 1)


def test_allocate_keeps_the_other_free_ids_known() -> None:
    """Only the allocated ids leave the set that catches a double free."""
    fl = Freelist()
    fl.load([3, 6, 7])
    assert fl.allocate(5, 2) == 6
    with pytest.raises(CorruptionError, match=r"^page 3 already freed$"):
        fl.free(6, 3, 0)
    fl.free(6, 6, 1)  # the allocated ones can be freed again


def test_free_refuses_meta_pages_and_double_frees() -> None:
    fl = Freelist()
    for pgid in (0, 1):
        with pytest.raises(CorruptionError, match=rf"^cannot free page 0 or 1: {pgid}$"):
            fl.free(3, pgid, 0)
    fl.free(3, 2, 0)  # page 2 is an ordinary page
    fl.free(10, 20, 0)
    with pytest.raises(CorruptionError, match=r"^page 20 already freed$"):
        fl.free(11, 20, 0)
    with pytest.raises(CorruptionError, match=r"^page 20 already freed$"):
        fl.free(11, 19, 1)  # its overflow page is already pending
    # As bbolt's loop: the pages before the repeated one are pending all the same.
    assert fl.pending[11] == [(19, 0)] and 19 in fl.cache
    fl.free(12, 40, 2)  # a page and its two overflow pages, none seen before
    assert fl.pending[12] == [(40, 0), (41, 0), (42, 0)] and {40, 41, 42} <= fl.cache
    with pytest.raises(CorruptionError, match=r"^page 42 already freed$"):
        fl.free(13, 42, 0)  # the last overflow page of a run
    fl.load([30])
    with pytest.raises(CorruptionError, match=r"^page 30 already freed$"):
        fl.free(12, 30, 0)  # a free id


def test_free_records_the_allocating_txid() -> None:
    fl = Freelist()
    fl.load([10, 11])
    assert fl.allocate(5, 1) == 10
    fl.free(7, 10, 0)  # allocated by tx 5
    fl.free(7, 40, 1)  # allocated before anything this freelist saw: txid 0
    assert fl.pending == {7: [(10, 5), (40, 0), (41, 0)]}
    assert fl.allocs == {}


def test_release_range_boundaries() -> None:
    """bbolt's releaseRange(begin, end): pending txs in [begin, end] give back the
    ids they freed that were allocated in [begin, end] too; both ends included."""
    fl = Freelist()
    fl.load([10, 11, 12])
    assert fl.allocate(7, 1) == 10
    fl.free(7, 10, 0)  # allocated and freed by tx 7
    fl.free(7, 40, 0)  # freed by tx 7, allocated before (0)
    fl.release_range(7, 7)
    assert fl.ids == [10, 11, 12] and fl.pending == {7: [(40, 0)]}
    assert fl.all_ids() == [10, 11, 12, 40]
    fl.release_range(8, 7)  # an empty range
    assert fl.pending == {7: [(40, 0)]}
    fl.release_range(0, 6)  # tx 7 is outside
    assert fl.pending == {7: [(40, 0)]}
    fl.release_range(0, 7)  # allocated at 0: released, tx 7 has nothing left
    assert fl.ids == [10, 11, 12, 40] and fl.pending == {}

    fl.load([20, 21])
    assert fl.allocate(3, 1) == 20
    assert fl.allocate(4, 1) == 21
    fl.free(5, 20, 0)
    fl.free(5, 21, 0)
    fl.release_range(4, 5)  # 21 (allocated by 4) goes, 20 (by 3) stays pending
    assert fl.ids == [21] and fl.pending == {5: [(20, 3)]}
    fl.release_range(3, 4)  # tx 5 is outside the range
    assert fl.pending == {5: [(20, 3)]}


def test_rollback_restores_allocations() -> None:
    fl = Freelist()
    fl.load([10, 11, 12])
    assert fl.allocate(5, 1) == 10
    assert fl.allocate(7, 1) == 11
    fl.free(7, 10, 0)  # allocated by 5, freed by 7
    fl.free(7, 30, 0)  # allocated before: 0
    fl.rollback(7)
    assert fl.pending == {} and fl.ids == [12]
    assert fl.allocs == {10: 5}  # 5's allocation is back, 7's is forgotten
    fl.free(8, 30, 0)  # no longer counted as freed
    fl.free(8, 10, 0)
    assert fl.pending == {8: [(30, 0), (10, 5)]}
    fl.rollback(99)  # nothing pending: nothing changes
    assert fl.pending == {8: [(30, 0), (10, 5)]} and fl.ids == [12]


def test_reload_keeps_pending_ids_out() -> None:
    fl = Freelist()
    fl.load([10, 11])
    fl.free(4, 20, 0)
    fl.reload([10, 20, 11, 25])  # what the disk says after a commit
    assert fl.ids == [10, 11, 25] and fl.pending == {4: [(20, 0)]}
    assert fl.count() == 4
    for pgid in (10, 20, 25):
        with pytest.raises(CorruptionError, match=rf"^page {pgid} already freed$"):
            fl.free(5, pgid, 0)
    fl.free(5, 12, 0)


def test_hashmap_allocation_spans() -> None:
    hm = HashmapFreelist()
    hm.load([3, 4, 8, 9])
    assert hm.allocate(5, 2) == 3  # two exact spans: the lowest
    hm.load([3, 4, 5, 8, 9])
    assert hm.allocate(5, 2) == 8  # the exact span, though a longer one comes first
    assert hm.ids == [3, 4, 5] and hm.allocs == {8: 5}
    hm.load([3, 4, 5, 8, 9, 10])
    assert hm.allocate(6, 2) == 3  # no exact span: the first longer one
    assert hm.ids == [5, 8, 9, 10]
    with pytest.raises(CorruptionError, match=r"^page 5 already freed$"):
        hm.free(7, 5, 0)
    hm.free(7, 3, 1)
    assert hm.pending == {7: [(3, 6), (4, 6)]}
    hm.load([3, 5])
    assert hm.allocate(5, 2) == 0 and hm.ids == [3, 5] and hm.allocs == {}
    hm.load([])
    assert hm.allocate(5, 1) == 0 and hm.allocs == {}


# -- rebuild: the free ids of a file without a persisted freelist ---------------------------


def go_free_pages(bbolt_cli: Path, path: Path) -> list[int]:
    """The pages bbolt's CLI lists as free (`bbolt pages`)."""
    out = subprocess.run([str(bbolt_cli), "pages", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return [int(m[1]) for m in re.finditer(r"^(\d+) +free\b", out, re.M)]


def test_rebuild_lists_what_go_calls_free(tmp_path: Path, bbolt_cli: Path) -> None:
    fresh = tmp_path / "fresh.db"
    with pybbolt.open(fresh, no_freelist_sync=True) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"k", b"v")
    for path in (fresh, FIXTURES / "churn_seed1_nofreelistsync.db"):
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            got, metas_reached = rebuild(tx)
        assert got == go_free_pages(bbolt_cli, path), path
        assert metas_reached is False
    assert got[:3] == [7, 11, 12] and len(got) == 52
    with pybbolt.open(fresh, readonly=True) as db, db.view() as tx:
        assert rebuild(tx) == ([2, 3], False)  # the first free page can be page 2


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _with_high_water_mark(src: Path, dst: Path, pgid: int) -> Path:
    """A copy of ``src`` (4 KiB pages) whose two metas, checksums fixed, say ``pgid``."""
    data = bytearray(src.read_bytes())
    for base in (16, 4096 + 16):
        struct.pack_into("<Q", data, base + 40, pgid)
        struct.pack_into("<Q", data, base + 56, _fnv1a64(bytes(data[base : base + 56])))
    dst.write_bytes(bytes(data))
    return dst


def test_rebuild_beyond_the_file_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A high-water mark at most MAX_IDS_BEYOND_FILE pages beyond the file's end
    still lists its ids; one more is a fatal error (bbolt runs out of memory).
    The limit is lowered to 1000 here: listing 2^22 ids takes seconds."""
    assert MAX_IDS_BEYOND_FILE == 1 << 22
    monkeypatch.setattr(freelist, "MAX_IDS_BEYOND_FILE", 1000)
    src = FIXTURES / "churn_seed1_nofreelistsync.db"  # 128 pages of 4 KiB, 52 free below 125
    assert src.stat().st_size == 128 * 4096
    hwm = 128 + 1000
    at = _with_high_water_mark(src, tmp_path / "at.db", hwm)
    with pybbolt.open(at, readonly=True) as db, db.view() as tx:
        ids, _ = rebuild(tx)
    assert ids[52:] == list(range(125, hwm))
    over = _with_high_water_mark(src, tmp_path / "over.db", hwm + 1)
    with pybbolt.open(over, readonly=True) as db, db.view() as tx, \
            pytest.raises(BboltPanic) as caught:
        rebuild(tx)
    assert caught.value.raw and caught.value.fatal
    assert str(caught.value) == (
        f"fatal error: runtime: out of memory (the high-water mark {hwm + 1} lies "
        "1001 pages beyond the end of the file)")


def _tiny_file(path: Path, page_size: int, root: int, hwm: int, length: int) -> Path:
    """``length`` bytes: meta 0 (checksum fixed, no freelist) and an empty root leaf."""
    data = bytearray(length)
    struct.pack_into("<QHHI", data, 0, 0, 0x04, 0, 0)
    struct.pack_into("<IIIIQQQQQ", data, 16, 0xED0CDAED, 2, page_size, 0, root, 0,
                     (1 << 64) - 1, hwm, 1)
    struct.pack_into("<Q", data, 72, _fnv1a64(bytes(data[16:72])))
    struct.pack_into("<QHHI", data, root * page_size, root, 0x02, 0, 0)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("page_size", "root", "length", "whole_pages"), [
    # the root leaf is a page cut short, which the mapping fills with zeros
    # to the end of the OS page: 3 whole pages
    (4096, 2, 2 * 4096 + 16, 3),
    (1, 4096, 8192, 8192),  # a damaged meta's page size of 1: every byte a page
], ids=["short-last-page", "page-size-1"])
def test_rebuild_counts_the_file_in_whole_pages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_size: int, root: int,
        length: int, whole_pages: int) -> None:
    """``beyond`` is the high-water mark less the file's whole pages (at least 2)."""
    monkeypatch.setattr(freelist, "MAX_IDS_BEYOND_FILE", 1000)
    hwm = whole_pages + 1001
    path = _tiny_file(tmp_path / "tiny.db", page_size, root, hwm, length)
    with pybbolt.open(path, readonly=True) as db, db.view() as tx, \
            pytest.raises(BboltPanic) as caught:
        rebuild(tx)
    assert str(caught.value) == (
        f"fatal error: runtime: out of memory (the high-water mark {hwm} lies "
        "1001 pages beyond the end of the file)")


@pytest.mark.parametrize("meta_page", [0, 1])
def test_rebuild_says_when_a_bucket_reaches_a_meta_page(
        tmp_path: Path, bbolt_cli: Path, meta_page: int) -> None:
    """A root branch whose child is a meta page that calls itself a leaf (its
    header is not checksummed): bbolt's walk goes through it without a panic
    and its check sees the meta page referenced twice."""
    path = tmp_path / "reached.db"
    with pybbolt.open(path, no_freelist_sync=True) as db, db.update() as tx:
        tx.create_bucket(b"b").put(b"k", b"v")
    data = bytearray(path.read_bytes())
    root = 4  # pages 0, 1: metas; 2: the first freelist page, 3: the first root
    struct.pack_into("<H", data, meta_page * 4096 + 8, 0x02)
    page = bytearray(4096)
    struct.pack_into("<QHHI", page, 0, root, 0x01, 1, 0)
    struct.pack_into("<IIQ", page, 16, 16, 1, meta_page)  # one element: key b"a"
    page[32:33] = b"a"
    data[root * 4096 : (root + 1) * 4096] = page
    path.write_bytes(bytes(data))
    check = subprocess.run([str(bbolt_cli), "check", str(path)], capture_output=True,
                           text=True).stdout
    assert check.startswith(f"page {meta_page}: multiple references (stack: [4 {meta_page}])")
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert tx.meta.root == root
        assert rebuild(tx) == (go_free_pages(bbolt_cli, path), True)
    assert go_free_pages(bbolt_cli, path) == [2, 3]


def test_allocation_matches_the_scan_of_bbolt() -> None:
    """The C-level first fit gives what bbolt's id-by-id scan gives (kept as
    ``_allocate_scan``), on sorted lists with holes, repeated ids (a damaged
    freelist) and ids 0 and 1, for every request size."""
    rng = random.Random(20261206)
    for _ in range(3000):
        ids = sorted(rng.choice((0, 1, 2)) if rng.random() < 0.02 else rng.randrange(2, 80)
                     for _ in range(rng.randrange(0, 40)))
        if rng.random() < 0.5:
            ids = sorted(set(ids))
        n = rng.randrange(0, 9)
        fast, slow = Freelist(), Freelist()
        fast.load(ids)
        slow.load(ids)
        outcomes = []
        for fl, allocate in ((fast, fast.allocate), (slow, slow._allocate_scan)):
            try:
                outcomes.append((allocate(7, n), fl.ids, sorted(fl.cache), fl.allocs))
            except CorruptionError as e:
                outcomes.append((str(e), fl.ids, sorted(fl.cache), fl.allocs))
        assert outcomes[0] == outcomes[1], (ids, n)
