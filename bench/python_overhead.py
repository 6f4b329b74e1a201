"""Overhead of a Python policy against the built-in model it re-implements.

Runs district_station_rotation (one year, no counterfactual twin) with the built-in station_rotation
and with a Python plsim.Policy giving the same minutes every week (bit-identical results are checked),
alternating the two `--repeats` times, and reports the median wall-clock time of each and the
overhead. Usage:

    .venv/bin/python bench/python_overhead.py [--threads N] [--repeats R] [--per-student]

`--per-student` makes the policy return a (n_students, n_modes) array every week instead of one row.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import numpy as np
import pandas as pd

import plsim

ROTATION = np.array([75.0, 75.0, 75.0, 75.0, 0.0])


class PythonRotation(plsim.Policy):
    name = "python_rotation"
    small_groups = 4
    regroup_weeks = 6
    asks = {"learner_profiles": 0.5, "learning_paths": 0.5, "competency_progression": 0.0,
            "flexible_environment": 0.4}
    default_minutes = dict(zip(plsim.MODES, ROTATION))

    def __init__(self, per_student: bool):
        self.per_student = per_student

    def minutes(self, ctx):
        if self.per_student:
            return np.broadcast_to(ROTATION, (ctx.n_students, len(plsim.MODES)))
        return ROTATION


def scenarios():
    builtin = plsim.load_scenario("district_station_rotation").document
    builtin["years"] = 1
    python = copy.deepcopy(builtin)
    for group in python["districts"][0]["schools"]:
        if "models" in group:
            group["models"] = {("python_rotation" if k == "station_rotation" else k): v for k, v in group["models"].items()}
    return builtin, python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--per-student", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    builtin, python = scenarios()
    times = {"built-in": [], "python": []}
    results = {}
    for _ in range(args.repeats):
        for label in times:
            if label == "built-in":
                sim = plsim.Sim(builtin, threads=args.threads, counterfactual=False)
            else:
                sim = plsim.Sim(python, threads=args.threads, counterfactual=False,
                                policies=[PythonRotation(args.per_student)])
            start = time.perf_counter()
            sim.run()
            times[label].append(time.perf_counter() - start)
            results[label] = sim.assessments
    pd.testing.assert_frame_equal(results["built-in"], results["python"], check_exact=True)
    built_in, py = statistics.median(times["built-in"]), statistics.median(times["python"])
    figures = {"scenario": "district_station_rotation", "years": 1, "threads": sim.threads,
               "students": sim.counts["students"], "per_student_minutes": args.per_student,
               "median_seconds_builtin": built_in, "median_seconds_python": py,
               "overhead_percent": 100 * (py - built_in) / built_in, "identical_results": True}
    print(f"district_station_rotation, 1 year, {figures['students']:,} students, {sim.threads} threads, "
          f"{args.repeats} repeats")
    print(f"  built-in station_rotation  {built_in:.3f} s (median)")
    print(f"  Python policy              {py:.3f} s (median), "
          f"{'per-student' if args.per_student else 'one row of'} minutes every week")
    print(f"  overhead                   {figures['overhead_percent']:+.1f}%  (results identical: yes)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
