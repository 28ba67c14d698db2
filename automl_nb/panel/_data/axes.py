"""Axes that read well: whole-number ticks, few round ticks on a log axis, short axis labels.

Pure functions (no plotly): the charts put their results in a layout, tests check them.
"""

from __future__ import annotations

import math

__all__ = ["axis_label", "integer_dtick", "log_ticks", "tick_text"]


def integer_dtick(hi: float, lo: float = 0.0, max_ticks: int = 8) -> int:
    """The step between ticks of a whole-number axis (trials, epochs) over ``lo..hi``:
    1, 2, 5, 10, 20, 50, ..., the smallest that keeps at most ``max_ticks`` ticks."""
    span = max(1.0, float(hi) - float(lo))
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10**exponent
            if span / step <= max_ticks:
                return step
        exponent += 1


def tick_text(value: float) -> str:
    """A tick's label: ``0.001`` -> ``"1e-3"``, ``0.02`` -> ``"0.02"``, ``20000`` -> ``"2e4"``."""
    if value == 0:
        return "0"
    if abs(value) < 1e-2 or abs(value) >= 1e4:
        mantissa, exponent = f"{value:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:g}"


def _in_range(lo: float, hi: float, mantissas: tuple[int, ...]) -> list[float]:
    out = []
    for exponent in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            value = float(f"{m}e{exponent}")  # exact decimal, not m * 10**e
            if lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9):
                out.append(value)
    return out


def log_ticks(lo: float, hi: float, max_ticks: int = 6) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Few, round ticks for a log axis over ``lo..hi`` (both > 0): decades first
    (1e-4, 1e-3, ...; every other one when there are many), else 1-3-10 or 1-2-5 steps,
    else evenly spaced round numbers when the range is under a factor of ten or so.
    Returns (values, labels)."""
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    if not (lo > 0 and math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"a log axis needs positive bounds; got {lo!r} and {hi!r}")
    values: list[float] = []
    for mantissas in ((1,), (1, 3), (1, 2, 5)):
        found = _in_range(lo, hi, mantissas)
        if mantissas == (1,) and len(found) > max_ticks:
            stride = math.ceil(len(found) / max_ticks)
            found = found[::stride]
        if len(found) > max_ticks:
            break
        values = found
        if len(found) >= 3:
            break
    if len(values) < 2:  # a narrow range (8 to 64, say): round steps on a plain scale
        step = float(integer_dtick(hi, lo, max_ticks - 1)) if hi - lo >= 1 else _fine_step(lo, hi)
        first = math.ceil(lo / step) * step
        values = []
        value = first
        while value <= hi * (1 + 1e-9) and len(values) <= max_ticks:
            values.append(float(f"{value:.12g}"))
            value += step
    return tuple(values), tuple(tick_text(v) for v in values)


def _fine_step(lo: float, hi: float, max_ticks: int = 5) -> float:
    span = hi - lo
    exponent = math.floor(math.log10(span / max_ticks))
    for mantissa in (1, 2, 5, 10):
        step = mantissa * 10.0**exponent
        if span / step <= max_ticks:
            return step
    return span


def axis_label(name: str, width: int = 12, lines: int = 2) -> str:
    """A hyperparameter's name for a narrow axis: broken at ``_`` into at most ``lines``
    lines of about ``width`` characters (``<br>`` between them), the rest cut with "…"."""
    words = name.split("_")
    out: list[str] = []
    for word in words:
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += "_" + word
        else:
            out.append(word)
    out = [w if len(w) <= width else w[: width - 1] + "…" for w in out]
    if len(out) > lines:
        out = out[: lines - 1] + [(out[lines - 1][: width - 1]) + "…"]
    return "<br>".join(out)
