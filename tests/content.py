"""The logical content of a database in the manifest format of tests/fixtures
and ../shared/golden (bucket tree, entries, sequences), read with pybbolt."""

from __future__ import annotations

import hashlib
from typing import Any

import pybbolt

LONG = 1024
LISTED_MAX = 20000


def _entry(key: bytes, value: bytes) -> dict[str, Any]:
    e: dict[str, Any] = {}
    if len(key) > LONG:
        e["klen"] = len(key)
        e["ksha256"] = hashlib.sha256(key).hexdigest()
    else:
        e["k"] = key.hex()
    if len(value) == 0:
        e["vlen"] = 0
    elif len(value) > LONG:
        e["vlen"] = len(value)
        e["vsha256"] = hashlib.sha256(value).hexdigest()
    else:
        e["v"] = value.hex()
    return e


def bucket_content(name: bytes, bucket: pybbolt.Bucket) -> dict[str, Any]:
    pairs: list[tuple[bytes, bytes]] = []
    subs: list[dict[str, Any]] = []
    digest = hashlib.sha256()
    for key, value in bucket.items():
        if value is None:
            child = bucket.bucket(key)
            assert child is not None
            subs.append(bucket_content(key, child))
            continue
        pairs.append((key, value))
        digest.update(len(key).to_bytes(4, "big") + key + len(value).to_bytes(4, "big") + value)
    out: dict[str, Any] = {"name_hex": name.hex()}
    try:
        out["name"] = name.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out["sequence"] = bucket.sequence
    out["inline"] = bucket.inline
    out["key_count"] = len(pairs)
    out["entries_sha256"] = digest.hexdigest()
    listed = len(pairs) <= LISTED_MAX
    out["entries"] = [_entry(k, v) for k, v in pairs] if listed else None
    out["entries_listed"] = listed
    out["buckets"] = subs
    return out


def db_content(path: str) -> dict[str, Any]:
    """Open ``path`` read-only and return its content dictionary."""
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        return {
            "page_size": db.page_size,
            "buckets": [bucket_content(name, b) for name, b in tx.buckets()],
        }

