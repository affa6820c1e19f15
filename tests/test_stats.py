"""Bucket statistics against bbolt v1.5.0: the golden `stats` outputs, damage, the real tool."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import struct
import subprocess
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt import stats as stats_mod
from pybbolt.errors import BboltPanic
from pybbolt.meta import Meta
from pybbolt.stats import BucketStats, bucket_stats, top_level_stats, tx_stats

from .conftest import GOLDEN, need
from .test_check import (
    FUZZ_SOURCES,
    MB,
    MB_GAMMA,
    NESTED,
    PS,
    branch_child,
    damaged,
    deadline,
    leaf_value_offset,
    random_damage,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
assert SHARED / "golden" == GOLDEN


# --- the CLI's rendering ---------------------------------------------------------------


def _f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def pct(a: int, b: int) -> int:
    """``int(float32(a) * 100.0 / float32(b))`` in single precision; 0 when b is 0."""
    if b == 0:
        return 0
    return int(_f32(_f32(_f32(float(a)) * 100.0) / _f32(float(b))))


def render(n: int, s: BucketStats) -> str:
    """What ``bbolt stats`` prints (docs/CLI.md §5.5)."""
    return (
        f"Aggregate statistics for {n} buckets\n\n"
        "Page count statistics\n"
        f"\tNumber of logical branch pages: {s.branch_page_n}\n"
        f"\tNumber of physical branch overflow pages: {s.branch_overflow_n}\n"
        f"\tNumber of logical leaf pages: {s.leaf_page_n}\n"
        f"\tNumber of physical leaf overflow pages: {s.leaf_overflow_n}\n"
        "Tree statistics\n"
        f"\tNumber of keys/value pairs: {s.key_n}\n"
        f"\tNumber of levels in B+tree: {s.depth}\n"
        "Page size utilization\n"
        f"\tBytes allocated for physical branch pages: {s.branch_alloc}\n"
        f"\tBytes actually used for branch data: {s.branch_inuse} "
        f"({pct(s.branch_inuse, s.branch_alloc)}%)\n"
        f"\tBytes allocated for physical leaf pages: {s.leaf_alloc}\n"
        f"\tBytes actually used for leaf data: {s.leaf_inuse} "
        f"({pct(s.leaf_inuse, s.leaf_alloc)}%)\n"
        "Bucket statistics\n"
        f"\tTotal number of buckets: {s.bucket_n}\n"
        f"\tTotal number on inlined buckets: {s.inline_bucket_n} "
        f"({pct(s.inline_bucket_n, s.bucket_n)}%)\n"
        f"\tBytes used for inlined buckets: {s.inline_bucket_inuse} "
        f"({pct(s.inline_bucket_inuse, s.leaf_inuse)}%)\n"
    )


def stats_of(path: Path, prefix: bytes) -> tuple[int, BucketStats]:
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        return top_level_stats(tx, prefix)


# --- the golden cases --------------------------------------------------------------------


def _golden_stats_cases() -> list[Any]:
    path = GOLDEN / "cases.jsonl"
    if not path.exists():
        return [pytest.param(None, id="golden-missing")]
    out = []
    for line in path.read_text().splitlines():
        case = json.loads(line)
        argv = case["argv"]
        if case["group"] != "stats" or not case["db"] or argv[1:2] != ["{db}"] or len(argv) > 3:
            continue
        if case["exit"] == 1:
            continue  # the file does not open
        out.append(pytest.param(case, id=f"{case['id']}-{case['db']}-{argv[2:]}"))
    return out


def _prefix(case: dict[str, Any]) -> bytes:
    argv = case["argv"]
    return os.fsencode(argv[2]) if len(argv) == 3 else b""


# The whole-page walk of intact trees (in batches of the usual size, of one page, of three
# pages) and the exact walk: all give bbolt's numbers.
WALKS = ["fast", "batch-1", "batch-3", "exact"]


def use_walk(walk: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the stats take ``walk`` (one of WALKS)."""
    if walk == "exact":
        monkeypatch.setattr(stats_mod, "_intact_stats", lambda r, root: None)
    elif walk.startswith("batch-"):
        batch = int(walk.removeprefix("batch-"))
        monkeypatch.setattr(stats_mod, "batch_pages", lambda ps: batch)


