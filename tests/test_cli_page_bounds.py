"""``page`` on elements whose key or value would end beyond maxAllocSize.

bbolt slices keys and values as ``(*[maxAllocSize]byte)(elem)[i:j:j]``: an
end ``j`` (counted from the element) above 0x7FFFFFFF is Go's bounds panic,
which ``page`` reports on its "Prining page" line whatever the page holds.
Found by tests/test_cli_differential.py; the expected lines are bbolt
v1.5.0's on the same bytes.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from .conftest import FIXTURES, ROOT

CLI = ROOT / ".venv" / "bin" / "pybbolt"


def _damaged(tmp_path: Path, patch: tuple[int, str, int]) -> Path:
    data = bytearray((FIXTURES / "nested.db").read_bytes())
    offset, fmt, value = patch
    struct.pack_into(fmt, data, offset, value)
    path = tmp_path / "nested.db"
    path.write_bytes(bytes(data))
    return path


def _page(path: Path, pgid: int) -> tuple[int, bytes]:
    p = subprocess.run([str(CLI), "page", str(path), str(pgid)], capture_output=True, timeout=60)
    assert p.stderr == b""
    return p.returncode, p.stdout


def test_leaf_key_past_max_alloc(tmp_path: Path) -> None:
    # leaf page 2 holds 53 elements; a count of 54 makes key bytes element 53
    path = _damaged(tmp_path, (2 * 4096 + 10, "<H", 54))
    status, out = _page(path, 2)
    assert status == 0
    lines = out.split(b"\n")
    assert lines[4:6] == [b"Item Count: 54", b""]
    assert len(lines) == 6 + 53 + 2  # the 53 good elements, then the failure
    assert lines[-2] == (b"Prining page 2 failed: runtime error: slice bounds out of range "
                         b"[::2578097809] with length 2147483647. Continuing...")


def test_branch_key_past_max_alloc(tmp_path: Path) -> None:
    # branch page 20, element 1 (at 16 + 16): ksize 0x7FFFFFF0
    path = _damaged(tmp_path, (20 * 4096 + 32 + 4, "<I", 0x7FFFFFF0))
    status, out = _page(path, 20)
    assert status == 0
    assert out.endswith(
        b'"user-000": <pgid=29>\nPrining page 20 failed: runtime error: slice bounds out of '
        b"range [::2147483704] with length 2147483647. Continuing...\n"
    )


def test_key_read_before_value_sliced(tmp_path: Path) -> None:
    # leaf page 3 holds 99 elements; with a count of 100 element 99's header
    # is key bytes: its key lies past the page, its value would end past
    # maxAllocSize.  bbolt reads the key first (a fault: it prints the 99
    # good elements and crashes), so the value's bounds panic is never reached.
    path = _damaged(tmp_path, (3 * 4096 + 10, "<H", 100))
    status, out = _page(path, 3)
    assert status == 0
    lines = out.split(b"\n")
    assert len(lines) == 6 + 99 + 2
    assert lines[-2] == (b"Prining page 3 failed: page 3: the key of leaf element 99 lies "
                         b"outside the page. Continuing...")
