"""Probabilistic sensitivity analysis of strategies: what each costs and buys when the uncertain
parameters vary together, which to choose at a price per unit of learning, how sure that choice is, and
what learning a parameter first would be worth.

    result = plsim.compare(["scenarios/grants/coaching_heavy.json", ...], uncertainty="priors", draws=40, seeds=1)
    result.summary()       # each strategy's mean and 90% interval of cost, effect, cost per SD-student
    result.incremental()   # every pair: differences, ICER, probability better at each willingness to pay
    result.ceac()          # probability each strategy is best at each willingness to pay
    result.evpi(); result.evppi()
    result.write("runs/psa")   # psa.csv, ceac.csv, evppi.csv, ... and the plots

Each draw takes one parameter vector (from the priors, plsim.priors, or from a posterior,
plsim.Posterior) and runs every strategy with it on the same seeds, so strategies differ by what they
do, not by their parameters or their random numbers (common random numbers). The runs are independent
tasks on worker processes (plsim.pool; or a Dask client); every run is deterministic and results are
put in task order, so they are identical on any number of workers. The summaries are pure functions of
the table of draws (plsim.voi).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from . import voi
from .pool import Pool
from .safe_io import formula_safe_frame, plot_label

#: Willingness to pay per SD-student gained (US$) at which the tables and the EVPPI are given by
#: default; the acceptability curve and EVPI cover a grid from 0 to past both.
DEFAULT_WTP = (5_000.0, 20_000.0)


def uncertainty_draws(uncertainty, scenarios: Sequence, n: int, seed: int) -> tuple:
    """(draws, groups, description) for `uncertainty`: "priors" (each scenario's priors: the shipped
    ones and its own priors section, which must agree between the scenarios), a priors JSON file, a
    posterior (plsim.Posterior, its directory or its posterior.csv: resampled by weight), or a dict of
    plsim Priors. draws: one row per draw (index from 1), a column per path; groups: {group: [paths]}."""
    from . import priors as P
    from .posterior import Posterior

    if isinstance(uncertainty, (str, Path)) and str(uncertainty) == "priors":
        resolved = [P.resolve(s) for s in scenarios]
        first = resolved[0]
        for s, r in zip(scenarios[1:], resolved[1:]):
            differ = sorted(p for p in set(first) | set(r) if p not in first or p not in r or
                            P.centred_spec(first[p]) != P.centred_spec(r[p]))
            if differ:
                raise ValueError(f"uncertainty: the scenarios' priors differ at {', '.join(differ)} "
                                 f"({_name(scenarios[0])} and {_name(s)}); one draw must mean the same parameters in "
                                 f"every strategy, so give them the same priors (or the same values to centre on)")
        return P.draw(first, n, seed), _groups(first), "the priors (plsim priors)"
    if isinstance(uncertainty, dict):
        return P.draw(uncertainty, n, seed), _groups(uncertainty), "the priors given"
    if isinstance(uncertainty, Posterior):
        post, where = uncertainty, "a posterior"
    else:
        path = Path(uncertainty)
        if path.suffix == ".json" and path.is_file():
            chosen = P.from_file(path)
            return P.draw(chosen, n, seed), _groups(chosen), f"the priors of {path}"
        if not (path.is_dir() or path.suffix == ".csv"):
            raise ValueError(f"uncertainty: expected 'priors', a priors .json file, or a posterior (its directory or "
                             f"posterior.csv) (got {str(uncertainty)!r})")
        post, where = Posterior.load(path), f"the posterior {path}"
    shipped = P.shipped()
    groups: dict = {}
    for p in post.parameters:
        groups.setdefault(shipped[p].group if p in shipped else "other", []).append(p)
    return post.sample(n, seed), groups, f"{where} (ESS {post.ess:.0f}), resampled by weight"


def _name(scenario) -> str:
    return str(getattr(scenario, "name", scenario))


def _groups(priors: dict) -> dict:
    out: dict = {}
    for path, prior in sorted(priors.items()):
        out.setdefault(prior.group, []).append(path)
    return out


def run_draw(document: dict, parameters: dict, values: dict, seed: int) -> dict:
    """One strategy under one parameter draw and seed (a top-level function: workers run it): cost
    (every payer, the whole run), students_reached, the true effect on the PL cohort in the last year
    (effect_math, effect_reading, effect: their mean) and by year (cost_year_Y, effect_year_Y and
    cohort_year_Y, the PL cohort's students enrolled that year)."""
    return run_draw_timed(document, parameters, values, seed)[0]


def run_draw_timed(document: dict, parameters: dict, values: dict, seed: int) -> tuple:
    """run_draw's row and where its time went (seconds): plan (overrides, validation), setup (both
    arms' populations), engine (the simulation loops of both arms), python (the rest of the run and the
    row's tables), all wall time, and cpu (this process's CPU time for all of it: wall beyond it is time
    spent waiting for a core)."""
    import time

    from .plan import RunPlan
    from .priors import overrides
    from .sim import Sim

    c0 = time.process_time()
    t0 = time.perf_counter()
    plan = RunPlan(document, seed=int(seed), overrides=overrides(values, parameters), counterfactual=True)
    t1 = time.perf_counter()
    sim = Sim(plan.scenario, threads=plan.threads, counterfactual=True)
    t2 = time.perf_counter()
    sim.run()
    engine = sum(core.counts["seconds"] for _, core in sim._arms())
    row = _figures(sim)
    t3 = time.perf_counter()
    return row, {"plan": t1 - t0, "setup": t2 - t1, "engine": engine, "python": t3 - t2 - engine,
                 "cpu": time.process_time() - c0}


def _figures(sim) -> dict:
    """The row of run_draw from a finished Sim."""
    costs = sim.costs
    sub = sim.subgroups
    cohort = sub[(sub["subgroup"] == "pl_cohort")].dropna(subset=["effect_true_sd"])
    cohort = cohort.assign(w=cohort["effect_true_sd"] * cohort["n"])
    sums = cohort.groupby(["year", "subject"], observed=True)[["w", "n"]].sum()
    by_subject = (sums["w"] / sums["n"]).unstack("subject")
    row = {"cost": float(costs["amount"].sum()), "students_reached": int(sim.counts["students_reached"])}
    last = by_subject.index.max() if len(by_subject) else None
    for subject in ("math", "reading"):
        row[f"effect_{subject}"] = float(by_subject.loc[last, subject]) if last is not None and subject in by_subject else np.nan
    row["effect"] = float(np.nanmean([row["effect_math"], row["effect_reading"]])) if last is not None else np.nan
    paid = costs.groupby("year")["amount"].sum()
    students = cohort[cohort["subject"] == "math"].groupby("year")["n"].sum()
    for year in range(1, sim.scenario.years + 1):
        row[f"cost_year_{year}"] = float(paid.get(year, 0.0))
        row[f"effect_year_{year}"] = float(by_subject.loc[year].mean()) if year in by_subject.index else np.nan
        row[f"cohort_year_{year}"] = int(students.get(year, 0))
    return row


class PSA:
    """The draws of a probabilistic sensitivity analysis and every summary of them (plsim.voi)."""

    def __init__(self, runs: pd.DataFrame, parameters: pd.DataFrame, groups: dict, order: Sequence[str],
                 years: int, meta: dict):
        self.runs = runs
        self.parameters = parameters
        self.groups = groups
        self.order = list(order)
        self.years = int(years)
        self.meta = dict(meta)
        #: The willingness to pay (US$ per SD-student) of the tables, the EVPPI and the plots' lines.
        self.wtps = tuple(float(w) for w in DEFAULT_WTP)
        figures = [c for c in runs.columns if c not in ("draw", "scenario", "seed")]
        table = runs.groupby(["draw", "scenario"], sort=False)[figures].mean().reset_index()
        # A strategy that reached nobody (its grant bought no launch, say) has no cohort and so no
        # effect, and gained nothing: 0 SD-students, not a missing value that would void the draw.
        table["sd_students"] = np.where(table["students_reached"] > 0, table["effect"] * table["students_reached"], 0.0)
        missing = table[table["sd_students"].isna()]
        if len(missing):
            raise ValueError(f"psa: {missing['scenario'].iloc[0]} reached students but has no effect in draw "
                             f"{missing['draw'].iloc[0]} (no counterfactual twin?)")
        table["cost_per_sd"] = voi.cost_per_sd(table)
        head = ["draw", "scenario", "cost", "students_reached", "effect", "sd_students", "cost_per_sd",
                "effect_math", "effect_reading"]
        self.table = table[head + [c for c in table.columns if c not in head]]

    def wtp_grid(self, points: int = 81) -> np.ndarray:
        """0 to past the reference values and three times the dearest strategy's mean cost per SD-student."""
        ratios = voi.summarize(self.table, self.order)["cost_per_sd"].to_numpy(dtype=float)
        finite = ratios[np.isfinite(ratios)]
        top = max(max(self.wtps) * 1.5, 3 * float(finite.max()) if len(finite) else 0.0)
        step = 10 ** np.floor(np.log10(top / (points - 1)))
        return np.round(np.linspace(0, top, points) / step) * step

    def summary(self) -> pd.DataFrame:
        return voi.summarize(self.table, self.order)

    def incremental(self, wtps: Optional[Sequence[float]] = None) -> pd.DataFrame:
        """Every pair of strategies (plsim.voi.incremental), at `wtps` (default: self.wtps)."""
        return voi.incremental(self.table, self.order, wtps or self.wtps)

    def ceac(self, wtps: Optional[Sequence[float]] = None) -> pd.DataFrame:
        """Probability best at each willingness to pay (default: a grid from 0, and self.wtps)."""
        grid = np.union1d(self.wtp_grid(), self.wtps) if wtps is None else wtps
        return voi.ceac(self.table, self.order, grid)

    def evpi(self, wtps: Optional[Sequence[float]] = None) -> pd.DataFrame:
        """EVPI at each willingness to pay (default: a grid from 0, and self.wtps)."""
        grid = np.union1d(self.wtp_grid(), self.wtps) if wtps is None else wtps
        return voi.evpi(self.table, self.order, grid, self.years)

    def evppi(self, wtps: Optional[Sequence[float]] = None) -> pd.DataFrame:
        """EVPPI of each parameter group at `wtps` (default: self.wtps)."""
        return voi.evppi(self.table, self.parameters, self.groups, self.order, wtps or self.wtps, self.years)

    # --- pictures ------------------------------------------------------------------------------------

    def plot_plane(self, ax=None, wtps: Optional[Sequence[float]] = None):
        """The cost-effectiveness plane: every draw of every strategy (SD-students gained against cost),
        the means, and lines of equal cost per SD-student at the reference willingness to pay."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.8))
        t = self.table
        for k, name in enumerate(self.order):
            g = t[t["scenario"] == name]
            ax.scatter(g["sd_students"], g["cost"] / 1e6, s=9, alpha=0.45, color=f"C{k}", label=plot_label(name))
            ax.scatter([g["sd_students"].mean()], [g["cost"].mean() / 1e6], s=120, marker="X", color=f"C{k}",
                       edgecolor="k")
        right = max(1.0, float(t["sd_students"].max()) * 1.1)
        top = float(t["cost"].max()) / 1e6 * 1.15
        xs = np.linspace(0, right, 20)
        for wtp in wtps or self.wtps:
            ax.plot(xs, wtp * xs / 1e6, ls=":", color="gray", lw=0.9)
            x = min(right, 0.97 * top * 1e6 / wtp) if wtp > 0 else right  # where the line leaves the plot
            ax.annotate(plot_label(f"${wtp:,.0f} per SD-student"), (x, wtp * x / 1e6), fontsize=7, color="gray",
                        ha="right", va="bottom")
        ax.set_xlim(min(0.0, float(t["sd_students"].min()) * 1.1), right)
        ax.set_ylim(0, top)
        ax.set(xlabel="SD-students gained (effect on the PL cohort x students reached)",
               ylabel="cost, US$ million (all payers, whole run)",
               title=f"cost-effectiveness plane: {t['draw'].nunique()} parameter draws (X: means)")
        ax.legend(fontsize=8)
        return ax

    def plot_ceac(self, ax=None):
        """Probability that each strategy is best against willingness to pay; circles mark the strategy of
        highest expected net benefit (the frontier)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        c = self.ceac()
        for k, name in enumerate(self.order):
            g = c[c["scenario"] == name]
            ax.plot(g["wtp"], g["probability_best"], color=f"C{k}", label=plot_label(name))
            front = g[g["optimal"]]
            ax.plot(front["wtp"], front["probability_best"], "o", ms=3, color=f"C{k}")
        ax.set(xlabel="willingness to pay, US$ per SD-student gained", ylabel="probability best", ylim=(-0.02, 1.02),
               title=f"acceptability curves ({self.table['draw'].nunique()} draws; dots: the choice)")
        ax.legend(fontsize=8)
        return ax

    def plot_evppi(self, ax=None, table: Optional[pd.DataFrame] = None):
        """The value of perfect information on each parameter group, US$ per year, at each reference
        willingness to pay, beside the EVPI."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        wtps = self.wtps
        e = self.evppi(wtps) if table is None else table
        groups = list(dict.fromkeys(e["group"]))
        width = 0.8 / len(wtps)
        perfect = self.evpi(wtps)
        for k, wtp in enumerate(wtps):
            g = e[e["wtp"] == wtp].set_index("group").reindex(groups)
            ax.bar(np.arange(len(groups)) + k * width, g["evppi_per_year"], width, color=f"C{k}",
                   label=plot_label(f"${wtp:,.0f} per SD-student (EVPI ${float(perfect['evpi_per_year'].iloc[k]):,.0f} "
                                    f"a year)"))
        ax.set_xticks(np.arange(len(groups)) + width * (len(wtps) - 1) / 2, groups)
        ax.set(ylabel="EVPPI, US$ per year", title="what learning each group of parameters first is worth")
        ax.legend(fontsize=8)
        return ax

    # --- files ---------------------------------------------------------------------------------------

    def write(self, directory) -> list:
        """psa.csv (one row per draw and strategy, and by year), parameters.csv (the draws), runs.csv (per
        seed), psa_summary.csv, incremental.csv, ceac.csv, evpi.csv, evppi.csv, psa.json and the plots
        ce_plane.png, ceac.png, evppi.png."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        evppi = self.evppi()
        frames = {"psa.csv": self.table, "parameters.csv": self.parameters.reset_index(), "runs.csv": self.runs,
                  "psa_summary.csv": self.summary(), "incremental.csv": self.incremental(),
                  "ceac.csv": self.ceac(), "evpi.csv": self.evpi(), "evppi.csv": evppi}
        for name, frame in frames.items():
            formula_safe_frame(frame).to_csv(out / name, index=False, float_format="%.6g")
        (out / "psa.json").write_text(json.dumps({**self.meta, "wtp": list(self.wtps), "years": self.years,
                                                  "strategies": self.order, "groups": self.groups}, indent=2) + "\n")
        for name, draw in (("ce_plane.png", self.plot_plane), ("ceac.png", self.plot_ceac),
                           ("evppi.png", lambda ax: self.plot_evppi(ax, evppi))):
            fig, ax = plt.subplots(figsize=(7.5, 4.8))
            draw(ax)
            fig.tight_layout()
            fig.savefig(out / name, dpi=100)
            plt.close(fig)
        return [out / n for n in list(frames) + ["psa.json", "ce_plane.png", "ceac.png", "evppi.png"]]

    def format(self) -> str:
        """The printed table: each strategy's mean [90% interval] and its probability of being best."""
        wtps = self.wtps
        s = self.summary()
        c = self.ceac(wtps).pivot(index="scenario", columns="wtp", values="probability_best")
        lines = [f"{'strategy':<18} {'cost $M':>20} {'effect SD':>22} {'reached':>8} {'$ per SD-student':>26} "
                 + " ".join(f"{'P(best) $' + format(w, ',.0f'):>16}" for w in wtps)]
        for r in s.itertuples():
            lines.append(f"{r.scenario:<18} {r.cost / 1e6:5.2f} [{r.cost_q05 / 1e6:5.2f},{r.cost_q95 / 1e6:5.2f}] "
                         f"{r.effect:+.3f} [{r.effect_q05:+.3f},{r.effect_q95:+.3f}] {r.students_reached:>8,.0f} "
                         f"{_money(r.cost_per_sd):>8} [{_money(r.cost_per_sd_q05)},{_money(r.cost_per_sd_q95)}] "
                         + " ".join(f"{c.loc[r.scenario, w]:>16.2f}" for w in wtps))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"PSA(strategies={self.order}, draws={self.table['draw'].nunique()}, seeds={self.meta.get('seeds')})"


def _money(x: float) -> str:
    return "inf" if not np.isfinite(x) else f"{x:,.0f}"


def psa(scenarios: Sequence, *, uncertainty="priors", draws: int = 40, seeds=(1,), workers: Optional[int] = None,
        client=None, seed: int = 0, progress: bool = False) -> PSA:
    """Runs every strategy in `scenarios` under `draws` parameter draws of `uncertainty` (see
    uncertainty_draws), each on `seeds` (common random numbers), on `workers` processes (default: every
    core) or a Dask `client`; `seed` keys the draws. Returns a PSA."""
    from .scenarios import load_scenario

    loaded = [load_scenario(s) for s in scenarios]
    if len(loaded) < 2:
        raise ValueError("scenarios: a decision needs at least two strategies to compare")
    names = [s.name for s in loaded]
    if len(set(names)) < len(names):
        raise ValueError(f"scenarios: each needs its own name (got {', '.join(names)})")
    years = {s.years for s in loaded}
    if len(years) > 1:
        raise ValueError(f"scenarios: strategies compared under uncertainty must run the same years (got "
                         f"{', '.join(f'{s.name}: {s.years}' for s in loaded)})")
    parameter_draws, groups, source = uncertainty_draws(uncertainty, loaded, draws, seed)
    tasks = [(s.document, s.resolved["parameters"], parameter_draws.loc[d].to_dict(), int(k), d, s.name)
             for d in parameter_draws.index for s in loaded for k in seeds]
    rows = _run_tasks(tasks, workers, client, progress)
    runs = pd.DataFrame([{"draw": t[4], "scenario": t[5], "seed": t[3], **r} for t, r in zip(tasks, rows)])
    meta = {"uncertainty": source, "draws": int(draws), "seeds": [int(k) for k in seeds], "draw_seed": int(seed),
            "interval": "90% of the parameter draws; each draw the mean of the seeds"}
    return PSA(runs, parameter_draws, groups, names, years.pop(), meta)


def _run_tasks(tasks: list, workers, client, progress: bool) -> list:
    """run_draw over the tasks, results in task order."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), unit="run", desc="psa")
    rows = []
    try:
        with Pool(workers=workers, client=client) as pool:
            for row in pool.imap(run_draw, [t[:4] for t in tasks]):
                rows.append(row)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return rows
