"""Tx.check against bbolt v1.5.0: the golden CLI outputs, damaged files, and the real tool.

The golden cases are replayed through the library with a local copy of the
CLI's rendering (each error on its line, then ``N errors found`` or ``OK``,
keys in the CLI's "auto" format).  The damaged files are made here from
copies of golden databases; the expected outputs of the crafted ones were
recorded with the bbolt v1.5.0 CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt import layout
from pybbolt.check import check, reachable_pages
from pybbolt.errors import (
    FATAL,
    KEY_ORDER,
    MULTIPLE_REFERENCES,
    OUT_OF_BOUNDS,
    PAGE_ID_OUT_OF_RANGE,
    PANIC,
    UNREACHABLE_UNFREED,
    CheckError,
)
from pybbolt.meta import Meta
from pybbolt.pagebits import Reachable

from .conftest import GOLDEN, need

# Same place conftest looks: ../shared next to the repository.
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
assert SHARED / "golden" == GOLDEN

PS = 4096
# Page ids in db/multi_buckets.db (hwm 44): the root bucket's leaf, the branch
# root of bucket gamma with its 18 leaves, the freelist page.
MB_ROOT_LEAF, MB_GAMMA, MB_FREELIST = 42, 41, 43


# --- helpers ------------------------------------------------------------------


def auto(b: bytes) -> str:
    """The CLI's "auto" key format: the text if printable UTF-8, else hex."""
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        return b.hex()
    return s if s.isprintable() else b.hex()


def render(errors: list[CheckError]) -> str:
    """What ``bbolt check`` prints on stdout."""
    out = "".join(f"{e}\n" for e in errors)
    return out + (f"{len(errors)} errors found\n" if errors else "OK\n")


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) if the block runs longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds}s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_check(
    path: Path, page_id: int = 0, kv: Callable[[bytes], str] | None = auto
) -> list[CheckError]:
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        return list(check(tx, page_id=page_id, kv_stringer=kv))


def damaged(tmp_path: Path, src: str, *edits: tuple[int, str, int], name: str = "x.db") -> Path:
    """A copy of golden ``src`` with ``(offset, struct format, value)`` edits applied."""
    data = bytearray((GOLDEN / src).read_bytes())
    for off, fmt, value in edits:
        struct.pack_into(fmt, data, off, value)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def branch_child(pgid: int, i: int) -> int:
    """File offset of the child id of branch element ``i`` of page ``pgid`` (4 KiB pages)."""
    return pgid * PS + 16 + 16 * i + 8


def leaf_value_offset(src: str, pgid: int, key: bytes) -> int:
    data = (GOLDEN / src).read_bytes()
    _, _, count, _ = layout.PAGE_HEADER.unpack_from(data, pgid * PS)
    for i in range(count):
        e = pgid * PS + 16 + 16 * i
        _, pos, ksize, _ = layout.LEAF_ELEMENT.unpack_from(data, e)
        if data[e + pos : e + pos + ksize] == key:
            return int(e + pos + ksize)
    raise AssertionError(f"{key!r} not on page {pgid}")


def assert_well_formed(errors: list[CheckError]) -> None:
    """Only CheckErrors; a PANIC or FATAL error can only come last."""
    assert all(isinstance(e, CheckError) for e in errors)
    for e in errors[:-1]:
        assert e.kind not in (PANIC, FATAL) and not e.fatal, errors
    if errors and errors[-1].fatal:
        assert errors[-1].kind == FATAL


# --- the golden cases -----------------------------------------------------------


def _page_id(argv: list[str]) -> int | None:
    """The --from-page of a `check {db}` case (0 if none); None for other argv."""
    if argv == ["check", "{db}"]:
        return 0
    if len(argv) == 4 and argv[1] == "--from-page" and argv[3] == "{db}" and argv[2].isdigit():
        return int(argv[2])
    return None


def _golden_check_cases() -> list[Any]:
    path = GOLDEN / "cases.jsonl"
    if not path.exists():
        return [pytest.param(None, id="golden-missing")]
    out = []
    for line in path.read_text().splitlines():
        case = json.loads(line)
        if case["group"] != "check" or not case["db"] or _page_id(case["argv"]) is None:
            continue
        if case["exit"] == 1 and not case.get("stdout"):
            continue  # the file does not open: not the check's business
        out.append(pytest.param(case, id=f"{case['id']}-{case['db']}-{_page_id(case['argv'])}"))
    return out


