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
    if inv.opts.get_bool("json"):
        from .cmd_json import run_info_json

        return run_info_json(inv)
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db:
        inv.out.text(f"Page Size: {db.info().page_size}\n")


def run_buckets(inv: Invocation) -> None:
    if inv.opts.get_bool("json"):
        from .cmd_json import run_buckets_json

        return run_buckets_json(inv)
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


def last_bucket(tx: pybbolt.Tx, names: list[bytes]) -> pybbolt.Bucket:
    """bbolt's ``findLastBucket``: descend the bucket path from the root
    (``bucket not found`` as bbolt says it)."""
    bucket = tx.bucket(names[0])
    for name in names[1:]:
        if bucket is None:
            break
        bucket = bucket.bucket(name)
    if bucket is None:
        raise CommandError("bucket not found")
    return bucket


def run_keys(inv: Invocation) -> None:
    from .textfmt import FormatError, format_lines

    if inv.opts.get_bool("json"):
        from .cmd_json import run_keys_json

        return run_keys_json(inv)
    path = inv.args[0]
    mode = inv.opts.get_str("format")
    names = [os.fsencode(name) for name in inv.args[1:]]
    if inv.opts.get_bool("hex"):
        from .cmd_json import hex_args

        names = hex_args(inv.args[1:])
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        bucket = last_bucket(tx, names)
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

    runs = bucket._leaf_runs(keys_only=True)
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
    hex_names = inv.opts.get_bool("hex")
    parse_format = "hex" if hex_names else inv.opts.get_str("parse-format")
    try:
        key = parse_bytes(os.fsencode(args[-1]), parse_format)
    except ValueError as e:
        raise CommandError(str(e)) from None
    if not key:
        raise CommandError("key is required: key required")
    names = [os.fsencode(name) for name in args[1:-1]]
    if hex_names:
        from .cmd_json import hex_args

        names = hex_args(args[1:-1])
    if inv.opts.get_bool("json") or inv.opts.get_str("decode"):
        from .cmd_json import run_get_json

        return run_get_json(inv, key, names)
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        bucket = last_bucket(tx, names)
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
