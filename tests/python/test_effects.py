"""The counterfactual twin: a Sim runs the same students, teachers and schools with every school on the
traditional model, with the same random numbers, and reports the difference as true effects per year,
subject, grade and school (Sim.effects), per student (Sim.student_effects) and on the command line
(effects.csv and the headline effects of summary.json)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from conftest import REPO, TRAIT_COLUMNS, tiny_document

EFFECT_COLUMNS = ["year", "subject", "grade", "school_id", "model", "n", "effect_rit", "effect_sd",
                  "measured_effect_rit"]
KEY = ["year", "subject", "grade", "school_id"]
NORMS = json.loads((REPO / "engine" / "data" / "norms_map2020.json").read_text())


def personalized_document(years: int = 2) -> dict:
    """tiny.json (an elementary school on station rotation, one traditional, a middle and a high school)
    with the middle school on mastery_based: classrooms from grade 6 are formed by achievement, so
    after a year the two arms list their students in different orders."""
    doc = tiny_document()
    doc["years"] = years
    doc["districts"][0]["schools"][1]["model"] = "mastery_based"
    return doc


def traditional_document(years: int = 2) -> dict:
    doc = tiny_document()
    doc["years"] = years
    doc["districts"][0]["schools"][0]["models"] = {"traditional": 1.0}
    return doc


@pytest.fixture(scope="module")
def personalized() -> dict:
    """The two-year personalized run, with each subject's student effects taken after the last week of
    learning before the second spring window (what that assessment measures)."""
    sim = plsim.Sim(personalized_document(), threads=2, counterfactual=True)
    spring_week = sim.scenario.resolved["parameters"]["assessment"]["weeks"]["spring"]
    for _ in range(36 + spring_week - 1):
        sim.step()
    before_spring = {s: sim.student_effects(s) for s in ("math", "reading")}
    return {"sim": sim.run(), "student_effects": before_spring}


# --- the twin's population -------------------------------------------------------------------------

def test_both_arms_start_with_the_same_students_and_scores():
    sim = plsim.Sim(personalized_document(), threads=1, counterfactual=True)
    for subject in ("math", "reading"):
        start = sim.student_effects(subject)
        assert (start["id"].to_numpy() == np.sort(sim.students["id"])).all()
        assert (start["effect_rit"] == 0).all(), f"{subject}: the arms differ before any instruction"
    # The twin is the scenario with every school traditional: a Sim of that has the same traits.
    all_traditional = plsim.Sim(traditional_document(), threads=1)
    for name in TRAIT_COLUMNS + ("math_frontier", "reading_gaps", "math_score"):
        assert np.array_equal(sim.students[name], all_traditional.students[name]), name
    sim.step()
    true = ["year", "season", "subject", "grade", "school_id", "n", "mean_true_rit"]
    fall, twin_fall = sim.assessments[true], sim.counterfactual_assessments[true]
    pd.testing.assert_frame_equal(fall, twin_fall, check_exact=True, obj="fall of year 1 (before any instruction)")
    assert np.array_equal(sim.students["math_score"], sim._twin.students["math_score"]), \
        "the scores schools act on are shared; only the twin's reported results draw their own errors"


def test_when_every_school_is_traditional_the_twin_gives_zero_true_effects_and_noisy_measured_ones():
    """The twin's tests draw errors of their own: true results agree exactly, measured ones by noise."""
    sim = plsim.Sim(traditional_document(), threads=2, counterfactual=True).run()
    assert sim.has_counterfactual
    true = ["year", "season", "subject", "grade", "school_id", "n", "mean_true_rit"]
    pd.testing.assert_frame_equal(sim.assessments[true], sim.counterfactual_assessments[true], check_exact=True)
    e = sim.effects
    assert len(e) > 0
    assert (e["effect_rit"] == 0).all() and (e["effect_sd"] == 0).all()
    assert (e["measured_effect_rit"] != 0).all()
    # Test error of a school-grade mean of n students, in each arm: SD 3 / sqrt(n); the difference sqrt(2) more.
    z = e["measured_effect_rit"] / (3.0 * np.sqrt(2.0 / e["n"]))
    assert abs(z.mean()) < 4 / np.sqrt(len(z)) + 0.2 and 0.6 < z.std() < 1.5
    assert (sim.student_effects("reading")["effect_rit"] == 0).all()


# --- effects -------------------------------------------------------------------------------------

