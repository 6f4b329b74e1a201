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


def add_parsers(sub) -> None:
    """plsim priors and plsim sensitivity."""
    prior = sub.add_parser("priors", help="list the prior distributions of the uncertain parameters (path, "
                                          "distribution, 90% interval, group, source)")
    prior.add_argument("scenario", nargs="?", help="a scenario whose priors section replaces shipped priors "
                                                   "and whose parameter values centre them")
    prior.add_argument("--markdown", action="store_true", help="print the table of docs/model.md, Priors")
    prior.set_defaults(func=cmd_priors)
