"""``--json`` on bbolt's commands (a pybbolt extension; docs/JSON.md).

Listings (buckets, keys, check, pages) are JSON Lines, written as they are
found; a single result (get, info, stats) is one JSON document on one line.
Records share the schema of ``pybbolt export``: a bucket is
``{"bucket":[NAME,...],"sequence":N}``, a pair ``{"bucket":[...],"key":K,...}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pybbolt.jsonfmt import dumps, json_text

from .cmd_read import last_bucket
from .common import check_source_path, open_readonly
from .runtime import CommandError, Exit, Invocation

if TYPE_CHECKING:
    pass


def name_args(inv: Invocation, words: list[str]) -> list[bytes]:
    """Bucket names and keys from the command line: raw, or hex with ``--hex``."""
    import os

    if not inv.opts.get_bool("hex"):
        return [os.fsencode(w) for w in words]
    return hex_args(words)


def hex_args(words: list[str]) -> list[bytes]:
    """``--hex`` arguments as bytes; a bad one is a command error naming it."""
    names = []
    for word in words:
        try:
            names.append(bytes.fromhex(word))
        except ValueError:
            raise CommandError(f"--hex: {word!r} is not hexadecimal") from None
    return names



def run_buckets_json(inv: Invocation) -> None:
    from pybbolt.transfer import entry_lines
    from pybbolt.walk import batches

    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        for batch in batches(tx.root, ()):
            inv.out.text("".join(entry_lines(batch, values=False)))


def run_keys_json(inv: Invocation) -> None:
    from pybbolt.transfer import entry_lines
    from pybbolt.walk import batches

    path = inv.args[0]
    names = name_args(inv, inv.args[1:])
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        bucket = last_bucket(tx, names)
        for batch in batches(bucket, tuple(names)):
            inv.out.text("".join(entry_lines(batch, values=False)))


def run_get_json(inv: Invocation, key: bytes, names: list[bytes]) -> None:
    from pybbolt.decode import get_decoder
    from pybbolt.transfer import decoded_fields, path_json

    from .textfmt import go_quote

    decode = inv.opts.get_str("decode")
    decoder = get_decoder(decode) if decode else None
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        value = last_bucket(tx, names).get(key)
        if value is None:
            raise CommandError(
                f'Error key not found for key: {go_quote(key)} hex: "{key.hex()}"')
        if not inv.opts.get_bool("json"):  # --decode alone: the decoded value
            assert decoder is not None
            inv.out.text(dumps(decoder.value(value, key, names)) + "\n")
            return
        line = f'{{"bucket":{path_json(names)},"key":{json_text(key)},"value":{json_text(value)}'
        if decoder is not None:
            line += decoded_fields(decoder, names, key, value)
        inv.out.text(line + "}\n")


def run_info_json(inv: Invocation) -> None:
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db:
        inv.out.text(dumps({"page_size": db.info().page_size}) + "\n")


def run_stats_json(inv: Invocation) -> None:
    import dataclasses

    from .cmd_check import read_stats

    count, total = read_stats(inv)
    inv.out.text(dumps({"buckets": count, **dataclasses.asdict(total)}) + "\n")


def run_check_json(inv: Invocation) -> None:
    from .cmd_check import check_errors

    count = 0
    fatal = False
    for err in check_errors(inv):
        inv.out.text(dumps({"error": str(err)}) + "\n")
        count += 1
        fatal = err.fatal
        if fatal:  # bbolt stops there (exit status 2)
            break
    inv.out.text(dumps({"ok": count == 0, "errors": count}) + "\n")
    if count:
        raise Exit(2 if fatal else 1)


def run_pages_json(inv: Invocation) -> None:
    from pybbolt.pagefile import page_list

    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        for info in page_list(tx):
            record: dict[str, object] = {"id": info.id, "type": info.kind}
            if info.kind != "free":
                record["items"] = info.count
                record["overflow"] = info.overflow
            inv.out.text(dumps(record) + "\n")
