"""Export a store as JSON Lines and load such lines back (``pybbolt export/import``).

One record per line (docs/JSON.md), bytes as :mod:`pybbolt.jsonfmt` writes them:

* ``{"format":"pybbolt-export","version":1,"page_size":N}`` — the first line;
* ``{"bucket":[NAME,...],"sequence":N}`` — a bucket (its full path), before
  its entries;
* ``{"bucket":[NAME,...],"key":K,"value":V}`` — a pair of that bucket.

Records come depth first in key order, as the store's cursors give them, so
loading them appends to every bucket in order and a second export of the
loaded file gives the same lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from .errors import Error
from .jsonfmt import bytes_from_json, bytes_to_json, dumps, json_text, json_texts
from .walk import BATCH, Entry, batches, nested, path_text, resolve

if TYPE_CHECKING:
    from .bucket import Bucket
    from .db import DB
    from .decode import Decoder
    from .tx import Tx

FORMAT = "pybbolt-export"
VERSION = 1


class LoadError(Error):
    """A line that is not a record of the export format, or cannot be applied."""


def header(page_size: int) -> str:
    """The first line of an export (without its newline)."""
    return dumps({"format": FORMAT, "version": VERSION, "page_size": page_size})


def export_lines(tx: Tx, path: Sequence[bytes] = (), decoder: Decoder | None = None,
                 progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The export of the bucket at ``path`` (``()``: the whole store), line by line.

    Each line ends with a newline; lines come a leaf batch at a time (a list
    joined by the caller is the fastest way to write them).  With ``decoder``,
    pair records carry ``decoded_value`` (and ``decoded_key`` when the key
    decodes to something other than its bytes); import ignores both.
    ``progress(n)`` is called after each ``n`` entries.
    """
    bucket = resolve(tx, path)
    yield header(tx.page_size) + "\n"
    path = tuple(path)
    if path:
        yield _bucket_line(path_json(path), bucket.sequence)
    if decoder is not None:
        for batch in batches(bucket, path, recursive=True):
            yield "".join(entry_lines(batch, decoder))
            if progress is not None:
                progress(len(batch))
        return
    yield from _plain_export(bucket, path, progress, frozenset())


def _plain_export(bucket: Bucket, path: tuple[bytes, ...],
                  progress: Callable[[int], None] | None,
                  roots: frozenset[int]) -> Iterator[str]:
    """:func:`export_lines` without a decoder: the pairs of a batch formatted at once."""
    parent = path_json(path)
    pairs = bucket.items()
    while chunk := list(islice(pairs, BATCH)):
        if progress is not None:
            progress(len(chunk))
        keys, values = zip(*chunk)
        if None not in values:  # no nested bucket: the usual batch
            yield "".join([f'{{"bucket":{parent},"key":{k},"value":{v}}}\n'
                           for k, v in zip(json_texts(keys), json_texts(values))])
            continue
        for key, value in chunk:
            if value is not None:
                yield f'{{"bucket":{parent},"key":{json_text(key)},"value":{json_text(value)}}}\n'
                continue
            child, below = nested(bucket, key, path, roots)
            inner = (*path, key)
            yield _bucket_line(path_json(inner), child.sequence)
            yield from _plain_export(child, inner, progress, below)


def path_json(path: Sequence[bytes]) -> str:
    """A bucket path as the records write it: a JSON list of names."""
    return "[" + ",".join(json_texts(list(path))) + "]"


def _bucket_line(path_json: str, sequence: int) -> str:
    return f'{{"bucket":{path_json},"sequence":{sequence}}}\n'


def entry_lines(batch: Sequence[Entry], decoder: Decoder | None = None,
                values: bool = True) -> list[str]:
    """The records (lines) of a batch of entries of one bucket.

    A nested bucket is its bucket record; a pair is a pair record, without
    ``"value"`` when not ``values`` (the key listings), with the decoded
    forms when there is a ``decoder``.
    """
    path = batch[0].path
    parent = path_json(path)
    keys = json_texts([e.key for e in batch])
    texts = json_texts([e.value or b"" for e in batch]) if values else keys
    lines = []
    for entry, key, value in zip(batch, keys, texts):
        if entry.bucket is not None:
            child = parent[:-1] + ("," if path else "") + key + "]"
            lines.append(_bucket_line(child, entry.bucket.sequence))
            continue
        line = f'{{"bucket":{parent},"key":{key}'
        if values:
            line += f',"value":{value}'
        if decoder is not None:
            line += decoded_fields(decoder, path, entry.key, entry.value or b"")
        lines.append(line + "}\n")
    return lines


def decoded_fields(decoder: Decoder, path: Sequence[bytes], key: bytes, value: bytes) -> str:
    """``,"decoded_key":K`` (when it is not the key's bytes) ``,"decoded_value":V``."""
    text = ""
    decoded_key = decoder.key(key, path)
    if decoded_key != bytes_to_json(key):
        text = f',"decoded_key":{dumps(decoded_key)}'
    return text + f',"decoded_value":{dumps(decoder.value(value, key, path))}'


