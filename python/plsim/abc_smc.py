"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC): parameter values consistent
with targets, as weighted draws from a posterior, for simulators whose likelihood nobody can write.

The algorithm is the population Monte Carlo of Beaumont, Cornuet, Marin & Robert (2009) with the
adaptive tolerances of Del Moral, Doucet & Jasra (2012) / Drovandi & Pettitt (2011). No ABC library is
in Debian (pyABC, ABCpy), so it is written here, small, and tested on synthetic problems with known
answers (tests/python/test_abc_smc.py: over 60 problems, the 90% posterior interval holds the truth
about 90% of the time).

* Round 1 draws `particles` values from the prior (a Latin hypercube through its quantiles) and
  simulates each: every one is kept, with equal weight.
* Round t draws from the previous population: a particle by its weight, moved by a Gaussian kernel with
  twice the population's weighted covariance (Beaumont et al. 2009); a proposal outside the prior's
  support is discarded unsimulated. A proposal is accepted when the distance of its outputs from the
  targets, sqrt(sum(((output - target) / scale)^2)), is at most the tolerance eps_t: the `quantile` of
  the previous population's distances (Drovandi & Pettitt 2011). Proposals are simulated in batches of
  fixed size and accepted in the order drawn, so the result does not depend on how many workers
  simulate a batch. An accepted value's weight is prior(theta) / sum_j w_j K(theta | theta_j).
* It stops after `rounds` rounds, or after the round whose acceptance rate falls below
  `min_acceptance` (the tolerance has reached the simulator's own noise: from there on, the population
  would narrow onto whichever values a fixed seed happens to match, for ever more simulations).

`abc_smc(simulate, priors, observed, scale, ...)` is the algorithm on any simulator (`simulate(thetas,
keys)` -> outputs, one row per proposal, `keys` a random integer per proposal for a simulator that
draws); `calibrate_abc(scenario, targets=..., parameters=...)` runs it on plsim scenarios and returns
a plsim.Posterior.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .posterior import Posterior


@dataclass
class AbcResult:
    """The last population: thetas (particles, parameters), normalized weights, distances, outputs
    (particles, targets), and one history row per round."""
    thetas: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    outputs: np.ndarray
    history: list = field(default_factory=list)

    @property
    def ess(self) -> float:
        """Effective sample size of the weights, 1 / sum(w^2)."""
        return float(1.0 / np.sum(self.weights ** 2))


def _prior_density(priors: Sequence, thetas: np.ndarray) -> np.ndarray:
    dens = np.ones(len(thetas))
    for k, prior in enumerate(priors):
        dens = dens * prior.pdf(thetas[:, k])
    return dens


