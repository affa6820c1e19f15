"""``buckets`` opens every bucket before printing its name, as bbolt's
``tx.ForEach`` does: a bucket value too short for a bucket header panics
there (exit status 2) instead of being listed.  Found by
tests/test_cli_differential.py; bbolt v1.5.0 panics with
``index out of range [0] with length 0`` / ``[16] with length 10`` on these
files."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

CLI = ROOT / ".venv" / "bin" / "pybbolt"
# inline_bucket.db: root leaf page 4, element 0 = the bucket "settings" (vsize 130)
VSIZE = 4 * 4096 + 16 + 12


def _buckets(tmp_path: Path, vsize: int) -> subprocess.CompletedProcess[bytes]:
    data = bytearray((FIXTURES / "inline_bucket.db").read_bytes())
    struct.pack_into("<I", data, VSIZE, vsize)
    path = tmp_path / "inline_bucket.db"
    path.write_bytes(bytes(data))
    return subprocess.run([str(CLI), "buckets", str(path)], capture_output=True, timeout=60)


@pytest.mark.parametrize("vsize", [0, 10])
def test_short_bucket_value_panics(tmp_path: Path, vsize: int) -> None:
    p = _buckets(tmp_path, vsize)
    assert (p.returncode, p.stdout) == (2, b"")
    assert p.stderr.startswith(b"panic: ") and b"Traceback" not in p.stderr


def test_intact_value_listed(tmp_path: Path) -> None:
    p = _buckets(tmp_path, 130)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"settings\n", b"")
