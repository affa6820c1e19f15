"""Regressions: bugs tests/test_fuzz_cli.py found, each replayed exactly."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest
from pybbolt.cli.main import execute

import pybbolt
from pybbolt import layout

from .conftest import FIXTURES
from .test_fuzz_cli import Damage, _source, apply_damage


def _damaged(tmp: Path, name: str, edits: tuple[tuple[int, bytes], ...] = (),
             meta: tuple[tuple[str, int, bool, bool], ...] = ()) -> Path:
    src = FIXTURES / name
    path = tmp / "damaged.db"
    path.write_bytes(apply_damage(Damage(src, edits, meta, name)))
    return path


def _execute(argv: list[str]) -> tuple[int, str]:
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(argv, out, err)
    return status, err.getvalue().decode()


def test_regression_meta_root_zero(tmp_path: Path) -> None:
    """A meta whose root bucket is page 0: bbolt dereferences a nil page; pybbolt
    failed an internal assertion (a traceback from every command)."""
    path = _damaged(tmp_path, "overflow.db", meta=(("root", 0, False, True),))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx, pytest.raises(
            pybbolt.CorruptionError, match="nil pointer dereference"):
        list(tx.buckets())
    for command in ("buckets", "stats", "inspect"):
        assert _execute([command, str(path)]) == (
            2, "panic: runtime error: invalid memory address or nil pointer dereference\n")


def test_regression_compact_bucket_containing_itself(tmp_path: Path) -> None:
    """A bucket whose root page is the leaf holding it: compact nested it
    forever (as bbolt does, until its stack overflows) writing an ever larger
    output; now it stops with bbolt's fatal status at once."""
    shape = _source(FIXTURES / "nested.db")[1]
    f = next(f for f in shape.fields if f.kind == "bucket_root")
    path = _damaged(tmp_path, "nested.db", ((f.offset, f.page.to_bytes(8, "little")),))
    status, err = _execute(["compact", "-o", str(tmp_path / "out.db"), str(path)])
    assert (status, err) == (
        2, f"fatal error: stack overflow: bucket root page {f.page} contains itself\n")


def test_regression_compact_bucket_not_found_again(tmp_path: Path) -> None:
    """A cycle among branch pages makes the cursor list a bucket that a seek
    for its key then does not find: compact failed an assertion; bbolt reads
    the nil bucket's sequence and panics."""
    _, shape = _source(FIXTURES / "nested.db")
    for f in shape.fields:
        if f.kind != "pgid" or not f.ancestors:
            continue
        path = _damaged(tmp_path, "nested.db", ((f.offset, (25).to_bytes(8, "little")),))
        status, err = _execute(["compact", "-o", str(tmp_path / "out.db"), str(path)])
        (tmp_path / "out.db").unlink(missing_ok=True)
        assert status in (0, 1, 2) and "Traceback" not in err
        if err == "panic: runtime error: invalid memory address or nil pointer dereference\n":
            return
    pytest.fail("no damage of nested.db reproduces the nil bucket")


def test_regression_branch_cycle_at_a_later_index(tmp_path: Path) -> None:
    """A branch whose second child is itself: the raw cursor of inspect, stats
    and check only caught pages met again at index 0, so the walk went round
    until a million page visits had passed (minutes; bbolt never ends)."""
    _, shape = _source(FIXTURES / "nested.db")
    branch = next(p for p in shape.pages
                  if struct.unpack_from("<HH", _source(FIXTURES / "nested.db")[0],
                                        p * shape.ps + 8) == (layout.BRANCH_PAGE, 2))
    second = branch * shape.ps + 16 + 16 + 8  # element 1's page id
    path = _damaged(tmp_path, "nested.db", ((second, branch.to_bytes(8, "little")),))
    start = time.monotonic()
    status, err = _execute(["inspect", str(path)])
    assert status == 2 and f"page {branch} is its own descendant" in err
    assert time.monotonic() - start < 5


def test_regression_meta_page_size_zero(tmp_path: Path) -> None:
    """A valid meta (checksum fixed) with page size 0: the raw page reader and
    the cursor's visit bound divided by it (a traceback from inspect); bbolt
    reads every page at offset 0 and fails its page id assertion."""
    path = _damaged(tmp_path, "nested.db", meta=(("page_size", 0, True, True),))
    assert _execute(["inspect", str(path)]) == (
        2, "panic: assertion failed: Page expected to be: 25, but self identifies as 0\n")
    assert _execute(["info", str(path)])[0] == 0


def test_regression_freelist_panic_names_the_header_id(tmp_path: Path, bbolt_cli: Path) -> None:
    """bbolt's 'invalid freelist page: N' gives the id in the page's header
    (p.Id()), not the id the meta asked for; pybbolt's open gave the latter
    (check's own freelist read already gave the header id)."""
    import subprocess

    path = _damaged(tmp_path, "nested.db", meta=(("page_size", 0, True, True),))
    expected = "panic: invalid freelist page: 0, page type is meta"
    for command in ("buckets", "stats", "check"):
        assert _execute([command, str(path)]) == (2, expected + "\n")
        go = subprocess.run([str(bbolt_cli), command, str(path)], capture_output=True, text=True)
        assert (go.returncode, go.stderr.splitlines()[0]) == (2, expected)


def test_regression_compact_twice_in_one_process(tmp_path: Path) -> None:
    """pybbolt.compact as a lazy wrapper importing pybbolt.compact (the module)
    on its first call: the import rebound the package attribute to the module,
    so the second call raised "'module' object is not callable" (found by the
    regressions above, which compact several damaged files in one process).
    The function is imported again, and `import pybbolt` still leaves
    pybbolt.check unloaded."""
    import subprocess
    import sys

    from .conftest import ROOT

    src = FIXTURES / "nested.db"
    for i in range(2):
        with pybbolt.open(src, readonly=True) as s, pybbolt.open(tmp_path / f"{i}.db") as d:
            pybbolt.compact(d, s)
    code = "import sys, pybbolt; print('pybbolt.check' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


def test_regression_rebuilt_freelist_of_a_far_high_water_mark(tmp_path: Path) -> None:
    """A file without a persisted freelist whose meta (checksum valid) claims a
    high-water mark far beyond the end of the file: rebuilding the freelist
    listed every id up to it (24 GB of RSS for `pages` before it got there;
    bbolt would do the same).  Now it stops with a fatal error at once; a
    mark only a little beyond the file still lists its ids, as bbolt does."""
    import subprocess
    import sys

    from .conftest import ROOT
    from .test_fuzz_cli import _limit_memory

    path = _damaged(tmp_path, "churn_seed1_nofreelistsync.db",
                    meta=(("pgid", 1 << 40, True, True),))
    for command in ("pages", "check", "buckets"):
        r = subprocess.run([sys.executable, "-m", "pybbolt.cli", command, str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)
        assert r.returncode == 2, (command, r.stderr)
        assert r.stderr.startswith("fatal error: runtime: out of memory (the high-water mark "
                                   f"{1 << 40} lies "), (command, r.stderr)
    near = _damaged(tmp_path, "churn_seed1_nofreelistsync.db", meta=(("pgid", 200, True, True),))
    with pybbolt.open(near, readonly=True) as db, db.view() as tx:
        assert tx.free_ids()[-1] == 199
