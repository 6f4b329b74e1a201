"""Ensemble benchmark (issue 13): "a 1,000-run ensemble of a 50,000-student district for one year takes
at most 5 minutes on 2 cores".

Runs district_station_rotation (49,920 students) for one year over seeds 1..N the way plsim.ensemble()
does: one plsim.RunPlan per seed (made and validated in this process), each run kept as the tables
ensemble() keeps (year summary, effects, assessments), then one plsim.ensemble.EnsembleResult with
its bands. Each run is timed in parts, so the report says where a run's time goes:

    set-up      Sim(): both arms' populations and classrooms (the policy run and its counterfactual twin)
    simulation  the engine's own clock of the simulation loop, both arms (Results::seconds)
    python      everything else: the plan (scenario override and validation), the rest of Sim.run(),
                the result tables (pandas), on Dask the sending of plans and results and idle worker
                threads, and the EnsembleResult (its share of a run)

per run of worker time (wall time x workers / runs). The import of plsim and the cluster's start and
stop are paid once an ensemble and reported apart. The progress bar (on a terminal, or --progress)
moves a run at a time in sequence, a task at a time on Dask (four tasks a worker, as ensemble() makes
them; `--chunk-size 10` moves it more often, at about 2% of the time).

Usage:
    .venv/bin/python bench/ensemble.py                        # 1,000 runs, the default layout
    .venv/bin/python bench/ensemble.py --runs 50 --json build/bench/ensemble.json
    .venv/bin/python bench/ensemble.py --runs 20 --compare    # every layout on the same seeds
    .venv/bin/python bench/ensemble.py --runs 20 --workers 0 --profile build/bench/ensemble.prof

Layouts: `--workers 0` runs the runs one after another in this process, each on `--threads` engine
threads (default 2); `--workers W` (default 2) starts a Dask LocalCluster: one in-process worker of W
threads (the layout of `plsim ensemble --workers W`), or with `--processes` W worker processes of one
thread each; each run on `--threads` engine threads (default 1). `--compare` runs all three on the same
seeds. With fewer than 1,000 runs the time of 1,000 is projected: the import and the cluster's start
and stop once, the rest in proportion. Pass/fail is that time against 300 s.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

TARGET_RUNS = 1000
TARGET_SECONDS = 300.0
# The default layout: two runs at once, each on 1 engine thread, on one in-process Dask worker of 2
# threads. Runs in sequence on 2 engine threads leave a core idle during a run's Python part (the plan
# and the pandas tables: about 20 ms of a 90 ms run); 2 worker processes of 1 thread avoid that too,
# but pay for the cluster's start (about 1.3 s), for sending plans and results between processes and
# for two interpreters. Projected 1,000-run times on this 2-core VM (40 runs, idle, 2026-12-01):
# in-process worker 85 s, 2 processes 89 s, in sequence 91 s (see --compare).
DEFAULT_WORKERS = 2
DEFAULT_PROCESSES = False


# ----------------------------------------------------------------------------------------------------
# One run, timed in parts (module level: Dask sends these functions to its workers)

def timed_run(plan) -> tuple:
    """What plsim.ensemble._run_tables(plan) returns, and the run's timing: plan.run() split into Sim()
    (set-up) and Sim.run(), then the tables, from the same function as the ensemble's."""
    from plsim.sim import Sim

    try:
        from plsim.ensemble import _tables_of
    except ImportError:  # a plsim installed before _tables_of: the tables as its _run_tables made them
        _tables_of = _legacy_tables_of

    t0 = time.perf_counter()
    sim = Sim(plan.scenario, threads=plan.threads, counterfactual=plan.counterfactual)  # as RunPlan.run
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    tables = _tables_of(plan, sim)
    t3 = time.perf_counter()
    arms = sim._arms()  # the policy run and, when it ran, its counterfactual twin
    engine = sum(core.counts["seconds"] for _, core in arms)
    schedule = sim.schedule  # the engine's stages, with their wall time summed over the arms
    stages = {row.stage: row.wall_seconds for row in schedule.itertuples() if row.calls > 0}
    timing = {"setup": t1 - t0, "simulation": engine, "run_python": (t2 - t1) - engine, "tables": t3 - t2,
              "stages": stages, "bench": time.perf_counter() - t3,
              "student_weeks": sim.counts["student_weeks"],
              "student_weeks_simulated": sum(core.counts["student_weeks"] for _, core in arms),
              "students": sim.counts["students"], "weeks": sim.counts["weeks_simulated"],
              "twin": sim.has_counterfactual, "threads": sim._core.threads_used}
    return tables, timing


