"""Decision summaries of a probabilistic sensitivity analysis, each a pure function of its table of
draws (one row per parameter draw and strategy), as BCEA and dampack compute them:

* `net_benefit`: NB = wtp x SD-students gained - cost, per draw and strategy;
* `summarize`: each strategy's mean and 90% interval of cost, effect, students reached, SD-students and
  cost per SD-student;
* `incremental`: every pair of strategies: differences with 90% intervals, the ICER, the probability
  that one is more effective, cheaper, and better at each willingness to pay;
* `ceac`: the probability that each strategy has the highest net benefit at each willingness to pay
  (sums to 1 at each), its expected net benefit, and whether it is the one to choose (the frontier);
* `evpi`: the expected value of perfect information, E[max NB] - max E[NB];
* `evppi`: of partial perfect information on a group of parameters, by regression (Strong, Oakley &
  Brennan 2014): the net benefit's increments over a reference strategy are regressed on the group's
  parameters with a Gaussian process (scikit-learn; a GAM is their choice for one to four parameters,
  a GP beyond), and EVPPI = E[max fitted] - max E[fitted]. Effects and costs are fitted apart, so
  that one fit serves every willingness to pay (the fitted INB is wtp x fitted dSD - fitted dcost).
  The fitted values are leave-one-out predictions (each draw's from the others, in closed form): with
  few draws an in-sample fit interpolates them and its EVPPI equals the EVPI whatever the group; with
  many, the two agree. A fit whose in-sample R^2 exceeds its leave-one-out R^2 by more than 0.3 is
  reported (`overfit`) and warned of.

The unit of effect is the SD-student: a strategy's true effect on its PL cohort in the last year (mean
of math and reading, SD) times the students it reached (plsim.money). Willingness to pay is in US$ per
SD-student gained; values of information are in US$ for the decision (the whole run's budget), and per
year of it.
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

#: The figures of each draw the summaries read.
COLUMNS = ("draw", "scenario", "cost", "effect", "students_reached", "sd_students")
LEVEL = 0.9


def _wide(table: pd.DataFrame, column: str, order: Sequence[str]) -> pd.DataFrame:
    """draws x strategies of one column, strategies in `order`."""
    return table.pivot(index="draw", columns="scenario", values=column)[list(order)]


def net_benefit(table: pd.DataFrame, order: Sequence[str], wtp: float) -> pd.DataFrame:
    """Net benefit (US$) per draw (rows) and strategy (columns): wtp x SD-students - cost."""
    return wtp * _wide(table, "sd_students", order) - _wide(table, "cost", order)


def _interval(values: np.ndarray) -> tuple:
    """Mean and the central 90% interval of draws (percentiles; an infinite value stays infinite)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return np.nan, np.nan, np.nan
    lo, hi = np.quantile(v, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], method="inverted_cdf")
    finite = v[np.isfinite(v)]
    return (float(finite.mean()) if len(finite) == len(v) else np.inf), float(lo), float(hi)


def cost_per_sd(table: pd.DataFrame) -> pd.Series:
    """US$ per SD-student gained, per row; infinite where nothing was gained (effect at most 0)."""
    sd = table["sd_students"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(sd > 0, table["cost"] / np.where(sd > 0, sd, 1), np.inf), index=table.index)


