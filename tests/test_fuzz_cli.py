"""Hostile input through the CLI: hypothesis damages copies of fixtures where it
hurts (page headers, counts, element offsets and sizes, page ids with cycles
and self-references, overflow counts, freelist counts and ids, meta fields
with the checksum recomputed, bucket headers, inline pages) and runs every
read-only command on each damaged file.

Every command must end with exit status 0, 1 or 2 (bbolt's: ok, error,
panic), never a Python traceback or an exception escaping the CLI's own
error handling, within a time limit, under a 1 GiB address-space limit
(a MemoryError is a failure too), and leave the file's bytes and mtime alone.

The commands run in-process in a long-lived worker (tests/cli_worker.py)
that carries the address-space limit; a few damaged files also go through
the real ``python -m pybbolt.cli`` entry point in subprocesses.
``PYBBOLT_FUZZ_CLI_EXAMPLES`` sets the number of damaged files (``make fuzz``
raises it, which also turns on every cycle and more entry-point cases).
"""

from __future__ import annotations

import os
import resource
import select
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from pybbolt import layout
from pybbolt.meta import Meta

from . import cli_worker
from .conftest import FIXTURES, ROOT

EXAMPLES = int(os.environ.get("PYBBOLT_FUZZ_CLI_EXAMPLES", "60"))
FULL = EXAMPLES > 60  # `make fuzz`: every cycle and more entry-point cases too
ADDRESS_SPACE = 1 << 30
COMMAND_TIMEOUT = 30.0
SOURCES = [FIXTURES / n for n in ("nested.db", "inline_bucket.db", "churn_seed1.db",
                                  "churn_seed1_nofreelistsync.db", "overflow.db",
                                  "binary_keys.db", "pagesize_8192.db", "range_deletes.db")]
SOURCES = [p for p in SOURCES if p.exists()]
NO_FREELIST = 0xFFFFFFFFFFFFFFFF

STATS: Counter[str] = Counter()


# -- where the structures of a file are ------------------------------------------


@dataclass(frozen=True)
class Field:
    """An integer field of the file: where, how wide, what it means."""

    offset: int
    size: int  # bytes: 2, 4 or 8
    kind: str
    page: int  # the page it belongs to
    ancestors: tuple[int, ...] = ()  # pages above it in the tree (for cycles)


@dataclass
class Shape:
    ps: int
    size: int
    active: int  # active meta page
    fields: list[Field] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)  # reachable tree pages
    buckets: list[list[bytes]] = field(default_factory=list)
    keys: dict[tuple[bytes, ...], list[bytes]] = field(default_factory=dict)

    @property
    def npages(self) -> int:
        return self.size // self.ps


def _header_fields(shape: Shape, base: int, pgid: int, ancestors: tuple[int, ...]) -> None:
    shape.fields += [Field(base, 8, "pgid", pgid, ancestors), Field(base + 8, 2, "flags", pgid),
                     Field(base + 10, 2, "count", pgid), Field(base + 12, 4, "overflow", pgid)]


def _walk(data: bytes, shape: Shape, pgid: int, ancestors: tuple[int, ...],
          path: tuple[bytes, ...], seen: set[int]) -> None:
    if pgid in seen or pgid < 2 or (pgid + 1) * shape.ps > len(data):
        return
    seen.add(pgid)
    shape.pages.append(pgid)
    base = pgid * shape.ps
    _node(data, shape, base, pgid, ancestors, path, seen)


