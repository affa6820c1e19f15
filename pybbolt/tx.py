"""Transactions: a consistent snapshot of the file (read) or a change to it (write)."""

from __future__ import annotations

import mmap
import os

from .bucket import Bucket
from .cursor import Cursor
from .errors import CorruptionError, DatabaseNotOpen, Error, TxClosed, TxNotWritable
from .fastpath import leaf_batch_keys, leaf_page_lookup, leaf_page_run
from .freelist import rebuild
from .layout import LEAF_PAGE, PAGE_HEADER, PGID_NO_FREELIST
from .meta import Meta, replace
from .node import LeafView, Node, decode_leaf, decode_page
from .page import read_freelist_ids, read_header

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import TracebackType
    from typing import BinaryIO

    from .db import DB
    from .errors import CheckError
    from .inspect import BucketStructure
    from .node import LeafRun
    from .page import Data, PageHeader
    from .stats import BucketStats

    KVStringer = Callable[[bytes], str]

# Decoded leaves kept per transaction, in page bytes (branches are few and
# always kept): enough for every leaf of a file of this size.
_LEAF_CACHE_BYTES = 32 << 20
# Pages read through the mapping before the transaction drops the mapping's
# resident pages: a walk over a big file then keeps a bounded RSS (the
# kernel's page cache still holds the file; only our page tables let go).
_RESIDENT_BYTES = 32 << 20
_MADV_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)
# Pages whose runs a scan cuts at once (Tx._leaf_runs_of), at most: the walks'
# peak RSS stays as it was with one leaf at a time.
_RUNS_AT_ONCE = 128 << 10


