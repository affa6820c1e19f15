"""bbolt's consistency check (``Tx.Check`` of bbolt v1.5.0, FORMAT.md 13).

The check walks the raw pages of the mapping with precompiled structs; it
never decodes whole pages into nodes, and it keeps one byte per page of the
file (which pages are reachable) plus the free ids.

Errors come out in bbolt's order and with bbolt's messages.  Where bbolt
panics on a damaged file (FORMAT.md 13.4) the check reports one last error
with bbolt's panic text and stops, as v1.5.0 does.  Where bbolt would not
survive at all (a read outside the file, a page tree that loops back on
itself, a walk that never ends) the last error has ``fatal = True``: the bbolt
tool dies there with exit status 2.  Every walk is iterative and bounded, so
no input makes the check raise, recurse without limit or hang.

To mirror what bbolt does on damaged pages, the walks below follow bbolt's
own reading rules: ``tx.page`` asserts the page id and type, page types are
tested by exact flag equality, bbolt's cursor is replayed move by move where
the tree is not intact (a branch without elements is still entered at its
element 0), and keys, values and child ids are read wherever the element
headers point, with Go's bounds on those reads: a key running past the end
of the file faults only when bbolt would read that far.
"""

from __future__ import annotations

import itertools
import struct
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import repeat
from operator import add, and_, itemgetter, le, lt, mul, sub
from typing import TYPE_CHECKING, NamedTuple, cast

from .errors import CorruptionError, Error, TxClosed
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    LEAF_ELEMENT,
    LEAF_PAGE,
    MAX_ALLOC_SIZE,
    MAX_MAP_SIZE,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    PGID_NO_FREELIST,
    U64,
    page_type_name,
)

if TYPE_CHECKING:
    from .page import Data
    from .tx import Tx

__all__ = [
    "ALREADY_FREED",
    "FATAL",
    "INVALID_TYPE",
    "KEY_ORDER",
    "MULTIPLE_REFERENCES",
    "OUT_OF_BOUNDS",
    "PAGE_ID_OUT_OF_RANGE",
    "PANIC",
    "REACHABLE_FREED",
    "UNEXPECTED_PAGE_TYPE",
    "UNREACHABLE_UNFREED",
    "BboltPanic",
    "CheckError",
    "InlinePage",
    "PageReader",
    "check",
    "has_prefix",
    "keys_equal",
    "reachable_pages",
]

KVStringer = Callable[[bytes], str]

# --- kinds of CheckError ------------------------------------------------------

ALREADY_FREED = "already_freed"
OUT_OF_BOUNDS = "out_of_bounds"
MULTIPLE_REFERENCES = "multiple_references"
REACHABLE_FREED = "reachable_freed"
INVALID_TYPE = "invalid_type"
KEY_ORDER = "key_order"
UNEXPECTED_PAGE_TYPE = "unexpected_page_type"
UNREACHABLE_UNFREED = "unreachable_unfreed"
PAGE_ID_OUT_OF_RANGE = "page_id_out_of_range"
PANIC = "panic"  # bbolt panicked and v1.5.0 recovered: the check's last error
FATAL = "fatal"  # bbolt's process would die here (exit status 2): the check's last error

# --- Go's limits on the reads bbolt makes -------------------------------------

_MASK64 = (1 << 64) - 1
# Keys and values are sliced out of a `*[MaxAllocSize]byte` (internal/common/unsafe.go).
_PAGE_MAX_ALLOC = MAX_ALLOC_SIZE
_VALID_TYPES = frozenset((BRANCH_PAGE, LEAF_PAGE, META_PAGE, FREELIST_PAGE))
# Page ids beyond the file that may be marked reachable (overflow runs of
# damaged headers) before the check gives up as bbolt's map would (out of
# memory, with the recording's 2 GiB address space).
_MAX_EXTRA_IDS = 1 << 23
# Reachability bitmap: at most this many ids past the end of the file.
_MAX_BITMAP_SLACK = 1 << 24


def _go_int(v: int) -> int:
    """A uint64 printed through Go's ``int(...)`` conversion."""
    return v - (1 << 64) if v >= 1 << 63 else v


def _fmt_stack(ids: list[int]) -> str:
    return "[" + " ".join(map(str, ids)) + "]"


def _hex(key: bytes) -> str:
    return key.hex()


# --- errors -------------------------------------------------------------------


