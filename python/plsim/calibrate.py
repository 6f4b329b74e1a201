"""Calibration of the default model to the national norms.

``python -m plsim.calibrate growth`` finds, for every subject and grade, the learn-rate multiplier
(`parameters/learning/grade_pace`) with which `national_baseline` under traditional instruction
reproduces the MAP Growth 2020 fall-to-spring norm growth, by fixed-point iteration on
pace <- pace * (norm growth / simulated growth). ``--write`` stores the result as the engine's default
(engine/src/calibrated_defaults.hpp); rebuild afterwards.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .results import SUBJECTS, growth_by_grade
from .scenarios import load_scenario
from .sim import Sim


def simulated_growth(scenario, pace: dict, *, seeds=(1,), threads: int = 0) -> dict:
    """Mean growth ratio (simulated / norm) per subject and grade, averaged over seeds."""
    doc = scenario.document
    doc.setdefault("parameters", {}).setdefault("learning", {})["grade_pace"] = {s: list(map(float, pace[s])) for s in SUBJECTS}
    doc["years"] = 1
    ratios = {s: np.zeros(13) for s in SUBJECTS}
    for seed in seeds:
        sim = Sim(doc, threads=threads, seed=seed).run()
        g = growth_by_grade(sim.assessments)
        for s in SUBJECTS:
            ratios[s] += g[g["subject"] == s].sort_values("grade")["ratio"].to_numpy() / len(seeds)
    return ratios


def calibrate_growth(scenario_name: str = "national_baseline", *, iterations: int = 12, seeds=(1, 2),
                     damping: float = 0.8, threads: int = 0, verbose: bool = True) -> dict:
    scenario = load_scenario(scenario_name)
    pace = {s: np.array(scenario.resolved["parameters"]["learning"]["grade_pace"][s], dtype=float) for s in SUBJECTS}
    for it in range(iterations):
        ratios = simulated_growth(scenario, pace, seeds=seeds, threads=threads)
        worst = max(float(np.max(np.abs(ratios[s] - 1))) for s in SUBJECTS)
        if verbose:
            print(f"iteration {it}: worst |growth/norm - 1| = {worst:.3f}", file=sys.stderr)
            for s in SUBJECTS:
                print(f"  {s:8s} ratio " + " ".join(f"{r:5.2f}" for r in ratios[s]), file=sys.stderr)
        if worst < 0.01:
            break
        for s in SUBJECTS:
            pace[s] = np.clip(pace[s] * np.power(1.0 / np.maximum(ratios[s], 1e-3), damping), 0.01, 20.0)
    return {s: [round(float(x), 4) for x in pace[s]] for s in SUBJECTS}


def write_defaults(pace: dict, path: Path) -> None:
    def row(values):
        return ", ".join(f"{v:.4f}" for v in values)

    text = path.read_text()
    start = text.index("inline constexpr std::array<double, 13> grade_pace_math{")
    end = text.index("}  // namespace plsim::calibrated")
    block = (f"inline constexpr std::array<double, 13> grade_pace_math{{\n    {row(pace['math'])}}};\n"
             f"inline constexpr std::array<double, 13> grade_pace_reading{{\n    {row(pace['reading'])}}};\n\n")
    path.write_text(text[:start] + block + text[end:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plsim.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="target", required=True)
    growth = sub.add_parser("growth", help="calibrate grade_pace to the norm growth")
    growth.add_argument("--scenario", default="national_baseline")
    growth.add_argument("--iterations", type=int, default=12)
    growth.add_argument("--threads", type=int, default=0)
    growth.add_argument("--write", action="store_true", help="store as the engine's default")
    args = parser.parse_args(argv)
    pace = calibrate_growth(args.scenario, iterations=args.iterations, threads=args.threads)
    for s in SUBJECTS:
        print(f"{s}: {pace[s]}")
    if args.write:
        path = Path(__file__).resolve().parents[2] / "engine" / "src" / "calibrated_defaults.hpp"
        write_defaults(pace, path)
        print(f"wrote {path}; rebuild the engine", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
