"""The precompiled struct codecs agree with the construct declarations on real pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybbolt import fastpath, layout
from pybbolt.meta import Meta, fnv1a64

from .conftest import FIXTURES, GOLDEN


def _real_files() -> list[Path]:
    files = sorted(FIXTURES.glob("*.db"))
    if GOLDEN.is_dir():
        files += sorted((GOLDEN / "db").glob("*.db"))
    return files


def _pages(path: Path):  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    ps = Meta.decode(data).page_size
    if not 512 <= ps <= 65536 or len(data) % ps:
        ps = 4096
    for off in range(0, len(data) - ps + 1, ps):
        yield data, off, ps


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_struct_codecs_match_construct(path: Path) -> None:
    checked = 0
    for data, off, _ps in _pages(path):
        hdr = layout.PageHeader.parse(data[off : off + 16])
        fast = layout.PAGE_HEADER.unpack_from(data, off)
        assert fast == (hdr.id, hdr.flags, hdr.count, hdr.overflow)
        if hdr.flags == layout.META_PAGE and hdr.id in (0, 1):
            m = layout.Meta.parse(data[off + 16 : off + 80])
            assert layout.META.unpack_from(data, off + 16) == tuple(
                m[f] for f in ("magic", "version", "page_size", "flags", "root", "sequence",
                               "freelist", "pgid", "txid", "checksum")
            )
        elif hdr.flags in (layout.BRANCH_PAGE, layout.LEAF_PAGE) and hdr.id == off // _ps:
            is_branch = hdr.flags == layout.BRANCH_PAGE
            struct_ = layout.BranchElement if is_branch else layout.LeafElement
            codec = (
                layout.BRANCH_ELEMENT if hdr.flags == layout.BRANCH_PAGE else layout.LEAF_ELEMENT
            )
            for i in range(min(hdr.count, (len(data) - off - 16) // 16)):
                at = off + 16 + 16 * i
                parsed = struct_.parse(data[at : at + 16])
                assert codec.unpack_from(data, at) == tuple(
                    v for k, v in parsed.items() if not k.startswith("_")
                )
                checked += 1
    if path.stat().st_size > 16384:
        assert checked > 0


def test_round_trip_build() -> None:
    raw = layout.PageHeader.build({"id": 7, "flags": 2, "count": 3, "overflow": 1})
    assert raw == layout.PAGE_HEADER.pack(7, 2, 3, 1)
    raw = layout.LeafElement.build({"flags": 1, "pos": 16, "ksize": 3, "vsize": 9})
    assert raw == layout.LEAF_ELEMENT.pack(1, 16, 3, 9)
    raw = layout.BranchElement.build({"pos": 32, "ksize": 5, "pgid": 2**40})
    assert raw == layout.BRANCH_ELEMENT.pack(32, 5, 2**40)
    assert layout.BucketHeader.build({"root": 9, "sequence": 4}) == layout.BUCKET_HEADER.pack(9, 4)
    empty = {"bucket": {"root": 0, "sequence": 0},
             "page": {"id": 0, "flags": layout.LEAF_PAGE, "count": 0, "overflow": 0}}
    assert layout.InlineBucketPrefix.build(empty) == layout.EMPTY_INLINE_BUCKET


def test_fresh_file_checksums_from_spec() -> None:
    # docs/FORMAT.md §19: the two metas of a fresh 4096-byte-page file.
    m0 = Meta(layout.MAGIC, 2, 4096, 0, 3, 0, 2, 4, 0, 0)
    m1 = Meta(layout.MAGIC, 2, 4096, 0, 3, 0, 2, 4, 1, 0)
    assert m0.sum64() == 0x07516E114689FDEE
    assert m1.sum64() == 0x264C351A5179480F
    assert fnv1a64(b"") == layout.FNV_OFFSET


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_leaf_layout_codecs_match_construct(path: Path) -> None:
    """A leaf's keys and values cut by its layout's one Struct (the scans' and
    the gets' fast path, ``fastpath.leaf_page_run``, or ``fastpath.leaf_run``
    for a page with overflow pages) are those construct reads from the
    element headers."""
    fast_path = 0
    for data, off, ps in _pages(path):
        hdr = layout.PageHeader.parse(data[off : off + 16])
        if hdr.flags != layout.LEAF_PAGE or hdr.id != off // ps:
            continue
        expected: list[tuple[int, bytes, bytes]] = []
        for i in range(hdr.count):
            at = off + 16 + 16 * i
            e = layout.LeafElement.parse(data[at : at + 16])
            start = at + e.pos
            expected.append((e.flags, data[start : start + e.ksize],
                             data[start + e.ksize : start + e.ksize + e.vsize]))
        run = fastpath.leaf_page_run(data, off, off // ps)
        if hdr.overflow:
            # A page with overflow pages takes the general path, which the
            # transaction counts page by page: the same cut, one element array.
            assert run is None
            run = fastpath.leaf_run(data, off, hdr.count, off // ps)
        assert run is not None
        assert list(zip(*run)) == expected
        fast_path += fastpath._LAYOUTS.get(data[off + 16 : off + 16 + 16 * hdr.count]) is not None
    if path.stat().st_size > 16384:
        assert fast_path > 0


@pytest.mark.parametrize(
    ("decl", "codec", "size"),
    [
        (layout.PAGE_HEADER_DECL, layout.PAGE_HEADER, 16),
        (layout.META_DECL, layout.META, 64),
        (layout.BRANCH_ELEMENT_DECL, layout.BRANCH_ELEMENT, 16),
        (layout.LEAF_ELEMENT_DECL, layout.LEAF_ELEMENT, 16),
        (layout.BUCKET_HEADER_DECL, layout.BUCKET_HEADER, 16),
        (layout.INLINE_BUCKET_DECL, None, 32),
        (layout.META_PAGE_DECL, None, 80),
        (layout.FREELIST_OVERFLOW_DECL, None, 24),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_hot_codecs_are_derived_from_the_declarations(
    decl: layout.Declaration, codec: object, size: int
) -> None:
    """One declaration per structure: the struct codec of the hot paths and the
    construct struct of the cold paths have its size (docs/FORMAT.md §4-§7)."""
    assert decl.size == size == decl.construct().sizeof()
    if codec is not None:
        assert codec.size == size and codec.format == decl.format
    values = list(range(1, len(decl.format)))  # one small value per field ("<" aside)
    flat = decl.codec().pack(*values)
    assert decl.codec().unpack(flat) == tuple(values)
    assert decl.construct().build(decl.construct().parse(flat)) == flat
