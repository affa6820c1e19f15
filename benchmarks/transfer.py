"""``pybbolt export`` and ``pybbolt import`` of the benchmark store, whole processes.

Part of ``make bench`` (after the CLI timings, on the same N=1M file of Go's
load (a)); on its own: ``python -m benchmarks.transfer --n 100000`` makes a
store with ``boltgo bench a`` and times these two only.

The comparison is a Go program doing the same the plain way: ``boltgo export``
(bbolt's ForEach and encoding/json, the same lines; the run checks they are
byte-identical).  Import has no Go counterpart here.  Both exports write to
standard output (discarded); the import reads the export from a file into a
new file.  Peak RSS is read as for the other CLI commands.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import cli_timing
from benchmarks.measure import BOLTGO, ROOT


def run_transfer(db: Path, work: Path, pybbolt: Path, runs: int = 3) -> dict[str, Any]:
    """Time export (pybbolt and Go) and import (pybbolt) of ``db``; peak RSS of each."""
    work.mkdir(parents=True, exist_ok=True)
    lines, go_lines, copy = work / "export.jsonl", work / "export-go.jsonl", work / "import.db"
    env = cli_timing.cli_env(work / "pycache")
    with lines.open("wb") as out:
        subprocess.run([str(pybbolt), "export", str(db)], stdout=out, check=True, env=env)
    with go_lines.open("wb") as out:
        subprocess.run([str(BOLTGO), "export", str(db)], stdout=out, check=True)
    identical = filecmp.cmp(lines, go_lines, shallow=False)
    go_lines.unlink()
    commands = {
        "export": {
            "pybbolt": [str(pybbolt), "export", str(db)],
            "go": [str(BOLTGO), "export", str(db)],
        },
        "import": {"pybbolt": [str(pybbolt), "import", str(copy), "-i", str(lines)]},
    }
    result: dict[str, Any] = {
        "db_mb": db.stat().st_size / 1e6,
        "export_mb": lines.stat().st_size / 1e6,
        "identical": identical,
        "timer": "hyperfine" if cli_timing.have_hyperfine() else "subprocess timing",
        "commands": {},
    }
    try:
        for name, tools in commands.items():
            row: dict[str, Any] = {}
            for tool, argv in tools.items():
                prepare = copy if name == "import" else None
                cmd = cli_timing.Command(name, tool, argv, runs=runs, prepare_rm=prepare)
                timing = cli_timing.time_command(cmd, env, warmup=0)
                timing["rss"] = cli_timing.peak_rss(argv, env, remove_first=prepare)
                row[tool] = timing
                print(f"transfer {name} {tool}: median {timing['median']:.3f} s, peak RSS "
                      f"{timing['rss']['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
            result["commands"][name] = row
        # The import must give back the store: its export is the same lines.
        subprocess.run(argv, check=True, env=env, stderr=subprocess.DEVNULL)
        with go_lines.open("wb") as out:
            subprocess.run([str(BOLTGO), "export", str(copy)], stdout=out, check=True)
        result["round_trip_identical"] = filecmp.cmp(lines, go_lines, shallow=False)
    finally:
        for path in (lines, go_lines, copy):
            path.unlink(missing_ok=True)
    return result


def render(transfer: dict[str, Any], n: int, level: int = 2) -> list[str]:
    """The Markdown table of :func:`run_transfer`'s result."""
    from benchmarks.report import fmt_ratio, fmt_time

    cmds = transfer["commands"]
    lines = [
        "",
        "#" * level + f" export / import, whole process (N={n:,} database, {transfer['timer']})",
        "",
        f"DB {transfer['db_mb']:.0f} MB; its export {transfer['export_mb']:.0f} MB of JSON "
        "Lines. Go = `boltgo export` (bbolt's ForEach + encoding/json writing the same "
        "lines: byte-identical "
        + ("yes" if transfer["identical"] else "**NO**")
        + "). Import reads the export into a new file; exported again by Go, identical: "
        + ("yes" if transfer.get("round_trip_identical") else "**NO**")
        + ".",
        "",
        "| command | pybbolt | Go | pybbolt / Go | pybbolt peak RSS | Go peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in cmds.items():
        py, go = row["pybbolt"], row.get("go")
        ratio = fmt_ratio(py["median"] / go["median"], False) if go else "—"
        lines.append(
            f"| {name} | {fmt_time(py['median'])} | "
            + (fmt_time(go["median"]) if go else "—")
            + f" | {ratio} | {py['rss']['peak_rss_mb']:.0f} MB | "
            + (f"{go['rss']['peak_rss_mb']:.0f} MB" if go else "—")
            + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.transfer", description=__doc__)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "transfer")
    p.add_argument("--pybbolt", type=Path, default=None,
                   help="the pybbolt command (default: the bench venv's, else .venv's)")
    args = p.parse_args(argv)
    pybbolt = args.pybbolt or cli_timing.bench_pybbolt()
    if not pybbolt.exists():
        pybbolt = ROOT / ".venv" / "bin" / "pybbolt"
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / f"go-a-{args.n}.db"
    if not db.exists():
        subprocess.run([str(BOLTGO), "bench", "a", "--n", str(args.n), "--db", str(db)],
                       check=True, stdout=subprocess.DEVNULL)
    result = run_transfer(db, args.work, pybbolt, args.runs)
    print("\n".join(render(result, args.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
