"""The page and element reader (pybbolt.page, bbolt's page.go): bounds at ±1,
counts, overflow counts and the exact messages of every refusal.

Pages are built by hand from the format (docs/FORMAT.md §4, §5, §7): a header
of id u64, flags u16, count u16, overflow u32, then 16-byte elements.  The
expected values are written out, not computed by the code under test.
"""

from __future__ import annotations

import json
import mmap
import struct
from collections import Counter
from typing import Any

import pytest

from pybbolt.errors import BboltPanic, CorruptionError
from pybbolt.node import decode_page
from pybbolt.page import (
    ELEMENT_SIZE,
    FarKey,
    InlinePage,
    PageHeader,
    PageReader,
    check_page,
    element_offset,
    element_within,
    elements_start,
    far_key,
    go_compare,
    has_prefix,
    item_spans,
    keys_equal,
    read_freelist_ids,
    read_header,
    sliceable,
)

from .conftest import FIXTURES
from .content import make_bucket

PS = 256


def header(pgid: int, flags: int, count: int, overflow: int = 0) -> bytes:
    return struct.pack("<QHHI", pgid, flags, count, overflow)


def leaf_page(pgid: int, items: list[tuple[int, bytes, bytes]], size: int = PS) -> bytes:
    """A leaf page as bbolt writes it: elements, then key, value, key, value..."""
    elements = b""
    data = b""
    n = len(items)
    for i, (flags, k, v) in enumerate(items):
        pos = 16 * (n - i) + len(data)
        elements += struct.pack("<IIII", flags, pos, len(k), len(v))
        data += k + v
    page = header(pgid, 0x02, n) + elements + data
    return page.ljust(size, b"\0")


def branch_page(pgid: int, children: list[tuple[bytes, int]], size: int = PS) -> bytes:
    elements = b""
    data = b""
    n = len(children)
    for i, (k, child) in enumerate(children):
        pos = 16 * (n - i) + len(data)
        elements += struct.pack("<IIQ", pos, len(k), child)
        data += k
    return (header(pgid, 0x01, n) + elements + data).ljust(size, b"\0")


# --- headers ------------------------------------------------------------------


def test_read_header_fields() -> None:
    buf = bytes(8) + header(7, 0x02, 3, 1)
    assert read_header(buf, 8) == PageHeader(7, 2, 3, 1)


def test_read_header_bounds() -> None:
    buf = bytes(4) + header(1, 0x02, 0)  # 20 bytes
    assert read_header(buf, 4) == PageHeader(1, 2, 0, 0)  # ends exactly at the end
    with pytest.raises(CorruptionError) as e:
        read_header(buf, 5)  # one byte past
    assert str(e.value) == "page header at offset 5 is beyond the end of the data"
    with pytest.raises(CorruptionError) as e:
        read_header(buf, -1)
    assert str(e.value) == "page header at offset -1 is beyond the end of the data"


def test_check_page_messages() -> None:
    check_page(PageHeader(4, 0x10, 0, 0), 4)
    with pytest.raises(CorruptionError) as e:
        check_page(PageHeader(5, 0x02, 0, 0), 4)
    assert str(e.value) == "assertion failed: Page expected to be: 4, but self identifies as 5"
    with pytest.raises(CorruptionError) as e:
        check_page(PageHeader(4, 0x03, 0, 0), 4)  # two type bits: not a type
    assert str(e.value) == "assertion failed: page 4: has unexpected type/flags: 3"


# --- where elements are -------------------------------------------------------


def test_element_offsets() -> None:
    assert ELEMENT_SIZE == 16
    assert element_offset(0, 0) == 16
    assert element_offset(4096, 3) == 4096 + 16 + 48


def test_element_within_bounds() -> None:
    # Element 1 of the page at 0 occupies [32, 48).
    assert element_within(48, 0, 1) == 32
    assert element_within(47, 0, 1) is None
    assert element_within(49, 0, 1) == 32


def test_item_spans() -> None:
    # Key 3 bytes at element+20, value 5 bytes right after it.
    assert item_spans(100, 20, 3, 5) == (120, 123, 128)
    assert item_spans(100, 20, 0, 0) == (120, 120, 120)


def test_elements_start_bounds() -> None:
    assert elements_start(16 + 32, 0, 2, 9) == 16
    with pytest.raises(CorruptionError) as e:
        elements_start(16 + 31, 0, 2, 9)
    assert str(e.value) == "page 9: 2 elements run past the end of the data"


# --- decoding whole pages (the normal read path) ------------------------------


