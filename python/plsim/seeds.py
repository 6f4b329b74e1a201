"""Seeds as every plsim function that runs a scenario several times takes them: a number N (seeds
1..N, as `plsim compare --seeds N` and `plsim ensemble --seeds N` count them) or a list of integer seeds."""
from __future__ import annotations

from numbers import Integral
from typing import Any


def seed_list(seeds: Any, argument: str = "seeds") -> list[int]:
    """`seeds` as a list: an integer N >= 1 as [1, ..., N]; an iterable of integers >= 0 as they are.
    A ValueError names `argument`, what is expected and what was given."""
    expected = f"{argument}: expected a number of seeds N (seeds 1..N) or a list of integer seeds"
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"{expected} (got {seeds!r}: at least 1 seed)")
        return list(range(1, int(seeds) + 1))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{expected} (got {seeds!r})")
    out = list(seeds)
    bad = [s for s in out if not isinstance(s, Integral) or isinstance(s, bool) or s < 0]
    if bad or not out:
        raise ValueError(f"{expected} (got {seeds!r}{': none' if not out else f'; {bad[0]!r} is not one'})")
    return [int(s) for s in out]