@pytest.mark.parametrize("case", _golden_check_cases())
def test_golden_check(case: dict[str, Any] | None, tmp_path: Path) -> None:
    need(case is not None, "../shared/golden is not present next to the repository")
    assert case is not None
    path = tmp_path / Path(case["db"]).name
    shutil.copyfile(GOLDEN / case["db"], path)
    page_id = _page_id(case["argv"])
    assert page_id is not None
    with deadline(60):
        errors = run_check(path, page_id)
    assert_well_formed(errors)
    if case["exit"] == 2:
        # bbolt dies reading past the end of the file (while opening, as the
        # CLI preloads the freelist): the library reports one fatal error.
        assert case["stdout"] == ""
        assert len(errors) == 1 and errors[0].fatal and errors[0].kind == FATAL
        return
    assert render(errors) == case["stdout"]


# --- structured errors and options -------------------------------------------------


def test_error_fields(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, "bad/branch_child_beyond_hwm.db")
    errors = run_check(path)
    assert [e.kind for e in errors] == [OUT_OF_BOUNDS, UNREACHABLE_UNFREED]
    assert (errors[0].pgid, errors[0].stack, errors[0].fatal) == (47, (41, 47), False)
    assert errors[1].pgid == 6 and errors[1].stack == ()
    assert str(errors[0]) == "page 47: out of bounds: 44 (stack: [41 47])"
    assert isinstance(errors[0], pybbolt.Error)


def test_default_key_format_is_hex(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, "bad/copy_page_key_order.db")
    errors = run_check(path, kv=None)
    first, ancestor = b"gamma-key-00057", b"gamma-key-00157"
    assert [str(e) for e in errors] == [
        f"the first key[0]=(hex){first.hex()} on leaf page(8) needs to be >= the key in the "
        f"ancestor ({ancestor.hex()}). Stack: [41 8]"
    ]
    assert errors[0].kind == KEY_ORDER and errors[0].key == first and errors[0].stack == (41, 8)


@pytest.mark.parametrize("page_id", [1, 44, 99999, -1])
def test_page_id_out_of_range(golden: Path, tmp_path: Path, page_id: int) -> None:
    errors = run_check(damaged(tmp_path, "db/multi_buckets.db"), page_id)
    assert [(e.kind, str(e)) for e in errors] == [
        (PAGE_ID_OUT_OF_RANGE, f"page ID ({page_id}) out of range [2, 44)")
    ]


def test_check_needs_an_open_transaction(golden: Path) -> None:
    with pybbolt.open(GOLDEN / "db/multi_buckets.db", readonly=True) as db:
        tx = db.view()
        tx.rollback()
        with pytest.raises(pybbolt.TxClosed):
            check(tx)


def test_check_is_lazy_and_can_stop_early(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, "bad/cleared_branch.db")
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        it = check(tx)
        assert str(next(it)) == "page 2: unreachable unfreed"
        assert len(list(it)) == 17


# --- the freelist the check loads -----------------------------------------------------


def _abandon_freelist(path: Path) -> None:
    """Both metas without a persisted freelist, as `surgery freelist abandon` leaves them."""
    data = bytearray(path.read_bytes())
    for pgid in (0, 1):
        meta = Meta.decode(bytes(data), pgid * PS + 16)
        page = meta.with_changes(freelist=layout.PGID_NO_FREELIST).encode_page(PS, pgid)
        data[pgid * PS : (pgid + 1) * PS] = page
    path.write_bytes(bytes(data))


def test_reachable_pages_partition_the_file(golden: Path) -> None:
    with pybbolt.open(GOLDEN / "db/multi_buckets.db", readonly=True) as db, db.view() as tx:
        seen, problem = reachable_pages(tx)
        free = set(tx.free_ids())
        assert problem is None
        assert {0, 1} <= seen
        assert not seen & free and MB_FREELIST not in seen | free
        assert seen | free | {MB_FREELIST} == set(range(tx.meta.pgid))