def test_decode_leaf_page() -> None:
    page = leaf_page(3, [(0, b"a", b"1"), (1, b"bb", b"\0" * 16), (0, b"c", b"")])
    node = decode_page(bytes(3 * PS) + page, 3 * PS, 3)
    assert node.is_leaf
    assert node.keys == [b"a", b"bb", b"c"]
    assert node.values == [b"1", b"\0" * 16, b""]
    assert node.flags == [0, 1, 0]


def test_decode_branch_page() -> None:
    page = branch_page(2, [(b"a", 5), (b"m", 2**40 + 1)])
    node = decode_page(bytes(2 * PS) + page, 2 * PS, 2)
    assert not node.is_leaf
    assert node.keys == [b"a", b"m"]
    assert node.pgids == [5, 2**40 + 1]


def test_decode_leaf_value_one_byte_past_the_data() -> None:
    page = leaf_page(0, [(0, b"k", b"vv")])[:16 + 16 + 3]  # key and value end at 35
    node = decode_page(page, 0, 0)
    assert node.values == [b"vv"]
    with pytest.raises(CorruptionError) as e:
        decode_page(page[:-1], 0, 0)
    assert str(e.value) == "page 0: leaf element 0 points outside the data"


def test_decode_branch_key_one_byte_past_the_data() -> None:
    page = branch_page(0, [(b"abc", 9)])[: 16 + 16 + 3]
    assert decode_page(page, 0, 0).keys == [b"abc"]
    with pytest.raises(CorruptionError) as e:
        decode_page(page[:-1], 0, 0)
    assert str(e.value) == "page 0: branch element 0 points outside the data"


def test_decode_count_past_the_data() -> None:
    page = header(0, 0x02, 2) + bytes(31)  # the second element lacks one byte
    with pytest.raises(CorruptionError) as e:
        decode_page(page, 0, 0)
    assert str(e.value) == "page 0: 2 elements run past the end of the data"


def test_decode_refuses_other_types() -> None:
    page = header(1, 0x10, 0).ljust(PS, b"\0")
    with pytest.raises(CorruptionError) as e:
        decode_page(bytes(PS) + page, PS, 1)
    assert str(e.value) == "invalid page type: 1: 10"


def test_empty_branch_keeps_element_zero_child() -> None:
    # bbolt enters element 0 of a branch even when it has none.
    page = header(0, 0x01, 0) + struct.pack("<IIQ", 0, 0, 77)
    node = decode_page(page, 0, 0)
    assert node.keys == [] and node.pgids == [77]


# --- freelist pages -------------------------------------------------------------


def test_freelist_ids_sorted() -> None:
    page = header(2, 0x10, 3) + struct.pack("<3Q", 9, 3, 4)
    assert read_freelist_ids(bytes(2 * PS) + page.ljust(PS, b"\0"), 2, PS) == [3, 4, 9]


def test_freelist_overflow_count() -> None:
    # A count of 0xFFFF in the header: the real count is the first u64.
    page = header(1, 0x10, 0xFFFF) + struct.pack("<Q", 2) + struct.pack("<2Q", 8, 7)
    data = bytes(PS) + page
    assert read_freelist_ids(data, 1, PS) == [7, 8]
    with pytest.raises(CorruptionError) as e:
        read_freelist_ids(data[:-1], 1, PS)
    assert str(e.value) == "freelist page 1: 2 ids run past the end of the file"
    with pytest.raises(CorruptionError) as e:
        read_freelist_ids(data[: PS + 16 + 7], 1, PS)
    assert str(e.value) == "freelist page 1: count is beyond the end of the file"


def test_freelist_overflow_count_ends_the_data() -> None:
    # the u64 count ends exactly at the end of the data: zero ids, nothing more to read
    page = header(1, 0x10, 0xFFFF) + struct.pack("<Q", 0)
    assert read_freelist_ids(bytes(PS) + page, 1, PS) == []


def test_sliceable_gives_bytes_slices() -> None:
    for buf in (bytearray(b"abc"), memoryview(b"abc")):
        out = sliceable(buf)
        assert type(out) is bytes and out == b"abc"
    raw = b"abc"
    assert sliceable(raw) is raw  # no copy
    with mmap.mmap(-1, 16) as m:
        assert sliceable(m) is m  # no copy of the file: its slices are bytes already


def test_freelist_ids_bounds_and_type() -> None:
    page = header(0, 0x10, 2) + struct.pack("<2Q", 5, 6)
    assert read_freelist_ids(page, 0, PS) == [5, 6]  # ends exactly at the end
    with pytest.raises(CorruptionError) as e:
        read_freelist_ids(page[:-1], 0, PS)
    assert str(e.value) == "freelist page 0: 2 ids run past the end of the file"
    with pytest.raises(CorruptionError) as e:
        read_freelist_ids(header(0, 0x02, 0), 0, PS)
    assert str(e.value) == "invalid freelist page: 0, page type is leaf"


