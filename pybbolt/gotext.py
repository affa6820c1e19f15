"""Go's text formats that bbolt's messages and tools print: ``%q`` and printability.

``go_quote`` is ``strconv.Quote`` (``fmt``'s ``%q``) exactly, with Go's
``unicode.IsPrint`` per Unicode 17.0.0 (:mod:`pybbolt.unicode_print`), so
messages built with it match bbolt's byte for byte.  One implementation,
used by the library's messages and by the CLI.
"""

from __future__ import annotations

# Imported where needed, not here (start-up time of `get`, `keys`...):
# .unicode_print (Go's printability table) for text that is not all ASCII.

_SIMPLE_ESCAPES = {
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
}


def _rune_length(lead: int) -> int:
    """Expected UTF-8 sequence length for a lead byte (1 for invalid leads)."""
    if lead < 0xC2:
        return 1
    if lead < 0xE0:
        return 2
    if lead < 0xF0:
        return 3
    if lead < 0xF5:
        return 4
    return 1


def decode_runes(data: bytes) -> list[tuple[str | None, int]]:
    """Go's rune-by-rune UTF-8 decoding: ``(char, byte)`` pairs.

    ``char`` is None for a byte that does not start a complete, valid
    sequence (Go's ``RuneError`` of width 1); ``byte`` is then that byte.
    """
    out: list[tuple[str | None, int]] = []
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append((chr(b), b))
            i += 1
            continue
        size = _rune_length(b)
        if size > 1 and i + size <= n:
            try:
                ch = data[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                out.append((ch, b))
                i += size
                continue
        out.append((None, b))
        i += 1
    return out


def is_printable(data: bytes) -> bool:
    """bbolt's ``isPrintable``: valid UTF-8 and every rune ``unicode.IsPrint``."""
    if data.isascii():
        # An ASCII rune is printable for Go as for str.isprintable: U+0020-U+007E.
        return data.decode("ascii").isprintable()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    from .unicode_print import all_print

    return all_print(text)


def go_quote(data: bytes) -> str:
    """``strconv.Quote`` of ``data`` (``fmt``'s ``%q``), double quotes included."""
    if data.isascii():
        text = data.decode("ascii")
        if text.isprintable() and '"' not in text and "\\" not in text:
            return f'"{text}"'
    from .unicode_print import is_print

    parts = ['"']
    for ch, byte in decode_runes(data):
        if ch is None:
            parts.append(f"\\x{byte:02x}")
        elif ch == '"':
            parts.append('\\"')
        elif ch == "\\":
            parts.append("\\\\")
        elif is_print(ord(ch)):
            parts.append(ch)
        else:
            code = ord(ch)
            simple = _SIMPLE_ESCAPES.get(code)
            if simple is not None:
                parts.append(simple)
            elif code < 0x20 or code == 0x7F:
                parts.append(f"\\x{code:02x}")
            elif code < 0x10000:
                parts.append(f"\\u{code:04x}")
            else:
                parts.append(f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)


def go_quote_str(text: str) -> str:
    """``%q`` of a Go string given as Python text (a path or an argument as
    typed; undecodable bytes arrive as surrogate escapes)."""
    return go_quote(text.encode("utf-8", "surrogateescape"))
