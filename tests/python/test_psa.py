"""Probabilistic sensitivity analysis (plsim.psa) and its decision summaries (plsim.voi): summaries
checked against answers known in closed form, the analysis against itself on 1 and 2 workers and Dask."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import plsim
from plsim import voi
from plsim.posterior import Posterior
from plsim.psa import psa
from conftest import REPO

GRANTS = sorted((REPO / "scenarios" / "grants").glob("*.json"))


def small_grants(tmp_path: Path) -> list:
    """The four grant strategies in a district of 8 schools over 3 years (a fifth of the money)."""
    paths = []
    for path in GRANTS:
        d = json.loads(path.read_text())
        d["years"] = 3
        d["districts"][0]["schools"][0]["count"], d["districts"][0]["schools"][1]["count"] = 6, 2
        d["districts"][0]["pl_budget_per_year"] /= 5
        for g in d["grants"]:
            g["amount_per_year"] /= 5
        out = tmp_path / path.name
        out.write_text(json.dumps(d))
        paths.append(out)
    return paths


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    paths = small_grants(tmp_path_factory.mktemp("grants"))
    return paths, psa(paths, uncertainty="priors", draws=6, seeds=[1], workers=1)


def table_of(nb: dict, draws: int) -> pd.DataFrame:
    """A PSA table whose net benefit at wtp = 1 is nb[name] (cost 0, SD-students = nb)."""
    rows = [{"draw": d + 1, "scenario": name, "cost": 0.0, "effect": v[d], "students_reached": 1, "sd_students": v[d]}
            for name, v in nb.items() for d in range(draws)]
    return pd.DataFrame(rows)


def test_evpi_of_a_strategy_whose_net_benefit_is_standard_normal_against_zero_is_one_over_root_two_pi():
    theta = stats.norm.ppf((np.arange(4000) + 0.5) / 4000)
    t = table_of({"status_quo": np.zeros(4000), "new": theta}, 4000)
    e = voi.evpi(t, ["status_quo", "new"], [1.0], years=5).iloc[0]
    assert e["evpi"] == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-3)
    assert e["evpi_per_year"] == pytest.approx(e["evpi"] / 5)
    certain = table_of({"a": np.ones(50), "b": np.full(50, 2.0)}, 50)
    assert voi.evpi(certain, ["a", "b"], [1.0], years=1).iloc[0]["evpi"] == 0.0


def test_evppi_of_the_parameter_that_decides_is_the_evpi_and_of_an_irrelevant_one_nearly_zero():
    rng = np.random.default_rng(1)
    n = 300
    x, noise = rng.normal(size=n), rng.normal(size=n)
    t = table_of({"status_quo": np.zeros(n), "new": x}, n)
    params = pd.DataFrame({"decisive": x, "irrelevant": noise}, index=pd.RangeIndex(1, n + 1, name="draw"))
    e = voi.evppi(t, params, {"decisive": ["decisive"], "irrelevant": ["irrelevant"]}, ["status_quo", "new"], [1.0], 1)
    evpi = voi.evpi(t, ["status_quo", "new"], [1.0], 1).iloc[0]["evpi"]
    e = e.set_index("group")
    assert e.loc["decisive", "evppi"] == pytest.approx(evpi, rel=0.05) and e.loc["decisive", "r2_loo_sd_students"] > 0.95
    assert e.loc["irrelevant", "evppi"] < 0.1 * evpi and not e["overfit"].any()
    assert e.loc["irrelevant", "r2_loo_sd_students"] < 0.05  # the penalty chosen out of sample: no interpolation


def test_the_evppi_regression_does_not_interpolate_few_draws_of_noise():
    from plsim.voi import _fitted

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 7)), rng.normal(size=30)
    fit, r2, r2_loo, _ = _fitted(x, y)
    assert r2 < 0.3 and r2_loo < 0.1 and np.std(fit) < 0.5 * np.std(y)


def test_the_acceptability_curve_sums_to_one_and_follows_the_willingness_to_pay():
    # a is cheap and does little, b dear and does much: a is best at 0, b at a high price
    t = pd.DataFrame([{"draw": d, "scenario": s, "cost": c, "effect": 0.1, "students_reached": 100, "sd_students": e}
                      for d in range(1, 21) for s, c, e in (("a", 1000.0, 1.0 + d / 100), ("b", 5000.0, 3.0 + d / 100))])
    c = voi.ceac(t, ["a", "b"], [0.0, 1000.0, 10000.0])
    assert (c.groupby("wtp")["probability_best"].sum() == 1).all()
    p = c.pivot(index="wtp", columns="scenario", values="probability_best")
    assert p.loc[0.0, "a"] == 1 and p.loc[10000.0, "b"] == 1 and p.loc[1000.0, "a"] == 1
    assert c[c["optimal"]].set_index("wtp")["scenario"].to_dict() == {0.0: "a", 1000.0: "a", 10000.0: "b"}
    inc = voi.incremental(t, ["a", "b"], [1000.0]).iloc[0]
    assert inc["d_cost"] == 4000 and inc["d_sd_students"] == pytest.approx(2.0) and inc["icer"] == pytest.approx(2000)
    assert inc["probability_more_effective"] == 1 and inc["probability_cheaper"] == 0
    assert inc["probability_better_at_1000"] == 0


def test_a_psa_table_has_draws_strategies_costs_effects_and_years(small):
    paths, result = small
    t = result.table
    assert {"draw", "scenario", "cost", "students_reached", "effect", "sd_students", "cost_per_sd"} <= set(t.columns)
    assert {f"{k}_year_{y}" for k in ("cost", "effect", "cohort") for y in (1, 2, 3)} <= set(t.columns)
    assert t["draw"].nunique() == 6 and t["scenario"].nunique() == 4 and len(t) == 24
    assert np.allclose(t[[f"cost_year_{y}" for y in (1, 2, 3)]].sum(axis=1), t["cost"])
    # every draw ran every strategy with the same parameters: the draws are the priors' Latin hypercube
    assert result.parameters.equals(plsim.priors.draw(plsim.priors.resolve(paths[0]), 6, 0))
    assert (t["cost"] > 0).any() and t["effect"].notna().any()


@pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning")
def test_a_psa_is_the_same_on_one_and_two_worker_processes_and_on_dask(small):
    paths, serial = small
    two = psa(paths, uncertainty="priors", draws=6, seeds=[1], workers=2)
    pd.testing.assert_frame_equal(serial.table, two.table)
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        on_dask = psa(paths, uncertainty="priors", draws=6, seeds=[1], client=client)
    pd.testing.assert_frame_equal(serial.table, on_dask.table)


def test_a_psa_summarizes_every_strategy_and_comparison_and_values_information(small):
    _, result = small
    s = result.summary()
    assert list(s["scenario"]) == result.order
    assert (s["cost_q05"] <= s["cost"]).all() and (s["cost"] <= s["cost_q95"]).all()
    assert len(result.incremental()) == 6  # every pair of four
    c = result.ceac()
    assert np.allclose(c.groupby("wtp")["probability_best"].sum(), 1) and {5000.0, 20000.0} <= set(c["wtp"])
    e = result.evpi([5000.0, 20000.0])
    with pytest.warns(UserWarning, match="evppi: from 6 draws its regressions can tell little from noise"):
        v = result.evppi()
    assert set(v["group"]) == {"effects", "persistence", "dilution", "teachers", "schools", "costs"}
    for wtp, g in v.groupby("wtp"):
        assert (g["evppi"] >= 0).all() and (g["evppi"] <= float(e.set_index("wtp").loc[wtp, "evpi"]) + 1e-6).all()


def test_plsim_compare_under_uncertainty_writes_the_tables_plots_and_report(tmp_path, capsys):
    import plsim.cli

    paths = small_grants(tmp_path)
    out = tmp_path / "psa"
    assert plsim.cli.main(["compare", *map(str, paths), "--uncertainty", "priors", "--draws", "4", "--seeds", "1",
                           "--processes", "1", "--wtp", "3000", "9000", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 strategies x 4 parameter draws" in printed and "P(best) $3,000" in printed and "EVPI $" in printed
    expected = {"psa.csv", "parameters.csv", "runs.csv", "psa_summary.csv", "incremental.csv", "ceac.csv", "evpi.csv",
                "evppi.csv", "psa.json", "ce_plane.png", "ceac.png", "evppi.png"}
    assert expected <= {p.name for p in out.iterdir()}
    ceac = pd.read_csv(out / "ceac.csv")
    assert np.allclose(ceac.groupby("wtp")["probability_best"].sum(), 1) and {3000, 9000} <= set(ceac["wtp"])
    assert set(pd.read_csv(out / "evppi.csv")["wtp"]) == {3000, 9000}
    assert plsim.cli.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "probabilistic sensitivity analysis" in page and page.count("data:image/png;base64") == 3
    # Formatted as people read it (plsim.formats), in the page every other report uses.
    assert "probability better at $3,000 per SD-student" in page
    assert "Which strategy is best, and how sure can we be?" in page and ">nan<" not in page.lower()


def test_scenarios_whose_priors_differ_cannot_share_a_draw(tmp_path):
    paths = small_grants(tmp_path)
    d = json.loads(paths[1].read_text())
    d["priors"] = {"learning.learn_rate": {"distribution": "uniform", "lower": 0.05, "upper": 0.1, "source": "x"}}
    paths[1].write_text(json.dumps(d))
    with pytest.raises(ValueError, match=r"the scenarios' priors differ at learning.learn_rate \(coaching_heavy and "
                                         r"concentrated\)"):
        plsim.compare(paths, uncertainty="priors", draws=2, seeds=1)
    with pytest.raises(ValueError, match="needs both"):
        plsim.compare(paths, uncertainty="priors", seeds=1)


def test_a_posterior_file_supplies_the_draws_resampled_by_weight(tmp_path):
    draws = pd.DataFrame({"learning.learn_rate": [0.06, 0.09], "weight": [0.25, 0.75]})
    Posterior(draws, ["learning.learn_rate"], {"effect_math_sd": (0.1, 0.01)}, pd.DataFrame([{"round": 1}])).save(
        tmp_path / "post")
    paths = small_grants(tmp_path)[:2]
    result = psa(paths, uncertainty=tmp_path / "post" / "posterior.csv", draws=8, seeds=[1], workers=1)
    assert list(result.parameters.columns) == ["learning.learn_rate"] and result.groups == {"effects": ["learning.learn_rate"]}
    assert (result.parameters["learning.learn_rate"] == 0.09).sum() == 6  # systematic resampling: 3/4 of 8
    assert "the posterior" in result.meta["uncertainty"]


def test_a_draws_figures_are_compares_figures_for_the_same_run(tmp_path):
    """One number under one name: a PSA row without overrides has plsim compare's cost, reach and
    effects on the PL cohort."""
    from plsim.compare import run_metrics
    from plsim.psa import run_draw

    scenario = plsim.load_scenario(small_grants(tmp_path)[0])
    row = run_draw(scenario.document, scenario.resolved["parameters"], {}, 1)
    expected = run_metrics(scenario.document, 1)
    assert row["cost"] == pytest.approx(expected["cost_total"])
    assert row["students_reached"] == expected["students_reached"]
    assert row["effect_math"] == pytest.approx(expected["effect_math_sd_pl_cohort"])
    assert row["effect_reading"] == pytest.approx(expected["effect_reading_sd_pl_cohort"])
    assert row["cost_year_1"] == pytest.approx(expected["cost_year_1"])


def test_the_psa_report_says_when_a_cost_per_sd_student_has_no_upper_end(tmp_path):
    """More than 5% of the draws gaining no SD-students make the ratio's 95th percentile infinite: the
    report says so instead of dropping the interval."""
    from plsim.report_psa import psa_page

    (tmp_path / "psa.json").write_text(json.dumps({"strategies": ["a"], "draws": 2, "seeds": [1], "wtp": [5000.0],
                                                   "uncertainty": "the priors", "interval": "90% of the draws"}))
    pd.DataFrame([{"scenario": "a", "cost": 1e6, "cost_q05": 9e5, "cost_q95": 1.1e6, "effect": 0.1,
                   "effect_q05": -0.01, "effect_q95": 0.2, "students_reached": 100, "students_reached_q05": 90,
                   "students_reached_q95": 110, "sd_students": 10, "sd_students_q05": -1, "sd_students_q95": 20,
                   "cost_per_sd": 1e5, "cost_per_sd_q05": 5e4, "cost_per_sd_q95": np.inf,
                   "probability_effect_positive": 0.9}]).to_csv(tmp_path / "psa_summary.csv", index=False)
    page = psa_page(tmp_path)
    assert "$100,000 ($50,000 to ∞: some draws gain no SD-students)" in page and "$1,000,000" in page
