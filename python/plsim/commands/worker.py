"""plsim worker SCHEDULER: a Dask worker in plsim's own environment. A worker started as `dask worker`
runs the system Python, which cannot import plsim from its virtual environment, so every run sent to
it fails; this one runs the interpreter plsim is installed in, after checking in a few seconds that the
scheduler answers."""
from __future__ import annotations

import argparse
import os
import sys

from ..dask_connect import CONNECT_SECONDS, check_scheduler
from ..version import __version__


def cmd_worker(args) -> int:
    check_scheduler(args.scheduler, args.connect_timeout)
    extra = list(args.dask_options)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    argv = [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler, *extra]
    if args.nthreads:
        argv[4:4] = ["--nthreads", str(args.nthreads)]
    print(f"plsim worker: serving {args.scheduler} with {sys.executable} (plsim {__version__}); Ctrl-C stops it",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # the worker replaces this process: its signals, its exit code
    return 0  # (not reached)


def add_parsers(sub) -> None:
    """plsim worker."""
    worker = sub.add_parser("worker", help="start a Dask worker in plsim's environment for --scheduler runs")
    worker.add_argument("scheduler", metavar="SCHEDULER", help="address of the Dask scheduler, e.g. tcp://HOST:8786")
    worker.add_argument("--nthreads", type=int, default=None,
                        help="threads of the worker (default: dask's, the machine's cores)")
    worker.add_argument("--connect-timeout", type=float, default=CONNECT_SECONDS, metavar="SECONDS",
                        help=f"give up when the scheduler does not answer within SECONDS (default {CONNECT_SECONDS:g})")
    worker.add_argument("dask_options", nargs=argparse.REMAINDER,
                        help="options for dask worker after --, e.g. -- --nworkers 2 --memory-limit 4GB")
    worker.set_defaults(func=cmd_worker)