def _kernel_covariance(thetas: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance of the population (Beaumont et al. 2009), kept positive definite."""
    cov = np.atleast_2d(np.cov(thetas, rowvar=False, aweights=weights))
    cov = 2.0 * cov
    floor = 1e-12 * max(1.0, float(np.max(np.abs(np.diag(cov)))))
    return cov + floor * np.eye(len(cov))


def _weights(priors, thetas, previous, previous_weights, cov) -> np.ndarray:
    """prior(theta) / sum_j w_j N(theta; theta_j, cov) for each accepted theta, normalized."""
    inverse = np.linalg.inv(cov)
    diff = thetas[:, None, :] - previous[None, :, :]
    mahalanobis = np.einsum("ijk,kl,ijl->ij", diff, inverse, diff)
    # The kernel's normalizing constant is common to every theta: it cancels on normalizing.
    mixture = np.exp(-0.5 * mahalanobis) @ previous_weights
    w = _prior_density(priors, thetas) / np.maximum(mixture, 1e-300)
    return w / w.sum()


def _distances(outputs: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.sum(((outputs - observed) / scale) ** 2, axis=1))
    return np.where(np.isfinite(d), d, np.inf)


def _propose(rng, priors, thetas, weights, cov, n) -> tuple:
    """`n` proposals inside the prior's support, and how many fell outside it (discarded unsimulated)."""
    chol = np.linalg.cholesky(cov)
    out, outside = [], 0
    while len(out) < n:
        idx = rng.choice(len(thetas), size=n, p=weights)
        moved = thetas[idx] + rng.standard_normal((n, thetas.shape[1])) @ chol.T
        inside = _prior_density(priors, moved) > 0
        outside += int((~inside).sum())
        out.extend(moved[inside])
    return np.array(out[:n]), outside


def abc_smc(simulate: Callable[[np.ndarray, np.ndarray], np.ndarray], priors: Sequence, observed, scale, *,
            particles: int = 64, rounds: int = 6, quantile: float = 0.5, min_acceptance: float = 0.15,
            seed: int = 0, batch: Optional[int] = None, max_simulations: Optional[int] = None,
            progress: Optional[Callable[[dict], None]] = None) -> AbcResult:
    """ABC-SMC (see the module). `priors`: one object per parameter with `ppf(u)` and `pdf(x)`
    (plsim.priors.Prior); `observed` and `scale`: one value per output; `simulate(thetas, keys)` returns
    an array (len(thetas), outputs). Proposals go to `simulate` `batch` (default `particles`) at a time;
    a round stops after `max_simulations` (default 40 x particles) simulations, keeping the population of
    the round before with a warning. `progress(row)` is called with each round's history row."""
    if particles < 4:
        raise ValueError(f"particles: expected at least 4 (got {particles})")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile: expected a share between 0 and 1 (got {quantile})")
    if rounds < 1:
        raise ValueError(f"rounds: expected at least 1 (got {rounds})")
    observed, scale = np.asarray(observed, dtype=float), np.asarray(scale, dtype=float)
    rng = np.random.default_rng([int(seed), 0xABC])
    d = len(priors)
    batch = int(batch or particles)
    limit = int(max_simulations or 40 * particles)

    unit = qmc.LatinHypercube(d=d, seed=rng).random(particles)
    thetas = np.column_stack([priors[k].ppf(unit[:, k]) for k in range(d)])
    outputs = np.asarray(simulate(thetas, rng.integers(0, 2 ** 62, size=particles)), dtype=float)
    distances = _distances(outputs, observed, scale)
    weights = np.full(particles, 1.0 / particles)
    result = AbcResult(thetas, weights, distances, outputs)
    result.history.append({"round": 1, "epsilon": float(np.max(distances)), "simulations": particles,
                           "accepted": particles, "acceptance": 1.0, "outside_prior": 0, "ess": float(particles)})
    if progress:
        progress(result.history[-1])
    for t in range(2, rounds + 1):
        eps = float(np.quantile(result.distances, quantile))
        if eps >= result.history[-1]["epsilon"]:
            # Ties (a discrete output): the tolerance still falls, to the largest distance below the last.
            below = result.distances[result.distances < result.history[-1]["epsilon"]]
            eps = float(below.max()) if len(below) else 0.0
        cov = _kernel_covariance(result.thetas, result.weights)
        kept_t, kept_x, kept_d = [], [], []
        simulations = outside = 0
        while len(kept_t) < particles and simulations < limit:
            proposals, out = _propose(rng, priors, result.thetas, result.weights, cov, batch)
            outside += out
            x = np.asarray(simulate(proposals, rng.integers(0, 2 ** 62, size=batch)), dtype=float)
            dist = _distances(x, observed, scale)
            simulations += batch
            for i in np.flatnonzero(dist <= eps):
                if len(kept_t) < particles:
                    kept_t.append(proposals[i]), kept_x.append(x[i]), kept_d.append(dist[i])
        acceptance = len(kept_t) / simulations
        if len(kept_t) < particles:
            warnings.warn(f"abc-smc: round {t} accepted {len(kept_t)} of {simulations} simulations, fewer than the "
                          f"{particles} particles, at tolerance {eps:.4g}; the posterior is that of round {t - 1}",
                          stacklevel=2)
            break
        new_t = np.array(kept_t)
        weights = _weights(priors, new_t, result.thetas, result.weights, cov)
        result = AbcResult(new_t, weights, np.array(kept_d), np.array(kept_x), result.history)
        result.history.append({"round": t, "epsilon": eps, "simulations": simulations, "accepted": particles,
                               "acceptance": acceptance, "outside_prior": outside, "ess": result.ess})
        if progress:
            progress(result.history[-1])
        if acceptance < min_acceptance or eps == 0:
            break
    return result


def _resolve_priors(scenario, parameters: Mapping) -> dict:
    """{path: Prior} for calibrate_abc's `parameters`: (lo, hi) a uniform prior, a scipy.stats frozen
    distribution, a plsim Prior, or None for the scenario's prior of that path (plsim priors)."""
    from .priors import Prior, from_distribution, make_prior, resolve

    scenario_priors = None
    out = {}
    for path in sorted(parameters):
        spec = parameters[path]
        if spec is None:
            scenario_priors = scenario_priors or resolve(scenario)
            if path not in scenario_priors:
                raise ValueError(f"parameters: {path}: no prior for it (plsim priors lists them); give (lo, hi) or a "
                                 f"scipy.stats distribution")
            out[path] = scenario_priors[path]
        elif isinstance(spec, Prior):
            out[path] = spec
        elif isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(v, (int, float)) for v in spec):
            if not spec[0] < spec[1]:
                raise ValueError(f"parameters: {path}: expected (lo, hi) with lo < hi (got {spec!r})")
            out[path] = make_prior(path, {"distribution": "uniform", "lower": float(spec[0]), "upper": float(spec[1]),
                                          "source": "uniform on the range given"}, {})
        elif hasattr(spec, "ppf") and hasattr(spec, "pdf"):
            out[path] = from_distribution(path, spec)
        else:
            raise ValueError(f"parameters: {path}: expected (lo, hi), a scipy.stats distribution, a plsim Prior or "
                             f"None for its shipped prior (got {spec!r})")
    return out


