"""Side by side: several scenarios over the same seeds (common random numbers: a seed draws the same
students, teachers and schools in every scenario of one district, so differences are the strategies',
not noise), with costs, reach, effects and cost-effectiveness, each with an interval over seeds.

    plsim.compare(["scenarios/grants/coaching_heavy.json", ...], seeds=5)       # a DataFrame (.by_year, .plot)
    plsim compare scenarios/grants/*.json --seeds 5 --out runs/grants           # comparison.csv, .png

With `uncertainty=` and `draws=` (`--uncertainty priors|FILE --draws N`), parameters vary too: a
probabilistic sensitivity analysis (plsim.psa), with acceptability curves and values of information.
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
import pandas as pd
from scipy import stats

from .by_year import comparison, of_run  # every year of every run, with bands (plsim.by_year)
from .money import KRAFT_COST_CLASSES, KRAFT_EFFECT_CLASSES, _mean_finite, kraft_class
from .psa import psa
from .safe_io import plot_label
from .scenarios import ScenarioLike, load_scenario
from .seeds import seed_list

#: Per-seed figures of one run; those with an interval get _lo and _hi columns.
#: effect_*_sd_pl_cohort: the effect on the PL cohort (plsim.results.WHOSE), also under its earlier
#: name effect_*_sd.
METRICS = ("cost_total", "cost_one_off", "cost_recurring", "students_reached", "cost_per_student_reached",
           "effect_math_sd_pl_cohort", "effect_reading_sd_pl_cohort", "effect_math_sd", "effect_reading_sd",
           "cost_per_sd", "sd_per_100", "lays_per_100", "learning_per_1000")
WITH_INTERVAL = ("cost_total", "cost_per_student_reached", "effect_math_sd_pl_cohort", "effect_reading_sd_pl_cohort",
                 "effect_math_sd", "effect_reading_sd", "cost_per_sd", "sd_per_100", "learning_per_1000")


def run_metrics(document: dict, seed: int, threads: int = 1, *, by_year: bool = False):
    """The cost-effectiveness figures of one scenario and seed (a top-level function, so Dask can ship
    it to workers with the scenario as a plain dict); with `by_year`, also the run's every year
    (plsim.by_year.of_run): (figures, by-year rows)."""
    from .sim import Sim

    sim = Sim(document, seed=seed, threads=threads, counterfactual=True).run()
    ce = sim.cost_effectiveness()
    row = {"scenario": sim.scenario.name, "seed": seed}
    row.update({k: ce[k] for k in METRICS})
    row["student_years_in_pl_classrooms"] = int(sim.rollout_by_year["students_pl"].sum()) if not sim.rollout_by_year.empty else 0
    for group in ce["by_subgroup"]:
        if group["subgroup"] != "all":
            row[f"sd_per_100_{group['subgroup']}"] = group["sd_per_100"]
    costs = sim.costs
    for year, amount in costs.groupby("year")["amount"].sum().items():
        row[f"cost_year_{int(year)}"] = float(amount)
    return (row, of_run(sim).assign(scenario=row["scenario"], seed=seed)) if by_year else row


def _interval(values: np.ndarray, level: float = 0.95) -> tuple:
    """Mean and the `level` confidence interval of the mean over seeds (t distribution)."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def summarize(per_seed: pd.DataFrame, order: Iterable[str]) -> pd.DataFrame:
    """One row per scenario (in `order`): the mean of each figure over seeds, with _lo and _hi (95%
    interval of the mean) for the figures of WITH_INTERVAL, and Kraft's (2020) classes."""
    rows = []
    for name in order:
        g = per_seed[per_seed["scenario"] == name]
        row = {"scenario": name, "seeds": len(g)}
        for metric in [m for m in per_seed.columns if m not in ("scenario", "seed")]:
            mean, lo, hi = _interval(g[metric].to_numpy(dtype=float))
            row[metric] = mean
            if metric in WITH_INTERVAL:
                row[f"{metric}_lo"], row[f"{metric}_hi"] = lo, hi
        effect = _mean_finite([row["effect_math_sd"], row["effect_reading_sd"]])
        row["kraft_effect_class"] = kraft_class(effect, KRAFT_EFFECT_CLASSES)
        row["kraft_cost_class"] = kraft_class(row["cost_per_student_reached"], KRAFT_COST_CLASSES)
        rows.append(row)
    return pd.DataFrame(rows)


