"""Commands that run a scenario many times: plsim ensemble (seeds), compare (scenarios side by side),
sweep (a design of overrides) and calibrate (Optuna, or ABC-SMC for a posterior), on Dask when asked
(commands.args)."""
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

    if args.uncertainty is not None or args.draws is not None:
        return _compare_under_uncertainty(args)
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


def _compare_under_uncertainty(args) -> int:
    """plsim compare --uncertainty priors|FILE --draws N: a probabilistic sensitivity analysis."""
    from ..compare import compare

    if args.uncertainty is None or args.draws is None:
        raise ValueError("--uncertainty and --draws: a probabilistic sensitivity analysis needs both (e.g. "
                         "--uncertainty priors --draws 40)")
    wtps = tuple(args.wtp) if args.wtp else None
    client = dask_client(args)
    try:
        result = compare(args.scenarios, seeds=args.seeds, client=client, uncertainty=args.uncertainty,
                         draws=args.draws, workers=args.processes, draw_seed=args.draw_seed, progress=args.progress)
    finally:
        close_client(client)
    if wtps:
        result.wtps = wtps
    print(f"plsim {__version__}: {len(result.order)} strategies x {args.draws} parameter draws from "
          f"{result.meta['uncertainty']}, seeds 1-{args.seeds} each (common random numbers); means [90% of the draws]")
    print(result.format())
    perfect = result.evpi(result.wtps)
    for r in perfect.itertuples():
        print(f"  at ${r.wtp:,.0f} per SD-student: choose {r.choice}; EVPI ${r.evpi:,.0f} "
              f"(${r.evpi_per_year:,.0f} a year of the {result.years}-year run)")
    if args.out:
        import pandas as pd

        files = result.write(args.out)
        evppi = pd.read_csv(Path(args.out) / "evppi.csv")
        for wtp in result.wtps:
            top = evppi[evppi["wtp"] == wtp].sort_values("evppi", ascending=False).head(3)
            print(f"  EVPPI at ${wtp:,.0f}: " + ", ".join(f"{r.group} ${r.evppi_per_year:,.0f}/yr" for r in top.itertuples()))
        print(f"  wrote       {', '.join(f.name for f in files)} in {args.out}")
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
    if args.method == "abc-smc":
        return _calibrate_abc(args, targets)
    if args.prior:
        raise ValueError("--prior: the shipped priors are for --method abc-smc; the point method searches --range")
    client = dask_client(args)
    try:
        result = calibrate(args.scenario, targets=targets, parameters=ranges(args.range, "--range"),
                           n_trials=args.trials, seeds=list(range(1, args.seeds + 1)), client=client)
    finally:
        close_client(client)
    print(f"plsim {__version__}: best of {args.trials} trials (seeds 1-{args.seeds})")
    for path, value in result.best.items():
        print(f"  {path} = {value:.6g}")
    for name, a in result.achieved.items():
        print(f"  {name}: achieved {a['achieved']:.4g}, target {a['target']:.4g} +- {a['tolerance']:.3g} "
              f"({'within' if a['within'] else 'MISSED by ' + format(abs(a['miss_in_tolerances']), '.1f') + ' tolerances'})")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(result.trials).to_csv(out / "trials.csv", index=False, float_format="%.6g")
        (out / "best.json").write_text(json.dumps(result.record(), indent=2) + "\n")
        print(f"  wrote       {out / 'trials.csv'}, {out / 'best.json'}")
    return 0

