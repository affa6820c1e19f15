"""bbolt's consistency check (``Tx.Check`` of bbolt v1.5.0, docs/FORMAT.md §13).

The check walks the raw pages of the mapping with precompiled structs; it
never decodes whole pages into nodes, and it keeps one byte per page of the
file (which pages are reachable) plus the free ids.

Errors come out in bbolt's order and with bbolt's messages.  Where bbolt
panics on a damaged file (docs/FORMAT.md §13.4) the check reports one last error
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
from operator import add, and_, lt

from .errors import (
    ALREADY_FREED,
    FATAL,
    INVALID_TYPE,
    KEY_ORDER,
    MULTIPLE_REFERENCES,
    OUT_OF_BOUNDS,
    PAGE_ID_OUT_OF_RANGE,
    PANIC,
    REACHABLE_FREED,
    UNEXPECTED_PAGE_TYPE,
    UNREACHABLE_UNFREED,
    BboltPanic,
    CheckError,
    CorruptionError,
    TxClosed,
    go_fault,
    go_stack,
    go_stack_overflow,
)
from .fastpath import (
    intact_buckets,
    intact_tree,
)
from .layout import (
    BRANCH_ELEMENT,
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE,
    LEAF_ELEMENT,
    LEAF_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    PGID_NO_FREELIST,
    U64,
    element_array,
    page_type_name,
)
from .page import (
    MASK64,
    PAGE_MAX_ALLOC,
    VALID_TYPES,
    FarKey,
    PageReader,
    go_compare,
    keys_equal,
    read_freelist_ids,
)
from .pagebits import Freed, Reachable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

    from .tx import Tx

    KVStringer = Callable[[bytes], str]

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
    "check",
    "reachability",
    "reachable_pages",
]

# Reachability bitmap: at most this many ids past the end of the file.
_MAX_BITMAP_SLACK = 1 << 24


def _go_int(v: int) -> int:
    """A uint64 printed through Go's ``int(...)`` conversion."""
    return v - (1 << 64) if v >= 1 << 63 else v


def _hex(key: bytes) -> str:
    return key.hex()


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


