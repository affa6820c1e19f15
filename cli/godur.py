"""Go's renderings of durations and benchmark results (``time.Duration.String``,
``testing.BenchmarkResult.String``), for ``bench``."""

from __future__ import annotations

import math

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
    "ns": 1,
    "us": 1000,
    "µs": 1000,  # U+00B5 micro sign
    "μs": 1000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}
_INT64_MAX = (1 << 63) - 1


def parse_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` (nanoseconds), raising ValueError with Go's
    message (``time: invalid duration "x"``), as pflag's duration flags do."""
    from .goparse import go_quote_str

    quoted = go_quote_str(text)
    invalid = ValueError(f"time: invalid duration {quoted}")
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            raise invalid
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        pre = i > 0
        whole = int(s[:i]) if pre else 0
        if whole > 1 << 63:
            raise invalid
        s = s[i:]
        frac, scale, post = 0, 1, False
        if s and s[0] == ".":
            s = s[1:]
            i = 0
            overflow = False
            while i < len(s) and "0" <= s[i] <= "9":
                if not overflow:
                    if frac > ((1 << 63) - 1) // 10:
                        overflow = True  # Go drops the digits it cannot hold
                    else:
                        frac = frac * 10 + int(s[i])
                        scale *= 10
                i += 1
            post = i > 0
            s = s[i:]
        if not pre and not post:
            raise invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            raise ValueError(f"time: missing unit in duration {quoted}")
        unit_name, s = s[:i], s[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise ValueError(
                f"time: unknown unit {go_quote_str(unit_name)} in duration {quoted}")
        if whole > (1 << 63) // unit:
            raise invalid
        value = whole * unit
        if frac:
            value += int(float(frac) * (float(unit) / scale))
            if value > 1 << 63:
                raise invalid
        total += value
        if total > 1 << 63:
            raise invalid
    if negative:
        return -total
    if total > _INT64_MAX:
        raise invalid
    return total
