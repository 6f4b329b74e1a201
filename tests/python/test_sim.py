"""Sim: keyword-only arguments checked by name, run/step/progress, the tidy assessment frame, the
zero-copy student views, the schools frame, the summary, seeds and multi-year runs."""
from __future__ import annotations

import gc
import json
import os

import warnings

import numpy as np
import pandas as pd
import pytest

import plsim
from conftest import TINY_PATH

ASSESSMENT_COLUMNS = ["year", "season", "subject", "grade", "school_id", "n", "mean_rit", "mean_percentile",
                      "mean_sd", "mean_true_rit"]
KEY = ["year", "season", "subject", "grade", "school_id"]
TINY_STUDENTS = 520
WEEKS = 36


# --- arguments ------------------------------------------------------------------------------------

def test_threads_and_seed_are_keyword_only(tiny_scenario):
    with pytest.raises(TypeError):
        plsim.Sim(tiny_scenario, 2)
    with pytest.raises(TypeError):
        plsim.Sim(tiny_scenario, 2, 7)


@pytest.mark.parametrize("threads", [-1, 1.5, True, "2", None])
def test_bad_threads_raise_value_error_naming_threads(tiny_scenario, threads):
    with pytest.raises(ValueError, match=r"^threads: expected 0 \(all cores\) or a positive integer \(got "):
        plsim.Sim(tiny_scenario, threads=threads)


@pytest.mark.parametrize("seed, message", [(-1, "must be between 0 and 9007199254740991"), (2.0, "expected an integer"),
                                           (True, "expected an integer"), ("7", "expected an integer")])
def test_bad_seeds_raise_value_error_naming_seed(tiny_scenario, seed, message):
    with pytest.raises(ValueError, match=rf"^seed: {message} \(got "):
        plsim.Sim(tiny_scenario, seed=seed)


@pytest.mark.parametrize("seed", [2**53, 2**64], ids=["2^53", "2^64"])
def test_a_seed_outside_the_scenario_seed_range_raises_value_error_naming_seed(tiny_scenario, seed):
    """A scenario file accepts seeds 0 .. 2^53 - 1 (exact in JSON); an override must obey the same range."""
    try:
        sim = plsim.Sim(tiny_scenario, seed=seed)
    except ValueError as e:
        assert str(e).startswith("seed:"), e
    else:
        pytest.fail(f"Sim(seed={seed}) was accepted (seed {sim.seed}), although a scenario with "
                    f"this seed is rejected: {plsim.check_scenario(tiny_scenario.document | {'seed': seed})}")


def test_threads_are_the_requested_count_and_zero_means_every_core(tiny_scenario):
    assert plsim.Sim(tiny_scenario, threads=1).threads == 1
    with pytest.warns(UserWarning, match="asked for 3") if plsim._core.Sim(tiny_scenario._core, 0).threads < 3 \
            else warnings.catch_warnings():
        assert plsim.Sim(tiny_scenario, threads=3).threads == 3
    assert plsim.Sim(tiny_scenario, threads=0).threads == len(os.sched_getaffinity(0))


def test_a_sim_accepts_a_path_a_shipped_name_or_a_dict(tiny_doc):
    assert plsim.Sim(TINY_PATH).scenario.source == str(TINY_PATH)
    assert plsim.Sim(tiny_doc).scenario.name == "tiny"
    assert plsim.Sim("national_baseline", threads=1).counts["schools"] == 144


# --- before and while running ---------------------------------------------------------------------

def test_a_new_sim_holds_its_population_and_no_results(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1)
    c = sim.counts
    assert (c["students"], c["schools"], c["districts"]) == (TINY_STUDENTS, 4, 1)
    assert (c["weeks_simulated"], c["years_completed"], c["student_weeks"]) == (0, 0, 0)
    assert not sim.finished
    assert sim.assessments.empty
    assert list(sim.assessments.columns) == ASSESSMENT_COLUMNS


def test_run_returns_the_sim_itself(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1)
    assert sim.run() is sim
    assert sim.finished


def test_step_advances_exactly_one_week_and_returns_false_on_the_last(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1)
    assert sim.step() is True
    assert sim.counts["weeks_simulated"] == 1
    assert sim.counts["student_weeks"] == TINY_STUDENTS
    assert set(sim.assessments["season"]) == {"fall"}, "the fall window is week 1"
    more = [sim.step() for _ in range(WEEKS - 1)]
    assert more == [True] * (WEEKS - 2) + [False]
    assert sim.finished
    assert sim.step() is False
    assert sim.counts["weeks_simulated"] == WEEKS


