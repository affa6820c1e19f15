"""How long ``pybbolt browse`` takes to show the first screen of a big bucket.

Target: a bucket of 1,000,000 keys shows its first screen of keys within a
second.  The database is the benchmark workload's (bucket ``bench``, 16-byte
keys, 100-byte values), written by pybbolt in one transaction the first time
(``benchmarks/work/browse_N.db``).  Two figures, each the median of a few runs:

* ``terminal``: wall time from starting ``pybbolt browse DB bench`` in a real
  terminal (tmux, 120x36) to a screenful of its keys and the status line of
  the first one on the screen (``capture-pane`` polled every 10 ms): what a
  person waits for,
  Python's start-up and Textual's import included;
* ``terminal, CPU time``: the CPU time (user and system) the browser's process
  had used when that screen appeared, read from ``/proc``: the same moment,
  without the time spent waiting for a CPU on a loaded machine;
* ``in-process``: from opening the file to the key list holding its first
  screenful, the app running headless (Textual's test driver).

Run: ``python -m benchmarks.browse_first_screen [--n N] [--runs R]`` (``make
bench-browse``; ``make bench`` runs it too).  Writes
``benchmarks/results/browse.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pybbolt.cli.browse_app import BrowseApp, KeyList
from pybbolt.cli.browse_model import Session

import pybbolt

from .workload import BUCKET, key, value_of

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results" / "browse.md"
TARGET = 1.0  # seconds
SIZE = (120, 36)


def database(n: int) -> Path:
    """The workload's database of ``n`` keys (written once, then reused)."""
    path = WORK / f"browse_{n}.db"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with pybbolt.open(partial) as db, db.update() as tx:
            bucket = tx.create_bucket(BUCKET)
            for i in range(n):
                k = key(i)
                bucket.put(k, value_of(k))
        partial.rename(path)
    return path


def in_process(path: Path) -> float:
    """Seconds from opening the file to a full first screen of keys, headless."""

    async def run() -> float:
        start = time.perf_counter()
        session = Session(pybbolt.open(path, readonly=True, timeout=2))
        app = BrowseApp(session, start=(BUCKET,), watch=False)
        try:
            async with app.run_test(size=SIZE) as pilot:
                keys = app.query_one("#keys", KeyList)
                while len(keys.window.rows) < keys.window.height or keys.window.height < 5:
                    await pilot.pause(0.001)
                return time.perf_counter() - start
        finally:
            session.close()

    return asyncio.run(run())


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` and of its children that ran
    ``pybbolt`` (tmux may start the command through a shell)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        if (int(entry) == pid or ppid == pid) and b"browse" in cmdline:
            total += (utime + stime) / ticks
    return total


def in_terminal(path: Path) -> tuple[float, float]:
    """Seconds from starting ``pybbolt browse`` in tmux to its first screen of
    keys, and the CPU seconds the process had used by then."""
    exe = Path(sys.executable).parent / "pybbolt"
    # The status line describes the selected first key once the list is drawn.
    first_screen = f"key {len(key(0))} B · value {len(value_of(key(0)))} B"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    with tempfile.TemporaryDirectory() as tmp:
        tmux = ["tmux", "-S", str(Path(tmp) / "tmux.sock")]
        start = time.perf_counter()
        subprocess.run([*tmux, "new-session", "-d", "-s", "b", "-x", str(SIZE[0]), "-y",
                        str(SIZE[1]), f"{exe} browse {path} {BUCKET.decode()}"],
                       check=True, env=env)
        try:
            while True:
                shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", "b"],
                                       capture_output=True, text=True, env=env).stdout
                if first_screen in shown and shown.count("0x0000") >= SIZE[1] - 8:
                    wall = time.perf_counter() - start
                    pane = subprocess.run([*tmux, "display", "-p", "-t", "b", "#{pane_pid}"],
                                          capture_output=True, text=True, env=env).stdout
                    return wall, _cpu_seconds(int(pane))
                if time.perf_counter() - start > 30:
                    raise RuntimeError(f"the first key never appeared:\n{shown}")
                time.sleep(0.01)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True, env=env)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="keys in the bucket")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    path = database(args.n)
    size = path.stat().st_size
    figures: dict[str, float] = {}
    figures["in-process"] = statistics.median(in_process(path) for _ in range(args.runs))
    if shutil.which("tmux"):
        runs = [in_terminal(path) for _ in range(args.runs)]
        figures["terminal, wall time"] = statistics.median(wall for wall, _ in runs)
        figures["terminal, CPU time of the process"] = statistics.median(cpu for _, cpu in runs)
    else:
        print("tmux is not installed: no terminal figure", file=sys.stderr)
    lines = [
        "# pybbolt browse: first screen of a big bucket",
        "",
        f"Bucket of {args.n:,} keys ({size / 1e6:,.0f} MB file), {SIZE[0]}x{SIZE[1]} terminal, "
        f"median of {args.runs} runs; target: within {TARGET:g} s. Load average when "
        f"measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the wall times "
        "include waiting for a CPU; the CPU time does not).",
        "",
        "| measure | time | target |",
        "| --- | ---: | --- |",
    ]
    for name, seconds in figures.items():
        verdict = "met" if seconds <= TARGET else "**missed**"
        lines.append(f"| {name} | {seconds * 1000:,.0f} ms | {verdict} |")
    report = "\n".join(lines) + "\n"
    RESULTS.write_text(report)
    print(report)
    return 0 if all(s <= TARGET for s in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
