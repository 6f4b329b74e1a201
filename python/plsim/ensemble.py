"""Ensembles: a scenario over many seeds (and, optionally, parameter draws), to report a mean with
uncertainty bands instead of one draw. Runs go one after another in this process, or to a Dask
cluster when a `dask.distributed.Client` is given; results are the same either way.
"""
from __future__ import annotations

import html
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .by_year import ByYear, of_run
from .plan import RunPlan
from .progress import progress_bar
from .seeds import seed_list
from .safe_io import plot_label
from .scenarios import ScenarioLike, load_scenario


def _year_summary(sim) -> pd.DataFrame:
    """Per year and subject: the true effect on students in PL schools that year (effect_sd_pl_schools,
    also under its earlier name effect_sd: n-weighted, spring; NaN without a twin; the CLI's headline),
    the spring mean in national SD units and growth against the norms."""
    return _summary_of(sim.assessments, sim.effects if sim.has_counterfactual else None)


def _summary_of(a: pd.DataFrame, effects: Optional[pd.DataFrame]) -> pd.DataFrame:
    """_year_summary from a run's assessments and effects (None without a twin)."""
    spring = a[a["season"] == "spring"]
    rows = []
    from .results import growth_by_grade

    for year in sorted(spring["year"].unique()):
        g = growth_by_grade(a, year=int(year))
        for subject in ("math", "reading"):
            s = spring[(spring["year"] == year) & (spring["subject"] == subject)]
            row = {"year": int(year), "subject": subject,
                   "spring_mean_sd": float(np.average(s["mean_sd"], weights=s["n"])) if len(s) else np.nan}
            gs = g[g["subject"] == subject]
            row["growth_vs_norm"] = float(gs["growth"].sum() / gs["norm_growth"].sum()) if len(gs) else np.nan
            if effects is not None:
                e = effects[(effects["year"] == year) & (effects["subject"] == subject) &
                            (effects["model"].astype(str) != "traditional")]
                row["effect_sd"] = float(np.average(e["effect_sd"], weights=e["n"])) if len(e) else np.nan
            else:
                row["effect_sd"] = np.nan
            row["effect_sd_pl_schools"] = row["effect_sd"]
            rows.append(row)
    return pd.DataFrame(rows)


def _tables_of(plan: RunPlan, sim) -> dict:
    """What an ensemble keeps of a finished run (plain DataFrames, so a Dask worker can return them).
    sim.assessments and sim.effects build new frames on every access (effects: both arms' assessments,
    a merge and the schools table), so each is built once and shared with the summary."""
    assessments = sim.assessments
    effects = sim.effects if sim.has_counterfactual else None
    known = {"assessments": assessments, **({"effects": effects} if effects is not None else {})}
    return {"seed": plan.seed, "overrides": plan.overrides, "summary": _summary_of(assessments, effects),
            "effects": effects if effects is not None else pd.DataFrame(), "assessments": assessments,
            "by_year": of_run(sim, **known), "seconds": sim.counts["seconds"]}


def _run_tables(plan: RunPlan) -> dict:
    """One run of an ensemble: the plan run to its end, and what the ensemble keeps of it."""
    return _tables_of(plan, plan.run())


def _run_chunk(plans: Sequence[RunPlan]) -> list:
    """Several runs in one Dask task: fewer, larger tasks keep the scheduler's share of the time small."""
    return [_run_tables(plan) for plan in plans]


def _draw(parameters: Mapping[str, Any], seed: int) -> dict:
    """One draw of every uncertain parameter for a seed: a frozen scipy.stats distribution (rvs), a
    (lo, hi) pair (uniform) or a list of values (one of them), from a generator keyed by the seed."""
    rng = np.random.default_rng([int(seed), 0x5EED])
    out = {}
    for path in sorted(parameters):
        spec = parameters[path]
        if hasattr(spec, "rvs"):
            out[path] = float(spec.rvs(random_state=rng))
        elif isinstance(spec, tuple) and len(spec) == 2:
            out[path] = float(rng.uniform(*spec))
        elif isinstance(spec, list) and spec:
            out[path] = spec[int(rng.integers(len(spec)))]
        else:
            raise ValueError(f"parameters: {path}: expected a scipy.stats distribution, a (lo, hi) pair or a list "
                             f"of values (got {spec!r})")
    return out