def test_unmarked_ids_are_those_not_reachable() -> None:
    """Reachable.unmarked (the rebuilt free ids) against membership, on bitmaps
    with runs marked inside and beyond the file."""
    rng = random.Random(5)
    for _ in range(300):
        reach = Reachable(rng.randrange(0, 40))
        for _ in range(rng.randrange(0, 6)):
            start = rng.randrange(0, 60)
            list(reach.mark(start, start + rng.randrange(0, 10)))
        start, limit = rng.randrange(0, 5), rng.randrange(0, 70)
        assert reach.unmarked(start, limit) == [p for p in range(start, limit) if p not in reach]


def test_rebuilt_freelist(golden: Path) -> None:
    """A file without a persisted freelist: the free ids are the unreachable pages."""
    with pybbolt.open(GOLDEN / "db/multi_buckets.db", readonly=True) as db, db.view() as tx:
        persisted = tx.free_ids()
    with pybbolt.open(GOLDEN / "bad/freelist_abandoned.db", readonly=True) as db, db.view() as tx:
        assert tx.meta.freelist == layout.PGID_NO_FREELIST
        assert tx.free_ids() == sorted([*persisted, MB_FREELIST])
        assert list(check(tx)) == []


def test_rebuild_reports_the_first_problem(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, "bad/copy_page_key_order.db")
    _abandon_freelist(path)
    problem = (
        f"the first key[0]=(hex){b'gamma-key-00057'.hex()} on leaf page(8) needs to be >= the "
        f"key in the ancestor ({b'gamma-key-00157'.hex()}). Stack: [41 8]"
    )
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert reachable_pages(tx)[1] == problem
        with pytest.raises(pybbolt.CorruptionError, match="freepages: failed to get all"):
            tx.free_ids()
        errors = list(check(tx, kv_stringer=auto))
    assert [(e.kind, str(e)) for e in errors] == [
        (PANIC, f"panic: freepages: failed to get all reachable pages ({problem})")
    ]


def test_freelist_page_of_the_wrong_type(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, "db/multi_buckets.db", (MB_FREELIST * PS + 8, "<H", 2))
    errors = run_check(path)
    assert [(e.kind, str(e)) for e in errors] == [
        (PANIC, "panic: invalid freelist page: 43, page type is leaf")
    ]


# --- damaged files: outputs recorded with the bbolt v1.5.0 CLI ---------------------

MB = "db/multi_buckets.db"
NESTED = "db/nested.db"

# (name, source, edits, page id, bbolt's output lines)
RECORDED: list[tuple[str, str, list[tuple[int, str, int]], int, list[str]]] = [
    (
        "child-is-a-zero-page",
        MB,
        [(branch_child(MB_GAMMA, 1), "<Q", 50)],
        0,
        ["panic: assertion failed: Page expected to be: 50, but self identifies as 0"],
    ),
    (
        "child-is-the-freelist",
        MB,
        [(branch_child(MB_GAMMA, 0), "<Q", MB_FREELIST)],
        0,
        [
            "page 43: multiple references (stack: [41 43])",
            "page 43: invalid type: freelist (stack: [41 43])",
            "unexpected page type (flags: 10) for pgId:43",
            "panic: invalid page type: 43: 10",
        ],
    ),
    (
        "child-id-too-large-to-map",
        MB,
        [(branch_child(MB_GAMMA, 2), "<Q", 1 << 50)],
        0,
        ["runtime error: index out of range [4611686018427387904] with length 281474976710655"],
    ),
    (
        "leaf-count-ffff",
        MB,
        [(6 * PS + 10, "<H", 0xFFFF)],
        0,
        ["runtime error: slice bounds out of range [::2509986522] with length 2147483647"],
    ),
    (
        "branch-count-ffff",
        MB,
        [(MB_GAMMA * PS + 10, "<H", 0xFFFF)],
        0,
        ["runtime error: index out of range [1369942023118229504] with length 281474976710655"],
    ),
    (
        "leaf-overflow-over-its-neighbours",
        MB,
        [(6 * PS + 12, "<I", 3)],
        0,
        [
            "page 7: multiple references (stack: [41 7])",
            "page 8: multiple references (stack: [41 8])",
            "page 9: multiple references (stack: [41 9])",
        ],
    ),
    (
        "freelist-duplicate",
        MB,
        [(MB_FREELIST * PS + 24, "<Q", 4)],
        0,
        ["page 4: already freed", "page 5: unreachable unfreed"],
    ),
    (
        # The freelist's count says "look at the first id", which is 4: the
        # ids read are 5, 13, 14, 15 and every other free page leaks.
        "freelist-count-ffff",
        MB,
        [(MB_FREELIST * PS + 10, "<H", 0xFFFF)],
        0,
        [f"page {p}: unreachable unfreed" for p in [4, *range(16, 23), *range(29, 38)]],
    ),
    (
        # bbolt's CLI dies with this panic as it preloads the freelist; a
        # library check recovers it.
        "freelist-count-overflows-int",
        MB,
        [(MB_FREELIST * PS + 10, "<H", 0xFFFF), (MB_FREELIST * PS + 16, "<Q", 1 << 63)],
        0,
        ["panic: leading element count 9223372036854775808 overflows int"],
    ),
    (
        "from-page-on-a-freelist-page",
        MB,
        [],
        MB_FREELIST,
        [
            "page 43: multiple references (stack: [43])",
            "page 43: invalid type: freelist (stack: [43])",
            "unexpected page type (flags: 10) for pgId:43",
            "unexpected page type (flags: 10) for pgId:43",
        ],
    ),
]


