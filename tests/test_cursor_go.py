"""Cursor moves agree with Go bbolt's on every fixture and golden database:
thousands of random first/last/next/prev/seek sequences, compared result by result."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pybbolt

from .conftest import FIXTURES, GOLDEN

SEQUENCES_PER_DB = 400


def _databases() -> list[Path]:
    dbs = sorted(FIXTURES.glob("*.db"))
    if GOLDEN.is_dir():
        dbs += sorted((GOLDEN / "db").glob("*.db"))
    return dbs


def _bucket_paths(tx: pybbolt.Tx, limit: int = 60) -> list[list[bytes]]:
    paths: list[list[bytes]] = [[]]
    todo: list[tuple[list[bytes], pybbolt.Bucket]] = [([n], b) for n, b in tx.buckets()]
    while todo and len(paths) < limit:
        path, bucket = todo.pop(0)
        paths.append(path)
        todo.extend(([*path, n], b) for n, b in bucket.buckets())
    return paths


def _seek_keys(rng: random.Random, keys: list[bytes]) -> list[bytes]:
    out = [b"\x00", b"\xff" * 8, b"\x00" * 40]
    for _ in range(6):
        if keys:
            k = rng.choice(keys)
            out += [k, k + b"\x00", k[:-1] or b"\x00", bytes(reversed(k))]
            i = rng.randrange(len(k))
            out.append(k[:i] + bytes([(k[i] + 1) % 256]) + k[i + 1 :])
        out.append(rng.randbytes(rng.randint(1, 12)))
    return out


def _sequences(rng: random.Random, paths: list[list[bytes]], tx: pybbolt.Tx,
               count: int) -> list[dict[str, Any]]:
    lines = []
    samples: dict[int, list[bytes]] = {}
    for _ in range(count):
        which = rng.randrange(len(paths))
        path = paths[which]
        if which not in samples:
            bucket = tx.root
            for name in path:
                child = bucket.bucket(name)
                assert child is not None
                bucket = child
            samples[which] = [k for k, _ in zip(bucket.keys(), range(2000))]
        keys = samples[which]
        start = rng.choice(["first", "last", "seek"])
        ops: list[list[str]] = []
        if start == "seek":
            ops.append(["seek", rng.choice(_seek_keys(rng, keys)).hex()])
        else:
            ops.append([start])
        for _ in range(rng.randint(0, 40)):
            r = rng.random()
            if r < 0.45:
                ops.append(["next"])
            elif r < 0.9:
                ops.append(["prev"])
            else:
                ops.append(["seek", rng.choice(_seek_keys(rng, keys)).hex()])
        lines.append({"path": [p.hex() for p in path], "ops": ops})
    return lines


def _ours(tx: pybbolt.Tx, line: dict[str, Any]) -> list[Any]:
    bucket = tx.root
    for name in line["path"]:
        child = bucket.bucket(bytes.fromhex(name))
        assert child is not None
        bucket = child
    c = bucket.cursor()
    out: list[Any] = []
    for op in line["ops"]:
        item = c.seek(bytes.fromhex(op[1])) if op[0] == "seek" else getattr(c, op[0])()
        out.append(None if item is None else [item[0].hex(), None if item[1] is None
                                               else item[1].hex()])
    return out


@pytest.mark.parametrize("path", _databases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cursor_moves_match_go(path: Path, boltgo: Path) -> None:
    rng = random.Random(path.name)
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        # Files of multi-megabyte values cost seconds of hex per move: fewer moves.
        count = SEQUENCES_PER_DB // 8 if "overflow" in path.name else SEQUENCES_PER_DB
        lines = _sequences(rng, _bucket_paths(tx), tx, count)
        feed = "".join(json.dumps(line) + "\n" for line in lines)
        go = subprocess.run([str(boltgo), "cursor", str(path)], input=feed, capture_output=True,
                            text=True, check=True)
        answers = go.stdout.splitlines()
        assert len(answers) == len(lines)
        moves = 0
        for line, answer in zip(lines, answers):
            expected = json.loads(answer)["results"]
            assert _ours(tx, line) == expected, line
            moves += len(expected)
        assert moves >= count
