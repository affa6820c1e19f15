"""cProfile of pybbolt's benchmark operations and CLI commands.

``python -m benchmarks.profile_ops [--n N] [--only d,e,cli-check,...]``
writes ``benchmarks/results/profiles/<name>.txt``: the top functions of
each by own time and by cumulative time (directories stripped), the raw
material of ``benchmarks/PROFILE.md``.  The library operations are profiled
inside the worker, over the measured region only; the CLI commands over the
whole process, plus ``python -X importtime`` for start-up.
"""

from __future__ import annotations

import argparse
import io
import pstats
import re
import shutil
import subprocess
import sys
from pathlib import Path

from . import cli_timing
from .cli_timing import CLI_COMMANDS, cli_env
from .measure import BOLTGO, ROOT, Paths
from .workload import OPERATIONS, get_keys, key, shuffled_keys, write_keys

TOP = 25


def summarise(prof: Path, title: str) -> str:
    out = io.StringIO()
    stats = pstats.Stats(str(prof), stream=out).strip_dirs()
    total = getattr(stats, "total_tt", 0.0)
    out.write(f"# {title}\n\ntotal profiled time {total:.3f} s\n\n## by own time\n")
    stats.sort_stats("tottime").print_stats(TOP)
    out.write("\n## by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(TOP)
    # Drop pstats' banner (date, file name) before each listing.
    keep = [
        line for line in out.getvalue().splitlines()
        if not line.strip().endswith(prof.name) and "function calls" not in line
    ]
    return "\n".join(keep) + "\n"


def importtime(argv: list[str], env: dict[str, str]) -> str:
    """The slowest imports of a CLI start-up, by cumulative microseconds.

    From the bench venv's regular install when ``setup.sh`` has made it (the
    editable install of ``.venv`` adds its import hook to every start-up).
    """
    bench = cli_timing.bench_python()
    if bench.exists():  # the console script, as users run it (-m would add runpy's imports)
        script = cli_timing.bench_pybbolt()
        command = [str(bench), "-X", "importtime", str(script)]
        shown = f"{bench.relative_to(ROOT)} -X importtime {script.relative_to(ROOT)}"
        cwd = Path("/")
    else:
        command = [sys.executable, "-X", "importtime", "-m", "pybbolt.cli"]
        shown, cwd = "python -X importtime -m pybbolt.cli", ROOT
    proc = subprocess.run(
        [*command, *argv], capture_output=True, text=True, cwd=cwd, check=False, env=env
    )
    rows: list[tuple[int, int, str]] = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(.*)$", line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), m.group(3).rstrip()))
    rows.sort(reverse=True)
    lines = [
        f"# {shown} " + " ".join(argv[:1]),
        "",
        "With bytecode cached (PYTHONPYCACHEPREFIX, as a user's install has .pyc files).",
        "",
        "cumulative_us  self_us  module",
    ]
    lines += [f"{c:13d}  {s:7d}  {name}" for c, s, name in rows[:40]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.profile_ops")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--only", help="comma-separated: operation ids and cli-<command>")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "profiles")
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "profile")
    args = p.parse_args(argv)
    wanted = (
        args.only.split(",") if args.only
        else [*OPERATIONS, *(f"cli-{c}" for c in CLI_COMMANDS), "cli-importtime"]
    )
    paths = Paths(args.work, args.n)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_keys(paths.shuffled, shuffled_keys(args.n))
    write_keys(paths.gets, get_keys(args.n))
    source = paths.source("pybbolt")
    subprocess.run(
        [str(BOLTGO), "bench", "a", "--n", str(args.n), "--db", str(source), "--reps", "1"],
        check=True, stdout=subprocess.DEVNULL,
    )
    suffix = f"n{args.n}"
    env = cli_env(args.work / "pycache")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "pybbolt", "cli"],
                   cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
    try:
        for name in wanted:
            prof = args.work / f"{name}.prof"
            if name in OPERATIONS:
                cmd = [
                    sys.executable, "-m", "benchmarks.worker", "pybbolt", name,
                    "--n", str(args.n), "--db", str(paths.target("pybbolt", name)),
                    "--profile", str(prof),
                ]
                keys = paths.keys_for(name)
                if keys is not None:
                    cmd += ["--keys", str(keys)]
                if name == "h":
                    cmd += ["--dst", str(paths.db("pybbolt", "compacted"))]
                title = f"pybbolt ({name}) {OPERATIONS[name]}, N={args.n:,}"
            elif name == "cli-importtime":
                importtime(["buckets", str(source)], env)  # fills the bytecode cache
                text = importtime(["buckets", str(source)], env)
                (args.out / "cli-importtime.txt").write_text(text)
                print(f"wrote {name}", file=sys.stderr)
                continue
            else:
                command = name.removeprefix("cli-")
                fill = {
                    "DB": str(source), "OUT": str(args.work / "out.db"),
                    "KEY": key(args.n // 2).hex(),
                }
                (args.work / "out.db").unlink(missing_ok=True)
                cmd = [
                    sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "pybbolt.cli",
                    *(fill.get(a, a) for a in CLI_COMMANDS[command]),
                ]
                title = f"pybbolt {' '.join(CLI_COMMANDS[command])} (whole process), N={args.n:,}"
            subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, env=env)
            (args.out / f"{name}-{suffix}.txt").write_text(summarise(prof, title))
            print(f"wrote {name}", file=sys.stderr)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
