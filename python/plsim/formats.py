"""Numbers as people read them: money as $1,234,567, shares as 12.3%, effects as +0.12 SD, counts
with thousands separators, and "n/a" for a number that is not there (NaN, None, infinite). One place
for the report, the printed tables and the axes of plots (plsim.by_year, plsim.report)."""
from __future__ import annotations

import math
from typing import Any

#: What a figure counts, and so how it is written: US$, a share of 1, national student-SD units, a
#: count of people or schools, a plain number (a 0..1 index such as burnout).
UNITS = ("money", "share", "sd", "count", "number")

NOT_AVAILABLE = "n/a"


def _number(value: Any):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def money(value: Any) -> str:
    """$1,234,567 (whole dollars; -$1,200 for a negative amount)."""
    x = _number(value)
    if x is None:
        return NOT_AVAILABLE
    return f"-${abs(x):,.0f}" if round(x) < 0 else f"${x:,.0f}"


def share(value: Any, digits: int = 1) -> str:
    """12.3% (a share of 1 as a percentage)."""
    x = _number(value)
    return NOT_AVAILABLE if x is None else f"{100 * x:.{digits}f}%"


def sd(value: Any, digits: int = 2) -> str:
    """+0.12 SD (national student-SD units, signed)."""
    x = _number(value)
    return NOT_AVAILABLE if x is None else f"{x:+.{digits}f} SD"


def count(value: Any) -> str:
    """12,345 (rounded to a whole number)."""
    x = _number(value)
    return NOT_AVAILABLE if x is None else f"{x:,.0f}"


def number(value: Any, digits: int = 2) -> str:
    """0.42 (a plain number to `digits` decimals)."""
    x = _number(value)
    return NOT_AVAILABLE if x is None else f"{x:,.{digits}f}"


def value(x: Any, unit: str) -> str:
    """`x` written as its unit asks (UNITS)."""
    writer = {"money": money, "share": share, "sd": sd, "count": count, "number": number}.get(unit)
    if writer is None:
        raise ValueError(f"unit: expected one of {', '.join(UNITS)} (got {unit!r})")
    return writer(x)


def band(mean: Any, low: Any, high: Any, unit: str) -> str:
    """"12.3% (10.1% to 14.0%)": a mean with its band, or the mean alone when the band is a point."""
    text = value(mean, unit)
    lo, hi = value(low, unit), value(high, unit)
    if text == NOT_AVAILABLE or lo == NOT_AVAILABLE or hi == NOT_AVAILABLE or lo == hi:
        return text
    return f"{text} ({lo} to {hi})"