class EnsembleResult(ByYear):
    """The runs of an ensemble: tidy DataFrames with a seed column, bands per year, a plot; every
    by-year metric of plsim.by_year with its band over the runs (`by_year(metric)`, `plot(metric)`)."""

    def __init__(self, tables: Sequence[dict], name: str):
        self.name = name
        self._tables = list(tables)

        def stack(key):
            frames = [t[key].assign(seed=t["seed"]) for t in self._tables if len(t.get(key, ()))]
            if not frames:
                return pd.DataFrame()
            df = pd.concat(frames, ignore_index=True)
            return df[["seed"] + [c for c in df.columns if c != "seed"]]

        self.summary = stack("summary")
        self.effects = stack("effects")
        self.assessments = stack("assessments")
        self.overrides = pd.DataFrame([{"seed": t["seed"], **t["overrides"]} for t in self._tables])
        self.seconds = float(sum(t["seconds"] for t in self._tables))
        by_year = stack("by_year")
        self._runs_by_year = by_year.assign(scenario=name)[["scenario", "seed", "year", "metric", "value"]] \
            if len(by_year) else pd.DataFrame(columns=["scenario", "seed", "year", "metric", "value"])
        drawn = {k for t in self._tables for k in t["overrides"]}
        self._band_context = {"runs": len(self._tables), "draws": len(drawn)}

    def bands(self, quantiles=(0.05, 0.5, 0.95), value: str = "effect_sd") -> pd.DataFrame:
        """Per year and subject: mean and the given quantiles of `value` over the runs. A `value` of
        plsim.by_year (share_students_pl, teacher_turnover, ...) has them per year."""
        if value not in self.summary:
            self._check_metric(value)
            runs = self._runs_by_year[self._runs_by_year["metric"] == value]
            return self._quantiles(runs.groupby("year")["value"], quantiles)
        return self._quantiles(self.summary.groupby(["year", "subject"])[value], quantiles)

    @staticmethod
    def _quantiles(g, quantiles) -> pd.DataFrame:
        out = g.mean().rename("mean").to_frame()
        for q in quantiles:
            out[f"q{round(100 * q):02d}"] = g.quantile(q)
        out["runs"] = g.count()
        return out.reset_index()

    def plot(self, value: str = "effect_sd", quantiles=(0.05, 0.95), ax=None):
        """`value` by year with its band over the runs: per subject for a column of `summary`
        (effect_sd, spring_mean_sd, growth_vs_norm), or any metric of plsim.by_year (metrics_by_year())."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if value not in self.summary:
            return self._plot_by_year(value, ax=ax, low=100 * quantiles[0], high=100 * quantiles[1])
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        b = self.bands(quantiles=(quantiles[0], 0.5, quantiles[1]), value=value)
        lo, hi = f"q{round(100 * quantiles[0]):02d}", f"q{round(100 * quantiles[1]):02d}"
        for i, (subject, g) in enumerate(b.groupby("subject")):
            if len(g) == 1:  # one year: the band as a bar (an area of one point does not show)
                ax.errorbar(g["year"], g["mean"], yerr=[g["mean"] - g[lo], g[hi] - g["mean"]], fmt="none",
                            ecolor=f"C{i}", alpha=0.5, capsize=6, lw=4)
            ax.fill_between(g["year"], g[lo], g[hi], alpha=0.25, color=f"C{i}")
            ax.plot(g["year"], g["mean"], marker="o", label=subject, color=f"C{i}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel="year", ylabel=value, title=f"{plot_label(self.name)}: {value} over {len(self._tables)} runs "
                                                   f"({round(100 * quantiles[0])}-{round(100 * quantiles[1])}%)")
        ax.legend()
        return ax

    def _repr_html_(self) -> str:
        return (f"<b>plsim ensemble</b> {html.escape(str(self.name))}: {len(self._tables)} runs<br>" +
                self.bands().round(4).to_html(index=False, escape=True))

    def __repr__(self) -> str:
        return f"EnsembleResult({self.name!r}, runs={len(self._tables)})"


def ensemble(scenario_or_plans: Union[ScenarioLike, Sequence[RunPlan]], *, seeds: Union[int, Iterable[int]] = 5,
             parameters: Optional[Mapping[str, Any]] = None, client=None, progress: bool = True,
             threads: int = 1) -> EnsembleResult:
    """Runs a scenario over `seeds` (each seed also draws `parameters`, distributions over override
    paths: parameter uncertainty beside seed uncertainty), or a list of RunPlans as they are, serially
    or on a Dask `client`; `progress` shows a bar. `seeds`: N (seeds 1..N) or a list of seeds."""
    if isinstance(scenario_or_plans, (list, tuple)) and scenario_or_plans and isinstance(scenario_or_plans[0], RunPlan):
        plans = list(scenario_or_plans)
        name = plans[0].scenario.name
    else:
        scenario = load_scenario(scenario_or_plans)
        name = scenario.name
        seeds = seed_list(seeds)
        plans = [RunPlan(scenario, seed=s, overrides=_draw(parameters or {}, s), threads=threads) for s in seeds]
    bar = None
    if progress:
        bar = progress_bar(total=len(plans), unit="run", desc=name)
    try:
        if client is None:
            tables = []
            for plan in plans:
                tables.append(_run_tables(plan))
                if bar is not None:
                    bar.update(1)
        else:
            from dask.distributed import as_completed

            # About four tasks per worker: each task runs a chunk of consecutive plans.
            workers = max(1, len(client.scheduler_info().get("workers", {})))
            size = max(1, -(-len(plans) // (4 * workers)))
            chunks = [plans[i:i + size] for i in range(0, len(plans), size)]
            futures = [client.submit(_run_chunk, chunk, pure=False) for chunk in chunks]
            if bar is not None:
                for future in as_completed(futures):
                    bar.update(len(chunks[futures.index(future)]))
            tables = [t for chunk in client.gather(futures) for t in chunk]
    finally:
        if bar is not None:
            bar.close()
    return EnsembleResult(tables, name)


# The one-row-per-seed table of the first slice's CLI, from an ensemble's last year.
def run_ensemble(scenario: ScenarioLike, seeds: Union[int, Iterable[int]], *, threads: int = 0,
                 client=None) -> pd.DataFrame:
    """One row per seed and subject of the last year: effect_sd, spring_mean_sd, growth_vs_norm."""
    result = ensemble(scenario, seeds=seeds, client=client, progress=False, threads=threads)
    s = result.summary
    return s[s["year"] == s["year"].max()].drop(columns="year").reset_index(drop=True)


def describe(ensemble_rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, and the 5th and 95th percentiles over seeds, per subject."""
    g = ensemble_rows.groupby("subject")[["effect_sd", "spring_mean_sd", "growth_vs_norm"]]
    return pd.concat({"mean": g.mean(), "sd": g.std(), "p05": g.quantile(0.05), "p95": g.quantile(0.95),
                      "seeds": g.count()}, axis=1)
