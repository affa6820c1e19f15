"""pybbolt.meta: the meta page's fields, checksum, validation and choice.

Expected values: the published FNV-1a 64 test vectors, the meta pages of
Go-written fixtures with what Go recorded about them in the manifest
(tests/fixtures/manifest.json: ``meta`` and ``active_meta_page``), and
bytes packed by hand in bbolt's layout (magic, version, pageSize, flags,
root {pgid, sequence}, freelist, pgid, txid, checksum: u32 x 4, u64 x 6).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from pybbolt import ChecksumError, InvalidDatabase, VersionMismatch
from pybbolt.meta import Meta, choose, fnv1a64, new_meta, replace

from .conftest import FIXTURES

MAGIC = 0xED0CDAED
MANIFEST = FIXTURES / "manifest.json"


def manifest() -> list[dict[str, Any]]:
    return list(json.loads(MANIFEST.read_text(encoding="utf-8"))["databases"])


def meta_bytes(page_size: int = 4096, root: int = 3, freelist: int = 2, pgid: int = 4,
               txid: int = 1, magic: int = MAGIC, version: int = 2, flags: int = 0,
               sequence: int = 0, checksum: int | None = None) -> bytes:
    """A meta structure packed by hand; checksum: FNV-1a of the first 56 bytes."""
    body = struct.pack("<IIIIQQQQQ", magic, version, page_size, flags, root, sequence,
                       freelist, pgid, txid)
    return body + struct.pack("<Q", fnv1a64(body) if checksum is None else checksum)


def test_fnv1a64_vectors() -> None:
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a64(b"foobar") == 0x85944171F73967E8


def test_decode_field_order() -> None:
    raw = meta_bytes(page_size=8192, root=7, freelist=9, pgid=11, txid=13, flags=5,
                     sequence=6, checksum=0x1122334455667788)
    m = Meta.decode(raw, 0)
    assert m.fields() == (MAGIC, 2, 8192, 5, 7, 6, 9, 11, 13, 0x1122334455667788)
    assert Meta.decode(bytes(16) + raw) == m  # default offset: after the page header
    assert m.body() == raw[:56]


def test_go_meta_pages() -> None:
    """Both meta pages of every fixture: valid, checksummed as Go wrote them,
    and the chosen one is the one Go reports, with Go's fields."""
    for entry in manifest():
        data = (FIXTURES / entry["path"]).read_bytes()
        ps = entry["page_size"]
        m0, m1 = Meta.decode(data, 16), Meta.decode(data[ps:], 16)
        for i, m in enumerate((m0, m1)):
            assert m.error() is None, (entry["path"], i)
            assert m.checksum == fnv1a64(data[i * ps + 16: i * ps + 72]), entry["path"]
            assert m.encode_page(ps, i) == data[i * ps: (i + 1) * ps], entry["path"]
        active, page = choose(m0, m1)
        assert page == entry["active_meta_page"], entry["path"]
        want = entry["meta"]
        got = {"txid": active.txid, "root": active.root, "freelist": active.freelist,
               "pgid": active.pgid, "flags": active.flags}
        assert got == want, entry["path"]
        assert active.page_size == ps


def test_validation_order_and_messages() -> None:
    ok = Meta.decode(meta_bytes(), 0)
    assert ok.error() is None and ok.is_valid()
    bad_magic = Meta.decode(meta_bytes(magic=MAGIC + 1, version=3), 0)
    err = bad_magic.error()
    assert isinstance(err, InvalidDatabase) and str(err) == "invalid database"  # magic first
    bad_version = Meta.decode(meta_bytes(version=1, checksum=0), 0)
    err = bad_version.error()
    assert isinstance(err, VersionMismatch) and str(err) == "version mismatch"
    for checksum in (ok.checksum + 1, ok.checksum ^ (1 << 63), 0):
        err = Meta.decode(meta_bytes(checksum=checksum), 0).error()
        assert isinstance(err, ChecksumError) and str(err) == "checksum error"


def test_checksum_covers_every_field_before_it() -> None:
    base = meta_bytes()
    ok = Meta.decode(base, 0)
    for off in range(56):
        raw = bytearray(base)
        raw[off] ^= 0x01
        m = Meta.decode(bytes(raw), 0)
        assert not m.is_valid(), off
    # the checksum field itself is not checksummed: only its value matters
    assert ok.sum64() == fnv1a64(base[:56]) == struct.unpack_from("<Q", base, 56)[0]