class CheckError(Error):
    """One problem found by :func:`check`; ``str(err)`` is bbolt's message.

    ``kind`` is one of the module's kind constants (``ALREADY_FREED``,
    ``KEY_ORDER``, ``PANIC``, ...), ``pgid`` the page the message is about
    (None when it names none), ``stack`` the page ids from the bucket root to
    that page when bbolt prints one, ``key`` the offending key of a key-order
    error.  ``fatal`` is set on the last error of a check that bbolt itself
    would not have survived (its process dies with exit status 2).
    """

    def __init__(
        self,
        message: str,
        kind: str,
        pgid: int | None = None,
        stack: tuple[int, ...] = (),
        key: bytes | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.pgid = pgid
        self.stack = stack
        self.key = key
        self.fatal = fatal

    @property
    def message(self) -> str:  # type: ignore[override]
        return str(self.args[0])

    def __repr__(self) -> str:
        extra = ", fatal=True" if self.fatal else ""
        return f"CheckError({self.message!r}, kind={self.kind!r}, pgid={self.pgid}{extra})"


class BboltPanic(CorruptionError):
    """Damage on which bbolt panics (or dies); the message is bbolt's.

    ``raw`` messages are Go runtime errors and fault reports, printed as they
    are; the others are panic values, which bbolt's check reports prefixed
    with ``panic: `` (:attr:`report`).  ``fatal`` means bbolt cannot recover
    from it at all (a fault, a stack overflow, running out of memory).
    """

    def __init__(
        self, message: str, *, raw: bool = False, fatal: bool = False, pgid: int | None = None
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.fatal = fatal
        self.pgid = pgid

    @property
    def report(self) -> str:
        """The line bbolt's check prints for this panic."""
        text = str(self.args[0])
        return text if self.raw else "panic: " + text

    def as_check_error(self) -> CheckError:
        return CheckError(
            self.report, FATAL if self.fatal else PANIC, pgid=self.pgid, fatal=self.fatal
        )


def _runtime(message: str) -> BboltPanic:
    return BboltPanic("runtime error: " + message, raw=True)


def _fault(offset: int, size: int, pgid: int | None = None) -> BboltPanic:
    what = f"page {pgid} at offset {offset}" if pgid is not None else f"offset {offset}"
    return BboltPanic(
        f"fatal error: fault: read of {what} is beyond the end of the file ({size} bytes)",
        raw=True,
        fatal=True,
        pgid=pgid,
    )


# --- keys that run past the end of the file ---------------------------------


class _FarKey(bytes):
    """A key whose bytes run past the end of the file: the part inside it.

    bbolt slices such a key without complaint and only faults when it reads
    a byte beyond the file: when a comparison gets that far, or when a
    message prints the key.  ``full`` is the key's real length, ``at`` its
    offset in the file.
    """

    full: int
    at: int
    end: int


def _far_key(data: Data, a: int, ksize: int) -> _FarKey:
    k = _FarKey(data[a:] if a < len(data) else b"")
    k.full = ksize
    k.at = a
    k.end = len(data)
    return k


def _cmp(x: bytes, y: bytes) -> int:
    """Go's ``bytes.Compare``, faulting where it would read past the file."""
    if x.__class__ is not _FarKey and y.__class__ is not _FarKey:
        return (x > y) - (x < y)
    m = min(len(x), len(y))
    px, py = x[:m], y[:m]
    if px != py:
        return -1 if px < py else 1
    fx = x.full if isinstance(x, _FarKey) else len(x)
    fy = y.full if isinstance(y, _FarKey) else len(y)
    if m >= min(fx, fy):
        return (fx > fy) - (fx < fy)
    far = x if isinstance(x, _FarKey) and len(x) == m else y
    assert isinstance(far, _FarKey)
    raise _fault(far.at + m, far.end)


def _flen(k: bytes) -> int:
    return k.full if isinstance(k, _FarKey) else len(k)


def keys_equal(x: bytes, y: bytes) -> bool:
    """Go's ``bytes.Equal`` (lengths first, then the bytes)."""
    return _flen(x) == _flen(y) and _cmp(x, y) == 0


def has_prefix(key: bytes, prefix: bytes) -> bool:
    """Go's ``bytes.HasPrefix``."""
    n = len(prefix)
    return _flen(key) >= n and _cmp(key[:n] if len(key) >= n else key, prefix) == 0


# --- reading pages the way bbolt does ----------------------------------------


class InlinePage:
    """The page inside an inline bucket's value, read as bbolt reads it.

    bbolt copies an unaligned value before using it (``copied``): reading
    past the end of that fresh allocation gives zeros.  An aligned value is
    read in place, in the file, where reading past its end faults.
    """

    __slots__ = ("copied", "data", "vend", "voff")

    def __init__(self, data: Data, voff: int, vlen: int, copied: bool) -> None:
        self.data = data
        self.voff = voff
        self.vend = voff + vlen
        self.copied = copied

    @property
    def offset(self) -> int:
        """Offset of the page in the file (after the 16-byte bucket header)."""
        return self.voff + 16

    def read(self, rel: int, n: int) -> bytes:
        """``n`` bytes at offset ``rel`` of the page."""
        a = self.voff + 16 + rel
        end = min(a + n, self.vend) if self.copied else a + n
        chunk = bytes(self.data[a:end]) if a < end else b""
        if len(chunk) < n:
            if not self.copied:
                size = len(self.data)
                raise _fault(max(a, size), size)
            chunk += bytes(n - len(chunk))
        return chunk

    def header(self) -> tuple[int, int, int, int]:
        """(id, flags, count, overflow)."""
        return PAGE_HEADER.unpack(self.read(0, PAGE_HEADER_SIZE))

    def leaf_element(self, i: int) -> tuple[int, int, int, int]:
        return LEAF_ELEMENT.unpack(self.read(PAGE_HEADER_SIZE + 16 * i, 16))

    def branch_element(self, i: int) -> tuple[int, int, int]:
        return BRANCH_ELEMENT.unpack(self.read(PAGE_HEADER_SIZE + 16 * i, 16))


def _no_note(pages: int) -> None:
    pass


class PageReader:
    """Raw page access with bbolt's semantics, shared by check and stats.

    Every page, element, key or value read is bounds-checked against the file
    and raises :class:`BboltPanic` where bbolt would panic or fault.  The
    reader also counts page visits: a walk that exceeds ``budget`` visits
    (only possible when pages reference each other in loops or many times
    over) stops with a fatal error instead of running for ever.
    """

    __slots__ = ("budget", "data", "note_reads", "npages", "ps", "size", "visits")

    def __init__(
        self, data: Data, page_size: int, note_reads: Callable[[int], None] | None = None
    ) -> None:
        if isinstance(data, memoryview):
            data = data.tobytes()  # slices must be bytes, to compare keys
        self.data = data
        self.size = len(data)
        self.ps = page_size
        self.npages = self.size // page_size if page_size else 0  # a damaged meta's size 0
        self.visits = 0
        self.budget = 8 * (self.npages + 1) + 1_000_000
        # Told of the pages read, the transaction keeps the RSS of long walks
        # bounded (Tx._note_reads).
        self.note_reads = note_reads or _no_note

    def tick(self, n: int = 1, read: bool = True) -> None:
        """Count ``n`` page visits (``read``: not yet told to ``note_reads``)."""
        self.visits += n
        if read:
            self.note_reads(n)
        if self.visits > self.budget:
            raise BboltPanic(
                f"fatal error: gave up after {self.budget} page visits: the pages reference "
                "each other in loops or many times over (bbolt would not finish)",
                raw=True,
                fatal=True,
            )

    def offset(self, pgid: int) -> int:
        """bbolt's ``db.page``: the offset of page ``pgid`` (no assertions)."""
        pos = (pgid * self.ps) & _MASK64
        if pos >= MAX_MAP_SIZE:
            raise _runtime(f"index out of range [{pos}] with length {MAX_MAP_SIZE}")
        if pos + PAGE_HEADER_SIZE > self.size:
            raise _fault(pos, self.size, pgid)
        return pos

    def page(self, pgid: int) -> tuple[int, int, int, int]:
        """bbolt's ``tx.page``: (offset, flags, count, overflow), asserting id and type."""
        pos = self.offset(pgid)
        pid, flags, count, overflow = PAGE_HEADER.unpack_from(self.data, pos)
        if pid != pgid:
            raise BboltPanic(
                f"assertion failed: Page expected to be: {pgid}, but self identifies as {pid}",
                pgid=pgid,
            )
        if flags not in _VALID_TYPES:
            raise BboltPanic(
                f"assertion failed: page {pid}: has unexpected type/flags: {flags:x}", pgid=pgid
            )
        return pos, flags, count, overflow

    def header_at(self, off: int) -> tuple[int, int, int, int]:
        """The raw header at ``off`` (an inline page): (id, flags, count, overflow)."""
        if off + PAGE_HEADER_SIZE > self.size:
            raise _fault(off, self.size)
        return PAGE_HEADER.unpack_from(self.data, off)

    def element(self, off: int) -> int:
        """Check that the 16-byte element at ``off`` lies inside the file."""
        if off + 16 > self.size:
            raise _fault(off, self.size)
        return off

    def branch_element(self, page_off: int, i: int) -> tuple[int, int, int]:
        """(pos, ksize, child pgid) of branch element ``i``; read even past ``count``."""
        e = self.element(page_off + PAGE_HEADER_SIZE + 16 * i)
        return BRANCH_ELEMENT.unpack_from(self.data, e)

    def leaf_element(self, page_off: int, i: int) -> tuple[int, int, int, int]:
        """(flags, pos, ksize, vsize) of leaf element ``i``."""
        e = self.element(page_off + PAGE_HEADER_SIZE + 16 * i)
        return LEAF_ELEMENT.unpack_from(self.data, e)

    def key(self, elem_off: int, pos: int, ksize: int) -> bytes:
        """An element's key, sliced as bbolt slices it (``[pos:pos+ksize]``).

        A key that runs past the end of the file comes back as a
        :class:`_FarKey`: bbolt faults only once something reads that far.
        """
        j = pos + ksize
        if j > _PAGE_MAX_ALLOC:
            raise _runtime(f"slice bounds out of range [::{j}] with length {_PAGE_MAX_ALLOC}")
        a = elem_off + pos
        if ksize and a + ksize > self.size:
            return _far_key(self.data, a, ksize)
        return self.data[a : a + ksize]  # type: ignore[return-value]

    def value(self, elem_off: int, pos: int, ksize: int, vsize: int) -> tuple[int, int]:
        """(offset, length) of a leaf element's value, sliced as bbolt slices it
        (nothing is read yet)."""
        i = pos + ksize
        j = i + vsize
        if j > _PAGE_MAX_ALLOC:
            raise _runtime(f"slice bounds out of range [::{j}] with length {_PAGE_MAX_ALLOC}")
        return elem_off + i, vsize

    def open_bucket(self, voff: int, vlen: int) -> tuple[int, int | None]:
        """bbolt's ``openBucket``: (root, file offset of the inline page or None)."""
        root, page = self.open_bucket_page(voff, vlen)
        return root, None if page is None else voff + 16

    def open_bucket_page(self, voff: int, vlen: int) -> tuple[int, InlinePage | None]:
        """bbolt's ``openBucket``: the root page id, and the inline page if it is 0.

        An unaligned value is copied first (a fresh allocation: what lies
        past the value reads as zeros); an aligned one is read in place.
        """
        size = self.size
        if vlen == 0:
            raise _runtime("index out of range [0] with length 0")
        copied = bool(voff % 8)
        if copied:
            if voff + vlen > size:
                raise _fault(max(voff, size), size)
            head = bytes(self.data[voff : voff + min(vlen, 8)])
        else:
            if voff + 8 > size:
                raise _fault(max(voff, size), size)
            head = bytes(self.data[voff : voff + 8])
        root = int.from_bytes(head.ljust(8, b"\0"), "little")
        if root != 0:
            return root, None
        if vlen <= 16:
            raise _runtime(f"index out of range [16] with length {vlen}")
        return 0, InlinePage(self.data, voff, vlen, copied)

    # -- walks ---------------------------------------------------------------

    def iter_pages(self, root: int) -> Iterator[tuple[int, int, int, int, int, list[int]]]:
        """bbolt's ``tx.forEachPage``: pre-order, children of exact branch pages.

        Yields ``(pgid, offset, flags, count, overflow, stack)``; ``stack`` is
        the live list of page ids from ``root`` (read it before resuming).  A
        page that is its own descendant is yielded once more (bbolt reports
        it again) and then the walk stops with a fatal error.
        """
        data = self.data
        page = self.page
        ids = [root]
        off, flags, count, overflow = page(root)
        self.tick()
        yield root, off, flags, count, overflow, ids
        if flags != BRANCH_PAGE or count == 0:
            return
        on_stack = {root}
        frames = [[off, count, 0]]
        size = self.size
        ps = self.ps
        unpack_header = PAGE_HEADER.unpack_from
        visits = 0
        while frames:
            fr = frames[-1]
            i = fr[2]
            if i >= fr[1]:
                frames.pop()
                on_stack.discard(ids.pop())
                continue
            fr[2] = i + 1
            e = fr[0] + PAGE_HEADER_SIZE + 16 * i
            if e + 16 > size:
                raise _fault(e, size)
            (child,) = U64.unpack_from(data, e + 8)
            ids.append(child)
            off = (child * ps) & _MASK64
            if off + PAGE_HEADER_SIZE > size:
                page(child)  # raises bbolt's panic or a fault
            hid, flags, count, overflow = unpack_header(data, off)
            if hid != child or flags not in _VALID_TYPES:
                page(child)  # raises bbolt's assertion
            visits += 1
            if visits >= 4096:
                self.tick(visits)
                visits = 0
            yield child, off, flags, count, overflow, ids
            if child in on_stack:
                raise _cycle(child, ids)
            if flags == BRANCH_PAGE and count:
                frames.append([off, count, 0])
                on_stack.add(child)
            else:
                ids.pop()
        self.tick(visits)

    def cursor_items(self, root: int) -> Iterator[tuple[bytes, int, int, int]]:
        """Every item of the bucket rooted at page ``root``, as bbolt's cursor sees them.

        Yields ``(key, flags, value offset, value length)`` with the moves of
        ``Cursor.first``/``next`` (anything but a leaf is descended like a
        branch, empty pages are skipped, a branch is entered at its element 0
        even when it has none), until the cursor returns no key.
        """
        stack: list[list[int]] = []  # [pgid, offset, flags, count, index]
        self._push(stack, root)
        self._go_first(stack)
        if stack[-1][3] == 0:
            self._next(stack)
        item = self._item(stack)
        while item is not None:
            yield item
            item = self._next(stack)

    def _push(self, stack: list[list[int]], pgid: int) -> None:
        off, flags, count, _ = self.page(pgid)
        self.tick()
        stack.append([pgid, off, flags, count, 0])

    def _go_first(self, stack: list[list[int]]) -> None:
        """``goToFirstElementOnTheStack``: descend by element 0 down to a leaf.

        A page met again on its own path means the walk never ends: at index 0
        the descent itself loops; at a later index the walk comes back to the
        page after each pass over the pages in between, forever (bbolt's stack
        grows until memory runs out), so it is stopped at once.
        """
        pushed = {ref[0] for ref in stack}
        while stack[-1][2] != LEAF_PAGE:
            ref = stack[-1]
            _, _, child = self.branch_element(ref[1], ref[4])
            if child in pushed:
                raise _cycle(child, [r[0] for r in stack] + [child])
            pushed.add(child)
            self._push(stack, child)

    def _next(self, stack: list[list[int]]) -> tuple[bytes, int, int, int] | None:
        while True:
            i = len(stack) - 1
            while i >= 0:
                ref = stack[i]
                if ref[4] < ref[3] - 1:
                    ref[4] += 1
                    break
                i -= 1
            if i == -1:
                return None
            del stack[i + 1 :]
            self._go_first(stack)
            if stack[-1][3] == 0:
                continue
            return self._item(stack)

    def _item(self, stack: list[list[int]]) -> tuple[bytes, int, int, int] | None:
        """bbolt's ``keyValue``: the item under the cursor, or None past the end."""
        ref = stack[-1]
        if ref[3] == 0 or ref[4] >= ref[3]:
            return None
        e = ref[1] + PAGE_HEADER_SIZE + 16 * ref[4]
        flags, pos, ksize, vsize = self.leaf_element(ref[1], ref[4])
        key = self.key(e, pos, ksize)
        voff, vlen = self.value(e, pos, ksize, vsize)
        return key, flags, voff, vlen

    def seek(self, root: int, key: bytes) -> tuple[bytes, int, int, int] | None:
        """bbolt's ``Cursor.seek`` from page ``root``: the item found, or None."""
        stack: list[list[int]] = []
        seen: set[int] = set()
        pgid = root
        while True:
            if pgid in seen:
                raise _cycle(pgid, [r[0] for r in stack] + [pgid])
            seen.add(pgid)
            off, flags, count, _ = self.page(pgid)
            self.tick()
            if flags != BRANCH_PAGE and flags != LEAF_PAGE:
                raise BboltPanic(f"invalid page type: {pgid}: {flags:x}", pgid=pgid)
            ref = [pgid, off, flags, count, 0]
            stack.append(ref)
            if flags == LEAF_PAGE:
                ref[4] = self._search(off, count, key, leaf=True)[0]
                return self._item(stack)
            index, exact = self._search(off, count, key, leaf=False)
            if not exact and index > 0:
                index -= 1
            ref[4] = index
            if count == 0:
                raise _runtime("index out of range [0] with length 0")
            _, _, pgid = self.branch_element(off, index)

    def _search(self, off: int, count: int, key: bytes, leaf: bool) -> tuple[int, bool]:
        """Go's ``sort.Search`` over the keys of a page (same probes), and whether
        a probed key was equal to ``key``."""
        lo, hi = 0, count
        exact = False
        base = off + PAGE_HEADER_SIZE
        while lo < hi:
            h = (lo + hi) >> 1
            e = base + 16 * h
            if leaf:
                _, pos, ksize, _ = self.leaf_element(off, h)
            else:
                pos, ksize, _ = self.branch_element(off, h)
            c = _cmp(self.key(e, pos, ksize), key)
            if c == 0:
                exact = True
            if c < 0:
                lo = h + 1
            else:
                hi = h
        return lo, exact


def _cycle(pgid: int, ids: list[int]) -> BboltPanic:
    return BboltPanic(
        f"fatal error: stack overflow: page {pgid} is its own descendant "
        f"(stack: {_fmt_stack(ids)})",
        raw=True,
        fatal=True,
        pgid=pgid,
    )


# --- whole-page operations: the fast paths of the walks -----------------------
#
# The walks above follow bbolt element by element, which costs tens of Python
# operations per page.  The fast paths (here for check, in stats and in the
# ``keys`` command) read the children of many branch pages at once with
# C-level ``map``s over precompiled structs, and only accept what is plainly
# intact; they have no effect until they succeed.  Anything else raises
# :class:`_Bail` (or ``struct.error`` for a read past the end of the file),
# and the caller runs the exact walk instead, which reports it as bbolt does.


class _Bail(Exception):
    """A fast path met something it does not handle: the exact walk runs instead."""


_unpack_header = PAGE_HEADER.unpack_from
_unpack_structs = struct.Struct.unpack_from

# count -> the codec of a page's element array, as ``4 * count`` u32.
_ELEMENTS: dict[int, struct.Struct] = {}


def _element_codecs(counts: Iterable[int]) -> Callable[[int], struct.Struct]:
    """A C-level lookup of the element-array codec of each of ``counts``."""
    codecs = _ELEMENTS
    for c in set(counts).difference(codecs):
        codecs[c] = struct.Struct(f"<{4 * c}I")
    return codecs.__getitem__


class _Layout(NamedTuple):
    """A leaf page of ``count`` elements as bbolt writes it when every key has
    ``ksize`` bytes and every value ``vsize``: element i at pos
    ``16*(count-i) + i*(ksize+vsize)``, keys and values packed in order after
    the element array."""

    array: bytes  # the element array (no bucket element)
    keys: struct.Struct  # the keys, read from the end of the element array
    # Read from the page's start: the header's four fields, the element
    # array, then (``page``) the keys.
    page: struct.Struct
    elements: struct.Struct


# (ksize, vsize) -> {count: layout}
_FIXED: dict[tuple[int, int], dict[int, _Layout]] = {}
# A codec of n keys holds n codes of 32 bytes: past this many keys in all
# the cached codecs (fixed layouts and branches), the caches start afresh.
_CACHED_KEYS_LIMIT = 1 << 19
_cached_keys = 0


def _cache_keys(n: int) -> bool:
    """Account for codecs of ``n`` more keys; whether the caches were emptied first."""
    global _cached_keys
    _cached_keys += n
    if _cached_keys <= _CACHED_KEYS_LIMIT:
        return False
    _FIXED.clear()
    _FIXED_BRANCH.clear()
    _cached_keys = n
    return True


def _fixed_layout(ksize: int, vsize: int, counts: Iterable[int]) -> dict[int, _Layout]:
    """The layouts of leaves of ``counts`` elements (each fitting in a page)."""
    wanted = set(counts)
    layouts = _FIXED.get((ksize, vsize), {})
    missing = wanted.difference(layouts)
    if missing:
        if _cache_keys(2 * sum(missing) + 1):
            missing = wanted
        layouts = _FIXED.setdefault((ksize, vsize), {})
    stride = ksize + vsize
    for c in missing:
        fields: list[int] = []
        for i in range(c):
            fields += (0, 16 * (c - i) + i * stride, ksize, vsize)
        keys = f"{ksize}s{vsize}x" * c
        array = f"<QHHI{16 * c}s"
        layouts[c] = _Layout(
            struct.pack(f"<{4 * c}I", *fields),
            struct.Struct("<" + keys),
            struct.Struct(array + keys),
            struct.Struct(array),
        )
    return layouts


class _Above:
    """Above every key: the upper bound of the keys on the right edge of a tree."""

    __slots__ = ()

    def __gt__(self, other: object) -> bool:
        return True


_ABOVE = _Above()


def _batch_pages(ps: int) -> int:
    """How many pages (about 4 MiB) the fast paths read at once."""
    return max(16, (1 << 22) // max(ps, 1))


# (ksize, count) -> (positions, key sizes, codec of the keys) of a branch page
# as bbolt writes keys of one size: element i at pos 16*(count-i) + i*ksize.
_FIXED_BRANCH: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...], struct.Struct]] = {}


