"""Sensitivity analysis: Morris elementary effects and Sobol indices (first order and total) of any
model output on any set of parameters, and the estimators themselves on any function.

SALib is not in Debian, so the estimators are written here and tested against the Ishigami function,
whose indices are known analytically (tests/python/test_sensitivity.py):

* Morris (1991), with trajectories on a p-level grid and the improved mu* of Campolongo et al. (2007):
  mu (mean elementary effect), mu_star (mean absolute), sigma (their SD), per parameter.
* Sobol indices from Saltelli's scheme (Saltelli et al. 2010): matrices A, B and A_B^i from a scrambled
  Sobol sequence (scipy.stats.qmc); first order S1 = mean(f(B) (f(A_B^i) - f(A))) / V (Saltelli 2010)
  and total ST = mean((f(A) - f(A_B^i))^2) / (2 V) (Jansen 1999), each with a 95% bootstrap interval
  over the base points, and a SobolWarning when an interval is too wide to rank the parameters.
  (scipy.stats.sobol_indices arrived in SciPy 1.11; Debian 12 has 1.10.)

`plsim sensitivity SCENARIO --method sobol|morris --range PATH=LO:HI ...` runs either on a scenario.
"""
from __future__ import annotations

import warnings
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .seeds import seed_list


def _scale(unit: np.ndarray, bounds: Sequence[tuple]) -> np.ndarray:
    lo = np.array([b[0] for b in bounds], dtype=float)
    hi = np.array([b[1] for b in bounds], dtype=float)
    return lo + unit * (hi - lo)


