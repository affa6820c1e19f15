"""bench: a synthetic write-then-read benchmark on a temporary database (docs/CLI.md §5.11)."""

from __future__ import annotations

import contextlib
import os
import random
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from pybbolt.gotext import go_quote_str

from .godur import SECOND, benchmark_result, duration
from .runtime import CommandError, Crash, Exit, Invocation

if TYPE_CHECKING:
    import pybbolt

BUCKET = b"bench"
WRITE_MODES = ("seq", "rnd", "seq-nest", "rnd-nest")
_U32 = struct.Struct(">I")


@dataclass
class Options:
    """The bench flags, after validation."""

    profile_mode: str
    write_mode: str
    read_mode: str
    count: int
    batch_size: int
    key_size: int
    value_size: int
    cpu_profile: str
    mem_profile: str
    block_profile: str
    fill_percent: float
    no_sync: bool
    work: bool
    path: str
    gobench: bool
    page_size: int
    initial_mmap_size: int


def options_from(inv: Invocation) -> Options:
    """Read the flags and apply bbolt's ``Validate`` and ``SetOptionValues``."""
    o = inv.opts
    opts = Options(
        o.get_str("profile-mode"), o.get_str("write-mode"), o.get_str("read-mode"),
        o.get_int("count"), o.get_int("batch-size"), o.get_int("key-size"),
        o.get_int("value-size"), o.get_str("cpuprofile"), o.get_str("memprofile"),
        o.get_str("blockprofile"), o.get_float("fill-percent"), o.get_bool("no-sync"),
        o.get_bool("work"), o.get_str("path"), o.get_bool("gobench-output"),
        o.get_int("page-size"), o.get_int("initial-mmap-size"),
    )
    if opts.batch_size > 0 and _go_rem(opts.count, opts.batch_size) != 0:
        raise CommandError("the number of iterations must be divisible by the batch size")
    if opts.write_mode not in WRITE_MODES:
        raise CommandError("the write mode should be one of seq, rnd, seq-nest, or rnd-nest")
    if opts.path == "":
        try:
            fd, name = tempfile.mkstemp(prefix="bolt-bench-")
        except OSError as e:
            raise CommandError(f"temp file: {e}") from None
        os.close(fd)
        os.remove(name)
        opts.path = name
    if opts.batch_size == 0:
        opts.batch_size = opts.count
    return opts


def _go_rem(a: int, b: int) -> int:
    """Go's ``%`` (truncated toward zero)."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


@dataclass
class Results:
    """Completed operations and elapsed time of one phase (thread-safe enough)."""

    ops: int = 0
    ns: int = 0

    def per_op(self) -> int:
        return self.ns // self.ops if self.ops else 0

    def per_second(self) -> int:
        op = self.per_op()
        return SECOND // op if op else 0


@dataclass
class Progress:
    """bbolt's ``checkProgress``: a line on stderr every second."""

    results: Results
    err: IO[bytes]
    stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Progress:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()

    def _run(self) -> None:
        last_ops, last_time = 0, time.monotonic_ns()
        while not self.stop.wait(1.0):
            now = time.monotonic_ns()
            ops = self.results.ops
            rate = (ops - last_ops) * SECOND // max(now - last_time, 1)
            self.err.write(f"Completed {ops} requests, {rate}/s \n".encode())
            self.err.flush()
            last_ops, last_time = ops, now


class Profiler:
    """The ``--cpuprofile``/``--memprofile``/``--blockprofile`` files.

    The CPU profile is a :mod:`cProfile` dump (there is no Go runtime to
    profile); the memory and block profiles are created and left empty.
    """

    def __init__(self, opts: Options, err: IO[bytes]) -> None:
        self.opts = opts
        self.err = err
        self.files: list[tuple[str, IO[bytes]]] = []
        self.cpu: object | None = None

    def start(self) -> None:
        for kind, path in (
            ("cpu", self.opts.cpu_profile),
            ("memory", self.opts.mem_profile),
            ("block", self.opts.block_profile),
        ):
            if not path:
                continue
            try:
                handle = open(path, "wb")  # noqa: SIM115 - closed in stop()
            except OSError as e:
                text = f"could not create {kind} profile {go_quote_str(path)}: {_go_err(e)}"
                raise Exit(1, f"bench: {text}\n") from None
            self.files.append((kind, handle))
            if kind == "cpu":
                import cProfile

                profile = cProfile.Profile()
                profile.enable()
                self.cpu = profile

    def stop(self) -> None:
        for kind, handle in self.files:
            if kind == "cpu" and self.cpu is not None:
                import cProfile
                import marshal

                assert isinstance(self.cpu, cProfile.Profile)
                self.cpu.disable()
                self.cpu.create_stats()
                handle.write(marshal.dumps(self.cpu.stats))
                self.cpu = None
            handle.close()
        self.files.clear()


def _go_err(e: OSError) -> str:
    from .common import os_error_text

    return f"open {e.filename}: {os_error_text(e)}"


# --- the write phase -------------------------------------------------------------


def _key_source(mode: str, rng: random.Random) -> Callable[[], int]:
    if mode.startswith("rnd"):
        return lambda: rng.getrandbits(32)
    counter = iter(range(1, 1 << 62))
    return lambda: next(counter) & 0xFFFFFFFF


def _key(size: int, number: int) -> bytes:
    """A key of ``size`` bytes starting with ``number`` big-endian (Go panics below 4)."""
    if size < 4:
        raise Crash(f"runtime error: index out of range [3] with length {size}")
    return _U32.pack(number) + bytes(size - 4)


