"""The `plsim` command: run, validate and describe scenarios."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from . import __version__
from ._core import ScenarioError
from .csvio import write_csv
from .levels import OUTPUT_LEVELS, aggregate
from .outdir import OutputDirError, check_out, publish, staging_dir, write_manifest
from .results import growth_by_grade
from .safe_io import formula_safe_frame
from .scenarios import check_scenario, load_scenario, scenario_schema, shipped_scenarios
from .sim import Sim


def _print_summary(summary: dict, sim: Sim) -> None:
    c = summary["counts"]
    print(f"plsim {__version__}: scenario {summary['scenario']} (seed {summary['seed']}, {summary['threads']} threads)")
    print(f"  population  {c['students']:,} students, {c['teachers']:,} teachers, {c['classrooms']:,} classrooms, "
          f"{c['schools']:,} schools, {c['districts']:,} districts")
    rate = summary["student_weeks_per_second"]
    years = summary["years"]
    print(f"  simulated   {years} year{'s' if years != 1 else ''}, {summary['weeks_simulated']} weeks, "
          f"{summary['student_weeks']:,} student-weeks in {summary['seconds']:.2f} s"
          + (f" ({rate / 1e6:.1f} M student-weeks/s)" if rate else ""))
    setup = summary.get("setup_seconds")
    if setup is not None:
        twin = summary.get("setup_seconds_counterfactual")
        print(f"  set-up      {setup:.2f} s (population, teachers, classrooms)"
              + (f", the counterfactual twin {twin:.2f} s" if twin is not None else ""))
    for subject, h in summary["headline"].items():
        if "mean_rit" in h:
            print(f"  {subject:8s}    spring of year {h['year']}: mean RIT {h['mean_rit']:.1f}, national percentile "
                  f"{h['mean_percentile']:.1f}, {h['mean_sd']:+.2f} SD; first-year growth "
                  f"{100 * h.get('growth_vs_norm', float('nan')):.0f}% of the national norm")
    for subject, h in (summary.get("headline_effects") or {}).items():
        print(f"  effect      {subject}: {h['effect_sd_pl_schools']:+.3f} SD ({h['effect_rit_pl_schools']:+.2f} RIT) "
              f"on the {h['students']:,} students in PL schools in year {h['year']}, against the counterfactual "
              f"twin (effect_sd_pl_schools)")
    for subject, st in (summary.get("study") or {}).items():
        if not isinstance(st, dict):
            continue
        true = st.get("true_effect_sd")
        print(f"  study       {subject}: estimated {st['pooled_estimate_sd']:+.3f} SD (SE {st['pooled_se']:.3f}) over "
              f"{st['schools']} schools" + (f", true {true:+.3f}" if true is not None else "") +
              f"; significant: {100 * st['share_significant_positive']:.0f}% positive, "
              f"{100 * st['share_significant_negative']:.0f}% negative")
    ce = summary.get("cost_effectiveness") or {}
    if ce.get("cost_total"):
        per = ce.get("cost_per_student_reached")
        sd = ce.get("sd_per_100")
        print(f"  money       ${ce['cost_total']:,.0f} over the run for {ce['students_reached']:,} students reached"
              + (f" (${per:,.0f} each)" if per else "") + (f"; {sd:.4f} SD per $100 per student" if sd else ""))
    g = growth_by_grade(sim.assessments)
    if not g.empty:
        table = g.pivot(index="grade", columns="subject", values="growth").round(1)
        norms = g.pivot(index="grade", columns="subject", values="norm_growth")
        print("  fall-to-spring growth in year 1, RIT (national norm):")
        for grade, row in table.iterrows():
            label = "K" if grade == 0 else str(grade)
            cells = "  ".join(f"{s} {row[s]:5.1f} ({norms.loc[grade, s]:4.1f})" for s in table.columns)
            print(f"    grade {label:>2}  {cells}")


def suppress_small_cells(table, min_cell: int):
    """Rows of an exported table with fewer than `min_cell` students (its `n`) keep their keys and n
    but lose every other value (NaN), and are marked `suppressed`, so no small group can be read off."""
    if not min_cell or "n" not in table:
        return table
    out = table.copy()
    small = out["n"] < min_cell
    keys = {"year", "season", "subject", "grade", "school_id", "subgroup", "model", "n", "school_type",
            "implementation_year", "district", "schools"}
    for column in out.columns:
        if column not in keys and out[column].dtype.kind in "fiu":
            out[column] = out[column].astype(float).where(~small)
    out["suppressed"] = small
    return out


def _check_out(path, args, command: str) -> Optional[str]:
    """Why `path` cannot take a new run's outputs (checked before running, plsim.outdir), or None."""
    if path is None:
        return None
    try:
        check_out(path, overwrite=args.overwrite, overwrite_all=getattr(args, "overwrite_all", False))
    except OutputDirError as error:
        return f"plsim {command}: argument {error}"
    return None


