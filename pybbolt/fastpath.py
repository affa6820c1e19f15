"""The fast paths of the read walks: whole pages and batches of pages at once.

The exact walks (:mod:`pybbolt.page`'s :class:`~pybbolt.page.PageReader`,
:func:`pybbolt.node.decode_page`) follow bbolt element by element, which costs
tens of Python operations per page.  The fast paths here read a leaf's items,
or the children of many branch pages, with C-level ``map``s over precompiled
structs, and only accept what is plainly intact; they have no effect until they
succeed.  Anything else makes them fall back: :func:`leaf_run` to the general
decode, the batch readers by raising :class:`Bail` (or ``struct.error`` for a
read past the end of the file), after which the caller runs the exact walk,
which reports the problem as bbolt does.  ``tests/test_fast_paths.py`` proves
both give the same results.

Every cache of codecs lives here (bounded), next to the element-array codecs
of :func:`pybbolt.layout.element_array`.
"""

from __future__ import annotations

import gc
import itertools
import struct
from itertools import repeat
from operator import add, and_, itemgetter, le, lt, mul, not_, sub

from .errors import CorruptionError
from .layout import (
    BRANCH_PAGE,
    BUCKET_LEAF_FLAG,
    ELEMENT_ARRAYS,
    LEAF_ELEMENT,
    LEAF_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    U64,
    element_array,
)
from .page import PAGE_MAX_ALLOC, Data, PageReader, elements_start, sliceable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, TypeVar

    _T = TypeVar("_T")

    from .node import LeafRun
    from .pagebits import Freed, Reachable

# --- a leaf's items in one call (every read of a leaf) -----------------------

def leaf_page_run(
    data: bytes | mmap.mmap, offset: int, pgid: int, keys_only: bool = False
) -> LeafRun | None:
    """The run of leaf page ``pgid`` at ``offset`` if it is one (else None).

    The scans' fast path: the header checked, the element array looked up
    by its bytes and the items cut in one call for a page of a known
    layout; anything else takes the general path, as does a page with
    overflow pages (so that the transaction counts every page it reads).
    With ``keys_only`` the run's values may be left out (empty) where
    cutting them would cost.
    """
    if offset + PAGE_HEADER_SIZE > len(data):
        return None
    global _last_run
    ident, flags, count, overflow = PAGE_HEADER.unpack_from(data, offset)
    if flags != LEAF_PAGE or ident != pgid or overflow:
        return None
    start = offset + PAGE_HEADER_SIZE
    elements = data[start : start + 16 * count]
    last_elements, layout = _last_run  # one snapshot: other threads replace it whole
    if elements != last_elements:  # else the layout of the leaf before (a bucket's
        found = _LAYOUTS.get(elements)  # leaves mostly share one): no hash of the array
        if found is None:
            return leaf_run(data, offset, count, pgid, keys_only)
        _last_run = elements, found
        layout = found
    if start + layout[0].size > len(data):
        return leaf_run(data, offset, count, pgid, keys_only)
    codec, item_flags = layout
    items = codec.unpack_from(data, start)
    return item_flags, items[0::2], items[1::2]


# The element array of the last leaf leaf_page_run cut with a known layout, and
# that layout (None: none yet; an empty array never has a layout).
_last_run: tuple[bytes | None, tuple[struct.Struct, tuple[int, ...]]] = (
    None, (struct.Struct(""), ()))


def leaf_run(buf: Data, offset: int, count: int, pgid: int, keys_only: bool = False) -> LeafRun:
    """The flags, keys and values of ``count`` leaf elements, as sequences
    (with ``keys_only``, the values only if a known layout cuts them at once:
    a layout is not made for a page of keys alone, and values, up to
    hundreds of kB in some stores, are not copied)."""
    data = sliceable(buf)
    size = len(data)
    start = elements_start(size, offset, count, pgid)
    elements = data[start : start + 16 * count]
    layout = _LAYOUTS.get(elements)
    if layout is None and not keys_only:
        layout = _layout(elements, count)
    if layout is not None and start + layout[0].size <= size:
        # One C call cuts every key and value (see _layout).
        codec, item_flags = layout
        items = codec.unpack_from(data, start)
        return item_flags, items[0::2], items[1::2]
    fields = element_array(count).unpack(elements)
    bases = range(start, start + 16 * count, 16)
    key_starts = list(map(add, bases, fields[1::4]))
    key_ends = list(map(add, key_starts, fields[2::4]))
    value_ends = list(map(add, key_ends, fields[3::4]))
    if count and max(value_ends) > size:
        bad = next(i for i, end in enumerate(value_ends) if end > size)
        raise CorruptionError(f"page {pgid}: leaf element {bad} points outside the data")
    get = data.__getitem__
    keys = list(map(get, map(slice, key_starts, key_ends)))
    if keys_only:
        return fields[0::4], keys, ()
    values = list(map(get, map(slice, key_ends, value_ends)))
    return fields[0::4], keys, values


