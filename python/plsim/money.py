"""What a run cost and what it bought: cost tables by year, category, school and payer, and
cost-effectiveness in the field's conventions (docs/model.md, "Money").

Effects are the true effects on the PL cohort (students ever enrolled in a school at a PL stage)
against the counterfactual twin, in the last simulated year's spring; costs are everything spent on
personalized learning over the run, by every payer.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .results import norms_growth, years_from_1

# Kraft (2020), "Interpreting effect sizes of education interventions": effects on standardized tests
# (small < 0.05 SD, medium 0.05 to < 0.20, large >= 0.20) and cost per pupil (low < $500, moderate
# $500 to < $4,000, high >= $4,000).
KRAFT_EFFECT_CLASSES = ((0.05, "small"), (0.20, "medium"), (math.inf, "large"))
KRAFT_COST_CLASSES = ((500.0, "low"), (4000.0, "moderate"), (math.inf, "high"))


def _mean_finite(values) -> float:
    """Mean of the finite values, NaN when there are none (no warning: a run without a PL cohort or a
    twin simply has no effects)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def kraft_class(value: float, classes) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    for bound, name in classes:
        if value < bound:
            return name
    return classes[-1][1]


def cost_frame(core) -> pd.DataFrame:
    """One row per year, school, category and payer: year, district, school_id, category, payer,
    one_off, amount (US$)."""
    raw = years_from_1(core.table("costs"))
    names = core.cost_names
    payers, categories, one_off = names["payer_names"], names["category_names"], names["one_off"]
    df = pd.DataFrame(raw)
    df["one_off"] = np.asarray(one_off, dtype=bool)[df["category"].to_numpy()] if len(df) else pd.Series(dtype=bool)
    df["category"] = pd.Categorical.from_codes(df["category"], categories)
    df["payer"] = pd.Categorical.from_codes(df["payer"], payers)
    return df[["year", "district", "school_id", "category", "payer", "one_off", "amount"]]


def _cohort_effect(subgroups: pd.DataFrame, subject: str, subgroup: str = "pl_cohort") -> float:
    g = subgroups[(subgroups.subgroup == subgroup) & (subgroups.subject == subject)].dropna(subset=["effect_true_sd"])
    if g.empty:
        return float("nan")
    g = g[g.year == g.year.max()]
    return float(np.average(g["effect_true_sd"], weights=g["n"]))


def _norm_growth_sd(subgroups: pd.DataFrame, subject: str) -> float:
    """A year of schooling in national SD units for the cohort's grades: the norm growth of each grade
    over its spring SD, weighted like the cohort (for learning-adjusted years of schooling)."""
    g = subgroups[(subgroups.subgroup == "pl_cohort") & (subgroups.subject == subject)]
    if g.empty:
        return float("nan")
    norms = norms_growth()
    norms = norms[norms.subject == subject].set_index("grade")
    per_grade = (norms["norm_growth"] / norms["fall_sd"]).reindex(g["grade"]).to_numpy()
    return float(np.average(per_grade, weights=g["n"]))


def cost_effectiveness(costs: pd.DataFrame, subgroups: pd.DataFrame, students_reached: int,
                       students_enrolled: float) -> dict:
    """The run's costs and what they bought, in the conventions of the field:

    - cost_total, cost_one_off, cost_recurring (US$ over the run, every payer);
    - students_reached (distinct students ever in a PL school) and cost_per_student_reached;
    - effect_math_sd_pl_cohort, effect_reading_sd_pl_cohort: true effect on the PL cohort in the last
      year (SD); effect_math_sd and effect_reading_sd, their earlier names, hold the same numbers;
    - cost_per_sd: cost per student reached per SD gained (mean of the two subjects);
    - sd_per_100: SD gained per $100 per student reached (J-PAL; Angrist et al. 2020);
    - lays_per_100: the same in learning-adjusted years of schooling (one year = a year's norm growth);
    - learning_per_1000: SD-student-years per $1,000 (effect x students reached / cost x 1,000);
    - kraft_effect_class and kraft_cost_class (Kraft 2020);
    - by_subgroup: effect and SD per $100 per enrolled student for all, frl, non_frl, start_q1..q5.
    """
    total = float(costs["amount"].sum()) if len(costs) else 0.0
    one_off = float(costs.loc[costs["one_off"], "amount"].sum()) if len(costs) else 0.0
    math_sd, reading_sd = _cohort_effect(subgroups, "math"), _cohort_effect(subgroups, "reading")
    effect = _mean_finite([math_sd, reading_sd])
    per_student = total / students_reached if students_reached else float("nan")
    growth = _mean_finite([_norm_growth_sd(subgroups, s) for s in ("math", "reading")])
    sd_per_100 = effect / (per_student / 100.0) if per_student and np.isfinite(per_student) and per_student > 0 else float("nan")
    out = {
        "cost_total": total, "cost_one_off": one_off, "cost_recurring": total - one_off,
        "students_reached": int(students_reached), "cost_per_student_reached": per_student,
        "effect_math_sd_pl_cohort": math_sd, "effect_reading_sd_pl_cohort": reading_sd,
        "effect_math_sd": math_sd, "effect_reading_sd": reading_sd,
        "cost_per_sd": per_student / effect if effect and np.isfinite(effect) and effect > 0 else float("nan"),
        "sd_per_100": sd_per_100,
        "lays_per_100": sd_per_100 / growth if np.isfinite(growth) and growth > 0 else float("nan"),
        "learning_per_1000": effect * students_reached / (total / 1000.0) if total > 0 else float("nan"),
        "kraft_effect_class": kraft_class(effect, KRAFT_EFFECT_CLASSES),
        "kraft_cost_class": kraft_class(per_student, KRAFT_COST_CLASSES),
    }
    per_enrolled = total / students_enrolled if students_enrolled else float("nan")
    rows = []
    for group in ("all", "frl", "non_frl", "start_q1", "start_q2", "start_q3", "start_q4", "start_q5"):
        e = _mean_finite([_cohort_effect(subgroups, s, group) for s in ("math", "reading")])
        rows.append({"subgroup": group, "effect_sd": e, "cost_per_student": per_enrolled,
                     "sd_per_100": e / (per_enrolled / 100.0) if per_enrolled and per_enrolled > 0 else float("nan")})
    out["by_subgroup"] = rows
    return out


def cost_tables(costs: pd.DataFrame) -> dict:
    """Totals by year, category and payer (and year x category, year x payer) for summary.json."""
    if costs.empty:
        return {"total": 0.0, "by_year": [], "by_category": {}, "by_payer": {}, "by_year_category": [],
                "by_year_payer": []}
    def table(keys):
        t = costs.groupby(keys, observed=True)["amount"].sum().reset_index()
        return [{k: (v.item() if isinstance(v, np.generic) else str(v) if k in ("category", "payer") else v)
                 for k, v in row.items()} for row in t.to_dict("records")]
    return {"total": float(costs["amount"].sum()),
            "by_year": table(["year"]),
            "by_category": {str(k): float(v) for k, v in costs.groupby("category", observed=True)["amount"].sum().items()},
            "by_payer": {str(k): float(v) for k, v in costs.groupby("payer", observed=True)["amount"].sum().items()},
            "by_year_category": table(["year", "category"]),
            "by_year_payer": table(["year", "payer"])}
