"""What ``pybbolt browse`` shows, without the user interface.

Everything here reads through the public library API and is independent of
Textual, so it is tested directly: buckets addressed by their path of names,
the key list's pages (a screenful read through a cursor, never the whole
bucket), the value views, and the search that streams its hits.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pybbolt.bucket import Bucket
from pybbolt.db import DB
from pybbolt.decode import get_decoder
from pybbolt.decode import names as decoder_names
from pybbolt.errors import Error
from pybbolt.jsonfmt import bytes_to_json
from pybbolt.tx import Tx

# A bucket's address: the names of the buckets from the top level down;
# () is the root, whose keys are the top-level bucket names.
BucketPath = tuple[bytes, ...]
# A key list row: (key, value), value None for a nested bucket.
Row = tuple[bytes, bytes | None]

# The value pane shows at most this much of a value (the status line gives
# the full size): rendering megabytes of text would stall the terminal.
TEXT_LIMIT = 256 * 1024
HEX_LIMIT = 64 * 1024
JSON_LIMIT = 4 * 1024 * 1024

VIEWS = ("text", "json", "hex")


class BrowseError(Error):
    """Something the browser cannot show or do, with the reason."""


# -- names ---------------------------------------------------------------------


def show_bytes(data: bytes) -> str:
    """A key or bucket name as the lists show it: its text, or ``0x`` and hex."""
    shown = bytes_to_json(data)
    if isinstance(shown, str):
        return shown
    return "0x" + data.hex()


def show_path(path: BucketPath) -> str:
    """A bucket path as ``/a/b`` (``/`` for the root)."""
    return "/" + "/".join(show_bytes(name) for name in path)


def parse_bytes(text: str, hex_input: bool) -> bytes:
    """The bytes typed in a form: UTF-8 text, or hex digits (spaces allowed)."""
    if not hex_input:
        return text.encode("utf-8", "surrogateescape")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise BrowseError(f"not hex: {text[:40]!r}") from None


# -- the database and its read transaction ---------------------------------------


class Session:
    """An open database and the read transaction the views read from.

    The views see the file as it was when the transaction began; :meth:`reread`
    starts a new one (after a commit of ours, or when another process wrote).
    """

    def __init__(self, db: DB) -> None:
        self.db = db
        self.tx: Tx = db.begin()
        self._stamp = self.file_stamp()

    @property
    def writable(self) -> bool:
        """Whether the database was opened for writing (``--write``)."""
        return not self.db.readonly

    def file_stamp(self) -> tuple[int, int]:
        """Modification time and size of the file, to notice a change."""
        st = os.stat(self.db.path)
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        """Whether the file changed since the read transaction began."""
        try:
            return self.file_stamp() != self._stamp
        except OSError:
            return True

    def reread(self) -> None:
        """End the read transaction and begin a new one: the file as it is now."""
        self.tx.rollback()
        self._stamp = self.file_stamp()
        self.tx = self.db.begin()

    def bucket(self, path: BucketPath) -> Bucket | None:
        """The bucket at ``path`` in the read transaction, or None."""
        return bucket_at(self.tx, path)

    def close(self) -> None:
        """End the transaction and close the database."""
        if not self.tx.closed:
            self.tx.rollback()
        self.db.close()

    def update(self, change: Callable[[Tx], None]) -> None:
        """Run ``change`` in one write transaction, commit it, then re-read."""
        with self.db.update() as tx:
            change(tx)
        self.reread()


def bucket_at(tx: Tx, path: BucketPath) -> Bucket | None:
    """The bucket at ``path`` in ``tx`` (the root for ``()``), or None."""
    bucket: Bucket | None = tx.root
    for name in path:
        if bucket is None:
            return None
        bucket = bucket.bucket(name)
    return bucket


def writable_bucket(tx: Tx, path: BucketPath) -> Bucket:
    """The bucket at ``path`` in a write transaction; BrowseError if it is gone."""
    bucket = bucket_at(tx, path)
    if bucket is None:
        raise BrowseError(f"bucket {show_path(path)} no longer exists")
    return bucket


# -- pages of keys ------------------------------------------------------------------


def rows_from(bucket: Bucket, start: bytes | None, count: int) -> list[Row]:
    """Up to ``count`` rows from the first key >= ``start`` (the first key if None)."""
    c = bucket.cursor()
    item = c.first() if start is None else c.seek(start)
    rows: list[Row] = []
    while item is not None and len(rows) < count:
        rows.append(item)
        item = c.next()
    return rows


def rows_after(bucket: Bucket, key: bytes, count: int) -> list[Row]:
    """Up to ``count`` rows whose keys follow ``key``."""
    c = bucket.cursor()
    item = c.seek(key)
    if item is not None and item[0] == key:
        item = c.next()
    rows: list[Row] = []
    while item is not None and len(rows) < count:
        rows.append(item)
        item = c.next()
    return rows


def rows_before(bucket: Bucket, key: bytes, count: int) -> list[Row]:
    """Up to ``count`` rows whose keys precede ``key``, in key order."""
    c = bucket.cursor()
    item = c.last() if c.seek(key) is None else c.prev()
    rows: list[Row] = []
    while item is not None and len(rows) < count:
        if item[0] < key:
            rows.append(item)
        item = c.prev()
    rows.reverse()
    return rows


def last_rows(bucket: Bucket, count: int) -> list[Row]:
    """The last ``count`` rows of the bucket, in key order."""
    c = bucket.cursor()
    item = c.last()
    rows: list[Row] = []
    while item is not None and len(rows) < count:
        rows.append(item)
        item = c.prev()
    rows.reverse()
    return rows


class Window:
    """The screenful of rows the key list shows, moved through a cursor.

    Holds at most ``height`` rows and the index of the selected one; every
    move reads only the rows it brings into view, so a bucket of any size
    opens and scrolls at the same cost.
    """

    def __init__(self, bucket: Bucket | None, height: int) -> None:
        self.bucket = bucket
        self.height = max(1, height)
        self.rows: list[Row] = []
        self.selected = 0

    @property
    def current(self) -> Row | None:
        """The selected row, or None when the bucket is empty."""
        return self.rows[self.selected] if self.rows else None

    def start_at(self, key: bytes | None) -> None:
        """Show the rows from the first key >= ``key``, that one selected.

        Near the end of the bucket the window is filled from before it, so
        the screen stays full.
        """
        if self.bucket is None:
            self.rows, self.selected = [], 0
            return
        rows = rows_from(self.bucket, key, self.height)
        if not rows:
            self.end()
            return
        if len(rows) < self.height:
            before = rows_before(self.bucket, rows[0][0], self.height - len(rows))
            self.rows, self.selected = before + rows, len(before)
        else:
            self.rows, self.selected = rows, 0

    def resize(self, height: int) -> None:
        """Change the number of rows shown, keeping the selected key."""
        height = max(1, height)
        if height == self.height:
            return
        current = self.current
        top = self.rows[0][0] if self.rows else None
        self.height = height
        if self.bucket is None:
            return
        self.rows = rows_from(self.bucket, top, height)
        if current is not None:
            self.select_key(current[0])

    def select_key(self, key: bytes) -> None:
        """Select ``key`` if shown, else show the window starting at it."""
        for i, (k, _) in enumerate(self.rows):
            if k == key:
                self.selected = i
                return
        self.start_at(key)

    def down(self, steps: int = 1) -> None:
        """Select the row ``steps`` below, scrolling the window as needed."""
        for _ in range(steps):
            if self.selected + 1 < len(self.rows):
                self.selected += 1
                continue
            if self.bucket is None or not self.rows:
                return
            more = rows_after(self.bucket, self.rows[-1][0], 1)
            if not more:
                return
            self.rows = (self.rows + more)[-self.height:]
            self.selected = len(self.rows) - 1

    def up(self, steps: int = 1) -> None:
        """Select the row ``steps`` above, scrolling the window as needed."""
        for _ in range(steps):
            if self.selected > 0:
                self.selected -= 1
                continue
            if self.bucket is None or not self.rows:
                return
            more = rows_before(self.bucket, self.rows[0][0], 1)
            if not more:
                return
            self.rows = (more + self.rows)[: self.height]
            self.selected = 0

    def page_down(self) -> None:
        """Move a screenful down (the last row when at the end)."""
        if self.bucket is None or not self.rows:
            return
        more = rows_after(self.bucket, self.rows[-1][0], self.height)
        if not more:
            self.selected = len(self.rows) - 1
            return
        self.rows = (self.rows + more)[-self.height:]
        self.selected = min(self.selected, len(self.rows) - 1)

    def page_up(self) -> None:
        """Move a screenful up (the first row when at the start)."""
        if self.bucket is None or not self.rows:
            return
        more = rows_before(self.bucket, self.rows[0][0], self.height)
        if not more:
            self.selected = 0
            return
        self.rows = (more + self.rows)[: self.height]
        self.selected = min(self.selected, len(self.rows) - 1)

    def home(self) -> None:
        """Show the first rows, the first one selected."""
        self.start_at(None)

    def end(self) -> None:
        """Show the last rows, the last one selected."""
        self.rows = last_rows(self.bucket, self.height) if self.bucket is not None else []
        self.selected = max(0, len(self.rows) - 1)


def nested_buckets(bucket: Bucket, limit: int, scan_limit: int) -> tuple[list[bytes], bool]:
    """Names of up to ``limit`` nested buckets among the first ``scan_limit``
    keys, and whether the bucket has keys past what was looked at."""
    names: list[bytes] = []
    for seen, (key, value) in enumerate(bucket.items()):
        if seen >= scan_limit or len(names) >= limit:
            return names, True
        if value is None:
            names.append(key)
    return names, False


# -- values -------------------------------------------------------------------------


def is_text(value: bytes) -> bool:
    """Whether the value is UTF-8 text without control characters (tabs and
    newlines allowed)."""
    return isinstance(bytes_to_json(value[:TEXT_LIMIT]), str)


def is_json(value: bytes) -> bool:
    """Whether the value parses as a JSON object or array."""
    head = value[:64].lstrip()[:1]
    if head not in (b"{", b"["):
        return False
    try:
        json.loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError):  # nested past Python's limit
        return False
    return True


def auto_view(value: bytes) -> str:
    """The view a value opens in, without a decoder: JSON, text, or hex."""
    if len(value) <= JSON_LIMIT and is_json(value):
        return "json"
    if is_text(value):
        return "text"
    return "hex"


def view_cycle(decoder: str | None) -> list[str]:
    """The views ``v`` steps through."""
    views = list(VIEWS)
    if decoder is not None:
        views.append(f"decoder:{decoder}")
    return views


def hexdump(data: bytes, per_line: int = 16) -> str:
    """``hexdump -C`` lines: offset, ``per_line`` bytes in two groups, the printable ASCII."""
    half = per_line // 2
    width = 3 * half - 1
    lines = []
    for offset in range(0, len(data), per_line):
        chunk = data[offset:offset + per_line]
        left = " ".join(f"{b:02x}" for b in chunk[:half])
        right = " ".join(f"{b:02x}" for b in chunk[half:])
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:08x}  {left:<{width}}  {right:<{width}}  |{ascii_}|")
    return "\n".join(lines)


def hex_per_line(width: int) -> int:
    """Bytes per hex dump line that fit ``width`` columns: 16, 8 or 4."""
    for per_line in (16, 8):
        if 10 + 3 * per_line + 2 + per_line + 2 <= width:
            return per_line
    return 4


def _text(value: bytes) -> str:
    text = value.decode("utf-8", "backslashreplace")
    # Control characters other than tab and newline would move the terminal's cursor.
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def _truncated(value: bytes, limit: int) -> tuple[bytes, str]:
    if len(value) <= limit:
        return value, ""
    return value[:limit], f"\n… {len(value) - limit:,} more bytes not shown"


def render_value(value: bytes, key: bytes, path: BucketPath, view: str, width: int = 80) -> str:
    """The value as ``view`` shows it: "text", "json", "hex" or "decoder:NAME";
    ``width`` (columns) sets the bytes per line of the hex dump."""
    if view == "hex":
        shown, note = _truncated(value, HEX_LIMIT)
        return hexdump(shown, hex_per_line(width)) + note
    if view == "json":
        if len(value) > JSON_LIMIT:
            return f"(too large for the JSON view: {len(value):,} bytes)"
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
        except (UnicodeDecodeError, ValueError) as e:
            return f"(not JSON: {e})"
        except RecursionError:
            return "(JSON nested too deeply to show)"
    if view.startswith("decoder:"):
        try:
            return decode_value(view.partition(":")[2], value, key, path)
        except BrowseError as e:
            return f"({e})"
    shown, note = _truncated(value, TEXT_LIMIT)
    return _text(shown) + note


def decode_value(name: str, value: bytes, key: bytes, path: BucketPath) -> str:
    """The value through decoder ``name``, as indented JSON; BrowseError if it fails."""
    try:
        decoded = get_decoder(name).value(value, key, path)
        return json.dumps(decoded, indent=2, ensure_ascii=False, default=str)
    except Error as e:
        raise BrowseError(f"decoder {name}: {e}") from None
    except Exception as e:  # a decoder may be the user's code: its failure is shown
        raise BrowseError(f"decoder {name} failed: {type(e).__name__}: {e}") from None


def render_auto(value: bytes, key: bytes, path: BucketPath, decoder: str | None,
                width: int = 80) -> tuple[str, str]:
    """The automatic view of a value and its text: the decoder's when it
    decodes the value, else JSON, text or hex as fits."""
    if decoder is not None:
        try:
            return f"decoder:{decoder}", decode_value(decoder, value, key, path)
        except BrowseError:
            pass  # not a value this decoder knows (another bucket's, say)
    view = auto_view(value)
    return view, render_value(value, key, path, view, width)


# Top-level bucket names that tell which program wrote a file, and the decoder
# of its values (used when that decoder is installed and --decoder is not given).
SIGNATURES = (
    ("etcd", frozenset({b"key", b"meta"})),
    ("raft", frozenset({b"logs", b"conf"})),
    ("containerd", frozenset({b"v1"})),
)


def detect_decoder(tx: Tx) -> str | None:
    """The decoder for the file's values, told by its top-level buckets, if installed."""
    top = set()
    for i, (name, _) in enumerate(tx.root.items()):
        if i >= 64:
            break
        top.add(name)
    available = set(decoder_names())
    for decoder, names in SIGNATURES:
        if names <= top and decoder in available:
            return decoder
    return None