# Leaf element arrays seen so far (their bytes) -> the Struct that cuts all
# the keys and values of a page that has it, and the items' flags (None:
# not contiguous).  Pages of one bucket mostly share a few layouts; the
# bound keeps a file of all-different pages from filling memory.
_LAYOUTS: dict[bytes, tuple[struct.Struct, tuple[int, ...]] | None] = {}
_LAYOUTS_LIMIT = 4096


def _layout(elements: bytes, count: int) -> tuple[struct.Struct, tuple[int, ...]] | None:
    """The Struct that unpacks the keys and values of a leaf, with its flags.

    bbolt writes each key right after the previous value, the first right
    after the element headers, so a page's data is a run of ``ks`` and
    ``vs`` byte strings that one format string describes.  Layouts whose
    data is not one contiguous run (never written by bbolt) get None.
    """
    if elements in _LAYOUTS or not count:
        return _LAYOUTS.get(elements)
    fields = element_array(count).unpack(elements)
    head = 16 * count
    key_sizes, value_sizes = fields[2::4], fields[3::4]
    key_starts = list(map(add, range(0, head, 16), fields[1::4]))
    ends = list(map(add, map(add, key_starts, key_sizes), value_sizes))
    layout = None
    if key_starts[0] >= head and key_starts[1:] == ends[:-1]:
        items = "".join(map("{}s{}s".format, key_sizes, value_sizes))
        layout = struct.Struct(f"<{key_starts[0]}x{items}"), fields[0::4]
    if len(_LAYOUTS) < _LAYOUTS_LIMIT:
        _LAYOUTS[elements] = layout
    return layout


# The element array of a leaf of ``count`` items whose keys all have one size
# and values another, without bucket flags, as Node.encode wrote it first:
# (count, key size, value size) -> its bytes.  Writers of uniform items (a
# benchmark's keys, a compaction of them) then encode a leaf without
# recomputing every item's position.  Bounded by bytes: a page of 64 kB
# holds thousands of tiny items.
UNIFORM_LEAF_ELEMENTS: dict[tuple[int, int, int], bytes] = {}
_UNIFORM_LEAF_BYTES = [4 << 20]  # what the cache may still take


def remember_uniform_leaf(signature: tuple[int, int, int], elements: bytes) -> None:
    """Keep the element array of a uniform leaf (see UNIFORM_LEAF_ELEMENTS)."""
    if len(elements) <= _UNIFORM_LEAF_BYTES[0]:
        _UNIFORM_LEAF_BYTES[0] -= len(elements)
        UNIFORM_LEAF_ELEMENTS[signature] = elements


# --- a leaf's keys for one lookup (Bucket.get past the full leaf cache) -------


class ValueSlices(tuple):  # type: ignore[type-arg]
    """The values of a leaf run cut for one lookup, ``(data, base, bounds)``:
    ``values[i]`` reads value ``i`` from the page when asked for (a get reads
    one; cutting them all cost as much as cutting the keys).  Only indexed."""

    __slots__ = ()

    def __getitem__(self, index: int) -> bytes:  # type: ignore[override]
        data, base, bounds = self
        start, end = bounds[index]
        return data[base + start : base + end]  # type: ignore[no-any-return]


def leaf_page_lookup(data: bytes | mmap.mmap, offset: int, pgid: int) -> LeafRun | None:
    """:func:`leaf_page_run` for one lookup: the keys cut in one call, the
    values (:class:`ValueSlices`) read one by one when asked for.

    The layout of the page before is tried first (one comparison of the
    element arrays instead of a dict lookup that hashes this one), and
    after two pages of one layout, header, element array and keys are read
    in one call; a page of a layout not seen yet gets the whole run of
    :func:`leaf_page_run`.
    """
    global _last
    # One snapshot of the last layout met: read transactions in other threads
    # replace it whole, never a part of it.
    last_elements, last_lookup, whole, whole_count = _last
    if whole is not None and offset + whole.size <= len(data):
        # The layout of the two leaves before: header, element array and
        # keys in one call, kept if the page has that header and array.
        fields = whole.unpack_from(data, offset)
        if (fields[4] == last_elements and fields[0] == pgid and fields[1] == LEAF_PAGE
                and not fields[3] and fields[2] == whole_count):
            start = offset + PAGE_HEADER_SIZE
            return last_lookup[1], fields[5:], ValueSlices((data, start, last_lookup[2]))
        _last = (last_elements, last_lookup, None, 0)
    if offset + PAGE_HEADER_SIZE > len(data):
        return None
    ident, flags, count, overflow = PAGE_HEADER.unpack_from(data, offset)
    if flags != LEAF_PAGE or ident != pgid or overflow:
        return None
    start = offset + PAGE_HEADER_SIZE
    elements = data[start : start + 16 * count]
    if elements == last_elements:
        found = last_lookup
        _last = (last_elements, found, found[3], count)
    else:
        met = _LOOKUPS.get(elements)
        if met is None:
            return _new_lookup(data, offset, count, pgid, elements)
        _last = (elements, met, None, 0)
        found = met
    codec, item_flags, bounds, _ = found
    if start + codec.size > len(data):
        return leaf_run(data, offset, count, pgid)
    return item_flags, codec.unpack_from(data, start), ValueSlices((data, start, bounds))


