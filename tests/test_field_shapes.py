"""The field shapes of the benchmarks, small: pybbolt's CLI against the real bbolt.

``boltgo gen-shape`` writes stores shaped like etcd's, raft-boltdb's and
containerd's (benchmarks/field.py times the CLIs on them at full size).  Their
pages differ from the benchmark's single bucket of fixed-size pairs —
revision keys with values up to hundreds of kB, overflow pages, tens of
thousands of nested inline buckets, no synced freelist — and so do the paths
the fast walks of check, stats and keys take on them.  Here each shape is
written small by Go and every read command's output (stdout, stderr and exit
status) must be bbolt v1.5.0's, byte for byte.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from pybbolt.cli.main import execute

SCALE = "0.02"
# shape -> (the bucket `keys` lists, `get`'s bucket path and key)
SHAPES = {
    "etcd": (["key"], None),
    "raft": (["logs"], None),
    "containerd": (["v1", "default", "content", "blob"], "size"),
}
COMMANDS = ["check", "stats", "inspect", "pages", "buckets", "keys", "get"]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory, boltgo: Path) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("shapes")
    out = {}
    for shape in SHAPES:
        path = work / f"{shape}.db"
        line = subprocess.run([str(boltgo), "gen-shape", shape, str(path), "--scale", SCALE],
                              capture_output=True, text=True, check=True).stdout
        assert json.loads(line)["size"] == path.stat().st_size
        out[shape] = path
    return out


def _argv(command: str, shape: str, db: Path, bbolt_cli: Path) -> list[str]:
    bucket, inside = SHAPES[shape]
    if command not in ("keys", "get"):
        return [command, str(db)]
    if command == "keys":
        return ["keys", str(db), *bucket]
    keys = subprocess.run([str(bbolt_cli), "keys", "--format", "hex", str(db), *bucket],
                          capture_output=True, text=True, check=True).stdout.split()
    middle = keys[len(keys) // 2]
    if inside is None:
        return ["get", "--parse-format", "hex", str(db), *bucket, middle]
    return ["get", "--parse-format", "hex", str(db), *bucket, bytes.fromhex(middle).decode(),
            inside.encode().hex()]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_same_output_as_bbolt(shapes: dict[str, Path], bbolt_cli: Path,
                              shape: str, command: str) -> None:
    argv = _argv(command, shape, shapes[shape], bbolt_cli)
    want = subprocess.run([str(bbolt_cli), *argv], capture_output=True, check=False)
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(argv, out, err)
    assert (status, err.getvalue()) == (want.returncode, want.stderr)
    assert out.getvalue() == want.stdout
    if command == "check":
        assert out.getvalue() == b"OK\n"


def test_shapes_are_what_they_claim(shapes: dict[str, Path], bbolt_cli: Path) -> None:
    """The features that make each shape a field shape are really in the files."""
    def bbolt(*args: str) -> str:
        return subprocess.run([str(bbolt_cli), *args], capture_output=True, text=True,
                              check=True).stdout

    etcd = bbolt("buckets", str(shapes["etcd"])).split()
    assert etcd == sorted(["alarm", "auth", "authRoles", "authUsers", "cluster", "key",
                           "lease", "members", "members_removed", "meta"])
    revisions = bbolt("keys", "--format", "hex", str(shapes["etcd"]), "key").split()
    assert {len(k) for k in revisions} == {34}  # 17-byte main_sub revision keys
    assert all(k[16:18] == "5f" for k in revisions)  # the '_' between main and sub
    info = bbolt("page", str(shapes["etcd"]), "0")
    assert "Freelist:   <pgid=18446744073709551615>" in info  # NoFreelistSync, as etcd
    rows = [line.split() for line in bbolt("pages", str(shapes["raft"])).splitlines()[2:]]
    assert any(r[1] == "leaf" and len(r) == 4 and int(r[3]) > 0 for r in rows)  # overflow
    stats = bbolt("stats", str(shapes["containerd"]))
    buckets = int(stats.split("Total number of buckets:")[1].split()[0])
    inline = int(stats.split("Total number on inlined buckets:")[1].split()[0])
    assert buckets > 500 and inline > buckets // 2  # many nested buckets, most inline


def test_inspect_reads_a_wide_level_in_batches(tmp_path: Path, boltgo: Path,
                                               bbolt_cli: Path) -> None:
    """A containerd shape with more nested buckets on one level than inspect's
    fast walk opens at once: the batches join into bbolt's very output."""
    from pybbolt.inspect import _SPANS_AT_ONCE

    db = tmp_path / "containerd.db"
    subprocess.run([str(boltgo), "gen-shape", "containerd", str(db), "--scale", "0.1"],
                   capture_output=True, check=True)
    want = subprocess.run([str(bbolt_cli), "inspect", str(db)], capture_output=True, check=True)

    def widths(node: dict[str, object], depth: int, out: dict[int, int]) -> dict[int, int]:
        children = node.get("buckets", [])
        assert isinstance(children, list)
        out[depth] = out.get(depth, 0) + len(children)
        for child in children:
            widths(child, depth + 1, out)
        return out

    assert max(widths(json.loads(want.stdout), 0, {}).values()) > _SPANS_AT_ONCE
    out, err = io.BytesIO(), io.BytesIO()
    assert execute(["inspect", str(db)], out, err) == 0
    assert (out.getvalue(), err.getvalue()) == (want.stdout, b"")
