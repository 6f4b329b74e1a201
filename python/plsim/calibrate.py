"""Calibration: of any scenario's parameters to targets with Optuna (``plsim.calibrate(...)``), and of
the default model to the national norms (``python -m plsim.calibrate ...``).

``plsim.calibrate(scenario, targets={name: value or (value, tolerance)}, parameters={path: (lo, hi)},
n_trials=..., seeds=[...], client=None)`` searches the override paths (those of `plsim.parameters()`
or any scenario path) with Optuna's TPE sampler, seeded, for the values whose runs come closest to the
targets (sum of squared misses over tolerances), and returns `.best`, `.achieved` (every target against
what the best point achieved), `.warnings` (a best value at the edge of its range, a target missed
beyond its tolerance; also raised as CalibrationWarning), `.trials` and `.plot()`. With
``method="abc-smc"`` it returns a plsim.Posterior instead (plsim.abc_smc: weighted draws). Named
outputs (OUTPUTS): effect_math_sd, effect_reading_sd (true effect on students of personalized schools,
last year), growth_vs_norm_math, growth_vs_norm_reading (first year), spring_level_math_sd,
spring_level_reading_sd, study_share_positive_math, study_share_negative_math (the emulated study's
shares of significant schools); `outputs={name: callable(sim) -> float}` adds others.

``python -m plsim.calibrate report`` measures every calibration target on seeds the calibration did
not use; ``levels`` the fall level of every grade over five years, ``models`` the true effects by year
of every built-in personalized model. ``python -m plsim.calibrate growth`` finds, for every subject and
grade, the learn-rate multiplier (`parameters/learning/grade_pace`) with which `national_baseline` under traditional instruction
reproduces the MAP Growth 2020 fall-to-spring norm growth, by fixed-point iteration on
pace <- pace * (norm growth / simulated growth). ``--write`` stores the result as the engine's default
in engine/data/calibrated.json (from the root of the source tree; calibrated values are data, compiled
into the engine next to the norms); rebuild afterwards.
"""
from __future__ import annotations

import argparse
import json
import sys
import types
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from .outputs import OUTPUTS, evaluate as _evaluate, output_values as _output_values  # noqa: F401 (plsim.calibrate.OUTPUTS)
from .results import SUBJECTS, growth_by_grade, school_growth_spread, school_spread
from .scenarios import load_scenario
from .seeds import seed_list
from .sim import Sim


def _growth_ratios(plan) -> list:
    """Growth / norm per year, subject and grade of one run plan (on a Dask worker too)."""
    sim = plan.run()
    return [growth_by_grade(sim.assessments, year=year) for year in range(1, sim.scenario.years + 1)]


def simulated_growth(scenario, pace: dict, *, seeds=(1,), years: int = 1, threads: int = 0, client=None) -> dict:
    """Mean growth ratio (simulated / norm) per subject and grade, averaged over seeds and over the
    first `years` years: years after the first see students the model itself has taught, so a pace
    calibrated on them keeps a population on the norms year after year, not only in the first. The
    runs are RunPlans, serial or on a Dask `client`."""
    from .plan import RunPlan

    overrides = {"learning.grade_pace": {s: list(map(float, pace[s])) for s in SUBJECTS}, "years": years}
    seeds = seed_list(seeds)
    plans = [RunPlan(scenario, seed=seed, overrides=overrides, threads=threads) for seed in seeds]
    if client is None:
        runs = [_growth_ratios(p) for p in plans]
    else:
        runs = client.gather([client.submit(_growth_ratios, p, pure=False) for p in plans])
    ratios = {s: np.zeros(13) for s in SUBJECTS}
    for per_year in runs:
        for year in range(years):
            g = per_year[year]
            for s in SUBJECTS:
                ratios[s] += g[g["subject"] == s].sort_values("grade")["ratio"].to_numpy() / (len(seeds) * years)
    return ratios


