"""The CLIs timed on field-shaped files: etcd, raft-boltdb and containerd stores.

``make bench`` measures one synthetic shape (one bucket of small fixed-size
pairs); real stores look different.  ``boltgo gen-shape`` (Go, bbolt v1.5.0,
``tests/go/cmd/boltgo/shapes.go``) writes a store shaped like each program's,
the same content for the same arguments, and each bbolt command is timed on
it with pybbolt and the real ``bbolt`` v1.5.0, whole process, with pybbolt's
peak RSS.  ``python -m benchmarks.field`` runs this part alone (``--scale``
to make smaller files for a quick look); ``benchmarks.run`` calls
:func:`run_field` after the library operations.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/field.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks import cli_timing
from benchmarks.measure import BOLTGO, ROOT

# Per shape: the bucket path whose keys `keys` lists (the biggest bucket of the
# shape); `get` reads its middle key, or, where that key is a nested bucket
# (containerd's blobs), the key named here inside it.
SHAPES: dict[str, list[str]] = {
    "etcd": ["key"],
    "raft": ["logs"],
    "containerd": ["v1", "default", "content", "blob"],
}
GET_INSIDE: dict[str, str] = {"containerd": "size"}

# The commands timed on every shape; DB, OUT, BUCKET (the path) and KEY are filled in.
FIELD_COMMANDS: dict[str, list[str]] = {
    "check": ["check", "DB"],
    "stats": ["stats", "DB"],
    "inspect": ["inspect", "DB"],
    "pages": ["pages", "DB"],
    "buckets": ["buckets", "DB"],
    "keys": ["keys", "DB", "BUCKET"],
    "get": ["get", "--parse-format", "hex", "DB", "BUCKET", "KEY"],
    "compact": ["compact", "-o", "OUT", "DB"],
}
READ_LIMIT = 3.0  # every read command: pybbolt / bbolt at most this
COMPACT_LIMIT = 2.0
KEYS_LIMIT = 1.0
RSS_COMMANDS = ("check", "stats", "inspect", "pages", "keys", "compact")


_T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[field {time.monotonic() - _T0:7.1f} s] {msg}", file=sys.stderr, flush=True)


def generate(shape: str, path: Path, scale: float) -> dict[str, Any]:
    """Write the ``shape`` store to ``path`` with boltgo; its summary line."""
    out = subprocess.run(
        [str(BOLTGO), "gen-shape", shape, str(path), "--scale", repr(scale)],
        capture_output=True, text=True, check=True,
    ).stdout
    summary: dict[str, Any] = json.loads(out)
    return summary


def middle_key(bbolt: str, db: Path, bucket: list[str]) -> str:
    """The middle key of ``bucket`` as hex, listed by the real bbolt."""
    keys = subprocess.run(
        [bbolt, "keys", "--format", "hex", str(db), *bucket],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return keys[len(keys) // 2]


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run_field(work: Path, scale: float = 1.0, runs: int = 3) -> dict[str, Any]:
    """Generate every shape in ``work`` and time both CLIs on it."""
    work.mkdir(parents=True, exist_ok=True)
    tools = {"pybbolt": _rel(cli_timing.bench_pybbolt()), "bbolt": _rel(ROOT / ".bin" / "bbolt")}
    env = cli_timing.cli_env(work / "pycache")
    shapes: dict[str, Any] = {}
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        for shape, bucket in SHAPES.items():
            db, out = work / f"{shape}.db", work / f"{shape}-compacted.db"
            summary = generate(shape, db, scale)
            log(f"{shape}: {summary['size'] / 1e6:.0f} MB, {summary['keys']:,} keys")
            with db.open("rb") as f:  # the page cache holds the file for every command
                while f.read(1 << 24):
                    pass
            middle = middle_key(tools["bbolt"], db, bucket)
            get_path, get_key = bucket, middle
            if shape in GET_INSIDE:
                get_path = [*bucket, bytes.fromhex(middle).decode()]
                get_key = GET_INSIDE[shape].encode().hex()
            fill_path = {"DB": _rel(db), "OUT": _rel(out), "KEY": get_key}
            commands: dict[str, Any] = {}
            for name, template in FIELD_COMMANDS.items():
                argv_tail: list[str] = []
                for a in template:
                    path = get_path if name == "get" else bucket
                    argv_tail += path if a == "BUCKET" else [fill_path.get(a, a)]
                row: dict[str, Any] = {}
                for tool, exe in tools.items():
                    cmd = cli_timing.Command(name, tool, [exe, *argv_tail], runs=runs,
                                             prepare_rm=out if name == "compact" else None)
                    row[tool] = cli_timing.time_command(cmd, env, warmup=1)
                    shown = [Path(a).name if a in (fill_path["DB"], fill_path["OUT"])
                             else a if len(a) < 24 else a[:8] + "…" for a in argv_tail[1:]]
                    row[tool]["command"] = " ".join([tool, name, *shown])
                if name in RSS_COMMANDS:
                    row["rss"] = cli_timing.peak_rss(
                        [tools["pybbolt"], *argv_tail], env,
                        remove_first=out if name == "compact" else None)
                ratio = row["pybbolt"]["median"] / row["bbolt"]["median"]
                log(f"{shape} {name}: pybbolt {row['pybbolt']['median']:.3f} s, "
                    f"bbolt {row['bbolt']['median']:.3f} s ({ratio:.1f}x)")
                commands[name] = row
            out.unlink(missing_ok=True)
            shapes[shape] = {"mb": summary["size"] / 1e6, "keys": summary["keys"],
                             "bucket": bucket, "commands": commands}
    finally:
        os.chdir(cwd)
    return {"scale": scale, "runs": runs, "shapes": shapes}


def limit_of(command: str) -> float:
    """The target ratio pybbolt / bbolt of ``command`` on a field shape."""
    return {"compact": COMPACT_LIMIT, "keys": KEYS_LIMIT}.get(command, READ_LIMIT)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.field", description=__doc__)
    p.add_argument("--scale", type=float, default=1.0, help="size factor of the stores")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work" / "field")
    p.add_argument("--json", type=Path, help="also write the results there")
    args = p.parse_args(argv)
    if not BOLTGO.exists():
        print("benchmarks: .bin/boltgo is missing: run `make gotools` (needs Go)", file=sys.stderr)
        return 1
    if (problem := cli_timing.check_bench_venv()) is not None:
        print(f"benchmarks: {problem}", file=sys.stderr)
        return 1
    results = run_field(args.work, args.scale, args.runs)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    from benchmarks.report import render_field

    print("\n".join(render_field(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
