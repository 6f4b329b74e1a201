"""Commands of decisions under uncertainty: plsim priors (the prior distributions of the uncertain
parameters) and plsim sensitivity (Sobol indices with bootstrap intervals, or Morris elementary effects,
of a scenario's output). plsim compare --uncertainty (commands.experiments) draws from the priors."""
from __future__ import annotations

from pathlib import Path

from ..safe_io import formula_safe_frame
from .args import add_dask_arguments, close_client, dask_client, positive, ranges


def priors_markdown(table) -> str:
    """docs/model.md's table of the shipped priors: path | distribution as written | group | source (no
    values that a recalibration of the defaults would change)."""
    lines = ["| path | distribution | group | which figure sets it |", "| --- | --- | --- | --- |"]
    for r in table.itertuples():
        lines.append(f"| `{r.path}` | {r.as_written} | {r.group} | {r.source} |")
    return "\n".join(lines) + "\n"


def cmd_priors(args) -> int:
    from .. import priors

    chosen = priors.resolve(args.scenario) if args.scenario else priors.shipped()
    table = priors.table(chosen)
    if args.markdown:
        print(priors_markdown(table), end="")
        return 0
    from ..priors import number_text as g

    width = max(len(p) for p in table["path"])
    shape = max(len(d) for d in table["distribution"])
    print(f"{'path':<{width}}  {'distribution':<{shape}}  {'90% interval':<21}  {'group':<11}  source")
    for r in table.itertuples():
        interval = f"{g(r.q05)} to {g(r.q95)}"
        print(f"{r.path:<{width}}  {r.distribution:<{shape}}  {interval:<21}  {r.group:<11}  {r.source}")
    where = f"scenario {args.scenario} (its priors section over the shipped ones)" if args.scenario else "shipped"
    print(f"{len(table)} priors, {where}; centred on the parameters' values unless a centre is given "
          f"(docs/model.md, Priors)")
    return 0


def cmd_sensitivity(args) -> int:
    from ..sensitivity import sensitivity, tornado

    parameters = ranges(args.range, "--range")
    client = dask_client(args)
    try:
        table = sensitivity(args.scenario, parameters=parameters, output=args.output, method=args.method,
                            seeds=list(range(1, args.seeds + 1)), client=client, trajectories=args.trajectories,
                            n=args.n, seed=args.seed, workers=args.processes)
    finally:
        close_client(client)
    k = len(parameters)
    runs = (k + 1) * args.trajectories if args.method == "morris" else args.n * (k + 2)
    what = ("Morris elementary effects (mu, mu*, sigma: the output's change across each range)" if args.method == "morris"
            else "Sobol indices (first order S1, total ST) with 95% bootstrap intervals")
    print(f"{what} of {args.output} in {args.scenario}: {runs} runs, seeds 1-{args.seeds} each")
    print(table.round(4).to_string(index=False))
    if args.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(table).to_csv(out / "sensitivity.csv", index=False, float_format="%.6g")
        ax = tornado(table, title=f"{args.output}: {args.method}")
        ax.figure.savefig(out / "sensitivity.png", dpi=100)
        plt.close(ax.figure)
        print(f"  wrote       {out / 'sensitivity.csv'}, {out / 'sensitivity.png'}")
    return 0


def add_parsers(sub) -> None:
    """plsim priors and plsim sensitivity."""
    prior = sub.add_parser("priors", help="list the prior distributions of the uncertain parameters (path, "
                                          "distribution, 90% interval, group, source)")
    prior.add_argument("scenario", nargs="?", help="a scenario whose priors section replaces shipped priors "
                                                   "and whose parameter values centre them")
    prior.add_argument("--markdown", action="store_true", help="print the table of docs/model.md, Priors")
    prior.set_defaults(func=cmd_priors)

    sens = sub.add_parser("sensitivity", help="Sobol indices (with bootstrap intervals) or Morris elementary "
                                              "effects of a scenario's output over parameter ranges")
    sens.add_argument("scenario")
    sens.add_argument("--method", choices=("sobol", "morris"), default="morris")
    sens.add_argument("--range", action="append", metavar="PATH=LO:HI", help="a parameter and its range (repeatable)")
    sens.add_argument("--output", default="effect_math_sd", help="a named output (plsim.outputs.OUTPUTS; default "
                                                                 "effect_math_sd)")
    sens.add_argument("--n", type=positive, default=64, help="sobol: base points, a power of 2 (n (k + 2) runs)")
    sens.add_argument("--trajectories", type=positive, default=6, help="morris: trajectories ((k + 1) each)")
    sens.add_argument("--seeds", type=positive, default=1, help="seeds 1..N in every run (averaged)")
    sens.add_argument("--seed", type=int, default=0, help="seed of the design")
    sens.add_argument("--processes", type=positive, default=None, help="worker processes (default: every core)")
    add_dask_arguments(sens)
    sens.add_argument("--out", help="directory for sensitivity.csv and sensitivity.png")
    sens.set_defaults(func=cmd_sensitivity)