def test_the_progress_callback_receives_weeks_done_and_weeks_total(tiny_scenario):
    calls = []
    sim = plsim.Sim(tiny_scenario.replace(years=2), threads=1, counterfactual=False)
    sim.run(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(week, 2 * WEEKS) for week in range(1, 2 * WEEKS + 1)]


def test_with_the_counterfactual_twin_the_progress_callback_counts_the_weeks_of_both_arms(tiny_scenario):
    """tiny has a station-rotation school, so the twin runs by default (counterfactual "auto"): the
    total is years x weeks x 2, and the twin's weeks follow the policy arm's."""
    calls = []
    sim = plsim.Sim(tiny_scenario.replace(years=2), threads=1)
    assert sim.has_counterfactual
    sim.run(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(week, 2 * 2 * WEEKS) for week in range(1, 2 * 2 * WEEKS + 1)]
    assert sim.counts["weeks_simulated"] == 2 * WEEKS, "counts describe the policy arm"
    assert set(sim.counterfactual_assessments["year"]) == {1, 2}


def test_a_progress_bar_run_finishes_like_a_silent_one(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1).run(progress=True)
    assert sim.finished and sim.counts["weeks_simulated"] == WEEKS


def test_progress_must_be_a_flag_or_a_callable(tiny_scenario):
    with pytest.raises(TypeError, match=r"progress: expected True, False or a callable \(got str\)"):
        plsim.Sim(tiny_scenario, threads=1).run(progress="yes")


def test_running_again_after_the_end_is_a_no_op(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1).run()
    before = sim.assessments
    counts = sim.counts
    calls = []
    assert sim.run(progress=lambda done, total: calls.append(done)) is sim
    assert calls == []
    assert {k: v for k, v in sim.counts.items() if k != "seconds"} == \
        {k: v for k, v in counts.items() if k != "seconds"}
    pd.testing.assert_frame_equal(sim.assessments, before, check_exact=True)


# --- assessments ----------------------------------------------------------------------------------

def test_assessments_are_a_tidy_frame_with_one_row_per_year_season_subject_grade_and_school(tiny_run):
    a = tiny_run.assessments
    assert list(a.columns) == ASSESSMENT_COLUMNS
    assert not a.duplicated(KEY).any()
    assert list(a["season"].cat.categories) == ["fall", "winter", "spring"]
    assert list(a["subject"].cat.categories) == ["math", "reading"]
    # 2 elementary schools x 6 grades + 3 middle grades + 4 high grades, 3 seasons, 2 subjects
    assert len(a) == (2 * 6 + 3 + 4) * 3 * 2
    assert (a.groupby(["year", "season", "subject"], observed=True)["n"].sum() == TINY_STUDENTS).all()


def test_each_assessment_row_counts_the_students_of_its_school_and_grade(tiny_run):
    st = tiny_run.students
    enrolled = pd.Series(1, index=pd.MultiIndex.from_arrays([st["school"], st["grade"]])).groupby(level=[0, 1]).sum()
    for (season, subject), rows in tiny_run.assessments.groupby(["season", "subject"], observed=True):
        counted = rows.set_index(["school_id", "grade"])["n"]
        assert counted.sort_index().tolist() == enrolled.sort_index().tolist(), (season, subject)


def test_assessment_means_are_on_the_national_scales(tiny_run):
    a = tiny_run.assessments
    assert a["mean_percentile"].between(1, 99).all()
    assert a["mean_sd"].between(-3, 3).all()
    assert a["mean_rit"].between(100, 300).all()
    # Test error averages out: the measured and the true mean differ by far less than one error SD.
    assert (a["mean_rit"] - a["mean_true_rit"]).abs().mean() < 2.0


def test_students_learn_between_fall_and_spring_in_every_grade_k_to_8(tiny_run):
    a = tiny_run.assessments
    means = a[a["grade"] <= 8].groupby(["subject", "grade", "season"], observed=True)["mean_true_rit"].mean().unstack()
    growth = means["spring"] - means["fall"]
    assert (growth > 0).all(), growth[growth <= 0]


# --- students -------------------------------------------------------------------------------------