def compare(scenarios: Iterable[ScenarioLike], *, seeds=3, client=None, threads: int = 1,
            per_seed: bool = False, uncertainty=None, draws: Optional[int] = None, workers: Optional[int] = None,
            draw_seed: int = 0, progress: bool = False):
    """Runs every scenario over the same seeds (an int n: seeds 1..n; or a list) and returns one row
    per scenario, in the order given (see `summarize`). With a Dask `client`, the runs go to its
    workers; results are the same as serial. `per_seed=True` returns the per-run rows instead. Either
    is a plsim.by_year.Comparison: a DataFrame that also has every year of every run, with bands
    (`.by_year(metric)`, `.plot(metric)`, `.bands_by_year()`).

    With `uncertainty` ("priors", a priors .json file, a posterior or its posterior.csv, or a dict of
    plsim Priors) and `draws`: a probabilistic sensitivity analysis (plsim.psa.PSA): each of `draws`
    parameter vectors (keyed by `draw_seed`) runs every scenario on the same seeds, on `workers`
    processes (default: every core) or the Dask `client`."""
    documents = [load_scenario(s).document for s in scenarios]
    if not documents:
        raise ValueError("scenarios: give at least one scenario to compare")
    names = [d["name"] for d in documents]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"scenarios: each needs its own name to be told apart in the comparison; "
                         f"{', '.join(map(repr, twice))} appear more than once")
    seeds = seed_list(seeds)
    if uncertainty is not None or draws is not None:
        if uncertainty is None or draws is None:
            raise ValueError("uncertainty and draws: a probabilistic sensitivity analysis needs both (e.g. "
                             "uncertainty='priors', draws=40)")
        return psa(documents, uncertainty=uncertainty, draws=draws, seeds=seeds, workers=workers, client=client,
                   seed=draw_seed, progress=progress)
    tasks = [(doc, seed) for doc in documents for seed in seeds]
    if client is None:
        runs = [run_metrics(doc, seed, threads, by_year=True) for doc, seed in tasks]
    else:
        futures = client.map(run_metrics, [d for d, _ in tasks], [s for _, s in tasks], [threads] * len(tasks), pure=False,
                             by_year=True)
        runs = client.gather(futures)
    rows, years = [row for row, _ in runs], [y for _, y in runs]  # by year: plsim.by_year
    frame = pd.DataFrame(rows).sort_values(["scenario", "seed"], kind="stable").reset_index(drop=True)
    return comparison(frame if per_seed else summarize(frame, names), years, len(seeds))


def plot(table: pd.DataFrame, path) -> None:
    """Cost per student reached against effect (mean of math and reading), with intervals."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    effect = (table["effect_math_sd"] + table["effect_reading_sd"]) / 2
    lo = (table["effect_math_sd_lo"] + table["effect_reading_sd_lo"]) / 2
    hi = (table["effect_math_sd_hi"] + table["effect_reading_sd_hi"]) / 2
    x, xlo, xhi = table["cost_per_student_reached"], table["cost_per_student_reached_lo"], table["cost_per_student_reached_hi"]
    ax.errorbar(x, effect, yerr=[effect - lo, hi - effect], xerr=[x - xlo, xhi - x], fmt="o", capsize=4)
    for name, xi, yi in zip(table["scenario"], x, effect):
        ax.annotate(plot_label(name), (xi, yi), textcoords="offset points", xytext=(6, 6))
    # Lines of equal cost-effectiveness: SD per $100 per student.
    right = max(1.0, float(np.nanmax(xhi))) * 1.1
    top = (float(np.nanmax(hi)) if np.isfinite(hi).any() else 1.0) * 1.15 + 0.01
    xs = np.linspace(0, right, 50)
    for level in (0.01, 0.02, 0.04):
        ax.plot(xs, level * xs / 100, ls=":", color="gray", lw=0.8)
        x = min(right, 0.97 * top * 100 / level)  # where the line leaves the plot
        ax.annotate(f"{level:g} SD per $100", (x, level * x / 100), fontsize=7, color="gray", ha="right", va="bottom")
    ax.set_xlim(0, right)
    ax.set_ylim(min(0.0, float(np.nanmin(lo))) - 0.01, top)
    ax.set(xlabel="cost per student reached (US$, all payers, whole run)",
           ylabel="effect on the PL cohort, last year (SD)",
           title="Cost against effect (mean of math and reading; 95% intervals over seeds)")
    ax.axhline(0, color="gray", lw=0.5)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_table(table: pd.DataFrame) -> str:
    """A short printed table of the comparison."""
    lines = ["effects: on the PL cohort, last year (effect_math_sd_pl_cohort, effect_reading_sd_pl_cohort)",
             f"{'scenario':<22} {'cost':>12} {'reached':>8} {'$/student':>10} {'math SD':>16} {'reading SD':>16} "
             f"{'SD/$100':>8} {'SD-yr/$1k':>9}"]
    for r in table.itertuples():
        lines.append(f"{r.scenario:<22} {r.cost_total:>12,.0f} {r.students_reached:>8,.0f} "
                     f"{r.cost_per_student_reached:>10,.0f} "
                     f"{r.effect_math_sd:+.3f} [{r.effect_math_sd_lo:+.3f},{r.effect_math_sd_hi:+.3f}] "
                     f"{r.effect_reading_sd:+.3f} [{r.effect_reading_sd_lo:+.3f},{r.effect_reading_sd_hi:+.3f}] "
                     f"{r.sd_per_100:>8.4f} {r.learning_per_1000:>9.3f}")
    return "\n".join(lines)
