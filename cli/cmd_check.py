"""check and stats: the two commands that walk every page of the tree."""

from __future__ import annotations

import os
import struct

from .common import check_source_path, open_readonly, preload_freelist
from .runtime import CommandError, Exit, Invocation
from .textfmt import auto

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator

    from pybbolt.errors import CheckError
    from pybbolt.stats import BucketStats

_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """Round to IEEE single precision, as a Go float32 operation does."""
    return float(_F32.unpack(_F32.pack(x))[0])


def percent(part: int, whole: int) -> int:
    """``int(float32(part)*100 / float32(whole))`` in float32 arithmetic; 0 if whole is 0."""
    if whole == 0:
        return 0
    return int(_f32(_f32(_f32(float(part)) * 100) / _f32(float(whole))))


def key_text(key: bytes) -> str:
    """A key as bbolt's check prints it in its messages (the ``auto`` format)."""
    return auto(key).decode("utf-8")


def check_errors(inv: Invocation) -> Iterator[CheckError]:
    """The errors of ``check PATH [--from-page N]``, read as bbolt's CLI reads
    the file (shared lock, freelist loaded), while the file stays open."""
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db:
        preload_freelist(db)
        with db.view() as tx:
            yield from tx.check(inv.opts.get_int("from-page"), key_text)


def run_check(inv: Invocation) -> None:
    if inv.opts.get_bool("json"):
        from .cmd_json import run_check_json

        return run_check_json(inv)
    count = 0
    for err in check_errors(inv):
        if err.fatal:
            inv.out.flush()
            raise Exit(2, f"{err}\n")
        inv.out.text(f"{err}\n")
        count += 1
    if count:
        inv.out.text(f"{count} errors found\n")
        raise CommandError("invalid value")
    inv.out.text("OK\n")


def render_stats(count: int, s: BucketStats) -> str:
    """The ``stats`` report (docs/CLI.md §5.5)."""
    return (
        f"Aggregate statistics for {count} buckets\n\n"
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
        f"({percent(s.branch_inuse, s.branch_alloc)}%)\n"
        f"\tBytes allocated for physical leaf pages: {s.leaf_alloc}\n"
        f"\tBytes actually used for leaf data: {s.leaf_inuse} "
        f"({percent(s.leaf_inuse, s.leaf_alloc)}%)\n"
        "Bucket statistics\n"
        f"\tTotal number of buckets: {s.bucket_n}\n"
        f"\tTotal number on inlined buckets: {s.inline_bucket_n} "
        f"({percent(s.inline_bucket_n, s.bucket_n)}%)\n"
        f"\tBytes used for inlined buckets: {s.inline_bucket_inuse} "
        f"({percent(s.inline_bucket_inuse, s.leaf_inuse)}%)\n"
    )


def read_stats(inv: Invocation) -> tuple[int, BucketStats]:
    """``stats PATH [PREFIX]``: the number of top-level buckets (with the
    prefix) and their summed ``Bucket.Stats``, read as bbolt's CLI reads them."""
    from pybbolt.stats import top_level_stats

    path = inv.args[0]
    prefix = os.fsencode(inv.args[1]) if len(inv.args) > 1 else b""
    check_source_path(path)
    with open_readonly(path, inv) as db:
        preload_freelist(db)
        with db.view() as tx:
            return top_level_stats(tx, prefix)


def run_stats(inv: Invocation) -> None:
    if inv.opts.get_bool("json"):
        from .cmd_json import run_stats_json

        return run_stats_json(inv)
    count, total = read_stats(inv)
    inv.out.text(render_stats(count, total))
