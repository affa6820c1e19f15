"""Which workloads Go lays out deterministically (those of
tests/test_same_pages.py and the byte-compared ones of tests/test_boundaries.py).

Go's bbolt iterates Go maps in a few places (rebalance, the hashmap freelist),
so the same workload can give different files from run to run.  This replays
every workload ``N`` times with `boltgo replay` and prints, for each, how many
distinct files came out (1: deterministic).  `make layout-proof` runs it;
``LAYOUT_REPLAYS`` sets N (default 60).  The byte comparison of
test_same_pages.py is kept only for workloads with one result.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

from .conftest import BIN
from .test_boundaries import BYTE_COMPARED
from .test_same_pages import _cases
from .workload import go_replay


def distinct_files(work: dict[str, object], n: int, tmp: Path) -> int:
    """How many different files ``n`` Go replays of ``work`` write."""
    digests = set()
    for i in range(n):
        path = tmp / f"go{i}.db"
        go_replay(BIN / "boltgo", work, path)
        digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
        path.unlink()
    return len(digests)


def main() -> int:
    n = int(os.environ.get("LAYOUT_REPLAYS", "60"))
    only = set(sys.argv[1:])
    nondeterministic = []
    with tempfile.TemporaryDirectory() as d:
        cases = _cases() + [(name, make()) for name, make in BYTE_COMPARED
                            if not only or name in only]
        for name, work in cases:
            if only and name not in only:
                continue
            k = distinct_files(work, n, Path(d))
            print(f"{name}: {k} distinct file(s) in {n} Go replays", flush=True)
            if k > 1:
                nondeterministic.append(name)
    print("not deterministic:", " ".join(nondeterministic) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
