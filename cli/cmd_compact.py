"""compact: copy a database into a new, compacted file (bbolt's ``Compact``)."""

from __future__ import annotations

import os
import stat

from .common import check_source_path, lock_options, open_readonly
from .runtime import CommandError, Invocation


def gain_line(before: int, after: int) -> str:
    """``%d -> %d bytes (gain=%.2fx)`` (correctly rounded, as Go's %.2f)."""
    return f"{before} -> {after} bytes (gain={before / after:.2f}x)\n"


def run_compact(inv: Invocation) -> None:
    import pybbolt

    output = inv.opts.get_str("output")
    if output == "":
        raise CommandError("output file required")
    src_path = inv.args[0]
    info = check_source_path(src_path)
    with open_readonly(src_path, inv) as src:
        timeout, on_lock_wait = lock_options(inv)
        # OS failures are pybbolt.FileError, with Go's text: "open DST: ...".
        dst = pybbolt.open(
            output, mode=stat.S_IMODE(info.st_mode), no_sync=inv.opts.get_bool("no-sync"),
            timeout=timeout, on_lock_wait=on_lock_wait,
        )
        with dst:
            pybbolt.compact(dst, src, inv.opts.get_int("tx-max-size"))
    size = os.stat(output).st_size
    if size == 0:
        raise CommandError("zero db size")
    inv.out.text(gain_line(info.st_size, size))