def _legacy_tables_of(plan, sim) -> dict:
    import pandas as pd

    from plsim.ensemble import _year_summary

    effects = sim.effects if sim.has_counterfactual else pd.DataFrame()
    return {"seed": plan.seed, "overrides": plan.overrides, "summary": _year_summary(sim), "effects": effects,
            "assessments": sim.assessments, "seconds": sim.counts["seconds"]}


def _warm_up() -> None:
    import importlib

    for name in ("plsim.sim", "plsim.ensemble"):
        importlib.import_module(name)


def timed_chunk(plans) -> list:
    """Several runs in one Dask task, as plsim.ensemble._run_chunk; the task's own wall time too."""
    start = time.perf_counter()
    out = [timed_run(plan) for plan in plans]
    return out, time.perf_counter() - start


# ----------------------------------------------------------------------------------------------------
# Machine facts

def _busy_seconds() -> float:
    """CPU seconds the whole machine was busy (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        t = [float(x) for x in f.readline().split()[1:9]]
    return (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and every live process below it (Dask's nanny and workers)."""
    try:
        import psutil
    except ImportError:  # without psutil only this process (and children it has waited for)
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def _load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ----------------------------------------------------------------------------------------------------
# One ensemble

def _client(workers: int, processes: bool):
    from dask.distributed import Client, LocalCluster

    if processes:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    else:  # plsim ensemble --workers W: one in-process worker with W threads
        cluster = LocalCluster(n_workers=1, threads_per_worker=workers, processes=False, dashboard_address=None)
    return Client(cluster)


