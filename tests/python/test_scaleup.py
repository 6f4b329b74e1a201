"""Scale-up from Python: rollout, fidelity and teacher tables, the PL cohort's effects, a RolloutPlan
replacing a plan's selection rule, and hooks that write school and teacher columns."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import plsim

from conftest import REPO, tiny_document


def converting_district(*, years: int = 3, rule: str = "lottery", start: str = "pilot", share: float = 0.3,
                        seed: int = 3) -> dict:
    """24 elementary schools, FRL spread widely, whose plan converts schools to station rotation."""
    return {"name": "converting", "seed": seed, "years": years,
            "districts": [{"name": "d", "schools": [{"level": "elementary", "count": 24, "enrollment": 200,
                                                      "frl_share": {"mean": 0.5, "sd": 0.3}}],
                           "central_office": {"coaches": 2, "coach_caseload": 10},
                           "rollout": {"model": "station_rotation", "start": start,
                                       "targets": [{"year": 1, "share": share}],
                                       "waves": [{"from_year": 1, "rule": rule}]}}]}


@pytest.fixture(scope="module")
def scale_up() -> plsim.Sim:
    doc = json.loads((REPO / "scenarios" / "scale_up_system_change.json").read_text())
    doc["years"] = 3
    return plsim.Sim(doc, threads=2).run()


def test_summary_reports_rollout_teachers_and_fidelity_for_every_year(scale_up):
    s = scale_up.summary()
    years = [r["year"] for r in s["rollout"]["by_year"]]
    assert years == [1, 2, 3]
    first = s["rollout"]["by_year"][0]
    for key in ("share_students_pl", "target_share", "schools_pl", "schools_schoolwide", "converted", "dropped"):
        assert key in first
    # The plan reaches its target each year (it converts until it does) without overshooting by much.
    for row in s["rollout"]["by_year"]:
        assert row["target_share"] <= row["share_students_pl"] <= row["target_share"] + 0.03
    assert [r["year"] for r in s["teachers"]["by_year"]] == [1, 2, 3], "a row for every year"
    for row in s["teachers"]["by_year"]:  # each year decides its leavers at its end
        assert 0.10 < row["turnover"] < 0.25 and row["mean_pl_capacity"] > 0 and row["mean_burnout"] >= 0
    types = {r["school_type"] for r in s["fidelity"]["by_year"]}
    assert types == {"district"}
    assert all(0 < r["mean"] <= 1 for r in s["fidelity"]["by_year"])
    json.dumps(s)  # JSON-ready: no NaN, no numpy scalars


def test_the_pl_cohort_has_its_own_effects_against_the_twin(scale_up):
    g = scale_up.subgroups
    cohort = g[(g.subgroup == "pl_cohort") & (g.year == 3)]
    everyone = g[(g.subgroup == "all") & (g.year == 3)]
    assert cohort["n"].sum() > 0
    # The cohort is a tenth of the district; its effect is the concentrated one.
    assert cohort["n"].sum() < 0.3 * everyone["n"].sum()
    w = lambda d: np.average(d["effect_true_sd"], weights=d["n"])
    assert w(cohort) > 3 * w(everyone) > 0


def test_rollout_by_district_and_schools_show_stages_and_conversions(scale_up):
    d = scale_up.rollout_by_district
    assert set(d["district"]) == {"ngsi_city"}
    schools = scale_up.schools
    assert set(schools["pl_stage"].astype(str)) <= {"none", "pilot", "schoolwide"}
    converted = schools[schools["converted_year"] > 0]
    assert len(converted) == d["converted"].sum()
    assert (schools.loc[schools["pl_stage"] != "none", "model"].astype(str) == "station_rotation").all()


class NeediestFirst(plsim.RolloutPlan):
    """Converts the poorest schools first."""

    def order(self, ctx):
        return np.argsort(-ctx.school_columns["frl_share"], kind="stable")


def test_a_rollout_plan_in_python_orders_the_conversions():
    doc = converting_district(rule="python", years=1, start="schoolwide")
    sim = plsim.Sim(doc, threads=1, rollout_plans=[NeediestFirst()]).run()
    s = sim.schools
    converted = s[s["converted_year"] > 0]
    assert 0 < len(converted) < len(s)
    assert converted["frl_share"].min() >= s.loc[s["converted_year"] == 0, "frl_share"].max()


def test_a_python_wave_needs_a_rollout_plan_and_bad_orders_are_refused():
    with pytest.raises(ValueError, match="rollout_plans: the rollout plan of district"):
        plsim.Sim(converting_district(rule="python"), threads=1)

    class OutOfRange(plsim.RolloutPlan):
        def order(self, ctx):
            return [0, 999]

    sim = plsim.Sim(converting_district(rule="python"), threads=1, rollout_plans=[OutOfRange()])
    with pytest.raises(ValueError, match=r"RolloutPlan.order: item 1: a school index in 0..23 \(got 999\)"):
        sim.run()

    class Floats(plsim.RolloutPlan):
        def order(self, ctx):
            return [0.5, 1.5]

    sim = plsim.Sim(converting_district(rule="python"), threads=1, rollout_plans=[Floats()])
    with pytest.raises(TypeError, match="integer school indices"):
        sim.run()


class RemoveObstacles(plsim.Process):
    """A district investment: from the first week, no school has scheduling or coverage obstacles."""

    def on_week(self, ctx):
        if ctx.week == 0:
            ctx.writable("schools.obstacle_scheduling")[:] = 0.0
            ctx.writable("schools.obstacle_coverage")[:] = 0.0


def test_a_process_that_removes_obstacles_raises_delivered_fidelity():
    doc = converting_district(years=2, start="schoolwide", share=1.0)
    plain = plsim.Sim(doc, threads=1, counterfactual=False).run()
    helped = plsim.Sim(doc, threads=1, counterfactual=False, processes=[RemoveObstacles()]).run()
    f0, f1 = plain.fidelity_by_year, helped.fidelity_by_year
    # Year 1's row is recorded in week 0, before the hook first runs; year 2 sees the change.
    assert f1.loc[f1.year == 1, "mean"].item() == f0.loc[f0.year == 1, "mean"].item()
    assert f1.loc[f1.year == 2, "mean"].item() > f0.loc[f0.year == 2, "mean"].item() + 0.02


def test_bad_school_and_teacher_writes_are_refused_and_undone():
    class Bad(plsim.Process):
        def __init__(self, column, value):
            self.column, self.value = column, value

        def on_week(self, ctx):
            ctx.writable(self.column)[0] = self.value

    for column, value in (("schools.leadership", 1.5), ("teachers.pl_skill", float("nan"))):
        sim = plsim.Sim(converting_district(), threads=1, counterfactual=False, processes=[Bad(column, value)])
        before = dict(sim._core.school_columns) if column.startswith("schools.") else dict(sim._core.teachers)
        name = column.split(".", 1)[1]
        original = np.array(before[name][0])
        with pytest.raises(plsim.HookWriteError, match=rf"wrote {column}\[0\]"):
            sim.step()
        now = sim._core.school_columns if column.startswith("schools.") else sim._core.teachers
        assert np.array_equal(now[name][0], original)


def test_shipped_scale_up_scenarios_validate_and_run_five_years():
    for name in ("scale_up_district", "scale_up_system_change", "regional_partner"):
        scenario = plsim.load_scenario(REPO / "scenarios" / f"{name}.json")
        assert scenario.years == 5
        assert any("rollout" in d for d in scenario.resolved["districts"])


def tutoring_programme(model_years=None, years: int = 3) -> dict:
    """tiny.json over `years` years with high-dosage tutoring in one of its two elementary schools, in
    the years `model_years` (None: every year)."""
    doc = tiny_document()
    doc["years"] = years
    group = doc["districts"][0]["schools"][0]
    group["models"] = {"high_dosage_tutoring": 0.5, "traditional": 0.5}
    if model_years is not None:
        group["model_years"] = model_years
    return doc


def test_a_programme_of_one_year_keeps_its_cohort_and_their_gains_after_it_ends():
    sim = plsim.Sim(tutoring_programme([1, 1]), threads=2).run()
    by_year = sim.rollout_by_year.set_index("year")
    assert by_year.loc[1, "students_pl"] > 0
    assert (by_year.loc[[2, 3], "students_pl"] == 0).all() and (by_year.loc[[2, 3], "schools_pl"] == 0).all()
    assert set(sim.costs["year"]) == {1}  # no PL costs once the programme has ended
    assert (sim.schools["pl_stage"].astype(str) == "none").all()
    assert (sim.schools["model"].astype(str) == "traditional").all()
    # The students it taught stay the PL cohort, in both arms alike, and keep what they gained.
    g = sim.subgroups
    cohort = g[g.subgroup == "pl_cohort"]
    effect = cohort.groupby("year").apply(lambda d: np.average(d["effect_true_sd"], weights=d["n"]))
    assert list(effect.index) == [1, 2, 3]
    assert effect[1] > 0.1
    assert (cohort.groupby("year")["n"].sum() > 0).all()
    assert effect[3] > 0.05
    ever = lambda arm: arm.students["ever_pl"][np.argsort(arm.students["id"])]  # tracked grades differ in order
    assert np.array_equal(ever(sim), ever(sim._twin))
    assert sim.counts["students_reached"] >= sim.students["ever_pl"].sum() > 0


def test_a_programme_that_starts_later_is_traditional_before_it_and_counts_its_years_from_its_start():
    doc = tutoring_programme([2, 3], years=3)
    doc["districts"][0]["schools"][0]["implementation_year"] = 1
    sim = plsim.Sim(doc, threads=2)
    # Before its first year the programme's school is not implementing (year 0), unlike its group's
    # traditional school (in the group's implementation year).
    waiting = sim.schools[sim.schools["implementation_year"] == 0]
    assert len(waiting) == 1
    assert (waiting["model"].astype(str).iloc[0], waiting["pl_stage"].astype(str).iloc[0]) == ("traditional", "none")
    sim.run(until_year=1)
    by_year = sim.rollout_by_year.set_index("year")
    assert by_year.loc[1, "students_pl"] == 0 and sim.costs.empty
    sim.run()
    by_year = sim.rollout_by_year.set_index("year")
    assert (by_year.loc[[2, 3], "schools_schoolwide"] == 1).all()
    g = sim.subgroups
    assert g[(g.subgroup == "pl_cohort") & (g.year == 1)]["n"].sum() == 0
    assert g[(g.subgroup == "pl_cohort") & (g.year == 2)]["n"].sum() > 0
    school = sim.schools.loc[waiting.index[0]]
    assert (school["model"], school["pl_stage"]) == ("high_dosage_tutoring", "schoolwide")
    assert school["implementation_year"] == 2  # its first implementation year was run year 2


def test_model_years_over_the_whole_run_give_the_run_without_them_bit_for_bit():
    without = plsim.Sim(tutoring_programme(None), threads=2).run()
    spanning = plsim.Sim(tutoring_programme([1, 3]), threads=2).run()
    for name in ("assessments", "effects", "subgroups", "costs", "rollout_by_year", "teachers_by_year", "schools"):
        pd.testing.assert_frame_equal(getattr(without, name), getattr(spanning, name), check_exact=True, obj=name)
    for name, column in without.students.items():
        assert np.array_equal(spanning.students[name], column, equal_nan=True), name


# --- what a target means: a floor, a ceiling or a goal -------------------------------------------------

def _analyst_plan(kind: str, seed: int) -> dict:
    """The issue's plan: scale_up_district spreading station rotation to 10% of its students by year 3
    (from 2% in year 1), school-wide, for four years."""
    doc = json.loads((REPO / "scenarios" / "scale_up_district.json").read_text())
    doc.update(years=4, seed=seed, counterfactual="never")
    doc["districts"][0]["rollout"].update(start="schoolwide", target_kind=kind,
                                          targets=[{"year": 1, "share": 0.02}, {"year": 3, "share": 0.10}])
    return doc


def test_a_ceiling_is_never_passed_where_the_same_plan_as_a_floor_overshoots():
    overshoot = 0.0
    for seed in (1, 2):
        ceiling = plsim.Sim(_analyst_plan("at_most", seed), threads=2).run()
        r = ceiling.rollout_by_year
        assert (r["share_students_pl"] <= r["target_share"] + 1e-12).all(), r[["year", "share_students_pl", "target_share"]]
        assert (r["target_gap"] <= 1e-12).all() and set(r["target_kind"]) == {"at_most"}
        floor = plsim.Sim(_analyst_plan("at_least", seed), threads=2).run().rollout_by_year
        assert (floor["share_students_pl"] >= floor["target_share"] - 0.005).all(), "a floor is met"
        overshoot = max(overshoot, float(floor["target_gap"].max()))
    assert overshoot > 0.01, "school-wide schools as a floor overshoot the target"
    summary = json.loads(json.dumps(ceiling.summary()))
    assert {"target_kind", "target_gap", "students_reached", "held_back"} <= set(summary["rollout"]["by_year"][0])
    assert summary["rollout"]["by_district"][0]["target_kind"] == "at_most"


def test_the_default_target_is_a_floor_and_a_bad_kind_is_refused_with_its_path():
    assert plsim.load_scenario("scale_up_district").resolved["districts"][0]["rollout"]["target_kind"] == "at_least"
    doc = _analyst_plan("at_least", 1)
    doc["districts"][0]["rollout"]["target_kind"] = "ceiling"
    errors = plsim.check_scenario(doc)
    assert len(errors) == 1 and "/districts/0/rollout/target_kind" in errors[0], errors
    assert "at_least" in errors[0] and "at_most" in errors[0] and "closest" in errors[0] and "ceiling" in errors[0]
    schema = plsim.scenario_schema()
    kinds = schema["properties"]["districts"]["items"]["properties"]["rollout"]["properties"]["target_kind"]
    assert kinds["enum"] == ["at_least", "at_most", "closest"] and kinds["default"] == "at_least"


def test_a_checkpoint_from_before_target_kinds_is_refused_with_the_reason():
    import hashlib

    from plsim.checkpoint import MAGIC, from_bytes, to_bytes

    data = bytearray(to_bytes(plsim.Sim(converting_district(years=2), threads=1).run(until_year=1)))
    data[len(MAGIC):len(MAGIC) + 4] = (4).to_bytes(4, "little")
    old = bytes(data[:-32]) + hashlib.sha256(bytes(data[:-32])).digest()
    with pytest.raises(plsim.CheckpointError, match="old.plsim: checkpoint format version 4.*target_kind.*re-run"):
        from_bytes(old, "old.plsim")
