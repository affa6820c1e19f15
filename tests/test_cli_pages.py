"""The raw page reader (pybbolt.pagefile) and the page/page-item/dump renderings."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from pybbolt.cli.cmd_pages import hexdump_page, key_text, print_page
from pybbolt.cli.main import execute
from pybbolt.cli.runtime import Output

from pybbolt.layout import BUCKET_LEAF_FLAG, FREELIST_PAGE, LEAF_PAGE
from pybbolt.meta import new_meta
from pybbolt.pagefile import (
    RawPageError,
    page_item,
    read_meta0_geometry,
    read_page,
)

PS = 4096


def _leaf(pgid: int, items: list[tuple[bytes, bytes, int]]) -> bytes:
    buf = bytearray(PS)
    struct.pack_into("<QHHI", buf, 0, pgid, LEAF_PAGE, len(items), 0)
    off = 16 + 16 * len(items)
    for i, (k, v, flags) in enumerate(items):
        struct.pack_into("<IIII", buf, 16 + 16 * i, flags, off - (16 + 16 * i), len(k), len(v))
        buf[off : off + len(k) + len(v)] = k + v
        off += len(k) + len(v)
    return bytes(buf)


def make_db(tmp_path: Path) -> Path:
    pages = [new_meta(PS, root=3, freelist=2, pgid=4, txid=t).encode_page(PS, t) for t in (0, 1)]
    free = bytearray(PS)
    struct.pack_into("<QHHIQQ", free, 0, 2, FREELIST_PAGE, 2, 0, 9, 7)
    pages.append(bytes(free))
    bucket_value = struct.pack("<QQ", 5, 42)
    pages.append(
        _leaf(3, [(b"apple", b"red", 0), (b"b\x00", b"\x00\xff", 0), (b"sub", bucket_value,
                                                                         BUCKET_LEAF_FLAG)])
    )
    path = tmp_path / "t.db"
    path.write_bytes(b"".join(pages))
    return path


def test_geometry_and_errors(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    assert read_meta0_geometry(str(path)) == (PS, 4)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(RawPageError, match=r"^EOF$"):
        read_meta0_geometry(str(empty))
    short = tmp_path / "short"
    short.write_bytes(b"x" * 100)
    with pytest.raises(RawPageError, match=r"^unexpected EOF$"):
        read_meta0_geometry(str(short))
    short.write_bytes(b"x" * PS)
    with pytest.raises(RawPageError, match=r"^the Meta Page has wrong \(unexpected\) magic$"):
        read_meta0_geometry(str(short))
    with pytest.raises(RawPageError, match=r"^read Page size: unexpected EOF$"):
        read_page(_write(tmp_path / "s3", b"x" * 10), 0)
    with pytest.raises(RawPageError, match=r"^EOF$"):
        read_page(str(path), 4)
    with pytest.raises(RawPageError, match=r"^error: invalid value due to unexpected Page id: 3 "):
        _copy_page(path, 3, 2)
        read_page(str(path), 2)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _copy_page(path: Path, src: int, dst: int) -> None:
    data = bytearray(path.read_bytes())
    data[dst * PS : (dst + 1) * PS] = data[src * PS : (src + 1) * PS]
    path.write_bytes(bytes(data))


def test_overflow_claim(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 3 * PS + 12, 1)
    path.write_bytes(bytes(data))
    with pytest.raises(RawPageError) as e:
        read_page(str(path), 3)
    assert str(e.value) == (
        "error: invalid value, Page claims to have 1 overflow pages (>=hwm=4). "
        "Interrupting to avoid risky OOM"
    )


def test_print_leaf_and_freelist(tmp_path: Path) -> None:
    path = make_db(tmp_path)
    sink = io.BytesIO()
    out = Output(sink)
    assert print_page(out, str(path), 3, "auto") == 0
    print_page(out, str(path), 2, "auto")
    out.flush()
    assert sink.getvalue() == (
        b"Page ID:    3\nPage Type:  leaf\nTotal Size: 4096 bytes\nOverflow pages: 0\n"
        b"Item Count: 3\n\n"
        b'"apple": red\n6200: 00ff\n"sub": <pgid=5,seq=42>\n\n'
        b"Page ID:    2\nPage Type:  freelist\nTotal Size: 4096 bytes\nOverflow pages: 0\n"
        b"Item Count: 2\nOverflow: 0\n\n9\n7\n\n"
    )


def test_page_command_bad_format_and_missing_page(tmp_path: Path) -> None:
    path = str(make_db(tmp_path))
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(["page", "--format-value", "bad", path, "3", "9"], out, err)
    assert (status, err.getvalue()) == (0, b"")
    assert out.getvalue().endswith(
        b"Item Count: 3\n\n"
        b"Prining page 3 failed: formatBytes: unsupported format: bad. Continuing...\n"
        b"===============================================\n"
        b"Prining page 9 failed: EOF. Continuing...\n"
    )


def test_page_item(tmp_path: Path) -> None:
    page = read_page(str(make_db(tmp_path)), 3)
    assert page_item(page, 1).key == b"b\x00"
    with pytest.raises(RawPageError, match="expected item index less than 3, but got 3"):
        page_item(page, 3)
    free = read_page(str(tmp_path / "t.db"), 2)
    with pytest.raises(RawPageError, match="expected item index less than 2, but got 5"):
        page_item(free, 5)
    with pytest.raises(RawPageError, match="expected page type of 'leaf', but got 'freelist'"):
        page_item(free, 0)


def test_key_text() -> None:
    assert key_text(b"apple") == b'"apple"'
    assert key_text(b"a\x00") == b"6100"
    assert key_text('é"'.encode()) == '"é\\""'.encode()


def test_hexdump_layout() -> None:
    data = bytes(range(16)) + bytes(16) * 3 + b"\x01" * 16 + bytes(16) * 2
    assert hexdump_page(data, 0x3000) == (
        b"0003000 0001 0203 0405 0607 0809 0a0b 0c0d 0e0f\n"
        b"0003010 0000 0000 0000 0000 0000 0000 0000 0000\n"
        b"0003020 *\n"
        b"0003040 0101 0101 0101 0101 0101 0101 0101 0101\n"
        b"0003050 0000 0000 0000 0000 0000 0000 0000 0000\n"
        b"0003060 0000 0000 0000 0000 0000 0000 0000 0000\n"
        b"\n"
    )


def test_hexdump_partial_line_crashes_after_the_full_lines() -> None:
    from pybbolt.cli.cmd_pages import hexdump_lines
    from pybbolt.cli.runtime import Crash

    lines = []
    with pytest.raises(Crash, match=r"slice bounds out of range \[:32\] with capacity 20"):
        lines.extend(hexdump_lines(bytes(20), 0))
    assert lines == ["0000000 0000 0000 0000 0000 0000 0000 0000 0000\n"]
