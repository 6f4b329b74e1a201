"""Results by year with bands over seeds (plsim.by_year): one run's figures from its tables, bands over
runs, plsim.compare's and plsim.ensemble's .by_year and .plot, and the files plsim compare writes."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from plsim import by_year
from plsim.by_year import METRICS, bands, of_frames, of_run

from conftest import elementary_district


def small_rollout(name: str = "small", kind: str | None = None, years: int = 3, seed: int = 5) -> dict:
    """Twelve elementary schools whose plan spreads station rotation by lottery to 20% of the students
    in year 1 and 50% by year 3 (school-wide)."""
    doc = elementary_district(name=name, schools=12, enrollment=120, years=years, seed=seed)
    doc["districts"][0]["rollout"] = {"model": "station_rotation", "start": "schoolwide",
                                      "targets": [{"year": 1, "share": 0.2}, {"year": 3, "share": 0.5}],
                                      "waves": [{"rule": "lottery"}]}
    if kind is not None:
        doc["districts"][0]["rollout"]["target_kind"] = kind
    return doc


@pytest.fixture(scope="module")
def comparison():
    return plsim.compare([small_rollout("floor"), small_rollout("ceiling", "at_most")], seeds=3, threads=1)


def test_one_run_s_figures_are_those_of_its_tables():
    sim = plsim.Sim(small_rollout(), threads=1, seed=2).run()
    rows = of_run(sim).pivot(index="year", columns="metric", values="value")
    assert list(rows.index) == [1, 2, 3]
    r, t = sim.rollout_by_year.set_index("year"), sim.teachers_by_year.set_index("year")
    assert np.allclose(rows["share_students_pl"], r["share_students_pl"])
    assert np.allclose(rows["target_share"], r["target_share"]) and np.allclose(rows["target_gap"], r["target_gap"])
    assert np.allclose(rows["schools_pl"], r["schools_pl"]) and np.allclose(rows["teacher_turnover"], t["turnover"])
    costs = sim.costs.groupby("year")["amount"].sum()
    assert np.allclose(rows["cost_total"], costs) and np.allclose(rows["cost_cumulative"], costs.cumsum())
    # The last year's figures are the whole run's, as plsim compare reports them.
    ce = sim.cost_effectiveness()
    assert rows["cost_cumulative"].iloc[-1] == pytest.approx(ce["cost_total"])
    assert rows["cost_per_student_reached"].iloc[-1] == pytest.approx(ce["cost_per_student_reached"])
    assert rows["effect_math_sd"].iloc[-1] == pytest.approx(ce["effect_math_sd"], abs=1e-12)
    assert rows["students_reached"].iloc[-1] == sim.counts["students_reached"]
    spring = sim.assessments.query("season == 'spring' and subject == 'reading' and year == 2")
    assert rows.loc[2, "score_reading_sd"] == pytest.approx(np.average(spring["mean_sd"], weights=spring["n"]))


def test_figures_from_hand_made_tables_weight_as_they_should():
    frames = {
        "assessments": pd.DataFrame({"year": [1, 1, 1, 2], "season": ["spring", "spring", "fall", "spring"],
                                     "subject": ["math"] * 4, "n": [10, 30, 50, 20],
                                     "mean_sd": [1.0, 0.0, 9.0, np.nan]}),
        "fidelity": pd.DataFrame({"year": [1, 1], "school_type": ["district", "charter"], "classrooms": [3, 1],
                                  "mean": [0.4, 0.8], "sd": [0.1, 0.1]}),
        "costs": pd.DataFrame({"year": [1, 1, 3], "amount": [100.0, 50.0, 30.0]}),
        "teachers": pd.DataFrame({"year": [1, 2, 3], "turnover": [0.1, 0.2, np.nan]}),
    }
    rows = of_frames(frames).set_index(["metric", "year"])["value"]
    assert rows[("score_math_sd", 1)] == pytest.approx(0.25)  # spring rows only, weighted by n
    assert ("score_math_sd", 2) not in rows  # a suppressed cell gives no figure, never NaN
    assert rows[("mean_pl_fidelity", 1)] == pytest.approx(0.5)
    assert [rows[("cost_total", y)] for y in (1, 2, 3)] == [150.0, 0.0, 30.0]  # a year without rows spent nothing
    assert rows[("cost_cumulative", 3)] == 180.0
    assert ("teacher_turnover", 3) not in rows
    assert not of_frames(frames)["value"].isna().any()


def test_bands_are_percentiles_over_runs_with_the_mean_and_the_count():
    runs = pd.DataFrame({"scenario": ["b"] * 3 + ["a"] * 3 + ["b"], "seed": [1, 2, 3, 1, 2, 3, 1],
                         "year": [1, 1, 1, 1, 1, 1, 2], "metric": ["cost_total"] * 7,
                         "value": [0.0, 10.0, 20.0, 0.1, 0.1, 0.1, 5.0]})
    b = bands(runs)
    assert list(b["scenario"]) == ["b", "b", "a"], "scenarios in their order, years in order"
    first = b.iloc[0]
    assert (first["mean"], first["low"], first["high"], first["n_seeds"]) == pytest.approx((10.0, 1.0, 19.0, 3))
    same = b.iloc[2]
    assert same["low"] == same["mean"] == same["high"], "three equal runs: no band, whatever the rounding"
    assert b.iloc[1]["n_seeds"] == 1
    assert "5th-95th percentile over 3 seeds; parameters fixed" == by_year.describe_band(3)
    assert "each with its own draw of 2 uncertain parameters" in by_year.describe_band(20, draws=2)


def test_a_comparison_has_every_year_of_every_run_with_bands(comparison):
    b = comparison.by_year("share_students_pl", "ceiling")
    assert list(b.index) == [1, 2, 3] and list(b.columns) == ["mean", "low", "high", "n_seeds"]
    assert (b["n_seeds"] == 3).all() and (b["low"] <= b["mean"]).all() and (b["mean"] <= b["high"]).all()
    assert "over 3 seeds" in b.attrs["band"]
    both = comparison.by_year("teacher_turnover")
    assert list(both.index.names) == ["scenario", "year"]
    # Each band is over the runs plsim.Sim gives for those seeds.
    shares = [plsim.Sim(small_rollout("ceiling", "at_most"), threads=1, seed=s).run().rollout_by_year
              .set_index("year").loc[2, "share_students_pl"] for s in (1, 2, 3)]
    assert b.loc[2, "mean"] == pytest.approx(np.mean(shares))
    assert (b.loc[2, "low"], b.loc[2, "high"]) == pytest.approx(tuple(np.percentile(shares, [5, 95])))
    # The comparison is still the DataFrame it was, and a slice keeps the years.
    assert list(comparison["scenario"]) == ["floor", "ceiling"]
    assert comparison[["scenario", "cost_total"]].by_year("cost_total").shape == (6, 4)
    last = comparison.by_year("cost_cumulative", "floor")["mean"].iloc[-1]
    assert last == pytest.approx(comparison.set_index("scenario").loc["floor", "cost_total"])


def test_every_metric_the_issue_names_is_there(comparison):
    names = {"share_students_pl", "schools_pl", "teacher_turnover", "mean_pl_fidelity", "mean_burnout",
             "effect_math_sd", "effect_reading_sd", "score_math_sd", "score_reading_sd", "cost_total",
             "cost_per_student_reached", "target_share", "target_gap", "students_reached"}
    assert names <= set(comparison.metrics_by_year())
    assert set(comparison.metrics_by_year()) <= set(METRICS)


def test_an_unknown_metric_or_scenario_is_named_with_what_there_is(comparison):
    with pytest.raises(ValueError, match="did you mean 'teacher_turnover'"):
        comparison.by_year("turnover")
    with pytest.raises(ValueError, match="scenario: expected one of 'floor', 'ceiling'"):
        comparison.by_year("cost_total", "flor")


def test_a_comparison_plots_a_metric_by_year_and_is_still_a_dataframe_for_pandas(comparison):
    import matplotlib.pyplot as plt

    ax = comparison.plot("mean_pl_fidelity")
    assert [t for t in ax.get_xticks() if 1 <= t <= 3] == [1, 2, 3], "whole years"
    assert ax.get_title().startswith(METRICS["mean_pl_fidelity"].question) and "over 3 seeds" in ax.get_title()
    assert len(ax.collections) == 2, "a band per scenario"
    plt.close(ax.figure)
    ax = comparison.plot(metric="share_students_pl")
    assert any("target" in line.get_label() for line in ax.lines), "the target beside the reach"
    plt.close(ax.figure)
    ax = comparison.plot.bar(x="scenario", y="cost_total")  # pandas' own plot, untouched
    assert len(ax.patches) == 2
    plt.close(ax.figure)


def test_an_ensemble_has_every_metric_by_year_and_a_one_year_band_shows(tmp_path):
    import matplotlib.pyplot as plt

    e = plsim.ensemble(small_rollout(years=1), seeds=3, progress=False)
    b = e.by_year("share_students_pl")
    assert list(b.index) == [1] and {"mean", "low", "high"} <= set(b.columns)
    assert list(e.bands(value="share_students_pl")["year"]) == [1]  # bands() takes by-year metrics too
    ax = e.plot("share_students_pl")
    assert ax.containers, "one year: the band is an error bar, as an area of one point draws nothing"
    plt.close(ax.figure)
    ax = e.plot()  # the effect, as before, with its band as a bar too
    assert ax.containers
    plt.close(ax.figure)
    drawn = plsim.ensemble(small_rollout(years=1), seeds=[1, 2], parameters={"learning.learn_rate": (0.06, 0.1)},
                           progress=False)
    assert "each with its own draw of 1 uncertain parameter" in drawn.by_year("cost_total").attrs["band"]


def test_plsim_compare_writes_every_year_with_bands_and_a_report_of_it(tmp_path):
    paths = []
    for doc in (small_rollout("floor", years=2), small_rollout("ceiling", "at_most", years=2)):
        path = tmp_path / f"{doc['name']}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    out = tmp_path / "cmp"
    assert plsim.cli.main(["compare", *paths, "--seeds", "3", "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison_by_year.csv")
    assert list(table.columns) == ["scenario", "year", "metric", "mean", "low", "high", "n_seeds", "band"]
    assert set(table["year"]) == {1, 2} and set(table["scenario"]) == {"floor", "ceiling"}
    assert (table["band"] == "5th-95th percentile over 3 seeds; parameters fixed").all()
    assert not table[["mean", "low", "high"]].isna().any().any()
    assert (out / "comparison_by_year.png").stat().st_size > 10_000
    assert plsim.cli.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "plsim comparison: floor, ceiling" in page and "over 3 seeds" in page


def test_plsim_ensemble_writes_every_year_with_bands(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(small_rollout(years=2)))
    assert plsim.cli.main(["ensemble", str(path), "--seeds", "2", "--threads", "1", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "ensemble_by_year.csv")
    assert set(table["year"]) == {1, 2} and (table["n_seeds"] == 2).all()
    assert plsim.cli.main(["report", str(tmp_path)]) == 0
    assert "plsim ensemble: small" in (tmp_path / "report.html").read_text()
