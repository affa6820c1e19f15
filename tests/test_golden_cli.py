"""CLI parity: replay the golden set's recorded bbolt v1.5.0 outputs against pybbolt.

Runs ``run_cases.py`` of ../shared/golden once per command group with the
repository's own ``.venv/bin/pybbolt``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLDEN = SHARED / "golden"
CLI = ROOT / ".venv" / "bin" / "pybbolt"
IN_CI = os.environ.get("CI") == "true"


def _groups() -> list[str]:
    cases = GOLDEN / "cases.jsonl"
    if not cases.exists():
        return ["(golden set missing)"]
    seen: dict[str, None] = {}
    with cases.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                seen.setdefault(json.loads(line).get("group") or "(none)", None)
    return sorted(seen)


@pytest.mark.parametrize("group", _groups())
def test_golden_group(group: str) -> None:
    if not (GOLDEN / "cases.jsonl").exists():
        if IN_CI:
            pytest.fail(f"the golden set is required in CI: {GOLDEN} is missing")
        pytest.skip("../shared/golden is not present next to the repository")
    if not CLI.exists():
        pytest.fail(f"{CLI} is not installed: run `make venv`")
    proc = subprocess.run(
        [
            sys.executable,
            str(GOLDEN / "run_cases.py"),
            str(GOLDEN),
            "--cmd",
            str(CLI),
            "--summary",
            "--jobs",
            "2",
            "--only",
            group,
            "--show",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    passed, total = re.search(r"cli parity: (\d+)/(\d+) cases", proc.stdout).groups()  # type: ignore[union-attr]
    assert passed == total and int(total) > 0
