"""What the plsim commands share: argument types and groups (threads, seeds, shares, sizes, --level,
--compress, --overwrite, --checkpoint, Dask), the Dask client's lifecycle, the check of an output
directory before running, and scenarios with --set overrides. Imports no command, so any module
(calibrate, evidence) can use it."""
from __future__ import annotations

import argparse
from typing import Optional

from ..dask_connect import connect_client
from ..levels import OUTPUT_LEVELS
from ..outdir import OutputDirError, check_out
from ..scenarios import load_scenario


def non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return value


def positive(text: str) -> int:
    value = non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {value})")
    return value


def counterfactual_choice(text: str) -> Optional[bool]:
    choices = {"auto": None, "always": True, "never": False}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"expected auto, always or never (got {text!r})")
    return choices[text]


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1 (got {text!r})") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1 (got {text})")
    return value


def seed_number(text: str) -> int:
    return non_negative(text)  # the upper bound is the scenario specification's, checked by the engine


def gzip_level(text: str) -> int:
    value = non_negative(text)
    if not 1 <= value <= 9:
        raise argparse.ArgumentTypeError(f"expected a gzip level from 1 to 9 (got {value})")
    return value


def memory_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    body = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = body[-1:] if body[-1:] in units and body[-1:] else ""
    try:
        value = float(body[:-1] if unit else body)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 16G, 500M or 2.5G (got {text!r})") from None
    if not (value > 0 and value * units[unit] < 2 ** 63):
        raise argparse.ArgumentTypeError(f"expected a positive size (got {text!r})")
    return int(value * units[unit])


def add_dask_arguments(parser) -> None:
    """--scheduler and --workers, read by dask_client, for every command that runs many simulations."""
    parser.add_argument("--scheduler", help="address of a Dask scheduler to run the runs on")
    parser.add_argument("--workers", type=positive,
                        help="run on a local Dask worker with N threads (the engine releases the GIL)")


def add_output_arguments(parser, resume: bool = False) -> None:
    """--level and --compress, of plsim run and plsim resume (where they replace the run's own)."""
    default = "the level the run was started with" if resume else "school"
    parser.add_argument("--level", choices=OUTPUT_LEVELS, default=None if resume else "school",
                        help=f"write the tables by school, by district or nationally (n-weighted means, summed "
                             f"counts; docs/architecture.md, 'Output levels'; default: {default})")
    parser.add_argument("--compress", type=gzip_level, nargs="?", const=1, default=None, metavar="LEVEL",
                        help="write the tables gzip-compressed (NAME.csv.gz) at LEVEL 1-9 (the flag alone: 1)"
                             + ("; default: as the run was started" if resume else ""))


def add_overwrite_arguments(parser) -> None:
    """--overwrite and --overwrite-all, of plsim run and plsim resume (plsim.outdir)."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier plsim run's outputs in --out (only files its .plsim-manifest.json "
                             "lists; a directory holding other files is refused)")
    parser.add_argument("--overwrite-all", action="store_true",
                        help="replace --out even if it holds files plsim did not write (they are deleted)")
    parser.add_argument("--max-memory", type=memory_size, default=None, metavar="SIZE",
                        help="memory the run may use, e.g. 16G or 500M (default: the machine's memory); a run "
                             "estimated to need more is refused before it starts")


def add_checkpoint_arguments(parser) -> None:
    """--checkpoint and --stop-after-year, of plsim run and plsim resume."""
    parser.add_argument("--checkpoint", metavar="FILE",
                        help="save the whole run to FILE at every year end (continue it with plsim resume FILE); "
                             "Python hooks are saved by class name and plain-data state, never pickled")
    parser.add_argument("--stop-after-year", type=positive, default=None, metavar="N",
                        help="stop once N school years are complete (with --checkpoint: resume it later)")


def dask_client(args):
    """A Dask client for --scheduler ADDRESS (an existing cluster) or --workers N (a local one: one
    worker with N threads, since the engine releases the GIL; on this 2-core VM that keeps Dask's share
    of the time at 6%, against 11% for N one-thread worker processes)."""
    if getattr(args, "scheduler", None):
        client = connect_client(args.scheduler)  # a wrong address: one line within a few seconds
        client._plsim_started = False  # an existing cluster: not ours to close
        return client
    if getattr(args, "workers", None):
        from dask.distributed import Client, LocalCluster

        return Client(LocalCluster(processes=False, n_workers=1, threads_per_worker=args.workers,
                                   dashboard_address=None))
    return None


def close_client(client) -> None:
    """Closes a client from dask_client, and the local cluster it started, if any."""
    if client is None:
        return
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None and getattr(client, "_plsim_started", True):
        cluster.close()


def check_out_dir(path, args, command: str) -> Optional[str]:
    """Why `path` cannot take a new run's outputs (checked before running, plsim.outdir), or None."""
    if path is None:
        return None
    try:
        check_out(path, overwrite=args.overwrite, overwrite_all=getattr(args, "overwrite_all", False))
    except OutputDirError as error:
        return f"plsim {command}: argument {error}"
    return None


def load_scenario_with_sets(scenario, sets):
    """The scenario with --set PATH=VALUE overrides applied and validated."""
    if not sets:
        return load_scenario(scenario)
    from ..plan import RunPlan, parse_set

    return RunPlan(scenario, overrides=parse_set(sets)).scenario


def ranges(items, flag: str) -> dict:
    """PATH=LO:HI arguments as {path: (lo, hi)}."""
    out = {}
    for item in items or ():
        try:
            path, span = item.split("=", 1)
            lo, hi = (float(x) for x in span.split(":"))
        except ValueError:
            raise ValueError(f"{flag}: expected PATH=LO:HI with numbers (got {item!r})") from None
        out[path] = (lo, hi)
    if not out:
        raise ValueError(f"{flag}: give at least one PATH=LO:HI")
    return out
