"""``make bench``: pybbolt against Go bbolt, py-lmdb and sqlite3, then the CLIs.

Writes ``benchmarks/results/latest.md`` and ``latest.json``.  Options:
``--quick`` (or ``BENCH_QUICK=1``) runs N = 100,000 only; ``--no-cli``
skips the whole-process CLI timings; see ``--help`` for the limits.
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import cli_timing, field, report, transfer
from benchmarks.measure import BOLTGO, ROOT, Limits, Measurement, Paths, go_version, run
from benchmarks.workload import (
    BUCKET,
    LOADS,
    OPERATIONS,
    get_keys,
    key,
    shuffled_keys,
    write_keys,
)

STORES = ("go", "pybbolt", "lmdb", "sqlite", "floor")
SIZES = (100_000, 1_000_000)
_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f} s] {msg}", file=sys.stderr, flush=True)


def describe(m: Measurement) -> str:
    if m.status != "ok" and not m.seconds:
        return f"{m.status} {m.note}".strip()
    return " ".join(f"{s:.3f}" for s in m.seconds) + (f" ({m.note})" if m.note else "")


def run_size(n: int, work: Path, limits: Limits, results: dict[str, Any]) -> Paths:
    paths = Paths(work / f"n{n}", n)
    shutil.rmtree(paths.work, ignore_errors=True)
    paths.work.mkdir(parents=True)
    write_keys(paths.shuffled, shuffled_keys(n))
    write_keys(paths.gets, get_keys(n))
    ops: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        row: dict[str, Any] = {}
        for store in STORES:
            m = run(store, op, paths, limits)
            log(f"N={n:,} ({op}) {store}: {describe(m)}")
            row[store] = m.to_json()
        ops[op] = row
        if op == "a":
            mine, go = paths.db("pybbolt", "a"), paths.db("go", "a")
            if mine.exists() and go.exists() and row["pybbolt"]["status"] == "ok":
                results["identical"][str(n)] = filecmp.cmp(mine, go, shallow=False)
        if op in LOADS:
            for store in STORES:
                if op != "a" or store == "pybbolt":
                    paths.db(store, op).unlink(missing_ok=True)
    results["ops"][str(n)] = ops
    results["notes"] += cross_check(n, ops)
    return paths


def cross_check(n: int, ops: dict[str, dict[str, Any]]) -> list[str]:
    """Every store must have done the same work: report any disagreement."""
    notes: list[str] = []
    expect: dict[str, dict[str, Any]] = {
        "d": {}, "e": {"count": n}, "e2": {"count": n}, "f": {"errors": 0}, "g": {"KeyN": n},
    }
    for op, fixed in expect.items():
        ref = ops[op]["go"].get("verify", {})
        for store, m in ops[op].items():
            got = m.get("verify", {})
            want = {**{k: v for k, v in ref.items() if k in got}, **fixed}
            bad = {k: got.get(k) for k, v in want.items() if k in got and got[k] != v}
            if bad:
                notes.append(f"N={n:,} ({op}) {store} disagrees: {bad} (expected {want})")
    return notes


# -- CLI -------------------------------------------------------------------

_SLOW = ("check", "stats", "keys", "compact")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_cli(paths: Paths) -> dict[str, Any]:
    db, out = paths.source("go"), paths.work / "cli-compacted.db"
    with db.open("rb") as f:  # the page cache holds the file for every command
        while f.read(1 << 24):
            pass
    tools = {
        "pybbolt": _rel(cli_timing.bench_pybbolt()),
        "bbolt": _rel(ROOT / ".bin" / "bbolt"),
    }
    python = str(cli_timing.bench_python().relative_to(ROOT))  # not resolved: the venv's link
    fill = {"DB": _rel(db), "OUT": _rel(out), "KEY": key(paths.n // 2).hex()}
    env = cli_timing.cli_env(paths.work / "pycache")
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        # Fill the bytecode cache: the installed pybbolt, and what start-up imports.
        subprocess.run([python, "-m", "compileall", "-q",
                        *map(str, cli_timing.bench_site_packages())],
                       env=env, check=False, stdout=subprocess.DEVNULL)
        for name in ("buckets", "get", "stats"):
            template = cli_timing.CLI_COMMANDS[name]
            subprocess.run([tools["pybbolt"], *(fill.get(a, a) for a in template)],
                           env=env, check=False, stdout=subprocess.DEVNULL)
        commands: dict[str, dict[str, Any]] = {}
        for name, template in cli_timing.CLI_COMMANDS.items():
            row: dict[str, Any] = {}
            for tool, exe in tools.items():
                argv = [exe, *(fill.get(a, a) for a in template)]
                slow = name in _SLOW
                cmd = cli_timing.Command(
                    name, tool, argv, runs=3 if slow else 10,
                    prepare_rm=out if name == "compact" else None,
                )
                warmup = 0 if slow and tool == "pybbolt" else 1
                timing = cli_timing.time_command(cmd, env, warmup=warmup)
                timing["command"] = " ".join([tool, *template])
                row[tool] = timing
                log(f"CLI {tool} {name}: median {timing['median']:.3f} s")
            commands[name] = row
        floor = cli_timing.Command(
            "python -c pass", "python", [python, "-c", "pass"], runs=20
        )
        commands["python -c pass"] = {"python": cli_timing.time_command(floor, env, warmup=2)}
        log(f"CLI python -c pass: {commands['python -c pass']['python']['median']:.3f} s")
        rss: dict[str, dict[str, Any]] = {}
        for name in report.RSS_COMMANDS:
            rss[name] = {}
            for tool, exe in tools.items():
                argv = [exe, *(fill.get(a, a) for a in cli_timing.CLI_COMMANDS[name])]
                rss[name][tool] = cli_timing.peak_rss(
                    argv, env, remove_first=out if name == "compact" else None
                )
                log(f"RSS {tool} {name}: {rss[name][tool]['peak_rss_mb']:.0f} MB")
    finally:
        os.chdir(cwd)
        out.unlink(missing_ok=True)
    return {
        "n": paths.n,
        "db_mb": db.stat().st_size / 1e6,
        "timer": "hyperfine" if cli_timing.have_hyperfine() else "subprocess timing",
        "pybbolt": tools["pybbolt"],
        "python": python,
        "commands": commands,
        "rss": rss,
    }


# -- metadata --------------------------------------------------------------


def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT).stdout
    except OSError:
        return ""


def metadata(limits: Limits) -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = _cmd(["git", "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    if _cmd(["git", "status", "--porcelain", "--", "pybbolt", "cli"]).strip():
        commit += " (with uncommitted changes in pybbolt/ or cli/)"
    bbolt = "unknown"
    for line in (ROOT / "tests" / "go" / "go.mod").read_text().splitlines():
        if "go.etcd.io/bbolt " in line:
            bbolt = line.split()[-1]
    try:
        import lmdb

        lmdb_version = str(lmdb.__version__)
    except ImportError:
        lmdb_version = "not installed"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB",
        "python": platform.python_version(),
        "go": go_version(),
        "bbolt": bbolt,
        "lmdb": lmdb_version,
        "sqlite": sqlite3.sqlite_version,
        "commit": commit,
        "reps": limits.reps,
        "timeout_s": limits.timeout,
        "timeout_a_s": limits.timeout_a,
        "slow_s": limits.slow,
        "bucket": BUCKET.decode(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__)
    p.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1",
                   help="N = 100,000 only (also BENCH_QUICK=1)")
    p.add_argument("--sizes", help="comma-separated key counts (default 100000,1000000)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--timeout", type=float, default=Limits.timeout,
                   help="seconds one repetition may take before it is stopped")
    p.add_argument("--timeout-a", type=float, default=Limits.timeout_a,
                   help="the same for the one-transaction load (a)")
    p.add_argument("--slow", type=float, default=Limits.slow,
                   help="a repetition longer than this is the only one taken")
    p.add_argument("--no-cli", action="store_true", help="skip the whole-process CLI timings")
    p.add_argument("--no-field", action="store_true",
                   help="skip the CLI timings on field-shaped files (benchmarks/field.py)")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--keep", action="store_true", help="keep the database files")
    p.add_argument("--render-only", action="store_true",
                   help="recompute the targets and latest.md from --out's latest.json")
    args = p.parse_args(argv)
    if args.render_only:
        write_results(json.loads((args.out / "latest.json").read_text()), args.out)
        return 0
    if not BOLTGO.exists():
        print("benchmarks: .bin/boltgo is missing: run `make gotools` (needs Go)", file=sys.stderr)
        return 1
    if not args.no_cli and (problem := cli_timing.check_bench_venv()) is not None:
        print(f"benchmarks: {problem}", file=sys.stderr)
        return 1
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    if args.quick:
        sizes = [100_000]
    limits = Limits(
        reps=args.reps, timeout=args.timeout, timeout_a=args.timeout_a, slow=args.slow
    )
    results: dict[str, Any] = {
        "meta": metadata(limits), "ops": {}, "identical": {}, "notes": [],
    }
    results["meta"]["sizes"] = sizes
    paths = None
    try:
        for n in sizes:
            paths = run_size(n, args.work, limits, results)
        if paths is not None and not args.no_cli:
            results["cli"] = run_cli(paths)
            results["transfer"] = transfer.run_transfer(
                paths.source("go"), paths.work / "transfer", cli_timing.bench_pybbolt())
            results["transfer"]["n"] = paths.n
        if not args.no_cli and not args.no_field:
            results["field"] = field.run_field(args.work / "field")
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    results["meta"]["load_average_end"] = round(os.getloadavg()[0], 2)
    results["meta"]["duration_s"] = round(time.monotonic() - _T0)
    write_results(results, args.out)
    return 0


def write_results(results: dict[str, Any], out: Path) -> None:
    results["targets"] = [t.to_json() for t in report.targets(results)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "latest.md").write_text(report.render(results))
    log(f"wrote {_rel(out / 'latest.md')} and latest.json")
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.find(report.README_START), text.find(report.README_END)
    if 0 <= start < end:
        body = report.render_readme(results)
        readme.write_text(
            text[: start + len(report.README_START)] + "\n" + body + "\n" + text[end:]
        )
        log("updated the performance section of README.md")


if __name__ == "__main__":
    sys.exit(main())
