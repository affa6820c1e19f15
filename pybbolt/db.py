"""Opening a bbolt file: locking, page size discovery, mapping, meta choice."""

from __future__ import annotations

import _thread
import errno
import fcntl
import mmap
import os
import sys
import time
from _weakref import ref as _weakref  # weakref.ref, without importing weakref

from .errors import (
    AlreadyOpen,
    DatabaseNotOpen,
    DatabaseReadOnly,
    EmptyDatabaseFile,
    Error,
    FileTooSmall,
    InvalidDatabase,
    InvalidOption,
    MaxSizeReached,
    NestedWriteTx,
    Timeout,
)
from .fileio import FileIO
from .freelist import Freelist, HashmapFreelist
from .layout import (
    DEFAULT_ALLOC_SIZE,
    DEFAULT_PAGE_SIZE,
    FREELIST_PAGE,
    LEAF_PAGE,
    MAX_MAP_SIZE,
    MAX_MMAP_STEP,
    PAGE_HEADER,
    PGID_NO_FREELIST,
)
from .meta import Meta, choose, new_meta
from .page import Data
from .tx import Tx

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from .node import Node

# How long to wait between two attempts to take the file lock (bbolt: 50ms).
_LOCK_RETRY = 0.05
# After this long waiting for the lock, ``on_lock_wait`` is called (once).
_LOCK_NOTICE = 1.0
# bbolt's page size limits (a meta page is valid only within them).
_MIN_PAGE_SIZE, _MAX_PAGE_SIZE = 1024, 65536
# bbolt's DefaultMaxBatchSize and DefaultMaxBatchDelay (10 ms).
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_MAX_BATCH_DELAY = 0.01

# The files this process has open for writing, by (device, inode): a second
# writable open would wait forever on this process's own exclusive flock.
_WRITERS: dict[tuple[int, int], str] = {}
_WRITERS_LOCK = _thread.allocate_lock()
_THIS_FILE = __file__


def os_page_size() -> int:
    """The default page size of a new file: the OS page size, as bbolt uses."""
    return mmap.PAGESIZE or DEFAULT_PAGE_SIZE


class Info:
    """What ``bbolt info`` prints: the page size."""

    __slots__ = ("page_size",)

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Info) and other.page_size == self.page_size

    def __hash__(self) -> int:
        return hash(self.page_size)

    def __repr__(self) -> str:
        return f"Info(page_size={self.page_size})"


class Stats:
    """bbolt's ``DB.Stats``, in snake case (see :meth:`DB.stats`)."""

    __slots__ = ("free_alloc", "free_page_n", "freelist_inuse", "open_tx_n",
                 "pending_page_n", "tx_n")

    def __init__(self, tx_n: int, open_tx_n: int, free_page_n: int, pending_page_n: int,
                 free_alloc: int, freelist_inuse: int) -> None:
        self.tx_n = tx_n  # read transactions begun since the open
        self.open_tx_n = open_tx_n  # read transactions open now
        self.free_page_n = free_page_n  # free pages
        self.pending_page_n = pending_page_n  # pages freed but still visible to readers
        self.free_alloc = free_alloc  # bytes in free and pending pages
        self.freelist_inuse = freelist_inuse  # bytes the freelist page needs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stats) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)}" for k in self.__slots__)
        return f"Stats({fields})"


