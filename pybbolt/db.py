"""Opening a bbolt file: locking, page size discovery, mapping, meta choice."""

from __future__ import annotations

import _thread
import errno
import fcntl
import mmap
import os
import time

from .errors import (
    DatabaseNotOpen,
    DatabaseReadOnly,
    Error,
    FileTooSmall,
    InvalidDatabase,
    MaxSizeReached,
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

# How long to wait between two attempts to take the file lock (bbolt: 50ms).
_LOCK_RETRY = 0.05


def os_page_size() -> int:
    """The default page size of a new file: the OS page size, as bbolt uses."""
    return mmap.PAGESIZE or DEFAULT_PAGE_SIZE


class Info:
    """What ``bbolt info`` prints."""

    __slots__ = ("page_size",)

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Info) and other.page_size == self.page_size

    def __hash__(self) -> int:
        return hash(self.page_size)

    def __repr__(self) -> str:
        return f"Info(page_size={self.page_size})"


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
    ) -> None:
        if freelist_type not in ("array", "hashmap"):
            raise ValueError(f"unknown freelist type {freelist_type!r}")
        self.path = os.fspath(path)
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
        self._readers: list[int] = []  # txids of open read transactions
        self._meta_write_failed = False  # set by a failed meta write: no more writes
        self._freelist: Freelist = Freelist()
        self._fd = -1
        self._data: Data = b""
        self._mmap: mmap.mmap | None = None
        flags = os.O_RDONLY if readonly else os.O_RDWR | os.O_CREAT
        try:
            self._fd = os.open(self.path, flags | getattr(os, "O_CLOEXEC", 0), mode)
        except IsADirectoryError:
            raise InvalidDatabase() from None
        except OSError as e:
            raise Error(f"open {self.path}: {e.strerror}") from e
        try:
            _flock(self._fd, exclusive=not readonly, timeout=timeout)
            if os.fstat(self._fd).st_size == 0:
                if readonly:
                    raise Error(f"write {self.path}: bad file descriptor")
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
        except BaseException:
            self._release()
            raise

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
        self._mmap = self._new_mapping(size)
        self._data = self._mmap
        self.meta0 = Meta.decode(self._data, 16)
        self.meta1 = Meta.decode(self._data, self.page_size + 16)
        self._meta, self.active_meta_page = choose(self.meta0, self.meta1)

    def _remap(self) -> None:
        """Map the file again after a commit changed its size."""
        size = os.fstat(self._fd).st_size
        if self._mmap is None or len(self._mmap) != size:
            # Open read transactions keep the old mapping object alive.
            self._mmap = self._new_mapping(size)
            self._data = self._mmap

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
        if not writable:
            with self._lock:
                tx = Tx(self, False)
                self._readers.append(tx.id)
                return tx
        if self.readonly:
            raise DatabaseReadOnly()
        if self._meta_write_failed:
            raise Error("a commit failed writing its meta page: reopen the database to write")
        self._writer.acquire()
        try:
            with self._lock:
                tx = Tx(self, True)
                self._release_pending()
                return tx
        except BaseException:
            self._writer.release()
            raise

    def view(self) -> Tx:
        """A read-only transaction, to be used with ``with``."""
        return self.begin(False)

    def update(self) -> Tx:
        """A write transaction, to be used with ``with``: commits on success,
        rolls back if the block raises."""
        return self.begin(True)

    def batch(self, fn: Callable[[Tx], None]) -> None:
        """Run ``fn`` in a write transaction and commit it (bbolt's Batch/Update)."""
        with self.update() as tx:
            fn(tx)

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
        if not tx.writable:
            with self._lock:
                self._readers.remove(tx.id)
            return
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
        """Release the file lock and the mapping (waits for a running write)."""
        with self._writer:
            self._release()

    def _release(self) -> None:
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
        return self._fd < 0

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


def _flock(fd: int, exclusive: bool, timeout: float | None) -> None:
    """Take bbolt's flock: shared for readers, exclusive for writers."""
    op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    start = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, op)
            return
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise Error(f"flock: {e.strerror}") from e
        if timeout and time.monotonic() - start > timeout - _LOCK_RETRY:
            raise Timeout()
        time.sleep(_LOCK_RETRY)


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
) -> DB:
    """Open the bbolt file at ``path``; unless read-only, create it if missing.

    ``timeout`` (seconds; None or 0 waits forever) bounds the wait for the
    file lock.  The other options are bbolt's ``Options`` of the same names.
    """
    return DB(
        path, readonly=readonly, timeout=timeout, page_size=page_size, mode=mode,
        no_sync=no_sync, no_grow_sync=no_grow_sync, no_freelist_sync=no_freelist_sync,
        freelist_type=freelist_type, initial_mmap_size=initial_mmap_size, max_size=max_size,
    )

