"""Truncated files (a copy cut short): the commands answer as the real bbolt does.

bbolt reads a file through a mapping, which shows zeros past the end of the
file up to the end of the OS page that holds it, and faults beyond.  So a
page cut short reads as its bytes followed by zeros, and bbolt goes on: a
leaf cut after its header is a leaf of zeroed elements, a freelist cut in
its ids lists zeros.  Each cut below is chosen on purpose (a header alone,
elements cut, the freelist cut, one byte short of the high-water mark, a
cut at a page boundary and one byte after it, an overflow run cut, a
rebuilt freelist over a cut leaf); every read command must give bbolt's
stdout bytes, exit status and stderr (empty or not), as the golden cases
compare them.
"""

from __future__ import annotations

import mmap
import resource
import subprocess
from pathlib import Path

import pytest

from .cli_run import run
from .conftest import FIXTURES

PS = 4096

# (fixture, size of the cut file, why)
CUTS = [
    ("fill_100.db", 47 * PS + 16, "leaf 47 keeps its header only"),
    ("fill_100.db", 47 * PS + 40, "leaf 47 cut in its elements"),
    ("fill_100.db", 48 * PS + 40, "the freelist page cut in its ids"),
    ("fill_100.db", 49 * PS - 1, "one byte short of the high-water mark"),
    ("fill_100.db", 47 * PS, "leaf 47 gone: a page boundary"),
    ("fill_100.db", 47 * PS + 1, "one byte of leaf 47"),
    ("nested.db", 11 * PS + 100, "leaf 9's overflow run cut"),
    ("inline_bucket.db", 4 * PS + 16, "the root leaf keeps its header only"),
    ("inline_bucket.db", 5 * PS + 20, "the freelist page cut in its count"),
    ("churn_seed1_nofreelistsync.db", 117 * PS + 16,
     "no freelist: the rebuild walks a leaf that keeps its header only"),
    ("many_buckets.db", 118 * PS + 30, "branch 118 cut in its elements"),
    ("churn_seed1.db", 70 * PS + 100, "the freelist page cut, pages beyond it gone"),
]

COMMANDS = [["check"], ["pages"], ["stats"], ["buckets"], ["inspect"], ["keys"]]


def _bbolt(bbolt: Path, argv: list[str]) -> tuple[int, str, bool]:
    def limit() -> None:  # as the golden recording: a 2 GiB address space
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    cp = subprocess.run([str(bbolt), *argv], capture_output=True, timeout=20, preexec_fn=limit)
    return cp.returncode, cp.stdout.decode("utf-8", "surrogateescape"), bool(cp.stderr)


@pytest.mark.parametrize(("name", "size", "why"), CUTS, ids=[f"{n}-{s}" for n, s, _ in CUTS])
def test_truncated_file_reads_as_bbolt_reads_it(
        bbolt_cli: Path, tmp_path: Path, name: str, size: int, why: str) -> None:
    assert PS == mmap.PAGESIZE  # the zeros reach the end of an OS page
    data = (FIXTURES / name).read_bytes()
    assert size < len(data)
    path = tmp_path / name
    path.write_bytes(data[:size])
    bucket = run("buckets", FIXTURES / name)[1].split("\n")[0]
    for command in COMMANDS:
        argv = [*command, str(path)] + ([bucket] if command == ["keys"] else [])
        status, out, err = run(*argv)
        assert "Traceback" not in err, (why, argv, err)
        assert (status, out, bool(err)) == _bbolt(bbolt_cli, argv), (why, argv)


def test_a_cut_page_reads_as_zeros_in_the_library(tmp_path: Path) -> None:
    """The library sees what the commands see: the bytes of the page the file
    still has, then zeros to the end of the page."""
    import pybbolt

    data = (FIXTURES / "fill_100.db").read_bytes()
    path = tmp_path / "cut.db"
    path.write_bytes(data[: 47 * PS + 40])
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert tx.page_bytes(47) == data[47 * PS : 47 * PS + 40] + bytes(PS - 40)
        with pytest.raises(pybbolt.CorruptionError, match=r"^page 48: beyond the end of the file"):
            tx.page_header(48)


def test_write_to_copies_the_file_not_the_zeros(tmp_path: Path) -> None:
    """A backup reads the file, as bbolt's ``WriteTo`` does: a file cut short
    below the high-water mark cannot be copied whole, zeros or not."""
    import io

    import pybbolt

    data = (FIXTURES / "fill_100.db").read_bytes()
    path = tmp_path / "cut.db"
    for size, whole in ((49 * PS, True), (49 * PS - 1, False)):
        path.write_bytes(data[:size])
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            if whole:
                assert tx.write_to(io.BytesIO()) == 49 * PS
            else:
                with pytest.raises(pybbolt.CorruptionError, match="beyond the end of the file"):
                    tx.write_to(io.BytesIO())
