"""Damaged files: whatever bytes are changed, reading gives correct data or a
pybbolt.Error, in bounded time, and never writes to the file."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import pybbolt
from pybbolt.meta import Meta

from .conftest import FIXTURES

SOURCES = [FIXTURES / n for n in ("nested.db", "churn_seed1.db", "overflow.db",
                                  "churn_seed1_nofreelistsync.db", "binary_keys.db",
                                  "pagesize_16384.db")]
SOURCES = [p for p in SOURCES if p.exists()]
TIME_LIMIT = 10  # seconds per damaged file, for every read below

STATS = {"files": 0, "errors": 0}


class _Overtime(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Overtime()


def _exercise(path: Path) -> None:
    """Every read-side operation: open, walk, get, seek, check, stats, free ids."""
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        todo: list[pybbolt.Bucket] = [tx.root]
        seen = 0
        while todo and seen < 200:
            b = todo.pop()
            seen += 1
            c = b.cursor()
            c.last()
            c.prev()
            for key, value in b.items():
                if value is None:
                    child = b.bucket(key)
                    if child is not None:
                        todo.append(child)
                else:
                    b.get(key)
            c.seek(b"\x00")
            c.seek(b"m")
            c.next()
        list(tx.check())
        tx.stats()
        tx.free_ids()


def _interesting_offsets(data: bytes, ps: int) -> Iterator[int]:
    """Offsets of headers, counts, element fields and meta fields."""
    for page in range(len(data) // ps):
        base = page * ps
        yield from range(base, base + 16)
        flags, count = struct.unpack_from("<HH", data, base + 8)
        if flags in (1, 2):
            for i in range(min(count, 8)):
                yield from range(base + 16 + 16 * i, base + 32 + 16 * i)
        if page < 2:
            yield from range(base + 16, base + 80)


_OFFSETS: dict[Path, list[int]] = {}


def _offsets(src: Path) -> list[int]:
    if src not in _OFFSETS:
        data = src.read_bytes()
        ps = Meta.decode(data).page_size
        _OFFSETS[src] = sorted(set(_interesting_offsets(data, ps)))
    return _OFFSETS[src]


@st.composite
def damage(draw: st.DrawFn) -> tuple[Path, list[tuple[int, bytes]]]:
    src = draw(st.sampled_from(SOURCES))
    offsets = _offsets(src)
    size = src.stat().st_size
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(offsets) | st.integers(0, size - 1))
        what = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
            [b"\x00", b"\xff", b"\x01", b"\xff\xff\xff\xff", struct.pack("<Q", 2), b"\x10"]))
        edits.append((where, what))
    return src, edits


def _run_damaged(tmp: Path, src: Path, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(src.read_bytes())
    for where, what in edits:
        data[where : where + len(what)] = what
    path = tmp / "damaged.db"
    path.write_bytes(bytes(data[: len(src.read_bytes())]))
    before = path.read_bytes()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        _exercise(path)
    except pybbolt.Error:
        STATS["errors"] += 1
    except _Overtime:
        pytest.fail(f"reading took over {TIME_LIMIT}s: {src.name} {edits}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    STATS["files"] += 1
    assert path.read_bytes() == before


@pytest.mark.skipif(not SOURCES, reason="tests/fixtures is empty")
@settings(max_examples=int(os.environ.get("PYBBOLT_FUZZ_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=damage())
def test_damaged_files_fail_cleanly(case: tuple[Path, list[tuple[int, bytes]]],
                                    tmp_path: Path) -> None:
    _run_damaged(tmp_path, *case)


@pytest.mark.skipif(not SOURCES, reason="tests/fixtures is empty")
def test_truncations_fail_cleanly(tmp_path: Path) -> None:
    for src in SOURCES:
        size = src.stat().st_size
        for cut in (0, 100, 4095, 4096, 8192, 8193, size // 3, size // 2, size - 4096):
            data = src.read_bytes()[:cut]
            path = tmp_path / "cut.db"
            path.write_bytes(data)
            with contextlib.suppress(pybbolt.Error):
                _exercise(path)
            assert path.read_bytes() == data


def test_cycles_fail_cleanly(tmp_path: Path) -> None:
    """A branch page whose child is itself or an ancestor."""
    src = FIXTURES / "many_keys.db"
    data = bytearray(src.read_bytes())
    ps = Meta.decode(data).page_size
    branches = [p for p in range(2, len(data) // ps)
                if struct.unpack_from("<QH", data, p * ps) == (p, 1)]
    assert branches
    for target in branches[:5]:
        damaged = bytearray(data)
        count = struct.unpack_from("<H", damaged, target * ps + 10)[0]
        for i in range(count):  # every child points back at the branch itself
            struct.pack_into("<Q", damaged, target * ps + 16 + 16 * i + 8, target)
        path = tmp_path / "cycle.db"
        path.write_bytes(bytes(damaged))
        with pytest.raises(pybbolt.Error):
            _exercise(path)


def test_fuzz_counts() -> None:
    """Runs last in this module: the fuzzer really produced and read files."""
    if SOURCES:
        print(f"hostile input: {STATS}")
        assert STATS["files"] >= 1