def run_ensemble(*, scenario: str, runs: int, first_seed: int, years: int, counterfactual: str, workers: int,
                 processes: bool, threads: int, chunk_size: int = 0, progress: bool = False,
                 profile: str | None = None) -> dict:
    """Runs the ensemble and returns its figures (see the module's docstring)."""
    wall_start = time.perf_counter()
    busy0, own0 = _busy_seconds(), _own_cpu_seconds()
    load_at_start = _load_average()

    import plsim  # in the wall time: an ensemble's user imports it too (once: fast the second time)
    from plsim.ensemble import EnsembleResult, _draw
    from plsim.plan import RunPlan
    import_seconds = time.perf_counter() - wall_start

    t = time.perf_counter()
    client = _client(workers, processes) if workers > 0 else None
    if client is not None and __name__ != "__main__":  # imported: send this module's functions by value
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    if client is not None:  # each worker imports plsim once: part of the start, not of the first runs
        client.run(_warm_up)
    cluster_start = time.perf_counter() - t

    # As plsim.ensemble.ensemble(): the scenario once, then a RunPlan per seed (each validated).
    t = time.perf_counter()
    base = plsim.load_scenario(scenario, years=years, counterfactual=counterfactual)
    seeds = list(range(first_seed, first_seed + runs))
    plans = [RunPlan(base, seed=s, overrides=_draw({}, s), threads=threads) for s in seeds]
    plans_seconds = time.perf_counter() - t

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=runs, unit="run", desc=f"{base.name} x{runs}", file=sys.stderr)
    profiler = None
    results, task_seconds = [], []
    t = time.perf_counter()
    try:
        if client is None:
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            for plan in plans:
                results.append(timed_run(plan))
                if bar is not None:
                    bar.update(1)
            if profiler is not None:
                profiler.disable()
        else:
            from dask.distributed import as_completed

            # As ensemble(): about four tasks per worker, each a chunk of consecutive plans.
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
            size = chunk_size or max(1, -(-len(plans) // (4 * n_workers)))
            chunks = [plans[i:i + size] for i in range(0, len(plans), size)]
            futures = [client.submit(timed_chunk, chunk, pure=False) for chunk in chunks]
            index = {f.key: i for i, f in enumerate(futures)}
            for future in as_completed(futures):
                if bar is not None:
                    bar.update(len(chunks[index[future.key]]))
            for out, seconds in client.gather(futures):
                results.extend(out)
                task_seconds.append(seconds)
    finally:
        if bar is not None:
            bar.close()
    runs_wall = time.perf_counter() - t

    t = time.perf_counter()
    result = EnsembleResult([tables for tables, _ in results], base.name)
    bands = result.bands()
    aggregate_seconds = time.perf_counter() - t

    busy1, own1 = _busy_seconds(), _own_cpu_seconds()
    t = time.perf_counter()
    if client is not None:
        cluster = client.cluster
        client.close()
        cluster.close()
    cluster_stop = time.perf_counter() - t
    wall = time.perf_counter() - wall_start
    others = max(0.0, (busy1 - busy0) - (own1 - own0)) / wall if wall > 0 else 0.0

    timings = [timing for _, timing in results]
    n = len(timings)

    def per_run(key):
        return sum(x[key] for x in timings) / n

    slots = 1 if client is None else workers
    setup, simulation = per_run("setup"), per_run("simulation")
    run_python, tables_s = per_run("run_python"), per_run("tables")
    bench_own = per_run("bench")  # this script's own reading of sim.schedule (not in the split)
    inside = setup + simulation + run_python + tables_s
    # Worker-seconds per run not spent inside a run: sending plans and results, scheduling, idle tails.
    dispatch = max(0.0, slots * runs_wall / n - inside - bench_own)
    plan_s = plans_seconds / n
    per_run_total = slots * runs_wall / n - bench_own + plan_s + aggregate_seconds / n  # worker-seconds a run
    stage_names = sorted({k for x in timings for k in x["stages"]}, key=lambda k: -sum(
        x["stages"].get(k, 0.0) for x in timings))
    stages = {k: sum(x["stages"].get(k, 0.0) for x in timings) / n for k in stage_names}
    python = plan_s + run_python + tables_s + dispatch + aggregate_seconds / n
    student_weeks = sum(x["student_weeks"] for x in timings)
    simulated = sum(x["student_weeks_simulated"] for x in timings)
    fixed = import_seconds + cluster_start + cluster_stop  # once an ensemble, whatever its size
    projected = fixed + (wall - fixed) * TARGET_RUNS / runs
    seconds_for_target = wall if runs == TARGET_RUNS else projected

    figures = {
        "scenario": base.name,
        "students": timings[0]["students"],
        "years": base.years,
        "weeks_per_run": timings[0]["weeks"],
        "runs": runs,
        "seeds": [seeds[0], seeds[-1]],
        "counterfactual": {"setting": counterfactual, "twin_ran": bool(timings[0]["twin"])},
        "layout": {"workers": workers, "processes": bool(processes) if workers else None,
                   "threads_per_run": threads, "threads_used_per_run": timings[0]["threads"],
                   "description": layout_name(workers, processes, threads),
                   "tasks": len(task_seconds) if client is not None else None},
        "wall_seconds": wall,
        "runs_per_second": runs / wall,
        "student_weeks": student_weeks,
        "student_weeks_simulated": simulated,
        "student_weeks_per_second": student_weeks / wall,
        "simulated_student_weeks_per_second": simulated / wall,
        "per_run_seconds": {"setup": setup, "simulation": simulation, "plan": plan_s, "run_python": run_python,
                            "tables": tables_s, "dispatch": dispatch, "aggregate": aggregate_seconds / n,
                            "python": python, "total": per_run_total, "benchmark_own": bench_own},
        "simulation_stages_seconds": stages,
        "split": {"setup": setup / per_run_total, "simulation": simulation / per_run_total,
                  "python": python / per_run_total},
        "fixed_seconds": {"import": import_seconds, "cluster_start": cluster_start, "cluster_stop": cluster_stop,
                          "plans": plans_seconds, "aggregate": aggregate_seconds, "runs_wall": runs_wall,
                          "in_tasks": sum(task_seconds) if client is not None else None},
        "projected_seconds_1000": projected,
        "target": {"runs": TARGET_RUNS, "seconds": TARGET_SECONDS, "seconds_for_runs": seconds_for_target,
                   "measured": runs == TARGET_RUNS, "pass": seconds_for_target <= TARGET_SECONDS},
        "other_processes_cores": others,
        "bands": json.loads(bands.to_json(orient="records")),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_at_start,
                    "python": platform.python_version(), "plsim": plsim.__version__},
    }
    if profiler is not None:
        profiler.dump_stats(profile)
        figures["profile"] = profile
    return figures


def layout_name(workers: int, processes: bool, threads: int) -> str:
    t = f"{threads} engine thread{'s' if threads != 1 else ''}" if threads else "every core"
    if workers == 0:
        return f"in sequence, {t} a run"
    if processes:
        return f"{workers} Dask worker process{'es' if workers != 1 else ''} x 1 thread, {t} a run"
    return f"1 in-process Dask worker x {workers} threads, {t} a run"


# ----------------------------------------------------------------------------------------------------
# Report

def report(f: dict, out=sys.stdout) -> None:
    p = f["per_run_seconds"]
    cf = f["counterfactual"]
    print(f"plsim ensemble benchmark: {f['scenario']}, {f['students']:,} students, {f['years']} year(s), "
          f"{f['runs']} runs (seeds {f['seeds'][0]}-{f['seeds'][1]}), counterfactual {cf['setting']} "
          f"(twin {'ran' if cf['twin_ran'] else 'not run'})", file=out)
    print(f"  layout      {f['layout']['description']}", file=out)
    fx = f["fixed_seconds"]
    print(f"  wall        {f['wall_seconds']:.2f} s  ({f['runs_per_second']:.2f} runs/s; once: import "
          f"{fx['import']:.2f} s, cluster start {fx['cluster_start']:.2f} s and stop {fx['cluster_stop']:.2f} s; "
          f"plans {fx['plans']:.2f} s, EnsembleResult {fx['aggregate']:.2f} s)", file=out)
    twin = (f" ({f['simulated_student_weeks_per_second'] / 1e6:.2f} M simulated, with the twin)"
            if cf["twin_ran"] else "")
    print(f"  throughput  {f['student_weeks_per_second'] / 1e6:.2f} M student-weeks/s of the scenario{twin}",
          file=out)
    total = p["total"]
    print(f"  per run     {1e3 * total:.1f} ms of worker time: set-up {1e3 * p['setup']:.1f} ms "
          f"({100 * f['split']['setup']:.0f}%), simulation {1e3 * p['simulation']:.1f} ms "
          f"({100 * f['split']['simulation']:.0f}%), python {1e3 * p['python']:.1f} ms "
          f"({100 * f['split']['python']:.0f}%)", file=out)
    st = f["simulation_stages_seconds"]
    print("  simulation  " + ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in st.items() if v >= 1e-4) +
          " (the engine's stages, sim.schedule)", file=out)
    print(f"  python      plan {1e3 * p['plan']:.2f} ms, run {1e3 * p['run_python']:.2f} ms, tables "
          f"{1e3 * p['tables']:.2f} ms, dispatch/idle {1e3 * p['dispatch']:.2f} ms, EnsembleResult "
          f"{1e3 * p['aggregate']:.2f} ms", file=out)
    t = f["target"]
    what = "measured" if t["measured"] else f"projected from {f['runs']}"
    print(f"  target      {t['runs']:,} runs in at most {t['seconds']:.0f} s: {t['seconds_for_runs']:.1f} s "
          f"({what}): {'PASS' if t['pass'] else 'FAIL'}", file=out)
    if f["other_processes_cores"] > 0.1:
        print(f"  WARNING: other processes kept {f['other_processes_cores']:.2f} cores busy during the run; "
              f"these figures are pessimistic.", file=out)


