"""The model's parameters as the engine declares them: one row per value a scenario can set."""
from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd

from . import _core

COLUMNS = ["path", "default", "min", "max", "unit", "doc", "source", "type", "exclusive_min"]


@lru_cache(maxsize=1)
def _rows() -> tuple:
    return tuple(dict(row, default=json.loads(row["default"])) for row in _core.parameters())


def parameters() -> pd.DataFrame:
    """Every model parameter: path (``"learning.learn_rate"``, the scenario key
    ``parameters/learning/learn_rate``), default, min, max (None where unbounded; for lists, the bounds
    of each element), unit, doc, source, type and whether min itself is excluded.

    >>> plsim.parameters().set_index("path").loc["learning.learn_rate", "default"]
    0.08
    """
    return pd.DataFrame(list(_rows()), columns=COLUMNS)


def parameter_reference() -> str:
    """docs/parameters.md: the same table as Markdown, one section per group."""
    return _core.parameter_reference()
