"""Commands that run a scenario many times: plsim ensemble (seeds), compare (scenarios side by side),
sweep (a design of overrides) and calibrate (Optuna), on Dask when asked (commands.args)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..by_year import write as write_by_year
from ..version import __version__
from ..safe_io import formula_safe_frame
from .args import (add_dask_arguments, close_client, dask_client, load_scenario_with_sets, non_negative, positive,
                   ranges, seed_number)


def cmd_ensemble(args) -> int:
    from ..ensemble import ensemble

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    scenario = load_scenario_with_sets(args.scenario, args.set)
    client = dask_client(args)
    try:
        result = ensemble(scenario, seeds=seeds, client=client, progress=args.progress, threads=args.threads)
    finally:
        close_client(client)
    print(f"plsim {__version__}: scenario {scenario.name}, {args.seeds} seeds from {args.first_seed}")
    effects = result.bands(quantiles=(0.05, 0.95))
    levels = result.bands(quantiles=(0.05, 0.95), value="spring_mean_sd").set_index(["year", "subject"])
    for row in effects.itertuples():
        level = levels.loc[(row.year, row.subject)]
        effect = (f"effect on students in PL schools {row.mean:+.3f} SD (5-95%: {row.q05:+.3f} to {row.q95:+.3f})"
                  if np.isfinite(row.mean)
                  else "no counterfactual twin")
        print(f"  year {row.year}  {row.subject:8s} {effect}; spring level {level['mean']:+.3f} SD")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(result.summary).to_csv(out / "ensemble.csv", index=False, float_format="%.6f")
        written = write_by_year(result.bands_by_year(), out, "ensemble")  # every year, with bands
        print(f"  wrote       {out / 'ensemble.csv'}, {', '.join(map(str, written))}")
    return 0


def cmd_compare(args) -> int:
    from ..compare import compare, format_table, plot

    client = dask_client(args)
    try:
        table = compare(args.scenarios, seeds=args.seeds, client=client, threads=args.threads)
    finally:
        close_client(client)
    print(f"plsim {__version__}: {len(table)} scenarios, seeds 1-{args.seeds} (common random numbers); "
          f"95% intervals over seeds")
    print(format_table(table))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(table).to_csv(out / "comparison.csv", index=False, float_format="%.6g")
        plot(table, out / "comparison.png")
        print(f"  wrote       {out / 'comparison.csv'}, {out / 'comparison.png'}")
        by_year = table.bands_by_year()  # every year, with bands over seeds (plsim.by_year)
        written = write_by_year(by_year, out, "comparison")
        print(f"  wrote       {', '.join(map(str, written))} ({by_year['band'].iloc[0] if len(by_year) else 'no years'})")
    return 0


def cmd_sweep(args) -> int:
    from ..sweep import sweep

    client = dask_client(args)
    try:
        table = sweep(args.scenario, ranges(args.range, "--range"), method=args.method, n=args.n,
                      outputs=args.outputs, seeds=range(1, args.seeds + 1), client=client)
    finally:
        close_client(client)
    print(table.round(4).to_string(index=False))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(table).to_csv(out / "sweep.csv", index=False, float_format="%.6g")
        print(f"  wrote       {out / 'sweep.csv'}")
    return 0


def cmd_calibrate(args) -> int:
    from ..calibrate import calibrate

    targets = {}
    for item in args.target or ():
        try:
            name, text = item.split("=", 1)
            value, _, tol = text.partition(":")
            targets[name] = (float(value), float(tol)) if tol else float(value)
        except ValueError:
            raise ValueError(f"--target: expected NAME=VALUE or NAME=VALUE:TOLERANCE (got {item!r})") from None
    client = dask_client(args)
    try:
        result = calibrate(args.scenario, targets=targets, parameters=ranges(args.range, "--range"),
                           n_trials=args.trials, seeds=list(range(1, args.seeds + 1)), client=client)
    finally:
        close_client(client)
    print(f"plsim {__version__}: best of {args.trials} trials")
    for path, value in result.best.items():
        print(f"  {path} = {value:.6g}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(result.trials).to_csv(out / "trials.csv", index=False, float_format="%.6g")
        (out / "best.json").write_text(json.dumps(result.best, indent=2) + "\n")
        print(f"  wrote       {out / 'trials.csv'}, {out / 'best.json'}")
    return 0

def add_parsers(sub) -> None:
    """plsim ensemble, compare, sweep and calibrate."""
    ensemble = sub.add_parser("ensemble", help="run a scenario over many seeds; mean and spread of its effects")
    ensemble.add_argument("scenario")
    ensemble.add_argument("--seeds", type=positive, default=10, help="number of seeds (default 10)")
    ensemble.add_argument("--first-seed", type=seed_number, default=1, help="first seed (default 1)")
    ensemble.add_argument("--threads", type=non_negative, default=0, help="worker threads per run (0: all cores)")
    ensemble.add_argument("--out", help="directory for ensemble.csv, and every year with bands over seeds: "
                                        "ensemble_by_year.csv and ensemble_by_year.png")
    ensemble.add_argument("--set", action="append", metavar="PATH=VALUE",
                          help="override a parameter or scenario path (repeatable)")
    add_dask_arguments(ensemble)
    ensemble.add_argument("--progress", action="store_true", help="show a progress bar")
    ensemble.set_defaults(func=cmd_ensemble)

    comparison = sub.add_parser("compare", help="run scenarios over the same seeds; costs, effects and "
                                                "cost-effectiveness side by side")
    comparison.add_argument("scenarios", nargs="+", help="scenario files or shipped names")
    comparison.add_argument("--seeds", type=positive, default=3, help="seeds 1..N for every scenario (default 3)")
    comparison.add_argument("--threads", type=non_negative, default=1, help="worker threads per run (default 1)")
    add_dask_arguments(comparison)
    comparison.add_argument("--out", help="directory for comparison.csv and comparison.png, and every year with bands "
                                          "over seeds: comparison_by_year.csv and comparison_by_year.png")
    comparison.set_defaults(func=cmd_compare)

    sweeping = sub.add_parser("sweep", help="run a scenario over a grid, Latin hypercube or Sobol design of overrides")
    sweeping.add_argument("scenario")
    sweeping.add_argument("--range", action="append", metavar="PATH=LO:HI", help="a swept path (repeatable)")
    sweeping.add_argument("--method", choices=("grid", "lhs", "sobol"), default="grid")
    sweeping.add_argument("--n", type=positive, default=5, help="values per path (grid) or points (lhs, sobol)")
    sweeping.add_argument("--outputs", nargs="+", default=["effect_math_sd", "effect_reading_sd"])
    sweeping.add_argument("--seeds", type=positive, default=1, help="seeds 1..N at every point")
    add_dask_arguments(sweeping)
    sweeping.add_argument("--out", help="directory for sweep.csv")
    sweeping.set_defaults(func=cmd_sweep)

    calibration = sub.add_parser("calibrate", help="fit override paths to target outputs with Optuna")
    calibration.add_argument("scenario")
    calibration.add_argument("--target", action="append", metavar="NAME=VALUE[:TOL]", required=True,
                             help="a named output and its target (repeatable)")
    calibration.add_argument("--range", action="append", metavar="PATH=LO:HI", help="a fitted path (repeatable)")
    calibration.add_argument("--trials", type=positive, default=40)
    calibration.add_argument("--seeds", type=positive, default=1, help="seeds 1..N in every trial")
    add_dask_arguments(calibration)
    calibration.add_argument("--out", help="directory for trials.csv and best.json")
    calibration.set_defaults(func=cmd_calibrate)
