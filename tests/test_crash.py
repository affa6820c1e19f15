"""A writer process killed with SIGKILL at random moments never loses a
commit that returned, and never leaves a file that fails a check."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pybbolt

from .workload import go_dump

KILLS = int(os.environ.get("PYBBOLT_KILLS", "25"))

WRITER = """
import random, sys
import pybbolt
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
with pybbolt.open(path) as db:
    print("open", flush=True)
    while True:
        with db.update() as tx:
            b = tx.create_bucket_if_not_exists(b"log")
            n = int(b.get(b"counter") or b"0") + 1
            b.put(b"counter", b"%d" % n)
            for _ in range(rng.randint(1, 200)):
                b.put(rng.randbytes(8), rng.randbytes(rng.choice([10, 500, 5000])))
            for key in [k for k, _ in zip(b.keys(), range(rng.randint(0, 50)))]:
                if key != b"counter":
                    b.delete(key)
        print(n, flush=True)
"""


def test_sigkill_during_commits(tmp_path: Path, boltgo: Path) -> None:
    path = tmp_path / "crash.db"
    rng = random.Random(7)
    last_seen = 0
    for round_ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(round_)],
                                stdout=subprocess.PIPE, text=True)
        # The random delay counts from the open, not from the start of the
        # interpreter, which a loaded machine can delay past the kill.
        assert proc.stdout is not None and proc.stdout.readline() == "open\n"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        printed = [int(x) for x in out.split()]
        acknowledged = printed[-1] if printed else last_seen
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert [str(e) for e in tx.check()] == []
            b = tx.bucket(b"log")
            counter = int(b.get(b"counter") or b"0") if b is not None else 0
        # Every acknowledged commit survived; at most one more landed unacknowledged.
        assert acknowledged <= counter <= acknowledged + 1, (round_, acknowledged, counter)
        assert go_dump(boltgo, path)["check"] == []
        last_seen = counter
    assert last_seen > KILLS  # the writers really committed between the kills
