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
