"""Sets of page ids over a whole file, as bitmaps: what the check has seen.

One byte per page of the file (plus runs of ids beyond its end, which damaged
overflow counts can name) keeps the check's memory proportional to the file,
and lets whole runs of pages be marked with one slice assignment.
"""

from __future__ import annotations

import itertools
from operator import not_

from .errors import BboltPanic

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator

# Page ids beyond the file that may be marked reachable (overflow runs of
# damaged headers) before the check gives up as bbolt's map would (out of
# memory, with the recording's 2 GiB address space).
MAX_EXTRA_IDS = 1 << 23


class Reachable:
    """Reachable page ids: a bitmap over the file, and runs of ids beyond it."""

    __slots__ = ("bits", "extra", "extra_n", "nbits")

    def __init__(self, nbits: int) -> None:
        self.nbits = nbits
        self.bits = bytearray(nbits)
        self.extra: list[tuple[int, int]] = []  # sorted, disjoint [start, end)
        self.extra_n = 0

    def mark(self, start: int, end: int) -> Iterator[int]:
        """Mark ids ``start .. end-1``; yields, ascending, those already marked."""
        bits = self.bits
        hi = min(end, self.nbits)
        if start < hi:
            if bits.find(1, start, hi) == -1:
                bits[start:hi] = b"\x01" * (hi - start)
            else:
                for p in range(start, hi):
                    if bits[p]:
                        yield p
                    else:
                        bits[p] = 1
        lo = max(start, self.nbits)
        if lo < end:
            yield from self._mark_extra(lo, end)

    def _mark_extra(self, start: int, end: int) -> Iterator[int]:
        cur = start
        for a, b in list(self.extra):
            if b <= cur or a >= end:
                continue
            self._grow(max(0, a - cur), cur)
            yield from range(max(a, cur), min(b, end))
            cur = min(b, end)
        self._grow(end - cur, cur)
        merged: list[tuple[int, int]] = []
        s, e = start, end
        for a, b in self.extra:
            if b < s or a > e:
                merged.append((a, b))
            else:
                s, e = min(a, s), max(b, e)
        merged.append((s, e))
        merged.sort()
        self.extra = merged

    def _grow(self, n: int, at: int) -> None:
        self.extra_n += n
        if self.extra_n > MAX_EXTRA_IDS:
            raise BboltPanic(
                "fatal error: runtime: out of memory (page overflow counts mark more than "
                f"{MAX_EXTRA_IDS} pages beyond the end of the file reachable)",
                raw=True,
                fatal=True,
                pgid=at,
            )

    def __contains__(self, pid: int) -> bool:
        if pid < self.nbits:
            return bool(self.bits[pid])
        return any(a <= pid < b for a, b in self.extra)

    def as_set(self, limit: int) -> set[int]:
        """The marked ids below ``limit``."""
        out = set(itertools.compress(range(min(limit, self.nbits)), self.bits))
        for a, b in self.extra:
            out.update(range(a, min(b, limit)))
        return out

    def unmarked(self, start: int, limit: int) -> list[int]:
        """The ids from ``start`` below ``limit`` that are not marked, ascending."""
        hi = max(start, min(limit, self.nbits))
        out = list(itertools.compress(range(start, hi), map(not_, self.bits[start:hi])))
        if limit > hi:
            marked: set[int] = set()
            for a, b in self.extra:
                marked.update(range(max(a, hi), min(b, limit)))
            out += [p for p in range(hi, limit) if p not in marked]
        return out


class Freed:
    """The free page ids: a bitmap over the file, a set for ids beyond it."""

    __slots__ = ("bits", "extra", "nbits")

    def __init__(self, nbits: int) -> None:
        self.nbits = nbits
        self.bits = bytearray(nbits)
        self.extra: set[int] = set()

    def add(self, pid: int) -> bool:
        """Add ``pid``; whether it was there already."""
        if pid < self.nbits:
            was = self.bits[pid]
            self.bits[pid] = 1
            return bool(was)
        if pid in self.extra:
            return True
        self.extra.add(pid)
        return False

    def __contains__(self, pid: int) -> bool:
        if pid < self.nbits:
            return bool(self.bits[pid])
        return pid in self.extra
