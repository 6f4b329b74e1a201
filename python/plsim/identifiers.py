"""A district's own identifiers of its schools, beside plsim's `school_id`.

The engine numbers schools 0..N-1 in the scenario's order (districts, their copies, school groups, the
schools of a group): `school_id`. A scenario from a table of schools (`plsim.from_schools`, `plsim init
--schools`) keeps each row's id and name, and the table's other columns, on its school group (`_id`,
`_name`, `_attributes`: keys the engine leaves alone), and every per-school output carries them again as
`school_ref` and `school_name` next to `school_id`, so that results join the district's own records.
"""
from __future__ import annotations

from typing import Optional

import pandas as pd

#: The columns a table of schools' identifiers adds to a per-school output, after school_id.
REF_COLUMNS = ("school_ref", "school_name")


def school_identifiers(document: dict, schools: int) -> Optional[pd.DataFrame]:
    """One row per school (index school_id) with school_ref, school_name and the table's extra columns
    (pass-through attributes), from the school groups of a scenario `document`; None when no group has
    an id, a name or attributes (a scenario not written from a table of schools), or when the groups do
    not add up to `schools` (the engine's count)."""
    rows, known = [], False
    for district in document.get("districts", []):
        for _ in range(int(district.get("count", 1))):
            for group in district.get("schools", []):
                ref, name = group.get("_id"), group.get("_name")
                attributes = group.get("_attributes") or {}
                known = known or ref is not None or name is not None or bool(attributes)
                row = {"school_ref": None if ref is None else str(ref), "school_name": name, **attributes}
                rows.extend(dict(row) for _ in range(int(group.get("count", 1))))
    if not known or len(rows) != schools:
        return None
    frame = pd.DataFrame(rows)
    frame.index.name = "school_id"
    return frame


def with_refs(table: pd.DataFrame, identifiers: Optional[pd.DataFrame]) -> pd.DataFrame:
    """`table` (rows keyed by school_id) with school_ref and school_name inserted after school_id; the
    table itself when there are no identifiers or no school_id column."""
    if identifiers is None or "school_id" not in table:
        return table
    out = table.copy()
    at = list(out.columns).index("school_id") + 1
    index = out["school_id"].to_numpy()
    for k, column in enumerate(REF_COLUMNS):
        out.insert(at + k, column, identifiers[column].to_numpy()[index] if len(out) else [])
    return out
