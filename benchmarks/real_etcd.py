"""Write a real etcd 3.4 member database shaped like ``boltgo gen-shape etcd``.

Starts the Debian package's ``etcd`` on 127.0.0.1 (high ports, a temporary
data directory, no fsync), makes the same workload through etcd's JSON
gateway — 100,000 puts over 20,000 keys of ``/registry/pods/...``, value
sizes drawn as the shape draws them, one put in 20 under a lease, a physical
compaction after each of the first two thirds — stops etcd and copies
``member/snap/db`` to OUT.  ``benchmarks/FIELD.md`` compares the two files.

    python -m benchmarks.real_etcd OUT [--puts N]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CLIENT = "http://127.0.0.1:23791"
PEER = "http://127.0.0.1:23801"


def call(path: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(f"{CLIENT}/v3/{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer: dict[str, Any] = json.loads(resp.read())
    return answer


def value_size(r: random.Random) -> int:
    """The shape's draw: mostly small values, some kB, a few up to 300 kB."""
    p = r.randrange(1000)
    if p < 930:
        return 50 + r.randrange(350)
    if p < 995:
        return 1000 + r.randrange(7000)
    return 10000 + r.randrange(290000)


def load(puts: int) -> None:
    r = random.Random(3)
    keys = max(10, puts // 5)
    lease = call("lease/grant", {"TTL": 3600})["ID"]

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    jobs = []
    for _ in range(puts):
        u = r.randrange(keys)
        body = {"key": b64(f"/registry/pods/ns-{u % 50}/pod-{u:06d}".encode()),
                "value": b64(bytes([97 + r.randrange(26)]) * value_size(r))}
        if r.randrange(20) == 0:
            body["lease"] = lease
        jobs.append(body)
    with ThreadPoolExecutor(16) as pool:
        for third in range(3):
            done = list(pool.map(lambda b: call("kv/put", b),
                                 jobs[third * puts // 3:(third + 1) * puts // 3]))
            if third < 2:
                revision = int(done[-1]["header"]["revision"])
                call("kv/compaction", {"revision": revision, "physical": True})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.real_etcd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--puts", type=int, default=100_000)
    args = p.parse_args(argv)
    etcd = shutil.which("etcd")
    if etcd is None:
        print("benchmarks: etcd is not installed (apt-get install etcd-server)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        proc = subprocess.Popen(
            [etcd, "--name", "r1", "--data-dir", str(data),
             "--listen-client-urls", CLIENT, "--advertise-client-urls", CLIENT,
             "--listen-peer-urls", PEER, "--initial-advertise-peer-urls", PEER,
             "--initial-cluster", f"r1={PEER}", "--unsafe-no-fsync",
             "--quota-backend-bytes", str(8 << 30)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    call("kv/range", {"key": "AA=="})
                    break
                except OSError:
                    time.sleep(0.1)
            load(args.puts)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.copyfile(data / "member" / "snap" / "db", args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
