"""pybbolt's own commands for the data in a store: ls, find, export, import and the edits.

bbolt has none of them.  They are click commands (registered in
:data:`cli.extra.EXTRA_COMMANDS`); the work is done by the library's engines
(:mod:`pybbolt.walk`, :mod:`pybbolt.transfer`) through the public API.
JSON outputs follow docs/JSON.md.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import click

import pybbolt
from pybbolt.errors import Error

from .textfmt import FORMAT_MODES, auto, format_bytes

if TYPE_CHECKING:
    from pybbolt.decode import Decoder
    from pybbolt.walk import Entry

# Puts per transaction when importing into a new file (the file is renamed
# into place only when all are in): bounds the memory of a large import.
NEW_FILE_TX_PAIRS = 100_000
DEFAULT_TIMEOUT = "1s"

_HEX_HELP = "Every BUCKET and KEY argument (and VALUE, --prefix, --start) is hexadecimal."


# --- arguments ------------------------------------------------------------------


def parse_names(words: Sequence[str], hex_: bool) -> list[bytes]:
    """Bucket names and keys from the command line: raw bytes, or hex with ``--hex``."""
    if not hex_:
        return [os.fsencode(word) for word in words]
    names = []
    for word in words:
        try:
            names.append(bytes.fromhex(word))
        except ValueError:
            raise click.BadParameter(f"{word!r} is not hexadecimal", param_hint="--hex") from None
    return names


def parse_timeout(text: str) -> float:
    """A Go duration (``500ms``, ``2s``) in seconds; 0 fails at once if the file is held."""
    from .godur import SECOND, parse_duration

    try:
        ns = parse_duration(text)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--timeout") from None
    if ns < 0:
        raise click.BadParameter(f"negative duration {text!r}", param_hint="--timeout")
    return max(ns / SECOND, 1e-9)  # pybbolt.open: 0 would wait forever


def show_path(path: Sequence[bytes]) -> str:
    """A bucket path for text output: names as bbolt shows keys, joined by ``/``."""
    return "/".join(auto(name).decode("utf-8", "surrogateescape") for name in path)


def _decoder(name: str | None) -> Decoder | None:
    if not name:
        return None
    from pybbolt.decode import get_decoder

    return get_decoder(name)


# --- opening ----------------------------------------------------------------------


def open_read(path: str) -> pybbolt.DB:
    """Open an existing store read-only (a shared lock, as bbolt's readers take)."""
    if not os.path.exists(path):
        raise Error(f"{path}: no such file")
    return pybbolt.open(path, readonly=True)


def open_write(path: str, timeout: str, create: bool = False) -> pybbolt.DB:
    """Open for writing with the exclusive lock, refusing a file another process holds."""
    if not create and not os.path.exists(path):
        raise Error(f"{path}: no such file")
    try:
        return pybbolt.open(path, timeout=parse_timeout(timeout))
    except pybbolt.Timeout:
        raise Error(
            f"{path} is in use by another process (no exclusive lock within {timeout}); "
            "close it or give a longer --timeout") from None


@contextlib.contextmanager
def progress(length: int | Callable[[], int], label: str) -> Iterator[Callable[[int], None] | None]:
    """click's progress bar on stderr when it is a terminal; None (no bar) otherwise.

    ``length`` may be a function, called only when there is a bar to draw.
    """
    if not sys.stderr.isatty():
        yield None
        return
    total = length() if callable(length) else length
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _entry_count(db: pybbolt.DB, paths: Sequence[Sequence[bytes]]) -> Callable[[], int]:
    def count() -> int:
        from pybbolt.walk import resolve

        with db.view() as tx:
            if not paths or not paths[0]:
                return tx.stats().key_n
            return sum(resolve(tx, p).stats().key_n for p in paths)
    return count


# --- ls -----------------------------------------------------------------------------


@click.command("ls")
@click.argument("db", metavar="DB")
@click.argument("buckets", nargs=-1, metavar="[BUCKET]...")
@click.option("-r", "--recursive", is_flag=True, help="Also list nested buckets, depth first.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (docs/JSON.md).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Stop after N entries.")
@click.option("--prefix", default=None, help="Only keys that start with this.")
@click.option("--start", default=None, help="Start at this key (or the next one).")
@click.option("--decode", default=None, metavar="NAME",
              help="Show values through a decoder (json, etcd, raft, containerd, module:function).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMAT_MODES.split("|")),
              default="auto", show_default=True, help="How text output shows values (bbolt's).")
@click.option("--hex", "hex_", is_flag=True, help=_HEX_HELP)
def ls_command(db: str, buckets: tuple[str, ...], recursive: bool, as_json: bool,
               limit: int | None, prefix: str | None, start: str | None, decode: str | None,
               fmt: str, hex_: bool) -> None:
    """List the keys of a bucket (the top level without BUCKET) with their values.

    A nested bucket shows as NAME/ (in JSON, as a bucket record).  BUCKET...
    is a path: each name is a bucket inside the previous one.  --prefix and
    --start select the keys of that bucket; -r lists its nested buckets whole.
    """
    from itertools import islice

    from pybbolt.transfer import entry_lines
    from pybbolt.walk import batches, resolve

    path = tuple(parse_names(buckets, hex_))
    key_prefix = parse_names([prefix], hex_)[0] if prefix is not None else b""
    key_start = parse_names([start], hex_)[0] if start is not None else None
    decoder = _decoder(decode)
    write = sys.stdout.write
    left = limit
    with open_read(db) as store, store.view() as tx:
        bucket = resolve(tx, path)
        for batch in batches(bucket, path, recursive, key_prefix, key_start):
            if left is not None:
                if left == 0:
                    break
                batch = list(islice(batch, left))
                left -= len(batch)
            if as_json:
                write("".join(entry_lines(batch, decoder)))
            else:
                write("".join(_ls_lines(batch, len(path), fmt, decoder)))


def _ls_lines(batch: list[Entry], base: int, fmt: str, decoder: Decoder | None) -> list[str]:
    from pybbolt.jsonfmt import dumps

    relative = batch[0].path[base:]
    head = show_path(relative) + "/" if relative else ""
    lines = []
    for entry in batch:
        key = head + auto(entry.key).decode("utf-8", "surrogateescape")
        if entry.value is None:
            lines.append(key + "/\n")
            continue
        if decoder is not None:
            value = dumps(decoder.value(entry.value, entry.key, entry.path))
        else:
            value = format_bytes(entry.value, fmt).decode("utf-8", "surrogateescape")
        lines.append(f"{key}\t{value}\n")
    return lines


# --- find ---------------------------------------------------------------------------


@click.command("find")
@click.argument("db", metavar="DB")
@click.argument("buckets", nargs=-1, metavar="[BUCKET]...")
@click.option("--key-prefix", default=None, help="Keys that start with this.")
@click.option("--key-regex", default=None, help="Keys a (Python, bytes) regular expression finds.")
@click.option("--value-regex", default=None,
              help="Values the regular expression finds (the decoded JSON with --decode).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (docs/JSON.md).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Stop after N matches.")
@click.option("--decode", default=None, metavar="NAME", help="Decode values (see ls).")
@click.option("--hex", "hex_", is_flag=True,
              help="BUCKET names and --key-prefix are hexadecimal.")
def find_command(db: str, buckets: tuple[str, ...], key_prefix: str | None,
                 key_regex: str | None, value_regex: str | None, as_json: bool,
                 limit: int | None, decode: str | None, hex_: bool) -> None:
    """Find the keys (at every level below BUCKET..., or everywhere) that match.

    Prints the bucket path, a tab and the key of each match, as they are
    found; a nested bucket whose name passes the key tests shows as its
    path and a slash.  Every test given must hold.
    """
    from pybbolt.jsonfmt import dumps
    from pybbolt.transfer import entry_lines
    from pybbolt.walk import Matcher, find

    path = parse_names(buckets, hex_)
    decoder = _decoder(decode)
    transform = None
    if decoder is not None:
        def transform(entry: Entry) -> bytes:
            assert entry.value is not None
            return dumps(decoder.value(entry.value, entry.key, entry.path)).encode()
    match = Matcher(
        parse_names([key_prefix], hex_)[0] if key_prefix is not None else None,
        os.fsencode(key_regex) if key_regex is not None else None,
        os.fsencode(value_regex) if value_regex is not None else None,
        value_of=transform,
    )
    write = sys.stdout.write
    found = 0
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_read(db))
        update = stack.enter_context(progress(_entry_count(store, [path]), "searching"))
        tx = stack.enter_context(store.view())
        for entry in find(tx, [path], match, update):
            if limit is not None and found >= limit:
                break
            found += 1
            if as_json:
                write(entry_lines([entry], decoder, values=False)[0])
            elif entry.value is None:  # a nested bucket: its path
                write(show_path((*entry.path, entry.key)) + "/\n")
            else:
                write(f"{show_path(entry.path)}\t{show_path([entry.key])}\n")