def cmd_run(args) -> int:
    problem = _check_out(args.out, args, "run") or _check_checkpoint(args.checkpoint, "run")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        sim = Sim(load_scenario_with_sets(args.scenario, args.set), threads=args.threads, seed=args.seed,
                  counterfactual=args.counterfactual, responses=args.responses or 0.0, max_memory=args.max_memory)
    except ValueError as error:
        if str(error).startswith("seed: "):  # the engine's bound on seeds, named as the argument
            print(f"plsim run: argument --seed: {str(error)[len('seed: '):]}", file=sys.stderr)
            return 2
        raise
    if args.study and args.study_pool == "twin" and not sim.has_counterfactual:
        print("plsim run: argument --study: the twin pool needs the counterfactual twin (drop "
              "--no-counterfactual, or use --study-pool traditional)", file=sys.stderr)
        return 2
    options = {"study": args.study, "study_pool": args.study_pool, "min_cell": args.min_cell, "level": args.level,
               "compress": args.compress}
    return _run_and_write(sim, args, options)


def cmd_resume(args) -> int:
    from .checkpoint import read

    problem = _check_out(args.out, args, "resume") or _check_checkpoint(args.checkpoint, "resume")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    sim, extra = read(args.checkpoint_file, max_memory=args.max_memory)
    options = _resume_options(extra, args.checkpoint_file)
    for option in ("level", "compress"):  # given to resume: replaces what the run was started with
        if getattr(args, option) is not None:
            options[option] = getattr(args, option)
    print(f"plsim resume: {args.checkpoint_file}: scenario {sim.scenario.name}, {sim.years_completed} of "
          f"{sim.scenario.years} years done", file=sys.stderr)
    return _run_and_write(sim, args, options)


# The options plsim run saves with its checkpoints, at what a run without them uses (a checkpoint of
# Sim.save has none), each with the values it may take.
RESUME_OPTIONS = {
    "study": (False, lambda v: isinstance(v, bool)),
    "study_pool": ("twin", lambda v: v in ("twin", "traditional")),
    "min_cell": (None, lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)),
    "level": ("school", lambda v: v in OUTPUT_LEVELS),
    "compress": (None, lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 9)),
}


def _resume_options(extra: dict, where) -> dict:
    """The run options saved in a checkpoint, defaults for those it lacks; refused when out of range."""
    from .checkpoint import CheckpointError

    options = {}
    for name, (default, valid) in RESUME_OPTIONS.items():
        value = extra.get(name, default)
        if not valid(value):
            raise CheckpointError(f"{where}: bad checkpoint manifest: /extra/{name}: {value!r} is not a value of "
                                  f"plsim run's option; the file was edited or written by another program")
        options[name] = value
    return options


def _check_checkpoint(path, command: str) -> Optional[str]:
    if path is not None and Path(path).is_dir():
        return f"plsim {command}: argument --checkpoint: {path} is a directory; give a file name"
    return None


