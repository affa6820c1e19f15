"""Tx.check on damage around the freelist, the leak scan, bucket lookups and page-id limits.

Each damaged file is checked in-process; the expected output is the bbolt v1.5.0 CLI's on
the same file (run here, or recorded where bbolt needs more memory than the tests give it).
Where bbolt dies (exit status 2: a fault, a stack overflow, a panic it does not recover)
the check's last error is bbolt's panic text, or pybbolt's fatal report, with its page id.
"""

from __future__ import annotations

import mmap
import resource
import struct
import subprocess
from pathlib import Path

import pybbolt
from pybbolt import layout
from pybbolt.check import check
from pybbolt.errors import FATAL, PANIC, CheckError
from pybbolt.meta import Meta
from pybbolt.pagebits import MAX_EXTRA_IDS

from .conftest import GOLDEN
from .test_check import (
    MB_FREELIST,
    MB_GAMMA,
    MB_ROOT_LEAF,
    PS,
    _abandon_freelist,
    _bbolt_check,
    assert_well_formed,
    branch_child,
    deadline,
    render,
    run_check,
)

MB = "db/multi_buckets.db"  # 64 pages, high-water mark 44
NESTED = "db/nested.db"
FL = MB_FREELIST * PS  # offset of multi_buckets.db's freelist page

Edit = tuple[int, str, int]

# nested.db: bucket root1's root is leaf 7 holding a (bucket, root 4), b (bucket, root
# branch 21), c (inline bucket), root1-key and root1-last-tx (plain values); these are
# the file offsets of those keys (each value follows its key).
_N_LEAF = 7
_A, _B, _C, _RLAST = 28768, 28785, 28802, 28855


def _element(i: int, flags: int, key_at: int, ksize: int, vsize: int) -> list[Edit]:
    """Edits that point leaf element ``i`` of nested.db's page 7 at the key at ``key_at``."""
    e = _N_LEAF * PS + 16 + 16 * i
    return [(e, "<I", flags), (e + 4, "<I", key_at - e), (e + 8, "<I", ksize),
            (e + 12, "<I", vsize)]


def build(tmp_path: Path, src: str, edits: list[Edit], copies: tuple[tuple[int, int], ...] = (),
          size: int | None = None) -> Path:
    """A copy of golden ``src`` with ``edits``; ``copies`` of (page id, source page)
    put a page's bytes at that id (its header saying it is that id); cut to ``size``."""
    data = bytearray((GOLDEN / src).read_bytes())
    for pgid, source in copies:
        data[pgid * PS : (pgid + 1) * PS] = data[source * PS : (source + 1) * PS]
        struct.pack_into("<Q", data, pgid * PS, pgid)
    for off, fmt, value in edits:
        struct.pack_into(fmt, data, off, value)
    path = tmp_path / "x.db"
    path.write_bytes(bytes(data[:size]))
    return path


# name -> (source, edits, page copies, the page ids to check from)
_CASES: dict[str, tuple[str, list[Edit], tuple[tuple[int, int], ...], list[int]]] = {
    # a plain 'a' whose value names b's root, then a bucket 'a' (bbolt's lookup finds the
    # plain one and skips it), then b, whose branch lists leaf 9 twice
    "bucket-key-found-plain": (
        NESTED,
        [*_element(0, 0, _A, 1, 16), *_element(1, 1, _A, 1, 16), *_element(2, 1, _B, 1, 16),
         *_element(3, 1, _C, 1, 32), *_element(4, 0, _RLAST, 13, 31),
         (_A + 1, "<Q", 21), (21 * PS + 16 + 16 * 3 + 8, "<Q", 9)],
        (),
        [0, _N_LEAF],
    ),
    # a plain value keyed 'b' after the buckets (its lookup would find bucket b), and a
    # bucket with an empty key (its lookup lands on bucket a, another key)
    "plain-key-of-a-bucket-and-empty-bucket-key": (
        NESTED, [*_element(3, 0, _B, 1, 16), *_element(4, 1, _RLAST, 0, 31)], (), [0, _N_LEAF]),
    # root2's root set to root1's: every page of root1 is reached twice, root2's leak
    "sibling-buckets-share-a-root": (NESTED, [(32842, "<Q", 7)], (), [0]),
    # a leaf with one overflow page over the next leaf walked; the last leaf's over the
    # branch walked first
    "overflow-over-a-later-page": (MB, [(6 * PS + 12, "<I", 1)], (), [0]),
    "overflow-over-an-earlier-page": (MB, [(40 * PS + 12, "<I", 1)], (), [0]),
    # a child at the high-water mark (44) is in bounds, one past it is not (leaf 6 copied
    # there; the file has 64 pages); leaf 7's overflow over leaf 8 sends the tree to the
    # exact walk
    "child-at-the-high-water-mark": (
        MB, [(branch_child(MB_GAMMA, 2), "<Q", 44), (7 * PS + 12, "<I", 1)], ((44, 6),),
        [0, MB_GAMMA]),
    "child-past-the-high-water-mark": (MB, [(branch_child(MB_GAMMA, 2), "<Q", 45)], ((45, 6),),
                                       [0, MB_GAMMA]),
    # the meta pages are read through tx.page, which asserts their ids
    "meta-0-says-it-is-page-7": (MB, [(0, "<Q", 7)], (), [0]),
    "meta-1-says-it-is-page-7": (MB, [(PS, "<Q", 7)], (), [0]),
    # a free id of 2**63 with an ordinary count is just an id (only a count of 0xffff
    # makes the first one a count): page 4, listed there before, leaks
    "free-id-2-to-the-63": (MB, [(FL + 16, "<Q", 1 << 63)], (), [0]),
}