def _page_headers(
    data: Data, ps: int, ids: Sequence[int]
) -> tuple[list[int], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(offsets, flags, counts, overflows) of pages ``ids``, each below the
    file's page count; raises :class:`_Bail` unless every page names itself."""
    offs = list(map(mul, ids, repeat(ps)))
    hid, flags, counts, overflows = zip(*map(_unpack_header, repeat(data), offs))
    if hid != tuple(ids):
        raise _Bail
    return offs, flags, counts, overflows


def _branch_keys(
    data: Data, size: int, ps: int, off: int, count: int
) -> tuple[list[bytes], tuple[int, ...]]:
    """All keys and child ids of the branch page at ``off`` (``count`` > 0)."""
    base = off + PAGE_HEADER_SIZE
    end = base + 16 * count
    if end > size or count > (ps - PAGE_HEADER_SIZE) // 16:
        raise _Bail  # past the file, or more children than bbolt puts on a page
    fields = _element_codecs((count,))(count).unpack_from(data, base)
    if any(fields[3::4]):
        raise _Bail  # a child id of 2**32 or more: beyond any file the fast path reads
    ksize = fields[1]
    layout = _FIXED_BRANCH.get((ksize, count))
    if layout is None and fields[0] == 16 * count and count * (16 + ksize) <= ps - 16:
        _cache_keys(count)
        layout = _FIXED_BRANCH[(ksize, count)] = (
            tuple(16 * (count - i) + i * ksize for i in range(count)),
            (ksize,) * count,
            struct.Struct("<" + f"{ksize}s" * count),
        )
    if layout is not None and fields[0::4] == layout[0] and fields[1::4] == layout[1]:
        # Keys of one size packed in order after the elements, as bbolt writes them.
        return list(layout[2].unpack_from(data, end)), fields[2::4]
    starts = list(map(add, range(base, end, 16), fields[0::4]))
    ends = list(map(add, starts, fields[1::4]))
    top = max(ends)
    if top > size or top - base > _PAGE_MAX_ALLOC:
        raise _Bail
    getitem = cast("Callable[[slice], bytes]", data.__getitem__)
    return list(map(getitem, map(slice, starts, ends))), fields[2::4]


def _uniform_leaves(
    data: Data, ps: int, ids: list[int], keys: bool
) -> tuple[list[bytes], int, int, int] | None:
    """Pages ``ids`` (each below the file's page count) read at once as leaves of
    one count with bbolt's layout of fixed-size keys and values, as guessed from
    the first page: (all their keys in order, or [] unless ``keys``; the count;
    the key size; the value size).  None when any page is not such a leaf."""
    off = ids[0] * ps
    _, flags, count, overflow = _unpack_header(data, off)
    if flags != LEAF_PAGE or not count or overflow:
        return None
    _, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(data, off + PAGE_HEADER_SIZE)
    if pos != 16 * count or count * (16 + ksize + vsize) > ps - PAGE_HEADER_SIZE:
        return None
    layout = _fixed_layout(ksize, vsize, (count,))[count]
    if layout.elements.unpack_from(data, off)[4] != layout.array:
        return None  # not even the first page
    codec = layout.page if keys else layout.elements
    pages = map(codec.unpack_from, repeat(data), map(mul, ids, repeat(ps)))
    items = list(itertools.chain.from_iterable(pages))
    n = len(ids)
    step = len(items) // n  # each page: id, flags, count, overflow, elements, keys
    if (
        items[0::step] != ids
        or items[1::step].count(LEAF_PAGE) != n
        or items[2::step].count(count) != n
        or items[3::step].count(0) != n
        or items[4::step].count(layout.array) != n
    ):
        return None
    if not keys:
        return [], count, ksize, vsize
    for k in range(5):
        del items[:: step - k]
    return items, count, ksize, vsize


def _leaf_keys(
    data: Data,
    size: int,
    ps: int,
    offs: list[int],
    counts: Sequence[int],
    entries: list[tuple[int, int]] | None,
) -> tuple[list[bytes], list[bytes], list[bytes], int]:
    """The keys of the leaves at ``offs`` (each with ``counts[i]`` > 0 elements):
    all of them in order, the first and the last of each leaf, and their
    common size (-1 when not known to be the same).

    Every key and value must lie inside the file.  The (value offset,
    length) of the bucket elements are appended to ``entries``.
    """
    if max(counts) > (ps - PAGE_HEADER_SIZE) // 16:
        raise _Bail  # more elements than bbolt puts on a page
    bases = list(map(add, offs, repeat(PAGE_HEADER_SIZE)))
    ends = list(map(add, bases, map(mul, counts, repeat(16))))
    getitem = cast("Callable[[slice], bytes]", data.__getitem__)
    _, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(data, bases[0])
    if pos == 16 * counts[0] and max(counts) * (16 + ksize + vsize) <= ps - PAGE_HEADER_SIZE:
        # Laid out as bbolt writes fixed-size keys and values (and no bucket
        # element)?  Then one codec call cuts out a leaf's keys.
        layouts = list(map(_fixed_layout(ksize, vsize, counts).__getitem__, counts))
        if getitem(slice(bases[0], ends[0])) == layouts[0].array and list(
            map(getitem, map(slice, bases, ends))
        ) == list(map(itemgetter(0), layouts)):
            codecs = map(itemgetter(1), layouts)
            per_leaf = list(map(_unpack_structs, codecs, repeat(data), ends))
            keys = list(itertools.chain.from_iterable(per_leaf))
            firsts = list(map(itemgetter(0), per_leaf))
            return keys, firsts, list(map(itemgetter(-1), per_leaf)), ksize
    codec = map(_element_codecs(counts), counts)
    arrays = map(_unpack_structs, codec, repeat(data), bases)
    fields = list(itertools.chain.from_iterable(arrays))
    elements = itertools.chain.from_iterable(map(range, bases, ends, repeat(16)))
    starts = list(map(add, elements, fields[1::4]))
    kends = list(map(add, starts, fields[2::4]))
    vsizes = fields[3::4]
    # bbolt slices a key or value up to its end, counted from its element.
    first = min(bases)
    top = max(kends) + max(vsizes)
    if top > size or top - first > _PAGE_MAX_ALLOC:
        top = max(map(add, kends, vsizes))
        if top > size or top - first > _PAGE_MAX_ALLOC:
            raise _Bail
    keys = list(map(getitem, map(slice, starts, kends)))
    last = list(itertools.accumulate(counts))
    firsts = list(map(keys.__getitem__, map(sub, last, counts)))
    lasts = list(map(keys.__getitem__, map(sub, last, repeat(1))))
    if entries is not None:
        flags = fields[0::4]
        if max(flags) and any(map(and_, flags, repeat(BUCKET_LEAF_FLAG))):
            bucket = map(and_, flags, repeat(BUCKET_LEAF_FLAG))
            for i in itertools.compress(range(len(flags)), bucket):
                entries.append((kends[i], vsizes[i]))
    return keys, firsts, lasts, -1


# --- the check ----------------------------------------------------------------


class _BucketInfo:
    """What the key-order walk learnt about a bucket's tree.

    ``clean`` means the tree is an intact B+tree as far as bbolt's cursor is
    concerned (keys strictly ordered within their ancestors' bounds, no empty
    page below the root, every item readable); then the bucket items bbolt's
    ``ForEachBucket`` + ``Bucket(k)`` visit are exactly ``entries``.
    """

    __slots__ = ("clean", "entries")

    def __init__(self) -> None:
        self.clean = True
        self.entries: list[tuple[int, int]] = []  # (value offset, value length)


class _Frame:
    """A branch page whose children the key-order walk is visiting.

    ``keys`` and ``children`` hold all its elements when they could be read
    up front (every key inside the file); otherwise elements are read one by
    one, as bbolt reads them.
    """

    __slots__ = ("children", "count", "index", "keys", "max", "off", "running")

    def __init__(self, off: int, count: int, mx: bytes | None, mn: bytes | None) -> None:
        self.off = off
        self.count = count
        self.index = 0
        self.max = mx
        self.running = mn
        self.keys: list[bytes] | None = None
        self.children: tuple[int, ...] = ()


class _Reachable:
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
        if self.extra_n > _MAX_EXTRA_IDS:
            raise BboltPanic(
                "fatal error: runtime: out of memory (page overflow counts mark more than "
                f"{_MAX_EXTRA_IDS} pages beyond the end of the file reachable)",
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


class _Freed:
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


class _Checker:
    def __init__(self, tx: Tx, kv: KVStringer) -> None:
        self.tx = tx
        self.kv = kv
        self.r = PageReader(tx._data, tx.page_size, tx._note_reads)
        self.hwm = tx.meta.pgid
        npages = self.r.npages
        nbits = min(max(self.hwm, npages) + 1, npages + _MAX_BITMAP_SLACK)
        self.reach = _Reachable(nbits)
        self.freed = _Freed(nbits)
        # Pages the fast path reads: inside the file and at most the high-water mark.
        self.intact_limit = max(0, min(npages, self.hwm + 1))

    # -- bbolt's check -----------------------------------------------------

    def run(self, page_id: int) -> Iterator[CheckError]:
        try:
            yield from self._run(page_id)
        except BboltPanic as p:
            yield p.as_check_error()

    def _run(self, page_id: int) -> Iterator[CheckError]:
        meta = self.tx.meta
        ids = self._load_freelist()
        freed = self.freed
        for pid in ids:
            if freed.add(pid):
                yield CheckError(f"page {pid}: already freed", ALREADY_FREED, pgid=pid)

        r = self.r
        reach = self.reach
        r.page(0)
        r.page(1)
        reach.bits[0:2] = b"\x01\x01"
        if meta.freelist != PGID_NO_FREELIST:
            _, _, _, overflow = r.page(meta.freelist)
            for _ in reach.mark(meta.freelist, meta.freelist + overflow + 1):
                pass

        if page_id == 0:
            yield from self._check_bucket_tree(meta.root)
            yield from self._leaks()
            return
        if page_id < 2 or page_id >= self.hwm:
            yield CheckError(
                f"page ID ({page_id}) out of range [2, {self.hwm})",
                PAGE_ID_OUT_OF_RANGE,
                pgid=page_id,
            )
            return
        yield from self._invariants(page_id, None)
        yield from self._buckets_in_page(page_id)

    def _load_freelist(self) -> list[int]:
        """The free ids, loaded as ``db.loadFreelist`` does (may panic like bbolt)."""
        tx = self.tx
        fl = tx.meta.freelist
        if fl == PGID_NO_FREELIST:
            try:
                return tx.free_ids()
            except BboltPanic as p:
                # The walk panicked in bbolt's helper goroutine: not recovered.
                raise BboltPanic(str(p), raw=p.raw, fatal=True, pgid=p.pgid) from None
            except CorruptionError as e:
                raise BboltPanic(str(e)) from None
        r = self.r
        off = r.offset(fl)
        pid, flags, _, _ = PAGE_HEADER.unpack_from(r.data, off)
        if flags != FREELIST_PAGE:
            raise BboltPanic(
                f"invalid freelist page: {pid}, page type is {page_type_name(flags)}", pgid=fl
            )
        _, _, count, _ = PAGE_HEADER.unpack_from(r.data, off)
        if count == FREELIST_COUNT_OVERFLOW and off + 24 <= r.size:
            (n,) = U64.unpack_from(r.data, off + PAGE_HEADER_SIZE)
            if n >= 1 << 63:
                raise BboltPanic(f"leading element count {n} overflows int", pgid=fl)
        from .freelist import read_ids

        try:
            return read_ids(r.data, fl, r.ps)
        except CorruptionError:
            raise _fault(r.size, r.size, fl) from None

    def _check_bucket_tree(self, root: int) -> Iterator[CheckError]:
        """``recursivelyCheckBucket``: a bucket's pages, key order, then its sub-buckets."""
        if root == 0:
            return
        info = _BucketInfo()
        yield from self._invariants(root, info)
        stack = [(root, self._sub_buckets(root, info))]
        active = {root}
        while stack:
            parent, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                active.discard(parent)
                continue
            if child in active:
                yield from self._invariants(child, None)
                raise _cycle(child, [s[0] for s in stack] + [child])
            info = _BucketInfo()
            yield from self._invariants(child, info)
            stack.append((child, self._sub_buckets(child, info)))
            active.add(child)

    def _sub_buckets(self, root: int, info: _BucketInfo) -> Iterator[int]:
        """Root page ids of the non-inline sub-buckets, as ``ForEachBucket`` opens them."""
        r = self.r
        if info.clean:
            for voff, vlen in info.entries:
                child, _ = r.open_bucket(voff, vlen)
                if child:
                    yield child
            return
        for key, flags, _, _ in r.cursor_items(root):
            if not flags & BUCKET_LEAF_FLAG:
                continue
            found = r.seek(root, key)
            if found is None or not keys_equal(key, found[0]) or not found[1] & BUCKET_LEAF_FLAG:
                continue
            child, _ = r.open_bucket(found[2], found[3])
            if child:
                yield child

    def _buckets_in_page(self, page_id: int) -> Iterator[CheckError]:
        """``recursivelyCheckBucketInPage``: the buckets found under one page."""
        r = self.r
        off, flags, count, _ = r.page(page_id)
        frames: list[list[int]] = []  # [offset, count, next index]
        on_stack: list[int] = []
        pid = page_id
        while True:
            if flags == BRANCH_PAGE:
                if count:
                    frames.append([off, count, 0])
                    on_stack.append(pid)
            elif flags == LEAF_PAGE:
                for i in range(count):
                    e = off + PAGE_HEADER_SIZE + 16 * i
                    eflags, pos, ksize, _ = r.leaf_element(off, i)
                    if not eflags & BUCKET_LEAF_FLAG:
                        continue
                    key = r.key(e, pos, ksize)
                    found = r.seek(pid, key)
                    if (
                        found is None
                        or not keys_equal(key, found[0])
                        or not found[1] & BUCKET_LEAF_FLAG
                    ):
                        continue
                    child, _ = r.open_bucket(found[2], found[3])
                    yield from self._check_bucket_tree(child)
            else:
                yield CheckError(
                    f"unexpected page type (flags: {flags:x}) for pgId:{pid}",
                    UNEXPECTED_PAGE_TYPE,
                    pgid=pid,
                )
            # next child of the innermost unfinished branch
            while frames and frames[-1][2] >= frames[-1][1]:
                frames.pop()
                on_stack.pop()
            if not frames:
                return
            fr = frames[-1]
            _, _, pid = r.branch_element(fr[0], fr[2])
            fr[2] += 1
            if pid in on_stack:
                raise _cycle(pid, [*on_stack, pid])
            off, flags, count, _ = r.page(pid)
            r.tick()

    def _invariants(self, root: int, info: _BucketInfo | None) -> Iterator[CheckError]:
        """``checkInvariantProperties``: reachability of every page, then key order."""
        if self._intact_tree(root, info):
            return
        yield from self._walk_pages(root)
        yield from self._key_order(root, info)

    # -- the fast path: an intact tree, a level of pages at a time ----------

    def _intact_tree(self, root: int, info: _BucketInfo | None) -> bool:
        """``_invariants`` of a tree with nothing to report, with whole-page operations.

        When every page of the tree from ``root`` is a branch or leaf page
        inside the file, below the high-water mark, neither free nor
        referenced before, with its keys in order within its ancestors'
        bounds (and no empty page below the root), marks the pages reachable,
        collects ``info``'s bucket entries and returns True: the exact walks
        would report nothing and do the same.  Otherwise it undoes what it
        did and returns False.
        """
        marked: list[Sequence[int]] = []
        try:
            visits = self._intact_walk(root, info, marked)
        except (_Bail, struct.error):
            bits = self.reach.bits
            for ids in marked:
                for pid in ids:
                    bits[pid] = 0
            if info is not None:
                info.entries.clear()
            return False
        # The exact walks visit each page twice (reachability, key order);
        # the pages were noted as read batch by batch.
        self.r.tick(2 * visits, read=False)
        return True

    def _intact_walk(
        self, root: int, info: _BucketInfo | None, marked: list[Sequence[int]]
    ) -> int:
        """The work of :meth:`_intact_tree`; returns the number of pages, or raises _Bail."""
        r = self.r
        data = r.data
        size = r.size
        ps = r.ps
        entries = info.entries if info is not None else None
        mark = self._mark_intact
        limit = self.intact_limit
        if root >= limit:
            raise _Bail
        offs, flags, counts, overflows = _page_headers(data, ps, (root,))
        mark((root,), marked, overflows)
        if flags[0] == LEAF_PAGE:
            if counts[0]:
                keys = _leaf_keys(data, size, ps, offs, counts, entries)[0]
                if not all(map(lt, keys, itertools.islice(keys, 1, None))):
                    raise _Bail
            return 1
        if flags[0] != BRANCH_PAGE:
            raise _Bail
        visits = 1
        batch = _batch_pages(ps)
        # Branch pages to visit, in key order from the end: (offset, count,
        # depth, min key, max key).
        stack: list[tuple[int, int, int, bytes | None, bytes | _Above]] = [
            (offs[0], counts[0], 0, None, _ABOVE)
        ]
        while stack:
            # The children of the next branches of one depth, in key order,
            # with the bounds of their keys.
            depth = stack[-1][2]
            children: list[int] = []
            lows: list[bytes] = []
            highs: list[bytes | _Above] = []
            while (
                stack
                and stack[-1][2] == depth
                and (not children or len(children) + stack[-1][1] <= batch)
            ):
                off, count, _, mn, mx = stack.pop()
                if not count:
                    raise _Bail
                bkeys, ids = _branch_keys(data, size, ps, off, count)
                if mn is not None and mn > bkeys[0]:
                    raise _Bail
                children += ids
                lows += bkeys
                highs += itertools.islice(bkeys, 1, None)
                highs.append(mx)
            if max(children) >= limit:
                raise _Bail
            visits += len(children)
            below: list[tuple[int, int, int, bytes | None, bytes | _Above]] = []
            # At most a batch of pages at a time (one branch may have more).
            for at in range(0, len(children), batch):
                part = children[at : at + batch] if len(children) > batch else children
                n = len(part)
                r.note_reads(n)
                uniform = _uniform_leaves(data, ps, part, True)
                if uniform is not None:
                    mark(part, marked, None)
                    keys, count, _, _ = uniform
                    firsts, lasts = keys[::count], keys[count - 1 :: count]
                else:
                    offs, flags, counts, overflows = _page_headers(data, ps, part)
                    mark(part, marked, overflows)
                    if flags.count(BRANCH_PAGE) == n:
                        below += zip(offs, counts, repeat(depth + 1), lows[at:], highs[at:])
                        continue
                    if flags.count(LEAF_PAGE) != n or 0 in counts:
                        raise _Bail
                    keys, firsts, lasts, _ = _leaf_keys(data, size, ps, offs, counts, entries)
                if below:
                    raise _Bail  # leaves and branches side by side
                # Each leaf's keys lie in [its key in the branch, the next key
                # or the branch's own bound): then every ordering bbolt
                # verifies, branch keys included, holds.
                if (
                    not all(map(lt, keys, itertools.islice(keys, 1, None)))
                    or not all(map(le, itertools.islice(lows, at, at + n), firsts))
                    or not all(map(lt, lasts, itertools.islice(highs, at, at + n)))
                ):
                    raise _Bail
            if below:
                if len(below) != len(children):
                    raise _Bail  # leaves and branches side by side
                stack += reversed(below)
        return visits

    def _mark_intact(
        self, ids: Sequence[int], marked: list[Sequence[int]], overflows: Sequence[int] | None
    ) -> None:
        """Mark pages ``ids`` (below the file's page count and the high-water
        mark) and their ``overflows`` reachable if nothing is to be said about
        them.  ``marked`` records what to undo."""
        bits = self.reach.bits
        n = len(ids)
        if (
            any(map(bits.__getitem__, ids))
            or any(map(self.freed.bits.__getitem__, ids))
            or (n > 1 and len(set(ids)) != n)
        ):
            raise _Bail
        deque(map(bits.__setitem__, ids, repeat(1)), maxlen=0)
        marked.append(ids)
        if overflows is not None and any(overflows):
            nbits = self.reach.nbits
            for pid, overflow in zip(ids, overflows):
                if overflow:
                    end = pid + overflow + 1
                    if end > nbits or bits.find(1, pid + 1, end) != -1:
                        raise _Bail
                    bits[pid + 1 : end] = b"\x01" * overflow
                    marked.append(range(pid + 1, end))

    def _walk_pages(self, root: int) -> Iterator[CheckError]:
        hwm = self.hwm
        freed = self.freed
        reach = self.reach
        seen = reach.bits
        nbits = reach.nbits
        for pid, _, flags, _, overflow, ids in self.r.iter_pages(root):
            if pid > hwm:
                yield CheckError(
                    f"page {pid}: out of bounds: {_go_int(hwm)} (stack: {_fmt_stack(ids)})",
                    OUT_OF_BOUNDS,
                    pgid=pid,
                    stack=tuple(ids),
                )
            if overflow == 0 and pid < nbits:
                if seen[pid]:
                    yield self._multiple(pid, ids)
                seen[pid] = 1
            else:
                for p in reach.mark(pid, pid + overflow + 1):
                    self.r.tick()
                    yield self._multiple(p, ids)
            if pid in freed:
                yield CheckError(f"page {pid}: reachable freed", REACHABLE_FREED, pgid=pid)
            elif flags != BRANCH_PAGE and flags != LEAF_PAGE:
                yield CheckError(
                    f"page {pid}: invalid type: {page_type_name(flags)} "
                    f"(stack: {_fmt_stack(ids)})",
                    INVALID_TYPE,
                    pgid=pid,
                    stack=tuple(ids),
                )

    @staticmethod
    def _multiple(pid: int, ids: list[int]) -> CheckError:
        return CheckError(
            f"page {pid}: multiple references (stack: {_fmt_stack(ids)})",
            MULTIPLE_REFERENCES,
            pgid=pid,
            stack=tuple(ids),
        )

    def _key_order(self, root: int, info: _BucketInfo | None) -> Iterator[CheckError]:
        """``recursivelyCheckPageKeyOrder`` from ``root``, iteratively.

        A branch frame is ``[offset, count, next index, max key, running
        min]``; the running min of a branch becomes the largest key of the
        child subtree just finished (None for an empty subtree), and a
        branch's own result is its running min once all children are done.
        """
        r = self.r
        data = r.data
        size = r.size
        ps = r.ps
        key_of = r.key
        unpack_header = PAGE_HEADER.unpack_from
        ids: list[int] = []
        frames: list[_Frame] = []
        on_stack: set[int] = set()
        visits = 0
        pgid, mn, mx = root, None, None
        while True:
            # Enter page `pgid` with the bounds (mn, mx).
            if pgid in on_stack:
                raise _cycle(pgid, [*ids, pgid])
            off = (pgid * ps) & _MASK64
            if off + PAGE_HEADER_SIZE > size:
                r.page(pgid)  # raises bbolt's panic or a fault
            hid, flags, count, _ = unpack_header(data, off)
            if hid != pgid or flags not in _VALID_TYPES:
                r.page(pgid)  # raises bbolt's assertion
            visits += 1
            if visits >= 4096:
                r.tick(visits)
                visits = 0
            ids.append(pgid)
            if count == 0 and info is not None and (flags == BRANCH_PAGE or pgid != root):
                info.clean = False
            if flags == BRANCH_PAGE and count:
                fr = _Frame(off, count, mx, mn)
                self._branch_elements(fr)
                frames.append(fr)
                on_stack.add(pgid)
            else:
                ret: bytes | None = None
                if flags == LEAF_PAGE:
                    base = off + PAGE_HEADER_SIZE
                    done = False
                    if count and base + 16 * count <= size:
                        done, ret = self._intact_leaf(base, count, mn, mx, info)
                    if not done:
                        ret = yield from self._leaf_order(pgid, off, count, mn, mx, ids, info)
                elif flags != BRANCH_PAGE:
                    if info is not None:
                        info.clean = False
                    yield CheckError(
                        f"unexpected page type (flags: {flags:x}) for pgId:{pgid}",
                        UNEXPECTED_PAGE_TYPE,
                        pgid=pgid,
                    )
                ids.pop()
                if not frames:
                    r.tick(visits)
                    return
                frames[-1].running = ret
            # Advance the innermost unfinished branch: verify its next element
            # and descend into that element's child.
            while True:
                fr = frames[-1]
                i = fr.index
                if i < fr.count:
                    break
                frames.pop()
                on_stack.discard(ids.pop())
                if not frames:
                    r.tick(visits)
                    return
                frames[-1].running = fr.running
            keys = fr.keys
            if keys is not None:
                key = keys[i]
                child = fr.children[i]
            else:
                e = fr.off + PAGE_HEADER_SIZE + 16 * i
                if e + 16 > size:
                    raise _fault(e, size)
                pos, ksize, child = BRANCH_ELEMENT.unpack_from(data, e)
                key = key_of(e, pos, ksize)
            prev = fr.running
            bound = fr.max
            if _FarKey in (key.__class__, prev.__class__, bound.__class__) or (
                ((bool(i) and not key) if prev is None else (prev >= key if i else prev > key))
                or (bound is not None and key >= bound)
            ):
                if info is not None:
                    info.clean = False
                yield from self._key_errors(child, "branch", i, key, prev, bound, ids)
            if i < fr.count - 1:
                if keys is not None:
                    mx = keys[i + 1]
                else:
                    e2 = fr.off + PAGE_HEADER_SIZE + 16 * (i + 1)
                    if e2 + 16 > size:
                        raise _fault(e2, size)
                    pos2, ksize2, _ = BRANCH_ELEMENT.unpack_from(data, e2)
                    mx = key_of(e2, pos2, ksize2)
            else:
                mx = bound
            fr.index = i + 1
            pgid, mn = child, key

    def _branch_elements(self, fr: _Frame) -> None:
        """Read all keys and children of a branch page at once, if nothing can fail."""
        r = self.r
        data = r.data
        count = fr.count
        base = fr.off + PAGE_HEADER_SIZE
        if base + 16 * count > r.size:
            return
        fields = struct.unpack_from("<" + "IIQ" * count, data, base)
        pos = fields[0::3]
        ksize = fields[1::3]
        starts = list(map(add, range(base, base + 16 * count, 16), pos))
        ends = list(map(add, starts, ksize))
        if max(ends) > r.size or max(map(add, pos, ksize)) > _PAGE_MAX_ALLOC:
            return
        getitem = cast("Callable[[slice], bytes]", data.__getitem__)
        fr.keys = list(map(getitem, map(slice, starts, ends)))
        fr.children = fields[2::3]

    def _leaf_order(
        self,
        pgid: int,
        off: int,
        count: int,
        mn: bytes | None,
        mx: bytes | None,
        ids: list[int],
        info: _BucketInfo | None,
    ) -> Generator[CheckError, None, bytes | None]:
        """The leaf case of the key-order walk; returns the page's last key."""
        r = self.r
        data = r.data
        size = r.size
        base = off + PAGE_HEADER_SIZE
        avail = count
        if base + 16 * count > size:
            avail = max(0, (size - base) // 16)
        last: bytes | None = None
        entries = info.entries if info is not None else None
        elems = LEAF_ELEMENT.iter_unpack(data[base : base + 16 * avail])
        for i, (flags, pos, ksize, vsize) in enumerate(elems):
            e = base + 16 * i
            j = pos + ksize
            a = e + pos
            if j > _PAGE_MAX_ALLOC or (ksize and a + ksize > size):
                key = r.key(e, pos, ksize)  # bbolt's panic, or a far key
            else:
                key = data[a : a + ksize]  # type: ignore[assignment]
            prev = mn if last is None else last
            if _FarKey in (key.__class__, prev.__class__, mx.__class__) or (
                (prev is not None and (prev >= key if i else prev > key))
                or (mx is not None and key >= mx)
            ):
                if info is not None:
                    info.clean = False
                yield from self._key_errors(pgid, "leaf", i, key, prev, mx, ids)
            if entries is not None:
                if j + vsize > _PAGE_MAX_ALLOC:
                    info.clean = False  # type: ignore[union-attr]
                elif flags & BUCKET_LEAF_FLAG:
                    entries.append((a + ksize, vsize))
            last = key
        if avail < count:
            raise _fault(base + 16 * avail, size)
        return last

    def _intact_leaf(
        self, base: int, count: int, mn: bytes | None, mx: bytes | None, info: _BucketInfo | None
    ) -> tuple[bool, bytes | None]:
        """A leaf with nothing to report, checked with whole-page operations.

        Returns ``(True, last key)`` when every key and value is readable and
        the keys are strictly increasing within ``[mn, mx)``; ``(False,
        None)`` otherwise, and the caller walks the elements one by one.
        """
        if _FarKey in (mn.__class__, mx.__class__):
            return False, None
        r = self.r
        data = r.data
        fields = struct.unpack_from(f"<{4 * count}I", data, base)
        pos = fields[1::4]
        vsize = fields[3::4]
        starts = list(map(add, range(base, base + 16 * count, 16), pos))
        ends = list(map(add, starts, fields[2::4]))
        # Every key and value ends by `reach`, and is sliced by bbolt up to at
        # most `reach - base` bytes past its element: both within limits
        # means no read can fail.
        reach = max(ends) + max(vsize)
        if reach > r.size or reach - base > _PAGE_MAX_ALLOC:
            return False, None
        getitem = cast("Callable[[slice], bytes]", data.__getitem__)
        keys = list(map(getitem, map(slice, starts, ends)))
        last = keys[-1]
        if (mn is not None and mn > keys[0]) or (mx is not None and last >= mx):
            return False, None
        if count > 1 and not all(map(lt, keys, itertools.islice(keys, 1, None))):
            return False, None
        if info is not None:
            flags = fields[0::4]
            if max(flags) and any(map(and_, flags, itertools.repeat(BUCKET_LEAF_FLAG))):
                info.entries.extend(
                    (ends[i], vsize[i]) for i in range(count) if flags[i] & BUCKET_LEAF_FLAG
                )
        return True, last

    def _key_errors(
        self,
        pgid: int,
        typ: str,
        i: int,
        key: bytes,
        prev: bytes | None,
        mx: bytes | None,
        ids: list[int],
    ) -> Generator[CheckError, None, bool]:
        """bbolt's ``verifyKeyOrder``: every message that applies, in bbolt's order.

        Returns whether there was any.  Comparisons and messages read the
        keys as bbolt does, so a key running past the end of the file faults
        where bbolt's would.
        """
        fmt = self._fmt
        kv = fmt
        stack = _fmt_stack(ids)
        st = tuple(ids)
        said = False
        if i == 0 and prev is not None and _cmp(prev, key) > 0:
            said = True
            yield CheckError(
                f"the first key[{i}]=(hex){kv(key)} on {typ} page({pgid}) needs to be >= the "
                f"key in the ancestor ({kv(prev)}). Stack: {stack}",
                KEY_ORDER,
                pgid=pgid,
                stack=st,
                key=key,
            )
        if i > 0:
            p = prev if prev is not None else b""
            c = _cmp(p, key)
            if c > 0:
                said = True
                yield CheckError(
                    f"key[{i}]=(hex){kv(key)} on {typ} page({pgid}) needs to be > (found <) "
                    f"than previous element (hex){kv(p)}. Stack: {stack}",
                    KEY_ORDER,
                    pgid=pgid,
                    stack=st,
                    key=key,
                )
            elif c == 0:
                said = True
                yield CheckError(
                    f"key[{i}]=(hex){kv(key)} on {typ} page({pgid}) needs to be > (found =) "
                    f"than previous element (hex){kv(p)}. Stack: {stack}",
                    KEY_ORDER,
                    pgid=pgid,
                    stack=st,
                    key=key,
                )
        if mx is not None and _cmp(key, mx) >= 0:
            said = True
            shown = prev if prev is not None else b""
            yield CheckError(
                f"key[{i}]=(hex){kv(key)} on {typ} page({pgid}) needs to be < than key of the "
                f"next element in ancestor (hex){kv(shown)}. Pages stack: {stack}",
                KEY_ORDER,
                pgid=pgid,
                stack=st,
                key=key,
            )
        return said

    def _fmt(self, key: bytes) -> str:
        """The key formatter; it reads the whole key (a far key faults)."""
        if isinstance(key, _FarKey):
            raise _fault(key.at + len(key), key.end)
        return self.kv(key)

    def _leaks(self) -> Iterator[CheckError]:
        """Every id below the high-water mark neither reachable nor free."""
        hwm = self.hwm
        reach = self.reach
        nbits = reach.nbits
        # Both bitmaps hold 0 or 1 per page: OR them as two big integers.
        either = int.from_bytes(reach.bits, "little") | int.from_bytes(self.freed.bits, "little")
        mark = either.to_bytes(nbits, "little")
        limit = min(hwm, nbits)
        i = mark.find(0, 0, limit)
        while i != -1:
            yield CheckError(f"page {i}: unreachable unfreed", UNREACHABLE_UNFREED, pgid=i)
            i = mark.find(0, i + 1, limit)
        if hwm <= nbits:
            return
        r = self.r
        for pid in range(nbits, hwm):
            if pid not in reach and pid not in self.freed:
                r.tick()
                yield CheckError(f"page {pid}: unreachable unfreed", UNREACHABLE_UNFREED, pgid=pid)


# --- public entry points ------------------------------------------------------


def check(tx: Tx, page_id: int = 0, kv_stringer: KVStringer | None = None) -> Iterator[CheckError]:
    """bbolt's ``Tx.Check``: yields every problem found, in bbolt's order.

    ``page_id`` 0 checks the whole database; another id checks the subtree
    of that page and the buckets below it (bbolt's ``WithPageId``).
    ``kv_stringer`` formats keys in messages (default: lowercase hex).  The
    iterator always ends normally; damage bbolt panics on is reported as a
    last error of kind ``PANIC`` or ``FATAL``.
    """
    if tx.closed:
        raise TxClosed()
    return _Checker(tx, kv_stringer or _hex).run(page_id)


def reachable_pages(tx: Tx) -> tuple[set[int], str | None]:
    """The pages in use (bbolt's ``freepages`` walk), and the first problem met.

    Returns the set of reachable page ids (the meta pages, and every page
    and overflow page of every non-inline bucket, from the root bucket down;
    of ids beyond the end of the file only those below the high-water mark)
    and the message of the first problem the walk reports (keys in lowercase
    hex), or None.  The walk stops at the first problem, as bbolt's does.
    Damage bbolt panics on while walking raises :class:`BboltPanic`.
    """
    c = _Checker(tx, _hex)
    problem: str | None = None
    for err in c._check_bucket_tree(tx.meta.root):
        problem = str(err)
        break
    seen = c.reach.as_set(max(tx.meta.pgid, c.reach.nbits))
    seen.update((0, 1))
    return seen, problem
