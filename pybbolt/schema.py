"""The on-disk structures of a bbolt file, declared once with construct.

This is the readable source of truth (it mirrors ``internal/common`` of bbolt
and FORMAT.md): page header, meta, branch and leaf elements, bucket header.
The hot paths use the equivalent precompiled codecs of :mod:`pybbolt.layout`;
``tests/test_layout.py`` proves they agree on real pages.
"""

from __future__ import annotations

from construct import Int16ul, Int32ul, Int64ul, Struct

from . import layout

PageHeader = Struct(
    "id" / Int64ul,
    "flags" / Int16ul,
    "count" / Int16ul,
    "overflow" / Int32ul,
)

Meta = Struct(
    "magic" / Int32ul,
    "version" / Int32ul,
    "page_size" / Int32ul,
    "flags" / Int32ul,
    "root" / Int64ul,
    "sequence" / Int64ul,
    "freelist" / Int64ul,
    "pgid" / Int64ul,
    "txid" / Int64ul,
    "checksum" / Int64ul,
)

BranchElement = Struct(
    "pos" / Int32ul,
    "ksize" / Int32ul,
    "pgid" / Int64ul,
)

LeafElement = Struct(
    "flags" / Int32ul,
    "pos" / Int32ul,
    "ksize" / Int32ul,
    "vsize" / Int32ul,
)

BucketHeader = Struct(
    "root" / Int64ul,
    "sequence" / Int64ul,
)

# An inline bucket value: the header, then a whole leaf page (id 0).
InlineBucketPrefix = Struct(
    "bucket" / BucketHeader,
    "page" / PageHeader,
)

MetaPage = Struct(
    "header" / PageHeader,
    "meta" / Meta,
)


assert layout.PAGE_HEADER.size == PageHeader.sizeof() == layout.PAGE_HEADER_SIZE
assert layout.META.size == Meta.sizeof() == layout.META_SIZE
assert layout.BRANCH_ELEMENT.size == BranchElement.sizeof() == layout.BRANCH_ELEMENT_SIZE
assert layout.LEAF_ELEMENT.size == LeafElement.sizeof() == layout.LEAF_ELEMENT_SIZE
assert layout.BUCKET_HEADER.size == BucketHeader.sizeof() == layout.BUCKET_HEADER_SIZE
