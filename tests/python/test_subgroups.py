"""Growth and effects by subgroup (sim.subgroups, subgroups.csv): everyone, FRL status, starting
quintile, school type."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from conftest import TINY_PATH

COLUMNS = ["year", "subject", "grade", "subgroup", "n", "growth_true_rit", "growth_measured_rit", "norm_growth_rit",
           "effect_true_sd", "effect_measured_sd"]


@pytest.fixture(scope="module")
def tiny_two_years() -> plsim.Sim:
    return plsim.Sim(plsim.load_scenario(TINY_PATH, years=2), threads=2, seed=4, counterfactual=True).run()


def test_subgroups_have_the_documented_columns_and_partition_everyone(tiny_two_years):
    t = tiny_two_years.subgroups
    assert list(t.columns) == COLUMNS
    n = t.pivot_table(index=["year", "subject", "grade"], columns="subgroup", values="n", observed=True).fillna(0)
    assert (n["frl"] + n["non_frl"] == n["all"]).all()
    assert (n[[f"start_q{q}" for q in range(1, 6)]].sum(axis=1) == n["all"]).all()
    assert (n.get("charter", 0) + n["district"] == n["all"]).all()  # tiny has no charter schools
    first = n.xs(1, level="year")
    share = first[[f"start_q{q}" for q in range(1, 6)]].div(first["all"], axis=0)
    assert (share.sub(0.2).abs() < 0.05).all().all(), "quintiles of the first fall hold a fifth each"


def test_subgroup_growth_is_spring_minus_fall_and_effects_are_against_the_twin(tiny_two_years):
    t = tiny_two_years.subgroups
    everyone = t[t["subgroup"] == "all"].set_index(["year", "subject", "grade"])
    a = tiny_two_years.assessments
    a = a.assign(w=a["mean_true_rit"] * a["n"]).groupby(["year", "subject", "grade", "season"], observed=True)[["w", "n"]].sum()
    mean = (a["w"] / a["n"]).unstack("season")
    expected = (mean["spring"] - mean["fall"]).rename("growth")
    joined = everyone.join(expected, how="inner")
    assert np.allclose(joined["growth_true_rit"], joined["growth"], atol=1e-9)
    assert (everyone["growth_true_rit"] != everyone["growth_measured_rit"]).all(), "tests carry error"
    assert everyone["effect_true_sd"].notna().all() and everyone["effect_measured_sd"].notna().all()
    assert (everyone["effect_true_sd"] != everyone["effect_measured_sd"]).all()


def test_without_a_twin_the_effect_columns_are_empty():
    t = plsim.Sim(TINY_PATH, threads=1, counterfactual=False).run().subgroups
    assert t["effect_true_sd"].isna().all() and t["effect_measured_sd"].isna().all()
    assert t["growth_true_rit"].notna().all()


def test_plsim_run_writes_subgroups_csv(tmp_path, capsys):
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(tmp_path / "run"), "--threads", "1"]) == 0
    written = pd.read_csv(tmp_path / "run" / "subgroups.csv")
    assert list(written.columns) == COLUMNS
    assert set(written["subgroup"]) == set(plsim.results.SUBGROUPS) - {"charter"}  # tiny has none
