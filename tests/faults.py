"""Fault injection for the writer: a :class:`pybbolt.fileio.FileIO` that records
every operation and can make the "process" die at any of them.

``FaultIO`` passes operations through to the real file until one of the
programmed faults fires:

* ``stop_at=N``: the process dies just before operation N (nothing of it is
  done); :class:`Crash` is raised and every later operation raises it again.
* ``tear_at=N, tear_len=L``: operation N, a ``pwrite``, writes only its first
  ``L`` bytes, then the process dies.
* ``fail_at=N``: operation N fails with an ``OSError`` (``fail_errno``) and is
  not done (a write does its first ``fail_len`` bytes, if given), but the
  process lives on (an I/O error, a full disk).

Besides the real file, which is what survives the death of a *process* (the
kernel keeps every completed write), it keeps a shadow *durable image*: the
bytes a *power cut* would leave.  ``fsync``/``fdatasync`` copy every pending
(unsynced) write and truncate into it; :meth:`FaultIO.power_image` materialises
a crash image from it plus any chosen subset of the pending operations, one of
them possibly torn.  Operation indices are global over the life of the object.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pybbolt.fileio import FileIO


class Crash(BaseException):
    """The simulated process died (a BaseException, as SIGKILL is no error
    the program could handle)."""


@dataclass(frozen=True)
class Op:
    """One recorded operation: ``kind`` is pwrite, truncate, fsync, fdatasync or
    size; ``offset``/``length`` for pwrite, ``length`` is the new size for truncate."""

    index: int
    kind: str
    offset: int = 0
    length: int = 0


@dataclass(frozen=True)
class Pending:
    """An operation done on the file but not yet synced."""

    op: Op
    data: bytes = b""  # the bytes of a pwrite


@dataclass(frozen=True)
class Image:
    """A materialised crash image and what went into it beyond the durable part."""

    data: bytes
    kept: frozenset[int]  # indices of pending operations applied whole
    torn: tuple[int, int] | None  # (operation index, bytes kept) of a torn one


TearLen = int | Callable[[int], int]


class FaultIO(FileIO):
    """A recording, fault-injecting FileIO with a durable-image shadow."""

    def __init__(
        self,
        durable: bytes,
        *,
        stop_at: int | None = None,
        tear_at: int | None = None,
        tear_len: TearLen = lambda n: n // 2,
        fail_at: int | None = None,
        fail_errno: int = errno.EIO,
        fail_len: int | None = None,
    ) -> None:
        self.ops: list[Op] = []
        self.durable = bytearray(durable)
        self.pending: list[Pending] = []
        self.stop_at = stop_at
        self.tear_at = tear_at
        self.tear_len = tear_len
        self.fail_at = fail_at
        self.fail_errno = fail_errno
        self.fail_len = fail_len
        self.dead = False
        self.crashed_at: int | None = None
        self.torn_len: int | None = None

    # -- the fault machinery -------------------------------------------------

    def _next(self, kind: str, offset: int = 0, length: int = 0) -> Op:
        """Record the next operation; die or fail if it is the programmed one."""
        if self.dead:
            raise Crash(f"operation after the crash at {self.crashed_at}")
        op = Op(len(self.ops), kind, offset, length)
        self.ops.append(op)
        if op.index == self.stop_at:
            self._die(op.index)
        if op.index == self.fail_at and not (kind == "pwrite" and self.fail_len):
            self._fail()
        return op

    def _fail(self) -> None:
        raise OSError(self.fail_errno, os.strerror(self.fail_errno))

    def _die(self, index: int) -> None:
        self.dead = True
        self.crashed_at = index
        raise Crash(f"crash at operation {index}")

    # -- FileIO ----------------------------------------------------------------

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
        raw = bytes(data)
        op = self._next("pwrite", offset, len(raw))
        if op.index == self.tear_at:
            keep = self.tear_len(len(raw)) if callable(self.tear_len) else self.tear_len
            keep = max(0, min(keep, len(raw) - 1))
            super().pwrite(fd, raw[:keep], offset)
            self.pending.append(Pending(Op(op.index, "pwrite", offset, keep), raw[:keep]))
            self.torn_len = keep
            self._die(op.index)
        if op.index == self.fail_at and self.fail_len:
            keep = min(self.fail_len, len(raw))
            super().pwrite(fd, raw[:keep], offset)
            self.pending.append(Pending(Op(op.index, "pwrite", offset, keep), raw[:keep]))
            self._fail()
        super().pwrite(fd, raw, offset)
        self.pending.append(Pending(op, raw))

    def truncate(self, fd: int, size: int) -> None:
        op = self._next("truncate", 0, size)
        super().truncate(fd, size)
        self.pending.append(Pending(op))

    def fsync(self, fd: int) -> None:
        self._next("fsync")
        super().fsync(fd)
        self._make_durable()

    def fdatasync(self, fd: int) -> None:
        self._next("fdatasync")
        super().fdatasync(fd)
        self._make_durable()

    def size(self, fd: int) -> int:
        self._next("size")
        return super().size(fd)

    # -- the durable image -----------------------------------------------------

    def _make_durable(self) -> None:
        for p in self.pending:
            _apply(self.durable, p.op, p.data)
        self.pending.clear()

    def power_image(self, keep: Iterable[int] = (), tear: tuple[int, int] | None = None) -> Image:
        """What a power cut now would leave: the durable image, plus the pending
        operations whose indices are in ``keep`` (applied in their order), plus
        the first ``n`` bytes of pending write ``i`` for ``tear=(i, n)``."""
        kept = frozenset(keep)
        image = bytearray(self.durable)
        for p in self.pending:
            if p.op.index in kept:
                _apply(image, p.op, p.data)
            elif tear is not None and p.op.index == tear[0]:
                assert p.op.kind == "pwrite"
                n = max(0, min(tear[1], len(p.data)))
                _apply(image, Op(p.op.index, "pwrite", p.op.offset, n), p.data[:n])
        torn = None if tear is None or tear[0] in kept else tear
        return Image(bytes(image), kept, torn)

    @property
    def pending_indices(self) -> list[int]:
        return [p.op.index for p in self.pending]

    def pending_writes(self) -> list[Pending]:
        return [p for p in self.pending if p.op.kind == "pwrite"]


def _apply(image: bytearray, op: Op, data: bytes) -> None:
    if op.kind == "truncate":
        if op.length < len(image):
            del image[op.length :]
        else:
            image.extend(bytes(op.length - len(image)))
    elif op.kind == "pwrite":
        end = op.offset + len(data)
        if end > len(image):
            image.extend(bytes(end - len(image)))
        image[op.offset : end] = data