def _node(data: bytes, shape: Shape, base: int, pgid: int, ancestors: tuple[int, ...],
          path: tuple[bytes, ...], seen: set[int]) -> None:
    _, flags, count, _ = layout.PAGE_HEADER.unpack_from(data, base)
    _header_fields(shape, base, pgid, ancestors)
    below = (*ancestors, pgid)
    for i in range(min(count, 64)):
        elem = base + 16 + 16 * i
        if elem + 16 > len(data):
            return
        if flags == layout.BRANCH_PAGE:
            pos, ksize, child = layout.BRANCH_ELEMENT.unpack_from(data, elem)
            shape.fields += [Field(elem, 4, "pos", pgid), Field(elem + 4, 4, "ksize", pgid),
                             Field(elem + 8, 8, "pgid", pgid, below)]
            _walk(data, shape, child, below, path, seen)
        elif flags == layout.LEAF_PAGE:
            eflags, pos, ksize, _ = layout.LEAF_ELEMENT.unpack_from(data, elem)
            shape.fields += [Field(elem, 4, "elemflags", pgid), Field(elem + 4, 4, "pos", pgid),
                             Field(elem + 8, 4, "ksize", pgid), Field(elem + 12, 4, "vsize", pgid)]
            key = data[elem + pos : elem + pos + ksize]
            value = elem + pos + ksize
            if not eflags & 1:
                shape.keys.setdefault(path, []).append(key)
                continue
            shape.buckets.append([*path, key])
            if value + 16 > len(data):
                continue
            root = struct.unpack_from("<Q", data, value)[0]
            shape.fields += [Field(value, 8, "bucket_root", pgid, below),
                             Field(value + 8, 8, "sequence", pgid)]
            if root == 0:  # inline bucket: a leaf page inside the value
                _node(data, shape, value + 16, pgid, below, (*path, key), seen)
            else:
                _walk(data, shape, root, below, (*path, key), seen)


