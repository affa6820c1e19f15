"""Differential tests: the real bbolt v1.5.0 CLI (.bin/bbolt) and pybbolt side by side.

(a) Hypothesis builds random databases with the pybbolt writer: nested
    buckets, binary keys (non-printable, invalid UTF-8, unicode, leading
    dashes and spaces), empty and large values, sequences, several commits
    with deletes, page sizes, freelist options, a reader holding pages
    pending.  check, buckets, keys (every format), get, stats, pages, page,
    page-item, dump, inspect and info must give the same stdout bytes, exit
    status and stderr emptiness from both tools.
(b) Hypothesis damages copies of fixtures (page headers, leaf and branch
    elements, bucket headers, meta fields with the checksum recomputed,
    stray bytes).  Where bbolt answers (exit status 0 or 1, the same on two
    runs) pybbolt must answer the same; where bbolt crashes or panics (exit
    status 2, its output then depends on where it stopped), pybbolt must fail
    too (non-zero exit).  pybbolt never prints a Python traceback.  Not
    compared: what bbolt reads from foreign memory (an element or page past
    its page buffer or the file mapping, which pybbolt names, see FOREIGN),
    and one known gap (EAGER).  The counts are printed by the last test
    (``pytest -s``).

pybbolt's commands run in a long-lived ``.venv/bin/python`` worker that calls
the console script's ``cli.main.main`` with in-memory streams (starting a
Python process per command would cost 0.2 s each); one command of every
example also runs through ``.venv/bin/pybbolt`` itself and must give the
worker's answer (one example in four).  Arguments that are not valid UTF-8 reach both tools as the
same bytes (surrogate escapes on the Python side, as the interpreter decodes
argv).

``PYBBOLT_DIFF_EXAMPLES`` sets the number of random databases (default 30)
and ``PYBBOLT_DIFF_DAMAGE_EXAMPLES`` the number of damaged files (default 40;
``make fuzz`` runs ten times as many of both).
"""

from __future__ import annotations

import os
import re
import resource
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

import pybbolt
from pybbolt.unicode_print import is_print

from . import cli_worker
from .conftest import BIN, FIXTURES, ROOT, need
from .content import Model, model_content, new_model, without_inline
from .workload import go_dump

EXAMPLES = int(os.environ.get("PYBBOLT_DIFF_EXAMPLES", "30"))
DAMAGE_EXAMPLES = int(os.environ.get("PYBBOLT_DIFF_DAMAGE_EXAMPLES", "40"))
BBOLT = BIN / "bbolt"
PYTHON = ROOT / ".venv" / "bin" / "python"
PYBBOLT = ROOT / ".venv" / "bin" / "pybbolt"
TIMEOUT = 60.0
BBOLT_MEMORY = 2 << 30  # as the golden set was recorded
FORMATS = ["auto", "ascii-encoded", "hex", "bytes", "redacted"]
STATS: Counter[str] = Counter()

@dataclass(frozen=True)
class Result:
    exit: int
    stdout: bytes
    stderr: str

    def brief(self) -> str:
        more = "..." if len(self.stdout) > 200 else ""
        return f"exit {self.exit}, stdout {self.stdout[:200]!r}{more}, stderr {self.stderr[:300]!r}"


def _limit_bbolt() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (BBOLT_MEMORY, BBOLT_MEMORY))


def run_bbolt(argv: list[str], cwd: Path) -> Result:
    args = [os.fsencode(a) for a in argv]
    try:
        p = subprocess.run([bytes(BBOLT), *args], capture_output=True, cwd=cwd, timeout=TIMEOUT,
                           preexec_fn=_limit_bbolt)
    except subprocess.TimeoutExpired:
        return Result(-1, b"", "timed out")
    return Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def run_binary(argv: list[str], cwd: Path) -> Result:
    p = subprocess.run([bytes(PYBBOLT), *[os.fsencode(a) for a in argv]], capture_output=True,
                       cwd=cwd, timeout=TIMEOUT)
    return Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


