"""Shared test plumbing: where the fixtures, the golden set and the Go tools are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = ROOT.parent / "shared"
GOLDEN = SHARED / "golden"
BIN = ROOT / ".bin"
IN_CI = os.environ.get("CI") == "true"

# Hypothesis profiles (HYPOTHESIS_PROFILE picks one; "ci" by default):
# - ci: derandomized, so every run (and every CI run) tries the same examples
#   and what is green stays green; no example database, so nothing carries over;
# - explore: the same counts, fresh random examples each run;
# - soak (`make soak`): ten times the examples, longer stateful runs.
# Tests that set max_examples themselves keep it (their environment variables
# size them); every other setting comes from the profile.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=200, stateful_step_count=30, deadline=None,
                          suppress_health_check=_SLOW_OK, derandomize=True, database=None)
settings.register_profile("explore", max_examples=200, stateful_step_count=30, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("soak", max_examples=2000, stateful_step_count=60, deadline=None,
                          suppress_health_check=_SLOW_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def need(condition: bool, reason: str) -> None:
    """Skip when something optional is missing; in CI a missing piece is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def golden() -> Path:
    need(GOLDEN.is_dir(), "../shared/golden is not present next to the repository")
    return GOLDEN


@pytest.fixture(scope="session")
def boltgo() -> Path:
    """Our Go cross-test program (tests/go), built by `make gotools`."""
    path = BIN / "boltgo"
    need(path.exists(), "Go tools not built (.bin/boltgo): run `make gotools` (needs Go)")
    return path


@pytest.fixture(scope="session")
def bbolt_cli() -> Path:
    """The real bbolt v1.5.0 CLI, installed by `make gotools`."""
    path = BIN / "bbolt"
    need(path.exists(), "the bbolt CLI is not installed (.bin/bbolt): run `make gotools`")
    return path


def copy_db(src: Path, dst_dir: Path) -> Path:
    """A writable copy of a reference database."""
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    return dst


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many recorded CLI cases were replayed (tests/cli_replay.py)."""
    from . import cli_replay

    for line in cli_replay.summary():
        terminalreporter.write_line(f"CLI parity, {line}")
