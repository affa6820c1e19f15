"""Reading pages out of a buffer (the mmap of a file, or an inline bucket):
bbolt's ``internal/common/page.go``.

Every read is bounds-checked against the buffer: a count, offset or page id
that points outside it raises :class:`~pybbolt.errors.CorruptionError`
instead of an IndexError or a read of garbage.  The assertion messages are
bbolt's own, so ``check`` can report them as bbolt's recovered panics.

Two readers share these rules.  The normal read path (headers, element
arrays, freelist ids) raises :class:`~pybbolt.errors.CorruptionError`;
:class:`PageReader` reads pages exactly where and as far as bbolt reads them
(elements past a page's count, keys running past the end of the file) and
raises :class:`~pybbolt.errors.BboltPanic` with the panic or fault bbolt
would meet: the check, stats and inspect walks replay damaged pages with it.
Decoding a page into a node is :mod:`pybbolt.node`'s; the whole-page fast
paths are :mod:`pybbolt.fastpath`'s.
"""

from __future__ import annotations

import mmap
import struct

from .errors import (
    BboltPanic,
    CorruptionError,
    go_fault,
    go_runtime_error,
    go_stack_overflow,
)
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    LEAF_ELEMENT,
    LEAF_PAGE,
    MAX_ALLOC_SIZE,
    MAX_MAP_SIZE,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    U64,
    page_type_name,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Anything pages are read from: the file mapping, or an inline bucket value.
Data = bytes | bytearray | memoryview | mmap.mmap

VALID_TYPES = frozenset((BRANCH_PAGE, LEAF_PAGE, META_PAGE, FREELIST_PAGE))


class PageHeader:
    """The 16-byte header every page starts with (read-only by convention).

    A plain ``__slots__`` class rather than a frozen dataclass: no import of
    ``dataclasses`` at start-up, and a cheaper ``__init__`` (one is built per
    page read).  ``==``, ``hash`` and ``repr`` are as the dataclass gave them.
    """

    __slots__ = ("id", "flags", "count", "overflow")  # noqa: RUF023 (in field order)

    def __init__(self, id: int, flags: int, count: int, overflow: int) -> None:
        self.id = id
        self.flags = flags
        self.count = count
        self.overflow = overflow

    def _fields(self) -> tuple[int, int, int, int]:
        return (self.id, self.flags, self.count, self.overflow)

    def __eq__(self, other: object) -> bool:
        if type(other) is not PageHeader:
            return NotImplemented
        assert isinstance(other, PageHeader)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"PageHeader(id={self.id!r}, flags={self.flags!r}, count={self.count!r}, "
            f"overflow={self.overflow!r})"
        )


def read_header(buf: Data, offset: int) -> PageHeader:
    """The 16-byte page header at ``offset``; raises if it is outside ``buf``."""
    if offset < 0 or offset + PAGE_HEADER_SIZE > len(buf):
        raise CorruptionError(f"page header at offset {offset} is beyond the end of the data")
    return PageHeader(*PAGE_HEADER.unpack_from(buf, offset))


def check_page(header: PageHeader, pgid: int) -> None:
    """bbolt's ``Page.FastCheck``: the page names itself and has one valid type."""
    if header.id != pgid:
        raise CorruptionError(
            f"assertion failed: Page expected to be: {pgid}, but self identifies as {header.id}"
        )
    if header.flags not in VALID_TYPES:
        raise CorruptionError(
            f"assertion failed: page {pgid}: has unexpected type/flags: {header.flags:x}"
        )


# --- elements: where they are, and where their keys and values are ------------
#
# A page's elements (16 bytes each, branch and leaf alike) follow its header;
# an element's key starts ``pos`` bytes after the element itself and a leaf's
# value right after its key.  Every reader of elements finds them here; the
# batch readers of :mod:`pybbolt.fastpath` compute the same offsets for many
# elements at once.

ELEMENT_SIZE = LEAF_ELEMENT.size


def element_offset(page_off: int, index: int) -> int:
    """bbolt's ``LeafPageElement(index)`` / ``BranchPageElement(index)``: where
    element ``index`` of the page at ``page_off`` starts (no bounds check)."""
    return page_off + PAGE_HEADER_SIZE + ELEMENT_SIZE * index


def element_within(size: int, page_off: int, index: int) -> int | None:
    """The offset of element ``index`` if its 16 bytes lie within the first
    ``size`` bytes of the data, else None (the caller raises its error)."""
    at = page_off + PAGE_HEADER_SIZE + ELEMENT_SIZE * index
    return at if at + ELEMENT_SIZE <= size else None


def item_spans(elem_off: int, pos: int, ksize: int, vsize: int) -> tuple[int, int, int]:
    """(key start, key end = value start, value end) of an element's item."""
    start = elem_off + pos
    return start, start + ksize, start + ksize + vsize


