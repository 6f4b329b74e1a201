"""A real district from a table: one row per school, columns named like the scenario's school keys.

``plsim.from_schools(table)`` builds a validated scenario with one school group per row, so an analyst
starts from his own list of schools; ``plsim init --schools FILE`` writes it as a scenario file to
edit. Each problem is told once per column (the rows that have it, with the school's id and name, and
an example of what was found); numbers may have thousands separators ("1,115"), and levels and types
any case ("Elementary"); school ids must be unique. The row's id and name, and
any column plsim does not read, travel with its school group (plsim.identifiers): every per-school
output carries them as school_ref and school_name, and sim.schools has the other columns.
"""
from __future__ import annotations

import difflib
import io
import json
import math
import os
import re
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
# Columns of numbers: a cell written "1,115" or " 610 " is read as the number.
NUMERIC = ("enrollment", "class_size", "implementation_year", "grade_lo", "grade_hi", "frl_share",
           "achievement_shift_sd", "start_percentile")
# Columns whose words are read in any case ("Elementary", "CHARTER"): their values, in the engine's case.
WORDS = {"level": tuple(name for name, _, _ in LEVEL_OF_GRADES), "type": ("district", "charter")}
# A number with thousands separators: 1,115 or 12,345.5 (and not 1,5, a decimal comma).
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
#: Rows listed in an error before "...".
ROWS_SHOWN = 8


class SchoolTableError(ValueError):
    """Every problem of a table of schools, one per line: each names its column (or the table) and the
    rows that have it, with an example of what was found."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class _Problems:
    """Problems of a table's cells, told once per column and problem: the rows that have it (with the
    school's id and name) and what the first of them holds."""

    def __init__(self, frame: pd.DataFrame, source: str):
        self.frame, self.source = frame, source
        self.found: dict = {}  # (column, problem) -> [(row index, what was found or None)]

    def add(self, k: int, column: Optional[str], problem: str, found: Optional[str] = None) -> None:
        self.found.setdefault((column, problem), []).append((k, found))

    def __bool__(self) -> bool:
        return bool(self.found)

    def lines(self) -> list[str]:
        out = []
        for (column, problem), hits in self.found.items():
            what = f"column {column}: {problem}" if column else problem
            k, found = hits[0]
            first = _row_label(self.frame.iloc[k], k)
            got = f"got {found}" if found is not None else ""
            if len(hits) == 1:
                out.append(f"{self.source}: {first}: {what}" + (f" ({got})" if got else ""))
                continue
            rows = ", ".join(str(j + 1) for j, _ in hits[:ROWS_SHOWN]) + (", ..." if len(hits) > ROWS_SHOWN else "")
            example = f"; e.g. {first}: {got}" if got else f"; e.g. {first}"
            out.append(f"{self.source}: rows {rows} ({len(hits)} of {len(self.frame)}): {what}{example}")
        return out


def _numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with the cells of NUMERIC columns that are numbers written as text ("1,115", " 310")
    as numbers; other cells as they were (they are told as errors)."""
    out = frame.copy()
    for column in (c for c in NUMERIC if c in out.columns and out[c].dtype == object):
        def read(cell):
            if not isinstance(cell, str):
                return cell
            text = cell.strip()
            if _THOUSANDS.fullmatch(text):
                text = text.replace(",", "")
            try:
                return float(text) if text else math.nan
            except ValueError:
                return cell
        out[column] = out[column].map(read)
    return out


def _word(value: Any, column: str) -> str:
    """A level or type in the engine's case when it is one in any case; else as written (refused later)."""
    text = str(value).strip()
    return next((w for w in WORDS[column] if w == text.lower()), str(value))


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


