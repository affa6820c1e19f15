"""Meta pages: the two roots of a bbolt file and how one of them is chosen."""

from __future__ import annotations

import mmap

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


class Meta:
    """The 64-byte meta structure found at offset 16 of pages 0 and 1.

    Immutable (assigning a field raises ``AttributeError``): :func:`replace`
    and :meth:`with_changes` make changed copies.  A plain class rather than a
    frozen dataclass, for start-up time (``dataclasses`` imports ``inspect``);
    ``==``, ``hash``, ``repr`` and ``vars()`` are as the dataclass gave them.
    """

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

    def __init__(
        self,
        magic: int,
        version: int,
        page_size: int,
        flags: int,
        root: int,
        sequence: int,
        freelist: int,
        pgid: int,
        txid: int,
        checksum: int,
    ) -> None:
        self.__dict__.update(
            magic=magic, version=version, page_size=page_size, flags=flags, root=root,
            sequence=sequence, freelist=freelist, pgid=pgid, txid=txid, checksum=checksum,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of an immutable Meta")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of an immutable Meta")

    def __eq__(self, other: object) -> bool:
        if type(other) is not Meta:
            return NotImplemented
        assert isinstance(other, Meta)
        return self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"Meta({fields})"

    @classmethod
    def decode(cls, buf: Buffer, offset: int = PAGE_HEADER_SIZE) -> Meta:
        """Decode the meta structure at ``offset`` of ``buf`` (no validation)."""
        return cls(*META.unpack_from(buf, offset))

    @classmethod
    def parse(cls, buf: Buffer, offset: int = PAGE_HEADER_SIZE) -> Meta:
        """Decode the meta structure at ``offset`` of ``buf`` with the construct
        declaration (:data:`pybbolt.layout.Meta`): the cold paths' reading
        (surgery, the page dumps), same result as :meth:`decode`."""
        from . import layout

        m = layout.Meta.parse(bytes(buf[offset : offset + META.size]))
        return cls(*(m[name] for name, _ in layout.META_DECL.fields))

    def build(self) -> bytes:
        """The 64 stored bytes, built with the construct declaration (cold paths)."""
        from . import layout

        values = dict(zip((name for name, _ in layout.META_DECL.fields), self.fields()))
        raw: bytes = layout.Meta.build(values)
        return raw

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


def replace(meta: Meta, **changes: int) -> Meta:
    """A copy of ``meta`` with fields changed (as ``dataclasses.replace``; the
    checksum is kept: :meth:`Meta.with_changes` recomputes it)."""
    return Meta(**{**vars(meta), **changes})


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
