"""Go and pybbolt take turns writing one file: each sees the other's commits,
and both consistency checks stay clean round after round."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pybbolt

from . import workload as wl
from .content import db_content, make_bucket, without_inline

ROUNDS = 24


def _round(rng: random.Random, model: dict[bytes, dict[bytes, bytes]]) -> list[wl.Op]:
    ops: list[wl.Op] = []
    for _ in range(rng.randint(1, 3)):
        name = b"bucket-%d" % rng.randrange(6)
        if name not in model:
            ops.append(wl.create([], name))
            model[name] = {}
        elif rng.random() < 0.08:
            ops.append({"op": "delete_bucket", "path": [], "name": name.hex()})
            del model[name]
            continue
        kv = model[name]
        for _ in range(rng.randint(1, 300)):
            key = b"k%05d" % rng.randrange(2000)
            if rng.random() < 0.3 and kv:
                victim = rng.choice(sorted(kv))
                ops.append(wl.delete([name], victim))
                del kv[victim]
            else:
                value = rng.randbytes(rng.choice([0, 10, 100, 2000, 6000]))
                ops.append(wl.put([name], key, value))
                kv[key] = value
    return ops


def _expected(model: dict[bytes, dict[bytes, bytes]]) -> dict[str, Any]:
    return {"page_size": 4096, "buckets": [make_bucket(n, 0, None, sorted(model[n].items()), [])
                                           for n in sorted(model)]}


def test_go_and_pybbolt_take_turns(tmp_path: Path, boltgo: Path) -> None:
    path = tmp_path / "shared.db"
    rng = random.Random(2026)
    model: dict[bytes, dict[bytes, bytes]] = {}
    for i in range(ROUNDS):
        work = wl.workload(4096, [_round(rng, model)])
        if i % 2 == 0:
            assert wl.replay(work, path) == []
        else:
            assert wl.go_replay(boltgo, work, path)["errors"] == []
        expected = _expected(model)
        go = wl.go_dump(boltgo, path)
        assert go["check"] == [], f"round {i}"
        assert without_inline(go["content"]) == expected, f"round {i}"
        assert without_inline(db_content(str(path))) == expected, f"round {i}"
        with pybbolt.open(path, readonly=True) as db, db.view() as tx:
            assert [str(e) for e in tx.check()] == []
            assert tx.id == go["meta"]["txid"]