def test_damage_as_bbolt(bbolt_cli: Path, tmp_path: Path) -> None:
    for name, (src, edits, copies, page_ids) in _CASES.items():
        path = build(tmp_path, src, edits, copies)
        for page_id in page_ids:
            with deadline(30):
                errors = run_check(path, page_id)
            assert_well_formed(errors)
            expected = _bbolt_check(bbolt_cli, path, page_id)
            assert expected[0] in (0, 1), (name, page_id, expected)
            assert (1 if errors else 0, render(errors)) == expected, (name, page_id)


def _only_error(path: Path) -> CheckError:
    errors = run_check(path)
    assert len(errors) == 1, errors
    return errors[0]


def _fields(e: CheckError) -> tuple[str, str, int | None, bool]:
    return str(e), e.kind, e.pgid, e.fatal


def test_freelist_page_panics_as_bbolt(bbolt_cli: Path, tmp_path: Path) -> None:
    """bbolt's CLI dies with the panic as it loads the freelist; the check reports it on
    the freelist page.  A count of 0xffff puts the real count in the first id; it is read
    when the file holds its 8 bytes, exactly up to the end here."""
    cases: list[tuple[list[Edit], int | None, str]] = [
        ([(FL + 8, "<H", layout.LEAF_PAGE)], None,
         "invalid freelist page: 43, page type is leaf"),
        ([(FL + 10, "<H", 0xFFFF), (FL + 16, "<Q", 1 << 63)], None,
         "leading element count 9223372036854775808 overflows int"),
        ([(FL + 10, "<H", 0xFFFF), (FL + 16, "<Q", 1 << 63)], FL + 24,
         "leading element count 9223372036854775808 overflows int"),
    ]
    for edits, size, text in cases:
        path = build(tmp_path, MB, edits, size=size)
        assert _fields(_only_error(path)) == ("panic: " + text, PANIC, MB_FREELIST, False)
        status, _, stderr = _bbolt_output(bbolt_cli, path)
        assert (status, stderr.splitlines()[0]) == (2, "panic: " + text)


def test_freelist_read_past_the_file_is_fatal(tmp_path: Path) -> None:
    """Free ids past the end of the file: bbolt reads outside the file (what it finds
    there is not defined); the check ends with a fault on the freelist page."""
    path = build(tmp_path, MB, [(FL + 10, "<H", 0xFFFF), (FL + 16, "<Q", 10**9)])
    end = (GOLDEN / MB).stat().st_size
    assert _fields(_only_error(path)) == (
        f"fatal error: fault: read of page 43 at offset {end} is beyond the end of the "
        f"file ({end} bytes)",
        FATAL, MB_FREELIST, True,
    )


def test_freelist_count_cut_by_the_end_of_the_file(bbolt_cli: Path, tmp_path: Path) -> None:
    """A file cut four bytes into the freelist's 8-byte count: the mapping shows zeros
    up to the end of the OS page, so the count's high half reads as 0 (2**63 becomes 0:
    an empty list, and the pages it listed leak), as bbolt's check reports."""
    assert PS == mmap.PAGESIZE
    path = build(tmp_path, MB, [(FL + 10, "<H", 0xFFFF), (FL + 16, "<Q", 1 << 63)],
                 size=FL + 20)
    errors = run_check(path)
    assert_well_formed(errors)
    assert errors[0].message == "page 4: unreachable unfreed"
    assert (1, render(errors)) == _bbolt_check(bbolt_cli, path, 0)


def _bbolt_output(bbolt: Path, path: Path) -> tuple[int, str, str]:
    def limit() -> None:  # as the golden recording: a 2 GiB address space
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    cp = subprocess.run([str(bbolt), "check", str(path)], capture_output=True, timeout=10,
                        preexec_fn=limit)
    return cp.returncode, cp.stdout.decode(), cp.stderr.decode("utf-8", "replace")


