"""Bytes in JSON, unambiguously: the one encoding every JSON output uses.

A key, value or bucket name appears as a JSON string when it is valid UTF-8
without control characters (tab, newline and carriage return allowed), and
otherwise as ``{"hex": "…"}``.  A string is therefore always the UTF-8 text
of the bytes, and an object always names its encoding; input accepts both,
and also ``{"base64": "…"}`` (docs/JSON.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence

from .errors import Error

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class JSONBytesError(Error):
    """A JSON value that does not encode bytes."""


def bytes_to_json(data: bytes) -> str | dict[str, str]:
    """``data`` as a JSON string when it is plain text, else ``{"hex": ...}``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": data.hex()}
    if (text.isascii() and text.isprintable()) or _CONTROL.search(text) is None:
        return text
    return {"hex": data.hex()}


def bytes_from_json(value: object) -> bytes:
    """The bytes a JSON value of :func:`bytes_to_json`'s schema stands for."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, dict) and len(value) == 1:
        ((encoding, text),) = value.items()
        if isinstance(text, str):
            try:
                if encoding == "hex":
                    return bytes.fromhex(text)
                if encoding == "base64":
                    return base64.b64decode(text, validate=True)
            except (ValueError, binascii.Error) as e:
                raise JSONBytesError(f"bad {encoding} bytes {text[:40]!r}: {e}") from None
    raise JSONBytesError(
        f'expected bytes as a string or {{"hex": ...}} / {{"base64": ...}}, got {value!r:.60}')


# Bytes that keep ASCII from being copied into a JSON string as is: controls,
# DEL (shown as hex by bytes_to_json) and the two characters JSON escapes.
_NOT_VERBATIM = bytes(range(0x20)) + b'"\\\x7f'
# The ASCII bytes of _CONTROL: ASCII with one of them is shown as hex.
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in b"\t\n\r") + b"\x7f"
_ENCODE_STRING = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_text(data: bytes) -> str:
    """The serialized JSON (compact, UTF-8) of :func:`bytes_to_json` ``(data)``.

    Written directly (no JSON encoder call per item) for plain ASCII and for
    bytes shown as hex; tests check it against ``json.dumps(bytes_to_json(data))``.
    """
    size = len(data)
    # An ASCII control byte means hex whether or not the rest is UTF-8: the
    # usual binary value ends here, before a decode that would fail (slowly).
    if len(data.translate(None, _CONTROL_BYTES)) != size:
        return f'{{"hex":"{data.hex()}"}}'
    if data.isascii():
        if len(data.translate(None, _NOT_VERBATIM)) == size:
            return f'"{data.decode("ascii")}"'
        return _ENCODE_STRING(data.decode("ascii"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f'{{"hex":"{data.hex()}"}}'
    if _CONTROL.search(text) is not None:
        return f'{{"hex":"{data.hex()}"}}'
    return _ENCODE_STRING(text)


def json_texts(items: Sequence[bytes]) -> list[str]:
    """:func:`json_text` of each of ``items``: a batch of plain ASCII at C speed.

    The usual batch (printable ASCII keys and values) is checked once, joined,
    instead of item by item; streaming outputs format a leaf's items at once.
    """
    joined = b"".join(items)
    if joined.isascii() and len(joined.translate(None, _NOT_VERBATIM)) == len(joined):
        return [f'"{item.decode("ascii")}"' for item in items]
    return [json_text(item) for item in items]


def dumps(obj: object) -> str:
    """The compact serialization every JSON output uses (UTF-8, no spaces)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