def run_writes(
    db: pybbolt.DB, opts: Options, results: Results, err: IO[bytes], rng: random.Random
) -> list[tuple[bytes | None, bytes]] | None:
    """Insert ``count`` keys in batches; returns the keys when reads are random."""
    source = _key_source(opts.write_mode, rng)
    nested = opts.write_mode.endswith("-nest")
    keys: list[tuple[bytes | None, bytes]] | None = [] if opts.read_mode == "rnd" else None
    value = bytes(max(opts.value_size, 0))
    i = 0
    while i < opts.count:
        with db.update() as tx:
            top = tx.create_bucket_if_not_exists(BUCKET)
            top.fill_percent = opts.fill_percent
            bucket, name = top, None
            if nested:
                name = _key(opts.key_size, source())
                bucket = top.create_bucket_if_not_exists(name)
                bucket.fill_percent = opts.fill_percent
            err.write(f"Starting write iteration {i}\n".encode())
            for _ in range(opts.batch_size):
                key = _key(opts.key_size, source())
                bucket.put(key, value)
                if keys is not None:
                    keys.append((name, key))
                results.ops += 1
            err.write(f"Finished write iteration {i}\n".encode())
        i += opts.batch_size
    return keys


# --- the read phase --------------------------------------------------------------


def _nil() -> Crash:
    return Crash("runtime error: invalid memory address or nil pointer dereference")


def _read_pass(
    tx: pybbolt.Tx, opts: Options, keys: list[tuple[bytes | None, bytes]] | None
) -> Iterator[None]:
    """One pass over the data: yields once per value read."""
    top = tx.bucket(BUCKET)
    if top is None:
        raise _nil()
    nested = opts.write_mode.endswith("-nest")
    if opts.read_mode == "seq":
        buckets = [b for _, b in top.buckets()] if nested else [top]
        for bucket in buckets:
            for _k, value in bucket.items():
                yield None
                if value is None:
                    raise CommandError("bench: read: invalid value")
        return
    for name, key in keys or []:
        target = top.bucket(name) if name is not None else top
        if target is None:
            continue
        found = target.get(key)
        yield None
        if found is None:
            raise CommandError("bench: read: invalid value")


def run_reads(
    db: pybbolt.DB, opts: Options, results: Results, keys: list[tuple[bytes | None, bytes]] | None
) -> None:
    """Read everything again and again for at least a second."""
    if opts.read_mode not in ("seq", "rnd"):
        raise CommandError(f"bench: read: invalid read mode: {opts.read_mode}")
    start = time.monotonic()
    with db.view() as tx:
        while True:
            reads = 0
            try:
                for _ in _read_pass(tx, opts, keys):
                    reads += 1
            finally:
                results.ops += reads
            mode = opts.write_mode
            if mode in ("seq", "seq-nest") and reads != opts.count:
                raise CommandError(
                    f"bench: read: read {mode}: iter mismatch: expected {opts.count}, got {reads}"
                )
            if time.monotonic() - start >= 1.0:
                break


# --- the command -------------------------------------------------------------------


def report(write: Results, read: Results, gobench: bool) -> str:
    """The result lines (and the final empty line) on stdout."""
    if gobench:
        width = max(len("BenchmarkRead"), len("BenchmarkWrite"))
        return (
            f"{'BenchmarkWrite':<{width}}\t{benchmark_result(write.ops, write.ns)}\n"
            f"{'BenchmarkRead':<{width}}\t{benchmark_result(read.ops, read.ns)}\n\n"
        )
    lines = []
    for name, r in (("Write", write), ("Read", read)):
        lines.append(
            f"# {name}\t{r.ops}(ops)\t{duration(r.ns)}\t({duration(r.per_op())}/op)"
            f"\t({r.per_second()} op/sec)\n"
        )
    return "".join(lines) + "\n"


def run_bench(inv: Invocation) -> None:
    import pybbolt

    opts = options_from(inv)
    err = inv.err
    if opts.work:
        err.write(f"work: {opts.path}\n".encode("utf-8", "surrogateescape"))
    try:
        try:
            db = pybbolt.open(
                opts.path, page_size=opts.page_size or None,
                initial_mmap_size=opts.initial_mmap_size, no_sync=opts.no_sync,
            )
        except OSError as e:
            raise CommandError(f"open {opts.path}: {e.strerror or e}") from None
        with db:
            _phases(db, opts, inv)
    finally:
        if not opts.work:
            with contextlib.suppress(OSError):
                os.remove(opts.path)


def _phases(db: pybbolt.DB, opts: Options, inv: Invocation) -> None:
    import pybbolt

    err = inv.err
    rng = random.Random(time.time_ns())
    profiler = Profiler(opts, err)
    write = Results()
    err.write(b"starting write benchmark.\n")
    if opts.profile_mode in ("rw", "w"):
        profiler.start()
    started = time.monotonic_ns()
    with Progress(write, err):
        try:
            keys = run_writes(db, opts, write, err, rng)
        except pybbolt.CorruptionError:
            raise
        except pybbolt.Error as e:
            raise CommandError(f"write: {e}") from None
        finally:
            write.ns = time.monotonic_ns() - started
    if opts.profile_mode == "w":
        profiler.stop()
    if keys is not None:
        rng.shuffle(keys)
    read = Results()
    err.write(b"starting read benchmark.\n")
    if opts.profile_mode == "r":
        profiler.start()
    started = time.monotonic_ns()
    with Progress(read, err):
        try:
            run_reads(db, opts, read, keys)
        finally:
            read.ns = time.monotonic_ns() - started
    if opts.profile_mode in ("rw", "r"):
        profiler.stop()
    inv.out.text(report(write, read, opts.gobench))
    sys.stdout.flush()