def _run_and_write(sim: Sim, args, options: dict) -> int:
    """Runs `sim` to the end (or to --stop-after-year), saving a checkpoint at each year end when
    --checkpoint is given, then prints the summary and writes --out."""
    years = sim.scenario.years
    stop = years if args.stop_after_year is None else min(args.stop_after_year, years)
    bar = None
    if args.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=years * sim._core.weeks_per_year * len(sim._arms()), unit="week")
    report = None if bar is None else (lambda done, _total: bar.update(done - bar.n))
    try:
        if args.checkpoint:
            while sim.years_completed < stop:
                sim.run(progress=report or False, until_year=sim.years_completed + 1)
                sim.save(args.checkpoint, extra=options)
        else:
            sim.run(progress=report or False, until_year=stop)
    except KeyboardInterrupt:
        if args.checkpoint and Path(args.checkpoint).exists():
            print(f"plsim: interrupted; {args.checkpoint} holds the run at its last year end "
                  f"(plsim resume {args.checkpoint})", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
    summary = sim.summary()
    study = None
    if options["study"]:
        from .study import summarize

        study = sim.study(pool=options["study_pool"])
        quintiles = sim.study_by_prior_quintile(pool=options["study_pool"])
        summary["study"] = {"pool": options["study_pool"], **summarize(study),
                            "by_prior_quintile": quintiles.to_dict("records")}
    _print_summary(summary, sim)
    if args.checkpoint:
        print(f"  checkpoint  {args.checkpoint} (after year {sim.years_completed}"
              + ("" if sim.finished else f"; continue with: plsim resume {args.checkpoint} --out DIR") + ")")
    if args.out:
        min_cell = options["min_cell"] if options["min_cell"] is not None else sim.scenario.resolved["min_cell"]
        written = _write_outputs(sim, summary, study, Path(args.out), min_cell, level=options.get("level") or "school",
                                 compress=options.get("compress"))
        print(f"  wrote       {', '.join(str(Path(args.out) / name) for name in written)}")
    return 0


def _write_outputs(sim: Sim, summary: dict, study, final: Path, min_cell: int, level: str = "school",
                   compress: Optional[int] = None) -> list:
    """Writes summary.json and the tables, at `level` (plsim.levels: school, district or national;
    small cells suppressed after aggregation), gzip-compressed with `compress` (a level, 1-9), into a
    staging directory beside `final`, then moves them into place at once; returns the names written."""
    out = staging_dir(final)
    suffix = ".csv" if compress is None else ".csv.gz"
    schools = sim.schools if level == "district" else None
    written = ["summary.json"]

    def table(frame, kind: str, float_format: str = "%.6f", suppress: bool = True) -> None:
        frame = aggregate(frame, kind, level, schools=schools)
        if suppress:
            frame = suppress_small_cells(frame, min_cell)
        write_csv(frame, out / f"{kind}{suffix}", float_format=float_format, compress=compress)
        written.append(f"{kind}{suffix}")

    try:
        summary["min_cell"] = min_cell
        summary["level"] = level
        if compress is not None:
            summary["compress"] = compress
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        table(sim.assessments.drop(columns=["mean_true_rit"]), "assessments")
        table(sim.subgroups, "subgroups")
        if sim.has_counterfactual:
            table(sim.effects, "effects")
        if any(d.get("rollout") for d in sim.scenario.resolved["districts"]):
            table(sim.rollout_by_district, "rollout", suppress=False)
            table(sim.fidelity_by_year, "fidelity", suppress=False)
        if study is not None:
            from .study import plot

            table(study, "study")
            if len(study):
                plot(study, out / "study.png")  # the school estimates against the truth, at any level
                written.append("study.png")
        costs = sim.costs
        if len(costs):
            table(costs, "costs", float_format="%.2f", suppress=False)
        if sim._core.responses_share > 0:
            write_csv(sim.responses(), out / f"responses{suffix}", compress=compress)  # a log: whole at any level
            written.append(f"responses{suffix}")
        write_manifest(out, written, "run")
        publish(out, final)
    finally:
        if out.exists():  # a failed write leaves nothing behind
            shutil.rmtree(out)
    return written


def _dask_client(args):
    """A Dask client for --scheduler ADDRESS (an existing cluster) or --workers N (a local one: one
    worker with N threads, since the engine releases the GIL; on this 2-core VM that keeps Dask's share
    of the time at 6%, against 11% for N one-thread worker processes)."""
    if getattr(args, "scheduler", None):
        from dask.distributed import Client

        client = Client(args.scheduler)
        client._plsim_started = False  # an existing cluster: not ours to close
        return client
    if getattr(args, "workers", None):
        from dask.distributed import Client, LocalCluster

        return Client(LocalCluster(processes=False, n_workers=1, threads_per_worker=args.workers,
                                   dashboard_address=None))
    return None


def _close(client) -> None:
    """Closes a client from _dask_client, and the local cluster it started, if any."""
    if client is None:
        return
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None and getattr(client, "_plsim_started", True):
        cluster.close()


def cmd_ensemble(args) -> int:
    from .ensemble import ensemble

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    scenario = load_scenario_with_sets(args.scenario, args.set)
    client = _dask_client(args)
    try:
        result = ensemble(scenario, seeds=seeds, client=client, progress=args.progress, threads=args.threads)
    finally:
        _close(client)
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
        print(f"  wrote       {out / 'ensemble.csv'}")
    return 0


def load_scenario_with_sets(scenario, sets):
    """The scenario with --set PATH=VALUE overrides applied and validated."""
    if not sets:
        return load_scenario(scenario)
    from .plan import RunPlan, parse_set

    return RunPlan(scenario, overrides=parse_set(sets)).scenario


def cmd_compare(args) -> int:
    from .compare import compare, format_table, plot

    client = _dask_client(args)
    try:
        table = compare(args.scenarios, seeds=args.seeds, client=client, threads=args.threads)
    finally:
        _close(client)
    print(f"plsim {__version__}: {len(table)} scenarios, seeds 1-{args.seeds} (common random numbers); "
          f"95% intervals over seeds")
    print(format_table(table))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(table).to_csv(out / "comparison.csv", index=False, float_format="%.6g")
        plot(table, out / "comparison.png")
        print(f"  wrote       {out / 'comparison.csv'}, {out / 'comparison.png'}")
    return 0


def _ranges(items, flag: str) -> dict:
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


def cmd_sweep(args) -> int:
    from .sweep import sweep

    client = _dask_client(args)
    try:
        table = sweep(args.scenario, _ranges(args.range, "--range"), method=args.method, n=args.n,
                      outputs=args.outputs, seeds=range(1, args.seeds + 1), client=client)
    finally:
        _close(client)
    print(table.round(4).to_string(index=False))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        formula_safe_frame(table).to_csv(out / "sweep.csv", index=False, float_format="%.6g")
        print(f"  wrote       {out / 'sweep.csv'}")
    return 0


def cmd_calibrate(args) -> int:
    from .calibrate import calibrate

    targets = {}
    for item in args.target or ():
        try:
            name, text = item.split("=", 1)
            value, _, tol = text.partition(":")
            targets[name] = (float(value), float(tol)) if tol else float(value)
        except ValueError:
            raise ValueError(f"--target: expected NAME=VALUE or NAME=VALUE:TOLERANCE (got {item!r})") from None
    client = _dask_client(args)
    try:
        result = calibrate(args.scenario, targets=targets, parameters=_ranges(args.range, "--range"),
                           n_trials=args.trials, seeds=list(range(1, args.seeds + 1)), client=client)
    finally:
        _close(client)
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


def cmd_report(args) -> int:
    from .report import write_report

    print(f"  wrote       {write_report(args.run_dir)}")
    return 0


def cmd_validate(args) -> int:
    # The command runs no Python policies, so a scenario that needs one is not valid for it.
    errors = check_scenario(args.scenario, policies=())
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f"{args.scenario}: {len(errors)} error{'s' if len(errors) != 1 else ''}", file=sys.stderr)
        return 1
    print(f"{args.scenario}: valid")
    return 0


