"""Running the operations: Go's through ``boltgo bench``, Python's through workers."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .stores import STORES

ROOT = Path(__file__).resolve().parent.parent
BOLTGO = ROOT / ".bin" / "boltgo"


@dataclass
class Measurement:
    """The repetitions of one operation on one store."""

    seconds: list[float] = field(default_factory=list)
    status: str = "ok"  # ok, timeout, n/a, error
    note: str = ""
    verify: dict[str, Any] = field(default_factory=dict)
    limit: float = 0.0  # the time limit a timed-out repetition ran into

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def lower_bound(self) -> float | None:
        """What is known of the time: the median, or at least the limit on a timeout."""
        if self.status == "timeout" and not self.seconds:
            return self.limit
        return self.median

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "seconds": self.seconds}
        if self.median is not None:
            out["median"] = self.median
        if self.status == "timeout":
            out["timeout_s"] = self.limit
        if self.note:
            out["note"] = self.note
        if self.verify:
            out["verify"] = self.verify
        return out


@dataclass(frozen=True)
class Limits:
    reps: int = 3
    timeout: float = 360.0  # seconds per repetition
    # pybbolt's one-transaction load grows quadratically (see PROFILE.md):
    # its 1M figure is a lower bound whatever the limit, so it gets a short one.
    timeout_a: float = 60.0
    slow: float = 30.0  # a repetition this long is the only one taken

    def for_op(self, op: str) -> float:
        return self.timeout_a if op == "a" else self.timeout


@dataclass(frozen=True)
class Paths:
    """The files of one size's run."""

    work: Path
    n: int

    @property
    def shuffled(self) -> Path:
        return self.work / "keys-shuffled.bin"

    @property
    def gets(self) -> Path:
        return self.work / "keys-get.bin"

    def db(self, store: str, op: str) -> Path:
        return self.work / f"{store}-{op}.db"

    def source(self, store: str) -> Path:
        """The file read by (d)..(h): Go's (a) file for both bbolt stores."""
        return self.db("go" if store in ("go", "pybbolt") else store, "a")

    def keys_for(self, op: str) -> Path | None:
        return {"c2": self.shuffled, "d": self.gets}.get(op)

    def target(self, store: str, op: str) -> Path:
        return self.db(store, op) if op in ("a", "b", "c2") else self.source(store)


def go_version() -> str:
    try:
        out = subprocess.run(
            [str(BOLTGO), "bench", "version"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout
    except OSError:
        return "unknown"
    return "unknown" if not out else str(json.loads(out).get("go", "unknown"))


def run_go(op: str, paths: Paths, limits: Limits) -> Measurement:
    argv = [
        str(BOLTGO), "bench", op, "--n", str(paths.n), "--db", str(paths.target("go", op)),
        "--reps", str(limits.reps),
    ]
    keys = paths.keys_for(op)
    if keys is not None:
        argv += ["--keys", str(keys)]
    if op == "h":
        argv += ["--dst", str(paths.db("go", "compacted"))]
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=limits.timeout * limits.reps,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Measurement(status="timeout", limit=limits.timeout * limits.reps)
    return _parse_go(proc)


def _parse_go(proc: subprocess.CompletedProcess[str]) -> Measurement:
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return Measurement(status="error", note=(proc.stderr or proc.stdout).strip()[-300:])
    if "error" in out:
        return Measurement(status="error", note=str(out["error"]))
    return Measurement(seconds=[float(s) for s in out["seconds"]], verify=out.get("verify", {}))


def run_python(store: str, op: str, paths: Paths, limits: Limits) -> Measurement:
    """Each repetition in a fresh worker process, each with the time limit."""
    if op not in STORES[store]:
        return Measurement(status="n/a")
    argv = [
        sys.executable, "-m", "benchmarks.worker", store, op, "--n", str(paths.n),
        "--db", str(paths.target(store, op)),
    ]
    keys = paths.keys_for(op)
    if keys is not None:
        argv += ["--keys", str(keys)]
    if op == "h":
        argv += ["--dst", str(paths.db(store, "compacted"))]
    m = Measurement()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    limit = limits.for_op(op)
    for rep in range(limits.reps):
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=limit, check=False,
                cwd=ROOT, env=env,
            )
        except subprocess.TimeoutExpired:
            m.status, m.limit = "timeout", limit
            m.note = f"repetition {rep + 1} stopped at the {limit:.0f} s limit"
            return m
        try:
            out = json.loads(proc.stdout.strip().splitlines()[-1])
            seconds = float(out["seconds"])
        except (IndexError, KeyError, json.JSONDecodeError):
            m.status = "error"
            m.note = (proc.stderr or proc.stdout).strip()[-300:]
            return m
        m.seconds.append(seconds)
        m.verify = out.get("verify", {})
        if seconds > limits.slow and rep + 1 < limits.reps:
            m.note = f"{rep + 1} repetition(s): one takes over {limits.slow:.0f} s"
            break
    return m


def run(store: str, op: str, paths: Paths, limits: Limits) -> Measurement:
    return run_go(op, paths, limits) if store == "go" else run_python(store, op, paths, limits)