def test_effects_have_one_row_per_year_subject_grade_and_school_with_the_documented_columns(personalized):
    sim = personalized["sim"]
    e = sim.effects
    assert list(e.columns) == EFFECT_COLUMNS
    assert not e.duplicated(KEY).any()
    spring = sim.assessments[sim.assessments["season"] == "spring"]
    assert len(e) == len(spring) == 2 * 2 * 19, "two years, two subjects, 19 school-grades"
    models = sim.schools["model"].astype(str)
    assert (e["model"].astype(str).to_numpy() == models.to_numpy()[e["school_id"]]).all()
    assert set(e["model"].astype(str)) == {"station_rotation", "traditional", "mastery_based"}


def test_effects_count_the_students_assessed_and_are_true_score_differences_in_national_sds(personalized):
    sim = personalized["sim"]
    e = sim.effects.set_index(KEY)
    season = lambda df: df[df["season"] == "spring"].drop(columns="season").set_index(KEY)
    policy, twin = season(sim.assessments), season(sim.counterfactual_assessments)
    assert (e["n"] == policy.loc[e.index, "n"]).all() and (e["n"] == twin.loc[e.index, "n"]).all()
    expected = policy.loc[e.index, "mean_true_rit"] - twin.loc[e.index, "mean_true_rit"]
    assert np.allclose(e["effect_rit"], expected, rtol=0, atol=1e-9)
    measured = policy.loc[e.index, "mean_rit"] - twin.loc[e.index, "mean_rit"]
    assert np.allclose(e["measured_effect_rit"], measured, rtol=0, atol=1e-9)
    spring_sd = np.array([NORMS[s]["spring"][str(g)]["sd"] for _, s, g, _ in e.index])
    assert np.allclose(e["effect_sd"], e["effect_rit"] / spring_sd, rtol=1e-12, atol=0)
    assert e["effect_rit"].abs().max() > 0.5, "personalized schools have effects"


def test_traditional_schools_of_a_personalized_run_have_zero_effects_in_the_first_year(personalized):
    """In the first year nothing reaches a traditional school from the personalized ones."""
    e = personalized["sim"].effects
    first = e[(e["year"] == 1) & (e["model"].astype(str) == "traditional")]
    assert len(first) > 0 and (first["effect_rit"] == 0).all()


def test_student_effects_align_students_by_id_and_average_to_the_effects_of_their_school_and_grade(personalized):
    sim = personalized["sim"]
    e = sim.effects
    for subject, per_student in personalized["student_effects"].items():
        assert list(per_student.columns) == ["id", "school_id", "grade", "effect_rit"]
        assert per_student["id"].is_unique and per_student["id"].is_monotonic_increasing
        cells = per_student.groupby(["school_id", "grade"])["effect_rit"].agg(["mean", "size"])
        rows = e[(e["year"] == 2) & (e["subject"] == subject)].set_index(["school_id", "grade"])
        assert len(cells) == len(rows) == 19
        joined = rows.join(cells, how="outer")
        assert (joined["size"] == joined["n"]).all(), subject
        worst = (joined["mean"] - joined["effect_rit"]).abs().max()
        assert worst < 1e-9, f"{subject}: student effects average off their school-grade effect by {worst}"


def test_student_effects_and_effects_need_a_twin():
    sim = plsim.Sim(personalized_document(years=1), threads=1, counterfactual=False).run()
    assert not sim.has_counterfactual
    for read in (lambda: sim.effects, lambda: sim.student_effects("math"), lambda: sim.counterfactual_assessments):
        with pytest.raises(RuntimeError, match="create it with counterfactual=True"):
            read()


# --- when the twin runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("setting, argument, expected", [
    (None, None, True),  # auto, with a personalized school
    ("auto", None, True),
    ("never", None, False),
    ("always", None, True),
    ("never", True, True),
    ("always", False, False),
    ("auto", False, False),
])
def test_the_counterfactual_setting_and_argument_decide_whether_a_personalized_scenario_runs_its_twin(
        setting, argument, expected):
    doc = personalized_document(years=1)
    if setting is not None:
        doc["counterfactual"] = setting
    assert plsim.Sim(doc, threads=1, counterfactual=argument).has_counterfactual is expected


@pytest.mark.parametrize("setting, argument, expected", [
    (None, None, False),
    ("always", None, True),
    ("never", True, True),
    ("auto", True, True),
])
def test_an_all_traditional_scenario_runs_its_twin_only_when_asked(setting, argument, expected):
    doc = traditional_document(years=1)
    if setting is not None:
        doc["counterfactual"] = setting
    assert plsim.Sim(doc, threads=1, counterfactual=argument).has_counterfactual is expected