def cmd_schema(args) -> int:
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_params(args) -> int:
    import pandas as pd

    from .parameters import parameter_reference, parameters

    if args.markdown:
        sys.stdout.write(parameter_reference())
        return 0
    table = parameters()
    if args.match:
        table = table[table["path"].str.contains(args.match, regex=False)]
        if table.empty:
            print(f"params: no parameter path contains {args.match!r}", file=sys.stderr)
            return 1

    def bounds(row) -> str:
        lo, hi = row["min"], row["max"]
        if pd.isna(lo):
            return "any"
        if pd.isna(hi):
            return f"{'>' if row['exclusive_min'] else '>='} {lo:g}"
        return f"{lo:g} to {hi:g}"

    def shown(value) -> str:
        text = json.dumps(value)
        return text if len(text) <= 14 else text[:11] + "..."

    width = max(len(p) for p in table["path"])
    print(f"{'path':<{width}}  {'default':<14}  {'range':<13}  {'unit':<22}  doc")
    for _, row in table.iterrows():
        print(f"{row['path']:<{width}}  {shown(row['default']):<14}  {bounds(row):<13}  {row['unit']:<22}  {row['doc']}")
    print(f"{len(table)} parameters; `plsim params --markdown` adds their sources (docs/parameters.md)")
    return 0


