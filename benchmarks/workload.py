"""The benchmark workload, identical for every store.

One bucket ``bench``; key ``i`` is 16 bytes: 8 zero bytes and ``i`` as a
big-endian uint64; its value is 100 bytes: the key's last 8 bytes and 92
filler bytes ``0, 1, ..., 91`` (``tests/go/cmd/boltgo/bench.go`` builds the
same).  The random load order and the keys to get come from seeded
generators and are written to files so that Go reads exactly the same keys.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

BUCKET = b"bench"
KEY_SIZE = 16
VALUE_SIZE = 100
BATCH = 1000  # puts per transaction in the batched loads
GET_COUNT = 100_000
TX_MAX_SIZE = 65536  # compaction commits every 64 KiB, as bbolt's CLI default
SEED = 20250101

_FILLER = bytes(range(VALUE_SIZE - 8))
_U64 = struct.Struct(">Q")

# Operation ids, in report order, with their descriptions.
OPERATIONS: dict[str, str] = {
    "a": "sequential load, one transaction",
    "b": "sequential load, 1000 puts/tx",
    "c2": "random-order load, 1000 puts/tx",
    "d": "100,000 random gets, one read tx",
    "e": "full cursor scan (keys and values as bytes)",
    "e2": "full scan, idiomatic iteration (pybbolt items(), Go ForEach)",
    "f": "full consistency check",
    "g": "bucket stats",
    "h": "compact to a new file",
}
LOADS = ("a", "b", "c2")
READS = ("d", "e", "e2", "f", "g")


def key(i: int) -> bytes:
    return b"\0" * 8 + _U64.pack(i)


def value_of(k: bytes) -> bytes:
    return k[8:] + _FILLER


def sequential_keys(n: int) -> list[bytes]:
    return [key(i) for i in range(n)]


def shuffled_keys(n: int) -> list[bytes]:
    keys = sequential_keys(n)
    random.Random(SEED).shuffle(keys)
    return keys


def get_keys(n: int) -> list[bytes]:
    rng = random.Random(SEED + 1)
    return [key(rng.randrange(n)) for _ in range(GET_COUNT)]


def write_keys(path: Path, keys: list[bytes]) -> None:
    path.write_bytes(b"".join(keys))


def read_keys(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    return [raw[i : i + KEY_SIZE] for i in range(0, len(raw), KEY_SIZE)]