def _new_lookup(
    data: bytes | mmap.mmap, offset: int, count: int, pgid: int, elements: bytes
) -> LeafRun:
    """The whole run of a page whose layout no lookup has met, and its keys'
    Struct and values' bounds kept for the next (a layout that one Struct
    cuts, see :func:`_layout`; at most _LOOKUPS_LIMIT of them)."""
    run = leaf_run(data, offset, count, pgid)
    if _LAYOUTS.get(elements) is not None and len(_LOOKUPS) < _LOOKUPS_LIMIT:
        fields = element_array(count).unpack(elements)
        key_sizes, value_sizes = fields[2::4], fields[3::4]
        key_starts = list(map(add, range(0, 16 * count, 16), fields[1::4]))
        value_starts = list(map(add, key_starts, key_sizes))
        items = "".join(map("{}s{}x".format, key_sizes, value_sizes))
        _LOOKUPS[elements] = (
            struct.Struct(f"<{key_starts[0]}x{items}"), fields[0::4],
            tuple(zip(value_starts, map(add, value_starts, value_sizes))),
            struct.Struct(f"<QHHI{16 * count}s{key_starts[0] - 16 * count}x{items}"),
        )
    return run


# Leaf element arrays -> the Struct that cuts a page's keys alone, the items'
# flags and the values' (start, end) from the element array's start: the
# layouts of _LAYOUTS that a lookup has met; the last one met, tried first.
# (With a fourth Struct: the header, the element array and the keys.)
# Fewer than _LAYOUTS: random gets pay off on the layouts that repeat, and
# the opening of every nested bucket of a store of many small ones (a
# compaction of containerd's) would otherwise keep ~1.4 MB of them.
_LOOKUPS_LIMIT = 256
_Lookup = tuple[struct.Struct, tuple[int, ...], tuple[tuple[int, int], ...], struct.Struct]
_LOOKUPS: dict[bytes, _Lookup] = {}
# The last layout a lookup met: its element array, its _Lookup, and once two
# lookups in a row met it, its fourth Struct (else None) and element count.
# (The _Lookup is never read while the array is None.)
_last: tuple[bytes | None, _Lookup, struct.Struct | None, int] = (
    None, (struct.Struct(""), (), (), struct.Struct("")), None, 0)


# --- batches of pages (check, stats, keys) ----------------------------------


class Bail(Exception):
    """A fast path met something it does not handle: the exact walk runs instead."""


_unpack_header = PAGE_HEADER.unpack_from
_unpack_structs = struct.Struct.unpack_from
_unpack_u64 = U64.unpack_from

def element_codecs(counts: Iterable[int]) -> Callable[[int], struct.Struct]:
    """A C-level lookup of the element-array codec of each of ``counts``
    (the codecs of :func:`~pybbolt.layout.element_array`, one cache)."""
    for c in set(counts).difference(ELEMENT_ARRAYS):
        element_array(c)
    return ELEMENT_ARRAYS.__getitem__


class Layout(tuple[bytes, struct.Struct, struct.Struct, struct.Struct]):
    """A leaf page of ``count`` elements as bbolt writes it when every key has
    ``ksize`` bytes and every value ``vsize``: element i at pos
    ``16*(count-i) + i*(ksize+vsize)``, keys and values packed in order after
    the element array.

    A plain tuple subclass (a NamedTuple would import typing at start-up):
    ``array`` the element array (no bucket element), ``keys`` the codec of the
    keys read from the end of the element array, ``page`` and ``elements`` the
    codecs read from the page's start (the header's four fields, the element
    array, then for ``page`` the keys).
    """

    __slots__ = ()

    def __new__(
        cls, array: bytes, keys: struct.Struct, page: struct.Struct, elements: struct.Struct
    ) -> Layout:
        return super().__new__(cls, (array, keys, page, elements))

    @property
    def array(self) -> bytes:
        """The element array."""
        return self[0]

    @property
    def keys(self) -> struct.Struct:
        """The codec of the keys, from the end of the element array."""
        return self[1]

    @property
    def page(self) -> struct.Struct:
        """The codec of header, element array and keys, from the page's start."""
        return self[2]

    @property
    def elements(self) -> struct.Struct:
        """The codec of header and element array, from the page's start."""
        return self[3]