def read_header(line: bytes | str) -> int | None:
    """The page size named by an export's first line; None if it is not a header."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or "format" not in record:
        return None
    _check_header(record, 1)
    page_size = record.get("page_size")
    return page_size if isinstance(page_size, int) else None


def _check_header(record: dict[str, object], number: int) -> None:
    if record.get("format") != FORMAT or record.get("version") != VERSION:
        raise LoadError(
            f"line {number}: not a {FORMAT} version {VERSION} header: {dumps(record)[:80]}")


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _bytes(value: object) -> bytes:
    """:func:`bytes_from_json`, with the usual case (a plain string) first."""
    if type(value) is str:
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: bytes_from_json's rule
            pass
    return bytes_from_json(value)


class ImportResult:
    """What an import wrote."""

    __slots__ = ("buckets", "pairs")

    def __init__(self) -> None:
        self.buckets = 0  # buckets created, or merged into when given by a record
        self.pairs = 0  # pairs put

    def __repr__(self) -> str:
        return f"ImportResult(buckets={self.buckets}, pairs={self.pairs})"


class _Loader:
    """Applies records to a write transaction, keeping the bucket last written."""

    def __init__(self, tx: Tx, merge: bool) -> None:
        self.merge = merge
        self.created: set[tuple[bytes, ...]] = set()  # buckets this import made
        self.result = ImportResult()
        self.pending = 0  # puts since the transaction began
        self.reset(tx)

    def reset(self, tx: Tx) -> None:
        """Continue in a new transaction (bucket objects belong to one)."""
        self.tx = tx
        self.pending = 0
        self.last_raw: object = None
        self.last_bucket: Bucket | None = None

    def bucket(self, raw: object, number: int) -> tuple[Bucket, tuple[bytes, ...]]:
        if not isinstance(raw, list) or not raw:
            raise LoadError(f"line {number}: \"bucket\" must be a non-empty list of names")
        path = tuple(bytes_from_json(name) for name in raw)
        bucket = self.tx.root
        for depth, name in enumerate(path):
            child = bucket.bucket(name)
            if child is None:
                child = bucket.create_bucket(name)
                self.created.add(path[: depth + 1])
            bucket = child
        if path not in self.created:
            if not self.merge:
                raise LoadError(
                    f"line {number}: bucket {path_text(path)} already exists "
                    "(--merge writes into existing buckets)")
            self.created.add(path)  # merged into: no need to say it twice
        return bucket, path

    def line(self, number: int, line: bytes | str) -> None:
        try:
            # The decoder's scanner directly: json.loads costs as much again.
            text = line.decode("utf-8") if isinstance(line, bytes) else line
            record, end = _SCAN(text, 0)
            if end != len(text) and not text[end:].isspace():
                raise ValueError
        except (StopIteration, ValueError):
            try:  # the unusual line (blank, leading spaces) or an error message
                record = json.loads(line)
            except ValueError as e:
                if not line.strip():
                    return
                raise LoadError(f"line {number}: not JSON: {e}") from None
        if not isinstance(record, dict):
            raise LoadError(f"line {number}: a record is a JSON object, got {dumps(record)[:60]}")
        if "format" in record:
            _check_header(record, number)
            return
        try:
            self._apply(record, number)
        except LoadError:
            raise
        except (Error, ValueError) as e:
            raise LoadError(f"line {number}: {e}") from None

    def _apply(self, record: dict[str, object], number: int) -> None:
        raw = record.get("bucket")
        if raw == self.last_raw and self.last_bucket is not None:
            bucket = self.last_bucket
        else:
            bucket, _ = self.bucket(raw, number)
            self.last_raw, self.last_bucket = raw, bucket
        if "key" in record:
            bucket.put(_bytes(record["key"]), _bytes(record.get("value")))
            self.result.pairs += 1
            self.pending += 1
        elif "sequence" in record:
            sequence = record["sequence"]
            if type(sequence) is not int or not 0 <= sequence < 1 << 64:
                raise LoadError(f"line {number}: bad sequence {sequence!r}")
            if sequence != bucket.sequence:
                bucket.set_sequence(sequence)
            self.result.buckets += 1
        else:
            raise LoadError(f'line {number}: a record has "key" and "value", or "sequence"')


def load(db: DB, lines: Iterable[bytes | str], merge: bool = False,
         tx_max_pairs: int = 0) -> ImportResult:
    """Apply the records of ``lines`` to ``db`` (an export, or lines like its records).

    One write transaction for everything unless ``tx_max_pairs`` > 0, which
    commits after that many puts (for a new file that is renamed into place
    only at the end; an existing file must never be left half-loaded).
    A bucket that already exists is refused unless ``merge``; missing parents
    of a bucket are created.  Errors name the line.
    """
    tx = db.begin(writable=True)
    try:
        loader = _Loader(tx, merge)
        for number, line in enumerate(lines, 1):
            loader.line(number, line)
            if tx_max_pairs and loader.pending >= tx_max_pairs:
                tx.commit()
                tx = db.begin(writable=True)
                loader.reset(tx)
        tx.commit()
    except BaseException:
        if not tx.closed:
            tx.rollback()
        raise
    return loader.result


__all__ = ["FORMAT", "VERSION", "ImportResult", "LoadError", "decoded_fields", "entry_lines",
           "export_lines", "header", "load", "path_json", "read_header"]