def test_student_columns_describe_every_student_once(tiny_run):
    st = tiny_run.students
    assert {"id", "school", "classroom", "grade", "frl", "math_frontier", "reading_p_known", "math_score"} <= set(st)
    assert all(len(column) == TINY_STUDENTS for column in st.values())
    assert len(np.unique(st["id"])) == TINY_STUDENTS


def test_students_are_sorted_by_school_grade_and_classroom(tiny_run):
    st = tiny_run.students
    order = np.lexsort((st["classroom"], st["grade"], st["school"]))
    assert (order == np.arange(TINY_STUDENTS)).all()


def test_student_views_are_zero_copy_and_read_only(tiny_run):
    first = tiny_run.students["math_score"]
    second = tiny_run.students["math_score"]
    assert np.shares_memory(first, second)
    assert not first.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 0.0
    with pytest.raises(TypeError):
        tiny_run.students["math_score"] = np.zeros(3)


def test_a_student_view_keeps_its_sim_alive_after_the_sim_is_deleted(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1).run()
    view = sim.students["reading_frontier"]
    expected = view.copy()
    owner = view
    while isinstance(owner, np.ndarray):
        owner = owner.base
    assert type(owner).__module__ == "plsim._core" and type(owner).__name__ == "Sim"
    del sim, owner
    gc.collect()
    garbage = [plsim.Sim(tiny_scenario, threads=1).run() for _ in range(2)]  # reuse freed memory if any
    assert (view == expected).all()
    del garbage


def test_a_student_view_stays_readable_when_feeders_grow_the_population():
    """A kindergarten centre of 1000 feeding a grade 1-12 school of 12 keeps every leaver, so the
    population grows past the capacity reserved at start and the engine moves the columns; views
    taken before keep pointing at a live buffer (the retired one), never at freed memory."""
    funnel = {"name": "funnel", "years": 4, "districts": [{"name": "d", "schools": [
        {"level": "elementary", "grades": [0, 0], "enrollment": 1000},
        {"level": "high", "grades": [1, 12], "enrollment": 12}]}]}
    sim = plsim.Sim(funnel, threads=1)
    start = sim.students["id"]
    n_start = len(start)
    sim.run()
    now = sim.students["id"]
    assert len(now) > 3 * n_start, "the scenario no longer grows its population; the test needs a new one"
    assert not np.shares_memory(start, now), "the columns were expected to move"
    # The old buffer is retired, not freed: after churning the allocator the old view still holds
    # distinct ids of students that existed, not whatever reused memory would contain.
    churn = [np.full(len(now) * 4, 7, dtype=np.uint32) for _ in range(8)]
    assert np.unique(start).size == n_start
    assert start.max() < sim.students["id"].max() + 1
    del churn


def test_true_rit_is_the_score_without_test_error(tiny_run):
    for subject in ("math", "reading"):
        true = tiny_run.true_rit(subject)
        score = tiny_run.students[f"{subject}_score"]
        assert true.shape == (TINY_STUDENTS,)
        assert np.corrcoef(true, score)[0, 1] > 0.98
        assert 1.0 < np.abs(true - score).mean() < 5.0, "last scores carry the default test error"
    with pytest.raises(ValueError, match=r"subject: must be math or reading \(got 'science'\)"):
        tiny_run.true_rit("science")


# --- schools, summary ------------------------------------------------------------------------------

def test_schools_frame_names_districts_levels_and_instructional_models(tiny_run):
    schools = tiny_run.schools
    assert schools.index.name == "school_id"
    assert list(schools.index) == [0, 1, 2, 3]
    assert list(schools["level"]) == ["elementary", "elementary", "middle", "high"]
    assert set(schools["district"]) == {"town"}
    assert sorted(schools["model"].iloc[:2]) == ["station_rotation", "traditional"], "shares 0.5/0.5 of 2 schools"
    assert list(schools["model"].iloc[2:]) == ["traditional", "traditional"]
    assert list(schools["grade_lo"]) == [0, 0, 6, 9] and list(schools["grade_hi"]) == [5, 5, 8, 12]
    assert schools["students"].tolist() == np.bincount(tiny_run.students["school"]).tolist()


def test_model_shares_are_split_by_largest_remainder_across_a_group(tiny_doc):
    tiny_doc["districts"][0]["schools"][0].update(count=8, models={"station_rotation": 0.25, "traditional": 0.75})
    models = plsim.Sim(tiny_doc, threads=1).schools.query("level == 'elementary'")["model"]
    # The model column is categorical over every instructional model of the run; count the ones used.
    assert models.astype(str).value_counts().to_dict() == {"traditional": 6, "station_rotation": 2}