def cmd_init(args) -> int:
    from .district import SchoolTableError, from_schools

    try:
        scenario = from_schools(args.schools, name=args.name, years=args.years)
    except SchoolTableError as error:
        for line in error.errors:
            print(line, file=sys.stderr)
        return 2
    text = json.dumps(scenario.document, indent=2) + "\n"
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.force:
            print(f"init: --out {out} exists; pass --force to overwrite it", file=sys.stderr)
            return 2
        out.write_text(text)
        print(f"wrote {out}: {len(scenario.document['districts'][0]['schools'])} schools; edit it, then "
              f"plsim validate {out} and plsim run {out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_list(args) -> int:
    for name, path in shipped_scenarios().items():
        print(f"{name:32s} {path}")
    return 0


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {value})")
    return value


def _counterfactual(text: str) -> Optional[bool]:
    choices = {"auto": None, "always": True, "never": False}
    if text not in choices:
        raise argparse.ArgumentTypeError(f"expected auto, always or never (got {text!r})")
    return choices[text]


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share from 0 to 1 (got {text!r})") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share above 0 and at most 1 (got {text})")
    return value


def _seed(text: str) -> int:
    return _non_negative(text)  # the upper bound is the scenario specification's, checked by the engine


def add_dask_arguments(parser) -> None:
    """--scheduler and --workers, read by _dask_client, for every command that runs many simulations."""
    parser.add_argument("--scheduler", help="address of a Dask scheduler to run the runs on")
    parser.add_argument("--workers", type=_positive,
                        help="run on a local Dask worker with N threads (the engine releases the GIL)")


def _gzip_level(text: str) -> int:
    value = _non_negative(text)
    if not 1 <= value <= 9:
        raise argparse.ArgumentTypeError(f"expected a gzip level from 1 to 9 (got {value})")
    return value