class Tx:
    """A read-only or read-write transaction.

    Use it as a context manager (``with db.view() as tx``); a read
    transaction is closed on exit, a write transaction from
    :meth:`DB.update` commits on success and rolls back on an exception.
    A transaction garbage-collected while open is rolled back with a
    :class:`ResourceWarning` naming the line that began it.
    """

    # (file, line) of the caller of DB.begin; None for the internal ones.
    _begun_at: tuple[str, int] | None = None
    # Set when db.close() ended the transaction (uses raise DatabaseNotOpen).
    _abandoned = False

    def __init__(self, db: DB, writable: bool) -> None:
        self._db = db
        self.writable = writable
        self.closed = False
        meta = db._current_meta()
        if writable:
            meta = replace(meta, txid=meta.txid + 1)
        self.meta: Meta = meta
        self._data: Data = db._data
        self._page_size = db.page_size
        self._branches: dict[int, Node] = {}
        self._leaves: dict[int, Node] = {}
        self._leaf_cache_limit = max(_LEAF_CACHE_BYTES // max(self._page_size, 1), 64)
        self._runs_at_once = max(_RUNS_AT_ONCE // max(self._page_size, 1), 1)
        self._reads_left = self._resident_pages = max(
            _RESIDENT_BYTES // max(self._page_size, 1), 64)
        self._root = Bucket(self, meta.root, meta.sequence, None, b"")
        # Write state: pages written by the commit, the branch nodes among
        # them, and the high-water mark.
        self._dirty: dict[int, bytearray] = {}
        self._written: dict[int, Node] = {}
        self._hwm = meta.pgid
        # The branch nodes of the pages the commit of this meta wrote
        # (DB._written), taken by the first write transaction begun from it:
        # they stand in for decoding those pages (the next commit rewrites the
        # same paths).  Branches only: they are few, while keeping a commit's
        # leaves alive until the next one more than doubled the memory of a
        # load of 100,000 pairs a transaction, for no time saved.
        self._carried: dict[int, Node] = {}
        written = db._written
        if writable and written is not None:
            db._written = None
            if written[0] is db._current_meta():
                self._carried = written[1]

    # -- properties --------------------------------------------------------

    @property
    def db(self) -> DB:
        """The database this transaction belongs to."""
        return self._db

    @property
    def id(self) -> int:
        """The transaction id (for a read, that of the meta it started from)."""
        return self.meta.txid

    @property
    def size(self) -> int:
        """Size of the database as this transaction sees it: hwm * page size."""
        return self.meta.pgid * self._page_size

    @property
    def page_size(self) -> int:
        """The database's page size in bytes."""
        return self._page_size

    @property
    def root(self) -> Bucket:
        """The root bucket, whose keys are the top-level bucket names."""
        return self._root

    # -- buckets -----------------------------------------------------------

    def bucket(self, *names: bytes) -> Bucket | None:
        """The bucket at the path ``names`` (a top-level bucket, then the
        buckets nested in it, outermost first), or None if any is missing."""
        return self._root.bucket(*names)

    def __getitem__(self, name: bytes) -> Bucket:
        """The top-level bucket ``name``; raises KeyError if there is none."""
        bucket = self._root.bucket(name)
        if bucket is None:
            raise KeyError(name)
        return bucket

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """The top-level buckets in key order, as ``(name, bucket)``."""
        return self._root.buckets()

    def cursor(self) -> Cursor:
        """A cursor over the top-level bucket names (values are None)."""
        return self._root.cursor()

    def create_bucket(self, name: bytes) -> Bucket:
        """Create the top-level bucket ``name``."""
        return self._root.create_bucket(name)

    def create_bucket_if_not_exists(self, name: bytes) -> Bucket:
        """The top-level bucket ``name``, created if missing."""
        return self._root.create_bucket_if_not_exists(name)

    def delete_bucket(self, name: bytes) -> None:
        """Delete the top-level bucket ``name`` and everything in it."""
        self._root.delete_bucket(name)

    def move_bucket(self, name: bytes, source: Bucket | None, destination: Bucket | None) -> None:
        """Move bucket ``name`` from ``source`` to ``destination`` (None = top level)."""
        src = self._root if source is None else source
        src.move_bucket(name, self._root if destination is None else destination)

    # -- engines -----------------------------------------------------------

    def check(
        self, page_id: int = 0, kv_stringer: KVStringer | None = None
    ) -> Iterator[CheckError]:
        """bbolt's consistency check: yields each problem found, in bbolt's order.

        ``page_id`` checks only the subtree of that page; ``kv_stringer``
        formats keys in messages (default: lowercase hex, as bbolt's library).
        """
        from .check import check

        if self.closed:
            raise self._closed_error()
        return check(self, page_id=page_id, kv_stringer=kv_stringer)

    def stats(self) -> BucketStats:
        """Statistics of all top-level buckets added together (bbolt's ``stats`` command)."""
        from .stats import tx_stats

        if self.closed:
            raise self._closed_error()
        return tx_stats(self)

    def inspect(self) -> BucketStructure:
        """The tree of buckets with their key counts (bbolt's ``Tx.Inspect``)."""
        from .inspect import inspect_tree

        if self.closed:
            raise self._closed_error()
        return inspect_tree(self)

    def free_ids(self) -> list[int]:
        """Free page ids: the freelist page's, or rebuilt by a reachability scan."""
        if self.meta.freelist == PGID_NO_FREELIST:
            return list(self._rebuilt_free_ids()[0])
        return read_freelist_ids(self._data, self.meta.freelist, self._page_size)

    def free_ids_walked(self) -> bool:
        """Whether :meth:`free_ids` came from a walk of every bucket (no
        freelist page) that reached no meta page, kept for this read-only
        file: the check's own walk would repeat it and find nothing.

        Raises as :meth:`free_ids` does.
        """
        if self.meta.freelist != PGID_NO_FREELIST or not self._db.readonly:
            return False
        return not self._rebuilt_free_ids()[1]

    def _rebuilt_free_ids(self) -> tuple[list[int], bool]:
        # A read-only file does not change while it is open: the walk is
        # done once per open (bbolt's freepages), not once per caller.
        db = self._db
        cached = db._rebuilt_free_ids
        if cached is not None and cached[0] is self.meta:
            return cached[1]
        rebuilt = rebuild(self)
        if db.readonly:
            db._rebuilt_free_ids = (self.meta, rebuilt)
        return rebuilt

    # -- pages -------------------------------------------------------------

    def page_header(self, pgid: int) -> PageHeader:
        """The header of page ``pgid`` as stored in the file."""
        dirty = self._dirty.get(pgid)
        if dirty is not None:
            return read_header(dirty, 0)
        offset = pgid * self._page_size
        if offset + self._page_size > len(self._data):
            raise CorruptionError(
                f"page {pgid}: beyond the end of the file "
                f"({len(self._data) // self._page_size} pages)"
            )
        return read_header(self._data, offset)

    def _page_node(self, pgid: int, cache: bool = True, counted: bool = True) -> Node:
        """The decoded branch or leaf page ``pgid``.

        Branches are cached for the life of the transaction; leaves in a
        bounded cache that keeps what it has once full, unless ``cache`` is
        false (a full scan reads each leaf once and should not evict the
        others).  ``counted``: the read counts towards the mapping's release
        (false for a lookup's, see :meth:`_lookup_page`).
        """
        node = self._branches.get(pgid)
        if node is not None:
            return node
        node = self._leaves.get(pgid)
        if node is not None:
            return node
        written = self._carried.pop(pgid, None) if self._carried else None
        if written is not None and written.keys:
            node = written.as_read()  # the page as the last commit wrote it
        else:
            data, size = self._data, self._page_size
            offset = pgid * size
            if offset + size > len(data):
                raise CorruptionError(
                    f"page {pgid}: beyond the end of the file ({len(data) // size} pages)"
                )
            ident, flags, count, overflow = PAGE_HEADER.unpack_from(data, offset)
            if flags == LEAF_PAGE and ident == pgid:  # decode_page's own first test
                node = decode_leaf(data, offset, count, pgid)
            else:
                node = decode_page(data, offset, pgid)
            if counted:
                self._note_reads(1 + overflow)  # the page and its overflow
        if not node.is_leaf:
            self._branches[pgid] = node
        elif cache and len(self._leaves) < self._leaf_cache_limit:
            # Once full, the cache keeps what it has: evicting would keep
            # every decoded leaf alive long enough to reach the garbage
            # collector's older generations, whose passes then cost more
            # than the hits save (random reads over a big file).
            self._leaves[pgid] = node
        return node

    def _lookup_page(self, pgid: int, counted: bool = False) -> Node | LeafView:
        """Page ``pgid`` for one lookup, past the caches its caller has looked
        in: as :meth:`_page_node` while the leaf cache has room, then a leaf it
        would not keep comes as a view of its run (no node); branches are
        always nodes, and cached.

        The pages of a key's lookup (``Bucket.get``, ``in``) do not count
        towards the mapping's release (:meth:`_note_reads`); with ``counted``
        (the opening of a nested bucket, :meth:`_counted_lookup_page`) they
        do.  The release bounds the RSS of the walks that read a whole file
        (check, stats, keys, compact, each nested bucket opened on the way);
        random gets read pages all over the file, again and again, and each
        release made every one of them fault back in at its next read (a
        fifth of the CPU time of 100,000 random gets over a 300 MB file, all
        of it in the kernel).  What gets leave mapped is the file's clean page
        cache, shared with the kernel, which takes it back under memory
        pressure: bbolt's and lmdb's mappings keep it the same way.  A walk in
        the same transaction still releases it all when its own reads count
        up to the quota.
        """
        if len(self._leaves) < self._leaf_cache_limit:
            return self._page_node(pgid, True, counted)
        data, offset = self._data, pgid * self._page_size
        if offset + self._page_size <= len(data) and isinstance(data, mmap.mmap):
            run = leaf_page_lookup(data, offset, pgid)
            if run is not None:
                if counted:
                    self._note_reads(1)
                return LeafView(run)
        return self._page_node(pgid, False, counted)

    def _counted_lookup_page(self, pgid: int) -> Node | LeafView:
        """:meth:`_lookup_page` whose pages count towards the release."""
        return self._lookup_page(pgid, True)

    def _adopt_node(self, pgid: int) -> Node:
        """A node of page ``pgid`` that the caller may change (and keep).

        A decoded leaf leaves the cache and is handed over as it is (its
        bucket's dirty node stands in for the page from now on); branches,
        which stay cached, and leaves read anew are copies or fresh decodes.
        """
        node = self._leaves.pop(pgid, None)
        if node is None:
            node = self._page_node(pgid, False)
            if not node.is_leaf:
                node = node.copy()
        return node

    def _walk_page(self, pgid: int, keys_only: bool = False) -> Node | LeafRun:
        """Page ``pgid`` for a walk that visits each leaf once.

        A cached node if there is one, a branch node (then cached), else the
        leaf's run cut straight from the page: no node, no cache eviction
        (``keys_only``: see :func:`~pybbolt.fastpath.leaf_run`).
        """
        node = self._branches.get(pgid)
        if node is None:
            node = self._leaves.get(pgid)
        if node is not None:
            return node
        data, offset = self._data, pgid * self._page_size
        if offset + self._page_size <= len(data) and isinstance(data, mmap.mmap):
            run = leaf_page_run(data, offset, pgid, keys_only)
            if run is not None:
                self._reads_left -= 1  # _note_reads(1), inline: once a leaf
                if self._reads_left <= 0:
                    self._release_mapping()
                return run
        return self._page_node(pgid, False)

    def _leaf_runs_of(self, pgids: Sequence[int]) -> list[LeafRun] | None:
        """The runs of leaf pages ``pgids`` cut at once (a scan's children of a
        branch), or None where one is cached, is not a leaf that
        :func:`~pybbolt.fastpath.leaf_page_run` cuts, or makes it raise: then
        :meth:`_walk_page` reads each, in order, and raises where it must.
        The runs are held together until the scan has handed them out: the
        scan asks for at most :attr:`_runs_at_once` pages at a time."""
        data, size = self._data, self._page_size
        if (not isinstance(data, mmap.mmap) or not pgids
                or (max(pgids) + 1) * size > len(data)
                or any(map(self._leaves.__contains__, pgids))
                or any(map(self._branches.__contains__, pgids))):
            return None
        try:
            runs = [leaf_page_run(data, pgid * size, pgid) for pgid in pgids]
        except Exception:
            return None
        if None in runs:
            return None
        self._note_reads(len(runs))
        return runs  # type: ignore[return-value]  # no None in it

    def _leaf_keys(self, pgids: Sequence[int]) -> list[bytes] | None:
        """The keys of leaf pages ``pgids`` read at once, or None where
        :func:`~pybbolt.fastpath.leaf_batch_keys` declines or a page has a
        cached node (then :meth:`_walk_page` reads each)."""
        data = self._data
        if not isinstance(data, mmap.mmap) or any(
            map(self._leaves.__contains__, pgids)
        ) or any(map(self._branches.__contains__, pgids)):
            return None
        found = leaf_batch_keys(data, self._page_size, pgids)
        if found is None:
            return None
        # A leaf's overflow pages count as read: the kernel maps the cached
        # pages around each page fault, so they become resident all the same.
        self._note_reads(found[1])
        return found[0]

    def _note_reads(self, pages: int) -> None:
        """Count pages read through the mapping (by this tx or a walk of its own)."""
        self._reads_left -= pages
        if self._reads_left <= 0:
            self._release_mapping()

    def _release_mapping(self) -> None:
        """Drop the mapping's resident pages (they fault back in when read)."""
        self._reads_left = self._resident_pages
        data = self._data
        if isinstance(data, mmap.mmap) and _MADV_DONTNEED is not None and not data.closed:
            data.madvise(_MADV_DONTNEED)

    def _max_leaf_visits(self) -> int:
        return len(self._data) // max(self._page_size, 1) + 1  # a damaged meta's size 0

    def page_bytes(self, pgid: int) -> bytes:
        """The raw bytes of page ``pgid`` including its overflow pages."""
        header = self.page_header(pgid)
        offset = pgid * self._page_size
        end = offset + (header.overflow + 1) * self._page_size
        if end > len(self._data):
            raise CorruptionError(f"page {pgid}: overflow runs past the end of the file")
        return bytes(self._data[offset:end])

    # -- writing -----------------------------------------------------------

    def _allocate(self, count: int) -> int:
        return self._db._allocate(self, count)

    def _free_page(self, pgid: int) -> None:
        """Make page ``pgid`` (with its overflow) pending in this transaction."""
        data, size = self._data, self._page_size
        offset = pgid * size
        if offset >= 0 and offset + size <= len(data) and pgid not in self._dirty:
            overflow = PAGE_HEADER.unpack_from(data, offset)[3]  # page_header's, as one field
        else:
            overflow = self.page_header(pgid).overflow
        self._db._freelist.free(self.meta.txid, pgid, overflow)

    def commit(self) -> None:
        """Write the changes to the file (docs/FORMAT.md §10.2); durable on return."""
        if self.closed:
            raise self._closed_error()
        if not self.writable:
            raise TxNotWritable()
        db = self._db
        try:
            self._root._rebalance()
            opgid = self._hwm
            self._root._spill()
            freelist_pgid = self.meta.freelist
            if freelist_pgid != PGID_NO_FREELIST:
                self._free_page(freelist_pgid)
            if db.no_freelist_sync:
                freelist_pgid = PGID_NO_FREELIST
            else:
                freelist = db._freelist
                count = freelist.estimated_page_bytes() // self._page_size + 1
                freelist_pgid = self._allocate(count)
                self._dirty[freelist_pgid] = freelist.encode(
                    freelist_pgid, count * self._page_size, count - 1
                )
            self.meta = self.meta.with_changes(
                root=self._root.root, freelist=freelist_pgid, pgid=self._hwm
            )
            if self._hwm > opgid:
                db._grow((self._hwm + 1) * self._page_size)
            db._write_pages(self._dirty)
            db._write_meta(self.meta)
            db._written = (self.meta, self._written)
        except BaseException as e:
            self._close(reload_freelist=True)
            if isinstance(e, OSError) and not isinstance(e, Error):
                from .oserrors import file_error

                raise file_error("write", db.path, e) from None
            raise
        self._close()

    def rollback(self) -> None:
        """End the transaction, discarding any change."""
        if self.closed:
            raise self._closed_error()
        self._close()

    def _close(self, reload_freelist: bool = False) -> None:
        self.closed = True
        self._branches.clear()
        self._leaves.clear()
        self._dirty = {}
        self._db._tx_closed(self, reload_freelist)
        self._data = b""

    def _abandon(self) -> None:
        """Closed by ``db.close()``: from now on every use raises DatabaseNotOpen."""
        self.closed = True
        self._abandoned = True
        self._branches.clear()
        self._leaves.clear()
        self._dirty = {}
        self._data = b""

    def _closed_error(self) -> Error:
        """What using this closed transaction raises."""
        return DatabaseNotOpen() if self._abandoned else TxClosed()

    def __del__(self) -> None:
        # Garbage-collected while open: roll back so that its pages can be
        # reused and a writer's lock is released, and say where it began.
        begun_at = self._begun_at
        if begun_at is None or self.closed:
            return
        try:
            self._close()
            import warnings

            kind = "write" if self.writable else "read"
            warnings.warn(
                f"unclosed {kind} transaction {self!r} (begun at {begun_at[0]}:{begun_at[1]}) "
                "was rolled back: use 'with db.view() as tx' or call tx.rollback()",
                ResourceWarning, stacklevel=1, source=self)
        except Exception:
            pass

    # -- backup --------------------------------------------------------------

    def write_to(self, out: BinaryIO) -> int:
        """Write a consistent copy of the database as of this transaction.

        Returns the number of bytes written (``tx.size``): two meta pages made
        from this transaction's meta, then pages 2 .. hwm-1 (docs/FORMAT.md §16).
        """
        if self.closed:
            raise self._closed_error()
        ps = self._page_size
        meta = self.meta
        written = out.write(meta.with_changes().encode_page(ps, 0))
        older = meta.with_changes(txid=max(meta.txid - 1, 0))
        written += out.write(older.encode_page(ps, 1))
        step = 256
        # bbolt copies from the file, not the mapping: the zeros a mapping
        # shows past the end of a truncated file are not copied.
        size = min(len(self._data), self._db._mapped_size)
        for first in range(2, meta.pgid, step):
            last = min(first + step, meta.pgid)
            chunk = self._data[first * ps : min(last * ps, size)]
            if len(chunk) != (last - first) * ps:
                raise CorruptionError(f"page {first}: beyond the end of the file")
            written += out.write(chunk)
        return written

    def copy_file(self, path: str | os.PathLike[str], mode: int = 0o600) -> None:
        """Write a consistent copy of the database to ``path`` (bbolt's CopyFile)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as out:
            self.write_to(out)

    def __enter__(self) -> Tx:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close a read transaction; commit a write one, or roll it back on error."""
        if self.closed:
            return
        if self.writable and exc_type is None:
            self.commit()
        else:
            self._close()

    def __repr__(self) -> str:
        kind = "write" if self.writable else "read"
        return f"<pybbolt.Tx {kind} id={self.id}>"