# (ksize, vsize) -> {count: layout}
_FIXED: dict[tuple[int, int], dict[int, Layout]] = {}
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


def fixed_layout(ksize: int, vsize: int, counts: Iterable[int]) -> dict[int, Layout]:
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
        array = f"{PAGE_HEADER.format}{16 * c}s"  # the header, then the element array
        layouts[c] = Layout(
            element_array(c).pack(*fields),
            struct.Struct("<" + keys),
            struct.Struct(array + keys),
            struct.Struct(array),
        )
    return layouts


class Above:
    """Above every key: the upper bound of the keys on the right edge of a tree."""

    __slots__ = ()

    def __gt__(self, other: object) -> bool:
        """Greater than anything."""
        return True


ABOVE = Above()


def batch_pages(ps: int) -> int:
    """How many pages (about 4 MiB) the fast paths read at once."""
    return max(16, (1 << 22) // max(ps, 1))


def _step(batch: int, n: int, overflows: Sequence[int]) -> int:
    """How many pages to read next, after ``n`` pages with ``overflows``: about
    a batch of pages in all, overflow pages included (the keys of a leaf lie
    among its values), so that the pages resident between two releases of
    the mapping stay bounded however big the values are."""
    return max(16, batch * n // (n + sum(overflows)))


# (ksize, count) -> (positions, key sizes, codec of the keys) of a branch page
# as bbolt writes keys of one size: element i at pos 16*(count-i) + i*ksize.
_FIXED_BRANCH: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...], struct.Struct]] = {}