class _Checker:
    def __init__(self, tx: Tx, kv: KVStringer) -> None:
        self.tx = tx
        self.kv = kv
        self.r = PageReader(tx._data, tx.page_size, tx._note_reads)
        self.hwm = tx.meta.pgid
        npages = self.r.npages
        nbits = min(max(self.hwm, npages) + 1, npages + _MAX_BITMAP_SLACK)
        self.reach = Reachable(nbits)
        self.freed = Freed(nbits)
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
            if meta.freelist == PGID_NO_FREELIST and self._walked_at_open():
                return
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

    def _walked_at_open(self) -> bool:
        """Whether the free ids were rebuilt by this very walk (bbolt's
        ``freepages`` runs ``recursivelyCheckBucket`` too) and it met nothing
        and no meta page: then, from the meta pages marked and every other
        page free or reached, the walk and the leak scan find nothing
        (:meth:`~pybbolt.tx.Tx.free_ids_walked`)."""
        return self.tx.free_ids_walked()

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
        try:
            return read_freelist_ids(r.data, fl, r.ps)
        except CorruptionError:
            raise go_fault(r.size, r.size, fl) from None

    def _check_bucket_tree(self, root: int) -> Iterator[CheckError]:
        """``recursivelyCheckBucket``: a bucket's pages, key order, then its sub-buckets."""
        if root == 0 or self._intact_buckets(root):
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
                raise go_stack_overflow(child, [s[0] for s in stack] + [child])
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
                raise go_stack_overflow(pid, [*on_stack, pid])
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
        """``_invariants`` of a tree with nothing to report, with whole-page
        operations (:func:`~pybbolt.fastpath.intact_tree`)."""
        entries = info.entries if info is not None else None
        return intact_tree(self.r, self.reach, self.freed, self.intact_limit, root, entries)

    def _intact_buckets(self, root: int) -> bool:
        """``recursivelyCheckBucket`` from ``root`` with nothing to report, a
        level of buckets at a time (:func:`~pybbolt.fastpath.intact_buckets`)."""
        return intact_buckets(self.r, self.reach, self.freed, self.intact_limit, root)

    def _walk_pages(self, root: int) -> Iterator[CheckError]:
        hwm = self.hwm
        freed = self.freed
        reach = self.reach
        seen = reach.bits
        nbits = reach.nbits
        for pid, _, flags, _, overflow, ids in self.r.iter_pages(root):
            if pid > hwm:
                yield CheckError(
                    f"page {_go_int(pid)}: out of bounds: {_go_int(hwm)} (stack: {go_stack(ids)})",
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
                    f"(stack: {go_stack(ids)})",
                    INVALID_TYPE,
                    pgid=pid,
                    stack=tuple(ids),
                )

    @staticmethod
    def _multiple(pid: int, ids: list[int]) -> CheckError:
        return CheckError(
            f"page {pid}: multiple references (stack: {go_stack(ids)})",
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
                raise go_stack_overflow(pgid, [*ids, pgid])
            off = (pgid * ps) & MASK64
            if off + PAGE_HEADER_SIZE > size:
                r.page(pgid)  # raises bbolt's panic or a fault
            hid, flags, count, _ = unpack_header(data, off)
            if hid != pgid or flags not in VALID_TYPES:
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
                    raise go_fault(e, size)
                pos, ksize, child = BRANCH_ELEMENT.unpack_from(data, e)
                key = key_of(e, pos, ksize)
            prev = fr.running
            bound = fr.max
            if FarKey in (key.__class__, prev.__class__, bound.__class__) or (
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
                        raise go_fault(e2, size)
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
        if max(ends) > r.size or max(map(add, pos, ksize)) > PAGE_MAX_ALLOC:
            return
        getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
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
            if j > PAGE_MAX_ALLOC or (ksize and a + ksize > size):
                key = r.key(e, pos, ksize)  # bbolt's panic, or a far key
            else:
                key = data[a : a + ksize]  # type: ignore[assignment]
            prev = mn if last is None else last
            if FarKey in (key.__class__, prev.__class__, mx.__class__) or (
                (prev is not None and (prev >= key if i else prev > key))
                or (mx is not None and key >= mx)
            ):
                if info is not None:
                    info.clean = False
                yield from self._key_errors(pgid, "leaf", i, key, prev, mx, ids)
            if entries is not None:
                if j + vsize > PAGE_MAX_ALLOC:
                    info.clean = False  # type: ignore[union-attr]
                elif flags & BUCKET_LEAF_FLAG:
                    entries.append((a + ksize, vsize))
            last = key
        if avail < count:
            raise go_fault(base + 16 * avail, size)
        return last

    def _intact_leaf(
        self, base: int, count: int, mn: bytes | None, mx: bytes | None, info: _BucketInfo | None
    ) -> tuple[bool, bytes | None]:
        """A leaf with nothing to report, checked with whole-page operations.

        Returns ``(True, last key)`` when every key and value is readable and
        the keys are strictly increasing within ``[mn, mx)``; ``(False,
        None)`` otherwise, and the caller walks the elements one by one.
        """
        if FarKey in (mn.__class__, mx.__class__):
            return False, None
        r = self.r
        data = r.data
        fields = element_array(count).unpack_from(data, base)
        pos = fields[1::4]
        vsize = fields[3::4]
        starts = list(map(add, range(base, base + 16 * count, 16), pos))
        ends = list(map(add, starts, fields[2::4]))
        # Every key and value ends by `reach`, and is sliced by bbolt up to at
        # most `reach - base` bytes past its element: both within limits
        # means no read can fail.
        reach = max(ends) + max(vsize)
        if reach > r.size or reach - base > PAGE_MAX_ALLOC:
            return False, None
        getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
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
        stack = go_stack(ids)
        st = tuple(ids)
        said = False
        if i == 0 and prev is not None and go_compare(prev, key) > 0:
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
            c = go_compare(p, key)
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
        if mx is not None and go_compare(key, mx) >= 0:
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
        if isinstance(key, FarKey):
            raise go_fault(key.at + len(key), key.end)
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
    reach, problem = reachability(tx)
    seen = reach.as_set(max(tx.meta.pgid, reach.nbits))
    seen.update((0, 1))
    return seen, problem


def reachability(tx: Tx) -> tuple[Reachable, str | None]:
    """The walk of :func:`reachable_pages`: the pages it marked (the meta
    pages only if a bucket reaches them) and the first problem, or None."""
    c = _Checker(tx, _hex)
    problem: str | None = None
    for err in c._check_bucket_tree(tx.meta.root):
        problem = str(err)
        break
    return c.reach, problem

