"""Opening a bbolt file: locking, page size discovery, mapping, meta choice."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
import errno
import fcntl
import mmap
import os
import threading
import time
from types import TracebackType

from .errors import DatabaseNotOpen, Error, FileTooSmall, InvalidDatabase, Timeout
from .layout import DEFAULT_PAGE_SIZE, FREELIST_PAGE, LEAF_PAGE, PAGE_HEADER, PGID_NO_FREELIST
from .meta import Meta, choose, new_meta
from .page import Data
from .tx import Tx

# How long to wait between two attempts to take the file lock (bbolt: 50ms).
_LOCK_RETRY = 0.05


def os_page_size() -> int:
    """The default page size of a new file: the OS page size, as bbolt uses."""
    return mmap.PAGESIZE or DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class Info:
    """What ``bbolt info`` prints."""

    page_size: int


class DB:
    """An open bbolt database file.  Create one with :func:`pybbolt.open`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        timeout: float | None = None,
        page_size: int | None = None,
        mode: int = 0o600,
    ) -> None:
        self.path = os.fspath(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._open_txs = 0
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
        except BaseException:
            self._release()
            raise

    # -- opening -----------------------------------------------------------

    def _initialise(self, page_size: int) -> None:
        """Write the four pages of a new file (FORMAT.md 19) and sync."""
        buf = bytearray(page_size * 4)
        for i in (0, 1):
            page = new_meta(page_size, root=3, freelist=2, pgid=4, txid=i)
            buf[i * page_size : (i + 1) * page_size] = page.encode_page(page_size, i)
        PAGE_HEADER.pack_into(buf, 2 * page_size, 2, FREELIST_PAGE, 0, 0)
        PAGE_HEADER.pack_into(buf, 3 * page_size, 3, LEAF_PAGE, 0, 0)
        os.pwrite(self._fd, bytes(buf), 0)
        os.fdatasync(self._fd)

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
        self._mmap = mmap.mmap(self._fd, size, access=mmap.ACCESS_READ)
        self._data = self._mmap
        self.meta0 = Meta.decode(self._data, 16)
        self.meta1 = Meta.decode(self._data, self.page_size + 16)
        self._meta, self.active_meta_page = choose(self.meta0, self.meta1)

    def _current_meta(self) -> Meta:
        if self._fd < 0:
            raise DatabaseNotOpen()
        return self._meta

    # -- transactions ------------------------------------------------------

    def begin(self, writable: bool = False) -> Tx:
        """Start a transaction; close it with ``rollback()`` (or ``commit()``)."""
        with self._lock:
            if self._fd < 0:
                raise DatabaseNotOpen()
            tx = Tx(self, writable)
            self._open_txs += 1
            return tx

    def view(self) -> Tx:
        """A read-only transaction, to be used with ``with``."""
        return self.begin(False)

    def _tx_closed(self, tx: Tx) -> None:
        with self._lock:
            self._open_txs -= 1

    def info(self) -> Info:
        """Basic facts about the file (bbolt's ``DB.Info``)."""
        return Info(page_size=self.page_size)

    @property
    def has_freelist(self) -> bool:
        """Whether the active meta names a persisted freelist page."""
        return self._meta.freelist != PGID_NO_FREELIST

    # -- closing -----------------------------------------------------------

    def close(self) -> None:
        """Release the file lock and the mapping."""
        self._release()

    def _release(self) -> None:
        self._data = b""
        if self._mmap is not None:
            with contextlib.suppress(BufferError):
                self._mmap.close()
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


def open(  # noqa: A001 - the natural name, as bbolt.Open
    path: str | os.PathLike[str],
    readonly: bool = False,
    timeout: float | None = None,
    page_size: int | None = None,
    mode: int = 0o600,
) -> DB:
    """Open (creating it if missing and not read-only) the bbolt file at ``path``."""
    return DB(path, readonly=readonly, timeout=timeout, page_size=page_size, mode=mode)