def calibrate_growth(scenario_name: str = "national_baseline", *, iterations: int = 12, seeds=(1, 2),
                     years: int = 5, damping: float = 0.8, threads: int = 0, verbose: bool = True,
                     client=None) -> dict:
    scenario = load_scenario(scenario_name)
    pace = {s: np.array(scenario.resolved["parameters"]["learning"]["grade_pace"][s], dtype=float) for s in SUBJECTS}
    for it in range(iterations):
        ratios = simulated_growth(scenario, pace, seeds=seeds, years=years, threads=threads, client=client)
        worst = max(float(np.max(np.abs(ratios[s] - 1))) for s in SUBJECTS)
        if verbose:
            print(f"iteration {it}: worst |growth/norm - 1| = {worst:.3f}", file=sys.stderr)
            for s in SUBJECTS:
                print(f"  {s:8s} ratio " + " ".join(f"{r:5.2f}" for r in ratios[s]), file=sys.stderr)
        if worst < 0.01:
            break
        for s in SUBJECTS:
            pace[s] = np.clip(pace[s] * np.power(1.0 / np.maximum(ratios[s], 1e-3), damping), 0.01, 20.0)
    return {s: [round(float(x), 4) for x in pace[s]] for s in SUBJECTS}


def report(scenario_name: str = "national_baseline", *, seeds=(3, 4), threads: int = 0) -> dict:
    """The calibration targets measured on seeds other than those the calibration used."""
    growth, spread, growth_spread = [], [], []
    seeds = seed_list(seeds)
    for seed in seeds:
        sim = Sim(scenario_name, threads=threads, seed=seed).run()
        a = sim.assessments
        growth.append(growth_by_grade(a).set_index(["subject", "grade"]))
        spread.append(school_spread(a)["school_sd"].mean())
        growth_spread.append(school_growth_spread(a)["school_growth_sd"].mean())
    g = sum(x[["growth", "norm_growth"]] for x in growth) / len(growth)
    g["ratio"] = g["growth"] / g["norm_growth"]
    g["difference"] = g["growth"] - g["norm_growth"]
    k8 = g[g.index.get_level_values("grade") <= 8]
    hs = g[g.index.get_level_values("grade") >= 9]
    return {"seeds": list(seeds), "growth": g,
            "growth_ratio_k8": (float(k8["ratio"].min()), float(k8["ratio"].max())),
            "growth_difference_9_12": (float(hs["difference"].min()), float(hs["difference"].max())),
            "school_spread": float(np.mean(spread)), "school_spread_by_seed": [float(x) for x in spread],
            "school_growth_spread": float(np.mean(growth_spread)),
            "school_growth_spread_by_seed": [float(x) for x in growth_spread]}


def print_report(r: dict) -> None:
    print(f"national_baseline, seeds {r['seeds']} (calibration used seeds 1 and 2)")
    lo, hi = r["growth_ratio_k8"]
    print(f"  growth K-8, simulated / norm:        {lo:.3f} to {hi:.3f}   (target: within 10%)")
    lo, hi = r["growth_difference_9_12"]
    print(f"  growth 9-12, simulated - norm (RIT): {lo:+.2f} to {hi:+.2f}   (target: within 1.5)")
    print(f"  SD of school means (student SDs):    {r['school_spread']:.3f} "
          f"({', '.join(f'{x:.3f}' for x in r['school_spread_by_seed'])})   (target: 0.43 to 0.52)")
    print(f"  SD of school growth, K-8:            {r['school_growth_spread']:.3f} "
          f"({', '.join(f'{x:.3f}' for x in r['school_growth_spread_by_seed'])})   (target: 0.10 to 0.17)")
    table = r["growth"].reset_index().pivot(index="grade", columns="subject", values=["growth", "norm_growth"])
    print("  fall-to-spring growth, RIT (norm):")
    for grade, row in table.iterrows():
        cells = "  ".join(f"{s} {row[('growth', s)]:5.2f} ({row[('norm_growth', s)]:4.1f})" for s in SUBJECTS)
        print(f"    grade {'K' if grade == 0 else grade:>2}  {cells}")


