"""Workloads: recorded operation sequences that pybbolt and Go (`boltgo replay`)
both replay, in the JSON format of tests/go/cmd/boltgo/replay.go."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pybbolt

from .content import Model, new_model

Op = dict[str, Any]


def _bucket(tx: pybbolt.Tx, path: list[str]) -> pybbolt.Bucket | None:
    b: pybbolt.Bucket | None = tx.root
    for name in path:
        assert b is not None
        b = b.bucket(bytes.fromhex(name))
        if b is None:
            raise pybbolt.BucketNotFound()
    return b if path else None


def _apply(tx: pybbolt.Tx, op: Op) -> None:
    kind = op["op"]
    if kind in ("put", "delete", "set_sequence", "next_sequence", "fill_percent"):
        if not op["path"]:
            raise pybbolt.Error(
                "path [] is the top level: only bucket operations are allowed there")
        b = _bucket(tx, op["path"])
        assert b is not None
        if kind == "put":
            b.put(bytes.fromhex(op["k"]), bytes.fromhex(op["v"]) * (op.get("repeat") or 1))
        elif kind == "delete":
            b.delete(bytes.fromhex(op["k"]))
        elif kind == "set_sequence":
            b.set_sequence(op["n"])
        elif kind == "next_sequence":
            b.next_sequence()
        else:
            b.fill_percent = op["value"]
        return
    if kind == "move_bucket":
        tx.move_bucket(bytes.fromhex(op["name"]), _bucket(tx, op["src"]), _bucket(tx, op["dst"]))
        return
    parent = _bucket(tx, op["path"]) or tx.root
    name = bytes.fromhex(op["name"])
    if kind == "create_bucket":
        parent.create_bucket(name)
    elif kind == "create_bucket_if_not_exists":
        parent.create_bucket_if_not_exists(name)
    elif kind == "delete_bucket":
        parent.delete_bucket(name)
    else:
        raise ValueError(f"unknown op {kind!r}")


def model_apply(root: Model, op: Op) -> None:
    """Apply ``op`` to a model (tests/content.py), the expected side of a
    workload that must not fail (an op bbolt would refuse is a test error)."""
    node = root
    for name in op["path"]:
        node = node["buckets"][bytes.fromhex(name)]
    kind = op["op"]
    if kind == "put":
        key = bytes.fromhex(op["k"])
        assert key not in node["buckets"], "a put onto a bucket"
        node["kv"][key] = bytes.fromhex(op["v"]) * (op.get("repeat") or 1)
    elif kind == "delete":
        node["kv"].pop(bytes.fromhex(op["k"]), None)
    elif kind == "set_sequence":
        node["seq"] = op["n"]
    elif kind == "next_sequence":
        node["seq"] = (node["seq"] + 1) & 0xFFFFFFFFFFFFFFFF
    elif kind in ("create_bucket", "create_bucket_if_not_exists"):
        name = bytes.fromhex(op["name"])
        assert name not in node["kv"], "a bucket onto a key"
        assert kind != "create_bucket" or name not in node["buckets"], "the bucket exists"
        node["buckets"].setdefault(name, new_model())
    elif kind == "delete_bucket":
        del node["buckets"][bytes.fromhex(op["name"])]
    else:
        raise ValueError(f"op {kind!r} is not modelled")


def replay(workload: dict[str, Any], path: Path) -> list[list[Any]]:
    """Apply ``workload`` to ``path`` with pybbolt; returns the op errors as Go reports them."""
    options = workload.get("options", {})
    errors: list[list[Any]] = []
    with pybbolt.open(
        path,
        page_size=options.get("PageSize") or None,
        no_freelist_sync=options.get("NoFreelistSync", False),
        freelist_type=options.get("FreelistType") or "array",
        no_sync=options.get("NoSync", False),
    ) as db:
        for t, txdesc in enumerate(workload["txs"]):
            tx = db.begin(writable=True)
            for i, op in enumerate(txdesc["ops"]):
                try:
                    _apply(tx, op)
                except pybbolt.Error as e:
                    errors.append([t, i, str(e)])
            if txdesc.get("commit", True):
                tx.commit()
            else:
                tx.rollback()
    return errors


def go_replay(boltgo: Path, workload: dict[str, Any], path: Path) -> dict[str, Any]:
    """Apply ``workload`` to ``path`` with Go bbolt."""
    wl = path.with_suffix(".workload.json")
    wl.write_text(json.dumps(workload))
    out = subprocess.run([str(boltgo), "replay", str(wl), str(path)], capture_output=True,
                         text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def go_dump(boltgo: Path, path: Path) -> dict[str, Any]:
    """Go's view of a file: content, tx.Check() errors, meta."""
    out = subprocess.run([str(boltgo), "dump", str(path)], capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# -- workload generators ---------------------------------------------------------


def _h(b: bytes) -> str:
    return b.hex()


def put(path: list[bytes], k: bytes, v: bytes) -> Op:
    return {"op": "put", "path": [_h(p) for p in path], "k": _h(k), "v": _h(v)}


def delete(path: list[bytes], k: bytes) -> Op:
    return {"op": "delete", "path": [_h(p) for p in path], "k": _h(k)}


def create(path: list[bytes], name: bytes) -> Op:
    return {"op": "create_bucket", "path": [_h(p) for p in path], "name": _h(name)}


def workload(page_size: int, txs: list[list[Op]], **options: Any) -> dict[str, Any]:
    return {"options": {"PageSize": page_size, "NoSync": True, **options},
            "txs": [{"commit": True, "ops": ops} for ops in txs]}


def sequential(page_size: int, n: int, vsize: int) -> dict[str, Any]:
    b = [b"seq"]
    ops = [create([], b"seq")] + [put(b, b"%08d" % i, b"v" * vsize) for i in range(n)]
    return workload(page_size, [ops])


def random_inserts(page_size: int, seed: int, txs: int, per_tx: int) -> dict[str, Any]:
    rng = random.Random(seed)
    b = [b"rnd"]
    out = [[create([], b"rnd")]]
    for _ in range(txs):
        out.append([put(b, rng.randbytes(rng.randint(1, 24)), rng.randbytes(rng.randint(0, 300)))
                    for _ in range(per_tx)])
    return workload(page_size, out)


def updates(page_size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    b = [b"u"]
    keys = [b"key-%06d" % i for i in range(2000)]
    txs = [[create([], b"u")] + [put(b, k, b"a" * 40) for k in keys]]
    for _ in range(5):
        txs.append([put(b, rng.choice(keys), rng.randbytes(rng.randint(10, 120)))
                    for _ in range(300)])
    return workload(page_size, txs)


def range_delete(page_size: int, lo: int, hi: int) -> dict[str, Any]:
    b = [b"r"]
    txs = [[create([], b"r")] + [put(b, b"%06d" % i, b"x" * 64) for i in range(3000)]]
    txs.append([delete(b, b"%06d" % i) for i in range(lo, hi)])
    return workload(page_size, txs)


def nested(page_size: int) -> dict[str, Any]:
    txs: list[list[Op]] = [[create([], b"top")]]
    path = [b"top"]
    for depth in range(4):
        ops = [create(path, b"child%d" % depth)]
        child = [*path, b"child%d" % depth]
        ops += [put(child, b"k%05d" % i, b"v" * (20 + depth)) for i in range(150 * (depth + 1))]
        ops.append({"op": "next_sequence", "path": [_h(p) for p in child]})
        txs.append(ops)
        path = child
    txs.append([{"op": "set_sequence", "path": [_h(p) for p in path], "n": 99}])
    # small buckets stay inline
    txs.append([create([], b"tiny"), put([b"tiny"], b"a", b"b")])
    return workload(page_size, txs)


def large_values(page_size: int) -> dict[str, Any]:
    b = [b"big"]
    sizes = [page_size // 2, page_size, 3 * page_size + 5, 10 * page_size, 100_000]
    txs = [[create([], b"big")] + [put(b, b"v%02d" % i, bytes([i]) * s)
                                   for i, s in enumerate(sizes)]]
    txs.append([put(b, b"v01", b"small"), delete(b, b"v03")])
    return workload(page_size, txs)
