"""Tidy results and the statistics the default model is calibrated against (shared/data/targets.json)."""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd

from . import _core

# The engine's name tables (plsim/types.hpp): codes in the engine's columns index them.
SUBJECTS = tuple(_core.names["subjects"])
SEASONS = tuple(_core.names["seasons"])
LEVELS = tuple(_core.names["levels"])
SCHOOL_TYPES = tuple(_core.names["school_types"])
SUBGROUPS = tuple(_core.names["subgroups"])
TARGET_KINDS = tuple(_core.names["target_kinds"])

#: Whose effect a headline figure is, by the suffix its name carries (effect_sd_pl_schools,
#: effect_math_sd_pl_cohort, ...), in the words every output uses for it. The same name is the same
#: number wherever it appears: summary.json, CLI text, DataFrames, plots, reports, compare, ensemble.
WHOSE = {"pl_schools": "students in PL schools that year",
         "pl_cohort": "the PL cohort (students ever enrolled in a PL school)"}


def years_from_1(rows):
    """A result table of the engine (a dict of columns or a list of row dicts) with its `year` counted
    from 1, as every table, file and figure a user sees counts them: the engine counts from 0, as the
    ticks of its random streams do, and the shift is made here, once, as the rows leave it."""
    if isinstance(rows, list):
        return [dict(r, year=r["year"] + 1) for r in rows]
    out = dict(rows)
    if "year" in out:
        out["year"] = np.asarray(out["year"]) + 1
    return out


def assessment_frame(columns: dict) -> pd.DataFrame:
    """One row per year (from 1), season, subject, grade and school, from the engine's columns."""
    df = pd.DataFrame(years_from_1(columns))
    df["season"] = pd.Categorical.from_codes(df["season"], SEASONS)
    df["subject"] = pd.Categorical.from_codes(df["subject"], SUBJECTS)
    return df[["year", "season", "subject", "grade", "school_id", "n", "mean_rit", "mean_percentile",
               "mean_sd", "mean_true_rit"]]


@lru_cache(maxsize=1)
def _norms() -> dict:
    """The norms table the engine was built with (one copy, compiled into the engine)."""
    return json.loads(_core.norms_json())


def norms_growth() -> pd.DataFrame:
    """National fall-to-spring growth per subject and grade (RIT), and the fall SD."""
    norms = _norms()
    rows = []
    for subject in SUBJECTS:
        for grade in range(13):
            fall = norms[subject]["fall"][str(grade)]
            spring = norms[subject]["spring"][str(grade)]
            rows.append({"subject": subject, "grade": grade, "norm_growth": spring["mean"] - fall["mean"],
                         "fall_sd": fall["sd"]})
    return pd.DataFrame(rows)


def _cell_means(df: pd.DataFrame, year: int, value: str) -> pd.DataFrame:
    sub = df[df["year"] == year]
    sub = sub.assign(weighted=sub[value] * sub["n"])
    g = sub.groupby(["subject", "season", "grade"], observed=True)[["weighted", "n"]].sum()
    return (g["weighted"] / g["n"]).unstack("season")


def growth_by_grade(assessments: pd.DataFrame, year: int = 1, value: str = "mean_rit") -> pd.DataFrame:
    """Mean fall-to-spring growth per subject and grade in one year (from 1), next to the national norm
    growth."""
    means = _cell_means(assessments, year, value)
    out = (means["spring"] - means["fall"]).rename("growth").reset_index()
    out = out.merge(norms_growth(), on=["subject", "grade"])
    out["ratio"] = out["growth"] / out["norm_growth"]
    return out[["subject", "grade", "growth", "norm_growth", "ratio"]]


def school_spread(assessments: pd.DataFrame, year: int = 1, season: str = "fall") -> pd.DataFrame:
    """SD across schools of school mean scores in one year (from 1), in national student SDs, per
    subject and grade."""
    sub = assessments[(assessments["year"] == year) & (assessments["season"] == season)]
    out = sub.groupby(["subject", "grade"], observed=True)["mean_sd"].agg(["std", "count"])
    return out.rename(columns={"std": "school_sd", "count": "schools"}).reset_index()


