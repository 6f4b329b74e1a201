"""Study emulation: a matched evaluation from measured scores only, next to the true effects."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import plsim
from plsim.study import STUDY_COLUMNS, summarize


@pytest.fixture(scope="module")
def nglc_studies():
    return [plsim.Sim(plsim.load_scenario("nglc_like"), seed=seed, threads=2).run().study() for seed in (1, 2, 3)]


def test_a_study_has_one_row_per_pl_school_subject_and_year(nglc_studies):
    s = nglc_studies[0]
    assert list(s.columns) == STUDY_COLUMNS
    assert len(s) == 40 * 2  # 40 PL schools, 2 subjects, 1 year
    assert (s["n"] > 0).all() and (s["se"] > 0).all() and s["p_value"].between(0, 1).all()
    assert s["n_unmatched"].sum() < 0.02 * s["n"].sum()  # the twin pool matches nearly everyone


def test_the_pooled_estimate_is_unbiased_for_the_true_effect_when_the_comparison_is_matched(nglc_studies):
    d = pd.concat(nglc_studies)
    for subject in ("math", "reading"):
        m = d[d.subject == subject]
        assert abs(m.estimate_sd.mean() - m.true_effect_sd.mean()) <= 0.03, subject
    # ...while single schools are estimated with noise: test error, small samples, and school effects
    # that the matching does not see.
    m = d[d.subject == "math"]
    assert (m.estimate_sd - m.true_effect_sd).std() > 0.03
    assert np.corrcoef(m.estimate_sd, m.true_effect_sd)[0, 1] > 0.2


def test_the_summary_reports_pooled_estimates_and_shares_of_significant_schools(nglc_studies):
    s = summarize(nglc_studies[0])
    for subject in ("math", "reading"):
        entry = s[subject]
        assert entry["schools"] == 40
        assert entry["pooled_se"] >= entry["pooled_se_sampling"] > 0
        assert 0 <= entry["share_significant_negative"] <= entry["share_significant_positive"] <= 1
        assert set(entry["by_school_type"]) == {"charter", "district"}
    json.dumps(s)


def test_plsim_run_study_writes_study_csv_and_the_summary_section(tmp_path):
    import plsim.cli

    out = tmp_path / "run"
    assert plsim.cli.main(["run", "nglc_like", "--study", "--seed", "4", "--out", str(out)]) == 0
    d = pd.read_csv(out / "study.csv")
    assert {"school_id", "subject", "year", "n", "estimate_sd", "se", "p_value", "true_effect_sd"} <= set(d.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["study"]["pool"] == "twin" and "pooled_estimate_sd" in summary["study"]["math"]
    assert (out / "study.png").stat().st_size > 10_000


def test_the_twin_pool_needs_a_twin_and_pools_are_named():
    sim = plsim.Sim(plsim.load_scenario("nglc_like"), threads=1, counterfactual=False).run()
    with pytest.raises(RuntimeError, match="the twin pool needs the counterfactual twin"):
        sim.study()
    with pytest.raises(ValueError, match="pool: expected one of twin, traditional"):
        sim.study(pool="national")


def test_the_study_reports_estimates_by_prior_quintile():
    sim = plsim.Sim(plsim.load_scenario("nglc_like"), seed=1, threads=2).run()
    q = sim.study_by_prior_quintile()
    for subject in ("math", "reading"):
        g = q[q.subject == subject]
        assert sorted(g["quintile"]) == [1, 2, 3, 4, 5]
        assert g["n"].min() > 0.1 * g["n"].sum()  # groups of roughly equal size
        assert (g["se"] > 0).all()
        pooled = summarize(sim.study())[subject]["pooled_estimate_sd"]
        assert abs(np.average(g["estimate_sd"], weights=g["n"]) - pooled) < 0.01
