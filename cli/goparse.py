"""Go's number and boolean parsers (``strconv``), with Go's error messages.

pflag parses flag values with these, and bbolt parses page ids with
``strconv.ParseUint(s, 10, 64)``; the messages end up in ``Error:`` lines.
"""

from __future__ import annotations

from pybbolt.gotext import go_quote_str

_BOOL_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_BOOL_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


class NumError(ValueError):
    """A ``strconv.NumError``: ``strconv.FUNC: parsing "S": REASON``."""

    def __init__(self, func: str, text: str, reason: str) -> None:
        super().__init__(f"strconv.{func}: parsing {go_quote_str(text)}: {reason}")


def parse_bool(text: str) -> bool:
    """``strconv.ParseBool``."""
    if text in _BOOL_TRUE:
        return True
    if text in _BOOL_FALSE:
        return False
    raise NumError("ParseBool", text, "invalid syntax")


def _underscore_ok(s: str) -> bool:
    """Go's ``underscoreOK``: underscores only between digits (base prefix allowed)."""
    saw = "^"
    i = 0
    if len(s) >= 1 and s[0] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "bxo":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if (c.isdigit() and c.isascii()) or (hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _parse_digits(s: str, base: int) -> int | None:
    """Unsigned magnitude of ``s`` in ``base`` (0 = Go prefix rules), or None."""
    if not s:
        return None
    original = s
    base0 = base == 0
    if base0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1].lower() == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and s[1].lower() == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and s[1].lower() == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
                if not s:
                    return 0
    value = 0
    underscores = False
    for c in s:
        if c == "_" and base0:
            underscores = True
            continue
        d = _digit(c)
        if d is None or d >= base:
            return None
        value = value * base + d
    if underscores and not _underscore_ok(original):
        return None
    return value


def _digit(c: str) -> int | None:
    if "0" <= c <= "9":
        return ord(c) - 48
    lc = c.lower()
    if "a" <= lc <= "z":
        return ord(lc) - ord("a") + 10
    return None


def parse_uint(text: str, base: int = 10, bits: int = 64) -> int:
    """``strconv.ParseUint(text, base, bits)``."""
    value = _parse_digits(text, base)
    if value is None:
        raise NumError("ParseUint", text, "invalid syntax")
    if value >= 1 << bits:
        raise NumError("ParseUint", text, "value out of range")
    return value


def parse_int(text: str, base: int = 10, bits: int = 64) -> int:
    """``strconv.ParseInt(text, base, bits)``."""
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    value = _parse_digits(s, base)
    if value is None:
        raise NumError("ParseInt", text, "invalid syntax")
    limit = 1 << (bits - 1)
    if (not negative and value >= limit) or (negative and value > limit):
        raise NumError("ParseInt", text, "value out of range")
    return -value if negative else value


def parse_float(text: str) -> float:
    """``strconv.ParseFloat(text, 64)`` (decimal and special forms)."""
    s = text.replace("_", "") if "_" in text else text
    lowered = s.lower().lstrip("+-")
    if lowered in ("inf", "infinity", "nan"):
        return float(s)
    try:
        if lowered.startswith("0x"):
            return float.fromhex(s)
        if not all(c in "0123456789.eE+-" for c in s):
            raise ValueError(s)
        value = float(s)
    except (ValueError, OverflowError):
        raise NumError("ParseFloat", text, "invalid syntax") from None
    if value in (float("inf"), float("-inf")):
        raise NumError("ParseFloat", text, "value out of range")
    return value
