"""plsim bkt fit: Bayesian Knowledge Tracing per skill from a response log (plsim.bkt). The terminal
gets a summary (the order read, the spread of each parameter over skills, the most practised skills,
degenerate fits by flag); --json has every skill, --all prints them."""
from __future__ import annotations

from .. import bkt
from .args import non_negative, positive, seed_number

#: Skills shown on the terminal without --all: the most practised.
SHOWN = 10
#: Skills named per flag of a degenerate fit.
NAMED = 6


def _spread(params, names) -> str:
    q = params[names].quantile([0.1, 0.5, 0.9])
    return ", ".join(f"{p} {q.loc[0.5, p]:.3f} [{q.loc[0.1, p]:.3f}, {q.loc[0.9, p]:.3f}]" for p in names)


def _print_skills(fitted, args) -> None:
    params = fitted.params
    columns = bkt.PARAMETERS + ["responses", "students", "iterations", "flags"]
    if not args.forgets:
        columns.remove("forget")
    shown = params if args.all else params.sort_values("responses", ascending=False, kind="stable").head(SHOWN)
    if len(shown) < len(params):
        where = f"--json {args.json}" if args.json else "--json OUT, or --all"
        print(f"  skills      the {len(shown)} with most responses (all {len(params)} in {where}):")
    print(shown[columns].to_string(float_format=lambda v: f"{v:.3f}"))


def cmd_bkt_fit(args) -> int:
    report = bkt.fit_report(args.train, args.test, skill=args.skill, student=args.student, correct=args.correct,
                            order=args.order, forgets=args.forgets, restarts=args.restarts, seed=args.seed,
                            threads=args.threads, tolerance=args.tolerance, max_iterations=args.max_iterations)
    fitted = report["_fit"]
    names = [p for p in bkt.PARAMETERS if args.forgets or p != "forget"]
    print(f"plsim bkt fit: {args.train}: {report['n_skills']} skills, {report['train_responses']:,} responses, fitted "
          f"in {report['fit_seconds']:.2f} s ({'with' if args.forgets else 'without'} forgets, {args.restarts} restarts)")
    order = fitted.order_check
    print(f"  order       {order['by']}" + ("" if args.order else " (--order COLUMN sorts by a time or order id)"))
    if order.get("note"):
        print(f"              {order['note']}")
    _print_skills(fitted, args)
    print(f"  parameters  median [10%, 90%] over skills: {_spread(fitted.params, names)}")
    degenerate = fitted.degenerate
    if degenerate:
        for flag, skills in degenerate.items():
            named = ", ".join(map(str, skills[:NAMED])) + (", ..." if len(skills) > NAMED else "")
            print(f"  flagged     {len(skills)} of {len(fitted.params)} skills: {bkt.FLAGS[flag]} ({named})")
    else:
        print("  flagged     no degenerate fit")
    print(f"  train       log-likelihood {report['train_log_likelihood']:.1f}, AUC {report['train_auc']:.4f}")
    if args.test:
        print(f"  test        {args.test}: {report['test_responses']:,} responses, AUC {report['test_auc']:.4f}"
              + (f" ({report['test_unseen_skills']} responses of skills the fit never saw, predicted with the "
                 f"median parameters)" if report["test_unseen_skills"] else ""))
    if args.json:
        bkt.write_json(report, args.json)
        print(f"  wrote       {args.json}")
    return 0


def add_parsers(sub) -> None:
    """plsim bkt and its subcommand fit."""
    group = sub.add_parser("bkt", help="Bayesian Knowledge Tracing from response logs")
    bkt_commands = group.add_subparsers(dest="bkt_command", metavar="COMMAND", required=True)
    fitting = bkt_commands.add_parser("fit", help="fit BKT to a response log, per skill, by EM")
    fitting.add_argument("train", metavar="TRAIN", help="response log: CSV with a header, or three lines per student")
    fitting.add_argument("--test", metavar="TEST", help="held-out log: its AUC of one-step-ahead predictions")
    fitting.add_argument("--json", metavar="OUT", help="write test_auc, train_log_likelihood, fit_seconds, n_skills, "
                         "the order read, degenerate fits, every skill's params and the options to OUT")
    fitting.add_argument("--all", action="store_true", help=f"print every skill (default: the {SHOWN} most practised)")
    fitting.add_argument("--forgets", action="store_true", help="also fit a forget probability per skill")
    fitting.add_argument("--restarts", type=positive, default=5, help="starting points per skill (default 5)")
    fitting.add_argument("--seed", type=seed_number, default=0, help="seed of the starting points (default 0)")
    fitting.add_argument("--threads", type=non_negative, default=0, help="threads (0: all cores)")
    fitting.add_argument("--tolerance", type=float, default=1e-6,
                         help="stop when an iteration gains less log-likelihood per response (default 1e-6)")
    fitting.add_argument("--max-iterations", type=positive, default=200, help="EM iterations at most (default 200)")
    for column in ("skill", "student", "correct"):
        fitting.add_argument(f"--{column}", default=column, metavar="COLUMN",
                             help=f"column of the {column} in a CSV log (default {column})")
    fitting.add_argument("--order", default=None, metavar="COLUMN",
                         help="column of each response's time or order id (numbers or times) to read each student's "
                              "responses in (default: the file's row order, which a warning questions when it looks "
                              "shuffled)")
    fitting.set_defaults(func=cmd_bkt_fit)
