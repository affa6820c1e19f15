"""Write a real raft-boltdb store shaped like ``boltgo gen-shape raft``.

Builds and runs ``benchmarks/realraft`` (a Go module of its own, so that the
test tools do not pull hashicorp/raft's dependencies; the first build fetches
them through the Go module proxy): a single-node hashicorp/raft v1.7.1 cluster
whose log and stable store is a raft-boltdb BoltStore, v2 (bbolt, as Consul
and Nomad use it) or with ``--v1`` the original one on boltdb/bolt.  Raft
writes the file itself: StoreLogs of the leader's batches, the stable keys,
DeleteRange head truncations after snapshots.  ``benchmarks/FIELD.md``
compares the two files.

    python -m benchmarks.real_raft OUT [--v1] [--entries N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent / "realraft"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.real_raft", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--v1", action="store_true", help="raft-boltdb v1 (boltdb/bolt)")
    p.add_argument("--entries", type=int, default=9000,
                   help="commands applied (the generator's 9,000 at scale 1)")
    args = p.parse_args(argv)
    go = shutil.which("go") or ("/usr/local/go/bin/go"
                                if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        print("benchmarks: Go is not installed (scripts/dev installs it)", file=sys.stderr)
        return 1
    cmd = [go, "run", ".", "-entries", str(args.entries)]
    if args.v1:
        cmd.append("-v1")
    return subprocess.run([*cmd, str(args.out.resolve())], cwd=MODULE).returncode


if __name__ == "__main__":
    sys.exit(main())
