"""Sweeps over override paths: a grid, a Latin hypercube or a Sobol sequence (scipy.stats.qmc), each
point run over seeds, serially or on Dask; the results as one tidy DataFrame."""
from __future__ import annotations

import itertools
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .seeds import seed_list


def design(space: Mapping[str, object], method: str = "grid", n: int = 8, seed: int = 0) -> pd.DataFrame:
    """The points of a sweep: `space` maps each path to (lo, hi) or a list of values. A grid takes n
    evenly spaced values of each range (and every listed value); "lhs" and "sobol" take n points of the
    box (lists are not allowed there)."""
    paths = list(space)
    if method == "grid":
        axes = [np.linspace(*space[p], n) if isinstance(space[p], tuple) else list(space[p]) for p in paths]
        return pd.DataFrame(list(itertools.product(*axes)), columns=paths)
    if any(not isinstance(space[p], tuple) for p in paths):
        raise ValueError(f"space: {method} needs a (lo, hi) range for every path")
    d = len(paths)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=seed).random(n)
    elif method == "sobol":
        unit = qmc.Sobol(d=d, scramble=True, seed=seed).random(n)
    else:
        raise ValueError(f"method: expected grid, lhs or sobol (got {method!r})")
    lo = np.array([space[p][0] for p in paths])
    hi = np.array([space[p][1] for p in paths])
    return pd.DataFrame(lo + unit * (hi - lo), columns=paths)


def sweep(scenario, space: Mapping[str, object], *, method: str = "grid", n: int = 8,
          outputs: Sequence[str] = ("effect_math_sd", "effect_reading_sd"), seeds=(1,), client=None,
          seed: int = 0) -> pd.DataFrame:
    """One row per point and seed: the point's values and each named output (plsim.calibrate.OUTPUTS)."""
    from .outputs import evaluate as _evaluate
    from .plan import RunPlan

    seeds = seed_list(seeds)
    points = design(space, method, n, seed)
    document = RunPlan(scenario).document
    tasks = [(i, {p: (float(v) if isinstance(v, (float, np.floating)) else v) for p, v in row.items()}, s)
             for i, row in points.iterrows() for s in seeds]
    if client is None:
        results = [_evaluate(document, o, [s], list(outputs), {}) for _, o, s in tasks]
    else:
        results = client.gather([client.submit(_evaluate, document, o, [s], list(outputs), {}, pure=False)
                                 for _, o, s in tasks])
    rows = [{"point": i, "seed": s, **o, **r} for (i, o, s), r in zip(tasks, results)]
    return pd.DataFrame(rows)
