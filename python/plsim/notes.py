"""Sentences that explain results which look like bugs but are what the model says, computed from a
run's own tables, for `plsim run` (printed, and summary.json's `notes`). docs/model.md explains each
at length ("Study emulation"; "Who pays, and what a shortfall cuts").

* School study estimates significantly negative where the true effect is positive: a school's SE
  counts the noise of its students only, while its own growth effect (`learning.school_growth_sd`), which a
  comparison matched on prior scores cannot see, is read as the model's effect.
* A district spending its budget on launches in a year its PL classrooms fall to zero: launches are
  paid first (committed: a pilot whose principal codifies it goes school-wide whatever the budget),
  and the rest did not cover the software and devices the classrooms need, so they taught traditionally.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd


def study_note(study: pd.DataFrame, schools: pd.DataFrame, alpha: float = 0.05) -> Optional[str]:
    """Why some schools are significantly negative in the study although their true effect is positive
    (the last year, both subjects), with their growth multipliers against all schools'; None if none are."""
    if study is None or study.empty or study["true_effect_sd"].isna().all():
        return None
    last = study[study["year"] == study["year"].max()]
    odd = last[(last["p_value"] < alpha) & (last["estimate_sd"] < 0) & (last["true_effect_sd"] > 0)]
    if odd.empty:
        return None
    by_subject = odd.groupby("subject", observed=True)
    counts = ", ".join(f"{len(g)} of {int((last['subject'] == s).sum())} in {s}" for s, g in by_subject)
    growth = schools["growth_multiplier"]
    theirs, everyone = float(np.median(growth.loc[odd["school_id"].unique()])), float(np.median(growth))
    slow = "these schools grow slowly anyway" if theirs < everyone else "their growth"
    return (f"schools significantly negative although their true effect is positive ({counts}): a school's SE counts "
            f"its students' noise only, and its own growth effect (learning.school_growth_sd), which matching on "
            f"prior scores cannot see, is read as the model's; {slow} (median growth multiplier {theirs:.2f}, all "
            f"schools {everyone:.2f}). The pooled SE treats schools as clusters and includes it")


def budget_notes(costs: pd.DataFrame, rollout: pd.DataFrame, schools: pd.DataFrame) -> list[str]:
    """For each district and year whose PL schools had students but no PL classroom while launches were
    paid: why (launches come first)."""
    if costs.empty or rollout.empty:
        return []
    district_of = schools["district"].astype(str)
    named = costs.assign(name=district_of.reindex(costs["school_id"]).to_numpy())
    total = named.groupby(["year", "name"])["amount"].sum()
    paid = named[named["category"] == "launch"].groupby(["year", "name"])["amount"].sum()
    out = []
    for r in rollout.itertuples():
        spent = float(paid.get((r.year, str(r.district)), 0.0))
        if r.students_in_pl_schools > 0 and r.students_pl == 0 and spent > 0:
            whole = float(total.get((r.year, str(r.district)), spent))
            share = f"all ${whole:,.0f} it spent" if spent >= whole else \
                f"${spent:,.0f} of the ${whole:,.0f} it spent"
            rest = "nothing was left for" if spent >= whole else "the rest did not cover"
            launched = f"{r.codified} pilot{'s' * (r.codified != 1)} going school-wide, {r.converted} new " \
                       f"school{'s' * (r.converted != 1)}"
            out.append(f"year {r.year}, {r.district}: {share} went to launches ({launched}), which are paid first "
                       f"as committed; {rest} the software, devices "
                       f"or tutors its PL classrooms need, so all of them taught traditionally "
                       f"({r.students_in_pl_schools:,} students in PL schools, none in a PL classroom)")
    return out


def explain(sim, study: Optional[pd.DataFrame] = None) -> list[str]:
    """Every note of a finished run (and of its study, when given)."""
    schools = sim.schools
    notes = budget_notes(sim.costs, sim.rollout_by_district, schools)
    note = study_note(study, schools) if study is not None else None
    return notes + ([note] if note else [])