class DB:
    """An open bbolt database file.  Create one with :func:`pybbolt.open`.

    One process may hold it for writing (an exclusive ``flock``, as Go bbolt
    takes), any number for reading (a shared one).  In the process, one write
    transaction at a time and any number of read transactions, from any thread.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        timeout: float | None = None,
        page_size: int | None = None,
        mode: int = 0o600,
        no_sync: bool = False,
        no_grow_sync: bool = False,
        no_freelist_sync: bool = False,
        freelist_type: str = "array",
        initial_mmap_size: int = 0,
        max_size: int = 0,
        alloc_size: int = DEFAULT_ALLOC_SIZE,
        file_io: FileIO | None = None,
        on_lock_wait: Callable[[str], None] | None = None,
    ) -> None:
        if freelist_type not in ("array", "hashmap"):
            raise InvalidOption(
                f"freelist_type must be 'array' or 'hashmap', not {freelist_type!r}")
        _check_options(timeout, page_size)
        self.path = os.fspath(path)
        if not isinstance(self.path, str):
            self.path = os.fsdecode(self.path)
        self.readonly = readonly
        self.no_sync = no_sync
        self.no_grow_sync = no_grow_sync
        self.no_freelist_sync = no_freelist_sync
        self.freelist_type = freelist_type
        self.max_size = max_size
        self.alloc_size = alloc_size
        self._io = file_io or FileIO()
        # threading's own locks, from its C module (threading itself would
        # load functools and collections at every start-up).
        self._lock = _thread.RLock()  # guards the meta, the mapping, the readers
        self._writer = _thread.allocate_lock()  # held for the life of a write transaction
        self._writer_thread = 0  # the thread of the open write transaction
        self._readers: list[int] = []  # txids of open read transactions
        # A read-only file's free ids rebuilt by a walk (no freelist page),
        # with the meta they were rebuilt from (Tx.free_ids).
        self._rebuilt_free_ids: tuple[Meta, tuple[list[int], bool]] | None = None
        self._open_txs: dict[int, Callable[[], Tx | None]] = {}  # id -> weakref
        self._tx_n = 0  # read transactions begun
        self._file_key: tuple[int, int] | None = None  # registered in _WRITERS
        self._batch: _Batch | None = None
        self._batch_lock = _thread.allocate_lock()
        self.max_batch_size = DEFAULT_MAX_BATCH_SIZE
        """The most calls :meth:`batch` puts in one transaction (bbolt's MaxBatchSize)."""
        self.max_batch_delay = DEFAULT_MAX_BATCH_DELAY
        """Seconds :meth:`batch` waits for more calls (bbolt's MaxBatchDelay)."""
        self._meta_write_failed = False  # set by a failed meta write: no more writes
        # The branch nodes the last commit wrote, by page id, with the meta that
        # commit wrote: the next write transaction from that meta reads them here
        # instead of decoding the pages (Tx._page_node).
        self._written: tuple[Meta, dict[int, Node]] | None = None
        self._freelist: Freelist = Freelist()
        self._fd = -1
        self._data: Data = b""
        self._mmap: mmap.mmap | None = None
        self._mapped_size = -1
        flags = os.O_RDONLY if readonly else os.O_RDWR | os.O_CREAT
        try:
            self._fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), mode)
        except OSError as e:
            from .oserrors import file_error

            raise file_error("open", self.path, e) from None
        try:
            try:
                self._open_locked(readonly, timeout, page_size, initial_mmap_size,
                                  no_freelist_sync, on_lock_wait)
            except OSError as e:
                if isinstance(e, Error):
                    raise
                from .oserrors import file_error

                raise file_error("read", self.path, e) from None
        except BaseException:
            self._release()
            raise

    def _open_locked(
        self, readonly: bool, timeout: float | None, page_size: int | None,
        initial_mmap_size: int, no_freelist_sync: bool,
        on_lock_wait: Callable[[str], None] | None,
    ) -> None:
        """Lock the open file, then read (or initialise) it and map it."""
        st = os.fstat(self._fd)
        if st.st_mode & 0o170000 == 0o040000:  # S_ISDIR (a read-only open succeeds)
            from .oserrors import file_error

            raise file_error("open", self.path, IsADirectoryError(
                errno.EISDIR, os.strerror(errno.EISDIR), self.path))
        if not readonly:
            key = (st.st_dev, st.st_ino)
            with _WRITERS_LOCK:
                other = _WRITERS.get(key)
                if other is None:
                    _WRITERS[key] = self.path
                    self._file_key = key
            if other is not None:
                raise AlreadyOpen(
                    f"{self.path} is already open for writing in this process "
                    f"(as {other}): a second writable open would wait forever for "
                    "this process's own lock; use that DB, or close it first")
        notify = None if on_lock_wait is None else (lambda: on_lock_wait(self.path))
        _flock(self._fd, not readonly, timeout, self.path, notify)
        if os.fstat(self._fd).st_size == 0:
            if readonly:
                raise EmptyDatabaseFile(self.path)
            self._initialise(page_size or os_page_size())
        self.page_size = self._discover_page_size(page_size or os_page_size())
        self._map()
        size = os.fstat(self._fd).st_size
        self._datasz = mmap_size(max(size, initial_mmap_size), self.page_size)
        if not readonly:
            self._load_freelist()
            if not no_freelist_sync and not self.has_freelist:
                # bbolt persists a freelist right away (docs/FORMAT.md §7.3).
                self.begin(True).commit()

    # -- opening -----------------------------------------------------------

    def _initialise(self, page_size: int) -> None:
        """Write the four pages of a new file (docs/FORMAT.md §19) and sync."""
        buf = bytearray(page_size * 4)
        for i in (0, 1):
            page = new_meta(page_size, root=3, freelist=2, pgid=4, txid=i)
            buf[i * page_size : (i + 1) * page_size] = page.encode_page(page_size, i)
        PAGE_HEADER.pack_into(buf, 2 * page_size, 2, FREELIST_PAGE, 0, 0)
        PAGE_HEADER.pack_into(buf, 3 * page_size, 3, LEAF_PAGE, 0, 0)
        self._io.pwrite(self._fd, buf, 0)
        self._io.fdatasync(self._fd)

    def _discover_page_size(self, default: int) -> int:
        """bbolt's ``getPageSize``: meta 0's page size, else meta 1's."""
        size = os.fstat(self._fd).st_size
        readable = False
        buf = os.pread(self._fd, 4096, 0)
        if len(buf) == 4096:
            readable = True
            meta = Meta.decode(buf)
            if meta.is_valid():
                return meta.page_size
        for i in range(15):
            pos = 1024 << i
            if pos >= size - 1024:
                break
            buf = os.pread(self._fd, 4096, pos)
            if len(buf) == 4096 or len(buf) == size - pos:
                readable = True
                if len(buf) >= 80:
                    meta = Meta.decode(buf)
                    if meta.is_valid():
                        return meta.page_size
        if readable:
            return default
        raise InvalidDatabase()

    def _map(self) -> None:
        """Map the whole file read-only and load its metas."""
        size = os.fstat(self._fd).st_size
        if size < 2 * self.page_size:
            raise FileTooSmall(size)
        self._map_size(size)
        self.meta0 = Meta.decode(self._data, 16)
        self.meta1 = Meta.decode(self._data, self.page_size + 16)
        self._meta, self.active_meta_page = choose(self.meta0, self.meta1)
        if self.readonly:
            self._pad_cut_page(size)

    def _remap(self) -> None:
        """Map the file again after a commit changed its size."""
        size = os.fstat(self._fd).st_size
        if self._mmap is None or len(self._mmap) != size:
            # Open read transactions keep the old mapping object alive.
            self._map_size(size)

    def _map_size(self, size: int) -> None:
        """Map the first ``size`` bytes of the file."""
        self._mapped_size = size
        self._data = self._mmap = self._new_mapping(size)

    def _pad_cut_page(self, size: int) -> None:
        """Read a cut file as bbolt's mapping shows it.

        A mapping shows zeros past the end of the file up to the end of the
        OS page that holds it (a read beyond faults), and bbolt reads them:
        a page cut short is its bytes, then zeros.  Python maps no byte past
        the end of a file, so a file that ends inside a page, or inside an
        OS page below its high-water mark (bbolt grows files by whole pages
        before it writes them: either is a damaged copy), is read into
        memory padded with those zeros.  Only read-only: nothing writes to
        the file while this process holds its shared lock.
        """
        tail = size % mmap.PAGESIZE
        if not tail or (size % self.page_size == 0 and self._meta.pgid * self.page_size <= size):
            return
        mapping = self._mmap
        assert mapping is not None
        self._data = mapping[:] + bytes(mmap.PAGESIZE - tail)
        mapping.close()
        self._mmap = None

    def _new_mapping(self, size: int) -> mmap.mmap:
        """A read-only mapping of ``size`` bytes of the file.

        Python's mmap keeps a duplicate of the descriptor it maps, and a
        duplicate shares the flock: mapping through a second open of the same
        file keeps lingering mappings from holding bbolt's lock after close.
        """
        try:
            fd = os.open(f"/proc/self/fd/{self._fd}", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return mmap.mmap(fd, size, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)

    def _load_freelist(self) -> None:
        self._freelist = HashmapFreelist() if self.freelist_type == "hashmap" else Freelist()
        self._freelist.load(self._read_free_ids())

    def _read_free_ids(self) -> list[int]:
        tx = Tx(self, False)
        return tx.free_ids()

    def _current_meta(self) -> Meta:
        if self._fd < 0:
            raise DatabaseNotOpen()
        return self._meta

    # -- transactions ------------------------------------------------------

    def begin(self, writable: bool = False) -> Tx:
        """Start a transaction; end it with ``commit()`` or ``rollback()``.

        A second write transaction waits until the first one ends.
        """
        # Where the caller began it (file and line only: cheap), for the
        # ResourceWarning of a transaction garbage-collected while open.
        frame = sys._getframe(1)
        while frame.f_back is not None and frame.f_code.co_filename == _THIS_FILE:
            frame = frame.f_back
        begun_at = (frame.f_code.co_filename, frame.f_lineno)
        if not writable:
            with self._lock:
                tx = Tx(self, False)
                self._readers.append(tx.id)
                self._tx_n += 1
                self._track(tx, begun_at)
                return tx
        if self.readonly:
            raise DatabaseReadOnly()
        if self._meta_write_failed:
            raise Error("a commit failed writing its meta page: reopen the database to write")
        me = _thread.get_ident()
        if self._writer_thread == me and self._writer.locked():
            raise NestedWriteTx(
                f"a write transaction on {self.path} is already open in this thread: "
                "commit or roll it back before beginning another (bbolt allows one "
                "writer at a time; this one would wait for itself forever)")
        self._writer.acquire()
        try:
            with self._lock:
                tx = Tx(self, True)
                self._release_pending()
                self._writer_thread = me
                self._track(tx, begun_at)
                return tx
        except BaseException:
            self._writer.release()
            raise

    def _track(self, tx: Tx, begun_at: tuple[str, int]) -> None:
        """Remember an open transaction (weakly) and where it was begun."""
        tx._begun_at = begun_at
        self._open_txs[id(tx)] = _weakref(tx)

    def view(self) -> Tx:
        """A read-only transaction, to be used with ``with``."""
        return self.begin(False)

    def update(self) -> Tx:
        """A write transaction, to be used with ``with``: commits on success,
        rolls back if the block raises."""
        return self.begin(True)

    def batch(self, fn: Callable[[Tx], object]) -> None:
        """Run ``fn(tx)`` in a write transaction shared with concurrent callers
        (bbolt's ``Batch``); returns once that transaction has committed.

        Calls from several threads within :attr:`max_batch_delay` seconds (or
        until :attr:`max_batch_size` calls are waiting) are run one after the
        other in a single write transaction, committed once.  If ``fn``
        raises, the transaction is rolled back, ``fn`` is taken out of the
        batch and run again alone in a transaction of its own, the others are
        retried together; so ``fn`` may run more than once and must only
        change the database.  An exception ``fn`` raises alone is raised to
        its caller only.
        """
        if self._writer_thread == _thread.get_ident() and self._writer.locked():
            self.begin(True)  # raises NestedWriteTx
        with self._batch_lock:
            batch = self._batch
            if batch is None or len(batch.calls) >= self.max_batch_size:
                batch = self._batch = _Batch(self)
                leader = True
            else:
                leader = False
            call = _Call(fn)
            batch.calls.append(call)
            if len(batch.calls) >= self.max_batch_size:
                batch.full.release()  # wake the leader: the batch is ready
        if leader:
            batch.full.acquire(timeout=max(self.max_batch_delay, 0))
            batch.run()
        call.done.acquire()
        if call.solo:
            with self.update() as tx:
                fn(tx)
        elif call.error is not None:
            raise call.error

    def stats(self) -> Stats:
        """bbolt's ``DB.Stats``: transactions begun and open, free and pending pages.

        ``tx_n`` counts the read transactions begun since the open,
        ``open_tx_n`` those open now (each one keeps the pages freed after
        it began from being reused: a leak shows here first).
        """
        with self._lock:
            freelist = self._freelist
            free = len(freelist.ids)
            pending = sum(map(len, freelist.pending.values()))
            return Stats(
                tx_n=self._tx_n,
                open_tx_n=len(self._readers),
                free_page_n=free,
                pending_page_n=pending,
                free_alloc=(free + pending) * getattr(self, "page_size", 0),
                freelist_inuse=freelist.estimated_page_bytes(),
            )

    def _release_pending(self) -> None:
        """Free pages no open reader can see any more (docs/FORMAT.md §9)."""
        readers = sorted(self._readers)
        top = 0xFFFFFFFFFFFFFFFF
        minid = readers[0] if readers else top
        if minid > 0:
            self._freelist.release(minid - 1)
        for txid in readers:
            self._freelist.release_range(minid, txid - 1)
            minid = txid + 1
        self._freelist.release_range(minid, top)

    def _tx_closed(self, tx: Tx, reload_freelist: bool = False) -> None:
        self._open_txs.pop(id(tx), None)
        if not tx.writable:
            with self._lock:
                self._readers.remove(tx.id)
            return
        self._writer_thread = 0
        try:
            if reload_freelist or tx.meta.txid != self._meta.txid:
                # Not committed: undo its frees; a failed commit reloads from disk.
                self._freelist.rollback(tx.meta.txid)
                if reload_freelist:
                    self._freelist.reload(self._read_free_ids())
        finally:
            self._writer.release()

    # -- the write path (docs/FORMAT.md §10) --------------------------------------

    def _allocate(self, tx: Tx, count: int) -> int:
        """``count`` contiguous pages: from the freelist, else from the hwm."""
        pgid = self._freelist.allocate(tx.meta.txid, count)
        if pgid:
            return pgid
        pgid = tx._hwm
        minsz = (pgid + count + 1) * self.page_size
        if self.max_size > 0:
            predicted = mmap_size(minsz, self.page_size)
            if predicted > self.alloc_size:
                predicted = minsz + self.alloc_size
            if predicted > self.max_size:
                raise MaxSizeReached()
        if minsz >= self._datasz:
            size = os.fstat(self._fd).st_size
            self._datasz = mmap_size(max(size, minsz), self.page_size)
        tx._hwm += count
        return pgid

    def _grow(self, size: int) -> None:
        """Extend the file as bbolt does before writing past its end."""
        current = self._io.size(self._fd)
        if size <= current:
            return
        size = self._datasz if self._datasz <= self.alloc_size else size + self.alloc_size
        if not self.no_grow_sync:
            self._io.truncate(self._fd, size)
            self._io.fsync(self._fd)

    def _write_pages(self, pages: dict[int, bytearray]) -> None:
        for pgid in sorted(pages):
            self._io.pwrite(self._fd, pages[pgid], pgid * self.page_size)
        if not self.no_sync:
            self._io.fdatasync(self._fd)

    def _write_meta(self, meta: Meta) -> None:
        page = meta.txid % 2
        try:
            self._io.pwrite(self._fd, meta.encode_page(self.page_size, page), page * self.page_size)
            if not self.no_sync:
                self._io.fdatasync(self._fd)
        except BaseException:
            # The new meta may be in the file all the same, pointing at pages
            # this process would now hand out again: a crash during the next
            # commit would mix two commits' pages.  Reopening follows the file.
            self._meta_write_failed = True
            raise
        with self._lock:
            self._meta = meta
            if page == 0:
                self.meta0 = meta
            else:
                self.meta1 = meta
            self.active_meta_page = page
            self._remap()

    def sync(self) -> None:
        """fdatasync the file (useful with ``no_sync``)."""
        self._io.fdatasync(self._fd)

    def info(self) -> Info:
        """Basic facts about the file (bbolt's ``DB.Info``)."""
        return Info(page_size=self.page_size)

    @property
    def has_freelist(self) -> bool:
        """Whether the active meta names a persisted freelist page."""
        return self._meta.freelist != PGID_NO_FREELIST

    # -- closing -----------------------------------------------------------

    def close(self) -> None:
        """Release the file lock and the mapping (waits for a running write).

        Transactions still open are closed: using one afterwards raises
        :class:`DatabaseNotOpen`.  Closing a closed database does nothing.
        """
        if self._writer_thread == _thread.get_ident() and self._writer.locked():
            raise NestedWriteTx(
                f"close of {self.path} while this thread has a write transaction open: "
                "commit or roll it back first")
        with self._writer:
            self._release()

    def _release(self) -> None:
        with self._lock:
            for ref in list(self._open_txs.values()):
                tx = ref()
                if tx is not None and not tx.closed:
                    tx._abandon()
            self._open_txs.clear()
            self._readers.clear()
        if self._file_key is not None:
            with _WRITERS_LOCK:
                _WRITERS.pop(self._file_key, None)
            self._file_key = None
        self._data = b""
        if self._mmap is not None:
            # A view of the mapping still alive: the GC unmaps it later.
            # (try/except rather than contextlib: no import at start-up.)
            try:  # noqa: SIM105
                self._mmap.close()
            except BufferError:
                pass
            self._mmap = None
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the open failed)."""
        return self._fd < 0

    def __del__(self) -> None:
        # Garbage-collected while open: release the lock and the file, as
        # files do, with a ResourceWarning.
        if getattr(self, "_fd", -1) < 0:
            return
        try:
            import warnings

            warnings.warn(f"unclosed database {self!r}", ResourceWarning, stacklevel=1,
                          source=self)
            self._release()
        except Exception:
            pass

    def __enter__(self) -> DB:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<pybbolt.DB {self.path!r}{' readonly' if self.readonly else ''}>"


def mmap_size(size: int, page_size: int) -> int:
    """bbolt's mapping size for a file of ``size`` bytes (docs/FORMAT.md §10.7)."""
    for i in range(15, 31):
        if size <= 1 << i:
            return 1 << i
    if size > MAX_MAP_SIZE:
        raise Error("mmap too large")
    size = -(-size // MAX_MMAP_STEP) * MAX_MMAP_STEP
    size = -(-size // page_size) * page_size
    return min(size, MAX_MAP_SIZE)


def _check_options(timeout: object, page_size: object) -> None:
    """The options bbolt would take and then fail on (or hang with)."""
    if timeout is not None:
        if not isinstance(timeout, int | float) or isinstance(timeout, bool):
            raise TypeError(f"timeout must be a number of seconds or None, not {timeout!r}")
        if not timeout >= 0:  # also NaN
            raise InvalidOption(
                f"timeout must be >= 0 seconds (0 or None: wait for the lock), not {timeout!r}")
    if page_size is not None and page_size != 0:
        if not isinstance(page_size, int) or isinstance(page_size, bool):
            raise TypeError(f"page_size must be an int, not {page_size!r}")
        if not (_MIN_PAGE_SIZE <= page_size <= _MAX_PAGE_SIZE
                and page_size & (page_size - 1) == 0):
            raise InvalidOption(
                f"page_size must be a power of two from {_MIN_PAGE_SIZE} to "
                f"{_MAX_PAGE_SIZE} (bbolt's limits), not {page_size}")


def _flock(fd: int, exclusive: bool, timeout: float | None, path: str = "",
           notify: Callable[[], None] | None = None) -> None:
    """Take bbolt's flock: shared for readers, exclusive for writers.

    ``notify`` is called once after :data:`_LOCK_NOTICE` seconds of waiting.
    """
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, op)
            return
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                from .oserrors import file_error

                raise file_error("flock", path, e) from None
        waited = time.monotonic() - start
        if timeout and waited > timeout - _LOCK_RETRY:
            raise Timeout(_timeout_message(fd, exclusive, timeout, path))
        if notify is not None and waited >= _LOCK_NOTICE:
            notify()
            notify = None
        time.sleep(_LOCK_RETRY)


def _timeout_message(fd: int, exclusive: bool, timeout: float, path: str) -> str:
    """``timeout`` (bbolt's message), then the file, the wait and the holder."""
    holder = "an exclusive lock (a bbolt writer has it open)"
    if exclusive:
        try:  # a shared lock granted: the holders are readers
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            holder = "a shared lock (bbolt readers have it open)"
        except OSError:
            pass
    wanted = "an exclusive" if exclusive else "a shared"
    return (f"timeout: {path}: waited {timeout:g} s for {wanted} lock; another process "
            f"holds {holder}: close it there, or open with a longer timeout")


class _Call:
    """One caller of :meth:`DB.batch`: its function and, once run, its outcome."""

    __slots__ = ("done", "error", "fn", "solo")

    def __init__(self, fn: Callable[[Tx], object]) -> None:
        self.fn = fn
        self.done = _thread.allocate_lock()
        self.done.acquire()  # released by the batch's run
        self.error: BaseException | None = None
        self.solo = False  # fn failed in the batch: its caller runs it alone


class _Batch:
    """bbolt's ``batch``: calls run in one write transaction by the first caller."""

    __slots__ = ("calls", "db", "full")

    def __init__(self, db: DB) -> None:
        self.db = db
        self.calls: list[_Call] = []
        self.full = _thread.allocate_lock()
        self.full.acquire()  # released when max_batch_size calls wait

    def run(self) -> None:
        """bbolt's ``batch.run``: retry without each failing call until one commits."""
        db = self.db
        with db._batch_lock:
            if db._batch is self:  # no more calls join this batch
                db._batch = None
        calls = self.calls
        while calls:
            failed = -1
            error: BaseException | None = None
            try:
                with db.update() as tx:
                    for i, call in enumerate(calls):
                        try:
                            call.fn(tx)
                        except BaseException:
                            failed = i
                            raise
            except BaseException as e:
                error = e
            if failed >= 0:
                # bbolt's errTrySolo: the caller reruns its fn alone.
                call = calls[failed]
                calls[failed] = calls[-1]
                calls.pop()
                call.solo = True
                call.done.release()
                continue
            for call in calls:  # success, or the commit's own error, to everyone
                call.error = error
                call.done.release()
            break


def open(
    path: str | os.PathLike[str],
    readonly: bool = False,
    timeout: float | None = None,
    page_size: int | None = None,
    mode: int = 0o600,
    no_sync: bool = False,
    no_grow_sync: bool = False,
    no_freelist_sync: bool = False,
    freelist_type: str = "array",
    initial_mmap_size: int = 0,
    max_size: int = 0,
    on_lock_wait: Callable[[str], None] | None = None,
) -> DB:
    """Open the bbolt file at ``path``; unless read-only, create it if missing.

    ``timeout`` (seconds, >= 0; None or 0 waits forever, as bbolt) bounds
    the wait for the file lock (shared for ``readonly``, else exclusive):
    past it, :class:`Timeout` names the file and the lock another process
    holds.  ``on_lock_wait(path)`` is called once if the lock is still not
    granted after a second.  ``page_size`` (for a new file) is a power of
    two from 1024 to 65536.  The other options are bbolt's ``Options`` of
    the same names.

    Failures of the operating system raise :class:`FileError` subclasses
    that are also the matching :class:`OSError` (``FileNotFoundError``,
    ``PermissionError``, ...); a second writable open of a file this process
    has open for writing raises :class:`AlreadyOpen` at once.
    """
    return DB(
        path, readonly=readonly, timeout=timeout, page_size=page_size, mode=mode,
        no_sync=no_sync, no_grow_sync=no_grow_sync, no_freelist_sync=no_freelist_sync,
        freelist_type=freelist_type, initial_mmap_size=initial_mmap_size, max_size=max_size,
        on_lock_wait=on_lock_wait,
    )