# --- PageReader: bbolt's reads, bbolt's panics -----------------------------------


def test_reader_page_and_assertions() -> None:
    data = leaf_page(0, [(0, b"k", b"v")]) + branch_page(7, [(b"a", 0)])
    r = PageReader(data, PS)
    assert r.page(0) == (0, 0x02, 1, 0)
    with pytest.raises(BboltPanic) as e:
        r.page(1)
    assert str(e.value) == "assertion failed: Page expected to be: 1, but self identifies as 7"
    assert e.value.report == (
        "panic: assertion failed: Page expected to be: 1, but self identifies as 7"
    )
    assert e.value.pgid == 1 and not e.value.fatal


def test_reader_page_past_the_file_faults() -> None:
    data = leaf_page(0, []) + header(1, 0x02, 0)  # page 1: just its header
    r = PageReader(data, PS)
    assert r.offset(1) == PS
    with pytest.raises(BboltPanic) as e:
        PageReader(data[:-1], PS).offset(1)
    assert e.value.fatal
    assert str(e.value) == (
        "fatal error: fault: read of page 1 at offset 256 is beyond the end of the file "
        "(271 bytes)"
    )


def test_reader_elements_past_count_and_past_the_file() -> None:
    data = leaf_page(0, [(0, b"k", b"v")], size=48)
    r = PageReader(data, PS)
    # Past count, inside the file: element 1 is the bytes "kv" and zeros.
    assert r.leaf_element(0, 1) == (0x766B, 0, 0, 0)
    with pytest.raises(BboltPanic) as e:
        r.leaf_element(0, 2)
    assert str(e.value) == (
        "fatal error: fault: read of offset 48 is beyond the end of the file (48 bytes)"
    )


def test_reader_key_running_past_the_file() -> None:
    data = leaf_page(0, [(0, b"key", b"")], size=0)[:34]  # the key would end at 35
    r = PageReader(data, PS)
    assert r.leaf_element(0, 0) == (0, 16, 3, 0)
    key = r.key(16, 16, 3)
    # The part inside the file; bbolt faults only once something reads further.
    assert isinstance(key, FarKey) and bytes(key) == b"ke" and key.full == 3
    assert r.value(16, 16, 3, 0) == (35, 0)


def test_reader_slice_limit() -> None:
    r = PageReader(leaf_page(0, []), PS)
    with pytest.raises(BboltPanic) as e:
        r.key(16, 0x7FFFFFFF, 1)
    assert str(e.value) == (
        "runtime error: slice bounds out of range [::2147483648] with length 2147483647"
    )


def test_reader_open_bucket() -> None:
    inline = struct.pack("<QQ", 0, 3) + header(0, 0x02, 0)
    data = bytes(64) + inline + struct.pack("<QQ", 9, 0)
    r = PageReader(data, PS)
    assert r.open_bucket(64 + 32, 16) == (9, None)
    root, page = r.open_bucket_page(64, 32)
    assert root == 0 and isinstance(page, InlinePage)
    assert page.offset == 80 and page.header() == (0, 0x02, 0, 0)
    with pytest.raises(BboltPanic) as e:
        r.open_bucket(64, 0)
    assert str(e.value) == "runtime error: index out of range [0] with length 0"
    with pytest.raises(BboltPanic) as e:
        r.open_bucket(64, 16)  # root 0 and nothing after the header
    assert str(e.value) == "runtime error: index out of range [16] with length 16"


def test_inline_page_reads_past_its_value() -> None:
    # An unaligned value is copied by bbolt: past its end reads zeros.
    data = b"\xff" * 3 + struct.pack("<QQ", 0, 0) + header(0, 0x02, 1) + b"\xff" * 16
    copied = InlinePage(data, 3, 32, copied=True)
    assert copied.leaf_element(0) == (0, 0, 0, 0)
    # An aligned one is read in place: past the end of the file faults.
    aligned = InlinePage(data[3:], 0, 32, copied=False)
    assert aligned.leaf_element(0) == (0xFFFFFFFF,) * 4
    with pytest.raises(BboltPanic) as e:
        aligned.leaf_element(1)
    assert str(e.value) == (
        "fatal error: fault: read of offset 48 is beyond the end of the file (48 bytes)"
    )


# --- PageReader's exact walks against Go's content (the check's and stats' walks) --
#
# The manifest records what Go bbolt reads from each fixture; PageReader's own
# cursor walk, its seeks and its page walk must find exactly that.


def _manifest(name: str) -> tuple[bytes, dict[str, Any]]:
    data = json.loads((FIXTURES / "manifest.json").read_text())
    entry = next(d for d in data["databases"] if d["path"] == name)
    return (FIXTURES / name).read_bytes(), entry


