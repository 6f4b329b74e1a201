"""Ensembles: the same scenario over many seeds, to report a mean with its spread instead of one draw.

Runs go one after another in this process (each run uses every core), or on a Dask cluster when a
`dask.distributed.Client` is given (pass threads=1 and one worker process per core there).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .scenarios import ScenarioLike, load_scenario


def _one_run(document: dict, source: str, seed: int, threads: int) -> dict:
    from .scenarios import Scenario
    from .sim import Sim

    sim = Sim(Scenario(document, source), threads=threads, seed=seed).run()
    return sim.summary()


def run_ensemble(scenario: ScenarioLike, seeds: Iterable[int], *, threads: int = 0, client=None) -> pd.DataFrame:
    """One row per seed and subject: headline mean effect (SD and RIT, when the scenario runs its
    counterfactual twin), spring mean SD units and growth relative to the norms."""
    scenario = load_scenario(scenario)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds: expected at least one seed (got none)")
    if client is None:
        summaries = [_one_run(scenario.document, scenario.source, s, threads) for s in seeds]
    else:
        futures = [client.submit(_one_run, scenario.document, scenario.source, s, threads, pure=False) for s in seeds]
        summaries = client.gather(futures)
    rows = []
    for seed, summary in zip(seeds, summaries):
        effects = summary.get("headline_effects") or {}
        for subject, h in summary["headline"].items():
            e = effects.get(subject, {})
            rows.append({"seed": seed, "subject": subject,
                         "effect_sd": e.get("mean_effect_sd", np.nan), "effect_rit": e.get("mean_effect_rit", np.nan),
                         "spring_mean_sd": h.get("mean_sd", np.nan), "growth_vs_norm": h.get("growth_vs_norm", np.nan),
                         "seconds": summary["seconds"]})
    return pd.DataFrame(rows)


def describe(ensemble: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, and the 5th and 95th percentiles over seeds, per subject."""
    g = ensemble.groupby("subject")[["effect_sd", "effect_rit", "spring_mean_sd", "growth_vs_norm"]]
    return pd.concat({"mean": g.mean(), "sd": g.std(), "p05": g.quantile(0.05), "p95": g.quantile(0.95),
                      "seeds": g.count()}, axis=1)
