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


# The caches below (a declaration's construct struct, the element-array codecs)
# are filled as soon as anything reads a page: these tests make their own
# declarations and empty the cache entries they use, so that the code that
# fills them runs here.


def test_a_declaration_derives_format_size_and_construct() -> None:
    fields = (("a", "Int16ul"), ("inner", layout.BUCKET_HEADER_DECL), ("b", "Int8ul"))
    decl = layout.Declaration("Sample", *fields)
    assert decl.name == "Sample" and decl.fields == fields
    assert decl.format == "<HQQB" and decl.size == 2 + 8 + 8 + 1
    assert decl.codec().format == "<HQQB"
    built = decl.construct()
    assert decl.construct() is built  # built once
    raw = bytes.fromhex("0201" "0807060504030201" "1000000000000000" "ff")
    parsed = built.parse(raw)
    assert (parsed.a, parsed.inner.root, parsed.inner.sequence, parsed.b) == (
        0x0102, 0x0102030405060708, 16, 255)
    assert built.sizeof() == 19 and built.build(parsed) == raw
    assert decl.codec().unpack(raw) == (0x0102, 0x0102030405060708, 16, 255)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError) as e:
        layout.NoSuchStruct  # noqa: B018
    assert str(e.value) == "module 'pybbolt.layout' has no attribute 'NoSuchStruct'"


def test_page_type_names() -> None:
    # bbolt's Page.Typ(): exact flag values, anything else as unknown<%02x>.
    assert [layout.page_type_name(f) for f in (0x01, 0x02, 0x04, 0x10)] == [
        "branch", "leaf", "meta", "freelist"]
    assert layout.page_type_name(0x03) == "unknown<03>"
    assert layout.page_type_name(0) == "unknown<00>"
    assert layout.page_type_name(0x20) == "unknown<20>"


def test_freelist_page_construct() -> None:
    ids = layout.freelist_page_construct(3)
    assert ids.sizeof() == 24
    raw = (5).to_bytes(8, "little") + (2**40).to_bytes(8, "little") + (7).to_bytes(8, "little")
    assert list(ids.parse(raw)) == [5, 2**40, 7]
    assert list(layout.freelist_page_construct(0).parse(b"")) == []


@pytest.mark.parametrize("count", [1, 2, 3, 255])
def test_element_array_codec(count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(layout.ELEMENT_ARRAYS, count, raising=False)
    codec = layout.element_array(count)
    assert codec.format == f"<{4 * count}I" and codec.size == 16 * count
    assert layout.ELEMENT_ARRAYS[count] is codec
    assert layout.element_array(count) is codec  # cached
    # count elements as construct reads them, flattened to u32s
    leaf = b"".join(
        layout.LeafElement.build({"flags": i & 1, "pos": 16 * (count - i), "ksize": i, "vsize": 9})
        for i in range(count))
    assert codec.unpack(leaf) == tuple(
        v for i in range(count) for v in (i & 1, 16 * (count - i), i, 9))
    branch = b"".join(
        layout.BranchElement.build({"pos": 7, "ksize": i, "pgid": 2**33 + i}) for i in range(count))
    assert codec.unpack(branch) == tuple(
        v for i in range(count) for v in (7, i, i, 2))  # the u64 page id: low u32, high u32


def test_element_array_of_real_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole element array of each leaf and branch of a real file, in one
    unpack, is what construct reads element by element."""
    data = (FIXTURES / "many_buckets.db").read_bytes()
    seen = 0
    for off in range(0, len(data), 4096):
        hdr = layout.PageHeader.parse(data[off : off + 16])
        if hdr.flags not in (layout.BRANCH_PAGE, layout.LEAF_PAGE) or hdr.id != off // 4096:
            continue
        struct_ = layout.BranchElement if hdr.flags == layout.BRANCH_PAGE else layout.LeafElement
        expected: list[int] = []
        for i in range(hdr.count):
            e = struct_.parse(data[off + 16 + 16 * i : off + 32 + 16 * i])
            if hdr.flags == layout.BRANCH_PAGE:
                expected += [e.pos, e.ksize, e.pgid & 0xFFFFFFFF, e.pgid >> 32]
            else:
                expected += [e.flags, e.pos, e.ksize, e.vsize]
        monkeypatch.delitem(layout.ELEMENT_ARRAYS, hdr.count, raising=False)
        assert layout.element_array(hdr.count).unpack_from(data, off + 16) == tuple(expected)
        seen += 1
    assert seen > 50
