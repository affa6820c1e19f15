"""The page and element reader (pybbolt.page, bbolt's page.go): bounds at ±1,
counts, overflow counts and the exact messages of every refusal.

Pages are built by hand from the format (docs/FORMAT.md §4, §5, §7): a header
of id u64, flags u16, count u16, overflow u32, then 16-byte elements.  The
expected values are written out, not computed by the code under test.
"""

from __future__ import annotations

import struct

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
    item_spans,
    read_freelist_ids,
    read_header,
)

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