def test_choose() -> None:
    def m(txid: int, valid: bool = True, magic: int = MAGIC) -> Meta:
        return Meta.decode(meta_bytes(txid=txid, magic=magic, checksum=None if valid else 1), 0)

    assert choose(m(4), m(5)) == (m(5), 1)
    assert choose(m(6), m(5)) == (m(6), 0)
    assert choose(m(5), m(5)) == (m(5), 0)  # a tie: meta 0
    assert choose(m(4), m(5, valid=False)) == (m(4), 0)  # the newer is invalid
    assert choose(m(6, valid=False), m(5)) == (m(5), 1)
    # neither valid: meta 0's error, whatever meta 1's
    with pytest.raises(ChecksumError):
        choose(m(6, valid=False), m(5, magic=0))
    with pytest.raises(InvalidDatabase):
        choose(m(6, magic=0), m(7, valid=False))


def test_new_meta_and_changes() -> None:
    m = new_meta(4096, root=3, freelist=2, pgid=4, txid=1)
    assert m.fields()[:-1] == (MAGIC, 2, 4096, 0, 3, 0, 2, 4, 1)
    assert m.checksum == fnv1a64(meta_bytes()[:56])
    n = m.with_changes(txid=2, pgid=5)
    assert (n.txid, n.pgid, n.root) == (2, 5, 3) and n.is_valid()
    assert n.checksum == fnv1a64(meta_bytes(txid=2, pgid=5)[:56])
    kept = replace(m, txid=9)  # replace keeps the old checksum
    assert kept.checksum == m.checksum and not kept.is_valid()


def test_encode_page_bytes() -> None:
    m = new_meta(4096, root=3, freelist=2, pgid=4, txid=1)
    page = m.encode_page(4096, 1)
    assert len(page) == 4096
    assert page[:16] == struct.pack("<QHHI", 1, 0x04, 0, 0)
    assert page[16:80] == meta_bytes()
    assert not any(page[80:])


def test_immutable_and_equal_by_fields() -> None:
    m = new_meta(4096, 3, 2, 4, 1)
    with pytest.raises(AttributeError):
        m.txid = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del m.root
    assert m == new_meta(4096, 3, 2, 4, 1) and hash(m) == hash(new_meta(4096, 3, 2, 4, 1))
    assert m != m.with_changes(txid=2)


def test_parse_and_build_with_the_declaration() -> None:
    """The construct declaration's reading and writing: the hand-packed bytes
    at any offset, the same fields as :meth:`Meta.decode`."""
    raw = meta_bytes(page_size=8192, root=7, freelist=9, pgid=11, txid=13, flags=5,
                     sequence=6, checksum=0x1122334455667788)
    buf = b"\xff" * 16 + raw + b"\xee" * 8  # neighbours that must not be read
    m = Meta.parse(buf)
    assert m.fields() == (MAGIC, 2, 8192, 5, 7, 6, 9, 11, 13, 0x1122334455667788)
    assert Meta.parse(raw + b"\xee", 0) == m == Meta.decode(buf)
    assert Meta.parse(b"\x00" * 3 + raw, 3) == m
    assert m.build() == raw
    assert new_meta(4096, root=3, freelist=2, pgid=4, txid=1).build() == meta_bytes()


def test_hash_repr_and_vars_as_a_frozen_dataclass() -> None:
    """The class promises ``==``, ``hash``, ``repr`` and ``vars()`` as a frozen
    dataclass of the same fields would give them: that dataclass is the oracle."""
    import dataclasses

    names = ["magic", "version", "page_size", "flags", "root", "sequence", "freelist",
             "pgid", "txid", "checksum"]
    frozen = dataclasses.make_dataclass("Meta", [(n, int) for n in names], frozen=True)
    m = Meta.decode(meta_bytes(root=7, txid=13, checksum=0x1122334455667788), 0)
    d = frozen(*m.fields())
    assert hash(m) == hash(d)
    assert repr(m) == repr(d)
    assert vars(m) == dataclasses.asdict(d)
    with pytest.raises(AttributeError,
                       match=r"^cannot assign to field 'txid' of an immutable Meta$"):
        m.txid = 5
    with pytest.raises(AttributeError,
                       match=r"^cannot delete field 'root' of an immutable Meta$"):
        del m.root
