"""Same operations, same pages: pybbolt and Go bbolt replay one workload and
write the same file (docs/FORMAT.md §10: bbolt's own split, spill, rebalance and
allocation), judged by the real bbolt CLI's `pages` and `stats` and the bytes.

Go itself does not always lay a workload out the same way: bbolt's rebalance
and spill iterate Go maps.  `make layout-proof` (tests/layout_replays.py)
replays every workload here N times with Go and counts the distinct files.
Recorded with bbolt v1.5.0: 60 replays of each workload gave one file each,
and 400 replays of `updates` and the `range-delete-*` workloads gave one file
each except `range-delete-middle`, which gave 2 (the issue saw 4 of 400
differ).  Those workloads (GO_VARIES) are compared by content and by Go's
check instead of byte for byte; a workload added here must be run through
`make layout-proof` before it joins the byte comparison.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from . import workload as wl
from .content import db_content

PAGE_SIZES = [4096, 8192, 16384, 32768, 65536]

# Workloads Go lays out in more than one way (see the module docstring).
GO_VARIES = {"range-delete-middle"}


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for ps in PAGE_SIZES:
        cases.append((f"sequential-{ps}", wl.sequential(ps, 5000, 60)))
        cases.append((f"random-{ps}", wl.random_inserts(ps, ps, 6, 400)))
        cases.append((f"large-{ps}", wl.large_values(ps)))
        cases.append((f"nested-{ps}", wl.nested(ps)))
    cases.append(("sequential-1tx-big", wl.sequential(4096, 40000, 30)))
    cases.append(("updates", wl.updates(4096, 7)))
    cases.append(("range-delete-head", wl.range_delete(4096, 0, 1200)))
    cases.append(("range-delete-middle", wl.range_delete(4096, 1000, 2000)))
    cases.append(("range-delete-tail", wl.range_delete(4096, 2500, 3000)))
    cases.append(("nofreelistsync", {**wl.random_inserts(4096, 3, 4, 300),
                                     "options": {"PageSize": 4096, "NoSync": True,
                                                 "NoFreelistSync": True}}))
    return cases


def _cli(bbolt: Path, *args: str) -> str:
    return subprocess.run([str(bbolt), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("name", "work"), _cases(), ids=[c[0] for c in _cases()])
def test_same_file_as_go(name: str, work: dict[str, Any], tmp_path: Path, boltgo: Path,
                         bbolt_cli: Path) -> None:
    ours, theirs = tmp_path / "py.db", tmp_path / "go.db"
    errors = wl.replay(work, ours)
    go = wl.go_replay(boltgo, work, theirs)
    assert errors == go["errors"]
    if name in GO_VARIES:
        mine, gos = wl.go_dump(boltgo, ours), wl.go_dump(boltgo, theirs)
        assert mine["check"] == gos["check"] == []
        assert mine["content"] == gos["content"]
        assert db_content(str(ours)) == gos["content"]
        assert _cli(bbolt_cli, "check", str(ours)) == "OK\n"
        return
    assert ours.stat().st_size == theirs.stat().st_size
    assert _cli(bbolt_cli, "pages", str(ours)) == _cli(bbolt_cli, "pages", str(theirs))
    assert _cli(bbolt_cli, "stats", str(ours)) == _cli(bbolt_cli, "stats", str(theirs))
    assert _cli(bbolt_cli, "check", str(ours)) == "OK\n"
    assert ours.read_bytes() == theirs.read_bytes()