def elements_start(buf_len: int, offset: int, count: int, pgid: int) -> int:
    """Offset of the element array of the page at ``offset``; raises unless
    ``count`` elements fit in the data."""
    start = offset + PAGE_HEADER_SIZE
    if start + ELEMENT_SIZE * count > buf_len:
        raise CorruptionError(f"page {pgid}: {count} elements run past the end of the data")
    return start


def sliceable(buf: Data) -> bytes | mmap.mmap:
    """``buf`` as something whose slices are bytes."""
    return buf if isinstance(buf, bytes | mmap.mmap) else bytes(buf)


def read_freelist_ids(data: Data, pgid: int, page_size: int) -> list[int]:
    """The ids stored in freelist page ``pgid``, sorted (bbolt sorts on load).

    bbolt's ``Page.FreelistPageIds``: a count of 0xFFFF in the header means
    the real count is the first u64 of the page.
    """
    offset = pgid * page_size
    header = read_header(data, offset)
    if header.flags != FREELIST_PAGE:
        raise CorruptionError(
            f"invalid freelist page: {header.id}, page type is {page_type_name(header.flags)}"
        )
    start = offset + PAGE_HEADER_SIZE
    count = header.count
    if count == FREELIST_COUNT_OVERFLOW:
        if start + 8 > len(data):
            raise CorruptionError(f"freelist page {pgid}: count is beyond the end of the file")
        (count,) = U64.unpack_from(data, start)
        start += 8
    end = start + 8 * count
    if end > len(data):
        raise CorruptionError(
            f"freelist page {pgid}: {count} ids run past the end of the file"
        )
    ids = list(struct.unpack_from(f"<{count}Q", data, start))
    ids.sort()
    return ids


# --- PageReader: reading pages exactly as bbolt does --------------------------

# Go's limits on the reads bbolt makes.

MASK64 = (1 << 64) - 1
# Keys and values are sliced out of a `*[MaxAllocSize]byte` (internal/common/unsafe.go).
PAGE_MAX_ALLOC = MAX_ALLOC_SIZE


class FarKey(bytes):
    """A key whose bytes run past the end of the file: the part inside it.

    bbolt slices such a key without complaint and only faults when it reads
    a byte beyond the file: when a comparison gets that far, or when a
    message prints the key.  ``full`` is the key's real length, ``at`` its
    offset in the file.
    """

    full: int
    at: int
    end: int


def far_key(data: Data, a: int, ksize: int) -> FarKey:
    k = FarKey(data[a:])  # empty when the key starts past the end
    k.full = ksize
    k.at = a
    k.end = len(data)
    return k


def go_compare(x: bytes, y: bytes) -> int:
    """Go's ``bytes.Compare``, faulting where it would read past the file."""
    if x.__class__ is not FarKey and y.__class__ is not FarKey:
        return (x > y) - (x < y)
    m = min(len(x), len(y))
    px, py = x[:m], y[:m]
    if px != py:
        return -1 if px < py else 1
    fx = x.full if isinstance(x, FarKey) else len(x)
    fy = y.full if isinstance(y, FarKey) else len(y)
    if m >= min(fx, fy):
        return (fx > fy) - (fx < fy)
    far = x if isinstance(x, FarKey) and len(x) == m else y
    assert isinstance(far, FarKey)
    raise go_fault(far.at + m, far.end)


def _flen(k: bytes) -> int:
    return k.full if isinstance(k, FarKey) else len(k)


def keys_equal(x: bytes, y: bytes) -> bool:
    """Go's ``bytes.Equal`` (lengths first, then the bytes)."""
    return _flen(x) == _flen(y) and go_compare(x, y) == 0


