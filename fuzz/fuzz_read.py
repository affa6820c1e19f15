"""Coverage-guided fuzzing of the read path with atheris (``make fuzz``).

Each input picks a fixture and up to eight edits of it (an offset, biased
towards page headers, element fields and meta fields, and a few bytes), then
reads the damaged copy with the library (open, walk every bucket, get, seek,
check, stats, inspect, free ids) and runs read-only CLI commands on it
in-process.  A finding is any exception other than ``pybbolt.Error`` from the
library, any exception escaping the CLI, a traceback or ``internal error`` on
its stderr, an exit status outside {0, 1, 2}, or a change to the file.
libFuzzer's own limits bound time and memory: run with, e.g.,

    .venv/bin/python fuzz/fuzz_read.py -max_total_time=300 -timeout=20 -rss_limit_mb=1024

(``pip install atheris`` first; ``make fuzz`` does all of this when atheris
is importable.)
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

with atheris.instrument_imports():
    import pybbolt
    from cli.main import execute
    from pybbolt.meta import Meta

from tests.cli_worker import CappedOutput  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SOURCES = [FIXTURES / n for n in ("inline_bucket.db", "nested.db", "churn_seed1.db",
                                  "churn_seed1_nofreelistsync.db", "overflow.db",
                                  "pagesize_8192.db")]
DATA = [(p.read_bytes()) for p in SOURCES if p.exists()]
PAGE_SIZES = [Meta.decode(d).page_size for d in DATA]
WORK = Path(tempfile.mkdtemp(prefix="pybbolt-fuzz-"))
COMMANDS = ["check", "buckets", "stats", "pages", "inspect", "info"]


def _damage(fdp: atheris.FuzzedDataProvider) -> bytes:
    which = fdp.ConsumeIntInRange(0, len(DATA) - 1)
    data = bytearray(DATA[which])
    ps = PAGE_SIZES[which]
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        if fdp.ConsumeBool():  # a structure: the first 80 bytes of a page, or an element
            page = fdp.ConsumeIntInRange(0, len(data) // ps - 1)
            where = page * ps + fdp.ConsumeIntInRange(0, 16 + 16 * 8 + 63)
        else:
            where = fdp.ConsumeIntInRange(0, len(data) - 1)
        what = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 8))
        data[where : where + len(what)] = what
    if fdp.ConsumeBool():  # fix the checksums, so that damaged metas get through
        for page in (0, 1):
            m = Meta.decode(data, page * ps + 16)
            data[page * ps + 16 : page * ps + 80] = m.with_changes().encode_page(ps, page)[16:80]
    return bytes(data[: len(DATA[which])])


def _library(path: Path) -> None:
    try:
        with pybbolt.open(path, readonly=True, timeout=1) as db, db.view() as tx:
            todo = [tx.root]
            visited = 0
            while todo and visited < 200:  # damage can make a bucket contain itself
                b = todo.pop()
                visited += 1
                for key, value in b.items():
                    if value is None:
                        child = b.bucket(key)
                        if child is not None:
                            todo.append(child)
                    else:
                        b.get(key)
                c = b.cursor()
                c.last(), c.prev(), c.seek(b"m"), c.next()
            # bbolt's check streams one error per page below the high-water
            # mark, which damage can put at 2^60: read a bounded prefix, as
            # the CLI fuzzer reads a bounded prefix of the output.
            for _ in zip(tx.check(), range(100_000)):
                pass
            tx.stats()
            tx.inspect()
            tx.free_ids()
    except pybbolt.Error:
        pass


def _cli(path: Path, which: int) -> None:
    argv = [COMMANDS[which % len(COMMANDS)], str(path)]
    out, err = CappedOutput(), io.BytesIO()
    status = execute(argv, out, err)  # type: ignore[arg-type]
    text = err.getvalue().decode("utf-8", "replace")
    if status not in (0, 1, 2) or "Traceback" in text or "internal error" in text:
        raise RuntimeError(f"{argv}: status {status}\n{text}")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    damaged = _damage(fdp)
    which = fdp.ConsumeIntInRange(0, 255)
    path = WORK / "damaged.db"
    path.write_bytes(damaged)
    _library(path)
    _cli(path, which)
    if path.read_bytes() != damaged:
        raise RuntimeError("a read changed the file")
    os.unlink(path)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
