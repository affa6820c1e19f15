"""Compare the shape of two bbolt files: a real program's and a generated one.

Prints Markdown tables for ``benchmarks/FIELD.md``: the figures of ``bbolt
stats`` (the real CLI, ``.bin/bbolt``) side by side with the ratios derived
from them, then a walk of every bucket with pybbolt, grouped by bucket path
with the names of many-sibling buckets replaced by ``*`` (``v1/*/content/blob/*``):
buckets, inline share, pairs per bucket, value sizes.

    python -m benchmarks.shape_compare REAL GENERATED [--names REAL_NAME GEN_NAME]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pybbolt

ROOT = Path(__file__).resolve().parent.parent
BBOLT = ROOT / ".bin" / "bbolt"
# A bucket with at least this many nested buckets holds items, not a fixed schema.
MANY = 10


def bbolt_stats(path: Path) -> dict[str, int]:
    """The counters of ``bbolt stats PATH``, by the start of their label."""
    out = subprocess.run([str(BBOLT), "stats", str(path)], check=True,
                         capture_output=True, text=True).stdout
    stats = {}
    for line in out.splitlines():
        m = re.match(r"\s*(.+?):\s+(\d+)", line)
        if m:
            stats[m.group(1)] = int(m.group(2))
    return stats


def derived(path: Path) -> dict[str, str]:
    """The rows of the first table for one file."""
    s = bbolt_stats(path)
    pairs = s["Number of keys/value pairs"]
    buckets = s["Total number of buckets"]
    leaves = s["Number of logical leaf pages"]
    overflow = s["Number of physical leaf overflow pages"]
    leaf_fill = (s["Bytes actually used for leaf data"]
                 / s["Bytes allocated for physical leaf pages"])
    branch_fill = (s["Bytes actually used for branch data"]
                   / max(1, s["Bytes allocated for physical branch pages"]))
    return {
        "file size": f"{path.stat().st_size / 1e6:.1f} MB",
        "keys (pairs and buckets) / buckets": f"{pairs:,} / {buckets:,}",
        "keys per bucket": f"{pairs / buckets:.2f}",
        "inline buckets": f"{s['Total number on inlined buckets'] / buckets:.0%}",
        "B+tree levels (with nesting)": str(s["Number of levels in B+tree"]),
        "logical leaf / branch pages": f"{leaves:,} / {s['Number of logical branch pages']:,}",
        "overflow pages per leaf page": f"{overflow / leaves:.2f}",
        "keys per leaf page": f"{pairs / leaves:.1f}",
        "leaf bytes used": f"{leaf_fill:.0%}",
        "branch bytes used": f"{branch_fill:.0%}",
    }


class Group:
    """What the walk gathers for one bucket path pattern."""

    def __init__(self) -> None:
        self.buckets = 0
        self.inline = 0
        self.pairs = 0
        self.values: list[int] = []


def walk(path: Path) -> dict[str, Group]:
    """Every bucket of the file, grouped by path pattern."""
    groups: dict[str, Group] = defaultdict(Group)

    def visit(pattern: str, bucket: pybbolt.Bucket) -> None:
        g = groups[pattern]
        g.buckets += 1
        g.inline += bucket.inline
        children = []
        for key, value in bucket.items():
            if value is None:
                children.append(key)
            else:
                g.pairs += 1
                g.values.append(len(value))
        for key in children:
            name = "*" if len(children) >= MANY else key.decode(errors="replace")
            child = bucket.bucket(key)
            assert child is not None
            visit(f"{pattern}/{name}", child)

    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        for name, bucket in tx.buckets():
            visit(name.decode(errors="replace"), bucket)
    return groups


def pct(values: list[int], q: float) -> int:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.shape_compare", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("real", type=Path)
    p.add_argument("generated", type=Path)
    p.add_argument("--names", nargs=2, default=["real", "generated"])
    args = p.parse_args(argv)
    a, b = derived(args.real), derived(args.generated)
    print(f"| | {args.names[0]} | {args.names[1]} |\n| --- | ---: | ---: |")
    for row in a:
        print(f"| {row} | {a[row]} | {b[row]} |")
    print()
    print("| bucket path | file | buckets | inline | pairs per bucket "
          "| value bytes p50 / p90 / max |\n| --- | --- | ---: | ---: | ---: | ---: |")
    ga, gb = walk(args.real), walk(args.generated)
    for pattern in sorted(set(ga) | set(gb)):
        for label, groups in zip(args.names, (ga, gb)):
            g = groups.get(pattern)
            if g is None:
                continue
            print(f"| `{pattern}` | {label} | {g.buckets:,} | {g.inline / g.buckets:.0%} "
                  f"| {g.pairs / g.buckets:.1f} | {pct(g.values, 0.5):,} / "
                  f"{pct(g.values, 0.9):,} / {max(g.values, default=0):,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
