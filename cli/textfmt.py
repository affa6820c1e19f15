"""How bbolt's tool turns bytes into text: ``%q``, ``%x``, "printable", JSON.

These mirror Go's ``strconv.Quote``, ``unicode.IsPrint``, ``encoding/hex``
and ``encoding/json`` exactly (printability per Go's Unicode 17.0.0 tables), so
the outputs built from them match the reference byte for byte.
"""

from __future__ import annotations

from pybbolt.gotext import decode_runes, go_quote, is_printable

# Imported where needed, not here (start-up time of `get`, `keys`...):
# pybbolt.unicode_print (Go's printability table) for text that is not all
# ASCII, hashlib for the "redacted" format.

__all__ = ["FORMAT_MODES", "decode_runes", "go_quote", "is_printable"]

FORMAT_MODES = "auto|ascii-encoded|hex|bytes|redacted"

def auto(data: bytes) -> bytes:
    """bbolt's ``bytesToAsciiOrHex``: the bytes if printable, else their hex."""
    if is_printable(data):
        return data
    return data.hex().encode("ascii")


class FormatError(Exception):
    """An unsupported ``--format`` mode (bbolt's ``formatBytes`` error)."""


def format_bytes(data: bytes, mode: str) -> bytes:
    """bbolt's ``formatBytes``: render ``data`` in one of :data:`FORMAT_MODES`."""
    if mode == "auto":
        return auto(data)
    if mode == "ascii-encoded":
        return go_quote(data).encode("utf-8")
    if mode == "hex":
        return data.hex().encode("ascii")
    if mode == "bytes":
        return data
    if mode == "redacted":
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        return f"<redacted len:{len(data)} sha256:{digest}>".encode("ascii")
    raise FormatError(f"formatBytes: unsupported format: {mode}")


# Control bytes (C0 and DEL) to 1, every other byte to 0.  A control byte is
# never printable, and (below 0x80) always a rune of its own.
_CONTROLS = bytes(1 if b < 0x20 or b == 0x7F else 0 for b in range(256))


def format_lines(items: list[bytes], mode: str, size: int = -1) -> bytes:
    """:func:`format_bytes` of each of ``items``, each followed by a newline.

    ``size``, if not -1, is the length of every item.
    """
    if not items:
        return b""
    if mode == "auto":
        joined = b"".join(items)
        controls = joined.translate(_CONTROLS)
        shortest = size if size >= 0 else min(map(len, items))
        if shortest and bytes(shortest) not in controls:
            # No run of `shortest` bytes without a control byte: every item
            # has one, and none is printable.
            return _hex_lines(items, joined, shortest)
        if b"\x01" not in controls and joined.isascii():  # all printable ASCII
            return b"\n".join(items) + b"\n"
    elif mode == "hex":
        return _hex_lines(items, b"".join(items), size if size >= 0 else min(map(len, items)))
    elif mode == "bytes":
        return b"\n".join(items) + b"\n"
    return b"".join([format_bytes(item, mode) + b"\n" for item in items])


def _hex_lines(items: list[bytes], joined: bytes, shortest: int) -> bytes:
    """The hex of each of ``items`` (``joined`` together), each followed by a newline."""
    if shortest and len(joined) == shortest * len(items):  # all of one size
        text = joined.hex("\n", shortest)
    else:
        text = "\n".join(map(bytes.hex, items))
    return (text + "\n").encode("ascii")


def _hex_invalid_byte(byte: int) -> str:
    """Go's ``hex.InvalidByteError`` text for one byte."""
    from pybbolt.unicode_print import is_print

    ch = chr(byte)
    if is_print(byte):
        return f"encoding/hex: invalid byte: U+{byte:04X} '{ch}'"
    return f"encoding/hex: invalid byte: U+{byte:04X}"


def _is_hex(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x46 or 0x61 <= byte <= 0x66


def hex_decode(text: bytes) -> bytes:
    """``hex.DecodeString`` with Go's error messages (raised as ValueError)."""
    n = len(text) // 2
    for i in range(n):
        a, b = text[2 * i], text[2 * i + 1]
        if not _is_hex(a):
            raise ValueError(_hex_invalid_byte(a))
        if not _is_hex(b):
            raise ValueError(_hex_invalid_byte(b))
    if len(text) % 2:
        last = text[-1]
        if not _is_hex(last):
            raise ValueError(_hex_invalid_byte(last))
        raise ValueError("encoding/hex: odd length hex string")
    return bytes.fromhex(text.decode("ascii"))


def parse_bytes(text: bytes, mode: str) -> bytes:
    """bbolt's ``parseBytes`` (``get --parse-format``)."""
    if mode == "ascii-encoded":
        return text
    if mode == "hex":
        return hex_decode(text)
    raise ValueError(f"parseBytes: unsupported format: {mode}")


# Go's encoding/json escapes (HTML-safe): the short ones, \u00XX for the
# other control characters, and <, >, &, U+2028, U+2029.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in range(0x20)}
_JSON_ESCAPES.update({
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("\b"): "\\b",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
})


def json_string(data: bytes) -> str:
    """A Go ``encoding/json`` string literal of ``data`` (HTML-safe escaping).

    Bytes that are not valid UTF-8 become the raw character U+FFFD, one per
    byte, as the reference binary writes them.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "".join("\ufffd" if ch is None else ch for ch, _byte in decode_runes(data))
    if text.isascii() and text.isprintable() and not any(map(text.__contains__, '"\\<>&')):
        return f'"{text}"'  # nothing to escape (the common case, and much quicker)
    return f'"{text.translate(_JSON_ESCAPES)}"'
