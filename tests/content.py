"""The logical content of a database in the manifest format of tests/fixtures
and ../shared/golden (bucket tree, entries, sequences), read with pybbolt."""

from __future__ import annotations

import contextlib
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
    for key, value in bucket.items():
        if value is None:
            child = bucket.bucket(key)
            assert child is not None
            subs.append(bucket_content(key, child))
        else:
            pairs.append((key, value))
    return make_bucket(name, bucket.sequence, bucket.inline, pairs, subs)


def make_bucket(name: bytes, sequence: int, inline: bool | None,
                pairs: list[tuple[bytes, bytes]], subs: list[dict[str, Any]]) -> dict[str, Any]:
    """One bucket in the manifest format (``inline`` None: left out)."""
    digest = hashlib.sha256()
    for key, value in pairs:
        digest.update(len(key).to_bytes(4, "big") + key + len(value).to_bytes(4, "big") + value)
    out: dict[str, Any] = {"name_hex": name.hex()}
    with contextlib.suppress(UnicodeDecodeError):
        out["name"] = name.decode("utf-8")
    out["sequence"] = sequence
    if inline is not None:
        out["inline"] = inline
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
        return tx_content(tx)


def tx_content(tx: pybbolt.Tx) -> dict[str, Any]:
    """The content dictionary as transaction ``tx`` sees it."""
    return {
        "page_size": tx.page_size,
        "buckets": [bucket_content(name, b) for name, b in tx.buckets()],
    }



def without_inline(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with the ``inline`` flags dropped (a model does not know them)."""

    def strip(b: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in b.items() if k != "inline"},
                "buckets": [strip(c) for c in b["buckets"]]}

    return {**content, "buckets": [strip(b) for b in content["buckets"]]}


# -- a model: what a database should hold, kept without pybbolt ----------------------

Model = dict[str, Any]  # {"kv": {key: value}, "buckets": {name: Model}, "seq": int}


def new_model() -> Model:
    """An empty bucket of the model (the root holds only ``buckets``)."""
    return {"kv": {}, "buckets": {}, "seq": 0}


def _model_bucket(name: bytes, m: Model) -> dict[str, Any]:
    subs = [_model_bucket(n, m["buckets"][n]) for n in sorted(m["buckets"])]
    return make_bucket(name, m["seq"], None, sorted(m["kv"].items()), subs)


def model_content(root: Model, page_size: int) -> dict[str, Any]:
    """The model's content in the manifest format, without ``inline`` flags
    (compare with :func:`without_inline` of a file's content)."""
    return {"page_size": page_size,
            "buckets": [_model_bucket(n, root["buckets"][n]) for n in sorted(root["buckets"])]}

