"""Results: the national norms table, growth by grade, the spread of school means and of school
growth: their documented columns on a real run, and their arithmetic on hand-made frames."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import plsim


def frame(rows) -> pd.DataFrame:
    """An assessment frame as Sim.assessments builds it, from (year, season, subject, grade, school,
    n, mean_rit, mean_sd) tuples."""
    df = pd.DataFrame(rows, columns=["year", "season", "subject", "grade", "school_id", "n", "mean_rit", "mean_sd"])
    df["season"] = pd.Categorical(df["season"], categories=["fall", "winter", "spring"])
    df["subject"] = pd.Categorical(df["subject"], categories=["math", "reading"])
    df["mean_percentile"] = 50.0
    df["mean_true_rit"] = df["mean_rit"]
    return df


def norm(subject: str, grade: int, column: str) -> float:
    n = plsim.norms_growth()
    return float(n[(n["subject"] == subject) & (n["grade"] == grade)][column].iloc[0])


# --- norms ----------------------------------------------------------------------------------------

def test_norms_growth_lists_every_subject_and_grade_with_positive_growth_and_spread():
    n = plsim.norms_growth()
    assert list(n.columns) == ["subject", "grade", "norm_growth", "fall_sd"]
    assert len(n) == 26 and not n.duplicated(["subject", "grade"]).any()
    assert (n["norm_growth"] > 0).all() and (n["fall_sd"] > 0).all()
    assert norm("math", 0, "norm_growth") == pytest.approx(17.6, abs=0.05)
    for subject in ("math", "reading"):
        growth = n[n["subject"] == subject].sort_values("grade")["norm_growth"].to_numpy()
        assert growth[0] > growth[8] > growth[12], "younger students grow more RIT points a year"


# --- arithmetic on hand-made frames ---------------------------------------------------------------

def test_growth_by_grade_weights_schools_by_their_students():
    a = frame([(1, "fall", "math", 3, 0, 1, 200.0, 0.0), (1, "spring", "math", 3, 0, 1, 210.0, 0.0),
               (1, "fall", "math", 3, 1, 3, 180.0, 0.0), (1, "spring", "math", 3, 1, 3, 186.0, 0.0)])
    g = plsim.growth_by_grade(a)
    assert list(g.columns) == ["subject", "grade", "growth", "norm_growth", "ratio"]
    assert len(g) == 1
    row = g.iloc[0]
    assert (row["subject"], row["grade"]) == ("math", 3)
    assert row["growth"] == pytest.approx((210 + 3 * 186) / 4 - (200 + 3 * 180) / 4)  # 7.0, not the plain mean 8.0
    assert row["norm_growth"] == norm("math", 3, "norm_growth")
    assert row["ratio"] == pytest.approx(7.0 / norm("math", 3, "norm_growth"))


def test_growth_by_grade_reads_only_the_requested_year():
    a = frame([(1, "fall", "reading", 5, 0, 10, 200.0, 0.0), (1, "spring", "reading", 5, 0, 10, 205.0, 0.0),
               (2, "fall", "reading", 5, 0, 10, 200.0, 0.0), (2, "spring", "reading", 5, 0, 10, 202.0, 0.0)])
    assert plsim.growth_by_grade(a)["growth"].tolist() == [5.0]
    assert plsim.growth_by_grade(a, year=2)["growth"].tolist() == [2.0]


def test_school_spread_is_the_sd_across_schools_of_school_mean_sd_units_in_the_fall():
    a = frame([(1, "fall", "math", 2, 0, 20, 0.0, 0.2), (1, "fall", "math", 2, 1, 90, 0.0, -0.2),
               (1, "fall", "math", 2, 2, 50, 0.0, 0.0), (1, "spring", "math", 2, 0, 20, 0.0, 3.0)])
    s = plsim.school_spread(a)
    assert list(s.columns) == ["subject", "grade", "school_sd", "schools"]
    assert s["schools"].tolist() == [3]
    assert s["school_sd"].iloc[0] == pytest.approx(0.2), "unweighted SD (ddof 1) of 0.2, -0.2, 0"
    assert plsim.school_spread(a, season="spring")["schools"].tolist() == [1]


def test_school_growth_spread_is_the_sd_of_school_growth_in_fall_sd_units_up_to_grade_8():
    rows = []
    for school, growth in enumerate([10.0, 14.0]):
        rows += [(1, "fall", "math", 4, school, 30, 190.0, 0.0), (1, "spring", "math", 4, school, 30, 190.0 + growth, 0.0),
                 (1, "fall", "math", 9, school, 30, 220.0, 0.0), (1, "spring", "math", 9, school, 30, 230.0 + school, 0.0)]
    s = plsim.school_growth_spread(frame(rows))
    assert list(s.columns) == ["subject", "grade", "school_growth_sd", "schools"]
    assert s["grade"].tolist() == [4], "grades above max_grade=8 are left out"
    assert s["schools"].tolist() == [2]
    assert s["school_growth_sd"].iloc[0] == pytest.approx(np.std([10.0, 14.0], ddof=1) / norm("math", 4, "fall_sd"))
    assert plsim.school_growth_spread(frame(rows), max_grade=12)["grade"].tolist() == [4, 9]


# --- on real runs ---------------------------------------------------------------------------------

def test_growth_by_grade_covers_every_grade_of_both_subjects(tiny_run):
    g = plsim.growth_by_grade(tiny_run.assessments)
    assert list(g.columns) == ["subject", "grade", "growth", "norm_growth", "ratio"]
    assert sorted(zip(g["subject"], g["grade"])) == [(s, k) for s in ("math", "reading") for k in range(13)]
    assert np.allclose(g["ratio"], g["growth"] / g["norm_growth"])


def test_school_spreads_count_the_schools_serving_each_grade(tiny_run):
    s = plsim.school_spread(tiny_run.assessments)
    assert list(s.columns) == ["subject", "grade", "school_sd", "schools"]
    by_grade = dict(zip(s[s["subject"] == "math"]["grade"], s[s["subject"] == "math"]["schools"]))
    assert by_grade == {**{k: 2 for k in range(6)}, **{k: 1 for k in range(6, 13)}}
    gs = plsim.school_growth_spread(tiny_run.assessments)
    assert list(gs.columns) == ["subject", "grade", "school_growth_sd", "schools"]
    assert gs["grade"].max() == 8


def test_results_of_a_later_year_are_read_from_that_year(tiny_three_year_run):
    a = tiny_three_year_run.assessments
    for year in (1, 2, 3):
        g = plsim.growth_by_grade(a, year=year)
        assert len(g) == 26
        expected = plsim.growth_by_grade(a[a["year"] == year].assign(year=1))
        pd.testing.assert_frame_equal(g, expected)
    assert not np.allclose(plsim.growth_by_grade(a, year=1)["growth"], plsim.growth_by_grade(a, year=3)["growth"])