class Worker:
    """pybbolt's ``main`` in a long-lived process of the project's interpreter
    (tests/cli_worker.py)."""

    def __init__(self) -> None:
        self.w = cli_worker.Worker(python=str(PYTHON))

    def start(self) -> None:
        self.w.start()

    def run(self, argv: list[str], cwd: Path) -> Result:
        r = self.w.run(argv, cwd, TIMEOUT)
        assert r is not None, f"{argv}: pybbolt took more than {TIMEOUT} s"
        return Result(r.returncode, r.stdout, r.stderr.decode("utf-8", "replace"))

    def stop(self) -> None:
        self.w.stop()


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    need(BBOLT.exists(), "the bbolt CLI is not installed (.bin/bbolt): run `make gotools`")
    need((BIN / "boltgo").exists(), "Go tools not built (.bin/boltgo): run `make gotools`")
    assert PYTHON.exists() and PYBBOLT.exists(), "run `make venv`"
    w = Worker()
    w.start()
    yield w
    w.stop()


def bbolt_view(r: Result, argv: list[str]) -> Result:
    """bbolt's output as the reference binary prints it: the local build's
    JSON encoder may escape invalid UTF-8 in inspect as \\ufffd where the
    reference writes the raw U+FFFD (docs/CLI.md §6.2)."""
    if argv and argv[0] == "inspect":
        return Result(r.exit, re.sub(rb"(?<!\\)\\ufffd", "\ufffd".encode(), r.stdout), r.stderr)
    return r


def no_traceback(r: Result) -> bool:
    return "Traceback" not in r.stderr and "internal error" not in r.stderr


# pybbolt's words for an element or a page that lies outside the bytes bbolt
# has for it (its page buffer, the file mapping): bbolt then reads foreign
# memory, which faults or yields whatever is mapped there (often zeros), so
# its output is not defined.
FOREIGN = ("lies outside", "beyond the end of the", "fatal error: fault")
# A known gap: pybbolt decodes a whole leaf at once and refuses one with an
# element beyond the end of the file, where bbolt reads only the fields a
# command asks for (``buckets`` prints the names and never reads the values).
EAGER = "points outside the data"


def newer_unicode(out: bytes) -> bool:
    """Whether ``out`` prints a character that Python's (older) Unicode tables
    leave unassigned but pybbolt's Unicode 17 table calls printable, as the
    reference bbolt does (docs/CLI.md §3.3): the local Go toolchain's bbolt may
    escape it, a difference of the toolchains, not of pybbolt."""
    return any(is_print(ord(c)) and not c.isprintable() for c in out.decode("utf-8", "replace"))


def first_difference(a: bytes, b: bytes) -> str:
    i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return f"stdout differs at byte {i}: bbolt {a[max(0, i - 60): i + 80]!r}, " \
           f"pybbolt {b[max(0, i - 60): i + 80]!r}"


def compare(worker: Worker, argv: list[str], cwd: Path, damaged: bool = False) -> None:
    ref = bbolt_view(run_bbolt(argv, cwd), argv)
    got = worker.run(argv, cwd)
    STATS["commands"] += 1
    assert no_traceback(got), f"{argv}: pybbolt {got.brief()}"
    if damaged and any(w in got.stderr or w.encode() in got.stdout for w in FOREIGN):
        STATS["bbolt reads foreign memory"] += 1  # it faults or reads what is there
        return
    if damaged and EAGER in got.stderr and ref.exit in (0, 1):
        STATS["known gap: whole leaf decoded"] += 1
        return
    if ref.exit not in (0, 1):
        # bbolt crashed (panic, fault, out of memory): pybbolt must fail too
        STATS["bbolt crashed"] += 1
        assert got.exit != 0, f"{argv}: bbolt {ref.brief()}; pybbolt {got.brief()}"
        return
    if damaged:
        again = bbolt_view(run_bbolt(argv, cwd), argv)
        if again != ref:
            STATS["bbolt not reproducible"] += 1
            return
    if (got.exit, got.stdout) != (ref.exit, ref.stdout) and newer_unicode(got.stdout):
        STATS["characters newer than the local Go's Unicode"] += 1
        return
    STATS["compared"] += 1
    assert (got.exit, got.stdout, got.stderr == "") == (ref.exit, ref.stdout, ref.stderr == ""), (
        f"{argv}:\n  bbolt   {ref.brief()}\n  pybbolt {got.brief()}\n  "
        f"{first_difference(ref.stdout, got.stdout)}")


