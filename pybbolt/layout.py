"""Constants of the bbolt file format and the codecs hot paths use.

The structures are declared once, readably, with construct in
:mod:`pybbolt.schema`.  Hot paths cannot afford construct's per-field
interpretation (nor its import time on every CLI start), so each structure
also has a precompiled :class:`struct.Struct` here; ``tests/test_layout.py``
proves the two agree on real pages.  All integers are little-endian: bbolt
writes native byte order, and every platform of interest is little-endian.
"""

from __future__ import annotations

import struct

# --- constants ----------------------------------------------------------------

MAGIC = 0xED0CDAED
VERSION = 2

BRANCH_PAGE = 0x01
LEAF_PAGE = 0x02
META_PAGE = 0x04
FREELIST_PAGE = 0x10

BUCKET_LEAF_FLAG = 0x01

PAGE_HEADER_SIZE = 16
BRANCH_ELEMENT_SIZE = 16
LEAF_ELEMENT_SIZE = 16
META_SIZE = 64
BUCKET_HEADER_SIZE = 16

MAX_KEY_SIZE = 32768
MAX_VALUE_SIZE = (1 << 31) - 2
PGID_NO_FREELIST = 0xFFFFFFFFFFFFFFFF
# Freelist pages store their count in the header only below this value.
FREELIST_COUNT_OVERFLOW = 0xFFFF
MIN_KEYS_PER_PAGE = 2
DEFAULT_FILL_PERCENT = 0.5
MIN_FILL_PERCENT = 0.1
MAX_FILL_PERCENT = 1.0
DEFAULT_PAGE_SIZE = 4096
MAX_MMAP_STEP = 1 << 30
MAX_MAP_SIZE = 0xFFFFFFFFFFFF
MAX_ALLOC_SIZE = 0x7FFFFFFF
DEFAULT_ALLOC_SIZE = 16 * 1024 * 1024

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def page_type_name(flags: int) -> str:
    """Name of a page type as bbolt's tools print it (exact flag equality)."""
    return _TYPE_NAMES.get(flags) or f"unknown<{flags:02x}>"


_TYPE_NAMES = {
    BRANCH_PAGE: "branch",
    LEAF_PAGE: "leaf",
    META_PAGE: "meta",
    FREELIST_PAGE: "freelist",
}

# --- precompiled codecs for hot paths -----------------------------------------

PAGE_HEADER = struct.Struct("<QHHI")
META = struct.Struct("<IIIIQQQQQQ")
BRANCH_ELEMENT = struct.Struct("<IIQ")
LEAF_ELEMENT = struct.Struct("<IIII")
BUCKET_HEADER = struct.Struct("<QQ")
U64 = struct.Struct("<Q")

# The value CreateBucket stores: an inline bucket holding an empty leaf page.
EMPTY_INLINE_BUCKET = BUCKET_HEADER.pack(0, 0) + PAGE_HEADER.pack(0, LEAF_PAGE, 0, 0)


_ELEMENT_ARRAYS: dict[int, struct.Struct] = {}


def element_array(count: int) -> struct.Struct:
    """The codec of ``count`` consecutive 16-byte elements, as 4 u32 each.

    Branch and leaf elements are both four little-endian u32 (a branch's u64
    page id is its last two), so a page's whole element array is packed or
    unpacked in one call.
    """
    codec = _ELEMENT_ARRAYS.get(count)
    if codec is None:
        codec = _ELEMENT_ARRAYS[count] = struct.Struct(f"<{4 * count}I")
    return codec


# Deeper than any real tree (fanout >= 2 on 2^64 pages): a deeper descent
# means the pages form a cycle.
MAX_DEPTH = 64
