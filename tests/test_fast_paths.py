"""The whole-page fast paths of check and stats against the exact walks.

``check`` and ``stats`` read intact trees a level of
pages at a time and hand anything else to the walks that follow bbolt
element by element.  These tests pin down that the fast paths are taken on
intact files, and that on damaged files (a few hundred seeded random edits of
headers, elements, keys and child ids) every result, message and exception
is the same with and without them.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from pybbolt.cli import cmd_read
from pybbolt.cli.textfmt import FORMAT_MODES, format_bytes, format_lines

import pybbolt
from pybbolt import check as check_mod
from pybbolt import fastpath
from pybbolt import inspect as inspect_mod
from pybbolt import stats as stats_mod
from pybbolt import tx as tx_mod
from pybbolt.page import PageReader
from pybbolt.pagebits import Freed, Reachable
from pybbolt.stats import top_level_stats

from .conftest import FIXTURES, GOLDEN, need

SOURCES = ["nested.db", "churn_seed1.db", "overflow.db", "binary_keys.db", "many_buckets.db",
           "pagesize_16384.db", "bacalhau_compute.db", "many_keys.db"]


# --- the three read paths, with or without their fast paths ------------------


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Switch the fast paths off (what the code did before them)."""

    def switch_off() -> None:
        monkeypatch.setattr(check_mod._Checker, "_intact_tree", lambda self, root, info: False)
        monkeypatch.setattr(check_mod._Checker, "_intact_buckets", lambda self, root: False)
        monkeypatch.setattr(check_mod._Checker, "_walked_at_open", lambda self: False)
        monkeypatch.setattr(stats_mod, "_intact_stats", lambda r, root: None)

    return switch_off


def _failure(e: BaseException) -> tuple[str, str]:
    return type(e).__name__, str(e)


def check_outcome(path: Path, page_id: int = 0) -> Any:
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            return [(str(e), e.kind, e.pgid, e.fatal) for e in tx.check(page_id)]
    except Exception as e:
        return _failure(e)


def stats_outcome(path: Path) -> Any:
    out: list[Any] = []
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            try:
                n, total = top_level_stats(tx)
                out.append((n, dataclasses.astuple(total)))
            except Exception as e:
                out.append(_failure(e))
            for _, bucket in tx.buckets():
                try:
                    out.append(dataclasses.astuple(bucket.stats()))
                except Exception as e:
                    out.append(_failure(e))
    except Exception as e:
        out.append(_failure(e))
    return out


def keys_outcome(path: Path) -> Any:
    """The keys the ``keys`` command reads from every bucket, nested ones included."""
    out: list[Any] = []
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            todo = [(name, b) for name, b in tx.buckets()]
            while todo and len(out) < 300:
                name, bucket = todo.pop()
                keys: list[Any] = [name]
                try:
                    for batch in cmd_read._key_batches(bucket):
                        keys += batch
                except Exception as e:
                    keys.append(_failure(e))
                out.append(keys)
                todo += [(name + b"/" + k, b) for k, b in bucket.buckets()]
    except Exception as e:
        out.append(_failure(e))
    return out


def outcomes(path: Path) -> tuple[Any, Any, Any]:
    return check_outcome(path), stats_outcome(path), keys_outcome(path)


# --- intact files take the fast paths ----------------------------------------


def _intact_files() -> list[Path]:
    files = sorted(FIXTURES.glob("*.db"))
    if (GOLDEN / "db").is_dir():
        files += sorted((GOLDEN / "db").glob("*.db"))
    return files


