"""A real district from a table: one row per school, columns named like the scenario's school keys.

``plsim.from_schools(table)`` builds a validated scenario with one school group per row, so an analyst
starts from his own list of schools; ``plsim init --schools FILE`` writes it as a scenario file to
edit. Errors name the row (and the school's id and name) and the column. The row's id and name, and
any column plsim does not read, travel with its school group (plsim.identifiers): every per-school
output carries them as school_ref and school_name, and sim.schools has the other columns.
"""
from __future__ import annotations

import difflib
import io
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import pandas as pd
from scipy.stats import norm

from . import _core
from .safe_io import SCHOOLS_CSV_MAX_BYTES, read_bounded
from .scenarios import Scenario

# Columns a table may have: the school keys of scenarios, plus id, name and start_percentile.
REQUIRED = ("enrollment",)
OPTIONAL = ("id", "name", "level", "grades", "grade_lo", "grade_hi", "type", "frl_share", "class_size",
            "achievement_shift_sd", "start_percentile", "model", "implementation_year")
LEVEL_OF_GRADES = (("elementary", 0, 5), ("middle", 6, 8), ("high", 9, 12))


class SchoolTableError(ValueError):
    """Every problem of a table of schools, one per line, each naming its row and column."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _read(table: Union[str, os.PathLike, pd.DataFrame]) -> tuple[pd.DataFrame, str]:
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True), "<table>"
    if isinstance(table, (str, os.PathLike)):
        path = Path(table)
        if not path.exists():
            raise FileNotFoundError(f"schools: no file {str(table)!r}")
        refuse = lambda message: SchoolTableError([message])  # noqa: E731
        data = read_bounded(path, limit=SCHOOLS_CSV_MAX_BYTES, what="table of schools (CSV)", error=refuse)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise SchoolTableError([f"{path}: not UTF-8 text (byte {e.start}); save the table as CSV in UTF-8"]) from None
        try:
            return pd.read_csv(io.StringIO(text)), str(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise SchoolTableError([f"{path}: not a CSV table ({' '.join(str(e).split())}); give one row per "
                                    f"school with a header"]) from None
    raise TypeError(f"schools: expected a CSV path or a pandas DataFrame (got {type(table).__name__})")


def _row_label(row: pd.Series, k: int) -> str:
    parts = [f"row {k + 1}"]
    who = ", ".join(str(row[c]) for c in ("id", "name") if c in row.index and not pd.isna(row[c]))
    return f"{parts[0]} ({who})" if who else parts[0]


def _grades(value: Any) -> Optional[list[int]]:
    """'K-5', '6-8', '0-12' or [lo, hi] as [lo, hi]; None when it cannot be read."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            return [int(value[0]), int(value[1])]
        except (TypeError, ValueError, OverflowError):
            return None
    text = str(value).strip().upper().replace("–", "-")
    if "-" not in text:
        return None
    lo, hi = (p.strip() for p in text.split("-", 1))
    try:
        return [0 if lo == "K" else int(lo), 0 if hi == "K" else int(hi)]
    except ValueError:
        return None


def _group(row: pd.Series, k: int, errors: list[str], source: str) -> dict:
    label = f"{source}: {_row_label(row, k)}"
    group: dict = {}
    # An empty cell is NaN (or None in a column of objects).
    present = {c for c in row.index if not (row[c] is None or (isinstance(row[c], float) and math.isnan(row[c])))}

    def whole(column: str) -> Optional[int]:
        value = row[column]
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        errors.append(f"{label}: column {column}: expected a whole number (got {value!r})")
        return None

    def number(column: str) -> Optional[float]:
        value = row[column]
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            x = math.nan
        if not math.isfinite(x):
            errors.append(f"{label}: column {column}: expected a number (got {value!r})")
            return None
        return x

    if "grades" in present:
        grades = _grades(row["grades"])
        if grades is None:
            errors.append(f"{label}: column grades: expected a range like K-5 or 6-8 (got {row['grades']!r})")
        else:
            group["grades"] = grades
    elif {"grade_lo", "grade_hi"} <= present:
        lo, hi = whole("grade_lo"), whole("grade_hi")
        if lo is not None and hi is not None:
            group["grades"] = [lo, hi]
    if "level" in present:
        group["level"] = str(row["level"])
    elif "grades" in group:
        lo = group["grades"][0]
        group["level"] = next((name for name, a, b in LEVEL_OF_GRADES if a <= lo <= b), "elementary")
    else:
        errors.append(f"{label}: columns level and grades are both missing: give a level (elementary, middle, high) "
                      f"or grades (e.g. K-5)")
    for column in ("enrollment", "class_size", "implementation_year"):
        if column in present and (value := whole(column)) is not None:
            group[column] = value
    if "type" in present:
        group["type"] = str(row["type"])
    if "frl_share" in present and (share := number("frl_share")) is not None:
        group["frl_share"] = {"mean": share, "sd": 0.0}
    if "achievement_shift_sd" in present and "start_percentile" in present:
        errors.append(f"{label}: columns achievement_shift_sd and start_percentile: give one, not both")
    elif "achievement_shift_sd" in present:
        if (shift := number("achievement_shift_sd")) is not None:
            group["achievement_shift_sd"] = shift
    elif "start_percentile" in present and (p := number("start_percentile")) is not None:
        if not 0 < p < 100:
            errors.append(f"{label}: column start_percentile: must be between 0 and 100, exclusive (got {p!r})")
        else:
            # The school's mean student starts at this national percentile: a shift in student SDs.
            group["achievement_shift_sd"] = round(float(norm.ppf(p / 100.0)), 6)
    if "model" in present:
        group["model"] = str(row["model"])
    for column in ("id", "name"):
        if column in present:
            group[f"_{column}"] = _plain(row[column])
    # The other columns pass through as school attributes (keys beginning "_" are the engine's to ignore).
    attributes = {c: _plain(row[c]) for c in row.index if c not in REQUIRED + OPTIONAL and c in present}
    if attributes:
        group["_attributes"] = attributes
    return group


