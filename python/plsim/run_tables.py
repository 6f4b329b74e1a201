"""A run's result tables as DataFrames: the accessors a Sim shows (sim.assessments, sim.effects,
sim.table(name, level), ...), kept apart from the Sim, which runs and holds the run. Each DataFrame is
built from the engine's numpy columns (`core.table(name)`, one per field of the C++ row), its years
counted from 1 (plsim.results.years_from_1), and, for a scenario from a table of schools, the
district's own ids next to school_id (plsim.identifiers). The tables plsim run writes are declared in
plsim.tables."""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd

from .identifiers import REF_COLUMNS, with_refs
from .levels import aggregate, check_level, shared_target_kind
from .money import cost_effectiveness, cost_frame
from .results import LEVELS, SCHOOL_TYPES, TARGET_KINDS, assessment_frame, effects, subgroup_table, years_from_1
from .study import by_prior_quintile as study_by_prior
from .study import emulate as study_emulate
from .tables import TABLES

PL_STAGES = ["none", "pilot", "schoolwide"]


class RunTables:
    """The result tables of one run: `core` the engine's run, `twin` its counterfactual twin (or None),
    `identifiers` the district's own ids and attributes of its schools (plsim.identifiers, or None)."""

    def __init__(self, core, twin, identifiers: Optional[pd.DataFrame]):
        self._core, self._twin, self._identifiers = core, twin, identifiers

    @property
    def school_identifiers(self) -> Optional[pd.DataFrame]:
        """For a scenario from a table of schools (plsim.from_schools): one row per school with
        school_id, school_ref and school_name (the district's own id and name), its district, and the
        table's extra columns; None for other scenarios. plsim run writes it as schools.csv."""
        if self._identifiers is None:
            return None
        out = self._identifiers.reset_index()
        out.insert(3, "district", schools_frame(self._core)["district"].to_numpy())
        return out

    def _require_twin(self, what: str):
        if self._twin is None:
            raise RuntimeError(f"{what}: this Sim has no counterfactual twin; create it with counterfactual=True")
        return self._twin

    @property
    def schools(self) -> pd.DataFrame:
        """One row per school (index school_id): district, level, type, grades, instructional model, FRL
        share, effects, implementation year and capacity for each personalized-learning element. For a
        scenario from a table of schools (plsim.from_schools), first the district's own id and name
        (school_ref, school_name) and last the table's extra columns, to group any per-school output by:
        ``sim.effects.join(sim.schools["zone"], on="school_id").groupby("zone")``."""
        return schools_table(self._core, self._identifiers)

    @property
    def counterfactual_assessments(self) -> pd.DataFrame:
        """Assessments of the counterfactual twin (every school traditional, same random numbers)."""
        return with_refs(assessment_frame(self._require_twin("counterfactual_assessments").table("assessments")),
                         self._identifiers)

    @property
    def assessments(self) -> pd.DataFrame:
        """Tidy assessment results: year, season, subject, grade, school_id, n, mean_rit,
        mean_percentile, mean_sd (national student-SD units) and mean_true_rit (without test error)."""
        return with_refs(assessment_frame(self._core.table("assessments")), self._identifiers)

    @property
    def effects(self) -> pd.DataFrame:
        """True effects per year, subject, grade and school (spring): n, effect_rit, effect_sd
        (national student SDs) and measured_effect_rit (with test error), against the twin."""
        e = effects(self.assessments, self.counterfactual_assessments)
        e.insert(4, "model", schools_frame(self._core)["model"].to_numpy()[e["school_id"].to_numpy()])
        return with_refs(e, self._identifiers)

    @property
    def subgroups(self) -> pd.DataFrame:
        """Growth and effects by subgroup: one row per year, subject, grade and subgroup (all, frl,
        non_frl, start_q1..start_q5: quintile of the true score in the student's first fall of the run,
        within grade and subject; charter, district; pl_cohort: students ever enrolled in a school at a
        PL stage, the same students in both arms) with n, growth_true_rit, growth_measured_rit,
        norm_growth_rit, effect_true_sd and effect_measured_sd (NaN without a twin)."""
        return subgroup_table(self._core.table("subgroups"),
                              self._twin.table("subgroups") if self._twin is not None else None)

    @property
    def teachers_by_year(self) -> pd.DataFrame:
        """One row per simulated year (from 1): teachers on staff in the year, and the decisions they took
        at its end: turnover (the share who leave), turnover_high_poverty, turnover_low_poverty,
        mean_experience (next year's, of those who stay); and the practice of the year: practising and
        coached teachers, mean_pl_capacity and mean_pl_skill (of practising teachers), mean_burnout and
        mean_buy_in (of teachers teaching, at the year's start), mean_prep_deficit (of practising
        teachers). Leavers go at the next year's transition; the last year's are reported, with no next
        year to apply them to. A year not yet ended (a run stopped within it) has NaN turnover and
        counts its teachers teaching."""
        r = {k: np.asarray(v, dtype=np.int64) if np.asarray(v).dtype.kind in "iu" else np.asarray(v)
             for k, v in years_from_1(self._core.table("teachers")).items()}
        teachers, high = r["teachers"], r["teachers_high_poverty"]
        low = teachers - high

        def share(top, bottom):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)

        return pd.DataFrame({"year": r["year"], "teachers": np.where(teachers > 0, teachers, r["teaching"]),
                             "turnover": share(r["leavers"], teachers),
                             "turnover_high_poverty": share(r["leavers_high_poverty"], high),
                             "turnover_low_poverty": share(r["leavers"] - r["leavers_high_poverty"], low),
                             **{k: r[k] for k in ("mean_experience", "practising", "coached", "mean_pl_capacity",
                                                  "mean_pl_skill", "mean_burnout", "mean_buy_in",
                                                  "mean_prep_deficit")}})

    @property
    def rollout_by_district(self) -> pd.DataFrame:
        """Each district's rollout at the start of each year: target_share and target_kind (what the target
        means: at_least, a floor; at_most, a ceiling; closest, a goal; none without a plan), students,
        students_pl (taught by a teacher practising a PL model), share_students_pl, students_in_pl_schools,
        schools by stage, conversions, drops and codified pilots that year, held_back (practitioners a
        ceiling kept traditional), students_reached (distinct students who joined the PL cohort in the
        district so far), the gate's measured pilot effect and state."""
        df = pd.DataFrame(years_from_1(self._core.table("rollout")))
        df["district"] = np.asarray(self._core.schools["district_names"], dtype=object)[df["district"].to_numpy()]
        kinds = np.asarray(TARGET_KINDS, dtype=object)[df["target_kind"].to_numpy()]
        df["target_kind"] = np.where(df["has_plan"].to_numpy(bool), kinds, "none")
        if len(df):
            df["share_students_pl"] = df["students_pl"] / df["students"].where(df["students"] > 0)
        return df

    @property
    def rollout_by_year(self) -> pd.DataFrame:
        """The rollout over every district, one row per year: share_students_pl against target_share
        (over the districts with a plan, weighted by students) and target_gap (share_students_pl minus
        target_share: above 0 past the target), target_kind (shared by the plans, or mixed),
        students_reached (so far), schools_pl, schools_pilot, schools_schoolwide, converted, dropped,
        codified, held_back."""
        d = self.rollout_by_district
        if d.empty:
            return d
        rows = []
        for year, g in d.groupby("year"):
            planned = g[g["has_plan"]]
            target = (planned["target_share"] * planned["students"]).sum() / planned["students"].sum() \
                if len(planned) and planned["students"].sum() > 0 else np.nan
            share = g["students_pl"].sum() / max(1, g["students"].sum())
            rows.append({"year": int(year), "share_students_pl": share, "target_share": target,
                         "target_gap": share - target, "target_kind": shared_target_kind(g),
                         "students": int(g["students"].sum()), "students_reached": int(g["students_reached"].sum()),
                         "students_pl": int(g["students_pl"].sum()),
                         "share_students_in_pl_schools": g["students_in_pl_schools"].sum() / max(1, g["students"].sum()),
                         "schools": int(g["schools"].sum()),
                         "schools_pl": int(g["schools_pilot"].sum() + g["schools_schoolwide"].sum()),
                         "schools_pilot": int(g["schools_pilot"].sum()),
                         "schools_schoolwide": int(g["schools_schoolwide"].sum()),
                         "converted": int(g["converted"].sum()), "dropped": int(g["dropped"].sum()),
                         "codified": int(g["codified"].sum()), "held_back": int(g["held_back"].sum()),
                         "gate_closed": bool(g["gate_closed"].any()), "proven": bool(g["proven"].any())})
        return pd.DataFrame(rows)

    @property
    def costs(self) -> pd.DataFrame:
        """What each school cost each year: year, district, school_id, category (licences, devices,
        tutors, data_systems, central_team, planning_time, pd, coaches, launch), payer (district or a
        funder), one_off and amount (US$)."""
        return with_refs(cost_frame(self._core), self._identifiers)

    def cost_effectiveness(self) -> dict:
        """Costs and what they bought (plsim.money.cost_effectiveness): cost_total, students_reached,
        cost_per_student_reached, effect_math_sd and effect_reading_sd on the PL cohort, cost_per_sd,
        sd_per_100, lays_per_100, learning_per_1000, Kraft's classes and the same by subgroup. Effects
        need the counterfactual twin (NaN without it)."""
        students = self.rollout_by_year["students"].mean() if not self.rollout_by_year.empty else np.nan
        return cost_effectiveness(self.costs, self.subgroups, self._core.counts["students_reached"], students)

    def responses(self, arm: str = "policy") -> pd.DataFrame:
        """The logged practice responses (Sim(..., responses=share)) of one arm ("policy" or
        "counterfactual"): student (stable id), skill ("math-137": subject and knowledge-map unit),
        subject, unit, year, week and correct, one row per opportunity in time order: a log for
        plsim.bkt.fit, in the format of the real ones."""
        core = self._core if arm == "policy" else self._require_twin("responses") if arm == "counterfactual" else None
        if core is None:
            raise ValueError(f"arm: expected 'policy' or 'counterfactual' (got {arm!r})")
        raw = years_from_1(core.table("responses"))
        subject = np.array(["math", "reading"])[raw["subject"]]
        return pd.DataFrame({"student": raw["student"], "skill": pd.Series(subject).str.cat(raw["unit"].astype(str), sep="-"),
                             "subject": subject, "unit": raw["unit"], "year": raw["year"], "week": raw["week"],
                             "correct": raw["correct"]})

    @property
    def fidelity_by_year(self) -> pd.DataFrame:
        """Delivered fidelity in the classrooms on a PL model: one row per year and school type
        (charter, district) with classrooms, mean and sd of each classroom's delivered share of what its
        model asks."""
        df = pd.DataFrame(years_from_1(self._core.table("fidelity")))
        df["school_type"] = np.asarray(SCHOOL_TYPES, dtype=object)[df["school_type"].to_numpy()]
        return df

    def study(self, pool: str = "twin") -> pd.DataFrame:
        """A RAND-style evaluation from measured scores only (plsim.study): one row per PL school,
        subject and year with n, estimate_sd, se, p_value and true_effect_sd, matched on grade, FRL
        and prior score against `pool` ("twin": the counterfactual twin's students; "traditional": this
        run's schools at no PL stage)."""
        effects = self.effects if (self._twin is not None) else None
        return with_refs(study_emulate(self._core, self._twin, schools_frame(self._core), effects, pool),
                         self._identifiers)

    def study_by_prior_quintile(self, pool: str = "twin") -> pd.DataFrame:
        """The emulated study's pooled estimate by prior-achievement quintile (subject, year, quintile,
        n, estimate_sd, se)."""
        if pool == "twin":
            self._require_twin("study_by_prior_quintile")
        return study_by_prior(self._core, self._twin, pool)

    def table(self, name: str, level: str = "school", *, study_pool: str = "twin") -> pd.DataFrame:
        """One of the tables `plsim run --out` writes (plsim.tables.TABLES: assessments, subgroups,
        effects, rollout, fidelity, study, costs, responses), named as its file, at an output level:
        "school" (as the engine reports them), "district" or "national" (plsim.levels: n-weighted means,
        summed counts, school_sd for the spread between schools). Unlike assessments.csv, the assessments
        keep mean_true_rit; nothing is suppressed (plsim.cli.suppress_small_cells does that for the files)."""
        check_level(level)
        if name not in TABLES:
            raise ValueError(f"name: expected one of {', '.join(TABLES)} (got {name!r})")
        return aggregate(self.frame(name, study_pool=study_pool), name, level,
                         schools=self.schools if level == "district" else None)

    def frame(self, name: str, *, study_pool: str = "twin") -> pd.DataFrame:
        """The table `name` of TABLES at its finest level, from its accessor."""
        accessor = getattr(self, TABLES[name].accessor)
        frame = accessor(study_pool) if name == "study" else accessor() if callable(accessor) else accessor
        if frame is None:
            raise ValueError(f"name: this run has no {name} table ({TABLES[name].doc})")
        return frame

    def student_effects(self, subject: str) -> pd.DataFrame:
        """Each current student's true effect in `subject` (true RIT in this run minus in the twin)."""
        twin = self._require_twin("student_effects")
        a, b = self._core.students, twin.students
        order_a, order_b = np.argsort(a["id"], kind="stable"), np.argsort(b["id"], kind="stable")
        if not np.array_equal(a["id"][order_a], b["id"][order_b]):
            raise RuntimeError("student_effects: the two runs have different students (different weeks?)")
        effect = self._core.true_rit(subject)[order_a] - twin.true_rit(subject)[order_b]
        return with_refs(pd.DataFrame({"id": a["id"][order_a], "school_id": a["school"][order_a],
                                       "grade": a["grade"][order_a], "effect_rit": effect}), self._identifiers)


