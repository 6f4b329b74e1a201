"""Output levels: a run's tables by school (as the engine reports them), by district or nationally.

``plsim run --level district|national`` and, in Python, ``plsim.aggregate(table, kind, level,
schools=sim.schools)`` or ``sim.table(kind, level)``. Every aggregate is one that the finer rows
determine exactly:

* counts and money (n, n_unmatched, students, schools, conversions, amount) are summed, and the
  number of schools (``schools``) or districts (``districts``) behind each row is added;
* means over students (mean_rit, mean_percentile, mean_sd, mean_true_rit, effect_rit, effect_sd,
  measured_effect_rit, true_effect_sd, estimate_sd) are weighted by n: the mean over all the students
  of the group, as if computed from them directly. Percentiles and shares likewise (share_students_pl
  is students_pl / students again, target_share is weighted by the students of districts with a plan);
* the spread between schools, which aggregation would otherwise lose, is kept as ``school_sd``: the
  SD over the group's schools of their mean (mean_sd in assessments, effect_sd in effects), unweighted
  with ddof 1 as `plsim.school_spread`; NaN for a single school;
* a standard deviation is never averaged: an SD of a group is pooled from its parts' n, means and SDs
  (`pooled_sd`: within-part sums of squares plus the parts' spread around the group mean). No
  school-level table carries a within-school SD today (the engine reports school means only), so no
  exported column needs it; fidelity.csv's sd is already national;
* the study's pooled estimate and its standard errors are those of `plsim.study.summarize` (se: schools
  as clusters; se_sampling: the schools' own SEs combined), with p_value recomputed from them;
* flags of districts (has_plan, gate_closed, proven, system_change) become counts of districts.

Columns that cannot be aggregated honestly are dropped at the coarser levels: school_id; the study's
school_type and implementation_year (school attributes) and its per-school p_value (recomputed);
nothing else. Keys that describe students or schools rather than places stay keys: season, subject,
grade, subgroup, year, model (effects and study: an effect on station-rotation schools is not averaged
with the zero of traditional ones), category, payer and one_off (costs).

Tables already coarser than the level asked keep their level: subgroups.csv and fidelity.csv are
national at every level, rollout.csv is by district at the school and district levels. The response
log (responses.csv) is a record of practice, not a table of statistics, and is written whole, as is the
table of the schools' own ids and attributes (schools.csv, for a scenario from a table of schools).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
from scipy import stats

from .tables import TABLES, Table

#: The output levels, finest first.
OUTPUT_LEVELS = ("school", "district", "national")
#: The tables `aggregate` knows, by the name of their CSV file (plsim.tables.TABLES).
KINDS = tuple(TABLES)


def check_level(level: str) -> str:
    if level not in OUTPUT_LEVELS:
        raise ValueError(f"level: expected one of {', '.join(OUTPUT_LEVELS)} (got {level!r})")
    return level


def pooled_sd(n, mean, sd, ddof: int = 1) -> float:
    """The SD of the union of groups from each group's size, mean and SD (with `ddof`, 1 for sample
    SDs): total sum of squares = sum of (n_g - ddof) sd_g^2 + n_g (mean_g - mean)^2, over N - ddof.
    Never the mean of the SDs."""
    n, mean, sd = (np.asarray(x, dtype=float) for x in (n, mean, sd))
    total = n.sum()
    if total - ddof <= 0:
        return float("nan")
    grand = (n * mean).sum() / total
    within = np.where(n > 0, (n - ddof) * np.nan_to_num(sd) ** 2, 0.0).sum()
    between = (n * (mean - grand) ** 2).sum()
    return float(np.sqrt((within + between) / (total - ddof)))


def aggregate(table: pd.DataFrame, kind: str, level: str, *, schools: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """`table` (one of a Sim's tables: `kind` names it, as its CSV file: assessments, subgroups,
    effects, rollout, fidelity, study, costs, responses) at `level` (school, district, national), as its
    entry of plsim.tables.TABLES declares. The district level needs `schools` (`sim.schools`) to place
    school rows and name districts. A table at `level` or coarser already is returned itself."""
    check_level(level)
    if kind not in TABLES:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)} (got {kind!r})")
    spec = TABLES[kind]
    if spec.level == "whole" or OUTPUT_LEVELS.index(level) <= OUTPUT_LEVELS.index(spec.level):
        return table
    if spec.custom == "rollout_national":
        return _rollout_national(table)
    if level == "district" and schools is None:
        raise ValueError(f"{kind}: the district level needs schools= (sim.schools) to place the schools")
    if spec.custom == "study":
        return _study(table, level, schools)
    return _declared(table, spec, level, schools)


# --- helpers -----------------------------------------------------------------------------------------

def _with_district(table: pd.DataFrame, schools: pd.DataFrame, at: int) -> pd.DataFrame:
    """`table` with the district of each row's school_id inserted at column `at` (categorical, in the
    scenario's order of districts)."""
    district = schools["district"]
    codes = district.cat.codes.to_numpy()[table["school_id"].to_numpy().astype(np.int64)]
    out = table.copy()
    out.insert(at, "district", pd.Categorical.from_codes(codes, district.cat.categories))
    return out