def _plain(value: Any) -> Any:
    """A cell as a JSON value: numpy scalars as Python ones, anything else not a number as text."""
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, (bool, int, float, str)) else str(value)


# Scenario keys of a school group and the table column each comes from.
_COLUMN_OF_KEY = {"frl_share": "frl_share", "achievement_shift_sd": "achievement_shift_sd", "grades": "grades",
                  "level": "level", "enrollment": "enrollment", "type": "type", "class_size": "class_size",
                  "model": "model", "models": "model", "implementation_year": "implementation_year"}


def from_schools(table: Union[str, os.PathLike, pd.DataFrame], *, name: str = "district", years: int = 5,
                 seed: int = 1, district: str = "district") -> Scenario:
    """A validated scenario of one district holding one school per row of `table` (a CSV path or a
    DataFrame). Columns: enrollment (required); level or grades ("K-5", or grade_lo and grade_hi);
    optionally id, name, type (district, charter), frl_share (0..1), class_size, model,
    implementation_year, and either achievement_shift_sd (student SDs) or start_percentile (the
    national percentile of the school's mean student). The id and name come back as school_ref and
    school_name in every per-school output; any other column is kept as a school attribute (in
    sim.schools, to group outputs by), with a warning when its name is close to a column plsim reads.
    Raises SchoolTableError listing every problem, each naming the row (with the school's id and name)
    and the column."""
    frame, source = _read(table)
    errors: list[str] = []
    for column in (c for c in frame.columns if c not in REQUIRED + OPTIONAL):
        if not isinstance(column, str) or not column or column.startswith("_"):
            errors.append(f"{source}: column {column!r}: an attribute's name must be text not starting with _")
            continue
        close = difflib.get_close_matches(column, REQUIRED + OPTIONAL, n=1, cutoff=0.8)
        if close:  # a misspelt column would otherwise be kept, unread, as an attribute
            warnings.warn(f"{source}: column {column!r} is kept as a school attribute, not read as {close[0]!r}; "
                          f"rename it if that was meant", stacklevel=2)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        errors.append(f"{source}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        errors.append(f"{source}: the table has no schools")
    if errors:
        raise SchoolTableError(errors)
    groups = [_group(row, k, errors, source) for k, row in frame.iterrows()]
    if errors:
        raise SchoolTableError(errors)
    document = {"name": name, "description": f"{len(groups)} schools from {source}", "years": years, "seed": seed,
                "districts": [{"name": district, "schools": groups}]}
    problems = _core.check_scenario(json.dumps(document), source)
    if problems:
        raise SchoolTableError([_as_row_error(e, frame, source) for e in problems])
    return Scenario(document, source)


def _as_row_error(error: str, frame: pd.DataFrame, source: str) -> str:
    """A scenario error at /districts/0/schools/K/KEY... told as the row and column of the table."""
    marker = "/districts/0/schools/"
    if marker not in error:
        return error
    rest = error.split(marker, 1)[1]
    index, _, after = rest.partition("/")
    if not index.isdigit():
        return error
    key, _, message = after.partition(": ")
    column = _COLUMN_OF_KEY.get(key.split("/")[0], key.split("/")[0])
    if not message:  # an error about the whole row
        column, message = "", after.partition(": ")[2] or after
    k = int(index)
    where = f"{source}: {_row_label(frame.iloc[k], k)}" if k < len(frame) else f"{source}: row {k + 1}"
    return f"{where}: column {column}: {message}" if column else f"{where}: {message}"