def _recorded_params() -> list[Any]:
    out = []
    for name, src, edits, page_id, lines in RECORDED:
        out.append(pytest.param(src, edits, page_id, lines, id=name))
    return out


@pytest.mark.parametrize(("src", "edits", "page_id", "lines"), _recorded_params())
def test_damaged_as_recorded(
    golden: Path,
    tmp_path: Path,
    src: str,
    edits: list[tuple[int, str, int]],
    page_id: int,
    lines: list[str],
) -> None:
    path = damaged(tmp_path, src, *edits)
    with deadline(30):
        errors = run_check(path, page_id)
    assert_well_formed(errors)
    assert [str(e) for e in errors] == lines
    assert not any(e.fatal for e in errors)


def test_bucket_root_is_the_freelist(golden: Path, tmp_path: Path) -> None:
    off = leaf_value_offset(MB, MB_ROOT_LEAF, b"gamma")
    errors = run_check(damaged(tmp_path, MB, (off, "<Q", MB_FREELIST)))
    assert [str(e) for e in errors] == [
        "page 43: multiple references (stack: [43])",
        "page 43: invalid type: freelist (stack: [43])",
        "unexpected page type (flags: 10) for pgId:43",
        "panic: invalid page type: 43: 10",
    ]


@pytest.mark.parametrize("page_id", [0, 17])
def test_short_bucket_value_with_root_zero(golden: Path, tmp_path: Path, page_id: int) -> None:
    """A 16-byte (non-inline) bucket value whose root is set to 0 (docs/FORMAT.md §13.4)."""
    off = leaf_value_offset(NESTED, 17, b"level-1")  # root2's leaf holds level-1
    errors = run_check(damaged(tmp_path, NESTED, (off, "<Q", 0)), page_id)
    assert [(e.kind, str(e)) for e in errors] == [
        (PANIC, "runtime error: index out of range [16] with length 16")
    ]


# --- damage bbolt does not survive: the check ends with one fatal error ----------------


def test_cycle_through_the_page_itself(golden: Path, tmp_path: Path) -> None:
    path = damaged(tmp_path, MB, (branch_child(MB_GAMMA, 3), "<Q", MB_GAMMA))
    with deadline(30):
        errors = run_check(path)
    assert_well_formed(errors)
    assert str(errors[0]) == "page 41: multiple references (stack: [41 41])"
    assert errors[-1].fatal and len(errors) == 2


def test_cycle_through_an_ancestor(golden: Path, tmp_path: Path) -> None:
    # Bucket big of many_keys.db: branch root 990, its first child branch 985.
    path = damaged(tmp_path, "db/many_keys.db", (branch_child(985, 2), "<Q", 990))
    with deadline(60):
        errors = run_check(path)
    assert_well_formed(errors)
    assert str(errors[0]) == "page 990: multiple references (stack: [990 985 990])"
    assert errors[-1].fatal and errors[-1].pgid == 990 and len(errors) == 2