def test_summary_reports_scenario_seed_threads_counts_time_and_headline(tiny_run):
    s = tiny_run.summary()
    assert (s["scenario"], s["seed"], s["threads"], s["years"], s["weeks_simulated"]) == ("tiny", 11, 2, 1, WEEKS)
    assert s["counts"] == {"students": TINY_STUDENTS, "teachers": 26, "classrooms": 26, "schools": 4, "districts": 1}
    assert s["student_weeks"] == TINY_STUDENTS * WEEKS
    assert isinstance(s["seconds"], float) and s["seconds"] >= 0
    assert s["finished"] is True
    for subject in ("math", "reading"):
        h = s["headline"][subject]
        assert h["year"] == 1 and h["students"] == TINY_STUDENTS
        assert 0 < h["mean_percentile"] < 100
        assert 0.5 < h["growth_vs_norm"] < 1.5
    assert json.loads(json.dumps(s)) == s, "the summary is plain JSON"


# --- seeds and years -------------------------------------------------------------------------------

def test_a_seed_override_changes_the_population_and_results_but_not_the_scenario(tiny_scenario, tiny_run):
    other = plsim.Sim(tiny_scenario, threads=2, seed=12).run()
    assert (other.seed, tiny_run.seed, other.scenario.seed, tiny_scenario.seed) == (12, 11, 12, 11), \
        "sim.scenario is what ran; the scenario given is unchanged"
    assert not np.array_equal(other.students["math_learning_rate"], tiny_run.students["math_learning_rate"])
    assert not np.array_equal(other.assessments["mean_rit"], tiny_run.assessments["mean_rit"])
    assert (other.assessments[KEY] == tiny_run.assessments[KEY]).all().all(), "same schools, grades and seasons"


def test_the_same_seed_as_an_override_or_in_the_scenario_gives_the_same_run(tiny_scenario, tiny_run):
    again = plsim.Sim(tiny_scenario.replace(seed=3), threads=2, seed=11).run()
    pd.testing.assert_frame_equal(again.assessments, tiny_run.assessments, check_exact=True)


def test_a_three_year_run_replaces_graduates_with_kindergarten_cohorts_and_keeps_the_population(tiny_three_year_run):
    sim = tiny_three_year_run
    c = sim.counts
    assert (c["years_completed"], c["weeks_simulated"]) == (3, 3 * WEEKS)
    assert c["students"] == TINY_STUDENTS
    a = sim.assessments
    assert sorted(a["year"].unique()) == [1, 2, 3]
    assert not a.duplicated(KEY).any()
    assert (a.groupby(["year", "season", "subject"], observed=True)["n"].sum() == TINY_STUDENTS).all()
    st = sim.students
    newcomers = st["id"] >= TINY_STUDENTS  # ids are handed out in order of entry
    kindergarten_cohort = 2 * 120 // 6
    assert newcomers.sum() == 2 * kindergarten_cohort, "two year transitions, one K cohort each"
    assert sorted(np.unique(st["grade"][newcomers])) == [0, 1]
    assert np.bincount(st["grade"], minlength=13).tolist() == [40] * 13


def test_teacher_turnover_by_year_is_reported_with_its_poverty_gap():
    """targets.json teacher_turnover: 0.12-0.20 nationally, about 1.5 times higher in high-poverty schools."""
    sim = plsim.Sim(plsim.load_scenario("national_baseline", years=3), threads=2, seed=1).run()
    t = sim.teachers_by_year
    assert list(t.columns)[:6] == ["year", "teachers", "turnover", "turnover_high_poverty", "turnover_low_poverty",
                                   "mean_experience"]
    assert list(t["year"]) == [1, 2, 3], "a row for every simulated year"
    # Each year's teachers decide at its end, the last year's too.
    assert t["turnover"].between(0.12, 0.20).all() and (t["mean_experience"] > 0).all() and (t["teachers"] > 0).all()
    ratio = t["turnover_high_poverty"].mean() / t["turnover_low_poverty"].mean()
    assert 1.2 < ratio < 1.8, ratio
    assert sim.summary()["teachers"]["by_year"][0]["year"] == 1
    # Counts are of teachers teaching now; those who left stay in the columns, inactive.
    active = sim._core.teachers["active"]
    assert sim.counts["teachers"] == int(active.sum()) < len(active)
