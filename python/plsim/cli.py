"""The `plsim` command: one subcommand per module of plsim.commands (run and resume; ensemble, compare,
sweep and calibrate; priors and sensitivity; validate, schema, params, init, list and report; bkt; worker) plus plsim evidence, with
one-line errors (exit code 2; --debug shows the traceback) and Ctrl-C as exit code 130."""
from __future__ import annotations

import argparse
import sys
import warnings

from .version import __version__
from ._core import CheckpointError, ScenarioError
from .commands import bkt, decisions, experiments, run, scenario_tools, worker
from .commands.args import load_scenario_with_sets  # noqa: F401  (plsim.cli.load_scenario_with_sets, as before)
from .commands.run import suppress_small_cells  # noqa: F401  (plsim.cli.suppress_small_cells, as before)
from .evidence import add_command as add_evidence_command
from .dask_connect import SchedulerUnreachable
from .district import SchoolTableError
from .outdir import OutputDirError
from .safe_io import FileRefused


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plsim", description="Simulate personalized learning in schools and districts.")
    parser.add_argument("--version", action="version", version=f"plsim {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (errors are otherwise one line, exit code 2)")
    sub = parser.add_subparsers(dest="command", required=True)
    for commands in (run, experiments, decisions, scenario_tools, bkt, worker):
        commands.add_parsers(sub)
    add_evidence_command(sub)  # plsim evidence: python/plsim/evidence.py
    return parser


# Errors that are the user's input, not plsim's bug: reported in one line (what, where, what to do),
# exit code 2, the traceback only with --debug.
def _input_errors() -> tuple:
    return (CheckpointError, FileRefused, OutputDirError, SchoolTableError, ValueError, OSError, MemoryError,
            RecursionError)


def _one_line_warnings(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of the plsim command as one line, without the source line that raised them."""
    print(f"plsim: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    if not debug:
        warnings.showwarning = _one_line_warnings
    try:
        return args.func(args)
    except ScenarioError as e:
        if debug:
            raise
        for line in getattr(e, "errors", None) or [str(e)]:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("plsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped (head, less)
        sys.stderr.close()
        return 0
    except _input_errors() as e:
        if debug:
            raise
        print(_one_line(e, args.command), file=sys.stderr)
        return 2


def _one_line(error: BaseException, command: str) -> str:
    """An error as the one line the command prints."""
    if isinstance(error, MemoryError):
        return (f"plsim {command}: out of memory; run a smaller scenario (fewer years, schools or --responses), or "
                f"on a larger machine")
    if isinstance(error, RecursionError):
        return f"plsim {command}: an input nested too deep to read; check the files given"
    if isinstance(error, SchedulerUnreachable):
        return f"plsim {command}: {error}"
    if isinstance(error, OSError) and error.strerror and not str(error).startswith(("plsim", "checkpoint")):
        where = f"{error.filename}: " if error.filename else ""
        return f"plsim {command}: {where}{error.strerror}; check the path and its permissions"
    errors = getattr(error, "errors", None)
    text = "; ".join(errors) if isinstance(errors, list) and errors else str(error)
    return " ".join(text.split())  # one line, however the message was built


if __name__ == "__main__":
    raise SystemExit(main())
