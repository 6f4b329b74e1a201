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
  Brennan 2014): the differences in SD-students and in cost between each strategy and the first are
  regressed on the group's parameters, and EVPPI = E[max fitted INB] - max E[fitted INB], with fitted
  INB = wtp x fitted dSD - fitted dcost (so one fit serves every willingness to pay). The regression is
  a generalized additive model written as a penalized spline basis (cubic regression splines of each
  parameter and products of pairs), its penalty chosen by exact leave-one-out error: a penalty chosen
  in sample (or a Gaussian process's likelihood, which was tried first) can interpolate the draws, and
  then every group's EVPPI is the EVPI. A fit whose in-sample R^2 still exceeds its leave-one-out R^2
  by more than 0.3 is reported (`overfit`) and warned of.

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


#: Knots of each parameter's spline, and the ridge penalties leave-one-out error chooses among.
KNOTS = 5
PENALTIES = tuple(10.0 ** np.arange(-2, 6.01, 0.25))

def _basis(x: np.ndarray, knots: int = KNOTS) -> np.ndarray:
    """A cubic regression-spline basis of each column (x, x^2, x^3 and (x - k)^3 beyond `knots` knots at
    its quantiles) and the products of every pair of columns, each basis column standardized."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    cols = []
    for j in range(z.shape[1]):
        v = z[:, j]
        cols += [v, v ** 2, v ** 3] + [np.maximum(v - k, 0.0) ** 3 for k in np.quantile(v, np.linspace(0, 1, knots + 2)[1:-1])]
    cols += [z[:, i] * z[:, j] for i in range(z.shape[1]) for j in range(i + 1, z.shape[1])]
    b = np.column_stack(cols)
    spread = b.std(axis=0)
    return (b - b.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _fitted(x: np.ndarray, y: np.ndarray) -> tuple:
    """A penalized regression of y on the spline basis of x (a generalized additive model with pairwise
    interactions, as Strong, Oakley & Brennan 2014 fit; ridge penalty chosen by exact leave-one-out
    error over a grid, from one SVD): its in-sample fitted values, R^2, leave-one-out R^2 and
    leave-one-out predictions. Choosing the penalty out of sample keeps the fit from interpolating the
    draws, which would pass their own variation off as information (every group's EVPPI the EVPI)."""
    keep = x.std(axis=0) > 0
    centred = y - y.mean()
    if not keep.any() or np.std(y) == 0:
        return np.full(len(y), y.mean()), 0.0, 0.0, np.full(len(y), y.mean())
    u, sv, _ = np.linalg.svd(_basis(x[:, keep]), full_matrices=False)
    rank = sv > 1e-9 * sv.max()  # the centred basis never spans the constant: drop null directions
    u, sv = u[:, rank], sv[rank]
    uy = u.T @ centred
    u2 = u ** 2
    # Each draw's weight outside the basis's span, less the intercept's 1/n (the mean is fitted too).
    outside = np.maximum(1.0 - u2.sum(axis=1) - 1.0 / len(y), 0.0)
    best = None
    for penalty in PENALTIES:
        shrink = sv ** 2 / (sv ** 2 + penalty)
        fit = u @ (shrink * uy)
        # 1 - leverage, summed without cancellation (with more basis columns than draws, leverages near 1)
        free = outside + (u2 * (penalty / (sv ** 2 + penalty))).sum(axis=1)
        loo_residual = (centred - fit) / free
        error = float(np.mean(loo_residual ** 2))
        if best is None or error < best[0]:
            best = (error, fit, centred - loo_residual)
    _, fit, loo = best
    var = np.var(y)
    return (y.mean() + fit, float(1 - np.var(centred - fit) / var), float(1 - np.var(centred - loo) / var),
            y.mean() + loo)


#: Fewer draws than this make an EVPPI a first ranking at best (warned).
MIN_DRAWS = 100

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
    if len(draws) < MIN_DRAWS:
        warnings.warn(f"evppi: from {len(draws)} draws its regressions can tell little from noise; read it as a "
                      f"first ranking and run {MIN_DRAWS} or more draws for figures", stacklevel=2)
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
            inb = np.column_stack([np.zeros(len(draws))] + [wtp * fits[s][0][0] - fits[s][1][0] for s in order[1:]])
            # Partial information is worth at most perfect information (a fit's noise can push it past).
            value = min(values[float(wtp)], max(0.0, float(inb.max(axis=1).mean() - inb.mean(axis=0).max())))
            value = value if value > 1e-9 * max(1.0, values[float(wtp)]) else 0.0  # rounding, not information
            rows.append({"wtp": float(wtp), "group": group, "parameters": " ".join(paths), "evppi": value,
                         "evppi_per_year": value / years,
                         "share_of_evpi": value / values[float(wtp)] if values[float(wtp)] > 0 else np.nan,
                         "r2_sd_students": r2["sd"], "r2_cost": r2["cost"], "r2_loo_sd_students": loo["sd"],
                         "r2_loo_cost": loo["cost"], "overfit": overfit})
    return pd.DataFrame(rows)