def compare_table(rows: list, out=sys.stdout) -> None:
    print("\n| layout | wall s | runs/s | per run ms: set-up / simulation / python | 1,000 runs s | target | others |",
          file=out)
    print("|--------|-------:|-------:|------------------------------------------:|-------------:|--------|-------:|",
          file=out)
    for f in rows:
        p = f["per_run_seconds"]
        print(f"| {f['layout']['description']} | {f['wall_seconds']:.2f} | {f['runs_per_second']:.2f} | "
              f"{1e3 * p['setup']:.1f} / {1e3 * p['simulation']:.1f} / {1e3 * p['python']:.1f} | "
              f"{f['target']['seconds_for_runs']:.1f} | {'pass' if f['target']['pass'] else 'FAIL'} | "
              f"{f['other_processes_cores']:.2f} |", file=out)
    print("others: cores other processes kept busy (from /proc/stat); compare rows near 0 only.", file=out)


def print_profile(path: str, out=sys.stdout, limit: int = 25) -> None:
    import pstats

    print(f"\n  cProfile of the runs ({path}), by cumulative time:", file=out)
    pstats.Stats(path, stream=out).sort_stats("cumulative").print_stats(limit)


# ----------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from plsim.commands.args import non_negative, positive  # the CLI's argument types

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=positive, default=TARGET_RUNS,
                        help="runs (seeds) in the ensemble (default 1000)")
    parser.add_argument("--first-seed", type=non_negative, default=1, help="first seed (default 1)")
    parser.add_argument("--scenario", default="district_station_rotation",
                        help="scenario file or shipped name (default district_station_rotation)")
    parser.add_argument("--years", type=positive, default=1, help="school years a run (default 1)")
    parser.add_argument("--workers", type=non_negative, default=None,
                        help=f"Dask workers (0: runs in sequence in this process; default {DEFAULT_WORKERS})")
    parser.add_argument("--processes", action=argparse.BooleanOptionalAction, default=DEFAULT_PROCESSES,
                        help="Dask workers are W processes of one thread (--processes), or W threads of one "
                             "in-process worker (--no-processes, the default: the layout of plsim ensemble "
                             "--workers W)")
    parser.add_argument("--threads", type=non_negative, default=None,
                        help="engine threads a run (0: every core; default 1 on Dask workers, 2 in sequence)")
    twin = parser.add_mutually_exclusive_group()
    twin.add_argument("--counterfactual", choices=("auto", "always", "never"), default="auto",
                      help="the scenario's counterfactual setting (default auto, as plsim ensemble: the twin runs "
                           "when any school is personalized)")
    twin.add_argument("--no-counterfactual", dest="counterfactual", action="store_const", const="never",
                      help="no counterfactual twin (effects are then NaN)")
    parser.add_argument("--chunk-size", type=non_negative, default=0,
                        help="runs a Dask task (default 0: as plsim.ensemble, about four tasks a worker)")
    parser.add_argument("--compare", action="store_true",
                        help="run every layout (in sequence x 2 threads, 2 processes x 1 thread, 1 in-process "
                             "worker x 2 threads) on the same seeds and print a table")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the runs (in sequence only) to FILE and print the top entries")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar (default: when stderr is a terminal)")
    parser.add_argument("--json", metavar="FILE", help="write the figures to FILE")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message="make_current is deprecated")
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.compare:
        layouts = [(0, True, 2), (2, True, 1), (2, False, 1)]
    else:
        workers = DEFAULT_WORKERS if args.workers is None else args.workers
        if args.profile:
            workers = 0
        threads = args.threads if args.threads is not None else (2 if workers == 0 else 1)
        layouts = [(workers, args.processes, threads)]
    rows = []
    for workers, processes, threads in layouts:
        figures = run_ensemble(scenario=args.scenario, runs=args.runs, first_seed=args.first_seed, years=args.years,
                               counterfactual=args.counterfactual, workers=workers, processes=processes,
                               threads=threads, chunk_size=args.chunk_size, progress=progress,
                               profile=args.profile)
        report(figures)
        rows.append(figures)
    if args.compare:
        compare_table(rows)
    if args.profile:
        print_profile(args.profile)
    if args.json:
        out = {"layouts": rows} if args.compare else rows[0]
        out["command"] = ["bench/ensemble.py", *(sys.argv[1:] if argv is None else argv)]
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"  figures written to {args.json}")
    return 0


if __name__ == "__main__":  # Dask's worker processes import this file again: start nothing then
    sys.exit(main())