# --- export / import ----------------------------------------------------------------


@click.command("export")
@click.argument("db", metavar="DB")
@click.argument("buckets", nargs=-1, metavar="[BUCKET]...")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="Write to FILE instead of standard output.")
@click.option("--decode", default=None, metavar="NAME",
              help="Add decoded forms of the values (import ignores them).")
@click.option("--hex", "hex_", is_flag=True, help="BUCKET names are hexadecimal.")
def export_command(db: str, buckets: tuple[str, ...], output: str | None,
                   decode: str | None, hex_: bool) -> None:
    """Write the whole store, or the bucket BUCKET..., as JSON Lines.

    Every bucket (with its sequence) and every pair, depth first in key
    order; `pybbolt import` loads it back exactly.  Format: docs/JSON.md.
    """
    from pybbolt.transfer import export_lines

    path = parse_names(buckets, hex_)
    decoder = _decoder(decode)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(open_read(db))
        out = sys.stdout
        if output is not None:
            out = stack.enter_context(open(output, "w", encoding="utf-8", newline=""))
        update = stack.enter_context(progress(_entry_count(store, [path]), "exporting"))
        tx = stack.enter_context(store.view())
        write = out.write
        for lines in export_lines(tx, path, decoder, update):
            write(lines)


@click.command("import")
@click.argument("db", metavar="DB")
@click.option("-i", "--input", "input_", default="-", metavar="FILE", show_default=True,
              help="Read the JSON Lines from FILE (- for standard input).")