def test_sub_bucket_cycle(golden: Path, tmp_path: Path) -> None:
    """A nested bucket whose root is its parent's root page."""
    off = leaf_value_offset(NESTED, 17, b"level-1")
    with deadline(30):
        errors = run_check(damaged(tmp_path, NESTED, (off, "<Q", 17)))
    assert_well_formed(errors)
    assert errors and errors[-1].fatal
    assert any(e.kind == MULTIPLE_REFERENCES and e.pgid == 17 for e in errors)


@pytest.mark.parametrize(
    "edit",
    [
        (branch_child(MB_GAMMA, 2), "<Q", 1000),  # a child past the end of the file
        (6 * PS + 16 + 16 * 3 + 4, "<I", 0x7FFFFFF0),  # a key 2 GiB past its page
        (MB_GAMMA * PS + 12, "<I", 0xFFFFFFFF),  # a branch claiming 4G overflow pages
        (MB_FREELIST * PS + 16, "<Q", 10**9),  # with a count of 0xffff: 10^9 free ids
    ],
    ids=["child-past-eof", "key-past-eof", "overflow-4G", "freelist-count"],
)
def test_reads_past_the_file_are_fatal(
    golden: Path, tmp_path: Path, edit: tuple[int, str, int]
) -> None:
    edits = [edit]
    if edit[0] == MB_FREELIST * PS + 16:
        edits.append((MB_FREELIST * PS + 10, "<H", 0xFFFF))
    with deadline(30):
        errors = run_check(damaged(tmp_path, MB, *edits))
    assert_well_formed(errors)
    assert errors and errors[-1].fatal


def test_truncated_file(golden: Path, tmp_path: Path) -> None:
    data = (GOLDEN / MB).read_bytes()
    for pages in (43, 42, 20):
        path = tmp_path / f"t{pages}.db"
        path.write_bytes(data[: pages * PS])
        with deadline(30):
            errors = run_check(path)
        assert_well_formed(errors)
        assert errors and errors[-1].fatal


# --- random damage ------------------------------------------------------------------------

FUZZ_SOURCES = ["db/multi_buckets.db", "db/nested.db", "db/inline_small.db", "db/binary_keys.db"]


