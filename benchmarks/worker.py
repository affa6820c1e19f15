"""One repetition of one operation on one Python store, in its own process.

``python -m benchmarks.worker STORE OP --n N --db FILE [--keys FILE]
[--dst FILE] [--profile OUT.prof]`` prints ``{"seconds": s, "verify": {...}}``.
The runner starts one process per repetition so that a repetition can be
stopped at a time limit and each one starts with the same empty heap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .stores import STORES, Job, ProfilingTimer, Timer
from .workload import read_keys, sequential_keys


def job_keys(op: str, n: int, keys_file: Path | None) -> list[bytes]:
    if op in ("a", "b"):
        return sequential_keys(n)
    if op in ("c2", "d"):
        if keys_file is None:
            raise SystemExit(f"operation {op} needs --keys")
        return read_keys(keys_file)
    return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.worker")
    p.add_argument("store", choices=sorted(STORES))
    p.add_argument("op")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--keys", type=Path)
    p.add_argument("--dst", type=Path)
    p.add_argument("--profile", type=Path, help="write a cProfile of the measured region here")
    args = p.parse_args(argv)
    fn = STORES[args.store].get(args.op)
    if fn is None:
        print(json.dumps({"error": f"{args.store} has no operation {args.op}"}))
        return 2
    job = Job(args.op, args.db, job_keys(args.op, args.n, args.keys), args.dst, args.n)
    timer: Timer = ProfilingTimer() if args.profile else Timer()
    verify = fn(timer, job)
    if isinstance(timer, ProfilingTimer):
        timer.profile.dump_stats(args.profile)
    print(json.dumps({"seconds": timer.seconds, "verify": verify}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