def school_growth_spread(assessments: pd.DataFrame, year: int = 1, max_grade: int = 8) -> pd.DataFrame:
    """SD across schools of school mean fall-to-spring growth, in national student SDs (fall SD of the
    grade), per subject and grade up to `max_grade`."""
    sub = assessments[(assessments["year"] == year) & (assessments["grade"] <= max_grade)]
    wide = sub.pivot_table(index=["subject", "grade", "school_id"], columns="season", values="mean_rit",
                           observed=True)
    growth = (wide["spring"] - wide["fall"]).rename("growth").reset_index()
    growth = growth.merge(norms_growth()[["subject", "grade", "fall_sd"]], on=["subject", "grade"])
    growth["growth_sd_units"] = growth["growth"] / growth["fall_sd"]
    out = growth.groupby(["subject", "grade"], observed=True)["growth_sd_units"].agg(["std", "count"])
    return out.rename(columns={"std": "school_growth_sd", "count": "schools"}).reset_index()


def effects(assessments: pd.DataFrame, counterfactual: pd.DataFrame, season: str = "spring") -> pd.DataFrame:
    """True effects per year, subject, grade and school: the policy run's mean true scale score minus
    the counterfactual twin's, for the same students, in RIT points and national student SDs."""
    keys = ["year", "season", "subject", "grade", "school_id"]
    a = assessments[assessments["season"] == season]
    b = counterfactual[counterfactual["season"] == season]
    m = a.merge(b[keys + ["mean_true_rit", "mean_rit", "n"]], on=keys, suffixes=("", "_cf"))
    if not (m["n"] == m["n_cf"]).all():
        raise RuntimeError("effects: the policy run and its counterfactual twin have different students")
    norms = _norms()
    sd = np.array([norms[s][season][str(g)]["sd"] for s, g in zip(m["subject"].astype(str), m["grade"])])
    out = m[["year", "subject", "grade", "school_id", "n"]].copy()
    out["effect_rit"] = m["mean_true_rit"] - m["mean_true_rit_cf"]
    out["effect_sd"] = out["effect_rit"] / sd
    out["measured_effect_rit"] = m["mean_rit"] - m["mean_rit_cf"]
    return out.reset_index(drop=True)


SUBGROUP_COLUMNS = ["year", "subject", "grade", "subgroup", "n", "growth_true_rit", "growth_measured_rit",
                    "norm_growth_rit", "effect_true_sd", "effect_measured_sd"]


def subgroup_table(policy: dict, twin: dict | None = None) -> pd.DataFrame:
    """One row per year, subject, grade and subgroup: n (spring), fall-to-spring growth of the true and
    of the measured mean score, the norm's growth and, against the twin, the spring effect in national
    student SDs, true and measured (empty without a twin). Subgroups: plsim.results.SUBGROUPS."""
    def frame(columns: dict) -> pd.DataFrame:
        df = pd.DataFrame(years_from_1(columns))
        df["season"] = pd.Categorical.from_codes(df["season"], SEASONS)
        df["subject"] = pd.Categorical.from_codes(df["subject"], SUBJECTS)
        df["subgroup"] = pd.Categorical.from_codes(df["subgroup"], SUBGROUPS)
        return df

    keys = ["year", "subject", "grade", "subgroup"]
    a = frame(policy)
    fall = a[a["season"] == "fall"].set_index(keys)
    spring = a[a["season"] == "spring"].set_index(keys)
    out = pd.DataFrame({"n": spring["n"],
                        "growth_true_rit": spring["mean_true_rit"] - fall["mean_true_rit"],
                        "growth_measured_rit": spring["mean_rit"] - fall["mean_rit"]}).dropna(subset=["n"])
    out = out.reset_index()
    out["subject"] = out["subject"].astype(str)
    out = out.merge(norms_growth()[["subject", "grade", "norm_growth"]], on=["subject", "grade"], how="left")
    out = out.rename(columns={"norm_growth": "norm_growth_rit"})
    out["effect_true_sd"] = np.nan
    out["effect_measured_sd"] = np.nan
    if twin is not None:
        b = frame(twin)
        b = b[b["season"] == "spring"].set_index(keys)
        s = spring.join(b[["mean_rit", "mean_true_rit"]], rsuffix="_cf").reset_index()
        norms = _norms()
        sd = np.array([norms[str(x)]["spring"][str(g)]["sd"] for x, g in zip(s["subject"], s["grade"])])
        s["effect_true_sd"] = (s["mean_true_rit"] - s["mean_true_rit_cf"]) / sd
        s["effect_measured_sd"] = (s["mean_rit"] - s["mean_rit_cf"]) / sd
        s["subject"] = s["subject"].astype(str)
        out = out.drop(columns=["effect_true_sd", "effect_measured_sd"]).merge(
            s[keys + ["effect_true_sd", "effect_measured_sd"]], on=keys, how="left")
    out["n"] = out["n"].astype(np.int64)
    out["subject"] = pd.Categorical(out["subject"], SUBJECTS)
    out["subgroup"] = pd.Categorical(out["subgroup"].astype(str), SUBGROUPS)
    return out.sort_values(keys).reset_index(drop=True)[SUBGROUP_COLUMNS]