def _pages(data: bytes, ps: int, hwm: int) -> list[tuple[int, int, int]]:
    out = []
    for p in range(2, min(hwm, len(data) // ps)):
        pid, flags, count, _ = layout.PAGE_HEADER.unpack_from(data, p * ps)
        if pid == p and flags in (layout.BRANCH_PAGE, layout.LEAF_PAGE, layout.FREELIST_PAGE):
            out.append((p, flags, count))
    return out


def random_damage(data: bytes, ps: int, hwm: int, rng: random.Random) -> bytes:
    """One random corruption of a page header, an element, a child id or a bucket value."""
    buf = bytearray(data)
    pages = _pages(data, ps, hwm)
    p, flags, count = rng.choice(pages)
    off = p * ps
    count = min(count, (ps - 16) // 16)  # elements inside the page
    ids = [q for q, _, _ in pages] + [0, 1, p, hwm, hwm + 3, len(data) // ps + 7, 1 << 45]
    kind = rng.randrange(8)
    if kind == 0:
        struct.pack_into("<H", buf, off + 8, rng.choice([0, 1, 2, 3, 4, 0x10, 0x20]))
    elif kind == 1:
        struct.pack_into("<H", buf, off + 10, rng.choice([0, 1, count + 1, 2 * count + 3, 0xFFFF]))
    elif kind == 2:
        struct.pack_into("<I", buf, off + 12, rng.choice([1, 2, 7, 1000, 0xFFFFFF, 0xFFFFFFFF]))
    elif kind == 3:
        struct.pack_into("<Q", buf, off, rng.choice([0, p + 1, 1 << 40]))
    elif kind == 4 and flags == layout.BRANCH_PAGE and count:
        struct.pack_into("<Q", buf, off + 16 + 16 * rng.randrange(count) + 8, rng.choice(ids))
    elif kind == 5 and count and flags in (layout.BRANCH_PAGE, layout.LEAF_PAGE):
        field = rng.choice([0, 4, 8, 12] if flags == layout.LEAF_PAGE else [0, 4])
        value = rng.choice([0, 1, 7, 100, 5000, 0x7FFFFFF0, 0xFFFFFFFF])
        struct.pack_into("<I", buf, off + 16 + 16 * rng.randrange(count) + field, value)
    elif kind == 6 and count and flags == layout.LEAF_PAGE:
        e = off + 16 + 16 * rng.randrange(count)
        eflags, pos, ksize, _ = struct.unpack_from("<IIII", buf, e)
        if eflags & 1 and e + pos + ksize + 8 <= len(buf):
            struct.pack_into("<Q", buf, e + pos + ksize, rng.choice(ids))
        else:
            struct.pack_into("<I", buf, e, eflags ^ 1)
    else:
        for _ in range(rng.randrange(1, 8)):
            buf[off + rng.randrange(ps)] = rng.randrange(256)
    return bytes(buf)


def damaged_files(tmp_path: Path, seed: int, n: int) -> Iterator[tuple[Path, int, str]]:
    """``n`` randomly damaged copies of golden files, with a page id to check from."""
    rng = random.Random(seed)
    for k in range(n):
        src = rng.choice(FUZZ_SOURCES)
        data = (GOLDEN / src).read_bytes()
        with pybbolt.open(GOLDEN / src, readonly=True) as db, db.view() as tx:
            ps, hwm = tx.page_size, tx.meta.pgid
        for _ in range(rng.choice([1, 1, 2, 3])):
            data = random_damage(data, ps, hwm, rng)
        path = tmp_path / f"fuzz{k}.db"
        path.write_bytes(data)
        page_id = 0 if rng.random() < 0.7 else rng.randrange(2, hwm + 2)
        yield path, page_id, src


def test_random_damage_is_reported(golden: Path, tmp_path: Path) -> None:
    for path, page_id, _ in damaged_files(tmp_path, seed=20240601, n=250):
        start = time.monotonic()
        with deadline(30):
            errors = run_check(path, page_id)
        assert_well_formed(errors)
        assert time.monotonic() - start < 30
        path.unlink()


def _bbolt_check(bbolt: Path, path: Path, page_id: int) -> tuple[int, str]:
    argv = [str(bbolt), "check", str(path)] + (["--from-page", str(page_id)] if page_id else [])

    def limit() -> None:  # as the golden recording: a 2 GiB address space
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        cp = subprocess.run(argv, capture_output=True, timeout=5, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return -1, ""
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


def test_random_damage_against_bbolt(golden: Path, bbolt_cli: Path, tmp_path: Path) -> None:
    """Where bbolt's output is well defined, the library prints the same.

    Outcomes left out: bbolt dies (status 2, e.g. a freelist it cannot load
    while opening, a fault, running out of stack or memory) or does not
    finish; and our fatal endings, where bbolt reads memory outside the file
    and what it finds there is not defined.
    """
    compared = 0
    for path, page_id, src in damaged_files(tmp_path, seed=7, n=120):
        status, stdout = _bbolt_check(bbolt_cli, path, page_id)
        errors = run_check(path, page_id)
        if status in (0, 1) and not (errors and errors[-1].fatal):
            assert render(errors) == stdout, (src, page_id)
            compared += 1
        path.unlink()
    print(f"compared {compared} of 120")
    assert compared > 80


# --- speed ------------------------------------------------------------------------------


def test_check_is_fast_on_many_keys(golden: Path) -> None:
    """200,000 keys in 981 leaves: the whole check in well under a second or two."""
    with pybbolt.open(GOLDEN / "db/many_keys.db", readonly=True) as db, db.view() as tx:
        start = time.perf_counter()
        errors = list(check(tx))
        elapsed = time.perf_counter() - start
    assert errors == []
    assert elapsed < 5, elapsed
    if os.environ.get("PYBBOLT_STRICT_TIMING") == "1":
        assert elapsed < 0.5, elapsed
