"""plsim run and plsim resume: a run (or its continuation from a checkpoint) to its end or to
--stop-after-year, checkpoints at year ends, the printed summary, the small-cell rule and the tables
written into --out (staged beside it, then swapped in)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Optional

from ..checkpoint import CheckpointError, read
from ..csvio import write_csv
from ..levels import OUTPUT_LEVELS, aggregate
from ..notes import explain
from ..outdir import publish, staging_dir, write_manifest
from ..progress import progress_bar
from ..results import growth_by_grade
from ..sim import Sim
from ..study import plot as study_plot
from ..study import summarize as study_summary
from ..tables import TABLES
from ..version import __version__
from .args import (add_checkpoint_arguments, add_output_arguments, add_overwrite_arguments, check_out_dir,
                   counterfactual_choice, load_scenario_with_sets, non_negative, seed_number, share)

#: Columns that identify a row of any table (plsim.tables): what the small-cell rule keeps.
ALL_KEYS = frozenset(k for spec in TABLES.values() for k in spec.keys)


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
    for note in summary.get("notes") or ():
        print(f"  note        {note}")
    g = growth_by_grade(sim.assessments)
    if not g.empty:
        table = g.pivot(index="grade", columns="subject", values="growth").round(1)
        norms = g.pivot(index="grade", columns="subject", values="norm_growth")
        print("  fall-to-spring growth in year 1, RIT (national norm):")
        for grade, row in table.iterrows():
            label = "K" if grade == 0 else str(grade)
            cells = "  ".join(f"{s} {row[s]:5.1f} ({norms.loc[grade, s]:4.1f})" for s in table.columns)
            print(f"    grade {label:>2}  {cells}")


def suppress_small_cells(table, min_cell: int, keys=None):
    """Rows of an exported table with fewer than `min_cell` students (its `n`) keep their keys (`keys`,
    default: the key columns of every table of plsim.tables) and n but lose every other value (NaN),
    and are marked `suppressed`, so no small group can be read off."""
    if not min_cell or "n" not in table:
        return table
    out = table.copy()
    small = out["n"] < min_cell
    kept = {"n", "schools", *(ALL_KEYS if keys is None else keys)}
    for column in out.columns:
        if column not in kept and out[column].dtype.kind in "fiu":
            out[column] = out[column].astype(float).where(~small)
    out["suppressed"] = small
    return out


def cmd_run(args) -> int:
    problem = check_out_dir(args.out, args, "run") or _check_checkpoint(args.checkpoint, "run")
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
    problem = check_out_dir(args.out, args, "resume") or _check_checkpoint(args.checkpoint, "resume")
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
        bar = progress_bar(total=years * sim._core.weeks_per_year * len(sim._arms()), unit="week")
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
        study = sim.study(pool=options["study_pool"])
        quintiles = sim.study_by_prior_quintile(pool=options["study_pool"])
        summary["study"] = {"pool": options["study_pool"], **study_summary(study),
                            "by_prior_quintile": quintiles.to_dict("records")}
    notes = explain(sim, study)
    if notes:
        summary["notes"] = notes
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

    try:
        summary["min_cell"] = min_cell
        summary["level"] = level
        if compress is not None:
            summary["compress"] = compress
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        for spec in TABLES.values():  # the tables as plsim.tables declares them, in its order
            if not spec.written(sim, {"study": study}):
                continue
            frame = study if spec.name == "study" else sim.tables.frame(spec.name)
            frame = aggregate(frame.drop(columns=list(spec.csv_drops)), spec.name, level, schools=schools)
            if spec.suppress:
                frame = suppress_small_cells(frame, min_cell, keys=spec.keys)
            formats = {} if spec.float_format is None else {"float_format": spec.float_format}
            write_csv(frame, out / f"{spec.name}{suffix}", compress=compress, **formats)
            written.append(f"{spec.name}{suffix}")
            if spec.name == "study" and len(study):
                study_plot(study, out / "study.png")  # the school estimates against the truth, at any level
                written.append("study.png")
        write_manifest(out, written, "run")
        publish(out, final)
    finally:
        if out.exists():  # a failed write leaves nothing behind
            shutil.rmtree(out)
    return written

def add_parsers(sub) -> None:
    """plsim run and plsim resume."""
    run = sub.add_parser("run", help="run a scenario and print a summary")
    run.add_argument("scenario", help="scenario file, or the name of a shipped scenario")
    run.add_argument("--out", help="directory for summary.json and the tables (written completely, then moved "
                                   "into place)")
    add_overwrite_arguments(run)
    run.add_argument("--min-cell", type=non_negative, default=None, metavar="N",
                     help="suppress the values of exported rows with fewer than N students (default: the "
                          "scenario's min_cell, 0)")
    run.add_argument("--threads", type=non_negative, default=0, help="worker threads (0: all cores)")
    run.add_argument("--seed", type=seed_number, default=None, help="override the scenario's seed")
    run.add_argument("--progress", action="store_true", help="show a progress bar")
    run.add_argument("--set", action="append", metavar="PATH=VALUE",
                     help="override a parameter (learning.learn_rate=0.1) or scenario path (districts/0/count=2)")
    run.add_argument("--responses", type=share, nargs="?", const=0.1, default=None, metavar="SHARE",
                     help="log the adaptive-software practice of SHARE of the students (default 0.1) to "
                          "responses.csv: student, skill, subject, unit, year, week, correct (for plsim bkt fit)")
    run.add_argument("--study", action="store_true",
                     help="emulate a RAND-style matched evaluation: study.csv, study.png, summary.json 'study'")
    run.add_argument("--study-pool", choices=("twin", "traditional"), default="twin",
                     help="comparison pool of the study (default twin)")
    twin = run.add_mutually_exclusive_group()
    twin.add_argument("--counterfactual", dest="counterfactual", nargs="?", const=True, default=None,
                      type=counterfactual_choice, metavar="auto|always|never",
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
