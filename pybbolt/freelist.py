"""The freelist: which page ids are free, and how they are stored on disk.

On disk (docs/FORMAT.md §7) a freelist page lists sorted u64 ids; a count of
0xFFFF in the header means the real count is the first u64.  Files written
with NoFreelistSync have no freelist page: the free ids are then every page
below the high-water mark that no bucket reaches (:func:`rebuild`).
"""

from __future__ import annotations

import struct
from itertools import compress, count, islice, repeat
from operator import eq, itemgetter, sub

from .errors import BboltPanic, CorruptionError
from .layout import (
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    U64,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from .tx import Tx


_FIRST = itemgetter(0)  # the page id of a pending (page id, allocating txid)

# A meta whose high-water mark lies further than this beyond the end of the
# file is damaged: rebuilding its freelist would list every id up to it.
MAX_IDS_BEYOND_FILE = 1 << 22


def rebuild(tx: Tx) -> tuple[list[int], bool]:
    """Free ids of a file without a persisted freelist: the unreachable pages;
    and whether a bucket reaches a meta page (page 0 or 1).

    Raises :class:`CorruptionError` with bbolt's ``freepages`` message when
    the walk meets a problem (bbolt panics there).
    """
    # The check's walk, as bbolt's freepages uses it; imported here because
    # only files without a persisted freelist need it.
    from .check import reachability

    reach, problem = reachability(tx)
    if problem is not None:
        raise CorruptionError(f"freepages: failed to get all reachable pages ({problem})")
    hwm = tx.meta.pgid
    beyond = hwm - max(len(tx._data) // max(tx.page_size, 1), 2)
    if beyond > MAX_IDS_BEYOND_FILE:
        # bbolt would list every one of them, as long as memory lasts.
        raise BboltPanic(
            f"fatal error: runtime: out of memory (the high-water mark {hwm} lies "
            f"{beyond} pages beyond the end of the file)", raw=True, fatal=True,
        )
    return reach.unmarked(2, hwm), 0 in reach or 1 in reach


class Freelist:
    """The in-memory freelist of a writable database (docs/FORMAT.md §9).

    ``free`` ids can be allocated; ``pending[txid]`` holds the ids freed by
    write transaction ``txid`` (with the txid that had allocated each one)
    until no open reader can still see them.
    """

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.pending: dict[int, list[tuple[int, int]]] = {}
        self.allocs: dict[int, int] = {}
        self.cache: set[int] = set()

    def load(self, ids: list[int]) -> None:
        """Replace the free ids (nothing is pending after a load)."""
        self.ids = sorted(ids)
        self.pending = {}
        self.allocs = {}
        self.cache = set(self.ids)

    def reload(self, ids: list[int]) -> None:
        """Reload from disk, keeping what is still pending out of the free ids."""
        pending = {pgid for entries in self.pending.values() for pgid, _ in entries}
        self.ids = sorted(i for i in ids if i not in pending)
        self.cache = set(self.ids) | pending

    def count(self) -> int:
        """Free plus pending ids: what a commit writes."""
        return len(self.ids) + sum(map(len, self.pending.values()))

    def all_ids(self) -> list[int]:
        """Free and pending ids merged, sorted: the content of the freelist page."""
        out = list(self.ids)
        for entries in self.pending.values():
            out.extend(map(_FIRST, entries))
        out.sort()
        return out

    def free(self, txid: int, pgid: int, overflow: int) -> None:
        """Make ``pgid`` and its overflow pages pending in ``txid``."""
        if pgid <= 1:
            raise CorruptionError(f"cannot free page 0 or 1: {pgid}")
        entries = self.pending.setdefault(txid, [])
        alloc_txid = self.allocs.pop(pgid, 0)
        pages = range(pgid, pgid + overflow + 1)
        if self.cache.isdisjoint(pages):  # the pages of an intact tree: at once
            entries += zip(pages, repeat(alloc_txid))
            self.cache.update(pages)
            return
        for i in pages:
            if i in self.cache:
                raise CorruptionError(f"page {i} already freed")
            entries.append((i, alloc_txid))
            self.cache.add(i)

    def allocate(self, txid: int, n: int) -> int:
        """First fit: the lowest id starting ``n`` contiguous free ids, or 0."""
        ids = self.ids
        if not ids:
            return 0
        if n < 1:
            return self._allocate_scan(txid, n)
        initial = ids[0]
        if initial <= 1:  # sorted: bbolt's scan meets it first
            raise CorruptionError(f"invalid page allocation: {initial}")
        if n == 1:  # any id is a run of one: the first
            del ids[0]
            self.cache.discard(initial)
            self.allocs[initial] = txid
            return initial
        # The first window of n ids spanning n - 1, found by C-level calls
        # (a free list with many holes is long, and a scan in Python costs a
        # compaction of big values more than its writes).  Without repeated
        # ids that window is the first run of n consecutive ids, bbolt's fit.
        spans = map(sub, islice(ids, n - 1, None), ids)
        start = next(compress(count(), map(eq, spans, repeat(n - 1))), None)
        if start is None:
            return 0
        initial = ids[start]
        if ids[start : start + n] != list(range(initial, initial + n)):
            return self._allocate_scan(txid, n)  # repeated ids: a damaged freelist
        del ids[start : start + n]
        self.cache.difference_update(range(initial, initial + n))
        self.allocs[initial] = txid
        return initial

    def _allocate_scan(self, txid: int, n: int) -> int:
        """:meth:`allocate` id by id, as bbolt's ``arrayFreelist.Allocate``."""
        ids = self.ids
        initial = previd = 0
        for i, pgid in enumerate(ids):
            if pgid <= 1:
                raise CorruptionError(f"invalid page allocation: {pgid}")
            if previd == 0 or pgid - previd != 1:
                initial = pgid
            if pgid - initial + 1 == n:
                del ids[i - n + 1 : i + 1]
                self.cache.difference_update(range(initial, initial + n))
                self.allocs[initial] = txid
                return initial
            previd = pgid
        return 0

    def release(self, txid: int) -> None:
        """Free every id pending in a transaction up to ``txid``."""
        released: list[int] = []
        for tid in [t for t in self.pending if t <= txid]:
            released.extend(map(_FIRST, self.pending.pop(tid)))
        self._merge(released)

    def release_range(self, begin: int, end: int) -> None:
        """Free ids pending in [begin, end] that were also allocated in that range."""
        if begin > end:
            return
        released: list[int] = []
        for tid in [t for t in self.pending if begin <= t <= end]:
            keep: list[tuple[int, int]] = []
            for pgid, alloc in self.pending[tid]:
                if begin <= alloc <= end:
                    released.append(pgid)
                else:
                    keep.append((pgid, alloc))
            if keep:
                self.pending[tid] = keep
            else:
                del self.pending[tid]
        self._merge(released)

    def _merge(self, released: list[int]) -> None:
        if released:
            self.ids = sorted(self.ids + released)

    def rollback(self, txid: int) -> None:
        """Undo the frees of ``txid`` and forget its allocations."""
        for pgid, alloc in self.pending.pop(txid, []):
            self.cache.discard(pgid)
            if alloc and alloc != txid:
                self.allocs[pgid] = alloc
        for pgid in [p for p, t in self.allocs.items() if t == txid]:
            del self.allocs[pgid]

    def estimated_page_bytes(self) -> int:
        """Bytes the freelist page needs (bbolt's EstimatedWritePageSize)."""
        n = self.count()
        if n >= FREELIST_COUNT_OVERFLOW:
            n += 1
        return PAGE_HEADER_SIZE + 8 * n

    def encode(self, pgid: int, length: int, overflow: int) -> bytearray:
        """The freelist page: all free and pending ids, sorted."""
        ids = self.all_ids()
        buf = bytearray(length)
        n = len(ids)
        count = n if n < FREELIST_COUNT_OVERFLOW else FREELIST_COUNT_OVERFLOW
        PAGE_HEADER.pack_into(buf, 0, pgid, FREELIST_PAGE, count, overflow)
        start = PAGE_HEADER_SIZE
        if n >= FREELIST_COUNT_OVERFLOW:
            U64.pack_into(buf, start, n)
            start += 8
        if n:
            struct.pack_into(f"<{n}Q", buf, start, *ids)
        return buf


class HashmapFreelist(Freelist):
    """bbolt's "hashmap" freelist type: allocation from spans of free ids.

    A span of exactly ``n`` pages is preferred, else the first ``n`` pages of
    a longer one.  bbolt picks among candidates in Go map order (random);
    here the lowest candidate wins, so runs are reproducible.
    """

    def allocate(self, txid: int, n: int) -> int:
        best = 0
        start = prev = 0
        spans: list[tuple[int, int]] = []
        for pgid in self.ids:
            if prev and pgid == prev + 1:
                prev = pgid
                continue
            if prev:
                spans.append((start, prev - start + 1))
            start = prev = pgid
        if prev:
            spans.append((start, prev - start + 1))
        exact = [s for s, size in spans if size == n]
        larger = [s for s, size in spans if size > n]
        if exact:
            best = exact[0]
        elif larger:
            best = larger[0]
        if not best:
            return 0
        taken = set(range(best, best + n))
        self.ids = [i for i in self.ids if i not in taken]
        self.cache.difference_update(taken)
        self.allocs[best] = txid
        return best