def headline_effects(effect_rows: pd.DataFrame) -> dict:
    """Per subject, the mean true effect over students of personalized schools (model other than
    traditional) that year, weighted by students; `effect_rows` as from `Sim.effects`. Its names say
    whose effect it is (effect_sd_pl_schools, effect_rit_pl_schools, by_year_pl_schools; WHOSE); the
    earlier mean_effect_sd, mean_effect_rit and by_year hold the same numbers."""
    e = effect_rows[effect_rows["model"].astype(str) != "traditional"]
    out: dict = {}
    for subject in SUBJECTS:
        s = e[e["subject"] == subject]
        if s.empty:
            continue
        by_year = s.groupby("year").apply(lambda g: pd.Series({
            "students": int(g["n"].sum()),
            "mean_effect_sd": float(np.average(g["effect_sd"], weights=g["n"])),
            "mean_effect_rit": float(np.average(g["effect_rit"], weights=g["n"]))}))
        last = by_year.iloc[-1]
        years = {str(int(y)): round(float(v), 6) for y, v in by_year["mean_effect_sd"].items()}
        out[subject] = {"whose": WHOSE["pl_schools"],
                        "effect_sd_pl_schools": float(last["mean_effect_sd"]),
                        "effect_rit_pl_schools": float(last["mean_effect_rit"]),
                        "by_year_pl_schools": years,
                        "mean_effect_sd": float(last["mean_effect_sd"]),
                        "mean_effect_rit": float(last["mean_effect_rit"]),
                        "students": int(last["students"]), "year": int(by_year.index[-1]),
                        "by_year": dict(years)}
    return out


def headline(assessments: pd.DataFrame) -> dict:
    """Per subject, the last spring's mean RIT, national percentile and SD units, and the first year's
    mean fall-to-spring growth as a share of the national norm growth."""
    out: dict = {}
    if assessments.empty:
        return out
    last_year = int(assessments["year"].max())
    spring = assessments[(assessments["year"] == last_year) & (assessments["season"] == "spring")]
    growth = growth_by_grade(assessments, year=int(assessments["year"].min()))
    for subject in SUBJECTS:
        s = spring[spring["subject"] == subject]
        entry = {"year": last_year}
        if not s.empty:
            w = s["n"] / s["n"].sum()
            entry.update({"students": int(s["n"].sum()), "mean_rit": float((s["mean_rit"] * w).sum()),
                          "mean_percentile": float((s["mean_percentile"] * w).sum()),
                          "mean_sd": float((s["mean_sd"] * w).sum())})
        g = growth[growth["subject"] == subject].dropna()
        if not g.empty:
            entry["growth_vs_norm"] = float(np.average(g["ratio"]))
        out[subject] = entry
    return out
