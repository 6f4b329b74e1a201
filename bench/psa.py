"""PSA benchmark (issue 22): "the four grant strategies, 500 draws, 5 years, in at most 10 minutes on
this 2-core machine (1.2 s per draw for four strategies), results identical on 1 and 2 workers and on
Dask; say where the time goes".

Runs what `plsim compare scenarios/grants/*.json --uncertainty priors --draws N --seeds 1` runs: the
priors' Latin hypercube of N draws, every strategy under every draw on seed 1, each run a task on the
worker processes of plsim.pool (a fork server that imported plsim once; `--processes`, default every
core), the results in task order; then the decision summaries and the EVPPI regressions. Each run is
timed in parts inside its worker:

    plan     overrides of the draw applied to the scenario and validated (plsim.RunPlan)
    setup    both arms' populations, teachers and classrooms (the policy run and its counterfactual twin)
    engine   the engine's clock of both arms' simulation loops
    python   the rest: Sim.run's Python, the cost and subgroup tables the row is read from

and the wall time of the whole is split into the pool's start, the runs, and the summaries (CEAC, EVPI,
the EVPPI's spline regressions). `--check-workers D` first runs D draws on 1 worker and on
`--processes` workers (and, with --dask, on a local Dask cluster) and asserts the tables are identical.
With fewer draws than 500, the time of 500 is projected: the pool's start once, the runs and the
summaries in proportion (the EVPPI fits grow faster than the draws: measured, not projected, at 500).

Usage:
    .venv/bin/python bench/psa.py                               # 500 draws: the issue's figure
    .venv/bin/python bench/psa.py --draws 20 --json build/bench/psa.json
    .venv/bin/python bench/psa.py --draws 40 --check-workers 4 --dask
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

TARGET_DRAWS = 500
TARGET_SECONDS = 600.0
ROOT = Path(__file__).resolve().parents[1]


def run(draws: int, processes, seeds=(1,), out=None) -> dict:
    """The PSA of the four grant strategies, timed; returns the figures and the PSA."""
    import numpy as np
    import pandas as pd

    from plsim.pool import Pool, available_cores
    from plsim.psa import PSA, run_draw_timed, uncertainty_draws
    from plsim.scenarios import load_scenario

    t0 = time.perf_counter()
    scenarios = [load_scenario(p) for p in sorted((ROOT / "scenarios" / "grants").glob("*.json"))]
    parameters, groups, source = uncertainty_draws("priors", scenarios, draws, 0)
    tasks = [(s.document, s.resolved["parameters"], parameters.loc[d].to_dict(), k, d, s.name)
             for d in parameters.index for s in scenarios for k in seeds]
    t1 = time.perf_counter()
    workers = processes or available_cores()
    with Pool(workers=workers) as pool:
        list(pool.imap(available_cores, [()] * workers))  # the pool's start, apart from the runs
        t2 = time.perf_counter()
        results = list(pool.imap(run_draw_timed, [t[:4] for t in tasks]))
        t3 = time.perf_counter()
    runs = pd.DataFrame([{"draw": t[4], "scenario": t[5], "seed": t[3], **row} for t, (row, _) in zip(tasks, results)])
    result = PSA(runs, parameters, groups, [s.name for s in scenarios], scenarios[0].years,
                 {"uncertainty": source, "draws": draws, "seeds": list(seeds), "draw_seed": 0,
                  "interval": "90% of the parameter draws; each draw the mean of the seeds"})
    t4 = time.perf_counter()
    summary, ceac, evpi = result.summary(), result.ceac(), result.evpi()
    t5 = time.perf_counter()
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evppi = result.evppi()
    t6 = time.perf_counter()
    if out:
        result.write(out)
    parts = {k: float(np.sum([timing[k] for _, timing in results])) for k in ("plan", "setup", "engine", "python")}
    cpu = float(np.sum([timing["cpu"] for _, timing in results]))
    n_runs = len(tasks)
    figures = {
        "strategies": result.order, "draws": draws, "seeds": list(seeds), "years": result.years, "runs": n_runs,
        "workers": workers, "cores": available_cores(), "machine": platform.node(), "python": sys.version.split()[0],
        "wall_seconds": t6 - t0, "seconds_per_draw": (t6 - t0) / draws,
        "phases": {"prepare": t1 - t0, "pool_start": t2 - t1, "runs": t3 - t2, "tables": t4 - t3,
                   "summaries": t5 - t4, "evppi": t6 - t5},
        "per_run_worker_seconds": {k: v / n_runs for k, v in parts.items()},
        "worker_busy_share": sum(parts.values()) / (workers * (t3 - t2)),
        # CPU seconds the workers' processes got, against the wall time they were busy: below 1, other
        # processes on the machine took the cores part of the time.
        "cpu_seconds_per_run": cpu / n_runs, "cpu_share_of_wall": cpu / sum(parts.values()),
        "load_average_1min_at_end": os.getloadavg()[0],
        "evppi_overfit_warnings": len(caught),
    }
    scale = TARGET_DRAWS / draws
    figures["projected_seconds_500"] = (t2 - t0) + scale * (t3 - t2 + t5 - t3) + (t6 - t5) * (scale if draws < TARGET_DRAWS else 1)
    figures["meets_target"] = figures["projected_seconds_500"] <= TARGET_SECONDS
    # On a machine with nothing else running: the runs' CPU time shared by the workers, the rest as measured.
    figures["projected_seconds_500_idle"] = (t2 - t0) + scale * (cpu / workers + t5 - t3) + (t6 - t5) * (
        scale if draws < TARGET_DRAWS else 1)
    figures["table"] = _headline(summary, ceac, evpi, evppi, result.wtps)
    return {"figures": figures, "psa": result}


def _headline(summary, ceac, evpi, evppi, wtps) -> dict:
    """The closing note's table: means and 90% intervals, probability best at two prices, EVPI and the
    top three EVPPI groups."""
    out = {"strategies": summary.round(6).to_dict("records"), "probability_best": {}, "evpi": {}, "evppi_top3": {}}
    for w in wtps:
        c = ceac[ceac["wtp"] == w]
        out["probability_best"][f"{w:g}"] = dict(zip(c["scenario"], c["probability_best"]))
        out["evpi"][f"{w:g}"] = evpi[evpi["wtp"] == w][["evpi", "evpi_per_year", "choice"]].iloc[0].to_dict()
        top = evppi[evppi["wtp"] == w].sort_values("evppi", ascending=False).head(3)
        out["evppi_top3"][f"{w:g}"] = top[["group", "evppi_per_year", "share_of_evpi", "overfit"]].to_dict("records")
    return out


def check_workers(draws: int, processes, dask: bool) -> dict:
    """The same draws on 1 worker, on `processes` workers and (with dask) on a local Dask cluster: the
    tables must be identical."""
    import pandas as pd

    from plsim.psa import psa

    paths = sorted((ROOT / "scenarios" / "grants").glob("*.json"))
    one = psa(paths, draws=draws, seeds=[1], workers=1)
    many = psa(paths, draws=draws, seeds=[1], workers=processes)
    pd.testing.assert_frame_equal(one.table, many.table)
    out = {"draws": draws, "identical_1_and_n_workers": True}
    if dask:
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            on_dask = psa(paths, draws=draws, seeds=[1], client=client)
        pd.testing.assert_frame_equal(one.table, on_dask.table)
        out["identical_on_dask"] = True
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=TARGET_DRAWS)
    ap.add_argument("--processes", type=int, default=None, help="worker processes (default: every core)")
    ap.add_argument("--check-workers", type=int, default=0, metavar="D",
                    help="first compare D draws on 1 and --processes workers (and Dask with --dask)")
    ap.add_argument("--dask", action="store_true", help="with --check-workers: also on a local Dask cluster")
    ap.add_argument("--out", help="write the PSA's files here (as plsim compare --out)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    figures = {}
    if args.check_workers:
        figures["check"] = check_workers(args.check_workers, args.processes or 2, args.dask)
        print(f"identical on 1 and {args.processes or 2} workers" + (" and on Dask" if args.dask else "") +
              f" ({args.check_workers} draws)")
    result = run(args.draws, args.processes, out=args.out)
    f = result["figures"]
    figures.update(f)
    p, r = f["phases"], f["per_run_worker_seconds"]
    print(f"{len(f['strategies'])} strategies x {f['draws']} draws x {f['years']} years ({f['runs']} runs) on "
          f"{f['workers']} worker processes: {f['wall_seconds']:.1f} s ({f['seconds_per_draw']:.2f} s a draw)")
    print(f"  phases: prepare {p['prepare']:.1f} s, pool start {p['pool_start']:.1f} s, runs {p['runs']:.1f} s, "
          f"tables {p['tables']:.1f} s, summaries {p['summaries']:.1f} s, EVPPI {p['evppi']:.1f} s")
    print(f"  a run, in worker seconds: plan {r['plan']:.3f}, setup {r['setup']:.3f}, engine {r['engine']:.3f}, "
          f"python {r['python']:.3f}; workers busy {f['worker_busy_share']:.0%} of the runs' wall time")
    print(f"  CPU: {f['cpu_seconds_per_run']:.3f} s a run, {f['cpu_share_of_wall']:.0%} of the workers' busy wall time "
          f"(the rest waiting for a core; load average {f['load_average_1min_at_end']:.1f} at the end)")
    print(f"  500 draws: {f['projected_seconds_500']:.0f} s {'(projected)' if f['draws'] < TARGET_DRAWS else ''} "
          f"against {TARGET_SECONDS:.0f} s: {'meets' if f['meets_target'] else 'MISSES'} the target; on an idle "
          f"machine (the runs' CPU time over {f['workers']} workers) {f['projected_seconds_500_idle']:.0f} s")
    print(result["psa"].format())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