def _inline_items(page: InlinePage) -> list[tuple[bytes, int, int, int]]:
    """(key, flags, value offset in the file, value length) of an inline
    bucket's page, read element by element."""
    _, flags, count, _ = page.header()
    assert flags == 0x02
    items = []
    for i in range(count):
        eflags, pos, ksize, vsize = page.leaf_element(i)
        at = 16 + 16 * i + pos
        items.append((page.read(at, ksize), eflags, page.offset + at + ksize, vsize))
    return items


def _bucket(r: PageReader, name: bytes, voff: int, vlen: int,
            seeks: list[tuple[int, list[bytes]]]) -> dict[str, Any]:
    """One bucket in the manifest format, read with PageReader alone."""
    root, page = r.open_bucket_page(voff, vlen)
    (sequence,) = struct.unpack_from("<Q", r.data, voff + 8)
    if page is None:
        assert r.open_bucket(voff, vlen) == (root, None)
        items = [(bytes(k), f, o, n) for k, f, o, n in r.cursor_items(root)]
        seeks.append((root, [k for k, _, _, _ in items]))
    else:
        assert r.open_bucket(voff, vlen) == (0, voff + 16)
        items = _inline_items(page)
    pairs = [(k, bytes(r.data[o : o + n])) for k, f, o, n in items if not f & 1]
    subs = [_bucket(r, k, o, n, seeks) for k, f, o, n in items if f & 1]
    return make_bucket(name, sequence, page is not None, pairs, subs)


