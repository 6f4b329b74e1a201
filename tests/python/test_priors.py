"""Priors: the shipped distributions of the uncertain parameters, a scenario's priors section, draws."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import plsim
from plsim import priors
from conftest import REPO, tiny_document

REQUIRED = ["learning.learn_rate", "learning.mode_efficiency.small_group", "learning.mode_efficiency.adaptive_software",
            "learning.forgetting_rate", "learning.consolidation_rate", "learning.review_share",
            "personalization.implementation_dip.0", "personalization.implementation_year_fidelity.0",
            "teachers.turnover_rate", "teachers.burnout_gain", "teachers.prep_fidelity_loss", "costs.coach_cost",
            "costs.device_price", "costs.launch_cost_per_school"]


def test_the_shipped_priors_cover_effects_persistence_dilution_teachers_and_costs_each_with_a_source():
    shipped = priors.shipped()
    assert len(shipped) >= 12
    assert set(REQUIRED) <= set(shipped)
    assert {"effects", "persistence", "dilution", "teachers", "schools", "costs"} <= {p.group for p in shipped.values()}
    for p in shipped.values():
        assert len(p.source) > 20, p.path
        assert any(word in p.source for word in ("targets.json", "evidence.json", "costs.json", "assumption", "20")), p.path


def test_a_prior_without_a_centre_is_centred_on_the_engines_default():
    defaults = plsim.parameters().set_index("path")["default"]
    for path, p in priors.shipped().items():
        base, _, tail = path.rpartition(".")
        default = defaults[base][int(tail)] if tail.isdigit() else defaults[path]
        kind = p.spec["distribution"]
        # a lognormal's median, a beta's mean, a (truncated) normal's location
        centre = {"lognormal": p.dist.median(), "beta": p.dist.mean(), "normal": p.dist.kwds.get("loc")}[kind]
        assert centre == pytest.approx(default, rel=1e-9), path


def test_draws_stay_in_each_parameters_range_and_follow_the_prior():
    shipped = priors.shipped()
    d = priors.draw(shipped, 2000, seed=3)
    ranges = plsim.parameters().set_index("path")[["min", "max"]]
    for path, p in shipped.items():
        base = path if path in ranges.index else path.rpartition(".")[0]
        lo, hi = ranges.loc[base]
        assert (d[path] >= lo).all() and (d[path] <= hi).all(), path
        # a Latin hypercube through the quantiles: the draws have the prior's distribution
        assert stats.kstest(d[path], lambda x, p=p: np.clip((p.dist.cdf(x) - p.dist.cdf(p.lower)) /
                                                            (p.dist.cdf(p.upper) - p.dist.cdf(p.lower)), 0, 1)).pvalue > 0.01
    assert d.index[0] == 1 and d.index.name == "draw"
    assert priors.draw(shipped, 50, seed=3).equals(priors.draw(shipped, 50, seed=3))
    assert not priors.draw(shipped, 50, seed=3).equals(priors.draw(shipped, 50, seed=4))


def test_a_truncated_priors_density_integrates_to_one():
    p = priors.make_prior("teachers.turnover_rate", {"distribution": "normal", "mean": 0.05, "sd": 0.1, "source": "s"}, {})
    x = np.linspace(-0.5, 1.5, 200001)
    assert np.trapz(p.pdf(x), x) == pytest.approx(1.0, abs=1e-3)
    assert p.lower == 0 and p.ppf([0.0])[0] >= 0


def test_a_scenarios_priors_section_replaces_the_shipped_prior_and_its_values_centre_the_rest():
    doc = tiny_document()
    doc["parameters"] = {"learning": {"review_share": 0.3}}
    doc["priors"] = {"learning.learn_rate": {"distribution": "uniform", "lower": 0.05, "upper": 0.1,
                                             "group": "effects", "source": "a study of our own"}}
    resolved = priors.resolve(doc)
    assert resolved["learning.learn_rate"].describe() == "uniform(0.05, 0.1)"
    assert resolved["learning.learn_rate"].source == "a study of our own"
    assert resolved["learning.review_share"].dist.mean() == pytest.approx(0.3)
    assert len(resolved) == len(priors.shipped())


def test_a_bad_prior_in_a_scenario_is_refused_with_its_json_path():
    doc = tiny_document()
    doc["priors"] = {"learning.learn_rate": {"distribution": "beta", "sd": 0.5, "source": "s"}}
    with pytest.raises(plsim.ScenarioError) as caught:
        plsim.load_scenario(doc)
    assert "/priors/learning.learn_rate/sd: too large for a beta prior with this mean" in str(caught.value)
    doc["priors"] = {"learning.learn_rat": {"distribution": "normal", "sd": 0.01, "source": "s"}}
    assert any('/priors/learning.learn_rat: not a parameter' in e and 'did you mean "learning.learn_rate"' in e
               for e in plsim.check_scenario(doc))


def test_a_shipped_prior_that_no_longer_fits_the_scenarios_value_is_refused_naming_both():
    doc = tiny_document()
    doc["parameters"] = {"learning": {"review_share": 0.005}}  # the shipped beta sd 0.08 no longer fits
    with pytest.raises(plsim.ScenarioError) as caught:
        priors.resolve(doc)
    assert "its priors with the shipped ones" in str(caught.value)
    assert "/priors/learning.review_share/sd" in str(caught.value)


def test_a_priors_file_is_validated_naming_the_file(tmp_path):
    good = tmp_path / "mine.json"
    good.write_text(json.dumps({"priors": {"costs.device_price": {"distribution": "lognormal", "median": 400,
                                                                   "sd_log": 0.1, "source": "our vendor"}}}))
    assert priors.from_file(good)["costs.device_price"].dist.median() == pytest.approx(400)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"priors": {"costs.device_price": {"distribution": "lognormal", "source": "x"}}}))
    with pytest.raises(plsim.ScenarioError, match=r"bad.json: /priors/costs.device_price: a lognormal prior needs "
                                                  r"sd_log"):
        priors.from_file(bad)


def test_an_element_path_overrides_one_element_of_the_scenarios_list():
    params = plsim.load_scenario("nglc_like").resolved["parameters"]
    out = priors.overrides({"personalization.implementation_dip.0": 0.3, "personalization.implementation_dip.1": 0.2,
                            "learning.learn_rate": 0.07}, params)
    assert out == {"personalization.implementation_dip": [0.3, 0.2, 0.0], "learning.learn_rate": 0.07}
    assert plsim.RunPlan("nglc_like", overrides=out).scenario.resolved["parameters"]["personalization"][
        "implementation_dip"] == [0.3, 0.2, 0.0]


def test_plsim_priors_lists_path_distribution_and_source(tmp_path):
    out = subprocess.run([plsim_command(), "priors"], capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.startswith(("learning.", "costs.", "teachers."))]
    assert len(lines) >= 10
    assert any("learning.learn_rate" in l and "lognormal(median 0.08, sd_log 0.25)" in l and "bkt_parameters" in l
               for l in lines)
    markdown = subprocess.run([plsim_command(), "priors", "--markdown"], capture_output=True, text=True,
                              check=True).stdout
    assert markdown in (REPO / "docs" / "model.md").read_text(), "docs/model.md's Priors table is stale: plsim priors --markdown"


def plsim_command() -> str:
    return str(Path(sys.executable).parent / "plsim")