def summarize(table: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """One row per strategy: mean, q05 and q95 over draws of cost, effect, students_reached,
    sd_students and cost_per_sd (its mean is the ratio of the means, as an ICER against doing nothing
    would be: the mean of ratios is dominated by draws with effects near zero)."""
    rows = []
    t = table.assign(cost_per_sd=cost_per_sd(table))
    for name in order:
        g = t[t["scenario"] == name]
        row = {"scenario": name, "draws": int(g["draw"].nunique())}
        for col in ("cost", "effect", "students_reached", "sd_students", "cost_per_sd"):
            mean, lo, hi = _interval(g[col].to_numpy())
            row[col], row[f"{col}_q05"], row[f"{col}_q95"] = mean, lo, hi
        sd = g["sd_students"].mean()
        row["cost_per_sd"] = float(g["cost"].mean() / sd) if sd > 0 else np.inf
        row["probability_effect_positive"] = float((g["effect"] > 0).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def incremental(table: pd.DataFrame, order: Sequence[str], wtps: Sequence[float]) -> pd.DataFrame:
    """Every pair (A, B) of strategies, A after B in `order`: mean and 90% interval of A - B in cost,
    effect and SD-students; the ICER (mean dcost / mean dSD-students, US$ per SD-student); the
    probability that A gains more, costs less, and has the higher net benefit at each wtp."""
    cost, effect, sd = (_wide(table, c, order) for c in ("cost", "effect", "sd_students"))
    rows = []
    for i, b in enumerate(order):
        for a in order[i + 1:]:
            row = {"comparison": f"{a} vs {b}", "a": a, "b": b}
            for name, w in (("cost", cost), ("effect", effect), ("sd_students", sd)):
                mean, lo, hi = _interval((w[a] - w[b]).to_numpy())
                row[f"d_{name}"], row[f"d_{name}_q05"], row[f"d_{name}_q95"] = mean, lo, hi
            dsd = row["d_sd_students"]
            row["icer"] = row["d_cost"] / dsd if dsd != 0 else np.nan
            row["probability_more_effective"] = float((sd[a] > sd[b]).mean())
            row["probability_cheaper"] = float((cost[a] < cost[b]).mean())
            for wtp in wtps:
                nb = wtp * sd - cost
                row[f"probability_better_at_{wtp:g}"] = float((nb[a] > nb[b]).mean())
            rows.append(row)
    return pd.DataFrame(rows)


def ceac(table: pd.DataFrame, order: Sequence[str], wtps: Sequence[float]) -> pd.DataFrame:
    """Per willingness to pay and strategy: probability_best (the share of draws in which it has the
    highest net benefit; ties go to the first in `order`; sums to 1), expected_net_benefit, and
    optimal (the strategy of highest expected net benefit: the acceptability frontier)."""
    cost, sd = _wide(table, "cost", order).to_numpy(), _wide(table, "sd_students", order).to_numpy()
    rows = []
    for wtp in wtps:
        nb = wtp * sd - cost
        best = np.argmax(nb, axis=1)
        expected = nb.mean(axis=0)
        for k, name in enumerate(order):
            rows.append({"wtp": float(wtp), "scenario": name, "probability_best": float(np.mean(best == k)),
                         "expected_net_benefit": float(expected[k]), "optimal": bool(k == int(np.argmax(expected)))})
    return pd.DataFrame(rows)


def evpi(table: pd.DataFrame, order: Sequence[str], wtps: Sequence[float], years: int) -> pd.DataFrame:
    """Per willingness to pay: EVPI = E[max_s NB] - max_s E[NB] (US$ for the decision), per year of the
    run, and the strategy chosen now (highest expected net benefit)."""
    rows = []
    for wtp in wtps:
        nb = net_benefit(table, order, wtp).to_numpy()
        value = float(nb.max(axis=1).mean() - nb.mean(axis=0).max())
        rows.append({"wtp": float(wtp), "evpi": value, "evpi_per_year": value / years,
                     "choice": order[int(np.argmax(nb.mean(axis=0)))]})
    return pd.DataFrame(rows)


def _fitted(x: np.ndarray, y: np.ndarray) -> tuple:
    """A Gaussian-process regression of y on x (columns standardized, ARD squared-exponential kernel
    plus white noise, hyperparameters by maximum marginal likelihood from fixed starting values:
    deterministic): its in-sample fitted values, R^2, leave-one-out R^2 and leave-one-out predictions
    (closed form, Rasmussen & Williams 2006, eq. 5.12). A fit that explains much more in sample than out
    of it interpolates the draws."""
    from scipy.linalg import cho_solve
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, RBF, WhiteKernel

    sd = x.std(axis=0)
    keep = sd > 0
    if not keep.any() or np.std(y) == 0:
        return np.full(len(y), y.mean()), 0.0, 0.0, np.full(len(y), y.mean())
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(z.shape[1]), (0.1, 1e3))
              + WhiteKernel(0.5, (1e-4, 1e1)))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes of the optimizer at a bound: the fit stands
        gp.fit(z, y)
    fit = gp.predict(z)
    inverse_diagonal = np.diag(cho_solve((gp.L_, True), np.eye(len(y))))
    loo = y - gp.alpha_.ravel() / inverse_diagonal * float(np.ravel(gp._y_train_std)[0])
    var = np.var(y)
    return fit, float(1 - np.var(y - fit) / var), float(1 - np.var(y - loo) / var), loo