@pytest.mark.parametrize("name", ["churn_seed1.db", "nested.db", "binary_keys.db", "overflow.db"])
def test_reader_walks_read_what_go_reads(name: str) -> None:
    data, entry = _manifest(name)
    ps = entry["page_size"]
    reads: list[int] = []
    r = PageReader(memoryview(data), ps, reads.append)
    assert r.data == data and r.npages == len(data) // ps
    assert r.budget == 8 * (len(data) // ps + 1) + 1_000_000
    meta = entry["meta"]
    seeks: list[tuple[int, list[bytes]]] = []
    top = [(bytes(k), f, o, n) for k, f, o, n in r.cursor_items(meta["root"])]
    assert all(f == 1 for _, f, _, _ in top)
    buckets = [_bucket(r, k, o, n, seeks) for k, _, o, n in top]
    assert {"page_size": ps, "buckets": buckets} == entry["content"]
    seeks.append((meta["root"], [k for k, _, _, _ in top]))

    # Seeks find the keys (some of each bucket: the walks run slowly under
    # mutation testing), and past a key its successor or the end of its leaf
    # (the raw seek does not move on to the next leaf).
    for root, keys in seeks:
        first = r.seek(root, b"")
        assert (first and bytes(first[0])) == (keys[0] if keys else None)
        last = len(keys) - 1
        for i in [*range(0, last, 1 + last // 8), last] if keys else []:
            key = keys[i]
            found = r.seek(root, key)
            assert found is not None and bytes(found[0]) == key
            after = r.seek(root, key + b"\0")
            assert after is None or bytes(after[0]) == keys[i + 1]

    # The page walks of every bucket, the metas and the freelist cover the file
    # up to the high-water mark, each page once (Go's check passes on it).
    visits = r.visits
    pages: Counter[int] = Counter([0, 1])
    yielded = 0
    for root, _ in seeks:
        for pgid, off, flags, count, overflow, ids in r.iter_pages(root):
            yielded += 1
            assert off == pgid * ps
            assert struct.unpack_from("<QHHI", data, off) == (pgid, flags, count, overflow)
            assert ids[0] == root and ids[-1] == pgid
            if len(ids) > 1:
                parent = ids[-2] * ps
                n = struct.unpack_from("<H", data, parent + 10)[0]
                kids = [struct.unpack_from("<Q", data, parent + 24 + 16 * j)[0] for j in range(n)]
                assert pgid in kids
            pages.update(range(pgid, pgid + overflow + 1))
    assert r.visits == visits + yielded
    assert sum(reads) == r.visits
    free = meta["freelist"]
    (free_overflow,) = struct.unpack_from("<I", data, free * ps + 12)
    pages.update(range(free, free + free_overflow + 1))
    pages.update(read_freelist_ids(data, free, ps))
    assert pages == Counter(range(meta["pgid"]))


# --- PageReader on hand-built trees: bbolt's moves, loops and faults ------------


def pages(*built: bytes) -> bytes:
    """A file of PS-byte pages: page i is ``built[i]`` (b"" for a zero page)."""
    return b"".join(p.ljust(PS, b"\0") for p in built)


def test_go_compare_plain_and_far_keys() -> None:
    assert (go_compare(b"a", b"b"), go_compare(b"b", b"a"), go_compare(b"a", b"a")) == (-1, 1, 0)
    assert (go_compare(b"a", b"ab"), go_compare(b"ab", b"a")) == (-1, 1)
    data = b"....abc"
    far = far_key(data, 5, 4)  # "bc" inside the file, 2 more bytes past its end
    assert (bytes(far), far.full, far.at, far.end) == (b"bc", 4, 5, 7)
    # decided by the bytes inside the file, or by the lengths: no fault
    assert (go_compare(far, b"bd"), go_compare(b"bd", far), go_compare(far, b"bb")) == (-1, 1, 1)
    assert (go_compare(far, b"bc"), go_compare(b"bc", far), go_compare(far, b"b")) == (1, -1, 1)
    for x, y in ((far, b"bcd"), (b"bcd", far), (far, b"bcde")):
        with pytest.raises(BboltPanic) as e:
            go_compare(x, y)
        assert str(e.value) == (
            "fatal error: fault: read of offset 7 is beyond the end of the file (7 bytes)")
    # two far keys: the one whose bytes run out first faults
    longer, shorter = far_key(b"..abc", 2, 9), far_key(b"....ab", 4, 9)
    for x, y in ((longer, shorter), (shorter, longer)):
        with pytest.raises(BboltPanic) as e:
            go_compare(x, y)
        assert str(e.value) == (
            "fatal error: fault: read of offset 6 is beyond the end of the file (6 bytes)")
    nothing = far_key(b"abc", 5, 2)  # starts past the end
    assert (bytes(nothing), nothing.full, nothing.at, nothing.end) == (b"", 2, 5, 3)


def test_keys_equal_and_has_prefix() -> None:
    assert keys_equal(b"ab", b"ab") and not keys_equal(b"ab", b"ac")
    assert not keys_equal(b"ab", b"abc") and not keys_equal(b"", b"a")
    far = far_key(b"..ab", 2, 3)
    assert not keys_equal(far, b"ab") and not keys_equal(b"abcd", far)  # lengths differ
    with pytest.raises(BboltPanic):
        keys_equal(far, b"abc")  # same length: the bytes are compared
    assert has_prefix(b"abc", b"ab") and has_prefix(b"abc", b"abc") and has_prefix(b"a", b"")
    assert not has_prefix(b"abc", b"abd") and not has_prefix(b"a", b"ab")
    far5 = far_key(b"..abc", 2, 5)
    assert has_prefix(far5, b"ab") and not has_prefix(far5, b"b")
    assert has_prefix(far5, b"abc")  # exactly the bytes inside the file
    assert not has_prefix(far5, b"abcdef")  # longer than the whole key
    with pytest.raises(BboltPanic) as e:
        has_prefix(far5, b"abcd")
    assert str(e.value) == (
        "fatal error: fault: read of offset 5 is beyond the end of the file (5 bytes)")


def test_page_header_value_semantics() -> None:
    h = PageHeader(1, 2, 3, 4)
    assert h == PageHeader(1, 2, 3, 4) and h != PageHeader(1, 2, 3, 5)
    assert h != (1, 2, 3, 4)
    assert hash(h) == hash((1, 2, 3, 4))  # as a frozen dataclass hashes
    assert repr(h) == "PageHeader(id=1, flags=2, count=3, overflow=4)"
    assert (h.id, h.flags, h.count, h.overflow) == (1, 2, 3, 4)


def test_reader_budget() -> None:
    reads: list[int] = []
    r = PageReader(bytes(2 * PS), PS, reads.append)
    assert (r.npages, r.visits, r.budget, r.ps, r.size) == (2, 0, 1_000_024, PS, 2 * PS)
    r.tick(3)
    r.tick(2, read=False)
    assert (r.visits, reads) == (5, [3])
    r.visits = r.budget - 1
    r.tick()
    with pytest.raises(BboltPanic) as e:
        r.tick()
    assert e.value.fatal
    assert e.value.report == (  # printed as it is, not as a panic value
        "fatal error: gave up after 1000024 page visits: the pages reference each other "
        "in loops or many times over (bbolt would not finish)")
    assert PageReader(bytes(100), 0).npages == 0  # a damaged meta's page size 0
    PageReader(bytes(100), PS).tick()  # no note_reads: nothing to tell


def test_reader_offset_limits() -> None:
    r = PageReader(bytes(2 * PS), 1)
    with pytest.raises(BboltPanic) as e:
        r.offset(0xFFFFFFFFFFFF)
    assert str(e.value) == (
        "runtime error: index out of range [281474976710655] with length 281474976710655")
    with pytest.raises(BboltPanic) as e:
        r.offset(0xFFFFFFFFFFFE)
    assert str(e.value) == ("fatal error: fault: read of page 281474976710654 at offset "
                            "281474976710654 is beyond the end of the file (512 bytes)")
    # the offset is computed on 64 bits, as Go's uintptr
    assert PageReader(bytes(2 * PS), 4096).offset(1 << 52) == 0
    assert r.offset(2 * PS - 16) == 2 * PS - 16


def test_reader_page_type_and_header_at() -> None:
    data = pages(header(0, 0x03, 0), header(1, 0x10, 5, 2))
    r = PageReader(data, PS)
    with pytest.raises(BboltPanic) as e:
        r.page(0)
    assert e.value.report == "panic: assertion failed: page 0: has unexpected type/flags: 3"
    assert e.value.pgid == 0
    assert r.page(1) == (PS, 0x10, 5, 2)
    assert r.header_at(PS) == (1, 0x10, 5, 2)
    assert r.header_at(2 * PS - 16) == (0, 0, 0, 0)
    with pytest.raises(BboltPanic) as e:
        r.header_at(2 * PS - 15)
    assert str(e.value) == (
        "fatal error: fault: read of offset 497 is beyond the end of the file (512 bytes)")


def test_reader_elements_keys_and_values() -> None:
    data = branch_page(0, [(b"ab", 2**40 + 3)], size=16 + 16 + 2)
    r = PageReader(data, PS)
    assert r.branch_element(0, 0) == (16, 2, 2**40 + 3)
    assert r.key(16, 16, 2) == b"ab" and not isinstance(r.key(16, 16, 2), FarKey)
    assert r.key(16, 16, 0) == b"" and r.key(16, 1000, 0) == b""  # nothing to read
    assert r.key(16, 0x7FFFFFFF - 1, 1) == b""  # [::MaxAllocSize] is allowed
    far = r.key(16, 17, 2)
    assert isinstance(far, FarKey) and (bytes(far), far.full, far.at) == (b"b", 2, 33)
    with pytest.raises(BboltPanic) as e:
        r.branch_element(0, 1)
    assert str(e.value) == (
        "fatal error: fault: read of offset 32 is beyond the end of the file (34 bytes)")
    assert r.value(16, 16, 2, 5) == (34, 5)
    assert r.value(16, 0x7FFFFFFF - 6, 1, 5) == (16 + 0x7FFFFFFF - 5, 5)
    with pytest.raises(BboltPanic) as e:
        r.value(16, 0x7FFFFFFF - 6, 2, 5)
    assert str(e.value) == (
        "runtime error: slice bounds out of range [::2147483648] with length 2147483647")


def test_reader_open_bucket_alignment() -> None:
    # An unaligned value is copied: only its own bytes count, zeros after them.
    data = b"\x00" * 3 + b"\x01\x02\x03" + b"\xff" * 10
    r = PageReader(data, PS)
    assert r.open_bucket_page(3, 3) == (0x030201, None)
    assert r.open_bucket_page(3, 13) == (0xFFFFFFFFFF030201, None)
    with pytest.raises(BboltPanic) as e:
        r.open_bucket_page(3, 14)  # the copy runs one byte past the file
    assert str(e.value) == (
        "fatal error: fault: read of offset 16 is beyond the end of the file (16 bytes)")
    with pytest.raises(BboltPanic) as e:
        r.open_bucket_page(17, 1)
    assert str(e.value) == (
        "fatal error: fault: read of offset 17 is beyond the end of the file (16 bytes)")
    # An aligned one is read in place: 8 bytes, whatever the value's length.
    assert r.open_bucket_page(0, 1) == (0xFFFF030201000000, None)
    assert r.open_bucket_page(8, 1) == (0xFFFFFFFFFFFFFFFF, None)
    with pytest.raises(BboltPanic) as e:
        PageReader(data[:15], PS).open_bucket_page(8, 1)
    assert str(e.value) == (
        "fatal error: fault: read of offset 15 is beyond the end of the file (15 bytes)")
    with pytest.raises(BboltPanic) as e:
        PageReader(data[:15], PS).open_bucket_page(24, 1)
    assert str(e.value) == (
        "fatal error: fault: read of offset 24 is beyond the end of the file (15 bytes)")
    # root 0: the inline page follows the 16-byte header, one byte of it is enough
    zeros = PageReader(bytes(40), PS)
    root, page = zeros.open_bucket_page(8, 17)
    assert root == 0 and isinstance(page, InlinePage)
    assert (page.voff, page.vend, page.copied, page.offset) == (8, 25, False, 24)
    root, page = zeros.open_bucket_page(9, 17)
    assert page is not None and page.copied and zeros.open_bucket(9, 17) == (0, 25)


def test_inline_page_branch_elements() -> None:
    value = struct.pack("<QQ", 0, 0) + branch_page(0, [(b"k", 2**33 + 1)], size=16 + 16 + 1)
    page = InlinePage(value, 0, len(value), copied=False)
    assert page.header() == (0, 0x01, 1, 0)
    assert page.branch_element(0) == (16, 1, 2**33 + 1)
    assert page.read(32, 1) == b"k"
    assert page.read(32, 0) == b""
    copied = InlinePage(b"\xee" + value + b"\xee" * 8, 1, len(value) - 1, copied=True)
    assert copied.read(32, 1) == b"\0"  # past the value: zeros, not the byte in the file
    assert copied.read(28, 5) == b"\x02\0\0\0\0"  # the page id's high half, then zeros
    assert page.read(28, 5) == b"\x02\0\0\0k"


def tree() -> bytes:
    """Root 1 -> (2 -> (leaf 3: a b, leaf 4: c), leaf 5: m n, with an overflow page)."""
    return pages(
        b"",
        branch_page(1, [(b"a", 2), (b"m", 5)]),
        branch_page(2, [(b"a", 3), (b"c", 4)]),
        leaf_page(3, [(0, b"a", b"1"), (0, b"b", b"2")]),
        leaf_page(4, [(1, b"c", b"3")]),
        header(5, 0x02, 2, 1) + leaf_page(5, [(0, b"m", b"4"), (0, b"n", b"5")])[16:],
        b"",
    )


def test_iter_pages_order_and_stacks() -> None:
    r = PageReader(tree(), PS)
    walk = [(pgid, off, flags, count, overflow, list(ids))
            for pgid, off, flags, count, overflow, ids in r.iter_pages(1)]
    assert walk == [
        (1, 256, 0x01, 2, 0, [1]),
        (2, 512, 0x01, 2, 0, [1, 2]),
        (3, 768, 0x02, 2, 0, [1, 2, 3]),
        (4, 1024, 0x02, 1, 0, [1, 2, 4]),
        (5, 1280, 0x02, 2, 1, [1, 5]),
    ]
    assert r.visits == 5
    assert [w[0] for w in r.iter_pages(3)] == [3]  # a leaf root


def test_cursor_items_and_seek_on_a_tree() -> None:
    reads: list[int] = []
    r = PageReader(tree(), PS, reads.append)
    items = [(bytes(k), f, o, n) for k, f, o, n in r.cursor_items(1)]
    assert items == [(b"a", 0, 817, 1), (b"b", 0, 819, 1), (b"c", 1, 1057, 1),
                     (b"m", 0, 1329, 1), (b"n", 0, 1331, 1)]
    assert r.visits == 5 and reads == [1] * 5  # each page pushed once
    found = {key: r.seek(1, key) for key in (b"", b"0", b"a", b"b", b"bb", b"c", b"d", b"m",
                                            b"n", b"z")}
    assert {k: v and bytes(v[0]) for k, v in found.items()} == {
        b"": b"a", b"0": b"a", b"a": b"a", b"b": b"b", b"bb": None, b"c": b"c", b"d": None,
        b"m": b"m", b"n": b"n", b"z": None}
    assert found[b"c"] == (b"c", 1, 1057, 1) and found[b"n"] == (b"n", 0, 1331, 1)
    assert r.visits == 5 + 3 * 7 + 2 * 3  # three pages deep on the left, two on the right


def test_walks_skip_empty_pages_and_enter_element_zero() -> None:
    data = pages(
        branch_page(0, [(b"a", 1), (b"b", 2), (b"c", 3), (b"d", 1)]),
        leaf_page(1, []),
        leaf_page(2, []),
        leaf_page(3, [(0, b"x", b"")]),
        header(4, 0x01, 0) + struct.pack("<IIQ", 0, 0, 3),  # no elements, yet element 0
        branch_page(5, [(b"a", 6)]),
        header(6, 0x10, 1) + struct.pack("<IIQ", 0, 0, 3),  # not a branch: read as one
    )
    r = PageReader(data, PS)
    assert [bytes(k) for k, _, _, _ in r.cursor_items(0)] == [b"x"]
    assert list(r.cursor_items(1)) == []
    assert [bytes(k) for k, _, _, _ in r.cursor_items(4)] == [b"x"]
    assert [bytes(k) for k, _, _, _ in r.cursor_items(5)] == [b"x"]
    assert [w[0] for w in r.iter_pages(4)] == [4]
    assert [w[0] for w in r.iter_pages(5)] == [5, 6]
    with pytest.raises(BboltPanic) as e:
        r.seek(4, b"x")
    assert str(e.value) == "runtime error: index out of range [0] with length 0"
    with pytest.raises(BboltPanic) as e:
        r.seek(5, b"x")
    assert str(e.value) == "invalid page type: 6: 10" and e.value.pgid == 6
    assert r.seek(1, b"x") is None


@pytest.mark.parametrize(
    ("children", "walk", "stack"),
    [
        ([(b"a", 2)], [1, 2, 1], "[1 2 1]"),  # 1 -> 2 -> 1
        ([(b"a", 1)], [1, 1], "[1 1]"),  # its own child
    ],
)
def test_walks_stop_on_loops(children: list[tuple[bytes, int]], walk: list[int],
                             stack: str) -> None:
    data = pages(b"", branch_page(1, children), branch_page(2, [(b"a", 1)]))
    r = PageReader(data, PS)
    seen = []
    with pytest.raises(BboltPanic) as e:
        for pgid, *_ in r.iter_pages(1):
            seen.append(pgid)
    assert seen == walk
    message = f"fatal error: stack overflow: page 1 is its own descendant (stack: {stack})"
    assert str(e.value) == message
    with pytest.raises(BboltPanic) as e:
        list(r.cursor_items(1))
    assert str(e.value) == message
    with pytest.raises(BboltPanic) as e:
        r.seek(1, b"a")
    assert str(e.value) == message


def test_walks_stop_on_a_loop_below_the_root() -> None:
    # 1 -> 2 -> 3 -> 2; a short budget stops a walk that missed the loop at once
    data = pages(b"", branch_page(1, [(b"a", 2)]), branch_page(2, [(b"a", 3)]),
                 branch_page(3, [(b"a", 2)]))
    message = "fatal error: stack overflow: page 2 is its own descendant (stack: [1 2 3 2])"
    for walk in (lambda r: list(r.cursor_items(1)), lambda r: r.seek(1, b"a"),
                 lambda r: list(r.iter_pages(1))):
        r = PageReader(data, PS)
        r.budget = 50
        with pytest.raises(BboltPanic) as e:
            walk(r)
        assert str(e.value) == message


def test_cursor_loop_at_a_later_element() -> None:
    data = pages(b"", branch_page(1, [(b"a", 2), (b"m", 1)]), leaf_page(2, [(0, b"k", b"")]))
    r = PageReader(data, PS)
    with pytest.raises(BboltPanic) as e:
        for item in r.cursor_items(1):
            assert bytes(item[0]) == b"k"
    assert str(e.value) == (
        "fatal error: stack overflow: page 1 is its own descendant (stack: [1 1])")


def test_iter_pages_faults_and_assertions() -> None:
    # 20 elements on the last page: the 16th starts at the end of the file.
    data = leaf_page(0, []) + header(1, 0x01, 20) + struct.pack("<IIQ", 0, 0, 0) * 15
    seen = []
    with pytest.raises(BboltPanic) as e:
        for pgid, *_ in PageReader(data, PS).iter_pages(1):
            seen.append(pgid)
    assert seen == [1] + [0] * 15
    assert str(e.value) == (
        "fatal error: fault: read of offset 512 is beyond the end of the file (512 bytes)")
    for child, message in [
        (9, "fatal error: fault: read of page 9 at offset 2304 is beyond the end of the file "
            "(768 bytes)"),
        (2, "assertion failed: Page expected to be: 2, but self identifies as 5"),
        (0, "assertion failed: page 0: has unexpected type/flags: 3"),
    ]:
        data = pages(header(0, 0x03, 0), branch_page(1, [(b"a", child)]), header(5, 0x02, 0))
        with pytest.raises(BboltPanic) as e:
            list(PageReader(data, PS).iter_pages(1))
        assert str(e.value) == message


def test_iter_pages_child_header_cut_by_the_end_of_the_file() -> None:
    data = pages(b"", branch_page(1, [(b"a", 2)])) + header(2, 0x02, 0)[:8]
    with pytest.raises(BboltPanic) as e:
        list(PageReader(data, PS).iter_pages(1))
    assert str(e.value) == (
        "fatal error: fault: read of page 2 at offset 512 is beyond the end of the file "
        "(520 bytes)")


def test_iter_pages_tells_its_reads_in_batches() -> None:
    # One branch of 4100 elements, all to the same leaf: 4101 pages visited.
    count = 4100
    branch = header(0, 0x01, count) + struct.pack("<IIQ", 0, 0, 257) * count
    data = branch.ljust(257 * PS, b"\0") + leaf_page(257, [])
    reads: list[int] = []
    r = PageReader(data, PS, reads.append)
    assert sum(1 for _ in r.iter_pages(0)) == count + 1
    assert reads == [1, 4096, 4] and r.visits == count + 1