def morris(func: Callable[[np.ndarray], np.ndarray], bounds: Sequence[tuple], *, trajectories: int = 10,
           levels: int = 4, seed: int = 0, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Elementary effects of `func` (called once with all points, shape (n, k), returning n values).
    Returns one row per parameter: mu, mu_star, sigma, in the output's units per unit of the parameter's
    range (an effect of moving the parameter across its whole range)."""
    k = len(bounds)
    rng = np.random.default_rng(seed)
    delta = levels / (2.0 * (levels - 1))
    grid = np.arange(levels // 2) / (levels - 1)  # starting levels from which +delta stays in [0, 1]
    points, moves = [], []
    for _ in range(trajectories):
        x = rng.choice(grid, size=k)
        order = rng.permutation(k)
        signs = np.ones(k)
        path = [x.copy()]
        for j in order:
            x = x.copy()
            x[j] += delta * signs[j]
            path.append(x)
        points.extend(path)
        moves.append(order)
    values = np.asarray(func(_scale(np.array(points), bounds)), dtype=float)
    effects = [[] for _ in range(k)]
    for t, order in enumerate(moves):
        base = t * (k + 1)
        for step, j in enumerate(order):
            effects[j].append((values[base + step + 1] - values[base + step]) / delta)
    e = [np.array(v) for v in effects]
    return pd.DataFrame({"parameter": list(names) if names else [f"x{j}" for j in range(k)],
                         "mu": [v.mean() for v in e], "mu_star": [np.abs(v).mean() for v in e],
                         "sigma": [v.std(ddof=1) if len(v) > 1 else 0.0 for v in e]})


class SobolWarning(UserWarning):
    """Sobol indices from a sample too small to tell them apart."""


#: Indices whose 95% bootstrap interval is wider than this are too uncertain to rank: SobolWarning.
SOBOL_MAX_WIDTH = 0.2


def _sobol_estimates(fa: np.ndarray, fb: np.ndarray, fab: np.ndarray) -> tuple:
    """S1 (Saltelli 2010) and ST (Jansen 1999) of each parameter from f(A), f(B) and f(A_B^i)."""
    var = np.var(np.concatenate([fa, fb]), ddof=1)
    s1 = (fb * (fab - fa)).mean(axis=1) / var
    st = 0.5 * ((fa - fab) ** 2).mean(axis=1) / var
    return s1, st


def sobol_indices(func: Callable[[np.ndarray], np.ndarray], bounds: Sequence[tuple], *, n: int = 1024,
                  seed: int = 0, names: Sequence[str] | None = None, bootstrap: int = 500,
                  max_width: float = SOBOL_MAX_WIDTH) -> pd.DataFrame:
    """First-order and total Sobol indices of `func` over the box `bounds`, from n (a power of 2) base
    points: n (k + 2) evaluations. Returns one row per parameter: S1 and ST with their 95% bootstrap
    intervals (S1_lo, S1_hi, ST_lo, ST_hi: the n base rows resampled `bootstrap` times from a seeded
    generator, the estimators recomputed on the same evaluations; Archer, Saltelli & Sobol 1997). Warns
    (SobolWarning) when an interval is wider than `max_width`: the sample is too small to rank the
    parameters (a first-order index of -0.114 at n=16 is noise, not a finding)."""
    k = len(bounds)
    base = qmc.Sobol(d=2 * k, scramble=True, seed=seed).random(n)
    a, b = base[:, :k], base[:, k:]
    ab = []
    for j in range(k):
        m = a.copy()
        m[:, j] = b[:, j]
        ab.append(m)
    all_points = np.vstack([a, b, *ab])
    values = np.asarray(func(_scale(all_points, bounds)), dtype=float)
    fa, fb = values[:n], values[n:2 * n]
    fab = values[2 * n:].reshape(k, n)
    s1, st = _sobol_estimates(fa, fb, fab)
    rng = np.random.default_rng([int(seed), 0xB007])
    boot_s1, boot_st = np.empty((bootstrap, k)), np.empty((bootstrap, k))
    for r in range(bootstrap):
        idx = rng.integers(0, n, size=n)
        boot_s1[r], boot_st[r] = _sobol_estimates(fa[idx], fb[idx], fab[:, idx])
    table = pd.DataFrame({"parameter": list(names) if names else [f"x{j}" for j in range(k)], "S1": s1,
                          "S1_lo": np.quantile(boot_s1, 0.025, axis=0), "S1_hi": np.quantile(boot_s1, 0.975, axis=0),
                          "ST": st, "ST_lo": np.quantile(boot_st, 0.025, axis=0),
                          "ST_hi": np.quantile(boot_st, 0.975, axis=0)})
    widths = pd.concat([table["S1_hi"] - table["S1_lo"], table["ST_hi"] - table["ST_lo"]], keys=["S1", "ST"])
    (index, row), width = widths.idxmax(), float(widths.max())
    if width > max_width:
        name = table.loc[row, "parameter"]
        warnings.warn(f"sobol: n={n} base points ({n * (k + 2)} evaluations) leave the indices uncertain: the 95% "
                      f"bootstrap interval of {index} of {name} is {table.loc[row, index + '_lo']:+.3f} to "
                      f"{table.loc[row, index + '_hi']:+.3f} (wider than {max_width}); increase n (intervals narrow "
                      f"as 1/sqrt(n))", SobolWarning, stacklevel=2)
    return table


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on [-pi, pi]^3, whose Sobol indices are known analytically."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def model_function(scenario, paths: Sequence[str], output: str, *, seeds=(1,), client=None,
                   outputs: Mapping | None = None, workers: int | None = 1) -> Callable[[np.ndarray], np.ndarray]:
    """`func(points)` for the estimators: each point (one value per path) is a run of the scenario
    (the output averaged over seeds), serially (workers=1), on worker processes (plsim.pool; None: every
    core) or on a Dask client; the values are the same whichever runs them."""
    from .outputs import evaluate as _evaluate
    from .plan import RunPlan
    from .pool import Pool

    document = RunPlan(scenario).document
    extra = dict(outputs or {})
    if extra and (workers != 1 or client is not None):
        raise ValueError("outputs: callables run only in this process; pass workers=1 and no client")
    seeds = seed_list(seeds)

    def func(points: np.ndarray) -> np.ndarray:
        overrides = [{p: float(v) for p, v in zip(paths, row)} for row in points]
        with Pool(workers=workers, client=client) as pool:
            results = pool.map(_evaluate, [(document, o, list(seeds), [output], extra) for o in overrides])
        return np.array([r[output] for r in results])

    return func


def sensitivity(scenario, *, parameters: Mapping[str, tuple], output: str = "effect_math_sd", method: str = "morris",
                seeds=(1,), client=None, trajectories: int = 6, n: int = 64, seed: int = 0,
                workers: int | None = 1) -> pd.DataFrame:
    """Sensitivity of a named output of `scenario` to `parameters` ({path: (lo, hi)}): Morris (mu,
    mu_star, sigma; (k + 1) x trajectories runs) or Sobol (S1, ST with 95% bootstrap intervals; n (k + 2)
    runs; SobolWarning when n is too small). Runs on `workers` processes (None: every core) or `client`."""
    if method not in ("morris", "sobol"):
        raise ValueError(f"method: expected morris or sobol (got {method!r})")
    paths = sorted(parameters)
    bounds = [parameters[p] for p in paths]
    func = model_function(scenario, paths, output, seeds=seeds, client=client, workers=workers)
    if method == "morris":
        table = morris(func, bounds, trajectories=trajectories, seed=seed, names=paths)
        return table.sort_values("mu_star", ascending=False).reset_index(drop=True)
    if method == "sobol":
        table = sobol_indices(func, bounds, n=n, seed=seed, names=paths)
        return table.sort_values("ST", ascending=False).reset_index(drop=True)
    raise ValueError(f"method: expected morris or sobol (got {method!r})")


def tornado(table: pd.DataFrame, column: str | None = None, ax=None, title: str = ""):
    """A horizontal bar chart of the table's measure (mu_star for Morris, with sigma; ST for Sobol, with
    its 95% bootstrap interval), largest on top."""
    import matplotlib.pyplot as plt

    column = column or ("mu_star" if "mu_star" in table else "ST")
    t = table.sort_values(column)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.35 * len(t) + 1))
    if column == "mu_star":
        xerr = t["sigma"]
    elif f"{column}_lo" in t:  # the bootstrap interval of a Sobol index
        xerr = [np.maximum(t[column] - t[f"{column}_lo"], 0), np.maximum(t[f"{column}_hi"] - t[column], 0)]
    else:
        xerr = None
    ax.barh(t["parameter"], t[column], xerr=xerr, color="tab:blue", alpha=0.8)
    ax.set(xlabel=column, title=title or f"sensitivity ({column})")
    ax.figure.tight_layout()
    return ax


# The default model's headline effects (nglc_like) against its main mechanisms' parameters, each over
# a range around its default: the table of docs/sensitivity.md.
DEFAULT_STUDY = {
    "learning.learn_rate": (0.06, 0.10),
    "learning.mode_efficiency.small_group": (1.2, 1.9),
    "learning.mode_efficiency.adaptive_software": (0.6, 1.2),
    "learning.gap_penalty": (0.1, 0.3),
    "learning.mismatch_width_behind": (40.0, 90.0),
    "personalization.transition_overhead": (0.0, 0.2),
    "personalization.estimate_error_scale": (0.5, 3.0),
    "personalization.engagement_choice": (0.0, 0.3),
    "teachers.prep_fidelity_loss": (0.0, 0.6),
    "schools.obstacle_weight": (0.2, 0.8),
}


def main(argv=None) -> int:
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m plsim.sensitivity",
                                 description="Morris sensitivity of nglc_like's headline effects (docs/sensitivity.md)")
    ap.add_argument("--trajectories", type=int, default=6)
    ap.add_argument("--out", help="directory for sensitivity.md and sensitivity.png")
    args = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = {o: sensitivity("nglc_like", parameters=DEFAULT_STUDY, output=o, trajectories=args.trajectories)
              for o in ("effect_math_sd", "effect_reading_sd")}
    runs = (len(DEFAULT_STUDY) + 1) * args.trajectories
    lines = [f"Morris elementary effects of nglc_like's true effects (one year, seed 1), {args.trajectories} "
             f"trajectories ({runs} runs per output); an effect is the change of the output when the parameter "
             f"moves across its whole range (`python -m plsim.sensitivity --out docs`).", "",
             "| parameter | range | math mu* | math mu | math sigma | reading mu* | reading mu | reading sigma |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    m = tables["effect_math_sd"].set_index("parameter")
    r = tables["effect_reading_sd"].set_index("parameter")
    for p in m.index:
        lo, hi = DEFAULT_STUDY[p]
        lines.append(f"| {p} | {lo:g}-{hi:g} | {m.loc[p, 'mu_star']:.3f} | {m.loc[p, 'mu']:+.3f} | {m.loc[p, 'sigma']:.3f} | "
                     f"{r.loc[p, 'mu_star']:.3f} | {r.loc[p, 'mu']:+.3f} | {r.loc[p, 'sigma']:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "sensitivity_table.md").write_text(text)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for ax, (o, t) in zip(axes, tables.items()):
            tornado(t, ax=ax, title=o)
        fig.tight_layout()
        fig.savefig(out / "figures" / "sensitivity.png" if (out / "figures").is_dir() else out / "sensitivity.png", dpi=110)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