def compare_binary(worker: Worker, argv: list[str], cwd: Path) -> None:
    """The console script itself answers as the worker does."""
    a, b = worker.run(argv, cwd), run_binary(argv, cwd)
    STATS["binary"] += 1
    assert (a.exit, a.stdout, a.stderr == "") == (b.exit, b.stdout, b.stderr == ""), (
        f"{argv}:\n  worker {a.brief()}\n  binary {b.brief()}")


def arg(b: bytes) -> str:
    """A command-line argument with these bytes (no NUL): surrogate escapes for
    bytes that are not UTF-8, as Python decodes argv."""
    return os.fsdecode(b)


# -- (a) random databases ---------------------------------------------------------------

NAMES = [b"alpha", b"beta", b"b\xff\xfe", "ünï".encode(), b"\x01ctl", b"-dash", b"sp ace",
         b"n" * 40, "名前".encode(), b"\xed\xa0\x80"]
SPECIAL_KEYS = [b"\x00", b"\xff", b"-k", b" lead", b"%q", b"a\"b\\", "é😀".encode(),
                "\u200b".encode(), b"\xc3\x28", b"\x7f", b"k" * 300]
KEYS = st.one_of(
    st.sampled_from(SPECIAL_KEYS),
    st.binary(min_size=1, max_size=12),
    st.text(min_size=1, max_size=6).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.integers(0, 999).map(lambda i: b"key-%03d" % i),
)
VALUES = st.one_of(
    st.binary(max_size=40),
    st.just(b""),
    st.text(max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.integers(600, 12000).map(lambda n: bytes((i * 7) % 251 for i in range(n))),
)
PATHS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(tuple)

OPS = st.one_of(
    st.tuples(st.just("put"), PATHS, KEYS, VALUES),
    st.tuples(st.just("put"), PATHS, KEYS, VALUES),
    st.tuples(st.just("bulk"), PATHS, st.integers(1, 250), st.integers(0, 60)),
    st.tuples(st.just("prune"), PATHS, st.integers(1, 4)),
    st.tuples(st.just("delete_bucket"), PATHS),
    st.tuples(st.just("sequence"), PATHS, st.integers(0, 2**64 - 1)),
    st.tuples(st.just("next_sequence"), PATHS),
)


@st.composite
def db_plans(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "page_size": draw(st.sampled_from([4096, 4096, 4096, 8192, 16384])),
        "freelist_type": draw(st.sampled_from(["array", "hashmap"])),
        "no_freelist_sync": draw(st.booleans()),
        "txs": draw(st.lists(st.lists(OPS, min_size=1, max_size=12), min_size=1, max_size=5)),
        "hold_reader_at": draw(st.none() | st.integers(0, 4)),
        "fill": draw(st.sampled_from([0.5, 0.5, 0.1, 1.0])),
    }


def _bucket(tx: pybbolt.Tx, path: tuple[bytes, ...], create: bool) -> pybbolt.Bucket | None:
    b = tx.create_bucket_if_not_exists(path[0]) if create else tx.bucket(path[0])
    for name in path[1:]:
        if b is None:
            return None
        b = b.create_bucket_if_not_exists(name) if create else b.bucket(name)
    return b


def _apply(tx: pybbolt.Tx, op: tuple[Any, ...], fill: float) -> None:
    kind, path = op[0], op[1]
    try:
        b = _bucket(tx, path, kind in ("put", "bulk"))
        if b is None:
            return
        b.fill_percent = fill
        if kind == "put":
            b.put(op[2], op[3])
        elif kind == "bulk":
            for i in range(op[2]):
                b.put(b"bulk-%05d" % i, bytes([65 + i % 26]) * op[3])
        elif kind == "prune":
            keys = [k for k, v in b.items() if v is not None]
            for k in keys[:: op[2]]:
                b.delete(k)
        elif kind == "delete_bucket":
            parent = tx if len(path) == 1 else _bucket(tx, path[:-1], False)
            if parent is not None:
                parent.delete_bucket(path[-1])
        elif kind == "sequence":
            b.set_sequence(op[2])
        elif kind == "next_sequence":
            b.next_sequence()
    except pybbolt.Error:
        pass  # e.g. a path through a key, a key where a bucket is: bbolt refuses too


def _model_bucket(root: Model, path: tuple[bytes, ...], create: bool) -> Model | None:
    """What ``_bucket`` finds (or makes) in the model: creation stops at a key of
    that name (IncompatibleValue), keeping the levels already made."""
    node = root
    for name in path:
        if name not in node["buckets"]:
            if not create or name in node["kv"]:
                return None
            node["buckets"][name] = new_model()
        node = node["buckets"][name]
    return node


def _model_apply(root: Model, op: tuple[Any, ...]) -> None:
    """``_apply`` on the model, with bbolt's refusals (a put onto a bucket)."""
    kind, path = op[0], op[1]
    b = _model_bucket(root, path, kind in ("put", "bulk"))
    if b is None:
        return
    if kind == "put":
        if op[2] not in b["buckets"]:
            b["kv"][op[2]] = op[3]
    elif kind == "bulk":
        for i in range(op[2]):
            b["kv"][b"bulk-%05d" % i] = bytes([65 + i % 26]) * op[3]
    elif kind == "prune":
        for k in sorted(b["kv"])[:: op[2]]:
            del b["kv"][k]
    elif kind == "delete_bucket":
        parent = _model_bucket(root, path[:-1], False)
        assert parent is not None
        del parent["buckets"][path[-1]]
    elif kind == "sequence":
        b["seq"] = op[2]
    elif kind == "next_sequence":
        b["seq"] = (b["seq"] + 1) & 0xFFFFFFFFFFFFFFFF


def model_of(plan: dict[str, Any]) -> dict[str, Any]:
    """The content a plan must leave, from a model (not from the writer)."""
    root = new_model()
    for ops in plan["txs"]:
        for op in ops:
            _model_apply(root, op)
    return model_content(root, plan["page_size"])


def build(path: Path, plan: dict[str, Any]) -> None:
    db = pybbolt.open(path, page_size=plan["page_size"], no_sync=True,
                      freelist_type=plan["freelist_type"],
                      no_freelist_sync=plan["no_freelist_sync"])
    reader = None
    try:
        for i, ops in enumerate(plan["txs"]):
            if plan["hold_reader_at"] == i and reader is None:
                reader = db.begin(False)
            with db.update() as tx:
                for op in ops:
                    _apply(tx, op, plan["fill"])
    finally:
        if reader is not None:
            reader.rollback()
        db.close()


def walk(path: Path) -> tuple[list[tuple[bytes, ...]], dict[tuple[bytes, ...], list[bytes]]]:
    """Bucket paths and their keys, as pybbolt reads them."""
    buckets: list[tuple[bytes, ...]] = []
    keys: dict[tuple[bytes, ...], list[bytes]] = {}

    def visit(b: pybbolt.Bucket, p: tuple[bytes, ...]) -> None:
        buckets.append(p)
        keys[p] = []
        for k, v in b.items():
            if v is None:
                child = b.bucket(k)
                if child is not None:  # None on some damaged files
                    visit(child, (*p, k))
            else:
                keys[p].append(k)

    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        for name, b in tx.buckets():
            visit(b, (name,))
    return buckets, keys


def read_pages(data: bytes, ps: int) -> list[tuple[int, int, int]]:
    """(id, flags, count) of every page header up to the end of the file."""
    out = []
    for pid in range(len(data) // ps):
        _, flags, count, _ = struct.unpack_from("<QHHI", data, pid * ps)
        out.append((pid, flags, count))
    return out


def commands(db: str, data: bytes, ps: int, buckets: list[tuple[bytes, ...]],
             keys: dict[tuple[bytes, ...], list[bytes]], pick: st.DrawFn) -> list[list[str]]:
    fmt = lambda: pick(st.sampled_from(FORMATS))  # noqa: E731
    cmds = [["check", db], ["buckets", db], ["stats", db], ["pages", db], ["inspect", db],
            ["info", db], ["page", "--all", "--format-value", fmt(), db]]
    if buckets:
        top = pick(st.sampled_from(buckets))[0]
        cmds.append(["stats", "--", db, arg(top[: pick(st.integers(1, len(top)))])])
    for p in pick(st.lists(st.sampled_from(buckets), max_size=5, unique=True)) if buckets else []:
        pargs = [arg(x) for x in p]
        cmds.append(["keys", "--format", fmt(), "--", db, *pargs])
        ks = keys[p]
        for k in pick(st.lists(st.sampled_from(ks), max_size=3, unique=True)) if ks else []:
            cmds.append(["get", "--parse-format", "hex", "--format", fmt(), "--", db, *pargs,
                         k.hex()])
            if b"\0" not in k:
                cmds.append(["get", "--format", fmt(), "--", db, *pargs, arg(k)])
        cmds.append(["get", "--", db, *pargs, "no such key"])
    pages = read_pages(data, ps)
    leaves = [p for p in pages if p[1] == 0x02]
    some = pick(st.lists(st.sampled_from(leaves), max_size=3, unique=True)) if leaves else []
    for pid, _, count in some:
        item = pick(st.integers(0, count))
        cmds.append(["page-item", "--format", fmt(), db, str(pid), str(item)])
    ids = [str(p) for p in pick(st.lists(st.integers(0, len(pages) + 1), min_size=1,
                                         max_size=4))]
    cmds.append(["page", "--format-value", fmt(), db, *ids])
    cmds.append(["dump", db, *ids[:2]])
    cmds.append(["check", "--from-page", ids[0], db])
    return cmds


# Fixed examples (the ci profile derandomizes): the same files and commands,
# so the same time, on every run; PYBBOLT_DIFF_EXAMPLES explores further.
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(plan=db_plans(), data=st.data())
def test_random_databases(worker: Worker, plan: dict[str, Any], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(prefix="pybbolt-diff-") as tmp:
        cwd = Path(tmp)
        path = cwd / "random.db"
        build(path, plan)
        # Both tools read a file pybbolt wrote: judge the file itself first, by
        # Go's check and a model of the plan, so a writer bug cannot pass.
        go = go_dump(BIN / "boltgo", path)
        assert go.get("check") == [], f"Go's check: {go}"
        assert without_inline(go["content"]) == model_of(plan), "not the model's content"
        buckets, keys = walk(path)
        raw = path.read_bytes()
        cmds = commands(str(path), raw, plan["page_size"], buckets, keys, data.draw)
        STATS["databases"] += 1
        STATS["go checked"] += 1
        for argv in cmds:
            compare(worker, argv, cwd)
        assert path.read_bytes() == raw, "a read command changed the file"
        if STATS["databases"] % 4 == 1:  # a start-up per run: every 4th database
            compare_binary(worker, data.draw(st.sampled_from(cmds)), cwd)


# -- (b) damaged fixtures --------------------------------------------------------------

SOURCES = [n for n in ("nested.db", "inline_bucket.db", "churn_seed3.db", "fill_100.db",
                       "binary_keys.db", "pagesize_8192.db", "churn_seed1_nofreelistsync.db",
                       "bacalhau_compute.db") if (FIXTURES / n).exists()]
U32 = (1 << 32) - 1


def fnv64a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def page_size_of(data: bytes) -> int:
    return int(struct.unpack_from("<I", data, 16 + 8)[0])


@dataclass(frozen=True)
class Damage:
    name: str  # the fixture
    page: int  # the page it aims at
    patches: tuple[tuple[int, bytes], ...]  # (offset, new bytes)
    what: str

    def apply(self) -> bytes:
        data = bytearray((FIXTURES / self.name).read_bytes())
        for off, b in self.patches:
            data[off: off + len(b)] = b
        return bytes(data)


@st.composite
def damaged(draw: st.DrawFn) -> Damage:
    name = draw(st.sampled_from(SOURCES))
    original = (FIXTURES / name).read_bytes()
    data = bytearray(original)
    ps = page_size_of(data)
    pages = read_pages(bytes(data), ps)
    tree = [p for p in pages if p[1] in (0x01, 0x02) and p[2] > 0]
    pid, flags, count = draw(st.sampled_from(tree))
    base = pid * ps
    kind = draw(st.sampled_from(["flags", "count", "overflow", "id", "element", "element",
                                 "bucket", "meta", "bytes"]))
    any32 = st.sampled_from([0, 1, 2, 0xFFFF, U32, 1 << 20]) | st.integers(0, U32)
    if kind == "flags":
        v = draw(st.sampled_from([0, 0x01, 0x02, 0x04, 0x10, 0x20, 0x03]))
        struct.pack_into("<H", data, base + 8, v)
    elif kind == "count":
        v = draw(st.sampled_from([0, count - 1, count + 1, count * 2, 0xFFFF])
                 | st.integers(0, 0xFFFF))
        struct.pack_into("<H", data, base + 10, v)
    elif kind == "overflow":
        v = draw(st.sampled_from([1, 2, 50, 1 << 20]) | st.integers(0, U32))
        struct.pack_into("<I", data, base + 12, v)
    elif kind == "id":
        v = draw(st.sampled_from([0, 1, pid + 1, len(pages) + 5]))
        struct.pack_into("<Q", data, base, v)
    elif kind == "element":
        i = draw(st.integers(0, count - 1))
        elem = base + 16 + 16 * i
        if flags == 0x01:
            which = draw(st.sampled_from([0, 4, 8]))
            if which == 8:
                v = draw(st.sampled_from([0, 1, 2, pid, len(pages) - 1, len(pages) + 7]))
                struct.pack_into("<Q", data, elem + 8, v)
            else:
                struct.pack_into("<I", data, elem + which, draw(any32))
        else:
            which = draw(st.sampled_from([0, 4, 8, 12]))
            v = draw(st.sampled_from([0, 1]) if which == 0 else any32)
            struct.pack_into("<I", data, elem + which, v)
    elif kind == "bucket":
        # the header of a bucket value in a leaf: root pgid / sequence
        buckets = []
        if flags == 0x02:
            for i in range(count):
                eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, base + 16 + 16 * i)
                at = base + 16 + 16 * i + pos + ksize
                if eflags & 1 and vsize >= 16 and at + 16 <= len(data):
                    buckets.append(at)
        if not buckets:
            kind = "bytes"
        else:
            at = draw(st.sampled_from(buckets))
            v = draw(st.sampled_from([0, 1, 2, pid, len(pages) - 1, len(pages) + 3]))
            struct.pack_into("<Q", data, at, v)
    if kind == "meta":
        m = draw(st.sampled_from([0, 1]))
        mb = m * ps + 16
        field = draw(st.sampled_from([("root", 32), ("freelist", 48), ("pgid", 56)]))
        v = draw(st.sampled_from([0, 1, 2, pid, len(pages) - 1, len(pages) + 3, 2**64 - 1]))
        struct.pack_into("<Q", data, m * ps + field[1], v)
        if draw(st.booleans()):
            struct.pack_into("<Q", data, mb + 56, fnv64a(bytes(data[mb: mb + 56])))
        kind = f"meta{m}.{field[0]}={v}"
    elif kind == "bytes":
        for _ in range(draw(st.integers(1, 6))):
            off = draw(st.integers(16, ps - 1))
            data[base + off] = draw(st.integers(0, 255))
    patches: list[tuple[int, bytes]] = []
    changed = (off for chunk in range(0, len(data), 4096)
               if data[chunk: chunk + 4096] != original[chunk: chunk + 4096]
               for off in range(chunk, min(chunk + 4096, len(data))))
    for off in changed:
        if data[off] != original[off]:
            if patches and patches[-1][0] + len(patches[-1][1]) == off:
                patches[-1] = (patches[-1][0], patches[-1][1] + bytes([data[off]]))
            else:
                patches.append((off, bytes([data[off]])))
    return Damage(name, pid, tuple(patches), f"{kind} on page {pid} of {name}")


def damage_commands(db: str, pid: int, pick: st.DrawFn) -> list[list[str]]:
    fmt = lambda: pick(st.sampled_from(FORMATS))  # noqa: E731
    return [
        ["check", db], ["check", "--from-page", str(pid), db], ["buckets", db], ["stats", db],
        ["pages", db], ["inspect", db], ["info", db],
        ["page", "--format-value", fmt(), db, str(pid)],
        ["page-item", "--format", fmt(), db, str(pid), str(pick(st.integers(0, 3)))],
        ["dump", db, str(pid)],
    ]


@settings(max_examples=DAMAGE_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(d=damaged(), data=st.data())
def test_damaged_fixtures(worker: Worker, d: Damage, data: st.DataObject) -> None:
    name, raw, pid, what = d.name, d.apply(), d.page, d.what
    with tempfile.TemporaryDirectory(prefix="pybbolt-diff-") as tmp:
        cwd = Path(tmp)
        path = cwd / name
        path.write_bytes(raw)
        STATS["damaged files"] += 1
        cmds = damage_commands(str(path), pid, data.draw)
        try:
            buckets, keys = walk(path)
        except (pybbolt.Error, RecursionError, ValueError):
            buckets, keys = [], {}
        for p in [p for p in buckets if all(b"\0" not in x for x in p)][:2]:
            cmds.append(["keys", "--", str(path), *[arg(x) for x in p]])
            for k in keys[p][:1]:
                cmds.append(["get", "--parse-format", "hex", "--", str(path), *[arg(x) for x in p],
                             k.hex()])
        for argv in cmds:
            try:
                compare(worker, argv, cwd, damaged=True)
            except AssertionError as e:
                raise AssertionError(f"{what}: {e}") from None
        assert path.read_bytes() == raw, f"{what}: a read command changed the file"


def test_differential_counts() -> None:
    """Runs last in this module: the differential tests really compared what
    they claim (pytest -s prints the counts)."""
    print(f"\ndifferential: {dict(STATS)}", file=sys.stderr)
    if not STATS["databases"] or not STATS["damaged files"]:
        pytest.skip("the differential tests did not both run (deselected)")
    # Hypothesis runs max_examples examples unless it gives up on slow data.
    assert STATS["databases"] >= EXAMPLES // 2
    assert STATS["go checked"] == STATS["databases"]
    assert STATS["damaged files"] >= DAMAGE_EXAMPLES // 2
    assert STATS["compared"] >= 10 * STATS["databases"]
    assert STATS["binary"] == (STATS["databases"] + 3) // 4  # every 4th database
    # A comparison that was excused (bbolt crashed, read foreign memory ...) is
    # no comparison: most must have been real ones.
    assert STATS["compared"] >= STATS["commands"] // 2