def _simulate_point(document: dict, parameters: dict, paths: list, values: list, seeds: list, names: list) -> list:
    """The outputs of one parameter vector (a top-level function: worker processes run it)."""
    from .outputs import evaluate
    from .priors import overrides

    result = evaluate(document, overrides(dict(zip(paths, values)), parameters), seeds, names, {})
    return [result[n] for n in names]


def calibrate_abc(scenario, *, targets: Mapping, parameters: Mapping, seeds=(1,), client=None,
                  outputs: Optional[Mapping] = None, particles: int = 64, rounds: int = 6, quantile: float = 0.5,
                  min_acceptance: float = 0.15, seed: int = 0, workers: Optional[int] = None,
                  progress: bool = False) -> Posterior:
    """plsim.calibrate(..., method="abc-smc"): the posterior of override paths given `targets` ({name:
    value or (value, tolerance)}; the tolerance scales each target's distance, default 5% of it) as
    weighted draws (plsim.Posterior). `parameters` maps each path to its prior: (lo, hi) (uniform), a
    scipy.stats distribution, or None (the scenario's prior, plsim priors). Every simulation runs
    `seeds` (the same ones: common random numbers between parameter values) and averages the outputs.
    The simulations of a batch run on `workers` processes (default: every core) or a Dask `client`;
    the posterior is the same for any number of them."""
    from .outputs import check_names, target_goals
    from .plan import RunPlan
    from .pool import Pool
    from .priors import Prior

    goal = target_goals(targets)
    if not parameters:
        raise ValueError("parameters: give at least one {path: (lo, hi), distribution or None}")
    if outputs:
        raise ValueError("outputs: abc-smc runs its simulations in worker processes and takes only the named "
                         "outputs (plsim.outputs.OUTPUTS); use method='optuna' for callables")
    names = list(goal)
    check_names(names, {})
    plan = RunPlan(scenario)  # validated once
    priors = _resolve_priors(plan.scenario, parameters)
    paths = list(priors)
    seeds = [int(s) for s in seeds]
    resolved = plan.scenario.resolved["parameters"]
    observed = np.array([goal[n][0] for n in names])
    scale = np.array([goal[n][1] for n in names])

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=rounds, unit="round", desc=f"abc-smc {plan.scenario.name}")

    def report(row: dict) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(eps=f"{row['epsilon']:.3g}", acceptance=f"{row['acceptance']:.2f}")

    with Pool(workers=workers, client=client) as pool:
        def simulate(thetas: np.ndarray, keys: np.ndarray) -> np.ndarray:
            tasks = [(plan.document, resolved, paths, [float(v) for v in row], seeds, names) for row in thetas]
            return np.array(pool.map(_simulate_point, tasks), dtype=float)

        try:
            result = abc_smc(simulate, [priors[p] for p in paths], observed, scale, particles=particles,
                             rounds=rounds, quantile=quantile, min_acceptance=min_acceptance, seed=seed,
                             progress=report)
        finally:
            if bar is not None:
                bar.close()
    draws = pd.DataFrame(result.thetas, columns=paths)
    draws["weight"] = result.weights
    draws["distance"] = result.distances
    for k, n in enumerate(names):
        draws[f"output_{n}"] = result.outputs[:, k]
    meta = {"method": "ABC-SMC (Beaumont et al. 2009 population Monte Carlo, adaptive tolerance quantile "
                      f"{quantile})", "scenario": plan.scenario.name, "seeds": seeds, "particles": particles,
            "seed": seed, "priors": {p: _prior_record(priors[p], resolved) for p in paths}}
    return Posterior(draws, paths, goal, pd.DataFrame(result.history), meta)


def _prior_record(prior, resolved: Mapping) -> dict:
    """What posterior.json keeps of a prior: its description, 90% interval and (for plsim's families) its
    entry with the centre written out, so the prior can be rebuilt from the file alone."""
    from .priors import centred_spec

    q05, q95 = prior.ppf([0.05, 0.95])
    return {"distribution": prior.describe(), "q05": float(q05), "q95": float(q95), "source": prior.source,
            "spec": centred_spec(prior)}
