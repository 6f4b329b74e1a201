"""ABC-SMC (plsim.abc_smc) and its Posterior: checked on synthetic problems with known answers, then on
plsim scenarios (determinism on any number of worker processes, files, the command)."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import plsim
from plsim.abc_smc import abc_smc
from plsim.posterior import Posterior, weighted_quantile
from plsim.priors import from_distribution
from conftest import tiny_document


def _normal_mean(rng):
    """mu ~ N(0, 1); the mean of 10 draws of N(mu, 1)."""
    def simulate(thetas, keys):
        return np.array([[np.random.default_rng(k).normal(t[0], 1, 10).mean()] for t, k in zip(thetas, keys)])
    return [from_distribution("mu", stats.norm(0, 1))], [rng.normal(0, 1)], simulate, [0.3]


def _binomial(rng):
    """p ~ Beta(2, 2); the share of successes in 40 trials (a discrete output)."""
    def simulate(thetas, keys):
        return np.array([[np.random.default_rng(k).binomial(40, t[0]) / 40] for t, k in zip(thetas, keys)])
    return [from_distribution("p", stats.beta(2, 2))], [rng.beta(2, 2)], simulate, [0.08]


def _exponential(rng):
    """rate ~ Gamma(4, scale 0.5); the log of the mean of 25 exponential waits."""
    def simulate(thetas, keys):
        return np.array([[np.log(np.random.default_rng(k).exponential(1 / t[0], 25).mean())]
                         for t, k in zip(thetas, keys)])
    return [from_distribution("rate", stats.gamma(4, scale=0.5))], [rng.gamma(4, 0.5)], simulate, [0.2]


def _normal_two(rng):
    """mu ~ N(0, 2), sigma ~ lognormal(0, 0.5); the mean and log SD of 30 draws of N(mu, sigma)."""
    def simulate(thetas, keys):
        out = []
        for t, k in zip(thetas, keys):
            x = np.random.default_rng(k).normal(t[0], t[1], 30)
            out.append([x.mean(), np.log(x.std(ddof=1))])
        return np.array(out)
    priors = [from_distribution("mu", stats.norm(0, 2)), from_distribution("sigma", stats.lognorm(0.5, scale=1.0))]
    return priors, [rng.normal(0, 2), rng.lognormal(0, 0.5)], simulate, [0.3, 0.15]


PROBLEMS = (_normal_mean, _binomial, _exponential, _normal_two)


def coverage(replicates: int = 15, seed: int = 0) -> tuple:
    """The share of 90% posterior intervals that hold the true value, over `replicates` problems of
    each family (truth drawn from the prior, data simulated from the truth): exact Bayesian intervals
    hold it 90% of the time."""
    rng = np.random.default_rng(seed)
    held = total = 0
    for r in range(replicates):
        for k, family in enumerate(PROBLEMS):
            priors, truth, simulate, scale = family(rng)
            observed = simulate(np.array([truth]), [int(rng.integers(2 ** 62))])[0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a last round short of particles keeps the round before
                result = abc_smc(simulate, priors, observed, scale, particles=150, rounds=12, min_acceptance=0.05,
                                 seed=r * 10 + k)
            for j, value in enumerate(truth):
                lo, hi = weighted_quantile(result.thetas[:, j], result.weights, [0.05, 0.95])
                held += lo <= value <= hi
                total += 1
    return held, total


def test_over_60_synthetic_problems_the_90_percent_posterior_interval_holds_the_truth_80_to_98_percent_of_the_time():
    held, total = coverage()
    assert total == 75  # 15 problems of each of 4 families; the two-parameter family has two intervals each
    assert 0.80 <= held / total <= 0.98, f"coverage {held}/{total}"


def test_the_posterior_of_a_conjugate_normal_mean_matches_the_analytic_one():
    # mu ~ N(0, 1), the mean of 10 observations of N(mu, 1) is 0.8: the posterior is N(8/11, 1/11)
    def simulate(thetas, keys):
        return np.array([[np.random.default_rng(k).normal(t[0], 1 / np.sqrt(10))] for t, k in zip(thetas, keys)])
    result = abc_smc(simulate, [from_distribution("mu", stats.norm(0, 1))], [0.8], [0.3], particles=400, rounds=10,
                     min_acceptance=0.05, seed=1)
    mean = float(np.sum(result.weights * result.thetas[:, 0]))
    sd = float(np.sqrt(np.sum(result.weights * (result.thetas[:, 0] - mean) ** 2)))
    assert mean == pytest.approx(8 / 11, abs=0.04)
    assert sd == pytest.approx(np.sqrt(1 / 11), rel=0.15)
    assert result.ess > 200 and result.history[-1]["epsilon"] < result.history[1]["epsilon"] / 8


def test_abc_smc_is_deterministic_and_its_tolerance_falls_through_ties_of_a_discrete_output():
    priors, _, simulate, scale = _binomial(np.random.default_rng(0))
    a = abc_smc(simulate, priors, [0.25], scale, particles=60, rounds=12, min_acceptance=0.02, seed=5)
    b = abc_smc(simulate, priors, [0.25], scale, particles=60, rounds=12, min_acceptance=0.02, seed=5)
    assert np.array_equal(a.thetas, b.thetas) and np.array_equal(a.weights, b.weights)
    eps = [h["epsilon"] for h in a.history]
    assert all(x > y for x, y in zip(eps, eps[1:])) and eps[-1] == 0.0  # exact matches in the end
    assert np.all(a.outputs[:, 0] == 0.25) and a.weights.sum() == pytest.approx(1)
    assert set(a.history[0]) == {"round", "epsilon", "simulations", "accepted", "acceptance", "outside_prior", "ess"}


def test_a_round_that_cannot_fill_its_particles_keeps_the_round_before_with_a_warning():
    def simulate(thetas, keys):  # one output value in 1,000: rounds after the first starve
        return np.where(np.random.default_rng(int(keys[0]) % 1000).random((len(thetas), 1)) < 0.001, 0.0, 1.0) + thetas
    with pytest.warns(UserWarning, match="round 2 accepted .* fewer than the 20 particles"):
        r = abc_smc(simulate, [from_distribution("x", stats.uniform(0, 1))], [0.0], [1.0], particles=20, rounds=3,
                    max_simulations=100, quantile=0.01)
    assert len(r.history) == 1


@pytest.fixture(scope="module")
def tiny_posterior():
    doc = tiny_document()
    default = 0.08
    known = plsim.RunPlan(doc, seed=1, overrides={"learning.learn_rate": 1.2 * default}).run()
    target = known.summary()["headline"]["math"]["growth_vs_norm"]
    fit = lambda workers: plsim.calibrate(doc, method="abc-smc", targets={"growth_vs_norm_math": target}, seeds=[1],
                                          parameters={"learning.learn_rate": (0.5 * default, 2 * default)},
                                          particles=16, rounds=3, workers=workers)
    return fit(1), fit(2), target


def test_a_plsim_posterior_is_the_same_on_one_and_two_worker_processes(tiny_posterior):
    one, two, _ = tiny_posterior
    pd.testing.assert_frame_equal(one.draws, two.draws)
    assert one.rounds.equals(two.rounds)


def test_a_plsim_posterior_has_weighted_draws_rounds_and_the_targets_predictive_interval(tiny_posterior):
    post, _, target = tiny_posterior
    assert {"learning.learn_rate", "weight", "distance", "output_growth_vs_norm_math"} <= set(post.draws.columns)
    assert post.draws["weight"].sum() == pytest.approx(1) and 1 <= post.ess <= 16
    assert list(post.rounds["round"]) == list(range(1, len(post.rounds) + 1))
    pred = post.predictive().iloc[0]
    assert pred["target"] == "growth_vs_norm_math" and pred["value"] == pytest.approx(target)
    assert pred["q05"] <= pred["q50"] <= pred["q95"]
    lo, hi = post.interval("learning.learn_rate")
    assert 0.04 <= lo <= hi <= 0.16
    summary = post.summary().iloc[0]
    assert summary["prior"] == "uniform(0.04, 0.16)" and summary["prior_q05"] == pytest.approx(0.046)


def test_a_posterior_saves_as_csv_and_json_and_loads_back_equal(tiny_posterior, tmp_path):
    post = tiny_posterior[0]
    post.save(tmp_path / "p")
    assert {p.name for p in (tmp_path / "p").iterdir()} == {"posterior.csv", "posterior.json"}
    meta = json.loads((tmp_path / "p" / "posterior.json").read_text())
    assert meta["format"] == "plsim posterior 1" and meta["meta"]["seeds"] == [1]
    back = Posterior.load(tmp_path / "p" / "posterior.csv")
    pd.testing.assert_frame_equal(back.draws, post.draws)
    assert back.targets == post.targets and back.ess == pytest.approx(post.ess)
    assert back.sample(10, seed=3).equals(post.sample(10, seed=3))
    (tmp_path / "p" / "posterior.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a plsim posterior"):
        Posterior.load(tmp_path / "p")


def test_a_posterior_plots_marginals_and_pairs_and_resamples_by_weight(tiny_posterior):
    import matplotlib
    matplotlib.use("Agg")
    post = tiny_posterior[0]
    fig = post.plot()
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "learning.learn_rate"
    s = post.sample(1000, seed=1)
    heavy = post.draws.loc[post.draws["weight"].idxmax(), "learning.learn_rate"]
    share = float((s["learning.learn_rate"] == heavy).mean())
    assert share == pytest.approx(post.draws["weight"].max(), abs=0.002)
    assert "| learning.learn_rate |" in post.report()


def test_abc_smc_refuses_callables_and_the_point_methods_options():
    with pytest.raises(ValueError, match="abc-smc takes particles"):
        plsim.calibrate("nglc_like", method="abc-smc", targets={"effect_math_sd": 0.1}, n_trials=5,
                        parameters={"learning.learn_rate": (0.05, 0.1)})
    with pytest.raises(ValueError, match="method: expected 'optuna'"):
        plsim.calibrate("nglc_like", method="mcmc", targets={"effect_math_sd": 0.1},
                        parameters={"learning.learn_rate": (0.05, 0.1)})
    with pytest.raises(ValueError, match=r"parameters: learning.learn_rate: expected \(lo, hi\), a scipy.stats"):
        plsim.calibrate("nglc_like", method="abc-smc", targets={"effect_math_sd": 0.1},
                        parameters={"learning.learn_rate": "wide"})


def test_plsim_calibrate_abc_smc_writes_a_posterior_and_a_report(tmp_path, capsys):
    import plsim.cli

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_document()))
    assert plsim.cli.main(["calibrate", str(path), "--method", "abc-smc", "--target", "growth_vs_norm_math=1.1",
                           "--prior", "learning.learn_rate", "--particles", "8", "--rounds", "2", "--processes", "1",
                           "--out", str(tmp_path / "abc")]) == 0
    out = capsys.readouterr().out
    assert "ABC-SMC posterior, 8 weighted draws" in out and "learning.learn_rate:" in out
    assert {"posterior.csv", "posterior.json", "report.md", "posterior.png"} <= {p.name for p in (tmp_path / "abc").iterdir()}
    assert "lognormal(median 0.08, sd_log 0.25)" in (tmp_path / "abc" / "report.md").read_text()
