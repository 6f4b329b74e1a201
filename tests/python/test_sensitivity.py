"""Sensitivity estimators against known answers, and sweeps over override paths."""
from __future__ import annotations

import numpy as np
import pytest

import plsim
from plsim.sensitivity import ishigami, morris, sobol_indices, sensitivity, tornado
from plsim.sweep import design, sweep

PI = np.pi
ISHIGAMI_BOUNDS = [(-PI, PI)] * 3
# Analytic indices of Ishigami with a = 7, b = 0.1 (Saltelli et al. 2008).
ISHIGAMI_S1 = [0.3139, 0.4424, 0.0]
ISHIGAMI_ST = [0.5576, 0.4424, 0.2437]


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    t = sobol_indices(ishigami, ISHIGAMI_BOUNDS, n=2 ** 13, seed=1)
    assert np.allclose(t["S1"], ISHIGAMI_S1, atol=0.03)
    assert np.allclose(t["ST"], ISHIGAMI_ST, atol=0.03)


def test_morris_recovers_the_effects_of_a_linear_function_and_ranks_ishigami():
    linear = lambda x: 3 * x[:, 0] - 1 * x[:, 1] + 0 * x[:, 2]
    t = morris(linear, [(0, 1), (0, 2), (5, 6)], trajectories=8, seed=2)
    # An elementary effect is the change across the whole range: 3 x 1, -1 x 2, 0.
    assert np.allclose(t["mu"], [3, -2, 0]) and np.allclose(t["sigma"], 0)
    r = morris(ishigami, ISHIGAMI_BOUNDS, trajectories=40, seed=3)
    assert r.loc[2, "mu_star"] < r.loc[0, "mu_star"] and r.loc[1, "mu_star"] > 0


def test_sweep_designs_cover_their_space():
    g = design({"a": (0.0, 1.0), "b": [1, 2]}, "grid", n=3)
    assert len(g) == 6 and set(g["b"]) == {1, 2} and set(g["a"]) == {0.0, 0.5, 1.0}
    for method in ("lhs", "sobol"):
        d = design({"a": (0.0, 1.0), "b": (10.0, 20.0)}, method, n=8)
        assert len(d) == 8 and d["a"].between(0, 1).all() and d["b"].between(10, 20).all()
    with pytest.raises(ValueError, match="lhs needs a \\(lo, hi\\) range"):
        design({"a": [1, 2]}, "lhs")


def test_a_sweep_of_the_learn_rate_moves_growth_with_it():
    d = sweep("nglc_like", {"learning.learn_rate": (0.06, 0.1)}, n=3, outputs=("growth_vs_norm_math",))
    assert list(d["learning.learn_rate"]) == [0.06, 0.08, 0.1]
    assert d["growth_vs_norm_math"].is_monotonic_increasing


def test_model_sensitivity_ranks_parameters_and_plots():
    t = sensitivity("nglc_like", parameters={"learning.learn_rate": (0.06, 0.1),
                                             "assessment.measurement_error_rit": (2.0, 4.0)},
                    output="growth_vs_norm_math", trajectories=3)
    assert t.loc[0, "parameter"] == "learning.learn_rate"
    assert tornado(t).get_xlabel() == "mu_star"


def test_sobol_indices_carry_bootstrap_intervals_that_hold_the_analytic_values():
    t = sobol_indices(ishigami, ISHIGAMI_BOUNDS, n=2 ** 12, seed=2)
    assert (t["S1_lo"] <= t["S1"]).all() and (t["S1"] <= t["S1_hi"]).all()
    assert ((t["S1_lo"] - 0.01 <= ISHIGAMI_S1) & (np.array(ISHIGAMI_S1) <= t["S1_hi"] + 0.01)).all()
    assert ((t["ST_lo"] - 0.01 <= ISHIGAMI_ST) & (np.array(ISHIGAMI_ST) <= t["ST_hi"] + 0.01)).all()
    assert ((t["ST_hi"] - t["ST_lo"]) < 0.1).all()
    again = sobol_indices(ishigami, ISHIGAMI_BOUNDS, n=2 ** 12, seed=2)
    assert t.equals(again)  # the bootstrap is seeded


def test_a_sobol_sample_too_small_to_rank_the_parameters_is_warned_of():
    from plsim.sensitivity import SobolWarning

    with pytest.warns(SobolWarning, match=r"sobol: n=16 base points \(80 evaluations\) leave the indices uncertain: "
                                          r"the 95% bootstrap interval of S1 of x\d is"):
        t = sobol_indices(ishigami, ISHIGAMI_BOUNDS, n=16, seed=1)
    assert ((t["S1_hi"] - t["S1_lo"]) > 0.2).any()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", SobolWarning)
        sobol_indices(ishigami, ISHIGAMI_BOUNDS, n=2 ** 13, seed=1)


def test_plsim_sensitivity_runs_sobol_and_morris_on_a_scenario(tmp_path, capsys):
    import json

    import pandas as pd

    import plsim.cli
    from conftest import tiny_document
    import warnings

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_document()))
    args = ["sensitivity", str(path), "--range", "learning.learn_rate=0.06:0.1", "--range",
            "assessment.measurement_error_rit=2:4", "--output", "growth_vs_norm_math", "--processes", "2"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n=8 may be too few to rank them: not what this test checks
        assert plsim.cli.main(args + ["--method", "sobol", "--n", "8", "--out", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "Sobol indices (first order S1, total ST) with 95% bootstrap intervals of growth_vs_norm_math" in out
    assert "32 runs" in out
    t = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert list(t.columns) == ["parameter", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]
    assert t.loc[0, "parameter"] == "learning.learn_rate" and (tmp_path / "s" / "sensitivity.png").is_file()
    assert plsim.cli.main(args + ["--method", "morris", "--trajectories", "2"]) == 0
    assert "Morris elementary effects" in capsys.readouterr().out