def _group(row: pd.Series, k: int, errors: _Problems) -> dict:
    group: dict = {}
    # An empty cell is NaN (or None in a column of objects).
    present = {c for c in row.index if not (row[c] is None or (isinstance(row[c], float) and math.isnan(row[c])))}

    def whole(column: str) -> Optional[int]:
        value = row[column]
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        errors.add(k, column, "expected a whole number", repr(value))
        return None

    def number(column: str) -> Optional[float]:
        value = row[column]
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            x = math.nan
        if not math.isfinite(x):
            errors.add(k, column, "expected a number", repr(value))
            return None
        return x

    if "grades" in present:
        grades = _grades(row["grades"])
        if grades is None:
            errors.add(k, "grades", "expected a range like K-5 or 6-8", repr(row["grades"]))
        else:
            group["grades"] = grades
    elif {"grade_lo", "grade_hi"} <= present:
        lo, hi = whole("grade_lo"), whole("grade_hi")
        if lo is not None and hi is not None:
            group["grades"] = [lo, hi]
    if "level" in present:
        group["level"] = _word(row["level"], "level")
    elif "grades" in group:
        lo = group["grades"][0]
        group["level"] = next((name for name, a, b in LEVEL_OF_GRADES if a <= lo <= b), "elementary")
    else:
        errors.add(k, None, "columns level and grades are both missing: give a level (elementary, middle, high) "
                            "or grades (e.g. K-5)")
    for column in ("enrollment", "class_size", "implementation_year"):
        if column in present and (value := whole(column)) is not None:
            group[column] = value
    if "type" in present:
        group["type"] = _word(row["type"], "type")
    if "frl_share" in present and (share := number("frl_share")) is not None:
        group["frl_share"] = {"mean": share, "sd": 0.0}
    if "achievement_shift_sd" in present and "start_percentile" in present:
        errors.add(k, None, "columns achievement_shift_sd and start_percentile: give one, not both")
    elif "achievement_shift_sd" in present:
        if (shift := number("achievement_shift_sd")) is not None:
            group["achievement_shift_sd"] = shift
    elif "start_percentile" in present and (p := number("start_percentile")) is not None:
        if not 0 < p < 100:
            errors.add(k, "start_percentile", "must be between 0 and 100, exclusive", repr(p))
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
    Numbers may have thousands separators ("1,115"); levels and types may be in any case. Raises
    SchoolTableError listing every problem once per column: the rows that have it (the first with the
    school's id and name) and an example of what was found; school ids given twice are refused."""
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
    frame = _numbers(frame)
    problems = _Problems(frame, source)
    groups = [_group(row, k, problems) for k, row in frame.iterrows()]
    errors = _duplicate_ids(frame, source) + problems.lines()
    if errors:
        raise SchoolTableError(errors)
    document = {"name": name, "description": f"{len(groups)} schools from {source}", "years": years, "seed": seed,
                "districts": [{"name": district, "schools": groups}]}
    refused = _core.check_scenario(json.dumps(document), source)
    if refused:
        problems = _Problems(frame, source)
        others = [e for e in refused if not _as_row_problem(e, frame, problems)]
        raise SchoolTableError(others + problems.lines())
    return Scenario(document, source)


def _duplicate_ids(frame: pd.DataFrame, source: str) -> list[str]:
    """One error naming every school id given to more than one row, with its rows (ids are how outputs
    join the district's records: two schools with one id could not be told apart)."""
    if "id" not in frame.columns:
        return []
    ids = frame["id"].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(_plain(v)))
    rows = ids.dropna().groupby(ids.dropna()).groups
    twice = [(i, [int(k) + 1 for k in index]) for i, index in rows.items() if len(index) > 1]
    if not twice:
        return []
    told = "; ".join(f"{i!r} in rows {', '.join(map(str, r[:ROWS_SHOWN]))}" for i, r in twice[:ROWS_SHOWN])
    more = f"; and {len(twice) - ROWS_SHOWN} more" if len(twice) > ROWS_SHOWN else ""
    return [f"{source}: column id: each school needs its own id ({len(twice)} given to more than one row): "
            f"{told}{more}"]


def _as_row_problem(error: str, frame: pd.DataFrame, problems: _Problems) -> bool:
    """A scenario error at /districts/0/schools/K/KEY... added to `problems` as the row and column of the
    table (the "(got ...)" part as what was found); False for an error about no row."""
    marker = "/districts/0/schools/"
    if marker not in error:
        return False
    index, _, after = error.split(marker, 1)[1].partition("/")
    if not index.isdigit() or int(index) >= len(frame):
        return False
    key, _, message = after.partition(": ")
    column = _COLUMN_OF_KEY.get(key.split("/")[0], key.split("/")[0])
    if not message:  # an error about the whole row
        column, message = None, after.partition(": ")[2] or after
    problem, got, found = message.rpartition(" (got ")
    if got and found.endswith(")"):
        problems.add(int(index), column, problem, found[:-1])
    else:
        problems.add(int(index), column, message)
    return True