def add_output_arguments(parser, resume: bool = False) -> None:
    """--level and --compress, of plsim run and plsim resume (where they replace the run's own)."""
    default = "the level the run was started with" if resume else "school"
    parser.add_argument("--level", choices=OUTPUT_LEVELS, default=None if resume else "school",
                        help=f"write the tables by school, by district or nationally (n-weighted means, summed "
                             f"counts; docs/architecture.md, 'Output levels'; default: {default})")
    parser.add_argument("--compress", type=_gzip_level, nargs="?", const=1, default=None, metavar="LEVEL",
                        help="write the tables gzip-compressed (NAME.csv.gz) at LEVEL 1-9 (the flag alone: 1)"
                             + ("; default: as the run was started" if resume else ""))


def add_overwrite_arguments(parser) -> None:
    """--overwrite and --overwrite-all, of plsim run and plsim resume (plsim.outdir)."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier plsim run's outputs in --out (only files its .plsim-manifest.json "
                             "lists; a directory holding other files is refused)")
    parser.add_argument("--overwrite-all", action="store_true",
                        help="replace --out even if it holds files plsim did not write (they are deleted)")
    parser.add_argument("--max-memory", type=_memory_size, default=None, metavar="SIZE",
                        help="memory the run may use, e.g. 16G or 500M (default: the machine's memory); a run "
                             "estimated to need more is refused before it starts")


def _memory_size(text: str) -> int:
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


def add_checkpoint_arguments(parser) -> None:
    """--checkpoint and --stop-after-year, of plsim run and plsim resume."""
    parser.add_argument("--checkpoint", metavar="FILE",
                        help="save the whole run to FILE at every year end (continue it with plsim resume FILE); "
                             "Python hooks are saved by class name and plain-data state, never pickled")
    parser.add_argument("--stop-after-year", type=_positive, default=None, metavar="N",
                        help="stop once N school years are complete (with --checkpoint: resume it later)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plsim", description="Simulate personalized learning in schools and districts.")
    parser.add_argument("--version", action="version", version=f"plsim {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (errors are otherwise one line, exit code 2)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and print a summary")
    run.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    run.add_argument("--out", help="directory for summary.json and the tables (written completely, then moved "
                                   "into place)")
    add_overwrite_arguments(run)
    run.add_argument("--min-cell", type=_non_negative, default=None, metavar="N",
                     help="suppress the values of exported rows with fewer than N students (default: the "
                          "scenario's min_cell, 0)")
    run.add_argument("--threads", type=_non_negative, default=0, help="worker threads (0: all cores)")
    run.add_argument("--seed", type=_seed, default=None, help="override the scenario's seed")
    run.add_argument("--progress", action="store_true", help="show a progress bar")
    run.add_argument("--set", action="append", metavar="PATH=VALUE",
                     help="override a parameter (learning.learn_rate=0.1) or scenario path (districts/0/count=2)")
    run.add_argument("--responses", type=_share, nargs="?", const=0.1, default=None, metavar="SHARE",
                     help="log the adaptive-software practice of SHARE of the students (default 0.1) to "
                          "responses.csv: student, skill, subject, unit, year, week, correct (for plsim bkt fit)")
    run.add_argument("--study", action="store_true",
                     help="emulate a RAND-style matched evaluation: study.csv, study.png, summary.json 'study'")
    run.add_argument("--study-pool", choices=("twin", "traditional"), default="twin",
                     help="comparison pool of the study (default twin)")
    twin = run.add_mutually_exclusive_group()
    twin.add_argument("--counterfactual", dest="counterfactual", nargs="?", const=True, default=None,
                      type=_counterfactual, metavar="auto|always|never",
                      help="whether to run the counterfactual twin: always (the flag alone), never, or auto (the "
                           "default: the scenario's setting, when any school is personalized)")
    twin.add_argument("--no-counterfactual", dest="counterfactual", action="store_const", const=False,
                      help="do not run the counterfactual twin")
    add_output_arguments(run)
    add_checkpoint_arguments(run)
    run.set_defaults(func=cmd_run)

    resume = sub.add_parser(
        "resume", help="continue a run from its checkpoint and write its complete outputs",
        description="Continue a run from its checkpoint. Loading runs no code the file chooses: Python hooks are "
                    "stored by class name and plain-data state (never pickled); the class is imported by name, "
                    "must subclass plsim.Policy, Process or RolloutPlan, and its module must be importable here "
                    "(PYTHONPATH). Every field of the file is range-checked; a bad file is refused in one line.")
    resume.add_argument("checkpoint_file", metavar="FILE", help="a checkpoint of plsim run --checkpoint or Sim.save")
    resume.add_argument("--out", help="directory for summary.json and the tables (as plsim run --out)")
    add_overwrite_arguments(resume)
    resume.add_argument("--progress", action="store_true", help="show a progress bar")
    add_output_arguments(resume, resume=True)
    add_checkpoint_arguments(resume)
    resume.set_defaults(func=cmd_resume)

    ensemble = sub.add_parser("ensemble", help="run a scenario over many seeds; mean and spread of its effects")
    ensemble.add_argument("scenario")
    ensemble.add_argument("--seeds", type=_positive, default=10, help="number of seeds (default 10)")
    ensemble.add_argument("--first-seed", type=_seed, default=1, help="first seed (default 1)")
    ensemble.add_argument("--threads", type=_non_negative, default=0, help="worker threads per run (0: all cores)")
    ensemble.add_argument("--out", help="directory for ensemble.csv")
    ensemble.add_argument("--set", action="append", metavar="PATH=VALUE",
                          help="override a parameter or scenario path (repeatable)")
    add_dask_arguments(ensemble)
    ensemble.add_argument("--progress", action="store_true", help="show a progress bar")
    ensemble.set_defaults(func=cmd_ensemble)

    comparison = sub.add_parser("compare", help="run scenarios over the same seeds; costs, effects and "
                                                "cost-effectiveness side by side")
    comparison.add_argument("scenarios", nargs="+", help="scenario files or shipped names")
    comparison.add_argument("--seeds", type=_positive, default=3, help="seeds 1..N for every scenario (default 3)")
    comparison.add_argument("--threads", type=_non_negative, default=1, help="worker threads per run (default 1)")
    add_dask_arguments(comparison)
    comparison.add_argument("--out", help="directory for comparison.csv and comparison.png")
    comparison.set_defaults(func=cmd_compare)

    sweeping = sub.add_parser("sweep", help="run a scenario over a grid, Latin hypercube or Sobol design of overrides")
    sweeping.add_argument("scenario")
    sweeping.add_argument("--range", action="append", metavar="PATH=LO:HI", help="a swept path (repeatable)")
    sweeping.add_argument("--method", choices=("grid", "lhs", "sobol"), default="grid")
    sweeping.add_argument("--n", type=_positive, default=5, help="values per path (grid) or points (lhs, sobol)")
    sweeping.add_argument("--outputs", nargs="+", default=["effect_math_sd", "effect_reading_sd"])
    sweeping.add_argument("--seeds", type=_positive, default=1, help="seeds 1..N at every point")
    add_dask_arguments(sweeping)
    sweeping.add_argument("--out", help="directory for sweep.csv")
    sweeping.set_defaults(func=cmd_sweep)

    calibration = sub.add_parser("calibrate", help="fit override paths to target outputs with Optuna")
    calibration.add_argument("scenario")
    calibration.add_argument("--target", action="append", metavar="NAME=VALUE[:TOL]", required=True,
                             help="a named output and its target (repeatable)")
    calibration.add_argument("--range", action="append", metavar="PATH=LO:HI", help="a fitted path (repeatable)")
    calibration.add_argument("--trials", type=_positive, default=40)
    calibration.add_argument("--seeds", type=_positive, default=1, help="seeds 1..N in every trial")
    add_dask_arguments(calibration)
    calibration.add_argument("--out", help="directory for trials.csv and best.json")
    calibration.set_defaults(func=cmd_calibrate)

    report = sub.add_parser("report", help="write RUN_DIR/report.html from a plsim run --out directory")
    report.add_argument("run_dir")
    report.set_defaults(func=cmd_report)

    validate = sub.add_parser("validate", help="check a scenario file and list every error")
    validate.add_argument("scenario")
    validate.set_defaults(func=cmd_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument("--out", help="write to this file instead of standard output")
    schema.set_defaults(func=cmd_schema)

    params = sub.add_parser("params", help="print every model parameter: path, default, range, unit, doc")
    params.add_argument("match", nargs="?", help="only the parameters whose path contains this text")
    params.add_argument("--markdown", action="store_true", help="print docs/parameters.md (with sources)")
    params.set_defaults(func=cmd_params)

    init = sub.add_parser("init", help="write a scenario from a table of a district's schools")
    init.add_argument("--schools", required=True, help="CSV file, one row per school (see plsim.from_schools)")
    init.add_argument("--out", help="scenario file to write (default: standard output)")
    init.add_argument("--name", default="district", help="scenario name (default district)")
    init.add_argument("--years", type=_positive, default=5, help="school years to simulate (default 5)")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    init.set_defaults(func=cmd_init)

    listing = sub.add_parser("list", help="list the shipped scenarios")
    listing.set_defaults(func=cmd_list)

    bkt = sub.add_parser("bkt", help="Bayesian Knowledge Tracing from response logs")
    bkt_commands = bkt.add_subparsers(dest="bkt_command", metavar="COMMAND", required=True)
    fitting = bkt_commands.add_parser("fit", help="fit BKT to a response log, per skill, by EM")
    fitting.add_argument("train", metavar="TRAIN", help="response log: CSV with a header, or three lines per student")
    fitting.add_argument("--test", metavar="TEST", help="held-out log: its AUC of one-step-ahead predictions")
    fitting.add_argument("--json", metavar="OUT", help="write test_auc, train_log_likelihood, fit_seconds, n_skills, "
                         "params and the options to OUT")
    fitting.add_argument("--forgets", action="store_true", help="also fit a forget probability per skill")
    fitting.add_argument("--restarts", type=_positive, default=5, help="starting points per skill (default 5)")
    fitting.add_argument("--seed", type=_seed, default=0, help="seed of the starting points (default 0)")
    fitting.add_argument("--threads", type=_non_negative, default=0, help="threads (0: all cores)")
    fitting.add_argument("--tolerance", type=float, default=1e-6,
                         help="stop when an iteration gains less log-likelihood per response (default 1e-6)")
    fitting.add_argument("--max-iterations", type=_positive, default=200, help="EM iterations at most (default 200)")
    for column in ("skill", "student", "correct"):
        fitting.add_argument(f"--{column}", default=column, metavar="COLUMN",
                             help=f"column of the {column} in a CSV log (default {column})")
    fitting.set_defaults(func=cmd_bkt_fit)

    from .evidence import add_command as add_evidence_command  # plsim evidence: python/plsim/evidence.py

    add_evidence_command(sub)
    return parser


def cmd_bkt_fit(args) -> int:
    from . import bkt

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


# Errors that are the user's input, not plsim's bug: reported in one line (what, where, what to do),
# exit code 2, the traceback only with --debug.
def _input_errors() -> tuple:
    from ._core import CheckpointError
    from .district import SchoolTableError
    from .safe_io import FileRefused

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
    if isinstance(error, OSError) and error.strerror and not str(error).startswith(("plsim", "checkpoint")):
        where = f"{error.filename}: " if error.filename else ""
        return f"plsim {command}: {where}{error.strerror}; check the path and its permissions"
    errors = getattr(error, "errors", None)
    text = "; ".join(errors) if isinstance(errors, list) and errors else str(error)
    return " ".join(text.split())  # one line, however the message was built


if __name__ == "__main__":
    raise SystemExit(main())
