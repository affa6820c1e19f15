"""The in-process CLI worker (tests/cli_worker.py) the replays rely on: it
answers as the console script does, puts back the process state a command
changed and says so, and gives up on a command past its time."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from . import cli_worker
from .conftest import FIXTURES, ROOT

CLI = ROOT / ".venv" / "bin" / "pybbolt"


def test_answers_as_the_console_script(tmp_path: Path) -> None:
    db = str(FIXTURES / "nested.db")
    w = cli_worker.Worker()
    try:
        for argv in (["buckets", db], ["keys", db, "no-such-bucket"], ["nope"],
                     ["get", db], ["page", db, "0"], ["check", str(tmp_path / "missing.db")]):
            got = w.run(argv, tmp_path, 60)
            want = subprocess.run([str(CLI), *argv], capture_output=True, cwd=tmp_path,
                                  timeout=60)
            assert got is not None
            assert (got.returncode, got.stdout, got.stderr) == (
                want.returncode, want.stdout, want.stderr), argv
    finally:
        w.stop()


def test_state_is_put_back_and_reported(tmp_path: Path) -> None:
    before = cli_worker.process_state()
    old_handler = signal.getsignal(signal.SIGTERM)
    os.environ["PYBBOLT_WORKER_TEST"] = "1"
    old_umask = os.umask(0o077)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.chdir(tmp_path)
    try:
        leaks = cli_worker.restore_state(before, None)
    finally:
        os.chdir(before["cwd"])
        os.umask(old_umask)
        signal.signal(signal.SIGTERM, old_handler)
        os.environ.pop("PYBBOLT_WORKER_TEST", None)
    assert sorted(leaks) == ["cwd", "environ", "signals", "umask"]
    assert cli_worker.process_state() == before
    # the directory a command ran in is not a leak
    os.chdir(tmp_path)
    try:
        assert cli_worker.restore_state(before, str(tmp_path)) == []
    finally:
        os.chdir(before["cwd"])


def test_overtime_gives_none_and_a_new_worker(tmp_path: Path) -> None:
    w = cli_worker.Worker()
    try:
        w.start()
        first = w.proc
        assert w.run(["check", str(FIXTURES / "many_keys.db")], tmp_path, 0.001) is None
        assert w.proc is None  # its state is unknown: stopped, started again on demand
        again = w.run(["buckets", str(FIXTURES / "nested.db")], tmp_path, 60)
        assert again is not None and again.returncode == 0 and w.proc is not first
    finally:
        w.stop()
