"""The bbolt file format: its constants and its on-disk structures.

The structures (page header, meta, branch and leaf elements, bucket header,
freelist header: bbolt's ``internal/common``, docs/FORMAT.md) are declared
once, below, as construct structs built from a list of fields each.  The cold
paths parse with those construct structs (:data:`PageHeader`, :data:`Meta`,
:data:`LeafElement`, ... built on first use): the ``page``, ``page-item`` and
``dump`` commands, surgery, meta validation and the freelist page of the dumps.

The hot paths (every page read of ``get``, cursors, scans, check, stats) use
precompiled :class:`struct.Struct` codecs whose formats and sizes are derived
from the same declarations: construct interprets a struct field by field,
about 55 times slower than a ``struct`` unpack (a 16-byte leaf element,
timed with ``timeit`` on the 2-core development machine, busy with other
jobs: 86 us for ``LeafElement.parse`` against 1.6 us for
``LEAF_ELEMENT.unpack_from``), and importing construct costs about as much
as the whole start-up of ``pybbolt get`` (about 30 ms), so this module does
not import construct until a cold path asks for a construct struct.
``tests/test_layout.py`` proves the two agree on real pages.

All integers are little-endian: bbolt writes native byte order, and every
platform of interest is little-endian.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import construct

# --- constants ----------------------------------------------------------------

MAGIC = 0xED0CDAED
VERSION = 2

BRANCH_PAGE = 0x01
LEAF_PAGE = 0x02
META_PAGE = 0x04
FREELIST_PAGE = 0x10

BUCKET_LEAF_FLAG = 0x01

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
    return TYPE_NAMES.get(flags) or f"unknown<{flags:02x}>"


# The names of the page types (page_type_name adds the unknown ones).
TYPE_NAMES = {
    BRANCH_PAGE: "branch",
    LEAF_PAGE: "leaf",
    META_PAGE: "meta",
    FREELIST_PAGE: "freelist",
}

# --- the on-disk structures, declared once --------------------------------------

# construct's little-endian integer types, and the struct code of each.
_CODES = {"Int8ul": "B", "Int16ul": "H", "Int32ul": "I", "Int64ul": "Q"}


class Declaration:
    """An on-disk structure: its fields in order, each a construct integer
    type (by name) or a nested :class:`Declaration`.

    ``format`` and ``size`` (for :class:`struct.Struct`) are derived from the
    fields; :meth:`construct` builds the equivalent construct struct.
    """

    __slots__ = ("_built", "fields", "format", "name", "size")

    def __init__(self, name: str, *fields: tuple[str, str | Declaration]) -> None:
        self.name = name
        self.fields = fields
        self.format = "<" + self._codes()
        self.size = struct.calcsize(self.format)
        self._built: construct.Struct | None = None

    def _codes(self) -> str:
        return "".join(
            kind._codes() if isinstance(kind, Declaration) else _CODES[kind]
            for _, kind in self.fields
        )

    def construct(self) -> construct.Struct:
        """The construct struct of this declaration (imports construct)."""
        if self._built is None:
            import construct

            self._built = construct.Struct(
                *(
                    name / (kind.construct() if isinstance(kind, Declaration)
                            else getattr(construct, kind))
                    for name, kind in self.fields
                )
            )
        return self._built

    def codec(self) -> struct.Struct:
        """The precompiled struct codec of this declaration (flat field order)."""
        return struct.Struct(self.format)


PAGE_HEADER_DECL = Declaration(
    "PageHeader",
    ("id", "Int64ul"),
    ("flags", "Int16ul"),
    ("count", "Int16ul"),
    ("overflow", "Int32ul"),
)
META_DECL = Declaration(
    "Meta",
    ("magic", "Int32ul"),
    ("version", "Int32ul"),
    ("page_size", "Int32ul"),
    ("flags", "Int32ul"),
    ("root", "Int64ul"),  # the root bucket's header: its root page id ...
    ("sequence", "Int64ul"),  # ... and its sequence
    ("freelist", "Int64ul"),
    ("pgid", "Int64ul"),  # the high-water mark
    ("txid", "Int64ul"),
    ("checksum", "Int64ul"),  # FNV-1a 64 of the fields above
)
BRANCH_ELEMENT_DECL = Declaration(
    "BranchElement",
    ("pos", "Int32ul"),  # key offset, from the element
    ("ksize", "Int32ul"),
    ("pgid", "Int64ul"),  # the child page
)
LEAF_ELEMENT_DECL = Declaration(
    "LeafElement",
    ("flags", "Int32ul"),  # BUCKET_LEAF_FLAG for a nested bucket
    ("pos", "Int32ul"),  # key offset, from the element; the value follows the key
    ("ksize", "Int32ul"),
    ("vsize", "Int32ul"),
)
BUCKET_HEADER_DECL = Declaration(
    "BucketHeader",
    ("root", "Int64ul"),  # 0: an inline bucket, whose page follows the header
    ("sequence", "Int64ul"),
)
# An inline bucket value: the header, then a whole leaf page (id 0).
INLINE_BUCKET_DECL = Declaration(
    "InlineBucketPrefix", ("bucket", BUCKET_HEADER_DECL), ("page", PAGE_HEADER_DECL)
)
META_PAGE_DECL = Declaration("MetaPage", ("header", PAGE_HEADER_DECL), ("meta", META_DECL))
# A freelist page whose header count is FREELIST_COUNT_OVERFLOW: the real
# count is the first u64 after the header, then the ids.
FREELIST_OVERFLOW_DECL = Declaration(
    "FreelistOverflowHeader", ("header", PAGE_HEADER_DECL), ("count", "Int64ul")
)

# Names of the construct structs (built on first use, see __getattr__).
_CONSTRUCTS = {
    d.name: d
    for d in (
        PAGE_HEADER_DECL,
        META_DECL,
        BRANCH_ELEMENT_DECL,
        LEAF_ELEMENT_DECL,
        BUCKET_HEADER_DECL,
        INLINE_BUCKET_DECL,
        META_PAGE_DECL,
        FREELIST_OVERFLOW_DECL,
    )
}


def __getattr__(name: str) -> construct.Struct:
    """``layout.PageHeader``, ``layout.Meta``, ...: the construct structs, built
    (and construct imported) on first use."""
    decl = _CONSTRUCTS.get(name)
    if decl is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return decl.construct()


def freelist_page_construct(count: int) -> construct.Struct:
    """A freelist page of ``count`` ids (after the header and any overflow count)."""
    import construct

    return construct.Array(count, construct.Int64ul)


# --- precompiled codecs for hot paths, derived from the declarations -------------

PAGE_HEADER = PAGE_HEADER_DECL.codec()
META = META_DECL.codec()
BRANCH_ELEMENT = BRANCH_ELEMENT_DECL.codec()
LEAF_ELEMENT = LEAF_ELEMENT_DECL.codec()
BUCKET_HEADER = BUCKET_HEADER_DECL.codec()
U64 = struct.Struct("<Q")

PAGE_HEADER_SIZE = PAGE_HEADER.size
BRANCH_ELEMENT_SIZE = BRANCH_ELEMENT.size
LEAF_ELEMENT_SIZE = LEAF_ELEMENT.size
META_SIZE = META.size
BUCKET_HEADER_SIZE = BUCKET_HEADER.size

# The value CreateBucket stores: an inline bucket holding an empty leaf page.
EMPTY_INLINE_BUCKET = BUCKET_HEADER.pack(0, 0) + PAGE_HEADER.pack(0, LEAF_PAGE, 0, 0)


# count -> the codec of that many elements: the one cache of element-array codecs.
ELEMENT_ARRAYS: dict[int, struct.Struct] = {}


def element_array(count: int) -> struct.Struct:
    """The codec of ``count`` consecutive 16-byte elements, as 4 u32 each.

    Branch and leaf elements are both four little-endian u32 (a branch's u64
    page id is its last two), so a page's whole element array is packed or
    unpacked in one call.
    """
    codec = ELEMENT_ARRAYS.get(count)
    if codec is None:
        codec = ELEMENT_ARRAYS[count] = struct.Struct(f"<{4 * count}I")
    return codec


# Deeper than any real tree (fanout >= 2 on 2^64 pages): a deeper descent
# means the pages form a cycle.
MAX_DEPTH = 64