def has_prefix(key: bytes, prefix: bytes) -> bool:
    """Go's ``bytes.HasPrefix``."""
    n = len(prefix)
    return _flen(key) >= n and go_compare(key[:n] if len(key) >= n else key, prefix) == 0





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
        chunk = bytes(self.data[a:end])  # empty when a >= end
        if len(chunk) < n:
            if not self.copied:
                size = len(self.data)
                raise go_fault(max(a, size), size)
            chunk += bytes(n - len(chunk))
        return chunk

    def header(self) -> tuple[int, int, int, int]:
        """(id, flags, count, overflow)."""
        return PAGE_HEADER.unpack(self.read(0, PAGE_HEADER_SIZE))

    def leaf_element(self, i: int) -> tuple[int, int, int, int]:
        """(flags, pos, ksize, vsize) of leaf element ``i``."""
        return LEAF_ELEMENT.unpack(self.read(element_offset(0, i), ELEMENT_SIZE))

    def branch_element(self, i: int) -> tuple[int, int, int]:
        """(pos, ksize, child pgid) of branch element ``i``."""
        return BRANCH_ELEMENT.unpack(self.read(element_offset(0, i), ELEMENT_SIZE))


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
        pos = (pgid * self.ps) & MASK64
        if pos >= MAX_MAP_SIZE:
            raise go_runtime_error(f"index out of range [{pos}] with length {MAX_MAP_SIZE}")
        if pos + PAGE_HEADER_SIZE > self.size:
            raise go_fault(pos, self.size, pgid)
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
        if flags not in VALID_TYPES:
            raise BboltPanic(
                f"assertion failed: page {pid}: has unexpected type/flags: {flags:x}", pgid=pgid
            )
        return pos, flags, count, overflow

    def header_at(self, off: int) -> tuple[int, int, int, int]:
        """The raw header at ``off`` (an inline page): (id, flags, count, overflow)."""
        if off + PAGE_HEADER_SIZE > self.size:
            raise go_fault(off, self.size)
        return PAGE_HEADER.unpack_from(self.data, off)

    def element(self, page_off: int, i: int) -> int:
        """The offset of element ``i`` of the page at ``page_off``; faults
        unless its 16 bytes lie inside the file."""
        e = element_within(self.size, page_off, i)
        if e is None:
            off = element_offset(page_off, i)
            raise go_fault(off, self.size)
        return e

    def branch_element(self, page_off: int, i: int) -> tuple[int, int, int]:
        """(pos, ksize, child pgid) of branch element ``i``; read even past ``count``."""
        return BRANCH_ELEMENT.unpack_from(self.data, self.element(page_off, i))

    def leaf_element(self, page_off: int, i: int) -> tuple[int, int, int, int]:
        """(flags, pos, ksize, vsize) of leaf element ``i``."""
        return LEAF_ELEMENT.unpack_from(self.data, self.element(page_off, i))

    def key(self, elem_off: int, pos: int, ksize: int) -> bytes:
        """An element's key, sliced as bbolt slices it (``[pos:pos+ksize]``).

        A key that runs past the end of the file comes back as a
        :class:`FarKey`: bbolt faults only once something reads that far.
        """
        j = pos + ksize
        if j > PAGE_MAX_ALLOC:
            raise go_runtime_error(
                f"slice bounds out of range [::{j}] with length {PAGE_MAX_ALLOC}"
            )
        a = elem_off + pos
        if ksize and a + ksize > self.size:
            return far_key(self.data, a, ksize)
        return self.data[a : a + ksize]  # type: ignore[return-value]

    def value(self, elem_off: int, pos: int, ksize: int, vsize: int) -> tuple[int, int]:
        """(offset, length) of a leaf element's value, sliced as bbolt slices it
        (nothing is read yet)."""
        i = pos + ksize
        j = i + vsize
        if j > PAGE_MAX_ALLOC:
            raise go_runtime_error(
                f"slice bounds out of range [::{j}] with length {PAGE_MAX_ALLOC}"
            )
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
            raise go_runtime_error("index out of range [0] with length 0")
        copied = bool(voff % 8)
        if copied:
            if voff + vlen > size:
                raise go_fault(max(voff, size), size)
            head = bytes(self.data[voff : voff + min(vlen, 8)])
        else:
            if voff + 8 > size:
                raise go_fault(max(voff, size), size)
            head = bytes(self.data[voff : voff + 8])
        root = int.from_bytes(head, "little")  # a short head: the high bytes are 0
        if root != 0:
            return root, None
        if vlen <= 16:
            raise go_runtime_error(f"index out of range [16] with length {vlen}")
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
                raise go_fault(e, size)
            (child,) = U64.unpack_from(data, e + 8)
            ids.append(child)
            off = (child * ps) & MASK64
            if off + PAGE_HEADER_SIZE > size:
                page(child)  # raises bbolt's panic or a fault
            hid, flags, count, overflow = unpack_header(data, off)
            if hid != child or flags not in VALID_TYPES:
                page(child)  # raises bbolt's assertion
            visits += 1
            if visits >= 4096:
                self.tick(visits)
                visits = 0
            yield child, off, flags, count, overflow, ids
            if child in on_stack:
                raise go_stack_overflow(child, ids)
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
                raise go_stack_overflow(child, [r[0] for r in stack] + [child])
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
                raise go_stack_overflow(pgid, [r[0] for r in stack] + [pgid])
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
            if count == 0:
                raise go_runtime_error("index out of range [0] with length 0")
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
            c = go_compare(self.key(e, pos, ksize), key)
            if c == 0:
                exact = True
            if c < 0:
                lo = h + 1
            else:
                hi = h
        return lo, exact