def _shape(data: bytes) -> Shape:
    metas = [Meta.decode(data, p * 4096 + 16) for p in (0, 1)]
    ps = metas[0].page_size if metas[0].is_valid() else metas[1].page_size
    metas = [Meta.decode(data, p * ps + 16) for p in (0, 1)]
    active = 0 if metas[0].txid > metas[1].txid else 1
    meta = metas[active]
    shape = Shape(ps, len(data), active)
    _walk(data, shape, meta.root, (), (), set())
    if meta.freelist != NO_FREELIST:
        base = meta.freelist * ps
        _header_fields(shape, base, meta.freelist, ())
        count = struct.unpack_from("<H", data, base + 10)[0]
        start = base + 16
        if count == 0xFFFF:
            shape.fields.append(Field(start, 8, "fl_count", meta.freelist))
            count = struct.unpack_from("<Q", data, start)[0]
            start += 8
        for i in range(min(count, 16)):
            shape.fields.append(Field(start + 8 * i, 8, "fl_id", meta.freelist))
    # a few pages nothing points at (free or pending)
    for pgid in range(2, shape.npages, max(1, shape.npages // 8)):
        if pgid not in shape.pages:
            _header_fields(shape, pgid * ps, pgid, ())
    return shape


_SHAPES: dict[Path, tuple[bytes, Shape]] = {}


def _source(path: Path) -> tuple[bytes, Shape]:
    if path not in _SHAPES:
        data = path.read_bytes()
        _SHAPES[path] = (data, _shape(data))
    return _SHAPES[path]


# -- damage -------------------------------------------------------------------------


def _values(f: Field, shape: Shape, data: bytes) -> list[int]:
    """Interesting values for field ``f``."""
    width = (1 << (8 * f.size)) - 1
    orig = int.from_bytes(data[f.offset : f.offset + f.size], "little")
    near = [orig + 1, orig - 1, orig * 2, 0, 1, width, width >> 1]
    n = shape.npages
    if f.kind in ("pgid", "bucket_root", "fl_id"):
        pages = [0, 1, 2, 3, f.page, n - 1, n, n + 7, 1 << 32, 1 << 63, width, *f.ancestors]
        pages += shape.pages[:: max(1, len(shape.pages) // 6)]
        return [v & width for v in pages + near]
    if f.kind in ("count", "fl_count"):
        return [v & width for v in [*near, 2, 0x7FFF, 0xFFFF, 1 << 32, 1 << 62]]
    if f.kind == "overflow":
        return [v & width for v in [*near, n, n + 1, 1 << 20, 0x7FFFFFFF]]
    if f.kind == "flags":
        return [0, 1, 2, 3, 4, 0x10, 0x12, 0x14, 0x8000, 0xFFFF]
    if f.kind == "elemflags":
        return [0, 1, 2, 3, 0xFFFFFFFF]
    if f.kind in ("pos", "ksize", "vsize"):
        sizes = [8, 15, 16, shape.ps, shape.ps * 2, shape.size, 0x7FFFFFFF]
        return [v & width for v in near + sizes]
    return [v & width for v in near]


META_FIELDS = ("magic", "version", "page_size", "flags", "root", "sequence", "freelist",
               "pgid", "txid")


def _meta_values(name: str, shape: Shape, meta: Meta) -> list[int]:
    n = shape.npages
    orig = getattr(meta, name)
    common = [0, 1, orig + 1, max(orig - 1, 0), 0xFFFFFFFF]
    if name == "page_size":
        return [0, 512, 1024, 4095, 4096, 8192, 65536, 1 << 20, 1 << 31, 0xFFFFFFFF]
    if name in ("root", "freelist", "pgid"):
        return [*common, 2, 3, n - 1, n, n + 5, n * 4, 1 << 32, 1 << 40, NO_FREELIST,
                *shape.pages[:4]]
    if name == "txid":
        return [*common, 1 << 63, NO_FREELIST]
    if name in ("magic", "version"):
        return [orig, 0, 1, 3, 0xED0CDAED]
    return common


@dataclass(frozen=True)
class Damage:
    source: Path
    edits: tuple[tuple[int, bytes], ...]
    meta: tuple[tuple[str, int, bool, bool], ...]  # field, value, both metas, fix checksum
    describe: str


@st.composite
def damages(draw: st.DrawFn) -> Damage:
    src = draw(st.sampled_from(SOURCES))
    data, shape = _source(src)
    edits: list[tuple[int, bytes]] = []
    metas: list[tuple[str, int, bool, bool]] = []
    words: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "field", "field", "meta", "bytes"]))
        if kind == "field" and shape.fields:
            f = draw(st.sampled_from(shape.fields))
            width = (1 << (8 * f.size)) - 1
            value = draw(st.sampled_from(_values(f, shape, data)) | st.integers(0, width))
            edits.append((f.offset, (value & width).to_bytes(f.size, "little")))
            words.append(f"{f.kind}@{f.offset}(page {f.page})={value}")
        elif kind == "meta":
            name = draw(st.sampled_from(META_FIELDS))
            meta = Meta.decode(data, shape.active * shape.ps + 16)
            value = draw(st.sampled_from(_meta_values(name, shape, meta)))
            both = draw(st.booleans())
            fix = draw(st.sampled_from([True, True, True, False]))
            metas.append((name, value & 0xFFFFFFFFFFFFFFFF if name not in (
                "magic", "version", "page_size", "flags") else value & 0xFFFFFFFF, both, fix))
            words.append(f"meta.{name}={value}{' both' if both else ''}"
                         f"{'' if fix else ' bad-checksum'}")
        else:
            where = draw(st.integers(0, len(data) - 1))
            what = draw(st.binary(min_size=1, max_size=8))
            edits.append((where, what))
            words.append(f"bytes@{where}={what.hex()}")
    return Damage(src, tuple(edits), tuple(metas), f"{src.name}: " + "; ".join(words))


def apply_damage(d: Damage) -> bytes:
    data = bytearray(_source(d.source)[0])
    shape = _source(d.source)[1]
    for where, what in d.edits:
        data[where : where + len(what)] = what
    for name, value, both, fix in d.meta:
        for page in ((0, 1) if both else (shape.active,)):
            at = page * shape.ps + 16
            m = Meta.decode(data, at)
            changed = Meta(**{**m.__dict__, name: value})
            if fix:
                changed = changed.with_changes()
            data[at : at + 64] = layout.META.pack(*changed.fields())
    return bytes(data[: len(_source(d.source)[0])])


# -- the commands -------------------------------------------------------------------


def _arg(b: bytes) -> str:
    return os.fsdecode(b)


def commands(path: Path, shape: Shape, out: Path, page: int, item: int) -> Iterator[list[str]]:
    f = str(path)
    yield ["check", f]
    yield ["check", f, "--from-page", str(page)]
    yield ["buckets", f]
    named = [b for b in shape.buckets if all(b"\0" not in n for n in b)]
    if named:
        bucket = named[(page + item) % len(named)]
        yield ["keys", f, *map(_arg, bucket)]
        keys = shape.keys.get(tuple(bucket)) or [b"missing"]
        key = keys[item % len(keys)] or b"k"
        yield ["get", "--parse-format", "hex", f, *map(_arg, bucket), key.hex()]
    yield ["stats", f]
    yield ["info", f]
    yield ["pages", f]
    yield ["page", f, "--all"]
    yield ["page", f, str(page), str(page + 1), "0"]
    yield ["page-item", f, str(page), str(item)]
    yield ["page-item", "--value-only", "--format", "hex", f, str(page), str(item + 1)]
    yield ["dump", f, str(page), "1"]
    yield ["inspect", f]
    yield ["compact", "-o", str(out), f]
    # pybbolt's own read commands and flags (cli/cmd_data.py, cli/cmd_json.py).
    yield ["ls", "-r", f]
    yield ["find", f, "--value-regex", "a"]
    yield ["export", f]
    yield ["check", "--json", f]


# -- the worker ---------------------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class Worker(cli_worker.Worker):
    """The CLI worker (tests/cli_worker.py) under the address-space limit."""

    def __init__(self) -> None:
        super().__init__(preexec_fn=_limit_memory)

    def run_fuzz(self, argv: list[str]) -> dict[str, Any]:
        return self.request({"argv": argv, "timeout": COMMAND_TIMEOUT})


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker()
    w.start()
    yield w
    w.stop()


def check_reply(argv: list[str], reply: dict[str, Any], what: str) -> None:
    where = f"{what}\n  command: {argv}"
    assert "exception" not in reply, f"{where}\n{reply['exception']}"
    assert not reply.get("overtime"), f"{where}: over {COMMAND_TIMEOUT}s"
    for stream in ("stderr", "stray"):
        assert "Traceback" not in reply[stream], f"{where}\n{reply[stream]}"
        assert "MemoryError" not in reply[stream], f"{where}: out of memory\n{reply[stream]}"
        assert "internal error" not in reply[stream], f"{where}\n{reply[stream]}"
    assert not reply["leaks"], f"{where}: the command changed process state: {reply['leaks']}"
    assert reply["status"] in (0, 1, 2), f"{where}: status {reply['status']}"
    STATS["commands"] += 1
    STATS[f"status {reply['status']}"] += 1
    if reply["capped"]:
        STATS["output capped at 1 MiB"] += 1
    STATS["slowest ms"] = max(STATS["slowest ms"], int(reply["seconds"] * 1000))


def run_all(worker: Worker, damage: Damage, tmp: Path, page: int, item: int) -> None:
    data = apply_damage(damage)
    path = tmp / "damaged.db"
    path.write_bytes(data)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    out = tmp / "compacted.db"
    shape = _source(damage.source)[1]
    for argv in commands(path, shape, out, page, item):
        if out.exists():
            out.unlink()
        check_reply(argv, worker.run_fuzz(argv), damage.describe)
        after = path.stat()
        assert path.read_bytes() == data, f"{damage.describe}: {argv} changed the file"
        assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    STATS["damaged files"] += 1


@pytest.mark.skipif(not SOURCES, reason="tests/fixtures is empty")
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(damage=damages(), page=st.integers(0, 40) | st.sampled_from([1 << 32, 2**64 - 1]),
       item=st.integers(0, 70))
def test_damaged_files_through_every_command(worker: Worker, damage: Damage, page: int,
                                             item: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_all(worker, damage, Path(tmp), page, item)


# Damage found by hand or by earlier runs, always replayed.
KNOWN = [
    ("nested.db", "meta", ("pgid", 1 << 40, True, True)),
    ("nested.db", "meta", ("root", 1, False, True)),
    ("nested.db", "meta", ("freelist", 3, True, True)),
    ("nested.db", "meta", ("page_size", 1 << 31, True, True)),
    ("churn_seed1.db", "meta", ("pgid", 2, True, True)),
    ("overflow.db", "meta", ("root", 0, False, True)),
]


@pytest.mark.skipif(not SOURCES, reason="tests/fixtures is empty")
@pytest.mark.parametrize("case", KNOWN, ids=lambda c: f"{c[0]}-{c[2][0]}={c[2][1]}")
def test_known_damage(worker: Worker, case: tuple[str, str, tuple[str, int, bool, bool]],
                      tmp_path: Path) -> None:
    name, _, meta = case
    src = FIXTURES / name
    run_all(worker, Damage(src, (), (meta,), f"{name}: {meta}"), tmp_path, 3, 1)


def test_cycles_and_self_references(worker: Worker, tmp_path: Path) -> None:
    """Every branch element of a page pointing at the page itself, at its
    parent, and every bucket root pointing at the page holding it."""
    for name in ("nested.db", "churn_seed1.db"):
        src = FIXTURES / name
        shape = _source(src)[1]
        refs = [f for f in shape.fields if f.kind in ("pgid", "bucket_root") and f.ancestors]
        if not FULL:  # an even spread of 8 of them per file
            refs = refs[:: max(1, len(refs) // 8)]
        for f in refs:
            for target in {f.ancestors[-1], f.ancestors[0]}:
                edit = (f.offset, target.to_bytes(8, "little"))
                d = Damage(src, (edit,), (), f"{name}: {f.kind}@{f.offset} -> {target}")
                run_all(worker, d, tmp_path, f.page, 0)
                STATS["cycles"] += 1


def _run_capped(argv: list[str]) -> tuple[int, str]:
    """Run ``python -m pybbolt.cli ARGV``, reading at most 1 MiB of its stdout
    before closing the pipe (as ``| head`` would); returns (status, stderr)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "pybbolt.cli", *argv], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=err, preexec_fn=_limit_memory)
        assert proc.stdout is not None
        got = 0
        try:
            while got < 1 << 20:
                ready, _, _ = select.select([proc.stdout], [], [], COMMAND_TIMEOUT)
                assert ready, f"{argv}: no output for {COMMAND_TIMEOUT}s"
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                got += len(chunk)
            proc.stdout.close()
            status = proc.wait(COMMAND_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        return status, err.read().decode("utf-8", "replace")


def test_entry_point_subprocess(worker: Worker, tmp_path: Path) -> None:
    """The console entry point itself (main(), not execute()) on damaged files:
    no traceback, bbolt's statuses, under the same memory limit."""
    src = FIXTURES / "nested.db"
    shape = _source(src)[1]
    cases = [Damage(src, (), (("pgid", 1 << 40, True, True),), "hwm far away"),
             Damage(src, ((shape.pages[0] * shape.ps + 8, b"\xff\xff"),), (), "flags")]
    if FULL:
        cases += [Damage(src, (), (("root", 1 << 40, False, True),), "root far away"),
                  Damage(src, ((shape.pages[-1] * shape.ps + 12, b"\xff\xff\xff\xff"),), (),
                         "overflow")]
    else:
        # A Python start-up per command is slow: by default one damaged file
        # goes through the entry point, the other through the worker.
        run_all(worker, cases.pop(), tmp_path, shape.pages[0], 0)
    for d in cases:
        path = tmp_path / "d.db"
        path.write_bytes(apply_damage(d))
        before = path.read_bytes()
        for argv in commands(path, shape, tmp_path / "c.db", shape.pages[0], 0):
            if (tmp_path / "c.db").exists():
                (tmp_path / "c.db").unlink()
            status, err = _run_capped(argv)
            assert "Traceback" not in err and "internal error" not in err, (d.describe, argv, err)
            assert status in (0, 1, 2), (d.describe, argv, status, err)
            assert path.read_bytes() == before
            STATS["subprocess commands"] += 1


def test_fuzz_cli_counts() -> None:
    """Runs last in this module: damaged files really went through the commands."""
    print(f"CLI fuzz: {dict(STATS)}")
    if SOURCES:
        assert STATS["damaged files"] >= min(EXAMPLES, 10)
        assert STATS["commands"] >= 10 * STATS["damaged files"]