@click.option("--merge", is_flag=True,
              help="Write into buckets that already exist (else refuse the whole import).")
@click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True, metavar="DURATION",
              help="How long to wait for the file's exclusive lock (Go duration).")
def import_command(db: str, input_: str, merge: bool, timeout: str) -> None:
    """Load JSON Lines written by `pybbolt export` into DB (created if missing).

    All or nothing: into an existing file, one transaction; a new file is
    written beside it and renamed into place at the end.  A bucket of the
    input that already exists in DB is refused unless --merge, which writes
    into it (replacing equal keys and its sequence).
    """
    with contextlib.ExitStack() as stack:
        if input_ == "-":
            source = sys.stdin.buffer
            size = 0
        else:
            try:
                source = stack.enter_context(open(input_, "rb"))
            except OSError as e:
                raise Error(f"{input_}: {e.strerror}") from None
            size = os.fstat(source.fileno()).st_size
        first = source.readline()
        lines = _counted(first, source, stack.enter_context(
            progress(size, "importing")) if size else None)
        if os.path.exists(db):
            result = _import_existing(db, lines, merge, timeout)
        else:
            result = _import_new(db, first, lines)
    click.echo(f"imported {result.pairs} pairs, {result.buckets} buckets into {db}", err=True)


def _counted(first: bytes, rest: Iterable[bytes],
             update: Callable[[int], None] | None) -> Iterator[bytes]:
    """The lines of the input (its first line already read), reporting bytes read."""
    if first:
        if update is not None:
            update(len(first))
        yield first
    if update is None:
        yield from rest
        return
    for line in rest:
        update(len(line))
        yield line


def _import_existing(db: str, lines: Iterator[bytes], merge: bool,
                     timeout: str) -> pybbolt.transfer.ImportResult:
    from pybbolt.transfer import load

    with open_write(db, timeout) as store:
        return load(store, lines, merge)


def _import_new(db: str, first: bytes, lines: Iterator[bytes]) -> pybbolt.transfer.ImportResult:
    import tempfile

    from pybbolt.transfer import load, read_header

    page_size = read_header(first) if first else None
    directory = os.path.dirname(os.path.abspath(db))
    fd, temp = tempfile.mkstemp(prefix=os.path.basename(db) + ".", suffix=".import",
                                dir=directory)
    os.close(fd)
    try:
        with pybbolt.open(temp, page_size=page_size) as store:
            result = load(store, lines, tx_max_pairs=NEW_FILE_TX_PAIRS)
        try:
            os.link(temp, db)  # unlike a rename, never replaces a file made meanwhile
        except FileExistsError:
            raise Error(f"{db} was created by someone else during the import; "
                        "nothing written") from None
    finally:
        os.unlink(temp)
    return result