def test_rebuild_walk_that_dies(bbolt_cli: Path, tmp_path: Path) -> None:
    """No persisted freelist: bbolt rebuilds it at open in a goroutine of its own, where a
    panic is not recovered: the check ends with a fatal error, the walk's own text."""
    for child, text, pgid in [
        (1 << 50, "runtime error: index out of range [4611686018427387904] with length "
         "281474976710655", None),
        (1000, "fatal error: fault: read of page 1000 at offset 4096000 is beyond the end "
         "of the file (262144 bytes)", 1000),
    ]:
        path = build(tmp_path, MB, [(branch_child(MB_GAMMA, 2), "<Q", child)])
        _abandon_freelist(path)
        assert _fields(_only_error(path)) == (text, FATAL, pgid, True)
        status, _, stderr = _bbolt_output(bbolt_cli, path)
        assert status == 2
        if pgid is None:  # a Go runtime error: bbolt's own text
            assert stderr.splitlines()[0] == "panic: " + text


def test_sub_bucket_below_its_own_root(tmp_path: Path) -> None:
    """level-2's root set to page 17, root2's root two levels up: bbolt recurses until
    it dies (recorded: status 2, out of memory after seconds); the check stops at the
    second visit with the bucket roots' stack."""
    path = build(tmp_path, NESTED, [(65609, "<Q", 17)])  # level-2's value in leaf 16
    with deadline(30):
        errors = run_check(path)
    assert [str(e) for e in errors[:-1]] == ["page 17: multiple references (stack: [17])"]
    assert _fields(errors[-1]) == (
        "fatal error: stack overflow: page 17 is its own descendant (stack: [8 17 16 17])",
        FATAL, 17, True,
    )


def test_leaks_past_the_bitmap(tmp_path: Path) -> None:
    """A high-water mark more than 2**24 pages past the end of the file: the check's
    bitmaps stop there (npages + 2**24 ids) and the ids past them are scanned one by one.
    The root leaf's overflow reaches every id up to the bitmap's end and the first one
    past it; one free id lies past it too.  The output was recorded with the bbolt CLI
    (it needs some 800 MB for the 2**24 reachable ids: more than the tests give it)."""
    data = bytearray((GOLDEN / MB).read_bytes())
    nbits = len(data) // PS + (1 << 24)
    for pgid in (0, 1):
        meta = Meta.decode(bytes(data), pgid * PS + 16)
        data[pgid * PS : (pgid + 1) * PS] = meta.with_changes(pgid=nbits + 4).encode_page(
            PS, pgid)
    struct.pack_into("<I", data, MB_ROOT_LEAF * PS + 12, nbits - MB_ROOT_LEAF)
    struct.pack_into("<Q", data, FL + 16 + 8 * 20, nbits + 1)  # the last free id, 37
    path = tmp_path / "far.db"
    path.write_bytes(bytes(data))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        errors = list(check(tx))
    assert_well_formed(errors)
    assert render(errors) == (
        "page 43: multiple references (stack: [42])\n"
        "page 37: unreachable unfreed\n"
        "page 16777282: unreachable unfreed\n"
        "page 16777283: unreachable unfreed\n"
        "4 errors found\n"
    )


def test_overflow_run_past_the_bitmap(tmp_path: Path) -> None:
    """Leaf 6's overflow run marking ids past the check's bitmap (the file's 64 pages and
    one more): up to MAX_EXTRA_IDS of them are kept, and the output is bbolt's (recorded
    with the bbolt CLI, which needs some 400 MB and seconds for them); one more and the
    check gives up, as bbolt runs out of memory in the recording's 2 GiB."""
    at_limit = build(tmp_path, MB, [(6 * PS + 12, "<I", MAX_EXTRA_IDS + 65 - 7)])
    errors = run_check(at_limit)
    assert_well_formed(errors)
    marked_before = [f"page {p}: multiple references (stack: [41 6])" for p in (41, 42, 43)]
    walked_after = [f"page {p}: multiple references (stack: [41 {p}])"
                    for p in [*range(7, 13), *range(23, 29), 38, 39, 40]]
    assert [str(e) for e in errors] == marked_before + walked_after
    over = build(tmp_path, MB, [(6 * PS + 12, "<I", MAX_EXTRA_IDS + 65 - 6)])
    errors = run_check(over)
    assert [str(e) for e in errors[:-1]] == marked_before
    assert _fields(errors[-1]) == (
        f"fatal error: runtime: out of memory (page overflow counts mark more than "
        f"{MAX_EXTRA_IDS} pages beyond the end of the file reachable)",
        FATAL, 65, True,
    )