def write_defaults(pace: dict, path: Path, parameter: str = "learning.grade_pace") -> None:
    """Stores `pace` as the calibrated default of `parameter` in the engine's calibrated.json, keeping
    every other entry; values are rounded to 4 decimals, one subject a line."""
    values = json.loads(path.read_text())
    values[parameter] = {s: [round(float(v), 4) for v in pace[s]] for s in SUBJECTS}
    lines = []
    for key, value in values.items():
        if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
            rows = ",\n".join(f"    {json.dumps(s)}: {json.dumps(v)}" for s, v in value.items())
            lines.append(f"  {json.dumps(key)}: {{\n{rows}\n  }}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def fall_levels(scenario_name: str = "national_baseline", *, years: int = 5, seeds=(1, 2), threads: int = 0):
    """Fall level of every year, subject and grade in national SD units, mean of `seeds`
    (targets.json norms_status_stability): a DataFrame indexed by (year, subject), one column a grade."""
    frames = [Sim(load_scenario(scenario_name, years=years), threads=threads, seed=seed).run().assessments
              for seed in seed_list(seeds)]
    return fall_level_table(frames)


def fall_level_table(assessments) -> "pd.DataFrame":
    """fall_levels of runs already made: `assessments`, one table per seed, pooled (n-weighted)."""
    import pandas as pd

    d = pd.concat(list(assessments))
    d = d[d["season"] == "fall"].assign(w=lambda x: x["n"] * x["mean_sd"])
    g = d.groupby(["year", "subject", "grade"], observed=True)[["w", "n"]].sum()
    return (g["w"] / g["n"]).unstack("grade")


BUILT_IN_PL_MODELS = ("station_rotation", "algorithmic_schedule", "adaptive_playlist", "mastery_based",
                      "project_based", "platform_mentor", "autonomy_levels", "high_dosage_tutoring")


def model_effects(*, years: int = 5, seed: int = 7, fidelity: float = 0.8, threads: int = 0) -> dict:
    """True effect (SD, against the twin) by year of every built-in model, each run in two districts of
    6 elementary and 2 middle schools at the given fidelity (SD 0.1 across schools), implementation
    year 3: {model: {"math": [...], "reading": [...]}}."""
    out = {}
    for name in BUILT_IN_PL_MODELS:
        group = {"model": name, "implementation_year": 3,
                 "fidelity": {e: fidelity for e in ("learner_profiles", "learning_paths", "competency_progression",
                                                    "flexible_environment")} | {"sd": 0.1}}
        doc = {"name": f"k8_{name}", "seed": seed, "years": years, "counterfactual": "always",
               "districts": [{"name": "d", "count": 2, "schools": [
                   dict(group, level="elementary", count=6, enrollment=360),
                   dict(group, level="middle", count=2, enrollment=540)]}]}
        effects = Sim(doc, threads=threads).run().summary()["headline_effects"]
        out[name] = {s: list(effects[s]["by_year"].values()) for s in SUBJECTS}
    return out


class CalibrationWarning(UserWarning):
    """A calibration's best point that is not to be trusted as it stands: at the edge of a range, or
    missing a target by more than its tolerance."""


class CalibrationResult:
    """The point method's answer: `best` ({path: value}), `achieved` (per target: target, tolerance,
    achieved, miss in tolerances, within), `warnings` (what makes the best point doubtful), `trials`
    (every trial's values, outputs and loss) and `.plot()`; `.record()` is best.json."""

    def __init__(self, best: dict, trials, targets: dict, parameters: Optional[dict] = None):
        self.best = best
        self.trials = trials
        self.targets = targets
        self.parameters = dict(parameters or {})
        row = trials.loc[trials["loss"].idxmin()]
        self.achieved = {}
        for name, (value, tol) in targets.items():
            got = float(row[f"output_{name}"])
            self.achieved[name] = {"target": value, "tolerance": tol, "achieved": got,
                                   "miss_in_tolerances": (got - value) / tol, "within": bool(abs(got - value) <= tol)}
        self.warnings = _doubts(self.best, self.parameters, self.achieved)

    def record(self) -> dict:
        """What best.json holds: the best values, each target against what the best point achieved,
        and the warnings."""
        return {"best": self.best, "achieved": self.achieved, "warnings": self.warnings,
                "ranges": {p: list(b) for p, b in self.parameters.items()}, "trials": len(self.trials)}

    def plot(self, ax=None):
        """The loss of each trial, and the best so far."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        t = self.trials
        ax.plot(t["number"], t["loss"], "o", ms=3, alpha=0.6, label="trial")
        ax.plot(t["number"], t["loss"].cummin(), "-", label="best so far")
        ax.set(xlabel="trial", ylabel="loss (sum of squared misses / tolerance)", yscale="log", title="calibration")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return f"CalibrationResult(best={self.best!r}, trials={len(self.trials)}, warnings={len(self.warnings)})"


#: A best value closer than this share of its range to an end sits at the edge: the optimum may lie beyond.
EDGE_SHARE = 0.05


def _doubts(best: dict, ranges: dict, achieved: dict) -> list:
    """Why the best point may be wrong: a value at the edge of its range, a target missed beyond its
    tolerance."""
    out = []
    for path, value in best.items():
        lo, hi = ranges[path]
        for end, bound in (("bottom", lo), ("top", hi)):
            if abs(value - bound) <= EDGE_SHARE * (hi - lo):
                out.append(f"{path} = {value:.6g} sits at the {end} of its range ({lo:g} to {hi:g}): the best fit may "
                           f"lie beyond it; widen the range")
    for name, a in achieved.items():
        if not a["within"]:
            out.append(f"{name}: the best point achieves {a['achieved']:.4g} against the target {a['target']:.4g} "
                       f"(tolerance {a['tolerance']:.3g}), a miss of {abs(a['miss_in_tolerances']):.1f} tolerances: "
                       f"the target is out of reach of these ranges, or needs more trials")
    return out


def calibrate(scenario, *, targets: dict, parameters: dict, method: str = "optuna", n_trials: int = 40, seeds=(1,),
              client=None, outputs: dict | None = None, sampler_seed: int = 0, batch: int | None = None,
              prior_weight: float = 1.0, **abc_options):
    """Fit override paths to `targets` ({name: value or (value, tolerance)}).

    method="optuna" (the point method, `point_calibrate`): the best point of `n_trials` Optuna trials,
    as a CalibrationResult that warns (CalibrationWarning, and `.warnings`) when the best value sits at
    the edge of its range or misses a target beyond its tolerance.

    method="abc-smc" (plsim.abc_smc.calibrate_abc): Bayesian calibration by approximate Bayesian
    computation with sequential Monte Carlo; `parameters` maps each path to (lo, hi) (a uniform prior),
    a scipy.stats distribution, or None (the shipped prior, plsim priors); returns a plsim.Posterior.
    Options: particles, rounds, quantile, min_acceptance, seed, workers."""
    if method in ("abc-smc", "abc_smc", "abc"):
        if n_trials != 40 or batch is not None or prior_weight != 1.0:
            raise ValueError("n_trials, batch and prior_weight belong to method='optuna'; abc-smc takes particles, "
                             "rounds, quantile, min_acceptance, seed and workers")
        from .abc_smc import calibrate_abc

        return calibrate_abc(scenario, targets=targets, parameters=parameters, seeds=seeds, client=client,
                             outputs=outputs, **abc_options)
    if method != "optuna":
        raise ValueError(f"method: expected 'optuna' (a best point) or 'abc-smc' (a posterior) (got {method!r})")
    if abc_options:
        raise TypeError(f"calibrate: {', '.join(sorted(abc_options))} belong to method='abc-smc'")
    return point_calibrate(scenario, targets=targets, parameters=parameters, n_trials=n_trials, seeds=seeds,
                           client=client, outputs=outputs, sampler_seed=sampler_seed, batch=batch,
                           prior_weight=prior_weight)


def point_calibrate(scenario, *, targets: dict, parameters: dict, n_trials: int = 40, seeds=(1,), client=None,
                    outputs: dict | None = None, sampler_seed: int = 0, batch: int | None = None,
                    prior_weight: float = 1.0) -> CalibrationResult:
    """Fit override paths (`parameters`: {path: (lo, hi)}) to `targets` ({name: value or (value,
    tolerance)}) with Optuna (TPE, seeded by `sampler_seed`): each trial runs every seed and averages the
    outputs. The loss is the sum of squared misses over tolerances (default tolerance: 5% of the
    target), plus `prior_weight` x ln(value / default)^2 for every parameter with a published default:
    outputs are often not monotone in a parameter (nglc_like's math effect is the same at 1.3 and 1.64
    times the default learn rate), and among values that fit alike the one nearest the default wins.
    With a Dask `client`, trials run `batch` at a time (default: one per worker). The result reports
    what the best point achieved against every target and warns (CalibrationWarning) when the best
    value sits at the edge of its range or misses a target beyond its tolerance."""
    import optuna
    import pandas as pd

    from .outputs import check_names, target_goals
    from .plan import RunPlan

    extra = dict(outputs or {})
    goal = target_goals(targets)
    if not parameters:
        raise ValueError("parameters: give at least one {path: (lo, hi)}")
    for path, bounds in parameters.items():
        if not (isinstance(bounds, tuple) and len(bounds) == 2 and bounds[0] < bounds[1]):
            raise ValueError(f"parameters: {path}: expected (lo, hi) with lo < hi (got {bounds!r})")
    check_names(list(goal), extra)
    document = RunPlan(scenario).document  # validated once
    seeds = seed_list(seeds)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    names = list(goal)

    from .parameters import parameters as parameter_table

    defaults = {}
    table = parameter_table().set_index("path")["default"]
    for path in parameters:
        d = table.get(path)
        if isinstance(d, (int, float)) and not isinstance(d, bool) and d > 0:
            defaults[path] = float(d)

    def loss(values: dict, overrides: dict) -> float:
        miss = sum(((values[n] - goal[n][0]) / goal[n][1]) ** 2 for n in names)
        prior = sum(np.log(overrides[p] / d) ** 2 for p, d in defaults.items() if overrides[p] > 0)
        return float(miss + prior_weight * prior)

    size = batch or (len(client.scheduler_info()["workers"]) if client is not None else 1)
    records = []
    while len(study.trials) < n_trials:
        trials = [study.ask() for _ in range(min(size, n_trials - len(study.trials)))]
        overrides = [{p: t.suggest_float(p, *parameters[p]) for p in sorted(parameters)} for t in trials]
        if client is None:
            results = [_evaluate(document, o, seeds, names, extra) for o in overrides]
        else:
            results = client.gather([client.submit(_evaluate, document, o, seeds, names, extra, pure=False)
                                     for o in overrides])
        for trial, o, values in zip(trials, overrides, results):
            value = loss(values, o)
            study.tell(trial, value)
            records.append({"number": trial.number, **o, **{f"output_{n}": v for n, v in values.items()}, "loss": value})
    trials = pd.DataFrame(records)
    best = trials.loc[trials["loss"].idxmin()]
    result = CalibrationResult({p: float(best[p]) for p in parameters}, trials, goal, parameters)
    for message in result.warnings:
        warnings.warn(f"calibrate: {message}", CalibrationWarning, stacklevel=3)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plsim.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="target", required=True)
    growth = sub.add_parser("growth", help="calibrate grade_pace to the norm growth")
    growth.add_argument("--scenario", default="national_baseline")
    growth.add_argument("--iterations", type=int, default=12)
    growth.add_argument("--years", type=int, default=5, help="years whose growth is matched, averaged (default 5)")
    growth.add_argument("--threads", type=int, default=0)
    from .commands.args import add_dask_arguments

    add_dask_arguments(growth)
    growth.add_argument("--write", metavar="JSON", nargs="?", const="engine/data/calibrated.json",
                        help="store as the engine's default in JSON (default: engine/data/calibrated.json of the "
                             "source tree in the current directory); rebuild afterwards")
    rep = sub.add_parser("report", help="measure every calibration target on fresh seeds")
    rep.add_argument("--scenario", default="national_baseline")
    rep.add_argument("--seeds", type=int, nargs="+", default=[3, 4])
    rep.add_argument("--threads", type=int, default=0)
    levels = sub.add_parser("levels", help="fall level of every grade over several years (norms_status_stability)")
    levels.add_argument("--scenario", default="national_baseline")
    levels.add_argument("--years", type=int, default=5)
    levels.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    levels.add_argument("--threads", type=int, default=0)
    models = sub.add_parser("models", help="true effects by year of every built-in personalized model")
    models.add_argument("--years", type=int, default=5)
    models.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.target == "report":
        print_report(report(args.scenario, seeds=args.seeds, threads=args.threads))
        return 0
    if args.target == "levels":
        table = fall_levels(args.scenario, years=args.years, seeds=args.seeds, threads=args.threads)
        print(f"{args.scenario}: fall level in national SD units, mean of seeds {args.seeds}; worst "
              f"{float(table.abs().max().max()):.3f} (target: within 0.05)")
        print(table.round(2).to_string())
        return 0
    if args.target == "models":
        for name, e in model_effects(years=args.years, threads=args.threads).items():
            print(f"{name:22s} math " + " ".join(f"{v:+.3f}" for v in e["math"]) +
                  "   reading " + " ".join(f"{v:+.3f}" for v in e["reading"]))
        return 0
    from .commands.args import close_client as _close, dask_client as _dask_client

    client = _dask_client(args)
    try:
        pace = calibrate_growth(args.scenario, iterations=args.iterations, years=args.years, threads=args.threads,
                                client=client)
    finally:
        _close(client)
    for s in SUBJECTS:
        print(f"{s}: {pace[s]}")
    if args.write:
        path = Path(args.write)
        if not path.is_file():
            parser.error(f"--write: no file {path} (run from the root of the source tree or give the path)")
        write_defaults(pace, path)
        print(f"wrote {path}; rebuild the engine", file=sys.stderr)
    return 0


class _CallableModule(types.ModuleType):
    """`plsim.calibrate(...)` calls `calibrate`, while `python -m plsim.calibrate` stays the module."""

    def __call__(self, *args, **kwargs):
        return calibrate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    raise SystemExit(main())