def value_facts(key: bytes, value: bytes, bucket: Bucket, page_size: int) -> str:
    """The status line's facts about a value and where it is stored."""
    facts = [f"value {len(value):,} B"]
    # A leaf page holds a 16-byte header, and a 16-byte element and the
    # bytes of each pair: a pair bigger than a page makes its leaf overflow.
    needed = 16 + 16 + len(key) + len(value)
    if bucket.inline:
        facts.append("in an inline bucket (stored in its parent's leaf)")
    elif needed > page_size:
        pages = -(-needed // page_size)
        facts.append(f"its leaf page overflows ({pages} pages of {page_size} B)")
    else:
        facts.append(f"bucket root page {bucket.root}")
    return "; ".join(facts)


def bucket_facts(bucket: Bucket) -> str:
    """The status line's facts about a nested bucket."""
    where = "inline" if bucket.inline else f"root page {bucket.root}"
    return f"bucket, {where}, sequence {bucket.sequence}"


STATS_LINES = (
    ("Number of logical branch pages", "branch_page_n"),
    ("Number of physical branch overflow pages", "branch_overflow_n"),
    ("Number of logical leaf pages", "leaf_page_n"),
    ("Number of physical leaf overflow pages", "leaf_overflow_n"),
    ("Number of keys/value pairs", "key_n"),
    ("Number of levels in B+tree", "depth"),
    ("Bytes allocated for physical branch pages", "branch_alloc"),
    ("Bytes actually used for branch data", "branch_inuse"),
    ("Bytes allocated for physical leaf pages", "leaf_alloc"),
    ("Bytes actually used for leaf data", "leaf_inuse"),
    ("Total number of buckets", "bucket_n"),
    ("Total number on inlined buckets", "inline_bucket_n"),
    ("Bytes used for inlined buckets", "inline_bucket_inuse"),
)


def stats_text(session: Session, path: BucketPath) -> str:
    """bbolt's ``Bucket.Stats`` of the bucket at ``path`` (of all buckets for the root)."""
    if path:
        bucket = session.bucket(path)
        if bucket is None:
            raise BrowseError(f"bucket {show_path(path)} not found")
        stats = bucket.stats()
        title = f"Stats of bucket {show_path(path)} and its nested buckets"
    else:
        stats = session.tx.stats()
        title = "Stats of all buckets"
    width = max(len(label) for label, _ in STATS_LINES)
    lines = [title, ""]
    lines += [f"{label:<{width}}  {getattr(stats, name):>12,}" for label, name in STATS_LINES]
    return "\n".join(lines)


def info_text(session: Session) -> str:
    """The file's facts: path, size, page size, transaction id, lock."""
    db, tx = session.db, session.tx
    size = os.stat(db.path).st_size
    mode = "read-write (exclusive lock)" if session.writable else "read-only (shared lock)"
    return "\n".join([
        f"File       {db.path}",
        f"Size       {size:,} bytes ({size // db.info().page_size:,} pages)",
        f"Page size  {db.info().page_size:,}",
        f"Txid       {tx.id}",
        f"Opened     {mode}",
    ])


# -- search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A key whose name or value matched a search."""

    path: BucketPath
    key: bytes
    where: str  # "key", "value" or "bucket"


def matcher(pattern: str, regex: bool) -> Callable[[bytes], bool]:
    """A predicate over bytes: contains ``pattern`` (UTF-8), or matches the regex."""
    needle = pattern.encode("utf-8", "surrogateescape")
    if not regex:
        return lambda data: needle in data
    try:
        compiled = re.compile(needle)
    except re.error as e:
        raise BrowseError(f"bad regular expression: {e}") from None
    return lambda data: compiled.search(data) is not None


def _walk(bucket: Bucket, path: BucketPath) -> Iterator[tuple[BucketPath, bytes, bytes | None]]:
    for key, value in bucket.items():
        yield path, key, value
        if value is None:
            child = bucket.bucket(key)
            if child is not None:
                yield from _walk(child, (*path, key))


def search(
    db: DB,
    path: BucketPath,
    match: Callable[[bytes], bool],
    values: bool,
    emit: Callable[[list[Hit], int], None],
    stop: threading.Event,
    batch: int = 2000,
) -> tuple[int, bool]:
    """Search the bucket at ``path`` and its nested buckets, in a read
    transaction of its own; returns (keys scanned, whether it was stopped).

    ``emit(hits, scanned)`` gets the hits found every ``batch`` keys and at
    the end, so results appear while a long search runs; setting ``stop``
    ends it at the next batch.
    """
    tx = db.begin()
    try:
        start = bucket_at(tx, path)
        if start is None:
            raise BrowseError(f"bucket {show_path(path)} not found")
        hits: list[Hit] = []
        scanned = 0
        for where_path, key, value in _walk(start, path):
            scanned += 1
            if match(key):
                hits.append(Hit(where_path, key, "key" if value is not None else "bucket"))
            elif values and value is not None and match(value):
                hits.append(Hit(where_path, key, "value"))
            if scanned % batch == 0:
                emit(hits, scanned)
                hits = []
                if stop.is_set():
                    return scanned, True
        emit(hits, scanned)
        return scanned, False
    finally:
        tx.rollback()


def path_names(words: Sequence[str]) -> BucketPath:
    """A bucket path from command-line words (UTF-8 names)."""
    return tuple(os.fsencode(w) for w in words)