@pytest.fixture(scope="module")
def fixed_size_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fixed-size keys and values (the layout the fast paths cut with one codec
    call), printable keys, and nested buckets."""
    path = tmp_path_factory.mktemp("fast") / "fixed.db"
    with pybbolt.open(path, page_size=4096) as db:
        for t in range(12):  # three levels of pages
            with db.update() as tx:
                b = tx.create_bucket_if_not_exists(b"fixed")
                for i in range(1000 * t, 1000 * (t + 1)):
                    b.put(bytes(8) + i.to_bytes(8, "big"), i.to_bytes(4, "big") * 25)
        with db.update() as tx:
            b = tx.create_bucket(b"text")
            for i in range(1500):
                b.put(b"key-%06d" % i, b"value %d" % i)
            nest = tx.create_bucket(b"nest")
            for j in range(12):
                sub = nest.create_bucket(b"sub-%02d" % j)
                for i in range(40 * j):
                    sub.put(i.to_bytes(4, "big"), bytes(60))
    return path


def test_intact_files_take_the_fast_paths(
    fixed_size_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the exact walk ran on an intact file")

    monkeypatch.setattr(check_mod._Checker, "_walk_pages", refuse)
    monkeypatch.setattr(check_mod._Checker, "_key_order", refuse)
    for path in [*_intact_files(), fixed_size_db]:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert list(tx.check()) == [], path
            r = PageReader(tx._data, tx.page_size)
            todo = [b for _, b in tx.buckets()]
            while todo:
                bucket = todo.pop()
                todo += [b for _, b in bucket.buckets()]
                if bucket.inline:
                    continue
                assert stats_mod._intact_stats(r, bucket.root) is not None, path
                assert [k for batch in cmd_read._key_batches(bucket) for k in batch] == list(
                    bucket.keys())


def test_fixed_layout_reads_the_same(fixed_size_db: Path, exact: Callable[[], None]) -> None:
    fast = outcomes(fixed_size_db)
    exact()
    assert outcomes(fixed_size_db) == fast


# --- damaged files: the same results with and without the fast paths -------


def _pages(data: bytes, ps: int) -> list[tuple[int, int, int]]:
    """(id, flags, count) of the branch and leaf pages."""
    out = []
    for pid in range(2, len(data) // ps):
        flags, count = struct.unpack_from("<HH", data, pid * ps + 8)
        if flags in (1, 2):
            out.append((pid, flags, count))
    return out


def damage(data: bytearray, ps: int, rng: random.Random) -> None:
    """One random edit of a branch or leaf page."""
    pages = _pages(bytes(data), ps)
    if not pages:
        return
    branches = [p for p in pages if p[1] == 1]
    # Branch pages are few: edit one as often as a leaf.
    pid, flags, count = rng.choice(branches if branches and rng.random() < 0.5 else pages)
    base = pid * ps
    npages = len(data) // ps
    # An earlier edit may have raised the count: only elements inside the
    # file can be edited (the helper must never fail itself).
    count = max(0, min(count, (len(data) - base - 16) // 16))
    # Element 0 is special (bounded by the parent's key): pick it often.
    i = rng.randrange(count) if count and rng.random() < 0.7 else 0
    elem = base + 16 + 16 * i
    kind = rng.randrange(10)
    if kind == 0:  # a header byte
        data[base + rng.randrange(16)] = rng.randrange(256)
    elif kind == 1 and count:  # an element byte
        data[elem + rng.randrange(16)] = rng.choice((0, 1, 0xFF, rng.randrange(256)))
    elif kind == 2 and count and flags == 1:  # a child id
        other = rng.choice([p[0] for p in pages] + [0, 1, npages - 1, npages, npages + 5])
        struct.pack_into("<Q", data, elem + 8, other)
    elif kind in (3, 4) and count:  # a key byte
        pos, ksize = struct.unpack_from("<II", data, elem + (0 if flags == 1 else 4))
        at = elem + pos + rng.randrange(max(ksize, 1))
        if at < len(data):
            data[at] = rng.choice((0, 0xFF, rng.randrange(256)))
    elif kind == 5:  # the count
        struct.pack_into("<H", data, base + 10, rng.choice(
            (0, 1, max(count - 1, 0), min(count + 1, 0xFFFF), 0xFFFF)))
    elif kind == 6 and count and flags == 2:  # the bucket flag of an element
        data[elem] ^= 1
    elif kind == 7:  # the overflow count
        struct.pack_into("<I", data, base + 12, rng.choice((1, 2, npages, 1 << 31)))
    elif kind == 8:  # another page's bytes (its id kept, or not)
        src = rng.choice(pages)[0] * ps
        keep_id = rng.random() < 0.7
        data[base + (8 if keep_id else 0) : base + ps] = data[src + (8 if keep_id else 0) :
                                                              src + ps]
    elif kind == 9 and count > 1:  # two elements swapped
        j = rng.randrange(count)
        other = base + 16 + 16 * j
        a, b = bytes(data[elem : elem + 16]), bytes(data[other : other + 16])
        # Positions are relative to the element: keep each pointing at its key.
        off = 0 if flags == 1 else 4
        pa = struct.unpack_from("<I", a, off)[0] + elem - other
        pb = struct.unpack_from("<I", b, off)[0] + other - elem
        data[other : other + 16] = a[:off] + struct.pack("<I", pa & 0xFFFFFFFF) + a[off + 4 :]
        data[elem : elem + 16] = b[:off] + struct.pack("<I", pb & 0xFFFFFFFF) + b[off + 4 :]


def _variants(tmp: Path, name: str, src: Path, n: int, seed: int) -> Iterator[Path]:
    original = src.read_bytes()
    ps = struct.unpack_from("<I", original, 16 + 8)[0]
    rng = random.Random(seed)
    for k in range(n):
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            damage(data, ps, rng)
        path = tmp / f"{name}-{k}.db"
        path.write_bytes(data)
        yield path


def test_damage_never_fails_itself() -> None:
    """The damage helper copes with its own earlier edits (a count raised past
    the end of the file, a count of 0xFFFF): regression for a struct.error."""
    src = FIXTURES / "nested.db"
    original = src.read_bytes()
    ps = struct.unpack_from("<I", original, 16 + 8)[0]
    for seed in range(150):
        rng = random.Random(seed)
        data = bytearray(original)
        for _ in range(6):
            damage(data, ps, rng)


@pytest.mark.parametrize("name", SOURCES)
def test_damaged_fixtures_read_the_same(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = FIXTURES / name
    _compare(tmp_path, name, src, 40, monkeypatch)


@pytest.mark.parametrize("batch", [None, 5])
def test_damaged_fixed_layout_reads_the_same(
    batch: int | None, fixed_size_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if batch is not None:
        # Small batches: many of them hold leaves of one count.
        monkeypatch.setattr(fastpath, "batch_pages", lambda ps: batch)  # the check's intact walk
        monkeypatch.setattr(stats_mod, "batch_pages", lambda ps: batch)
    _compare(tmp_path, "fixed", fixed_size_db, 120, monkeypatch)


def _compare(tmp: Path, name: str, src: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = list(_variants(tmp, name, src, n, seed=zlib.crc32(name.encode())))
    fast = [outcomes(p) for p in paths]
    with monkeypatch.context() as m:
        m.setattr(check_mod._Checker, "_intact_tree", lambda self, root, info: False)
        m.setattr(check_mod._Checker, "_intact_buckets", lambda self, root: False)
        m.setattr(check_mod._Checker, "_walked_at_open", lambda self: False)
        m.setattr(stats_mod, "_intact_stats", lambda r, root: None)
        slow = [outcomes(p) for p in paths]
    for path, f, s in zip(paths, fast, slow):
        assert f[0] == s[0], f"check differs on {path.name}"
        assert f[1] == s[1], f"stats differ on {path.name}"
        assert f[2] == s[2], f"keys differ on {path.name}"


def test_damaged_golden_files_read_the_same(exact: Callable[[], None]) -> None:
    bad = sorted((GOLDEN / "bad").glob("*.db"))
    need(bool(bad), "../shared/golden/bad is not present next to the repository")
    fast = [outcomes(p) for p in bad]
    exact()
    assert [outcomes(p) for p in bad] == fast


# --- the field shapes: the page walk of check and of the freelist rebuild ----


def walk_outcome(path: Path) -> Any:
    """What the page walk decides: the check (whole file, and from page 2),
    and the free ids rebuilt when the file has no freelist page."""
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            free: Any = tx.free_ids()
    except Exception as e:
        free = _failure(e)
    return check_outcome(path), check_outcome(path, 2), free


def damage_bucket_value(data: bytearray, ps: int, rng: random.Random) -> None:
    """Point a bucket value somewhere else: another page (a second reference,
    a loop back to a parent, a meta page), past the file, or root 0 with no
    inline page (bbolt's openBucket fails)."""
    values = []
    for pid, flags, count in _pages(bytes(data), ps):
        if flags != 2:
            continue
        base = pid * ps + 16
        for i in range(min(count, (len(data) - base) // 16)):
            eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, base + 16 * i)
            at = base + 16 * i + pos + ksize
            if eflags & 1 and vsize >= 16 and at + 16 <= len(data):
                values.append((pid, at))
    if not values:
        return
    pid, at = rng.choice(values)
    npages = len(data) // ps
    root = rng.choice((0, 1, pid, rng.randrange(2, npages), npages + 3))
    struct.pack_into("<Q", data, at, root)


@pytest.fixture(scope="module")
def field_shapes(tmp_path_factory: pytest.TempPathFactory, boltgo: Path) -> dict[str, Path]:
    """The benchmarks' field shapes, small (as in tests/test_field_shapes.py)."""
    work = tmp_path_factory.mktemp("field")
    out = {}
    for shape in ("etcd", "raft", "containerd"):
        out[shape] = work / f"{shape}.db"
        subprocess.run([str(boltgo), "gen-shape", shape, str(out[shape]), "--scale", "0.02"],
                       capture_output=True, check=True)
    return out


def test_field_shapes_take_the_fast_walk(
    field_shapes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check and the freelist rebuild read the intact shapes a level of
    buckets at a time, without a single tree walked on its own."""

    def refuse(*args: Any) -> Any:
        raise AssertionError("a walk other than the level-at-a-time one ran")

    for name in ("_walk_pages", "_key_order", "_intact_tree"):
        monkeypatch.setattr(check_mod._Checker, name, refuse)
    for shape, path in field_shapes.items():
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert list(tx.check()) == [], shape
            assert len(tx.free_ids()) > 0, shape


def test_walk_leaves_the_collector_as_it_found_it(field_shapes: dict[str, Path]) -> None:
    """The level-at-a-time walk pauses the cyclic collector, and only itself."""
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with pybbolt.open(field_shapes["containerd"], readonly=True) as db, db.view() as tx:
                assert list(tx.check()) == []
            assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_free_ids_rebuilt_once_per_open(
    field_shapes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only file without a freelist page is walked for its free ids
    once (bbolt's freepages at open), however many transactions ask."""
    calls: list[int] = []
    rebuild = tx_mod.rebuild
    monkeypatch.setattr(tx_mod, "rebuild", lambda tx: calls.append(1) or rebuild(tx))
    with pybbolt.open(field_shapes["etcd"], readonly=True) as db:
        with db.view() as tx:
            first = tx.free_ids()
            first.append(-1)  # the caller's own list
        with db.view() as tx:
            assert list(tx.check()) == []
            assert tx.free_ids() == first[:-1]
    assert len(calls) == 1
    with pybbolt.open(field_shapes["etcd"], readonly=True) as db, db.view() as tx:
        assert tx.free_ids() == first[:-1]
    assert len(calls) == 2


@pytest.mark.parametrize("shape", ["etcd", "raft", "containerd"])
def test_damaged_field_shapes_walk_the_same(
    shape: str, field_shapes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On damaged copies of the shapes (random page edits and bucket values
    pointed elsewhere), check and the freelist rebuild give the same errors,
    messages and exceptions with the check's walk left to the rebuild's (no
    freelist page), with its own level-at-a-time walk, with only the per-tree
    one, and with the exact walks alone."""
    src = field_shapes[shape]
    original = src.read_bytes()
    ps = struct.unpack_from("<I", original, 16 + 8)[0]
    rng = random.Random(zlib.crc32(shape.encode()))
    paths = [src]
    for k in range(40):
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 2))):
            if k % 2:
                damage_bucket_value(data, ps, rng)
            else:
                damage(data, ps, rng)
        paths.append(tmp_path / f"{shape}-{k}.db")
        paths[-1].write_bytes(data)
    fast = [walk_outcome(p) for p in paths]
    with monkeypatch.context() as m:
        m.setattr(check_mod._Checker, "_walked_at_open", lambda self: False)
        walked = [walk_outcome(p) for p in paths]
        m.setattr(check_mod._Checker, "_intact_buckets", lambda self, root: False)
        per_tree = [walk_outcome(p) for p in paths]
        m.setattr(check_mod._Checker, "_intact_tree", lambda self, root, info: False)
        exact = [walk_outcome(p) for p in paths]
    assert sum(1 for f in fast if f != fast[0]) >= 15, "the damage changed too little"
    for path, f, w, t, e in zip(paths, fast, walked, per_tree, exact):
        assert f == w == t == e, f"the walk differs on {path.name}"


# --- formatting a batch of keys ----------------------------------------------

_pieces = st.sampled_from([b"", b"\x00", b"\x1f", b"\x7f", b"a", b"Z~ ", b"\x80", b"\xc3\xa9",
                           b"\xe2\x80\xa8", b"\xf0\x9f\x98\x80", b"\xff", b"\xed\xa0\x80",
                           b"\xcd\xb8", b"0123456789abcdef"])
_items = st.lists(st.lists(_pieces, max_size=4).map(b"".join), max_size=12)


@settings(max_examples=400, deadline=None)
@given(items=_items, mode=st.sampled_from(FORMAT_MODES.split("|")))
def test_format_lines_is_format_bytes_per_line(items: list[bytes], mode: str) -> None:
    expected = b"".join(format_bytes(x, mode) + b"\n" for x in items)
    assert format_lines(items, mode) == expected
    sizes = {len(x) for x in items}
    if len(sizes) == 1:
        assert format_lines(items, mode, sizes.pop()) == expected


@settings(max_examples=200, deadline=None)
@given(size=st.integers(0, 5), n=st.integers(1, 8), data=st.data())
def test_format_lines_of_one_size(size: int, n: int, data: st.DataObject) -> None:
    items = [data.draw(st.binary(min_size=size, max_size=size)) for _ in range(n)]
    for mode in ("auto", "hex", "bytes"):
        expected = b"".join(format_bytes(x, mode) + b"\n" for x in items)
        assert format_lines(items, mode, size) == expected


def test_layout_codecs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The codecs built for leaf and branch layouts start afresh past a budget."""
    monkeypatch.setattr(fastpath, "_CACHED_KEYS_LIMIT", 200)
    monkeypatch.setattr(fastpath, "_cached_keys", 0)
    for ksize in range(40):
        layouts = fastpath.fixed_layout(ksize, 3, range(1, 9))
        assert set(layouts) >= set(range(1, 9))
        assert layouts[5].keys.size == 5 * (ksize + 3)
        assert fastpath._cached_keys <= 200
    assert sum(map(len, fastpath._FIXED.values())) <= 16


# --- lookups of leaves the full cache does not keep --------------------------


def _probes(src: Path) -> list[tuple[tuple[bytes, ...], list[bytes]]]:
    """Per bucket of the intact file (nested ones too): its keys, each key
    extended (absent), and keys below and above them all."""
    out: list[tuple[tuple[bytes, ...], list[bytes]]] = []
    with pybbolt.open(src, readonly=True) as db, db.view() as tx:
        todo = [((name,), b) for name, b in tx.buckets()]
        while todo and len(out) < 60:
            path, bucket = todo.pop()
            keys = list(bucket.keys())[:400]
            out.append((path, [b"\x00", *keys, *(k + b"\x00" for k in keys[::7]), b"\xff" * 9]))
            todo += [((*path, k), b) for k, b in bucket.buckets()]
    return out


def gets_outcome(path: Path, probes: list[tuple[tuple[bytes, ...], list[bytes]]],
                 full_cache: bool) -> Any:
    """Every probe's ``get`` (and the opening of its bucket), with the leaf
    cache as it is or full from the start (leaves then read as views)."""
    out: list[Any] = []
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            if full_cache:
                tx._leaf_cache_limit = 0
            for names, keys in probes:
                try:
                    bucket = tx.bucket(*names)
                except Exception as e:
                    out.append(_failure(e))
                    continue
                if bucket is None:
                    out.append(None)
                    continue
                for k in keys:
                    try:
                        out.append((bucket.get(k), k in bucket))
                    except Exception as e:
                        out.append(_failure(e))
                    try:  # the descent of get, inline, against _find's
                        out.append(_get_by_find(bucket, k))
                    except Exception as e:
                        out.append(_failure(e))
    except Exception as e:
        out.append(_failure(e))
    return out


def _get_by_find(bucket: pybbolt.Bucket, key: bytes) -> bytes | None:
    """``Bucket.get`` as it was before its descent was inlined: ``_find``'s."""
    node, index = bucket._find(key)
    keys = node.keys
    if index < len(keys) and keys[index] == key and not node.flags[index] & 1:
        return node.values[index]  # type: ignore[no-any-return]
    return None


def test_lookups_past_the_full_cache_read_views(fixed_size_db: Path) -> None:
    from pybbolt.node import LeafView

    with pybbolt.open(fixed_size_db, readonly=True) as db, db.view() as tx:
        tx._leaf_cache_limit = 0
        bucket = tx.bucket(b"fixed")
        assert bucket is not None
        key = bytes(8) + (4321).to_bytes(8, "big")
        assert bucket.get(key) == (4321).to_bytes(4, "big") * 25
        assert not tx._leaves
        cursor = bucket.cursor()
        cursor.first()
        leaf = cursor._nodes[-1]  # a cursor still gets a node
        view = tx._lookup_page(leaf.pgid)
        assert isinstance(view, LeafView)
        assert isinstance(view.values, fastpath.ValueSlices)  # read one by one
        values = [view.values[i] for i in range(len(view.keys))]
        assert (view.flags, view.keys, values) == (
            tuple(leaf.flags), tuple(leaf.keys), leaf.values)
        assert view.values[-1] == leaf.values[-1]


def test_lookups_switch_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pybbolt.node import LeafView

    """Lookups past the full cache over leaves of different layouts, taken in
    turn (the last layout tried first, then the others met, then a new one),
    and an empty leaf: the same values as the nodes give."""
    path = tmp_path / "layouts.db"
    with pybbolt.open(path, page_size=4096) as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for i in range(300):  # sizes that change every 60 keys: several layouts
            b.put(b"%05d" % i + b"k" * (i // 60), b"v" * (10 + i // 60 * 7))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        b = tx.bucket(b"b")
        assert b is not None
        expected = list(b.items())
        leaves = [pgid for pgid in range(2, tx.meta.pgid) if tx.page_header(pgid).flags == 2]
        nodes = {pgid: tx._page_node(pgid, False) for pgid in leaves}
        assert len(nodes) >= 6
        # A scan's leaves in turn (leaf_page_run: the layout before, or another).
        assert expected == sorted(
            pair for leaf in nodes.values() if leaf.keys[:1] != [b"b"]
            for pair in zip(leaf.keys, leaf.values))
        assert len(expected) == 300
        tx._leaf_cache_limit = 0
        tx._leaves.clear()
        for limit in (256, 2):  # the layouts kept are bounded
            monkeypatch.setattr(fastpath, "_LOOKUPS_LIMIT", limit)
            monkeypatch.setattr(fastpath, "_LOOKUPS", {})
            again = [pgid for pgid in leaves for _ in range(3)]  # one layout in a row
            for pgid in [*leaves, *leaves[::-1], *leaves[::2], *again, *again[::-1]]:
                view = tx._lookup_page(pgid)
                leaf = nodes[pgid]
                assert isinstance(view, LeafView)
                assert (list(view.flags), list(view.keys)) == (leaf.flags, leaf.keys)
                assert [view.values[i] for i in range(len(leaf.keys))] == leaf.values
            assert len(fastpath._LOOKUPS) == 2 if limit == 2 else len(fastpath._LOOKUPS) >= 3
        assert [(k, b.get(k)) for k, _ in expected] == expected
    # An empty leaf: no elements to compare, after a layout or none.
    from .handmade import build_db, leaf_page

    path = build_db(tmp_path / "empty.db", [leaf_page(4, [])])
    for forget in (False, True):
        assert fastpath._last[0] is not None or forget
        if forget:
            monkeypatch.setattr(fastpath, "_last", (None, *fastpath._last[1:]))
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            tx._leaf_cache_limit = 0
            assert (b.get(b"k"), b.get(b""), b"k" in b) == (None, None, False)
            assert list(tx._lookup_page(4).keys) == []


@pytest.mark.parametrize("levels", [62, 63, 64])
def test_get_at_the_depth_limit_and_on_an_empty_branch(tmp_path: Path, levels: int) -> None:
    """get at the depth limit (63 branches pass, the 64th is taken for a
    cycle) and on an empty branch: the same value or exception when the
    bucket's root branch is read and when it is cached."""
    from .handmade import branch_page, build_db, chain, leaf_page

    empty = bytearray(branch_page(4, [(b"k", 5)]))
    struct.pack_into("<H", empty, 10, 0)  # count 0
    trees = [chain(levels), [bytes(empty), leaf_page(5, [(b"k", b"v", 0)])]]
    for n, tree in enumerate(trees):
        path = build_db(tmp_path / f"t{n}.db", tree)
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            b = tx.bucket(b"b")
            assert b is not None
            got = []
            for _ in range(2):
                try:
                    got.append(b.get(b"k"))
                except pybbolt.CorruptionError as e:
                    got.append(str(e))
                assert b.root in tx._branches  # the second get starts from the cache
            assert got[0] == got[1] == (
                b"v" if n == 0 and levels < 64 else
                "page 67: the page tree is cyclic" if n == 0 else
                "page 4: branch page has no elements")


@pytest.mark.parametrize("name", ["fixed", *SOURCES])
def test_lookups_past_the_full_cache_read_the_same(
    name: str, fixed_size_db: Path, tmp_path: Path
) -> None:
    """Intact and damaged: the same values, misses and exceptions whether a
    leaf is read into a cached node or looked up in a view of its run."""
    src = fixed_size_db if name == "fixed" else FIXTURES / name
    assert src.exists(), f"{name} missing"
    probes = _probes(src)
    paths = [src, *_variants(tmp_path, name, src, 30, seed=zlib.crc32(b"get " + name.encode()))]
    for path in paths:
        assert gets_outcome(path, probes, True) == gets_outcome(path, probes, False), path.name


def scans_outcome(path: Path) -> Any:
    """Every bucket's ``items()`` and cursor scan (nested buckets too): the
    pairs, up to the exception if one ends it."""
    out: list[Any] = []
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            todo = [((name,), b) for name, b in tx.buckets()]
            while todo and len(out) < 120:
                names, bucket = todo.pop()
                for scan in (bucket.items, lambda b=bucket: iter(b.cursor())):
                    pairs: list[Any] = [names]
                    try:
                        pairs += scan()
                    except Exception as e:
                        pairs.append(_failure(e))
                    out.append(pairs)
                try:
                    todo += [((*names, k), b) for k, b in bucket.buckets()]
                except Exception as e:
                    out.append(_failure(e))
    except Exception as e:
        out.append(_failure(e))
    return out


@pytest.mark.parametrize("name", ["fixed", *SOURCES])
def test_scans_read_leaves_at_once_the_same(
    name: str, fixed_size_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intact and damaged: a scan that cuts the leaf children of a branch at
    once (Tx._leaf_runs_of) gives the same pairs, and the same exception
    after the same pairs, as one that walks them one by one."""
    src = fixed_size_db if name == "fixed" else FIXTURES / name
    paths = [src, *_variants(tmp_path, name, src, 30, seed=zlib.crc32(b"scan " + name.encode()))]
    taken: list[int] = []
    runs_of = tx_mod.Tx._leaf_runs_of

    def counted(self: pybbolt.Tx, pgids: Any) -> Any:
        found = runs_of(self, pgids)
        taken.append(found is not None)
        return found

    monkeypatch.setattr(tx_mod.Tx, "_leaf_runs_of", counted)
    fast = [scans_outcome(path) for path in paths]
    assert any(taken) == (name != "overflow.db")  # its leaves have overflow pages
    # Chunks of one page and of three (4 kB pages): a later chunk fails after
    # the runs of the ones before were handed out.
    for at_once in (1, 3 * 4096):
        monkeypatch.setattr(tx_mod, "_RUNS_AT_ONCE", at_once)
        for path, outcome in zip(paths, fast):
            assert scans_outcome(path) == outcome, (at_once, path.name)
    monkeypatch.setattr(tx_mod.Tx, "_leaf_runs_of", lambda self, pgids: None)
    for path, outcome in zip(paths, fast):
        assert scans_outcome(path) == outcome, path.name


# --- field shapes: stats and inspect over many small buckets -----------------

SHAPES = ("etcd", "raft", "containerd")


@pytest.fixture(scope="module")
def small_shapes(tmp_path_factory: pytest.TempPathFactory, boltgo: Path) -> dict[str, Path]:
    """The field shapes of ``boltgo gen-shape``, small (containerd's: hundreds of
    nested buckets, most of them inline)."""
    work = tmp_path_factory.mktemp("shapes")
    out = {}
    for shape in SHAPES:
        out[shape] = work / f"{shape}.db"
        subprocess.run([str(boltgo), "gen-shape", shape, str(out[shape]), "--scale", "0.01"],
                       capture_output=True, check=True)
    return out


def inspect_outcome(path: Path) -> Any:
    try:
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            return inspect_mod.inspect_tree(tx)
    except Exception as e:
        return _failure(e)


def _no_fast_tree(r: PageReader, root: int) -> Any:
    raise fastpath.Bail


def _exact_off(m: pytest.MonkeyPatch) -> None:
    m.setattr(stats_mod, "_intact_stats", lambda r, root: None)
    m.setattr(inspect_mod, "_intact_tree", _no_fast_tree)
    m.setattr(tx_mod.Tx, "_leaf_keys", lambda self, pgids: None)


@pytest.mark.parametrize("shape", SHAPES)
def test_intact_shapes_take_the_fast_paths(small_shapes: dict[str, Path], shape: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = small_shapes[shape]
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        r = PageReader(tx._data, tx.page_size)
        fast_tree = inspect_mod._intact_tree(r, tx.meta.root)
        spans = [(v, n) for v, n in stats_mod._top_level_values(r, tx.meta.root, b"")]
        fast_stats = stats_mod._intact_stats(r, spans)
        assert fast_stats is not None
        fast_total = top_level_stats(tx)
    with monkeypatch.context() as m:
        _exact_off(m)
        assert inspect_outcome(path) == fast_tree
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert top_level_stats(tx) == fast_total == (len(spans), fast_stats)


@pytest.mark.parametrize(("shape", "names"), [("etcd", [b"key"]), ("raft", [b"logs"])])
def test_keys_of_many_leaves_read_at_once(small_shapes: dict[str, Path], shape: str,
                                          names: list[bytes],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing keys reads the leaves under a branch together: no leaf alone."""
    walk_page = tx_mod.Tx._walk_page
    alone: list[int] = []

    def spy(self: tx_mod.Tx, pgid: int, keys_only: bool = False) -> Any:
        page = walk_page(self, pgid, keys_only)
        if isinstance(page, tuple):
            alone.append(pgid)
        return page

    monkeypatch.setattr(tx_mod.Tx, "_walk_page", spy)
    with pybbolt.open(small_shapes[shape], readonly=True) as db, db.view() as tx:
        bucket = cmd_read.last_bucket(tx, names)
        keys = [k for batch in cmd_read._key_batches(bucket) for k in batch]
        assert alone == []
        assert keys == [k for k, _ in bucket.items()]
        assert len(keys) == len(bucket) > 50


def _damage_values(data: bytearray, ps: int, rng: random.Random) -> None:
    """:func:`damage`, or one byte of a leaf's keys and values (where inline
    buckets and the bucket headers of nested buckets are)."""
    leaves = [p for p in _pages(bytes(data), ps) if p[1] == 2 and p[2]]
    if not leaves or rng.random() < 0.4:
        damage(data, ps, rng)
        return
    pid, _, count = rng.choice(leaves)
    base = pid * ps
    start = base + 16 + 16 * min(count, (ps - 16) // 16)
    if start < min(base + ps, len(data)):
        at = rng.randrange(start, min(base + ps, len(data)))
        data[at] = rng.choice((0, 1, 0x10, 0xFF, rng.randrange(256)))


@pytest.mark.parametrize("shape", SHAPES)
def test_damaged_shapes_read_the_same(small_shapes: dict[str, Path], shape: str,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = small_shapes[shape].read_bytes()
    ps = struct.unpack_from("<I", original, 16 + 8)[0]
    rng = random.Random(zlib.crc32(shape.encode()))
    paths = []
    for k in range(40):
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 2, 3))):
            _damage_values(data, ps, rng)
        paths.append(tmp_path / f"{shape}-{k}.db")
        paths[-1].write_bytes(data)
    fast = [(stats_outcome(p), inspect_outcome(p), keys_outcome(p)) for p in paths]
    with monkeypatch.context() as m:
        _exact_off(m)
        slow = [(stats_outcome(p), inspect_outcome(p), keys_outcome(p)) for p in paths]
    for path, f, s in zip(paths, fast, slow):
        assert f[0] == s[0], f"stats differ on {path.name}"
        assert f[1] == s[1], f"inspect differs on {path.name}"
        assert f[2] == s[2], f"keys differ on {path.name}"


@pytest.mark.parametrize("name", SOURCES)
def test_damaged_fixtures_inspect_and_list_the_same(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = FIXTURES / name
    if not src.exists():
        pytest.skip(f"{name} missing")
    paths = list(_variants(tmp_path, name, src, 40, seed=zlib.crc32(b"inspect " + name.encode())))
    fast = [(inspect_outcome(p), keys_outcome(p)) for p in paths]
    with monkeypatch.context() as m:
        _exact_off(m)
        assert [(inspect_outcome(p), keys_outcome(p)) for p in paths] == fast


# --- inspect: trees of several pages without bucket elements, only counted ----

MAX_ALLOC = 0x7FFFFFFF  # bbolt's maxAllocSize: keys and values are sliced within it


def _counted_trees(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The results of the counts-only walks of inspect's trees, as they run."""
    seen: list[int | None] = []
    intact_items = inspect_mod.intact_items

    def spy(*args: Any) -> int | None:
        items = intact_items(*args)
        if len(args) > 7 and args[7]:
            seen.append(items)
        return items

    monkeypatch.setattr(inspect_mod, "intact_items", spy)
    return seen


@pytest.mark.parametrize("shape", ["etcd", "raft"])
def test_trees_without_buckets_are_counted_without_keys(
    small_shapes: dict[str, Path], shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bucket trees of etcd and raft hold no bucket element: inspect cuts
    none of their keys (the walks that cut keys would fail) and gives the
    exact walk's tree."""
    path = small_shapes[shape]
    with monkeypatch.context() as m:
        _exact_off(m)
        exact_tree = inspect_outcome(path)
    assert isinstance(exact_tree, inspect_mod.BucketStructure)

    def no_keys(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("keys cut")

    counted = _counted_trees(monkeypatch)
    monkeypatch.setattr(fastpath, "leaf_keys", no_keys)
    monkeypatch.setattr(fastpath, "branch_keys", no_keys)
    monkeypatch.setattr(inspect_mod, "_Walker", no_keys)
    assert inspect_outcome(path) == exact_tree
    assert counted and None not in counted
    big = max(exact_tree.children, key=lambda b: b.key_n)
    assert big.key_n in counted and big.key_n > 40


# The bucket of the biggest tree of each shape.
BIG_BUCKET = {"etcd": b"key", "raft": b"logs"}

_Tree = tuple[list[tuple[int, list[int]]], list[int]]


def _tree(data: bytes, ps: int, root: int) -> _Tree:
    """The branch pages of the tree at ``root`` from the root down, with their
    child ids, and its leaves in key order."""
    branches: list[tuple[int, list[int]]] = []
    leaves: list[int] = []
    level = [root]
    while level:
        below: list[int] = []
        for pid in level:
            flags, count = struct.unpack_from("<HH", data, pid * ps + 8)
            if flags == 1:
                base = pid * ps + 16
                kids = [struct.unpack_from("<Q", data, base + 16 * i + 8)[0] for i in range(count)]
                branches.append((pid, kids))
                below += kids
            else:
                leaves.append(pid)
        level = below
    return branches, leaves


_Edit = Callable[[bytearray, int, _Tree], None]


def _leaf_edit(field: int, value: int | Callable[[int, int], int], leaf: int = 0,
               element: int = 0) -> _Edit:
    """Set u32 ``field`` (0 flags, 1 pos, 2 ksize, 3 vsize) of ``element`` of
    the tree's ``leaf``-th leaf; a callable gets (pos, ksize)."""

    def edit(data: bytearray, ps: int, tree: _Tree) -> None:
        at = tree[1][leaf] * ps + 16 + 16 * element
        _, pos, ksize, _ = struct.unpack_from("<4I", data, at)
        struct.pack_into("<I", data, at + 4 * field,
                         value(pos, ksize) if callable(value) else value)

    return edit


def _branch_edit(offset: int, fmt: str, value: Callable[[int, list[int], list[int]], int],
                 element: int = 0, branch: int = -1) -> _Edit:
    """Set the field at ``offset`` of ``element`` of a branch page of the tree
    (by default the last one, a parent of leaves; 0 is the root) to
    ``value(npages, its children, the tree's leaves)``."""

    def edit(data: bytearray, ps: int, tree: _Tree) -> None:
        pid, kids = tree[0][branch]
        at = pid * ps + 16 + 16 * element + offset
        struct.pack_into(fmt, data, at, value(len(data) // ps, kids, tree[1]))

    return edit


def _overflow_edit(value: Callable[[int, int, list[int]], int], leaf: int = 0) -> _Edit:
    """Set the overflow of the tree's ``leaf``-th leaf to ``value(npages, its id, the leaves)``."""

    def edit(data: bytearray, ps: int, tree: _Tree) -> None:
        pid = tree[1][leaf]
        struct.pack_into("<I", data, pid * ps + 12, value(len(data) // ps, pid, tree[1]))

    return edit


def _count_edit(value: int, leaf: int | None = 0) -> _Edit:
    """Set the count of the tree's ``leaf``-th leaf (None: the last in the file)."""

    def edit(data: bytearray, ps: int, tree: _Tree) -> None:
        pid = max(tree[1]) if leaf is None else tree[1][leaf]
        struct.pack_into("<H", data, pid * ps + 10, value)

    return edit


# (name, edit, what the exact walk gives: "counted", a tree the counts-only
# walk gave too; "tree", a tree; a part of its failure's message; "" anything)
TREE_EDITS: list[tuple[str, _Edit, str]] = [
    ("vsize past the file", _leaf_edit(3, 1 << 30), "counted"),
    ("vsize with a top byte, within the limit", _leaf_edit(3, 1 << 24), "counted"),
    ("item ending at the limit", _leaf_edit(3, lambda p, k: MAX_ALLOC - p - k), "counted"),
    ("item ending past the limit", _leaf_edit(3, lambda p, k: MAX_ALLOC - p - k + 1),
     "slice bounds out of range [::2147483648]"),
    ("vsize 0xFFFFFFFF", _leaf_edit(3, 0xFFFFFFFF, leaf=-1, element=1),
     "slice bounds out of range"),
    ("key past the file", _leaf_edit(1, 1 << 30), "counted"),
    ("pos past the limit", _leaf_edit(1, MAX_ALLOC + 1, leaf=3), "slice bounds out of range"),
    ("ksize to the limit", _leaf_edit(2, lambda p, k: MAX_ALLOC - p), "slice bounds out of range"),
    ("ksize past the limit", _leaf_edit(2, lambda p, k: MAX_ALLOC - p + 1, leaf=-1),
     "slice bounds out of range [::2147483648]"),
    ("flags other than the bucket's", _leaf_edit(0, 0x102), "counted"),
    ("the bucket flag", _leaf_edit(0, 1, leaf=2), ""),
    ("the bucket flag and another", _leaf_edit(0, 0x101), ""),
    ("an empty leaf", _count_edit(0, leaf=1), "tree"),
    ("a leaf of one element", _count_edit(1, leaf=-1), "counted"),
    ("a leaf of as many elements as a page holds", _count_edit(255), ""),
    ("a leaf of one element more", _count_edit(256, leaf=1), ""),
    ("the last leaf with 0xFFFF elements", _count_edit(0xFFFF, leaf=None), ""),
    ("an overflow over the other leaves",
     _overflow_edit(lambda n, pid, lv: max(lv) - pid if max(lv) > pid else n - pid - 1),
     "counted"),
    ("an overflow to the end of the file", _overflow_edit(lambda n, pid, lv: n - pid - 1, 1),
     "counted"),
    ("an overflow past the end of the file", _overflow_edit(lambda n, pid, lv: n - pid, -1),
     "counted"),
    ("a branch key past the file", _branch_edit(0, "<I", lambda n, k, lv: 1 << 30), "counted"),
    ("a branch key past the limit", _branch_edit(4, "<I", lambda n, k, lv: 0xFFFFFFFF, 1),
     "counted"),
    ("a page reached twice", _branch_edit(8, "<Q", lambda n, k, lv: k[0], element=1), "tree"),
    ("a leaf of another branch", _branch_edit(8, "<Q", lambda n, k, lv: lv[0], element=2),
     "tree"),
    ("a child on the meta page", _branch_edit(8, "<Q", lambda n, k, lv: 0), ""),
    ("a child on the last page", _branch_edit(8, "<Q", lambda n, k, lv: n - 1), ""),
    ("a child past the file", _branch_edit(8, "<Q", lambda n, k, lv: n),
     "beyond the end of the file"),
    ("a child id beyond 2**32", _branch_edit(8, "<Q", lambda n, k, lv: (1 << 32) + k[0]), ""),
    ("a child id of 2**64 - 1", _branch_edit(8, "<Q", lambda n, k, lv: (1 << 64) - 1),
     "index out of range"),
    ("a branch with no elements", _branch_edit(-6, "<H", lambda n, k, lv: 0), ""),
    ("the root with no elements", _branch_edit(-6, "<H", lambda n, k, lv: 0, branch=0), ""),
]


@pytest.mark.parametrize("shape", ["etcd", "raft"])
def test_damaged_trees_without_buckets_inspect_the_same(
    small_shapes: dict[str, Path], shape: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edits of the element arrays, counts and child ids of the biggest tree,
    which the counts-only walk reads: the same tree, or the same exception
    and message, as the exact walk; items past the file, at bbolt's slice
    limit, with other flags, and branch keys and overflow pages nobody reads
    are still counted without the exact walk."""
    original = small_shapes[shape].read_bytes()
    with pybbolt.open(small_shapes[shape], readonly=True) as db, db.view() as tx:
        ps = tx.page_size
        bucket = tx.bucket(BIG_BUCKET[shape])
        assert bucket is not None
        tree = _tree(original, ps, bucket.root)
    assert tree[0] and len(tree[1]) > 4
    for name, edit, expected in TREE_EDITS:
        data = bytearray(original)
        edit(data, ps, tree)
        assert data != original, name
        path = tmp_path / f"{shape}-{name.replace(' ', '_')}.db"
        path.write_bytes(data)
        with monkeypatch.context() as m:
            counted = _counted_trees(m)
            fast = inspect_outcome(path)
        with monkeypatch.context() as m:
            _exact_off(m)
            slow = inspect_outcome(path)
        assert fast == slow, name
        if expected in ("tree", "counted"):
            assert isinstance(slow, inspect_mod.BucketStructure), (name, slow)
        elif expected:
            assert isinstance(slow, tuple) and expected in slow[1], (name, slow)
        if expected == "counted":
            assert counted and None not in counted, name  # taken, not declined


@pytest.mark.parametrize("count", [254, 255, 256])
def test_counted_leaf_ends_with_the_data(count: int) -> None:
    """A leaf at the end of the data whose elements (all zero: empty items)
    reach its end, or one element past it, where the cursor faults: counted
    alike, or declined."""
    ps = 4096
    data = bytearray(2 * ps)
    struct.pack_into("<QHHI", data, ps, 1, 2, count, 0)
    r = PageReader(bytes(data), ps)
    try:
        exact: Any = len(list(r.cursor_items(1)))
    except Exception as e:
        exact = _failure(e)
    reach, freed = Reachable(r.npages), Freed(r.npages)
    items = fastpath.intact_items(r, reach, freed, r.npages, 1, None, None, True)
    if count == 256:
        assert exact == ("BboltPanic", "fatal error: fault: read of offset 8192 is beyond the "
                         "end of the file (8192 bytes)")
        assert items is None and not any(reach.bits)
    else:
        assert items == exact == count
    if count == 255:  # the last element's last byte cut off
        with pytest.raises(fastpath.Bail):
            fastpath.leaf_items(bytes(data[:-1]), ps, [ps], [count])


def test_walks_pause_the_collector_and_restore_it_as_found() -> None:
    """The fast walks run without the cyclic collector (they make no cycles,
    only many tuples and records) and leave it as they found it, also when
    the walk bails out."""
    from pybbolt.fastpath import Bail, without_gc

    def walk(fail: bool) -> bool:
        if fail:
            raise Bail
        return gc.isenabled()

    was = gc.isenabled()
    try:
        for enabled in (True, False):
            gc.enable() if enabled else gc.disable()
            assert without_gc(walk, False) is False
            assert gc.isenabled() is enabled
            with pytest.raises(Bail):
                without_gc(walk, True)
            assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
