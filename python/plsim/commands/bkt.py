"""plsim bkt fit: Bayesian Knowledge Tracing per skill from a response log (plsim.bkt)."""
from __future__ import annotations

from .. import bkt
from .args import non_negative, positive, seed_number


def cmd_bkt_fit(args) -> int:
    report = bkt.fit_report(args.train, args.test, skill=args.skill, student=args.student, correct=args.correct,
                            forgets=args.forgets, restarts=args.restarts, seed=args.seed, threads=args.threads,
                            tolerance=args.tolerance, max_iterations=args.max_iterations)
    fitted = report["_fit"]
    table = fitted.params[bkt.PARAMETERS + ["responses", "students", "iterations"]]
    if not args.forgets:
        table = table.drop(columns=["forget"])
    print(f"plsim bkt fit: {args.train}: {report['n_skills']} skills, {report['train_responses']:,} responses, fitted "
          f"in {report['fit_seconds']:.2f} s ({'with' if args.forgets else 'without'} forgets, {args.restarts} restarts)")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    medians = fitted.params[bkt.PARAMETERS].median()
    print("  median      " + ", ".join(f"{p} {medians[p]:.3f}" for p in bkt.PARAMETERS if args.forgets or p != "forget"))
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
                         "params and the options to OUT")
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
    fitting.set_defaults(func=cmd_bkt_fit)
