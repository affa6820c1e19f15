"""Meta pages: the two roots of a bbolt file and how one of them is chosen."""

from __future__ import annotations

import mmap
from dataclasses import dataclass, replace

from .errors import ChecksumError, Error, InvalidDatabase, VersionMismatch
from .layout import (
    FNV_OFFSET,
    FNV_PRIME,
    MAGIC,
    META,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    VERSION,
)

# Anything a meta can be decoded from.
Buffer = bytes | bytearray | memoryview | mmap.mmap

_CHECKSUMMED = META.size - 8  # magic .. txid


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a, the meta checksum."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


@dataclass(frozen=True)
class Meta:
    """The 64-byte meta structure found at offset 16 of pages 0 and 1."""

    magic: int
    version: int
    page_size: int
    flags: int
    root: int
    sequence: int
    freelist: int
    pgid: int
    txid: int
    checksum: int

    @classmethod
    def decode(cls, buf: Buffer, offset: int = PAGE_HEADER_SIZE) -> Meta:
        """Decode the meta structure at ``offset`` of ``buf`` (no validation)."""
        return cls(*META.unpack_from(buf, offset))

    def body(self) -> bytes:
        """The checksummed bytes (magic .. txid), as stored."""
        return META.pack(*self.fields()[:-1], 0)[:_CHECKSUMMED]

    def fields(self) -> tuple[int, ...]:
        return (
            self.magic, self.version, self.page_size, self.flags, self.root,
            self.sequence, self.freelist, self.pgid, self.txid, self.checksum,
        )

    def sum64(self) -> int:
        """The checksum this meta should carry."""
        return fnv1a64(self.body())

    def error(self) -> Error | None:
        """bbolt's validation (magic, version, checksum, in that order)."""
        if self.magic != MAGIC:
            return InvalidDatabase()
        if self.version != VERSION:
            return VersionMismatch()
        if self.checksum != self.sum64():
            return ChecksumError()
        return None

    def is_valid(self) -> bool:
        return self.error() is None

    def with_changes(self, **changes: int) -> Meta:
        """A copy with fields changed and the checksum recomputed."""
        m = replace(self, **changes)
        return replace(m, checksum=m.sum64())

    def encode_page(self, page_size: int, pgid: int) -> bytes:
        """A whole meta page as bbolt writes it: header, meta, zeros."""
        buf = bytearray(page_size)
        PAGE_HEADER.pack_into(buf, 0, pgid, META_PAGE, 0, 0)
        META.pack_into(buf, PAGE_HEADER_SIZE, *self.fields())
        return bytes(buf)


def new_meta(page_size: int, root: int, freelist: int, pgid: int, txid: int) -> Meta:
    """A valid meta with the given fields (checksum computed)."""
    m = Meta(MAGIC, VERSION, page_size, 0, root, 0, freelist, pgid, txid, 0)
    return m.with_changes()


def choose(meta0: Meta, meta1: Meta) -> tuple[Meta, int]:
    """The meta bbolt uses and its page number: the newer valid one.

    Raises meta 0's error when neither is valid, as bbolt does.
    """
    first, second = (meta1, 1), (meta0, 0)
    if meta0.txid >= meta1.txid:
        first, second = second, first
    for meta, page in (first, second):
        if meta.is_valid():
            return meta, page
    err = meta0.error()
    assert err is not None
    raise err
