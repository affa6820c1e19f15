"""The writer's file operations, in one replaceable place.

Everything a write transaction does to the file goes through a
:class:`FileIO`: positioned writes, growth, syncs.  Tests substitute a
subclass that fails, tears or drops writes at a chosen point, to prove that a
crash anywhere in a commit leaves the last committed state readable.
"""

from __future__ import annotations

import os


class FileIO:
    """Plain POSIX file operations on a descriptor."""

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> None:
        """Write all of ``data`` at ``offset``."""
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n

    def truncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def fdatasync(self, fd: int) -> None:
        os.fdatasync(fd)

    def size(self, fd: int) -> int:
        return os.fstat(fd).st_size
