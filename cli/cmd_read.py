"""Commands that read through a transaction: info, buckets, keys, get, inspect.

Each command imports what only it needs (start-up time: `buckets` and `info`
format nothing).
"""

from __future__ import annotations

import os

from .common import check_source_path, open_readonly, preload_freelist
from .runtime import CommandError, Invocation

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator

    import pybbolt


def run_info(inv: Invocation) -> None:
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db:
        inv.out.text(f"Page Size: {db.info().page_size}\n")


def run_buckets(inv: Invocation) -> None:
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db:
        preload_freelist(db)
        with db.view() as tx:
            for name, _value in tx.cursor():
                # bbolt's tx.ForEach opens every bucket before printing its
                # name: a damaged bucket value panics there.
                tx.bucket(name)
                inv.out.write(name + b"\n")


def _last_bucket(tx: pybbolt.Tx, names: list[str]) -> pybbolt.Bucket:
    """bbolt's ``findLastBucket``: descend the bucket path from the root."""
    bucket = tx.bucket(os.fsencode(names[0]))
    for name in names[1:]:
        if bucket is None:
            break
        bucket = bucket.bucket(os.fsencode(name))
    if bucket is None:
        raise CommandError("bucket not found")
    return bucket


def run_keys(inv: Invocation) -> None:
    from .textfmt import FormatError, format_lines

    path = inv.args[0]
    mode = inv.opts.get_str("format")
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        bucket = _last_bucket(tx, inv.args[1:])
        write = inv.out.write
        for keys in _key_batches(bucket):
            try:
                write(format_lines(keys, mode))
            except FormatError as e:
                raise CommandError(str(e)) from None


# Keys formatted and written at once: enough to make the per-call costs vanish.
_KEYS_PER_BATCH = 4096


def _key_batches(bucket: pybbolt.Bucket) -> Iterator[list[bytes]]:
    """The keys of ``bucket`` in order, those of many leaves at a time.

    A damaged leaf ends the walk with its error after the keys before it,
    as bbolt prints them and then fails.
    """
    from pybbolt.errors import Error

    runs = bucket._leaf_runs()
    batch: list[bytes] = []
    while True:
        try:
            run = next(runs, None)
        except Error:
            if batch:
                yield batch
            raise
        if run is None:
            break
        batch += run[1]
        if len(batch) >= _KEYS_PER_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def run_get(inv: Invocation) -> None:
    from .textfmt import FormatError, format_bytes, go_quote, parse_bytes

    args = inv.args
    path = args[0]
    if path == "":
        raise CommandError("path required")
    try:
        key = parse_bytes(os.fsencode(args[-1]), inv.opts.get_str("parse-format"))
    except ValueError as e:
        raise CommandError(str(e)) from None
    if not key:
        raise CommandError("key is required: key required")
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        bucket = _last_bucket(tx, args[1:-1])
        value = bucket.get(key)
        if value is None:
            raise CommandError(
                f'Error key not found for key: {go_quote(key)} hex: "{key.hex()}"'
            )
        try:
            inv.out.write(format_bytes(value, inv.opts.get_str("format")) + b"\n")
        except FormatError as e:
            raise CommandError(str(e)) from None


def run_inspect(inv: Invocation) -> None:
    from .render import render_structure

    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        inv.out.text(render_structure(tx.inspect()) + "\n")