def _group_keys(keys: list, level: str) -> list:
    return keys if level == "district" else [k for k in keys if k != "district"]


def _weighted(table: pd.DataFrame, keys: list, weight: str, means: list, sums: list, count: Optional[str],
              spread: Optional[tuple] = None) -> pd.DataFrame:
    """Per group of `keys` (sorted; categories in their order): `count` (rows), the sums of `sums`, and
    the `weight`-weighted means of `means` over the rows where the value is known (NaN values are left
    out with their weights); `spread` = (name, column): the unweighted SD (ddof 1) of `column` over the
    group's rows, in two passes (the group mean, then the squares of the deviations from it)."""
    grouped = table[keys].groupby(keys, observed=True, sort=True, dropna=False)
    index = grouped.ngroup().to_numpy()
    out = grouped.size().index.to_frame(index=False)
    groups = len(out)

    def total(values) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=groups)

    if count:
        out[count] = np.bincount(index, minlength=groups).astype(np.int64)
    for column in sums:
        values = table[column].to_numpy()
        summed = total(values.astype(float))
        out[column] = summed.astype(np.int64) if values.dtype.kind in "iub" else summed  # exact below 2**53
    w = table[weight].to_numpy().astype(float)
    for column in means:
        x = table[column].to_numpy().astype(float)
        known = ~np.isnan(x)
        weights = total(np.where(known, w, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            out[column] = np.where(weights > 0, total(np.where(known, w * x, 0.0)) / weights, np.nan)
    if spread is not None:
        name, column = spread
        x = table[column].to_numpy().astype(float)
        known = ~np.isnan(x)
        k = total(known.astype(float))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total(np.where(known, x, 0.0)) / k
            squares = total(np.where(known, (x - mean[index]) ** 2, 0.0))
            out[name] = np.where(k > 1, np.sqrt(squares / (k - 1)), np.nan)
    return out


# --- the tables --------------------------------------------------------------------------------------

def _declared(table: pd.DataFrame, spec: Table, level: str, schools) -> pd.DataFrame:
    """A table aggregated as its entry declares: grouped by its keys but school_id (and district at
    the national level), its sums summed, its means weighted by spec.weight, the spread between its
    schools kept as spec.spread; columns not declared (school_ref, school_name) are dropped."""
    if level == "district" and spec.district_from == "school_id":
        table = _with_district(table, schools, table.columns.get_loc("school_id"))
    elif level == "district":
        names = schools["district"].cat.categories if schools is not None else None
        table = table.copy()
        table["district"] = pd.Categorical.from_codes(table["district"].to_numpy().astype(np.int64), names)
    keys = _group_keys([k for k in spec.keys if k != "school_id"], level)
    means = [c for c in spec.means if c in table]
    out = _weighted(table, keys, spec.weight, means, list(spec.sums), "schools", spec.spread)
    return out[keys + ["schools", *spec.sums] + means + ([spec.spread[0]] if spec.spread else [])]


def _study(table, level, schools):
    columns = ["district", "subject", "year", "model", "schools", "n", "n_unmatched", "estimate_sd", "se",
               "se_sampling", "p_value", "true_effect_sd"]
    keys = _group_keys(["year", "subject", "district", "model"], level)
    if table.empty:
        return pd.DataFrame(columns=[c for c in columns if c != "district" or level == "district"])
    if level == "district":
        table = _with_district(table, schools, 0)
    out = _weighted(table, keys, "n", ["estimate_sd", "true_effect_sd"], ["n", "n_unmatched"], "schools")
    # As plsim.study.summarize pools the schools: weights n / N; se with schools as clusters (the spread
    # of their estimates around the pooled one, k / (k - 1)), a lone school's own se; se_sampling from
    # the schools' own SEs.
    index = table.groupby(keys, observed=True, sort=True, dropna=False).ngroup().to_numpy()
    n = table["n"].to_numpy().astype(float)
    w = n / out["n"].to_numpy().astype(float)[index]
    deviation = table["estimate_sd"].to_numpy() - out["estimate_sd"].to_numpy()[index]
    k = out["schools"].to_numpy().astype(float)
    spread = np.bincount(index, weights=w ** 2 * deviation ** 2, minlength=len(out))
    own = np.bincount(index, weights=w ** 2 * table["se"].to_numpy() ** 2, minlength=len(out))
    with np.errstate(divide="ignore", invalid="ignore"):
        cluster = np.sqrt(spread * k / (k - 1))
    out["se"] = np.where(k > 1, cluster, np.sqrt(own))
    out["se_sampling"] = np.sqrt(own)
    se = out["se"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_value"] = np.where(se > 0, 2 * stats.norm.sf(np.abs(out["estimate_sd"].to_numpy()) / se), np.nan)
    order = [c for c in columns if c in out]
    return out[order].reset_index(drop=True)


_FLAGS = {"has_plan": "districts_with_plan", "gate_closed": "districts_gate_closed", "proven": "districts_proven",
          "system_change": "districts_system_change"}
_ROLLOUT_SUMS = ["students", "students_pl", "students_in_pl_schools", "schools", "schools_pilot",
                 "schools_schoolwide", "converted", "dropped", "codified", "held_back", "students_reached",
                 "gate_students"]


def _rollout_national(table: pd.DataFrame) -> pd.DataFrame:
    """One row per year over every district: the counts summed, districts and the districts with each
    flag counted, target_share weighted by the students of the districts with a plan (as
    Sim.rollout_by_year), the gates' measured pilot effect weighted by their students, share_students_pl
    recomputed."""
    if table.empty:
        return table
    t = table.copy()
    target = t["target_share"].to_numpy(float)
    planned = t["has_plan"].to_numpy(bool) & ~np.isnan(target)
    t["_planned_students"] = np.where(planned, t["students"], 0)
    t["_target"] = np.where(planned, t["students"] * np.nan_to_num(target), 0.0)
    t["_rows"] = 1
    for flag in _FLAGS:
        t[flag] = t[flag].astype(np.int64)
    gate = t["gate_estimate_sd"].to_numpy(float)
    known = ~np.isnan(gate) & (t["gate_students"].to_numpy() > 0)
    t["_gate_w"] = np.where(known, t["gate_students"], 0)
    t["_gate"] = np.where(known, t["gate_students"] * np.nan_to_num(gate), 0.0)
    # held_back and students_reached: absent from a rollout.csv written before plans had a target_kind.
    sums = [c for c in _ROLLOUT_SUMS if c in t]
    g = t.groupby("year", sort=True)[["_rows", "_planned_students", "_target", "_gate_w", "_gate", *_FLAGS,
                                      *sums]].sum()
    out = pd.DataFrame({"year": g.index.to_numpy(), "districts": g["_rows"].to_numpy(np.int64),
                        "districts_with_plan": g["has_plan"].to_numpy(np.int64)})
    planned = g["_planned_students"].to_numpy(float)
    out["target_share"] = np.where(planned > 0, g["_target"].to_numpy() / np.where(planned > 0, planned, 1), np.nan)
    for column in sums[:-1]:  # gate_students (last) follows the gate's estimate
        out[column] = g[column].to_numpy(np.int64)
    gate_w = g["_gate_w"].to_numpy(float)
    out["gate_estimate_sd"] = np.where(gate_w > 0, g["_gate"].to_numpy() / np.where(gate_w > 0, gate_w, 1), np.nan)
    out["gate_students"] = g["gate_students"].to_numpy(np.int64)
    for flag, name in list(_FLAGS.items())[1:]:
        out[name] = g[flag].to_numpy(np.int64)
    students = out["students"].to_numpy(float)
    out["share_students_pl"] = out["students_pl"] / np.where(students > 0, students, np.nan)
    if "target_kind" in t:
        out["target_kind"] = [shared_target_kind(g) for _, g in t.groupby("year", sort=True)]
    return out


def shared_target_kind(rows: pd.DataFrame) -> str:
    """What the targets of the districts with a plan mean (plsim.run_tables: at_least, at_most or
    closest), "mixed" when they differ, "none" without a plan."""
    kinds = set(rows.loc[rows["has_plan"].astype(bool), "target_kind"].astype(str))
    return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "none"