def _calibrate_abc(args, targets: dict) -> int:
    """plsim calibrate --method abc-smc: a posterior (posterior.csv, posterior.json, report.md and
    posterior.png in --out)."""
    from ..calibrate import calibrate

    parameters = dict(ranges(args.range, "--range")) if args.range else {}
    parameters.update({path: None for path in args.prior or ()})
    if not parameters:
        raise ValueError("--range or --prior: give at least one parameter to calibrate")
    client = dask_client(args)
    try:
        post = calibrate(args.scenario, targets=targets, parameters=parameters, method="abc-smc",
                         seeds=list(range(1, args.seeds + 1)), client=client, particles=args.particles,
                         rounds=args.rounds, seed=args.abc_seed, workers=args.processes, progress=args.progress)
    finally:
        close_client(client)
    print(f"plsim {__version__}: ABC-SMC posterior, {len(post.draws)} weighted draws (ESS {post.ess:.1f}) after "
          f"{len(post.rounds)} rounds, {int(post.rounds['simulations'].sum())} simulations of seeds 1-{args.seeds}")
    for r in post.summary().itertuples():
        print(f"  {r.parameter}: {r.q50:.6g}, 90% interval {r.q05:.6g} to {r.q95:.6g} (prior {r.prior_q05:.4g} to "
              f"{r.prior_q95:.4g})")
    for r in post.predictive().itertuples():
        print(f"  {r.target}: target {r.value:.4g}, posterior predictive 5-95% {r.q05:.4g} to {r.q95:.4g}")
    if args.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = post.save(args.out)
        (out / "report.md").write_text(post.report())
        fig = post.plot()
        fig.savefig(out / "posterior.png", dpi=100)
        plt.close(fig)
        print(f"  wrote       {out / 'posterior.csv'}, posterior.json, report.md, posterior.png")
    return 0


def _money(text: str) -> float:
    import argparse

    try:
        value = float(text.replace(",", "").lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected US$ per SD-student, e.g. 20000 (got {text!r})") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


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
    comparison.add_argument("--uncertainty", metavar="priors|FILE",
                            help="vary the uncertain parameters too: 'priors' (plsim priors, with each scenario's "
                                 "priors section), a priors .json file, or a posterior (its directory or "
                                 "posterior.csv); needs --draws")
    comparison.add_argument("--draws", type=positive, help="parameter draws (every strategy runs each on --seeds)")
    comparison.add_argument("--draw-seed", type=non_negative, default=0, help="seed of the parameter draws")
    comparison.add_argument("--wtp", type=_money, nargs="+", metavar="DOLLARS",
                            help="willingness to pay per SD-student gained at which to report (default 5000 20000)")
    comparison.add_argument("--processes", type=positive, default=None,
                            help="with --uncertainty: worker processes (default: every core; results are the same)")
    comparison.add_argument("--progress", action="store_true", help="with --uncertainty: a progress bar")
    add_dask_arguments(comparison)
    comparison.add_argument("--out", help="directory for comparison.csv and comparison.png, and every year with bands "
                                          "over seeds: comparison_by_year.csv and comparison_by_year.png (with "
                                          "--uncertainty: psa.csv, ceac.csv, evppi.csv, ... and their plots)")
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
    calibration.add_argument("--range", action="append", metavar="PATH=LO:HI",
                             help="a fitted path (repeatable); abc-smc: a uniform prior on the range")
    calibration.add_argument("--method", choices=("optuna", "abc-smc"), default="optuna",
                             help="optuna: the best point (trials.csv, best.json); abc-smc: a posterior, weighted "
                                  "draws (posterior.csv, posterior.json, report.md, posterior.png)")
    calibration.add_argument("--prior", action="append", metavar="PATH",
                             help="abc-smc: calibrate PATH from its shipped prior (plsim priors) instead of a "
                                  "uniform --range (repeatable)")
    calibration.add_argument("--trials", type=positive, default=40, help="optuna: trials (default 40)")
    calibration.add_argument("--particles", type=positive, default=64, help="abc-smc: particles (default 64)")
    calibration.add_argument("--rounds", type=positive, default=6, help="abc-smc: rounds at most (default 6)")
    calibration.add_argument("--abc-seed", type=non_negative, default=0,
                             help="abc-smc: seed of its proposals (default 0)")
    calibration.add_argument("--processes", type=positive, default=None,
                             help="abc-smc: worker processes (default: every core; the posterior is the same)")
    calibration.add_argument("--progress", action="store_true", help="abc-smc: a progress bar of the rounds")
    calibration.add_argument("--seeds", type=positive, default=1, help="seeds 1..N in every trial or simulation")
    add_dask_arguments(calibration)
    calibration.add_argument("--out", help="directory for trials.csv and best.json (abc-smc: posterior.csv, "
                                           "posterior.json, report.md, posterior.png)")
    calibration.set_defaults(func=cmd_calibrate)