def page_headers(
    data: Data, ps: int, ids: Sequence[int]
) -> tuple[list[int], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(offsets, flags, counts, overflows) of pages ``ids``, each below the
    file's page count; raises :class:`Bail` unless every page names itself."""
    offs = list(map(mul, ids, repeat(ps)))
    hid, flags, counts, overflows = zip(*map(_unpack_header, repeat(data), offs))
    if hid != tuple(ids):
        raise Bail
    return offs, flags, counts, overflows


def branch_fields(data: Data, size: int, ps: int, off: int, count: int) -> tuple[int, ...]:
    """The element array of the branch page at ``off`` (``count`` > 0) as 4
    u32 per element, its child ids (``[2::4]``) each below 2**32."""
    base = off + PAGE_HEADER_SIZE
    if base + 16 * count > size or count > (ps - PAGE_HEADER_SIZE) // 16:
        raise Bail  # past the file, or more children than bbolt puts on a page
    fields: tuple[int, ...] = element_codecs((count,))(count).unpack_from(data, base)
    if any(fields[3::4]):
        raise Bail  # a child id of 2**32 or more: beyond any file the fast path reads
    return fields


def branch_keys(
    data: Data, size: int, ps: int, off: int, count: int
) -> tuple[list[bytes], tuple[int, ...]]:
    """All keys and child ids of the branch page at ``off`` (``count`` > 0)."""
    fields = branch_fields(data, size, ps, off, count)
    base = off + PAGE_HEADER_SIZE
    end = base + 16 * count
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
    if top > size or top - base > PAGE_MAX_ALLOC:
        raise Bail
    getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
    return list(map(getitem, map(slice, starts, ends))), fields[2::4]


def uniform_leaves(
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
    layout = fixed_layout(ksize, vsize, (count,))[count]
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


def leaf_batch_keys(
    data: Data, ps: int, ids: Sequence[int]
) -> tuple[list[bytes], int] | None:
    """The keys of leaf pages ``ids`` in order, read at once (a scan of keys
    over a branch whose children are leaves), and the number of pages the
    leaves span with their overflow pages; None unless each page lies in
    the file, names itself, is a leaf and holds its keys and values inside
    the file: then each is read alone, which reports what is wrong."""
    n = len(ids)
    if n < 2 or (max(ids) + 1) * ps > len(data):
        return None
    try:
        offs, flags, counts, overflows = page_headers(data, ps, ids)
        if flags.count(LEAF_PAGE) != n:
            return None
        pages = n + sum(overflows)
        if 0 in counts:
            full = [i for i in range(n) if counts[i]]
            if not full:
                return [], pages
            offs = list(map(offs.__getitem__, full))
            counts = tuple(map(counts.__getitem__, full))
        return leaf_keys(data, len(data), ps, offs, counts, None)[0], pages
    except (Bail, struct.error):
        return None


def _element_arrays(
    ps: int, offs: Sequence[int], counts: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Where the element arrays of the leaves at ``offs`` start and end;
    raises Bail where one holds more elements than bbolt puts on a page."""
    if max(counts) > (ps - PAGE_HEADER_SIZE) // 16:
        raise Bail  # more elements than bbolt puts on a page
    bases = list(map(add, offs, repeat(PAGE_HEADER_SIZE)))
    return bases, list(map(add, bases, map(mul, counts, repeat(16))))


def _element_fields(data: Data, bases: list[int], counts: Sequence[int]) -> list[int]:
    """The elements of the arrays at ``bases`` (``counts`` of them), 4 u32 each, in one list."""
    arrays = map(_unpack_structs, map(element_codecs(counts), counts), repeat(data), bases)
    return list(itertools.chain.from_iterable(arrays))


def leaf_items(data: Data, ps: int, offs: list[int], counts: Sequence[int]) -> int:
    """The number of items of the leaves at ``offs`` (each with ``counts[i]``
    > 0 elements) read from their element arrays alone.

    No key or value is cut: a cursor's walk over them reads none either
    (bbolt slices a key or value without reading it, and opens a bucket
    value only), so only what it does check is checked: no element is a
    bucket element (opening one seeks by its key) and every item ends
    within bbolt's slice limit from its element; else raises :class:`Bail`.
    """
    bases, ends = _element_arrays(ps, offs, counts)
    getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
    arrays = b"".join(map(getitem, map(slice, bases, ends)))
    n = len(arrays) >> 4
    if n != sum(counts):
        raise Bail  # elements past the end of the data
    # Each element: flags, pos, ksize, vsize, four little-endian u32.
    if arrays[0::16].translate(_BUCKET_BIT).count(0) != n:
        raise Bail
    # pos, ksize and vsize below 2**24 (no top byte set) end well within the limit.
    if arrays[3::4].count(0) != 4 * n:
        fields = _element_fields(data, bases, counts)
        spans = map(add, map(add, fields[1::4], fields[2::4]), fields[3::4])
        if max(spans) > PAGE_MAX_ALLOC:
            raise Bail
    return n


# The bucket flag of a byte of flags (BUCKET_LEAF_FLAG lies in the low byte).
_BUCKET_BIT = bytes(b & BUCKET_LEAF_FLAG for b in range(256))


def leaf_keys(
    data: Data,
    size: int,
    ps: int,
    offs: list[int],
    counts: Sequence[int],
    entries: list[tuple[int, int]] | None,
    names: list[bytes] | None = None,
) -> tuple[list[bytes], list[bytes], list[bytes], int]:
    """The keys of the leaves at ``offs`` (each with ``counts[i]`` > 0 elements):
    all of them in order, the first and the last of each leaf, and their
    common size (-1 when not known to be the same).

    Every key and value must lie inside the file.  The (value offset,
    length) of the bucket elements are appended to ``entries``, their keys
    to ``names``.
    """
    bases, ends = _element_arrays(ps, offs, counts)
    getitem: Callable[[slice], bytes] = data.__getitem__  # type: ignore[assignment]
    _, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(data, bases[0])
    if pos == 16 * counts[0] and max(counts) * (16 + ksize + vsize) <= ps - PAGE_HEADER_SIZE:
        # Laid out as bbolt writes fixed-size keys and values (and no bucket
        # element)?  Then one codec call cuts out a leaf's keys.
        first = fixed_layout(ksize, vsize, (counts[0],))[counts[0]].array
        if getitem(slice(bases[0], ends[0])) == first:  # else not worth trying
            layouts = list(map(fixed_layout(ksize, vsize, counts).__getitem__, counts))
            if list(map(getitem, map(slice, bases, ends))) == list(map(itemgetter(0), layouts)):
                codecs = map(itemgetter(1), layouts)
                per_leaf = list(map(_unpack_structs, codecs, repeat(data), ends))
                keys = list(itertools.chain.from_iterable(per_leaf))
                firsts = list(map(itemgetter(0), per_leaf))
                return keys, firsts, list(map(itemgetter(-1), per_leaf)), ksize
    fields = _element_fields(data, bases, counts)
    elements = itertools.chain.from_iterable(map(range, bases, ends, repeat(16)))
    starts = list(map(add, elements, fields[1::4]))
    kends = list(map(add, starts, fields[2::4]))
    vsizes = fields[3::4]
    # bbolt slices a key or value up to its end, counted from its element.
    lowest = min(bases)
    top = max(kends) + max(vsizes)
    if top > size or top - lowest > PAGE_MAX_ALLOC:
        top = max(map(add, kends, vsizes))
        if top > size or top - lowest > PAGE_MAX_ALLOC:
            raise Bail
    keys = list(map(getitem, map(slice, starts, kends)))
    last = list(itertools.accumulate(counts))
    firsts = list(map(keys.__getitem__, map(sub, last, counts)))
    lasts = list(map(keys.__getitem__, map(sub, last, repeat(1))))
    if entries is not None:
        flags = fields[0::4]
        if max(flags) and any(map(and_, flags, repeat(BUCKET_LEAF_FLAG))):
            bucket = list(map(and_, flags, repeat(BUCKET_LEAF_FLAG)))
            compress = itertools.compress
            entries += zip(compress(kends, bucket), compress(vsizes, bucket))
            if names is not None:
                names += compress(keys, bucket)
    return keys, firsts, lasts, -1


# --- the check's walk of an intact tree -------------------------------------


def intact_tree(
    r: PageReader,
    reach: Reachable,
    freed: Freed,
    limit: int,
    root: int,
    entries: list[tuple[int, int]] | None,
) -> bool:
    """The check's ``checkInvariantProperties`` of a tree with nothing to report,
    with whole-page operations.

    When every page of the tree from ``root`` is a branch or leaf page
    inside the file, below the high-water mark, neither free nor
    referenced before, with its keys in order within its ancestors'
    bounds (and no empty page below the root), marks the pages reachable,
    appends the (value offset, length) of its bucket elements to ``entries``
    and returns True: the exact walks would report nothing and do the same.
    Otherwise it undoes what it did and returns False.
    """
    return intact_items(r, reach, freed, limit, root, entries, None) is not None


def intact_items(
    r: PageReader,
    reach: Reachable,
    freed: Freed,
    limit: int,
    root: int,
    entries: list[tuple[int, int]] | None,
    names: list[bytes] | None,
    counts_only: bool = False,
) -> int | None:
    """:func:`intact_tree`, which also appends the keys of the bucket elements
    to ``names``: the number of items in the tree's leaves, or None (with
    nothing done) where :func:`intact_tree` returns False.

    With ``counts_only`` no key is read, so none is known to be in order:
    the leaves are counted from their element arrays (:func:`leaf_items`),
    and a tree holding a bucket element gives None.  Every page is still a
    branch or leaf page inside the file, named by itself and reached once
    (its overflow pages, which nothing reads, are not marked), and every
    item ends within bbolt's slice limit: what a cursor's walk over the
    tree needs to give the same count.
    """
    marked: list[Sequence[int]] = []
    try:
        visits, items = _intact_walk(
            r, reach, freed, limit, root, entries, marked, names, counts_only
        )
    except (Bail, struct.error):
        bits = reach.bits
        for ids in marked:
            for pid in ids:
                bits[pid] = 0
        if entries is not None:
            entries.clear()
        if names is not None:
            names.clear()
        return None
    # The exact walks visit each page twice (reachability, key order);
    # the pages were noted as read batch by batch.
    r.tick(2 * visits, read=False)
    return items


def intact_buckets(r: PageReader, reach: Reachable, freed: Freed, limit: int, root: int) -> bool:
    """The check's ``recursivelyCheckBucket`` from the bucket tree at ``root``
    and every bucket below it, when it has nothing to report.

    The trees are read a level of buckets at a time: the root pages of all
    the non-inline buckets of one nesting depth in batches (a single-leaf
    bucket, the common case of many small buckets, costs no call of its
    own), bigger trees by :func:`intact_tree`'s walk.  Visiting the buckets
    in another order than bbolt's does not matter when no page is reached
    twice, none is free and every key is in order: the exact walk would
    report nothing and mark the same pages.  Otherwise (or when a bucket
    value is one ``openBucket`` would fail on) it undoes what it did and
    returns False.
    """
    marked: list[Sequence[int]] = []
    try:
        visits = without_gc(_intact_buckets, r, reach, freed, limit, root, marked)
    except (Bail, struct.error):
        bits = reach.bits
        for ids in marked:
            for pid in ids:
                bits[pid] = 0
        return False
    r.tick(2 * visits, read=False)
    return True


def without_gc(walk: Callable[..., _T], *args: Any) -> _T:
    """``walk(*args)`` with the cyclic garbage collector paused (and restored
    as found).  The fast walks make no reference cycles, but allocate a tuple
    per page header and per bucket value (and inspect a record per bucket):
    on a file of many buckets the collector would run over them again and
    again (containerd: a tenth of check, stats and inspect)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return walk(*args)
    finally:
        if collecting:
            gc.enable()


def _intact_buckets(
    r: PageReader,
    reach: Reachable,
    freed: Freed,
    limit: int,
    root: int,
    marked: list[Sequence[int]],
) -> int:
    """The work of :func:`intact_buckets`; the number of pages, or raises Bail."""
    data = r.data
    size = r.size
    ps = r.ps
    batch = batch_pages(ps)
    visits = 0
    level = [root]
    while level:
        entries: list[tuple[int, int]] = []
        for at in range(0, len(level), batch):
            part = level[at : at + batch]
            if max(part) >= limit:
                raise Bail
            offs, flags, counts, overflows = page_headers(data, ps, part)
            n = len(part)
            if flags.count(LEAF_PAGE) != n:
                if flags.count(LEAF_PAGE) + flags.count(BRANCH_PAGE) != n:
                    raise Bail
                for pid, flag in zip(part, flags):
                    if flag == BRANCH_PAGE:
                        walked = _intact_walk(r, reach, freed, limit, pid, entries, marked, None)
                        visits += walked[0]
                keep = list(map(LEAF_PAGE.__eq__, flags))
                part = list(itertools.compress(part, keep))
                offs = list(itertools.compress(offs, keep))
                counts = tuple(itertools.compress(counts, keep))
                overflows = tuple(itertools.compress(overflows, keep))
                if not part:
                    continue
            # Root leaves: an empty one is an empty bucket; the others' keys
            # must be in order within each leaf.
            _mark_intact(reach, freed, part, marked, overflows)
            r.note_reads(len(part) + sum(overflows))
            visits += len(part)
            if 0 in counts:
                keep = list(map(bool, counts))
                offs = list(itertools.compress(offs, keep))
                counts = tuple(itertools.compress(counts, keep))
                if not offs:
                    continue
            keys = leaf_keys(data, size, ps, offs, counts, entries)[0]
            ordered = list(map(lt, keys, itertools.islice(keys, 1, None)))
            # The pairs across two leaves are not compared.
            bounds = map(sub, itertools.accumulate(counts[:-1]), repeat(1))
            any(map(ordered.__setitem__, bounds, repeat(True)))  # consumed in C
            if not all(ordered):
                raise Bail
        level = _bucket_roots(data, entries)
    return visits


def _bucket_roots(data: Data, entries: list[tuple[int, int]]) -> list[int]:
    """The root page ids of the non-inline buckets among ``entries`` (bucket
    values inside the file), as bbolt's ``openBucket`` reads them; raises
    Bail where it would fail (a value too short for an inline bucket)."""
    if not entries:
        return []
    vlens = list(map(itemgetter(1), entries))
    if min(vlens) < 16:
        raise Bail
    heads = map(_unpack_u64, repeat(data), map(itemgetter(0), entries))
    roots = list(map(itemgetter(0), heads))
    if 0 in roots and 16 in itertools.compress(vlens, map(not_, roots)):
        raise Bail  # an inline bucket without its page: openBucket fails
    return list(filter(None, roots))


def _intact_walk(
    r: PageReader,
    reach: Reachable,
    freed: Freed,
    limit: int,
    root: int,
    entries: list[tuple[int, int]] | None,
    marked: list[Sequence[int]],
    names: list[bytes] | None,
    counts_only: bool = False,
) -> tuple[int, int]:
    """The work of :func:`intact_items`; returns the number of pages and of
    items, or raises Bail."""
    data = r.data
    size = r.size
    ps = r.ps

    def mark(
        ids: Sequence[int], marked: list[Sequence[int]], overflows: Sequence[int] | None
    ) -> None:
        _mark_intact(reach, freed, ids, marked, overflows)

    if root >= limit:
        raise Bail
    offs, flags, counts, overflows = page_headers(data, ps, (root,))
    # Counting reads no value: a leaf's overflow pages are nobody's concern.
    mark((root,), marked, None if counts_only else overflows)
    r.note_reads(1 + overflows[0])  # a leaf's keys lie among its values, overflow included
    if flags[0] == LEAF_PAGE:
        if counts[0] and counts_only:
            return 1, leaf_items(data, ps, offs, counts)
        if counts[0]:
            keys = leaf_keys(data, size, ps, offs, counts, entries, names)[0]
            if not all(map(lt, keys, itertools.islice(keys, 1, None))):
                raise Bail
        return 1, counts[0]
    if flags[0] != BRANCH_PAGE:
        raise Bail
    visits = 1
    items = 0
    batch = step = batch_pages(ps)
    # Branch pages to visit, in key order from the end: (offset, count,
    # depth, min key, max key).
    stack: list[tuple[int, int, int, bytes | None, bytes | Above]] = [
        (offs[0], counts[0], 0, None, ABOVE)
    ]
    while stack:
        # The children of the next branches of one depth, in key order,
        # with the bounds of their keys.
        depth = stack[-1][2]
        children: list[int] = []
        lows: list[bytes] = []
        highs: list[bytes | Above] = []
        while (
            stack
            and stack[-1][2] == depth
            and (not children or len(children) + stack[-1][1] <= batch)
        ):
            off, count, _, mn, mx = stack.pop()
            if not count:
                raise Bail
            if counts_only:  # no bounds: the cursor's walk reads no branch key
                children += branch_fields(data, size, ps, off, count)[2::4]
                continue
            bkeys, ids = branch_keys(data, size, ps, off, count)
            if mn is not None and mn > bkeys[0]:
                raise Bail
            children += ids
            lows += bkeys
            highs += itertools.islice(bkeys, 1, None)
            highs.append(mx)
        if max(children) >= limit:
            raise Bail
        visits += len(children)
        below: list[tuple[int, int, int, bytes | None, bytes | Above]] = []
        # At most a batch of pages at a time (one branch may have more),
        # fewer leaves when they have overflow pages (see _step).
        at = 0
        while at < len(children):
            overflow = _unpack_header(data, children[at] * ps)[3]
            if overflow:
                step = min(step, _step(batch, 1, (overflow,)))
            part = children[at : at + step] if at or len(children) > step else children
            n = len(part)
            at += n
            r.note_reads(n)
            uniform = uniform_leaves(data, ps, part, not counts_only)
            if uniform is not None:
                mark(part, marked, None)
                step = batch  # no overflow pages
                keys, count, _, _ = uniform
                firsts, lasts = keys[::count], keys[count - 1 :: count]
                n_items = n * count
            else:
                offs, flags, counts, overflows = page_headers(data, ps, part)
                mark(part, marked, None if counts_only else overflows)
                r.note_reads(sum(overflows))
                step = _step(batch, n, overflows)
                if flags.count(BRANCH_PAGE) == n:
                    if counts_only:
                        below += zip(offs, counts, repeat(depth + 1), repeat(None), repeat(ABOVE))
                    else:
                        below += zip(
                            offs, counts, repeat(depth + 1), lows[at - n :], highs[at - n :]
                        )
                    continue
                if flags.count(LEAF_PAGE) != n or 0 in counts:
                    raise Bail
                if counts_only:
                    n_items = leaf_items(data, ps, offs, counts)
                else:
                    keys, firsts, lasts, _ = leaf_keys(data, size, ps, offs, counts, entries, names)
                    n_items = len(keys)
            if below:
                raise Bail  # leaves and branches side by side
            items += n_items
            if counts_only:
                continue
            # Each leaf's keys lie in [its key in the branch, the next key
            # or the branch's own bound): then every ordering bbolt
            # verifies, branch keys included, holds.
            if (
                not all(map(lt, keys, itertools.islice(keys, 1, None)))
                or not all(map(le, itertools.islice(lows, at - n, at), firsts))
                or not all(map(lt, lasts, itertools.islice(highs, at - n, at)))
            ):
                raise Bail
        if below:
            if len(below) != len(children):
                raise Bail  # leaves and branches side by side
            stack += reversed(below)
    return visits, items


def _mark_intact(
    reach: Reachable,
    freed: Freed,
    ids: Sequence[int],
    marked: list[Sequence[int]],
    overflows: Sequence[int] | None,
) -> None:
    """Mark pages ``ids`` (below the file's page count and the high-water
    mark) and their ``overflows`` reachable if nothing is to be said about
    them.  ``marked`` records what to undo."""
    bits = reach.bits
    n = len(ids)
    if (
        any(map(bits.__getitem__, ids))
        or any(map(freed.bits.__getitem__, ids))
        or (n > 1 and len(set(ids)) != n)
    ):
        raise Bail
    any(map(bits.__setitem__, ids, repeat(1)))  # consumed in C; each call returns None
    marked.append(ids)
    if overflows is not None and any(overflows):
        nbits = reach.nbits
        for pid, overflow in zip(ids, overflows):
            if overflow:
                end = pid + overflow + 1
                if end > nbits or bits.find(1, pid + 1, end) != -1:
                    raise Bail
                bits[pid + 1 : end] = b"\x01" * overflow
                marked.append(range(pid + 1, end))
