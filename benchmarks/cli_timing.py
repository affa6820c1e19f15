"""Whole-process timings of the two CLIs, and the peak RSS of pybbolt's.

pybbolt is timed as users install it: a regular (not editable) install in
the bench venv ``benchmarks/work/venv`` that ``setup.sh`` makes, whose
interpreter also gives the start-up floor ``python -c pass``.  (An editable
install adds an import hook to every start-up of its interpreter, about
20 ms, and would time the development set-up rather than pybbolt.)

Wall-clock times come from hyperfine when it is installed (``-N``: no shell
in between, output discarded), else from repeated ``subprocess`` runs timed
here.  Peak RSS is the ``ru_maxrss`` of each run, read with ``os.wait4`` by the small
parent process ``rss_helper.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The commands timed (and profiled) on the 1M file; DB, OUT, KEY are filled in.
CLI_COMMANDS: dict[str, list[str]] = {
    "check": ["check", "DB"],
    "stats": ["stats", "DB"],
    "keys": ["keys", "DB", "bench"],
    "get": ["get", "--parse-format", "hex", "DB", "bench", "KEY"],
    "buckets": ["buckets", "DB"],
    "compact": ["compact", "-o", "OUT", "DB"],
}

BENCH_VENV = Path(__file__).resolve().parent / "work" / "venv"


def bench_python() -> Path:
    """The bench venv's interpreter (the start-up floor runs it)."""
    return BENCH_VENV / "bin" / "python"


def bench_pybbolt() -> Path:
    """The ``pybbolt`` command of the bench venv's regular install."""
    return BENCH_VENV / "bin" / "pybbolt"


def bench_site_packages() -> list[Path]:
    """Where the bench venv's packages are (to compile their bytecode first)."""
    return sorted(BENCH_VENV.glob("lib/python*/site-packages"))


def check_bench_venv() -> str | None:
    """Why the CLI timings cannot run, or None."""
    if not bench_pybbolt().exists():
        return f"{bench_pybbolt()} is missing: run `bash benchmarks/setup.sh` (or `make bench`)"
    return None


@dataclass(frozen=True)
class Command:
    """One command line to time: ``argv`` and the file to delete before each run."""

    name: str  # e.g. "check"
    tool: str  # "pybbolt", "bbolt" or "python"
    argv: list[str]
    runs: int
    prepare_rm: Path | None = None  # compact's output, removed before each run


def cli_env(pycache: Path) -> dict[str, str]:
    """The environment of a user's shell: Python caches bytecode.

    Some environments (this project's sandbox among them) set
    ``PYTHONDONTWRITEBYTECODE``, which makes every start-up compile pybbolt
    from source (about 80 ms); the cache goes to ``pycache``, outside the
    source tree.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _hyperfine(cmd: Command, warmup: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [
            "hyperfine", "-N", "-i", "--style", "none", "--warmup", str(warmup),
            "--runs", str(cmd.runs), "--export-json", out.name,
        ]
        if cmd.prepare_rm is not None:
            argv += ["--prepare", f"rm -f {cmd.prepare_rm}"]
        argv.append(" ".join(cmd.argv))
        # stderr too: its warnings (e.g. a slower first run) are not results.
        subprocess.run(
            argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        result = json.loads(Path(out.name).read_text())["results"][0]
    times = [float(t) for t in result["times"]]
    codes = [int(c) for c in result.get("exit_codes", [])]
    return _summary(times, codes)


def _own_timing(cmd: Command, warmup: int, env: dict[str, str]) -> dict[str, Any]:
    times: list[float] = []
    codes: list[int] = []
    for i in range(warmup + cmd.runs):
        if cmd.prepare_rm is not None:
            cmd.prepare_rm.unlink(missing_ok=True)
        start = time.perf_counter()
        code = subprocess.run(
            cmd.argv, stdout=subprocess.DEVNULL, check=False, env=env
        ).returncode
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
            codes.append(code)
    return _summary(times, codes)


def _summary(times: list[float], codes: list[int]) -> dict[str, Any]:
    return {
        "median": statistics.median(times),
        "mean": statistics.fmean(times),
        "min": min(times),
        "max": max(times),
        "runs": len(times),
        "exit_codes": sorted(set(codes)),
    }


def have_hyperfine() -> bool:
    return shutil.which("hyperfine") is not None


def time_command(cmd: Command, env: dict[str, str], warmup: int = 1) -> dict[str, Any]:
    if any(" " in a for a in cmd.argv) or not have_hyperfine():
        # hyperfine -N splits on whitespace: only plain arguments go through it.
        return _own_timing(cmd, warmup, env)
    return _hyperfine(cmd, warmup, env)


def peak_rss(
    argv: list[str], env: dict[str, str], remove_first: Path | None = None
) -> dict[str, Any]:
    """Peak memory of one run of ``argv``, in MB (10^6 bytes), via ``rss_helper``.

    ``peak_rss_mb`` is the exact ``ru_maxrss``; ``anon_mb`` and ``file_mb``
    are the peaks of the two parts of the RSS sampled every 10 ms.
    """
    if remove_first is not None:
        remove_first.unlink(missing_ok=True)
    helper = Path(__file__).with_name("rss_helper.py")
    try:
        out = subprocess.run(
            [sys.executable, "-S", str(helper), *argv],
            capture_output=True, text=True, check=True, env=env,
        ).stdout
    finally:
        if remove_first is not None:
            remove_first.unlink(missing_ok=True)
    raw = json.loads(out)
    return {
        "peak_rss_mb": raw["peak_rss_kib"] * 1024 / 1e6,
        "anon_mb": raw["anon_kib"] * 1024 / 1e6,
        "file_mb": raw["file_kib"] * 1024 / 1e6,
        "exit_code": raw["exit_code"],
    }