#: A regression that explains this much more of its output in sample than out of it overfits the draws.
OVERFIT = 0.3


def evppi(table: pd.DataFrame, parameters: pd.DataFrame, groups: Mapping[str, Sequence[str]],
          order: Sequence[str], wtps: Sequence[float], years: int) -> pd.DataFrame:
    """Per willingness to pay and parameter group: EVPPI (US$ for the decision and per year), its
    share of the EVPI, the R^2 of the regressions of effects and costs in sample and leave-one-out (how
    much of their variation the group explains), and `overfit` (warned: in sample exceeds out of
    sample by more than OVERFIT, so the EVPPI is biased up). `parameters`: one row per draw (index draw), a column per path; `groups`:
    {group: [paths]}."""
    sd, cost = _wide(table, "sd_students", order), _wide(table, "cost", order)
    draws = sd.index
    ref = order[0]
    d_sd = {s: (sd[s] - sd[ref]).to_numpy() for s in order[1:]}
    d_cost = {s: (cost[s] - cost[ref]).to_numpy() for s in order[1:]}
    perfect = evpi(table, order, wtps, years)
    values = dict(zip(perfect["wtp"], perfect["evpi"]))
    rows = []
    for group, paths in groups.items():
        x = parameters.loc[draws, list(paths)].to_numpy(dtype=float)
        fits = {s: (_fitted(x, d_sd[s]), _fitted(x, d_cost[s])) for s in order[1:]}
        r2 = {k: float(np.mean([fits[s][j][1] for s in order[1:]])) for j, k in enumerate(("sd", "cost"))}
        loo = {k: float(np.mean([fits[s][j][2] for s in order[1:]])) for j, k in enumerate(("sd", "cost"))}
        worst = max(r2, key=lambda k: r2[k] - loo[k])
        overfit = r2[worst] - loo[worst] > OVERFIT
        if overfit:
            what = "SD-students" if worst == "sd" else "costs"
            warnings.warn(f"evppi: {group}: its regressions explain {r2[worst]:.0%} of the strategies' differences in "
                          f"{what} in sample but {max(loo[worst], 0):.0%} out of sample ({len(draws)} draws for "
                          f"{len(paths)} parameters): its EVPPI is biased up; run more draws", stacklevel=2)
        for wtp in wtps:
            # Leave-one-out predictions: each draw's value predicted from the other draws, so a fit that
            # interpolates cannot pass the draws' own variation off as information.
            inb = np.column_stack([np.zeros(len(draws))] + [wtp * fits[s][0][3] - fits[s][1][3] for s in order[1:]])
            # Partial information is worth at most perfect information (a fit's noise can push it past).
            value = min(values[float(wtp)], max(0.0, float(inb.max(axis=1).mean() - inb.mean(axis=0).max())))
            rows.append({"wtp": float(wtp), "group": group, "parameters": " ".join(paths), "evppi": value,
                         "evppi_per_year": value / years,
                         "share_of_evpi": value / values[float(wtp)] if values[float(wtp)] > 0 else np.nan,
                         "r2_sd_students": r2["sd"], "r2_cost": r2["cost"], "r2_loo_sd_students": loo["sd"],
                         "r2_loo_cost": loo["cost"], "overfit": overfit})
    return pd.DataFrame(rows)
