"""Key/value rendering: Go's %q, "printable", the format modes, hex parsing, JSON strings."""

from __future__ import annotations

import pytest
from pybbolt.cli.textfmt import (
    FormatError,
    format_bytes,
    go_quote,
    is_printable,
    json_string,
    parse_bytes,
)


@pytest.mark.parametrize(
    ("data", "quoted"),
    [
        (b"\x00bin", '"\\x00bin"'),
        (b"\x07\x08\x0c\x0b\x0d", '"\\a\\b\\f\\v\\r"'),
        (b'a"q', '"a\\"q"'),
        (b"back\\slash", '"back\\\\slash"'),
        (b"\x7f", '"\\x7f"'),
        ("\u00a0".encode(), '"\\u00a0"'),
        ("\u200b".encode(), '"\\u200b"'),
        ("\u2028".encode(), '"\\u2028"'),
        (b"\xcd\xb8", '"\\u0378"'),
        (b"\xed\xa0\x80", '"\\xed\\xa0\\x80"'),
        (b"\xff", '"\\xff"'),
        (b"\xe2\x80", '"\\xe2\\x80"'),
        (b"\xf3\xa0\x80\x81", '"\\U000e0001"'),
        ("é😀\u0301\ufffd".encode(), '"é😀\u0301\ufffd"'),
        (b"", '""'),
    ],
)
def test_go_quote(data: bytes, quoted: str) -> None:
    assert go_quote(data) == quoted


def test_printable() -> None:
    assert is_printable(b"")
    assert is_printable("héllo wörld 😀".encode())
    assert not is_printable(b"a\tb")
    assert not is_printable(b"\xff")
    assert not is_printable("\u00a0".encode())


def test_format_modes() -> None:
    assert format_bytes(b"\x00\xff\x10", "auto") == b"00ff10"
    assert format_bytes(b"red", "auto") == b"red"
    assert format_bytes(b"\x00\xff\x10", "ascii-encoded") == b'"\\x00\\xff\\x10"'
    assert format_bytes(b"\x00\xff", "hex") == b"00ff"
    assert format_bytes(b"\x00\xff", "bytes") == b"\x00\xff"
    assert format_bytes(b"red", "redacted") == (
        b"<redacted len:3 sha256:"
        b"b1f51a511f1da0cd348b8f8598db32e61cb963e5fc69e2b41485bf99590ed75a>"
    )
    with pytest.raises(FormatError, match="formatBytes: unsupported format: ormat=hex"):
        format_bytes(b"x", "ormat=hex")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"abc", "encoding/hex: odd length hex string"),
        (b"ab0", "encoding/hex: odd length hex string"),
        (b"a", "encoding/hex: odd length hex string"),
        (b"00zz", "encoding/hex: invalid byte: U+007A 'z'"),
        (b"zz", "encoding/hex: invalid byte: U+007A 'z'"),
        (b"0\x01", "encoding/hex: invalid byte: U+0001"),
        (b"abz", "encoding/hex: invalid byte: U+007A 'z'"),
        (b"\xff0", "encoding/hex: invalid byte: U+00FF '\u00ff'"),
    ],
)
def test_hex_errors(text: bytes, message: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_bytes(text, "hex")
    assert str(e.value) == message


def test_parse_modes() -> None:
    assert parse_bytes(b"\\x00", "ascii-encoded") == b"\\x00"
    assert parse_bytes(b"6170706C65", "hex") == b"apple"
    with pytest.raises(ValueError, match="parseBytes: unsupported format: x"):
        parse_bytes(b"a", "x")


def test_json_strings() -> None:
    name = b'<b&>\x01\x08\x0c\n\t"\\' + "\u2028".encode()
    assert json_string(name) == '"\\u003cb\\u0026\\u003e\\u0001\\b\\f\\n\\t\\"\\\\\\u2028"'
    assert json_string(b"\xde\xad\xbe\xef") == '"\u07ad\ufffd\ufffd"'
    assert json_string(b"\xe2\x80") == '"\ufffd\ufffd"'
    assert json_string(b"\x7f") == '"\x7f"'


def test_printability_follows_unicode_17() -> None:
    from pybbolt.unicode_print import is_print

    # U+1FAE9 (Unicode 15), U+2FFC (Unicode 15.1), U+1CC00 (Unicode 16): printable
    # in Go's tables although Python 3.11's unicodedata does not know them.
    for ch in ("\U0001fae9", "\u2ffc", "\U0001cc00"):
        assert is_printable(ch.encode())
        assert go_quote(ch.encode()) == f'"{ch}"'
    assert not is_print(0x0378)  # still unassigned
    assert not is_print(0xE000)  # private use
    assert not is_print(0x00AD)  # soft hyphen (Cf)
