"""CLI parity on our own fixtures: replay tests/fixtures/cases.jsonl (the real
bbolt v1.5.0 CLI recorded by tests/gen_cli_cases.py) against pybbolt with the
golden set's harness, ../shared/golden/run_cases.py, the commands run
in-process in long-lived workers (tests/cli_replay.py; tests/test_golden_cli.py
runs cases through the console script itself).

The freshness tests make sure the recording belongs to the fixtures as they
are: every case names a database of the manifest, recorded on the bytes the
manifest describes, and every database has cases of every read command.
With the bbolt CLI at hand, ``gen_cli_cases.py --check`` records the set
again and requires it to be identical.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from . import cli_replay
from .cli_worker import Pool
from .conftest import FIXTURES, ROOT, need

CASES = FIXTURES / "cases.jsonl"
MANIFEST = FIXTURES / "manifest.json"
READ_COMMANDS = ["check", "buckets", "keys", "get", "stats", "info", "pages", "page",
                 "page-item", "dump", "inspect", "compact"]


def _cases() -> list[dict[str, Any]]:
    return cli_replay.load_cases(CASES)


@cache
def _manifest() -> dict[str, dict[str, Any]]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {d["path"]: d for d in data["databases"]}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _groups() -> list[str]:
    return cli_replay.groups(CASES) or ["(cases.jsonl missing)"]


# -- the recording belongs to the fixtures ----------------------------------------------


def test_cases_file_is_well_formed() -> None:
    cases = _cases()
    assert len(cases) > 0
    assert [c["id"] for c in cases] == list(range(1, len(cases) + 1))
    for c in cases:
        assert c["bbolt_version"] == "1.5.0"
        assert c["exit"] in (0, 1)
        assert ("stdout" in c) != ("stdout_b64" in c), c["id"]
        assert "{db}" in c["argv"] or any("{db}" in a for a in c["argv"]), c["id"]
        assert c["group"] == c["argv"][0], c["id"]
        if c["group"] == "compact":
            assert "out_size" in c, c["id"]
    assert CASES.stat().st_size < 5_000_000


def test_cases_match_manifest_and_files() -> None:
    manifest = _manifest()
    shas = {path: _sha256(FIXTURES / path) for path in manifest}
    for path, entry in manifest.items():
        assert shas[path] == entry["sha256"], f"{path} differs from its manifest entry"
    for c in _cases():
        assert c["db"] in manifest, f"case {c['id']}: {c['db']} is not in the manifest"
        assert c["db_sha256"] == shas[c["db"]], (
            f"case {c['id']} was recorded on another {c['db']}: run tests/gen_cli_cases.py")


def _invalid_utf8_names(buckets: list[dict[str, Any]]) -> bool:
    """A bucket name that is not UTF-8 (the manifest then gives no "name")."""
    return any("name" not in b or _invalid_utf8_names(b["buckets"]) for b in buckets)


def test_every_fixture_has_every_read_command() -> None:
    covered: dict[str, set[str]] = {}
    for c in _cases():
        covered.setdefault(c["db"], set()).add(c["group"])
    for path, entry in _manifest().items():
        missing = set(READ_COMMANDS) - covered.get(path, set())
        if _invalid_utf8_names((entry.get("content") or {}).get("buckets", [])):
            # gen_cli_cases.py leaves these out: the JSON of inspect depends on
            # the Go toolchain of the bbolt build (docs/CLI.md §6.2)
            missing.discard("inspect")
        assert not missing, f"{path}: no cases of {sorted(missing)}"


def test_recording_is_reproducible(bbolt_cli: Path) -> None:
    """Record the whole set again with the real CLI: it must be the committed file."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gen_cli_cases.py"), "--check", "--runs", "1",
         "--jobs", "2", "--bbolt", str(bbolt_cli)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# -- pybbolt replays it ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def workers() -> Iterator[Pool]:
    need(cli_replay.RUN_CASES.exists(), "../shared/golden/run_cases.py is not present")
    assert CASES.exists(), "tests/fixtures/cases.jsonl is missing: run tests/gen_cli_cases.py"
    with cli_replay.pool() as p:
        yield p


@pytest.mark.parametrize("group", _groups())
def test_fixture_cases(workers: Pool, group: str) -> None:
    cases = [c for c in _cases() if c["group"] == group]
    assert cases, f"no cases of {group}"
    results = cli_replay.replay("fixture", FIXTURES, cases, workers)
    assert all(ok for _, ok, _ in results), cli_replay.failures(results)
