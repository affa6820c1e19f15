"""CLI parity: replay the golden set's recorded bbolt v1.5.0 outputs against pybbolt.

The golden set's own harness (``run_cases.py`` of ../shared/golden) checks
every case, one test per command group; the commands run in-process in
long-lived workers (tests/cli_replay.py).  A few cases of every group also
run through the real console script, ``.venv/bin/pybbolt``, and through
``python -m pybbolt.cli``, one process per command, as the harness runs them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from . import cli_replay
from .cli_worker import Pool
from .conftest import GOLDEN, ROOT, need

CASES = GOLDEN / "cases.jsonl"
CLI = ROOT / ".venv" / "bin" / "pybbolt"


@pytest.fixture(scope="module")
def workers() -> Iterator[Pool]:
    need(CASES.exists(), "../shared/golden is not present next to the repository")
    with cli_replay.pool() as p:
        yield p


@pytest.mark.parametrize("group", cli_replay.groups(CASES) or ["(golden set missing)"])
def test_golden_group(workers: Pool, group: str) -> None:
    cases = [c for c in cli_replay.load_cases(CASES) if cli_replay.group_of(c) == group]
    assert cases, f"no cases of {group}"
    results = cli_replay.replay("golden", GOLDEN, cases, workers)
    assert all(ok for _, ok, _ in results), cli_replay.failures(results)


def _first_of_each_group() -> list[dict[str, object]]:
    seen: dict[str, dict[str, object]] = {}
    for c in cli_replay.load_cases(CASES):
        seen.setdefault(cli_replay.group_of(c), c)
    return list(seen.values())


def test_golden_cases_by_console_script() -> None:
    """The entry point itself: the first case of every group, one process each."""
    need(CASES.exists(), "../shared/golden is not present next to the repository")
    assert CLI.exists(), f"{CLI} is not installed: run `make venv`"
    cases = _first_of_each_group()
    results = cli_replay.replay_by_process("golden", GOLDEN, cases, [str(CLI)])
    assert len(results) == len(cli_replay.groups(CASES))
    assert all(ok for _, ok, _ in results), cli_replay.failures(results)


def test_golden_cases_by_python_m() -> None:
    """``python -m pybbolt.cli``: a case of a few groups (an output file among them)."""
    need(CASES.exists(), "../shared/golden is not present next to the repository")
    cases = [c for c in _first_of_each_group()
             if cli_replay.group_of(c) in ("check", "get", "compact", "unknown-command")]
    assert len(cases) == 4
    results = cli_replay.replay_by_process("golden", GOLDEN, cases,
                                           [sys.executable, "-m", "pybbolt.cli"])
    assert all(ok for _, ok, _ in results), cli_replay.failures(results)