def test_a_counterfactual_argument_that_is_not_a_flag_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"^counterfactual: expected True, False or None \(got 'yes'\)"):
        plsim.Sim(traditional_document(), counterfactual="yes")


def test_an_unknown_counterfactual_setting_in_a_scenario_lists_the_valid_ones():
    doc = traditional_document()
    doc["counterfactual"] = "sometimes"
    errors = plsim.check_scenario(doc)
    assert len(errors) == 1 and "/counterfactual" in errors[0]
    for choice in ("auto", "always", "never", "sometimes"):
        assert choice in errors[0]


# --- the command line ------------------------------------------------------------------------------

def cli_run(write_scenario, tmp_path, doc: dict, *flags: str) -> tuple:
    path = write_scenario(doc, doc["name"])
    out = tmp_path / "out"
    assert plsim.cli.main(["run", str(path), "--out", str(out), "--threads", "1", *flags]) == 0
    return out, json.loads((out / "summary.json").read_text())


def test_plsim_run_of_a_personalized_scenario_writes_effects_csv_and_headline_effects(
        write_scenario, tmp_path, capsys):
    doc = personalized_document(years=1)
    out, summary = cli_run(write_scenario, tmp_path, doc)
    printed = capsys.readouterr().out
    csv = pd.read_csv(out / "effects.csv")
    api = plsim.Sim(doc, threads=2).run().effects
    assert list(csv.columns) == EFFECT_COLUMNS
    assert len(csv) == len(api)
    assert (csv["model"] == api["model"].astype(str)).all()
    assert np.allclose(csv["effect_sd"], api["effect_sd"], rtol=0, atol=1e-6)
    assert summary["counterfactual"] is True
    headline = summary["headline_effects"]
    assert set(headline) == {"math", "reading"}
    personalized = api[api["model"].astype(str) != "traditional"]
    for subject, h in headline.items():
        rows = personalized[personalized["subject"] == subject]
        assert h["students"] == rows["n"].sum()
        assert h["mean_effect_sd"] == pytest.approx(np.average(rows["effect_sd"], weights=rows["n"]), abs=1e-12)
        assert f"effect      {subject}: {h['mean_effect_sd']:+.3f} SD" in printed


@pytest.mark.parametrize("flags, written", [((), False), (("--counterfactual",), True)],
                         ids=["by default", "--counterfactual"])
def test_plsim_run_of_an_all_traditional_scenario_writes_effects_only_when_asked(
        write_scenario, tmp_path, capsys, flags, written):
    out, summary = cli_run(write_scenario, tmp_path, traditional_document(years=1), *flags)
    capsys.readouterr()
    assert (out / "effects.csv").exists() is written
    assert summary["counterfactual"] is written
    if written:
        assert (pd.read_csv(out / "effects.csv")["effect_rit"] == 0).all()
        assert summary["headline_effects"] == {}, "no personalized school, no headline effect"
    else:
        assert summary["headline_effects"] is None


def test_plsim_run_no_counterfactual_skips_the_twin_of_a_personalized_scenario(write_scenario, tmp_path, capsys):
    out, summary = cli_run(write_scenario, tmp_path, personalized_document(years=1), "--no-counterfactual")
    capsys.readouterr()
    assert not (out / "effects.csv").exists()
    assert summary["counterfactual"] is False and summary["headline_effects"] is None


def test_schools_differ_and_a_real_share_of_nglc_like_schools_do_worse_than_their_twin():
    """Implementation quality varies by school (fidelity SD 0.25, capacities correlated within a school)
    and a model's modes beyond the first cost transitions where the flexible environment is not
    delivered, so some schools lose against their twin, as evaluations find (docs/model.md)."""
    sim = plsim.Sim(plsim.load_scenario("nglc_like"), threads=2, seed=1).run()
    e = sim.effects
    e = e[e["model"].astype(str) != "traditional"]
    for subject, (low, high) in {"math": (0.03, 0.3), "reading": (0.1, 0.45)}.items():
        s = e[e["subject"] == subject]
        school = s.groupby("school_id").apply(lambda g: np.average(g["effect_sd"], weights=g["n"]))
        assert school.std() > 0.05, f"{subject}: school effects SD {school.std():.3f}"
        assert low <= (school < 0).mean() <= high, f"{subject}: share of schools worse than the twin {(school < 0).mean():.2f}"
