"""bbolt's surgery operations (``internal/surgeon`` and the ``surgery`` command).

They work on a file directly, page by page, through the raw page reader of
:mod:`pybbolt.pagefile`, without locking: the ``surgery`` command first copies
the database (:func:`copy_file`) and operates on the copy.  Error messages
are the Go tool's, wrapped the way it wraps them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from . import layout
from .errors import CorruptionError, Error
from .gotext import go_quote_str
from .layout import (
    BRANCH_PAGE,
    LEAF_PAGE,
    MAGIC,
    META,
    META_PAGE,
    PAGE_HEADER,
    PAGE_HEADER_SIZE,
    PGID_NO_FREELIST,
    VERSION,
)
from .meta import Meta, replace
from .page import ELEMENT_SIZE, element_offset, element_within, item_spans
from .pagefile import RawPageError, read_meta0_geometry, read_page, set_page_id, write_page

META_READ_SIZE = 1024
_U32 = 0xFFFFFFFF


class SurgeryError(Error):
    """A failed surgery step; the message is the Go tool's (with its wrapping)."""


def _os_text(e: OSError) -> str:
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]


# --- copying the file -------------------------------------------------------------


def copy_file(src: str, dst: str) -> None:
    """bbolt's ``common.CopyFile``: copy ``src`` to a new file ``dst``."""
    try:
        os.stat(src)
    except FileNotFoundError:
        raise SurgeryError(f"source file {go_quote_str(src)} not found") from None
    except OSError as e:
        raise SurgeryError(f"stat {src}: {_os_text(e)}") from None
    try:
        os.stat(dst)
    except OSError:
        pass
    else:
        raise SurgeryError(f"output file {go_quote_str(dst)} already exists")
    try:
        fin = open(src, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise SurgeryError(
            f"failed to open source file {go_quote_str(src)}: open {src}: {_os_text(e)}"
        ) from None
    with fin:
        try:
            fout = open(dst, "wb")  # noqa: SIM115
        except OSError as e:
            raise SurgeryError(
                f"failed to create output file {go_quote_str(dst)}: open {dst}: {_os_text(e)}"
            ) from None
        with fout:
            try:
                shutil.copyfileobj(fin, fout, 1 << 20)
                written = fout.tell()
            except OSError as e:
                raise SurgeryError(
                    f"failed to copy database file from {go_quote_str(src)} "
                    f"to {go_quote_str(dst)}: {_os_text(e)}"
                ) from None
        size = os.fstat(fin.fileno()).st_size
    if size != written:
        raise SurgeryError(
            f"the byte copied ({go_quote_str(dst)}: {written}) isn't equal to the initial db size "
            f"({go_quote_str(src)}: {size})"
        )


# --- meta pages ---------------------------------------------------------------


def read_meta_page_at(path: str, meta_page: int, page_size: int) -> tuple[Meta, bytearray]:
    """bbolt's ``ReadMetaPageAt``: the 1024 bytes at ``meta_page * page_size`` (32-bit)."""
    if meta_page > 1:
        raise SurgeryError(f"invalid metaPageId: {meta_page}")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise SurgeryError(f"open {path}: {_os_text(e)}") from None
    try:
        offset = (meta_page * page_size) & _U32
        size = os.fstat(fd).st_size
        if offset + META_READ_SIZE > size:
            raise SurgeryError("EOF")
        buf = bytearray(os.pread(fd, META_READ_SIZE, offset))
    finally:
        os.close(fd)
    if len(buf) != META_READ_SIZE:
        raise SurgeryError("EOF")
    return Meta.parse(bytes(buf)), buf


def write_meta_page_at(path: str, buf: bytes | bytearray, meta_page: int, page_size: int) -> None:
    """bbolt's ``writeMetaPageAt``."""
    if meta_page > 1:
        raise SurgeryError(f"invalid metaPageId: {meta_page}")
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as e:
        raise SurgeryError(f"open {path}: {_os_text(e)}") from None
    try:
        os.pwrite(fd, bytes(buf), (meta_page * page_size) & _U32)
    finally:
        os.close(fd)


def active_meta(path: str) -> Meta:
    """The command's ``readMetaPage``: meta 0 if its txid is larger, else meta 1."""
    try:
        page_size, _hwm = read_meta0_geometry(path)
    except RawPageError as e:
        raise SurgeryError(f"read Page size failed: {e}") from None
    metas = []
    for i in (0, 1):
        try:
            metas.append(read_meta_page_at(path, i, page_size & _U32)[0])
        except SurgeryError as e:
            raise SurgeryError(f"read meta page {i} failed: {e}") from None
    return metas[0] if metas[0].txid > metas[1].txid else metas[1]


@dataclass(frozen=True)
class MetaCheck:
    """The outcome of validating one meta page: None, or bbolt's validation error."""

    page: int
    error: Error | None


def validate_metas(path: str) -> list[MetaCheck]:
    """``surgery meta validate``: meta 0 at 0, meta 1 at meta 0's page size."""
    results = []
    page_size = 0
    for i in (0, 1):
        try:
            meta, _buf = read_meta_page_at(path, i, page_size)
        except SurgeryError as e:
            raise SurgeryError(f"read meta page {i} failed: {e}") from None
        results.append(MetaCheck(i, meta.error()))
        page_size = meta.page_size
    return results


META_FIELDS = ("pageSize", "root", "freelist", "pgid")


def update_meta(meta: Meta, fields: dict[str, int]) -> tuple[Meta, bool]:
    """bbolt's ``updateMetaField``: apply the fields, force magic/version/flags, re-sum.

    Returns the new meta and whether anything changed.
    """
    changed = False
    m = meta
    for key, value in fields.items():
        if key == "pageSize":
            m = replace(m, page_size=value & _U32)
        elif key == "root":
            m = replace(m, root=value, sequence=0)
        elif key == "freelist":
            m = replace(m, freelist=value)
        elif key == "pgid":
            m = replace(m, pgid=value)
        changed = True
    if (m.magic, m.version, m.flags) != (MAGIC, VERSION, META_PAGE):
        changed = True
    m = replace(m, magic=MAGIC, version=VERSION, flags=META_PAGE)
    checksum = m.sum64()
    if m.checksum != checksum:
        changed = True
    return replace(m, checksum=checksum), changed


def encode_meta_into(buf: bytearray, meta: Meta) -> None:
    """Store ``meta`` at offset 16 of a meta page buffer."""
    buf[PAGE_HEADER_SIZE : PAGE_HEADER_SIZE + META.size] = meta.build()


# --- page operations --------------------------------------------------------------


def copy_page(path: str, src: int, dst: int) -> None:
    """bbolt's ``surgeon.CopyPage``: page ``src`` (with overflow) written as page ``dst``."""
    page = read_page(path, src)
    write_page(path, set_page_id(page.data, dst))


def revert_meta_page(path: str) -> None:
    """bbolt's ``surgeon.RevertMetaPage``: copy the older meta over the active one."""
    meta0 = Meta.parse(read_page(path, 0).data)
    meta1 = Meta.parse(read_page(path, 1).data)
    if meta0.txid < meta1.txid:
        copy_page(path, 0, 1)
    else:
        copy_page(path, 1, 0)


def _clear_freelist_in_meta(path: str, pgid: int) -> None:
    try:
        page = read_page(path, pgid)
    except Error as e:
        raise SurgeryError(f"ReadPage {pgid} failed: {e}") from None
    buf = bytearray(page.data)
    meta = Meta.parse(bytes(buf))
    encode_meta_into(buf, meta.with_changes(freelist=PGID_NO_FREELIST))
    try:
        write_page(path, bytes(buf))
    except Error as e:
        raise SurgeryError(f"WritePage {pgid} failed: {e}") from None


def clear_freelist(path: str) -> None:
    """bbolt's ``surgeon.ClearFreelist``: abandon the freelist in both meta pages."""
    for pgid in (0, 1):
        try:
            _clear_freelist_in_meta(path, pgid)
        except SurgeryError as e:
            raise SurgeryError(f"clearFreelist on meta page {pgid} failed: {e}") from None


def _element_spans(buf: bytearray, count: int, leaf: bool) -> list[tuple[int, int, int, int, int]]:
    """bbolt's ``ReadInodeFromPage``: (flags or pgid, key offset, key size, value size)."""
    spans = []
    size = len(buf)
    for i in range(count):
        at = element_within(size, 0, i)
        if at is None:
            raise CorruptionError(f"element {i} lies outside the page")
        raw = bytes(buf[at : at + ELEMENT_SIZE])
        if leaf:
            e = layout.LeafElement.parse(raw)
            extra, pos, ksize, vsize = e.flags, e.pos, e.ksize, e.vsize
        else:
            e = layout.BranchElement.parse(raw)
            extra, pos, ksize, vsize = e.pgid, e.pos, e.ksize, 0
        if item_spans(at, pos, ksize, vsize)[2] > size:
            raise CorruptionError(f"the key/value of element {i} lies outside the page")
        if ksize == 0:
            raise CorruptionError("assertion failed: read: zero-length inode key")
        spans.append((extra, at + pos, ksize, at + pos + ksize, vsize))
    return spans


def _write_elements(buf: bytearray, spans: list[tuple[int, int, int, int, int]], leaf: bool) -> int:
    """bbolt's ``WriteInodeToPage`` in place (items alias the page, as in Go)."""
    off = element_offset(0, len(spans))
    for i, (extra, koff, ksize, voff, vsize) in enumerate(spans):
        at = element_offset(0, i)
        pos = off - at
        if leaf:
            fields = {"flags": extra, "pos": pos, "ksize": ksize, "vsize": vsize}
            buf[at : at + ELEMENT_SIZE] = layout.LeafElement.build(fields)
        else:
            fields = {"pos": pos, "ksize": ksize, "pgid": extra}
            buf[at : at + ELEMENT_SIZE] = layout.BranchElement.build(fields)
        key = bytes(buf[koff : koff + ksize])
        buf[off : off + ksize] = key
        value = bytes(buf[voff : voff + vsize])
        buf[off + ksize : off + ksize + vsize] = value
        off += ksize + vsize
    return off


def clear_page_elements(
    path: str, pgid: int, start: int, end: int, abandon_freelist: bool = False
) -> bool:
    """bbolt's ``surgeon.ClearPageElements``: drop elements ``[start, end)`` (-1: to the end).

    Returns whether the freelist should be abandoned afterwards (the page's
    overflow changed, or it is a branch page) and was not.
    """
    try:
        page = read_page(path, pgid)
    except RawPageError as e:
        raise SurgeryError(f"ReadPage failed: {e}") from None
    flags = page.header.flags
    if flags not in (LEAF_PAGE, BRANCH_PAGE):
        raise SurgeryError(f'can\'t clear elements in "{page.type_name}" page')
    count = page.header.count
    if count == 0:
        return False
    if start < 0 or start >= count:
        raise SurgeryError(f"the start index ({start}) is out of range [0, {count})")
    if (end < 0 or end > count) and end != -1:
        raise SurgeryError(f"the end index ({end}) is out of range [0, {count}]")
    if start > end and end != -1:
        raise SurgeryError(f"the start index ({start}) is bigger than the end index ({end})")
    if start == end:
        raise SurgeryError(f"invalid: the start index ({start}) is equal to the end index ({end})")
    leaf = flags == LEAF_PAGE
    buf = bytearray(page.data)
    pre_overflow = page.header.overflow
    spans = _element_spans(buf, count, leaf)
    if end in (count, -1):
        kept = spans[:start]
        used = element_offset(0, len(kept)) + sum(s[2] + s[4] for s in kept)
    else:
        kept = spans[:start] + spans[end:]
        used = _write_elements(buf, kept, leaf)
    try:
        page_size, _hwm = read_meta0_geometry(path)
    except RawPageError as e:
        raise SurgeryError(f"ReadPageAndHWMSize failed: {e}") from None
    used &= _U32
    ps32 = page_size & _U32
    if ps32 == 0:
        raise CorruptionError("runtime error: integer divide by zero")
    overflow = ((used // ps32 - 1) if used % ps32 == 0 else used // ps32) & _U32
    PAGE_HEADER.pack_into(buf, 0, page.header.id, flags, len(kept), overflow)
    size = page_size * (overflow + 1)
    if size > len(buf):
        raise CorruptionError(
            f"runtime error: slice bounds out of range [:{size}] with capacity {len(buf)}"
        )
    try:
        write_page(path, bytes(buf[:size]))
    except Error as e:
        raise SurgeryError(f"WritePage failed: {e}") from None
    if pre_overflow != overflow or flags == BRANCH_PAGE:
        if abandon_freelist:
            clear_freelist(path)
            return False
        return True
    return False


def rebuild_freelist(path: str) -> None:
    """Open ``path`` read-write and close it: bbolt writes a rebuilt freelist on open."""
    from .db import open as open_db

    try:
        db = open_db(path)
    except Error as e:
        raise SurgeryError(f"[freelist rebuild] open db file failed: {e}") from None
    except OSError as e:
        raise SurgeryError(f"[freelist rebuild] open db file failed: {_os_text(e)}") from None
    try:
        db.close()
    except Error as e:
        raise SurgeryError(f"[freelist rebuild] close db file failed: {e}") from None
