"""How long writing a national run's tables takes: pandas' to_csv against plsim.csvio.write_csv, with
and without gzip, and the district and national levels (plsim.levels).

Runs national_scale scaled down (`--districts` copies of each of its two district entries instead of
6,500: 130 districts, 910 schools, 0.5 M students, five years, no twin: 4 s), then tiles its assessments
`--copies` times (school ids shifted, districts renamed) to the national size: 100 copies are 91,000
schools and 13.3 M rows, the table `plsim run national_scale --out DIR` writes. The bytes of every
school-level file are compared with pandas'. Usage:

    .venv/bin/python bench/write_tables.py [--copies 100] [--districts 65] [--dir /tmp/plsim-write-bench]
        [--gzip 1 6] [--skip-pandas]
"""
from __future__ import annotations

import argparse
import gzip
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

import plsim
from plsim.cli import load_scenario_with_sets
from plsim.csvio import write_csv


def national_tables(districts: int, copies: int):
    scenario = load_scenario_with_sets("national_scale", [f"districts/0/count={districts}",
                                                          f"districts/1/count={districts}"])
    start = time.perf_counter()
    sim = plsim.Sim(scenario, counterfactual=False).run()
    print(f"scaled-down run: {sim.counts['schools']:,} schools, {sim.counts['students']:,} students, "
          f"{time.perf_counter() - start:.1f} s")
    a = sim.assessments.drop(columns=["mean_true_rit"])
    s = sim.schools
    n_schools, names = len(s), list(s["district"].cat.categories)
    codes = s["district"].cat.codes.to_numpy()
    parts = []
    for k in range(copies):
        part = a.copy()
        part["school_id"] = part["school_id"] + np.uint32(n_schools * k)
        parts.append(part)
    big = pd.concat(parts, ignore_index=True)
    categories = [f"{name}/{k}" for k in range(copies) for name in names]
    schools = pd.DataFrame({"district": pd.Categorical.from_codes(
        np.concatenate([codes + len(names) * k for k in range(copies)]), categories)})
    return big, schools


def timed(label: str, fn) -> float:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    print(f"  {label:46s} {seconds:7.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--districts", type=int, default=65)
    parser.add_argument("--dir", default="/tmp/plsim-write-bench")
    parser.add_argument("--gzip", type=int, nargs="*", default=[1, 6])
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    big, schools = national_tables(args.districts, args.copies)
    print(f"assessments: {len(big):,} rows, {len(schools):,} schools")
    fast = out / "fast.csv"
    if not args.skip_pandas:
        timed("pandas to_csv(float_format='%.6f')",
              lambda: big.to_csv(out / "pandas.csv", index=False, float_format="%.6f"))
    timed("write_csv, 1 thread", lambda: write_csv(big, fast, float_format="%.6f", workers=1))
    timed("write_csv, 2 threads (the default here)", lambda: write_csv(big, fast, float_format="%.6f"))
    size = fast.stat().st_size
    if not args.skip_pandas:
        same = (out / "pandas.csv").read_bytes() == fast.read_bytes()
        print(f"  bytes identical to pandas: {same}")
        if not same:
            raise SystemExit("write_csv wrote other bytes than pandas")
    print(f"  {size / 1e6:,.0f} MB")
    for level in args.gzip:
        path = out / f"fast{level}.csv.gz"
        timed(f"write_csv, gzip level {level}", lambda: write_csv(big, path, float_format="%.6f", compress=level))
        print(f"  {path.stat().st_size / 1e6:,.0f} MB ({size / path.stat().st_size:.1f}x smaller)")
        with gzip.open(path, "rb") as f:
            if f.read() != fast.read_bytes():
                raise SystemExit("the gzip file does not hold the plain file's bytes")
    for level in ("district", "national"):
        holder = {}
        timed(f"aggregate to {level}", lambda: holder.update(t=plsim.aggregate(big, "assessments", level,
                                                                                schools=schools)))
        timed(f"write {len(holder['t']):,} rows", lambda: write_csv(holder["t"], out / f"{level}.csv",
                                                                  float_format="%.6f"))
        print(f"  {(out / f'{level}.csv').stat().st_size / 1e6:,.1f} MB")
    shutil.rmtree(out)


if __name__ == "__main__":
    main()
