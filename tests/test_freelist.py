"""The freelist: on-disk encoding (with the 0xFFFF count convention), allocation
and release rules, and files whose freelist holds more than 65534 ids."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pybbolt
from pybbolt.errors import CorruptionError
from pybbolt.freelist import Freelist, HashmapFreelist
from pybbolt.layout import FREELIST_PAGE, PAGE_HEADER
from pybbolt.page import read_freelist_ids

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
