"""Key/value rendering: Go's %q, "printable", the format modes, hex parsing, JSON strings."""

from __future__ import annotations

import pytest
from pybbolt.cli.textfmt import (
    FormatError,
    format_bytes,
    format_lines,
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


def test_json_string_escapes_below_space_only() -> None:
    # Go escapes U+0000..U+001F as \u00XX; the space (0x20) is written as is.
    assert json_string(b"\x1f \x1e") == '"\\u001f \\u001e"'


_HEX_DIGITS = b"0123456789abcdefABCDEF"


def test_hex_digits_are_exactly_go_s() -> None:
    # Go's fromHexChar: 0-9, a-f, A-F and nothing else, either digit of a pair.
    for byte in range(256):
        for text in (b"0" + bytes([byte]), bytes([byte]) + b"0"):
            if byte in _HEX_DIGITS:
                assert parse_bytes(text, "hex") == bytes.fromhex(text.decode())
            else:
                with pytest.raises(ValueError) as e:
                    parse_bytes(text, "hex")
                assert str(e.value).startswith(f"encoding/hex: invalid byte: U+{byte:04X}")


def test_hex_errors_name_the_first_bad_byte() -> None:
    # Pairs are checked in order, the first digit of a pair before the second.
    for text, message in ((b"0g0h", "U+0067 'g'"), (b"00h0g", "U+0068 'h'")):
        with pytest.raises(ValueError) as e:
            parse_bytes(text, "hex")
        assert str(e.value) == f"encoding/hex: invalid byte: {message}"


@pytest.mark.parametrize(
    ("items", "mode", "size", "out"),
    [
        ([], "auto", -1, b""),
        ([], "hex", -1, b""),
        # printable ASCII: the items as they are
        ([b"ab", b"c"], "auto", -1, b"ab\nc\n"),
        ([b"ab", b"cd"], "auto", 2, b"ab\ncd\n"),
        ([b"", b""], "auto", 0, b"\n\n"),
        # every item holds a control byte: all hex, of one size or not
        ([b"\x00a", b"b\x01"], "auto", -1, b"0061\n6201\n"),
        ([b"\x00a", b"b\x01"], "auto", 2, b"0061\n6201\n"),
        ([b"a\x00", b"\x01b\x02"], "auto", -1, b"6100\n016202\n"),
        # some printable, some not: item by item
        ([b"ab", b"\x00"], "auto", -1, b"ab\n00\n"),
        ([b"\x00", b"ab"], "auto", -1, b"00\nab\n"),
        # no control byte but not ASCII: item by item
        ([b"\xff"], "auto", -1, b"ff\n"),
        ([b"\xc3\xa9", b"a"], "auto", -1, b"\xc3\xa9\na\n"),
        ([b"\xc3\xa9", b"\xc3"], "auto", -1, b"\xc3\xa9\nc3\n"),
        # hex: one size (given or not), mixed sizes, a single item, empty items
        ([b"\x00\xff", b"ab"], "hex", -1, b"00ff\n6162\n"),
        ([b"\x00\xff", b"ab", b"\x10\x20"], "hex", 2, b"00ff\n6162\n1020\n"),
        ([b"a", b"bcd"], "hex", -1, b"61\n626364\n"),
        ([b"bcd", b"a"], "hex", -1, b"626364\n61\n"),
        ([b"abc"], "hex", -1, b"616263\n"),
        ([b"", b""], "hex", -1, b"\n\n"),
        ([b"", b""], "hex", 0, b"\n\n"),
        ([b"", b"a"], "hex", -1, b"\n61\n"),
        # bytes: raw, one per line
        ([b"a\x00", b"\xff"], "bytes", -1, b"a\x00\n\xff\n"),
        ([b"a\x00", b"\xff\n"], "bytes", 2, b"a\x00\n\xff\n\n"),
        # the other modes: format_bytes of each item
        ([b"a", b"\x00"], "ascii-encoded", -1, b'"a"\n"\\x00"\n'),
        (
            [b"red", b""],
            "redacted",
            -1,
            b"<redacted len:3 sha256:"
            b"b1f51a511f1da0cd348b8f8598db32e61cb963e5fc69e2b41485bf99590ed75a>\n"
            b"<redacted len:0 sha256:"
            b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855>\n",
        ),
    ],
)
def test_format_lines(items: list[bytes], mode: str, size: int, out: bytes) -> None:
    assert format_lines(items, mode, size) == out


def test_format_lines_rejects_unknown_modes() -> None:
    with pytest.raises(FormatError, match="formatBytes: unsupported format: x"):
        format_lines([b"a"], "x")


def test_json_string_of_printable_ascii() -> None:
    """Printable ASCII is written as it is, but for the five characters Go's encoder
    escapes (HTML-safe: <, > and & as \\u escapes); each alone in a string of its own."""
    assert json_string(b"plain name-1.2_x") == '"plain name-1.2_x"'
    assert json_string(b"") == '""'
    assert json_string(b'a"b') == '"a\\"b"'
    assert json_string(b"a\\b") == '"a\\\\b"'
    assert json_string(b"a<b") == '"a\\u003cb"'
    assert json_string(b"a>b") == '"a\\u003eb"'
    assert json_string(b"a&b") == '"a\\u0026b"'
