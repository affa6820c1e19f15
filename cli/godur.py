"""Go's renderings of durations and benchmark results (``time.Duration.String``,
``testing.BenchmarkResult.String``), for ``bench``."""

from __future__ import annotations

import math

from pybbolt.gotext import go_quote_str

SECOND = 1_000_000_000


def _frac(value: int, prec: int) -> tuple[str, int]:
    """Go's ``fmtFrac``: the fraction digits (trailing zeros dropped) and the integer part."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    text = "." + "".join(reversed(digits)) if printed else ""
    return text, value


def duration(ns: int) -> str:
    """``time.Duration(ns).String()``: ``1.564413ms``, ``15.644µs``, ``1m2.5s``."""
    negative = ns < 0
    u = -ns if negative else ns
    sign = "-" if negative else ""
    if u < SECOND:
        if u == 0:
            return "0s"
        if u < 1000:
            return f"{sign}{u}ns"
        prec, unit = (3, "µs") if u < 1_000_000 else (6, "ms")
        frac, whole = _frac(u, prec)
        return f"{sign}{whole}{frac}{unit}"
    frac, seconds = _frac(u, 9)
    text = f"{seconds % 60}{frac}s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        hours = minutes // 60
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def _pretty(x: float) -> str:
    """``testing``'s ``prettyPrint`` of a ns/op figure."""
    y = abs(x)
    if y == 0 or y >= 999.95:
        width, places = 10, 0
    elif y >= 99.995:
        width, places = 12, 1
    elif y >= 9.9995:
        width, places = 13, 2
    elif y >= 0.99995:
        width, places = 14, 3
    elif y >= 0.099995:
        width, places = 15, 4
    elif y >= 0.0099995:
        width, places = 16, 5
    elif y >= 0.00099995:
        width, places = 17, 6
    else:
        width, places = 18, 7
    if math.isnan(x):
        return f"{'NaN':>{width}} ns/op"
    return f"{x:{width}.{places}f} ns/op"


def benchmark_result(n: int, ns: int) -> str:
    """``testing.BenchmarkResult{N: n, T: ns}.String()``."""
    text = f"{n:8d}"
    per_op = ns / n if n else (math.nan if ns == 0 else math.inf)
    if per_op != 0:
        text += "\t" + _pretty(per_op)
    return text


_UNITS = {
    "ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
    "s": SECOND, "m": 60 * SECOND, "h": 3600 * SECOND,
}


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration``: ``"1.5s"``, ``"300ms"``, ``"1h2m"``... in nanoseconds.

    Raises ValueError with Go's message (``time: invalid duration "x"``).
    """
    s = text
    sign = 1
    if s[:1] in ("-", "+"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {go_quote_str(text)}")
    total = 0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        number = s[:i]
        if not number or number == "." or number.count(".") > 1 or not number.isascii():
            raise ValueError(f"time: invalid duration {go_quote_str(text)}")
        j = i
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit = s[i:j]
        if not unit:
            raise ValueError(f"time: missing unit in duration {go_quote_str(text)}")
        if unit not in _UNITS:
            raise ValueError(
                f"time: unknown unit {go_quote_str(unit)} in duration {go_quote_str(text)}")
        whole, _, frac = number.partition(".")
        scale = _UNITS[unit]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        s = s[j:]
    if total >= 1 << 63:
        raise ValueError(f"time: invalid duration {go_quote_str(text)}")
    return sign * total