@pytest.mark.parametrize("walk", WALKS)
@pytest.mark.parametrize("case", _golden_stats_cases())
def test_golden_stats(
    case: dict[str, Any] | None, walk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need(case is not None, "../shared/golden is not present next to the repository")
    assert case is not None
    use_walk(walk, monkeypatch)
    path = tmp_path / Path(case["db"]).name
    shutil.copyfile(GOLDEN / case["db"], path)
    if case["exit"] == 2:
        # bbolt panics (or dies reading past the end of the file): so does the library.
        with deadline(30), pytest.raises(pybbolt.CorruptionError) as info:
            stats_of(path, _prefix(case))
        err = info.value
        assert isinstance(err, BboltPanic)
        first = case["stderr"].splitlines()[0]
        if first.startswith("panic: "):
            assert first == f"panic: {err}"
        else:
            assert err.fatal
        return
    with deadline(60):
        n, s = stats_of(path, _prefix(case))
    assert render(n, s) == case["stdout"]


@pytest.mark.parametrize("case", _golden_stats_cases())
def test_golden_stats_through_buckets(case: dict[str, Any] | None) -> None:
    """The same sums from ``Bucket.stats()`` of each top-level bucket."""
    need(case is not None, "../shared/golden is not present next to the repository")
    assert case is not None
    if case["exit"] != 0:
        return
    prefix = _prefix(case)
    with pybbolt.open(GOLDEN / case["db"], readonly=True) as db, db.view() as tx:
        total, n = BucketStats(), 0
        for name, bucket in tx.buckets():
            if name.startswith(prefix):
                total.add(bucket.stats())
                n += 1
        assert tx_stats(tx, prefix) == total
        if not prefix:
            assert tx.stats() == total == tx_stats(tx)
    assert render(n, total) == case["stdout"]


# --- BucketStats ---------------------------------------------------------------------------


def test_bucket_stats_fields_and_add() -> None:
    names = [f.name for f in fields(BucketStats)]
    assert names == [
        "branch_page_n",
        "branch_overflow_n",
        "leaf_page_n",
        "leaf_overflow_n",
        "key_n",
        "depth",
        "branch_alloc",
        "branch_inuse",
        "leaf_alloc",
        "leaf_inuse",
        "bucket_n",
        "inline_bucket_n",
        "inline_bucket_inuse",
    ]
    a = BucketStats(*range(1, 14))
    b = BucketStats(*range(100, 113))
    a.add(b)
    expected = [x + y for x, y in zip(range(1, 14), range(100, 113))]
    expected[names.index("depth")] = 105  # the deeper of the two, not the sum
    assert [getattr(a, n) for n in names] == expected
    c = BucketStats(depth=7)
    c.add(BucketStats(depth=3))
    assert c.depth == 7


def test_inline_bucket(golden: Path) -> None:
    with pybbolt.open(GOLDEN / "db/inline_small.db", readonly=True) as db, db.view() as tx:
        widgets = tx.bucket(b"widgets")
        assert widgets is not None and widgets.inline
        s = bucket_stats(widgets)
    assert (s.key_n, s.depth, s.bucket_n, s.inline_bucket_n) == (3, 1, 1, 1)
    assert s.leaf_page_n == s.leaf_inuse == s.branch_page_n == 0
    assert s.inline_bucket_inuse > 16


def test_root_bucket(golden: Path) -> None:
    """The root bucket counts itself and its own pages on top of the top-level buckets."""
    with pybbolt.open(GOLDEN / MB, readonly=True) as db, db.view() as tx:
        root = tx.root.stats()
        total = tx.stats()
        names = [name for name, _ in tx.buckets()]
    assert root.bucket_n == total.bucket_n + 1
    assert root.key_n == total.key_n + len(names)
    assert root.leaf_page_n == total.leaf_page_n + 1
    assert root.depth == 1 + total.depth


def test_stats_is_fast_on_many_keys(golden: Path) -> None:
    with pybbolt.open(GOLDEN / "db/many_keys.db", readonly=True) as db, db.view() as tx:
        start = time.perf_counter()
        s = tx.stats()
        elapsed = time.perf_counter() - start
    assert s.key_n == 200001
    # Wall time is the benchmarks' business: only on a machine known to be quiet.
    if os.environ.get("PYBBOLT_STRICT_TIMING") == "1":
        assert elapsed < 2, elapsed


# --- damaged files ---------------------------------------------------------------------------


def test_empty_branch_page(golden: Path) -> None:
    """v1.5.0 counts 16 bytes for a branch page without elements (docs/FORMAT.md §14)."""
    with pybbolt.open(GOLDEN / "bad/cleared_branch.db", readonly=True) as db, db.view() as tx:
        gamma = tx.bucket(b"gamma")
        assert gamma is not None
        s = gamma.stats()
    assert (s.branch_page_n, s.branch_inuse, s.branch_alloc, s.leaf_page_n) == (1, 16, PS, 0)
    assert (s.key_n, s.depth) == (0, 1)


# Damage bbolt's stats count through (multi_buckets.db: gamma's branch page 41 over leaves
# 2, 3, 6, ...; leaf 2 holds 48 elements, the branch 18).
_ONE_ELEMENT = [(3 * PS + 10, "<H", 1), (3 * PS + 20, "<I", 16)]
_COUNTED_DAMAGE: dict[str, list[tuple[int, str, int]]] = {
    "empty-first-leaf": [(2 * PS + 10, "<H", 0)],
    "empty-leaf": [(3 * PS + 10, "<H", 0)],
    # pos + ksize + vsize of the last element past 2**32: bbolt adds them as uint32
    "leaf-used-wraps": [(2 * PS + 16 + 16 * 47 + 12, "<I", 0xFFFFFFF0)],
    "branch-used-wraps": [(MB_GAMMA * PS + 16 + 16 * 17 + 4, "<I", 0xFFFFFFFA)],
    # the same on a leaf of one element laid out as bbolt lays out one (its key at pos 16)
    "single-element-leaf-used-wraps": [*_ONE_ELEMENT, (3 * PS + 28, "<I", 0xFFFFFFF0)],
    "single-element-leaf-key-wraps": [*_ONE_ELEMENT, (3 * PS + 24, "<I", 0xFFFFFFF0)],
}


@pytest.mark.parametrize("walk", WALKS)
@pytest.mark.parametrize("damage", sorted(_COUNTED_DAMAGE))
def test_counted_damage_as_bbolt(
    damage: str, walk: str, bbolt_cli: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = damaged(tmp_path, MB, *_COUNTED_DAMAGE[damage])
    cp = subprocess.run([str(bbolt_cli), "stats", str(path)], capture_output=True, check=True)
    use_walk(walk, monkeypatch)
    assert render(*stats_of(path, b"")) == cp.stdout.decode()


def test_panics_carry_bbolts_message(golden: Path, tmp_path: Path) -> None:
    cases = {
        "runtime error: index out of range [16] with length 16": damaged(
            tmp_path, NESTED, (leaf_value_offset(NESTED, 17, b"level-1"), "<Q", 0), name="a.db"
        ),
        "assertion failed: Page expected to be: 50, but self identifies as 0": damaged(
            tmp_path, MB, (branch_child(MB_GAMMA, 1), "<Q", 50), name="b.db"
        ),
    }
    for message, path in cases.items():
        with pytest.raises(BboltPanic) as info:
            stats_of(path, b"")
        assert str(info.value) == message and not info.value.fatal


def test_root_bucket_at_page_zero(golden: Path, tmp_path: Path) -> None:
    """Metas whose root bucket is page 0: bbolt's root bucket has neither page nor node,
    and its ``stats`` dies on a nil pointer (a Go runtime error, not a panic value)."""
    data = bytearray((GOLDEN / MB).read_bytes())
    for pgid in (0, 1):
        meta = Meta.decode(bytes(data), pgid * PS + 16)
        data[pgid * PS : (pgid + 1) * PS] = meta.with_changes(root=0).encode_page(PS, pgid)
    path = tmp_path / "root0.db"
    path.write_bytes(bytes(data))
    with pytest.raises(BboltPanic) as info:
        stats_of(path, b"")
    err = info.value
    assert str(err) == "runtime error: invalid memory address or nil pointer dereference"
    assert err.raw and not err.fatal


@pytest.mark.parametrize(
    ("src", "edit"),
    [
        (MB, (branch_child(MB_GAMMA, 3), "<Q", MB_GAMMA)),  # a branch that is its own child
        (NESTED, None),  # a bucket that contains itself
    ],
    ids=["page-cycle", "bucket-cycle"],
)
def test_cycles_raise(golden: Path, tmp_path: Path, src: str, edit: Any) -> None:
    if edit is None:
        edit = (leaf_value_offset(NESTED, 17, b"level-1"), "<Q", 17)
    path = damaged(tmp_path, src, edit)
    with deadline(30), pytest.raises(BboltPanic) as info:
        stats_of(path, b"")
    # Go's stack overflow, reported where the walk meets the page (bucket) again
    assert str(info.value) == {
        MB: f"fatal error: stack overflow: page {MB_GAMMA} is its own descendant "
        f"(stack: [{MB_GAMMA} {MB_GAMMA}])",
        NESTED: "fatal error: stack overflow: bucket root page 17 contains itself",
    }[src]
    assert info.value.fatal and info.value.raw
    assert info.value.pgid == {MB: MB_GAMMA, NESTED: 17}[src]


def test_random_damage(golden: Path, tmp_path: Path) -> None:
    """Stats of a damaged file: numbers, or a CorruptionError; never anything else."""
    rng = random.Random(99)
    for k in range(250):
        src = rng.choice(FUZZ_SOURCES)
        data = (GOLDEN / src).read_bytes()
        with pybbolt.open(GOLDEN / src, readonly=True) as db, db.view() as tx:
            ps, hwm = tx.page_size, tx.meta.pgid
        for _ in range(rng.choice([1, 2, 3])):
            data = random_damage(data, ps, hwm, rng)
        path = tmp_path / f"s{k}.db"
        path.write_bytes(data)
        with deadline(30):
            try:
                n, s = stats_of(path, b"")
            except pybbolt.CorruptionError:
                pass
            else:
                assert n >= 0 and isinstance(s, BucketStats)
        path.unlink()


def _bbolt_stats(bbolt: Path, path: Path) -> tuple[int, str, str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    try:
        cp = subprocess.run(
            [str(bbolt), "stats", str(path)], capture_output=True, timeout=5, preexec_fn=limit
        )
    except subprocess.TimeoutExpired:
        return -1, "", ""
    return cp.returncode, cp.stdout.decode("utf-8", "replace"), cp.stderr.decode("utf-8", "replace")


def test_random_damage_against_bbolt(golden: Path, bbolt_cli: Path, tmp_path: Path) -> None:
    """The same numbers as bbolt's `stats`, or the same panic, wherever bbolt's outcome is
    defined (not when it reads memory outside the file or runs out of stack)."""
    rng = random.Random(5)
    compared = 0
    for k in range(100):
        src = rng.choice(FUZZ_SOURCES)
        data = (GOLDEN / src).read_bytes()
        with pybbolt.open(GOLDEN / src, readonly=True) as db, db.view() as tx:
            ps, hwm, has_freelist = tx.page_size, tx.meta.pgid, db.has_freelist
        for _ in range(rng.choice([1, 2])):
            data = random_damage(data, ps, hwm, rng)
        path = tmp_path / f"d{k}.db"
        path.write_bytes(data)
        status, stdout, stderr = _bbolt_stats(bbolt_cli, path)
        try:
            with pybbolt.open(path, readonly=True) as db, db.view() as tx:
                if has_freelist:
                    tx.free_ids()  # the CLI loads the freelist first
                n, s = top_level_stats(tx)
        except BboltPanic as err:
            if not err.fatal and status == 2 and stderr.startswith("panic: "):
                assert stderr.splitlines()[0] == f"panic: {err}", src
                compared += 1
        except pybbolt.CorruptionError:
            pass  # the freelist does not load: bbolt dies opening the file
        else:
            if status == 0:
                assert render(n, s) == stdout, src
                compared += 1
        path.unlink()
    print(f"compared {compared} of 100")
    assert compared > 60


# --- the whole-page walk takes every intact file ----------------------------------------------


def _no_exact_walk(r: Any, root: Any, inline: Any) -> BucketStats:
    raise AssertionError("the exact walk ran on an intact file")


@pytest.mark.parametrize("batch", [None, 1, 2, 3])
@pytest.mark.parametrize(
    "case", [c for c in _golden_stats_cases() if c.values[0] is None
             or (c.values[0]["exit"] == 0 and c.values[0]["db"].startswith("db/"))]
)
def test_intact_files_take_the_whole_page_walk(
    case: dict[str, Any] | None, batch: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Go-written intact files (golden db/, not the damaged ones) are counted by the
    whole-page walk alone (the exact walk is for damage), in batches of any size, with
    bbolt's numbers."""
    need(case is not None, "../shared/golden is not present next to the repository")
    assert case is not None
    monkeypatch.setattr(stats_mod, "_stats", _no_exact_walk)
    if batch is not None:
        monkeypatch.setattr(stats_mod, "batch_pages", lambda ps: batch)
    assert render(*stats_of(GOLDEN / case["db"], _prefix(case))) == case["stdout"]


# --- a file that reaches every branch of both walks, against bbolt's `stats` ------------------


def _build_shapes(path: Path) -> None:
    """Buckets of every shape the walks tell apart (written as bbolt writes them)."""
    with pybbolt.open(path) as db, db.update() as tx:
        # Leaves of one count with 8-byte keys and 8-byte values.
        fixed = tx.create_bucket(b"fixed")
        for i in range(2000):
            fixed.put(i.to_bytes(8, "big"), (i * 7).to_bytes(8, "big"))
        # Keys too big for a page: branch and leaf overflow pages at several levels.
        big = tx.create_bucket(b"huge")
        for i in range(40):
            big.put(bytes([65 + i % 26]) * 3000 + b"%03d" % i, b"v" * (i * 50))
        # Nested non-inline buckets four deep, inline and empty inline ones at each level.
        b = tx.create_bucket(b"nest")
        for depth in range(4):
            for i in range(60 + 40 * depth):
                b.put(b"k%04d" % i, b"x" * (depth + 3 * i % 17))
            b.create_bucket(b"empty")
            small = b.create_bucket(b"inline")
            for i in range(depth + 1):
                small.put(b"s%d" % i, b"y" * i)
            b = b.create_bucket(b"sub")
        b.put(b"last", b"")
        # Many small buckets under one parent (a batch of roots), a few of them not inline.
        many = tx.create_bucket(b"many")
        for i in range(300):
            child = many.create_bucket(b"c%03d" % i)
            for j in range(1 + (60 if i % 50 == 0 else i % 4)):
                child.put(b"%d" % j, b"z" * (j % 5))
        # A leaf of one element, a sub-bucket.
        tx.create_bucket(b"one").create_bucket(b"only").put(b"k", b"v")
        # Top-level inline buckets, empty and not.
        tx.create_bucket(b"top-empty")
        tx.create_bucket(b"top-small").put(b"a", b"b")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shapes") / "shapes.db"
    _build_shapes(path)
    return path


_SHAPE_PREFIXES = [b"", b"fixed", b"huge", b"nest", b"many", b"one", b"top-"]


@pytest.mark.parametrize("walk", [*WALKS, "batch-2", "fast-only"])
def test_shapes_as_bbolt(
    shapes: Path, walk: str, bbolt_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each walk gives bbolt's numbers for every kind of bucket, alone and together."""
    expected = [
        subprocess.run(
            [str(bbolt_cli), "stats", str(shapes), os.fsdecode(prefix)],
            capture_output=True, check=True,
        ).stdout.decode()
        for prefix in _SHAPE_PREFIXES
    ]
    if walk == "fast-only":
        monkeypatch.setattr(stats_mod, "_stats", _no_exact_walk)
    else:
        use_walk(walk, monkeypatch)
    got = [render(*stats_of(shapes, prefix)) for prefix in _SHAPE_PREFIXES]
    assert got == expected
    # The default prefix is every bucket's.
    with pybbolt.open(shapes, readonly=True) as db, db.view() as tx:
        assert render(*top_level_stats(tx)) == expected[0]


def _leaf_elements(data: bytes | bytearray, key: bytes) -> list[tuple[int, int]]:
    """(element offset, value offset) of the bucket elements named ``key`` on leaf pages."""
    found = []
    for off in range(0, len(data), PS):
        _, flags, count, _ = struct.unpack_from("<QHHI", data, off)
        if flags != 0x02 or count > (PS - 16) // 16:
            continue
        for i in range(count):
            e = off + 16 + 16 * i
            eflags, pos, ksize, _ = struct.unpack_from("<IIII", data, e)
            if eflags == 1 and data[e + pos : e + pos + ksize] == key:
                found.append((e, e + pos + ksize))
    return found


def _leaf_element(data: bytes | bytearray, key: bytes) -> tuple[int, int]:
    """(element offset, value offset) of the one bucket element named ``key``."""
    (found,) = _leaf_elements(data, key)
    return found


def _shape_damage(data: bytearray, damage: str) -> bytes:
    """``data`` (the shapes file) with ``damage`` done to it (edits as bbolt would read them)."""
    if damage.startswith("not-a-bucket"):  # a top-level key whose bucket flag is cleared
        e, _ = _leaf_element(data, b"fixed")
        struct.pack_into("<I", data, e, 0 if damage == "not-a-bucket" else 2)
    elif damage == "short-value":  # nest's bucket value cut to its root's low byte
        e, _ = _leaf_element(data, b"nest")
        struct.pack_into("<I", data, e + 12, 1)
    elif damage == "shared-root":  # two sibling sub-buckets on one tree
        _, c000 = _leaf_element(data, b"c000")
        _, c050 = _leaf_element(data, b"c050")
        data[c050 : c050 + 8] = data[c000 : c000 + 8]
    elif damage == "inline-branch":  # an inline bucket's page flagged as a branch
        _, v = _leaf_element(data, b"top-small")
        struct.pack_into("<H", data, v + 16 + 8, 0x01)
    elif damage.startswith("child-"):  # fixed's root branch: a child id, or its count
        e, v = _leaf_element(data, b"fixed")
        root = struct.unpack_from("<Q", data, v)[0] * PS
        what, value = damage.removeprefix("child-").split("=")
        if what == "count":
            struct.pack_into("<H", data, root + 10, int(value))
        else:
            last = len(data) // PS - 1
            struct.pack_into("<Q", data, root + 16 + 16 * 5 + 8, last + int(value))
    elif damage == "bucket-cycle":  # nest/sub/sub/sub is nest/sub again
        subs = {struct.unpack_from("<Q", data, v)[0]: v for _, v in _leaf_elements(data, b"sub")}
        roots = sorted(subs)  # written deepest first: 0 (inline), level 3, 2, 1
        assert len(roots) == 4 and roots[0] == 0, roots  # the deepest one is inline
        struct.pack_into("<Q", data, subs[roots[1]], roots[3])
    return bytes(data)


_SHAPE_DAMAGE = [
    "not-a-bucket", "not-a-bucket-2", "short-value", "shared-root", "inline-branch", "child-id=0",
    "child-count=255", "child-count=256", "child-count=257", "child-id=1", "bucket-cycle",
]
# Where Go's runtime dies (no panic value, nothing printed to compare): a read past the end
# of the file (a fault, or zeros where the mapping runs on), a stack overflow.
_SHAPE_FATAL = {
    "child-id=1": "fatal error: fault: read of page 256 at offset 1048576 is beyond the end "
    "of the file (1048576 bytes)",
    "bucket-cycle": "fatal error: stack overflow: bucket root page 140 contains itself",
}


@pytest.mark.parametrize("walk", [*WALKS, "batch-2"])
@pytest.mark.parametrize("damage", _SHAPE_DAMAGE)
def test_shape_damage_as_bbolt(
    shapes: Path, damage: str, walk: str, bbolt_cli: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bbolt's numbers, or its panic, for damage met by the walks' guards (on every bucket,
    and on a prefix that leaves the damaged bucket out)."""
    path = tmp_path / "damaged.db"
    path.write_bytes(_shape_damage(bytearray(shapes.read_bytes()), damage))
    use_walk(walk, monkeypatch)
    for prefix in (b"", b"huge"):
        if prefix or damage not in _SHAPE_FATAL:
            cp = subprocess.run(
                [str(bbolt_cli), "stats", str(path), os.fsdecode(prefix)], capture_output=True
            )
            if cp.returncode == 0:
                assert render(*stats_of(path, prefix)) == cp.stdout.decode()
                continue
        with deadline(30), pytest.raises(BboltPanic) as info:
            stats_of(path, prefix)
        if damage in _SHAPE_FATAL:
            assert str(info.value) == _SHAPE_FATAL[damage] and info.value.fatal
        else:
            assert cp.stderr.decode().splitlines()[0] == f"panic: {info.value}"
            # Go's runtime errors are printed as they are by the check (not panic values)
            assert info.value.raw == str(info.value).startswith("runtime error: ")
            assert not info.value.fatal