def schools_table(core, identifiers: Optional[pd.DataFrame]) -> pd.DataFrame:
    """The schools of `core` as sim.schools and hooks' ctx.schools show them: schools_frame, with the
    district's own school_ref and school_name first and its table's extra columns last when the
    scenario came from a table of schools (`identifiers`, plsim.identifiers)."""
    frame = schools_frame(core)
    if identifiers is None:
        return frame
    refs = identifiers[list(REF_COLUMNS)]
    attributes = identifiers.drop(columns=list(REF_COLUMNS))
    return pd.concat([refs, frame, attributes], axis=1)


def schools_frame(core) -> pd.DataFrame:
    """The engine's schools as a DataFrame (index school_id), codes as named categories."""
    raw = dict(core.schools)
    models = raw.pop("model_names")
    districts = raw.pop("district_names")
    df = pd.DataFrame(raw)
    df.index.name = "school_id"
    df["district"] = pd.Categorical.from_codes(df["district"], districts)
    df["level"] = pd.Categorical.from_codes(df["level"], LEVELS)
    df["type"] = pd.Categorical.from_codes(df["type"], SCHOOL_TYPES)
    df["model"] = pd.Categorical.from_codes(df["model"], models)
    df["pl_stage"] = pd.Categorical.from_codes(df["pl_stage"], PL_STAGES)
    return df
