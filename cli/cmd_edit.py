"""pybbolt's editing commands: put, delete, create-bucket, delete-bucket, set-sequence.

bbolt's tool has no way to change a store's data; these do, as a Go program
would: the file's exclusive lock (a file another process holds is refused
after --timeout), one write transaction per invocation (all of it or
nothing), and --dry-run to see what would change without writing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from pybbolt.errors import Error

from .cmd_data import DEFAULT_TIMEOUT, open_write, parse_names

if TYPE_CHECKING:
    import pybbolt

# An edit: applies itself to a write transaction and says what it changed.
Edit = Callable[["pybbolt.Tx"], list[str]]


def _common(function: Callable[..., None]) -> Callable[..., None]:
    for option in reversed((
        click.option("--hex", "hex_", is_flag=True,
                     help="Every BUCKET and KEY (and a VALUE argument) is hexadecimal."),
        click.option("--dry-run", is_flag=True,
                     help="Say what would change; write nothing."),
        click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True,
                     metavar="DURATION",
                     help="How long to wait for the file's exclusive lock (Go duration)."),
    )):
        function = option(function)
    return function


def name(data: bytes) -> str:
    """A bucket name or key in a message (bytes as Python writes them)."""
    return repr(data)[2:-1]


def where(path: Sequence[bytes]) -> str:
    return "/".join(name(n) for n in path)


def run_edit(db: str, timeout: str, dry_run: bool, edit: Edit, create: bool = False) -> None:
    """Apply ``edit`` in one write transaction; with ``dry_run``, report and roll back."""
    with open_write(db, timeout, create) as store:
        tx = store.begin(writable=True)
        try:
            changes = edit(tx)
        except BaseException:
            tx.rollback()
            raise
        if dry_run:
            tx.rollback()
            for change in changes:
                sys.stdout.write(f"would {change}\n")
            sys.stdout.write("dry run: nothing written\n")
        else:
            tx.commit()


def bucket_at(tx: pybbolt.Tx, path: Sequence[bytes], parents: bool = False,
              changes: list[str] | None = None) -> pybbolt.Bucket:
    """The bucket at ``path``; missing ones are created with ``parents``, else an error."""
    bucket = tx.root
    for depth, part in enumerate(path):
        child = bucket.bucket(part)
        if child is None:
            if not parents:
                raise Error(f"bucket not found: {where(path[: depth + 1])}")
            child = bucket.create_bucket(part)
            if changes is not None:
                changes.append(f"create bucket {where(path[: depth + 1])}")
        bucket = child
    return bucket


def _split(words: Sequence[bytes], tail: int, what: str) -> tuple[list[bytes], list[bytes]]:
    if len(words) < tail + 1:
        raise click.UsageError(f"expected BUCKET... {what}")
    return list(words[:-tail]), list(words[-tail:])


@click.command("put")
@click.argument("db", metavar="DB")
@click.argument("words", nargs=-1, required=True, metavar="BUCKET... KEY [VALUE]")
@click.option("--value-file", default=None, metavar="FILE",
              help="Read the value from FILE (- for standard input), as raw bytes.")
@click.option("-p", "--parents", is_flag=True, help="Create missing buckets on the path.")
@_common
def put_command(db: str, words: tuple[str, ...], value_file: str | None, parents: bool,
                hex_: bool, dry_run: bool, timeout: str) -> None:
    """Set KEY to VALUE in the bucket BUCKET... (a path of nested buckets)."""
    if value_file is None:
        names, (key, value) = _split(parse_names(words, hex_), 2, "KEY VALUE")
    else:
        names, (key,) = _split(parse_names(words, hex_), 1, "KEY (the value is --value-file)")
        value = _read_value(value_file)

    def edit(tx: pybbolt.Tx) -> list[str]:
        changes: list[str] = []
        bucket = bucket_at(tx, names, parents, changes)
        old = bucket.get(key)
        bucket.put(key, value)
        if old is None:
            changes.append(f"put {where(names)} {name(key)}: new, {len(value)} bytes")
        elif old == value:
            changes.append(f"put {where(names)} {name(key)}: unchanged, {len(value)} bytes")
        else:
            changes.append(f"put {where(names)} {name(key)}: {len(old)} -> {len(value)} bytes")
        return changes

    run_edit(db, timeout, dry_run, edit)


def _read_value(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Error(f"{path}: {e.strerror}") from None


@click.command("delete")
@click.argument("db", metavar="DB")
@click.argument("words", nargs=-1, required=True, metavar="BUCKET... KEY")
@click.option("--missing-ok", is_flag=True, help="A key that is not there is not an error.")
@_common
def delete_command(db: str, words: tuple[str, ...], missing_ok: bool, hex_: bool,
                   dry_run: bool, timeout: str) -> None:
    """Delete KEY from the bucket BUCKET...."""
    names, (key,) = _split(parse_names(words, hex_), 1, "KEY")

    def edit(tx: pybbolt.Tx) -> list[str]:
        bucket = bucket_at(tx, names)
        old = bucket.get(key)
        if old is None:
            if bucket.bucket(key) is not None:
                raise Error(f"{where(names)} {name(key)} is a bucket: use delete-bucket")
            if missing_ok:
                return []
            raise Error(f"key not found: {where(names)} {name(key)}")
        bucket.delete(key)
        return [f"delete {where(names)} {name(key)} ({len(old)} bytes)"]

    run_edit(db, timeout, dry_run, edit)


@click.command("create-bucket")
@click.argument("db", metavar="DB")
@click.argument("words", nargs=-1, required=True, metavar="BUCKET...")
@click.option("-p", "--parents", is_flag=True,
              help="Create missing parents; a bucket that exists is not an error.")
@_common
def create_bucket_command(db: str, words: tuple[str, ...], parents: bool, hex_: bool,
                          dry_run: bool, timeout: str) -> None:
    """Create the bucket BUCKET... (DB is created if missing)."""
    path = parse_names(words, hex_)

    def edit(tx: pybbolt.Tx) -> list[str]:
        changes: list[str] = []
        parent = bucket_at(tx, path[:-1], parents, changes)
        if parent.bucket(path[-1]) is not None:
            if parents:
                return changes
            raise Error(f"bucket already exists: {where(path)}")
        parent.create_bucket(path[-1])
        return [*changes, f"create bucket {where(path)}"]

    run_edit(db, timeout, dry_run, edit, create=not dry_run)


@click.command("delete-bucket")
@click.argument("db", metavar="DB")
@click.argument("words", nargs=-1, required=True, metavar="BUCKET...")
@_common
def delete_bucket_command(db: str, words: tuple[str, ...], hex_: bool, dry_run: bool,
                          timeout: str) -> None:
    """Delete the bucket BUCKET... with everything in it."""
    path = parse_names(words, hex_)

    def edit(tx: pybbolt.Tx) -> list[str]:
        parent = bucket_at(tx, path[:-1])
        bucket = parent.bucket(path[-1])
        if bucket is None:
            raise Error(f"bucket not found: {where(path)}")
        stats = bucket.stats()
        parent.delete_bucket(path[-1])
        return [f"delete bucket {where(path)} ({stats.key_n} keys, "
                f"{stats.bucket_n - 1} nested buckets)"]

    run_edit(db, timeout, dry_run, edit)


@click.command("set-sequence")
@click.argument("db", metavar="DB")
@click.argument("words", nargs=-1, required=True, metavar="BUCKET... N")
@_common
def set_sequence_command(db: str, words: tuple[str, ...], hex_: bool, dry_run: bool,
                         timeout: str) -> None:
    """Set the sequence of the bucket BUCKET... to N (what NextSequence counts from)."""
    if len(words) < 2:
        raise click.UsageError("expected BUCKET... N")
    try:
        sequence = int(words[-1], 10)
    except ValueError:
        raise click.BadParameter(f"{words[-1]!r} is not a number", param_hint="N") from None
    if not 0 <= sequence < 1 << 64:
        raise click.BadParameter(f"{sequence} is not an unsigned 64-bit number", param_hint="N")
    path = parse_names(words[:-1], hex_)

    def edit(tx: pybbolt.Tx) -> list[str]:
        bucket = bucket_at(tx, path)
        old = bucket.sequence
        bucket.set_sequence(sequence)
        return [f"set sequence of {where(path)}: {old} -> {sequence}"]

    run_edit(db, timeout, dry_run, edit)
