"""Scaling benchmark (issue 13): throughput and bytes per student at 10 k, 100 k, 1 M, 10 M and 50 M
students, on 1 and 2 threads.

Each size is built from scenarios/national_scale.json (49.35 M students: two district entries of 6,500
copies of one district, whose 4 elementary schools of 73 students a grade feed 2 middle schools of 146
feeding 1 high school of 292: 3,796 students a district) by changing only the district counts:
round(size / 3,796) districts, split between the two entries (100 k: 26 districts, 98,696 students;
1 M: 263, 998,348; 10 M: 2,634, 9,998,664). A size within 2% of the base scenario (50 M, or
`national`) is the file as it is: 13,000 districts, 49,348,000 students. A size that whole districts
miss by more than 2% (10 k: 2 districts are 7,592 students, 3 are 11,388) takes ceil(size / 3,796)
districts of the same shape with fewer students a grade (a multiple of 4, so the 4-2-1 feeding still
balances): 10 k is 3 districts of 256 students a grade (schools of 384, 384 and 1,024), 9,984
students. Every scenario gets `years` (default 1) and is written to a temporary directory, and
plsim_bench (build/bench/bench/plsim_bench, built by bench/run.sh) runs each one:

    plsim_bench SCENARIO --threads 1,2 --repeats R --years Y --json FILE

and its figures are collected into one table: best M student-weeks per second, speed-up against the
first thread count, population set-up time (best), and bytes per student, resident (VmRSS after the
population is built minus before, in a fresh process: plsim_bench's --measure-memory re-exec) and by
the columns' capacity.

Usage:
    .venv/bin/python bench/scaling.py                                  # every size (50 M: about 8 GB)
    .venv/bin/python bench/scaling.py --sizes 10k,100k,1M --repeats 1 --markdown
    .venv/bin/python bench/scaling.py --sizes 10M,50M --repeats 3 --json build/bench/scaling.json
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "scenarios" / "national_scale.json"
# bench/run.sh's Release build, else the set-up script's (build/dev is Release and builds the benchmark too).
BENCH = next((path for path in (REPO / "build" / "bench" / "bench" / "plsim_bench",
                                REPO / "build" / "dev" / "bench" / "plsim_bench") if path.exists()),
             REPO / "build" / "bench" / "bench" / "plsim_bench")
DEFAULT_SIZES = "10k,100k,1M,10M,50M"
GRADES = {"elementary": 6, "middle": 3, "high": 4}  # K-5, 6-8, 9-12
MAX_COPIES = 10_000  # a district entry's count, at most (the scenario specification's bound)
TOLERANCE = 0.02  # whole districts are used when they come this close to the size


def parse_size(text: str):
    """'10k' -> 10_000, '1M' -> 1_000_000, '2.5m', '50000'; 'national' -> None (the file as it is)."""
    t = text.strip()
    if t.lower() == "national":
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmM]?)", t)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a size like 10k, 1M, 250000 or 'national' (got {text!r})")
    value = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 student (got {text!r})")
    return int(round(value))


def size_label(n) -> str:
    if n is None:
        return "national"
    if n >= 1e6 and n % 1e5 == 0:
        return f"{n / 1e6:g}M"
    if n >= 1e3 and n % 100 == 0:
        return f"{n / 1e3:g}k"
    return str(n)


def district_students(district: dict) -> int:
    return sum(g["count"] * g["enrollment"] for g in district["schools"])


def scenario_students(doc: dict) -> int:
    """Students at the start, from the document: copies x schools x enrollment."""
    return sum(d.get("count", 1) * district_students(d) for d in doc["districts"])


def _schools_of_level(district: dict, level: str) -> int:
    return sum(g["count"] for g in district["schools"] if g["level"] == level)


def _with_districts(base: dict, districts: int, per_grade=None) -> dict:
    """base with `districts` copies of its district shape, split over its district entries (each at
    most MAX_COPIES); per_grade (a district's students a grade, shared by the schools of a level)
    rescales the enrollments."""
    doc = copy.deepcopy(base)
    entries = doc["districts"]
    k = len(entries)
    if districts > k * MAX_COPIES:
        raise ValueError(f"{districts} districts need more than {k} entries of {MAX_COPIES} copies")
    counts = [districts // k + (1 if i < districts % k else 0) for i in range(k)]
    kept = []
    for entry, count in zip(entries, counts):
        if count == 0:
            continue
        entry["count"] = count
        if per_grade is not None:
            # The schools of a level share a district's grade cohort (4 elementary, 2 middle, 1 high).
            for g in entry["schools"]:
                g["enrollment"] = GRADES[g["level"]] * per_grade // _schools_of_level(entry, g["level"])
        kept.append(entry)
    doc["districts"] = kept
    return doc


def build_scenario(base: dict, size, years: int) -> tuple:
    """(document, description) of a scenario of about `size` students from the national scenario."""
    if size is None or abs(scenario_students(base) - size) <= TOLERANCE * size:
        doc = copy.deepcopy(base)
        doc["years"] = years
        districts = sum(d.get("count", 1) for d in doc["districts"])
        return doc, f"the base scenario as it is ({districts:,} districts)"
    shapes = {json.dumps(d["schools"], sort_keys=True) for d in base["districts"]}
    if len(shapes) != 1:
        raise ValueError("the base scenario's district entries must share one shape of schools")
    per_district = district_students(base["districts"][0])
    districts = max(1, round(size / per_district))
    if abs(districts * per_district - size) <= TOLERANCE * size:
        doc = _with_districts(base, districts)
        how = f"{districts:,} district{'s' if districts != 1 else ''} of {per_district:,} students (the national shape)"
    else:
        districts = math.ceil(size / per_district)
        shape = base["districts"][0]
        levels = {g["level"] for g in shape["schools"]}
        grades = sum(GRADES[level] for level in levels)  # a district: `grades` cohorts of per_grade students
        step = math.lcm(*(_schools_of_level(shape, level) for level in levels))  # schools share a cohort evenly
        per_grade = max(step, int(round(size / (districts * grades) / step)) * step)
        doc = _with_districts(base, districts, per_grade=per_grade)
        schools = doc["districts"][0]["schools"]
        how = (f"{districts} district{'s' if districts != 1 else ''} of the national shape with {per_grade} "
               f"students a grade (schools of " + ", ".join(f"{g['enrollment']:,}" for g in schools) + ")")
    doc["years"] = years
    doc["name"] = f"national_scale_{size_label(size)}"
    doc["description"] = f"bench/scaling.py: {how}, from national_scale.json"
    return doc, how


# ----------------------------------------------------------------------------------------------------

def run_bench(bench: Path, scenario: Path, *, threads: str, repeats: int, years: int, out: Path,
              memory: bool, verbose: bool) -> dict:
    cmd = [str(bench), str(scenario), "--threads", threads, "--repeats", str(repeats), "--years", str(years),
           "--json", str(out)]
    if not memory:
        cmd.append("--no-memory")
    proc = subprocess.run(cmd, stdout=None if verbose else subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with status {proc.returncode}:\n{proc.stderr}"
                           f"{proc.stdout or ''}")
    return json.loads(out.read_text())


def rows_of(entry: dict) -> list:
    b = entry["bench"]
    memory = b["bytes_per_student"]
    rows = []
    for r in b["runs"]:
        rows.append({"size": entry["size"], "students": b["students"], "threads": r["threads"],
                     "student_weeks_per_second_best": r["student_weeks_per_second"]["best"],
                     "student_weeks_per_second_median": r["student_weeks_per_second"]["median"],
                     "speedup": r["speedup"], "setup_seconds_best": r["setup_seconds"]["best"],
                     "run_seconds_best": r["run_seconds"]["best"],
                     "bytes_per_student_resident": memory.get("resident"),
                     "bytes_per_student_columns": memory.get("columns"),
                     "other_processes_cores": r.get("other_processes_cores")})
    return rows


def markdown(rows: list) -> str:
    head = ["students", "threads", "M student-weeks/s (best)", "speed-up", "set-up s",
            "bytes per student: resident", "columns"]
    cells = []
    for r in rows:
        resident = r["bytes_per_student_resident"]
        cells.append([f"{r['students']:,}", str(r["threads"]), f"{r['student_weeks_per_second_best'] / 1e6:.2f}",
                      f"{r['speedup']:.2f}x", f"{r['setup_seconds_best']:.3f}",
                      f"{resident:.0f}" if resident is not None else "-", f"{r['bytes_per_student_columns']:.1f}"])
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]

    def line(xs):
        return "| " + " | ".join(x.rjust(w) for x, w in zip(xs, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"  # every column right-aligned
    return "\n".join([line(head), rule, *(line(c) for c in cells)])


def table(rows: list) -> str:
    out = ["  size      students      threads  M sw/s best  median  speed-up  set-up s  run s     "
           "bytes/student resident  columns  others"]
    for r in rows:
        resident = r["bytes_per_student_resident"]
        out.append(f"  {r['size']:<9} {r['students']:>12,}  {r['threads']:>7}  "
                   f"{r['student_weeks_per_second_best'] / 1e6:>11.2f}"
                   f"  {r['student_weeks_per_second_median'] / 1e6:>6.2f}  {r['speedup']:>7.2f}x  "
                   f"{r['setup_seconds_best']:>8.3f}  {r['run_seconds_best']:>8.3f}  "
                   f"{(f'{resident:.1f}' if resident is not None else '-'):>22}  {r['bytes_per_student_columns']:>7.1f}"
                   f"  {r['other_processes_cores'] or 0:>6.2f}")
    return "\n".join(out)


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated sizes: 10k, 1M, 250000, national (default {DEFAULT_SIZES})")
    parser.add_argument("--threads", default="1,2", help="thread counts, as plsim_bench takes them (default 1,2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs a thread count and size (default 3)")
    parser.add_argument("--years", type=int, default=1, help="school years a run (default 1)")
    parser.add_argument("--base", default=str(BASE), help="the scenario the sizes are built from (default "
                                                          "scenarios/national_scale.json)")
    parser.add_argument("--bench", default=str(BENCH), help="plsim_bench binary (default build/bench/bench/"
                                                            "plsim_bench, built by bench/run.sh, else build/dev's)")
    parser.add_argument("--keep", metavar="DIR", help="write the scenarios and plsim_bench's JSON files to DIR "
                                                      "(default: a temporary directory, removed)")
    parser.add_argument("--no-memory", action="store_true", help="skip the resident-memory measurement")
    parser.add_argument("--verbose", action="store_true", help="show plsim_bench's own report of each size")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown (bench/README.md)")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except argparse.ArgumentTypeError as e:
        parser.error(f"argument --sizes: {e}")
    if not sizes:
        parser.error("argument --sizes: expected at least one size")
    if args.repeats < 1 or args.years < 1:
        parser.error("--repeats and --years take a positive integer")
    bench = Path(args.bench)
    if not bench.exists():
        print(f"bench/scaling.py: {bench} does not exist: bench/run.sh builds it (and runs it once)",
              file=sys.stderr)
        return 1
    base = json.loads(Path(args.base).read_text())

    tmp = None
    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="plsim-scaling-")
        work = Path(tmp.name)
    entries, rows = [], []
    try:
        for size in sizes:
            doc, how = build_scenario(base, size, args.years)
            label = size_label(size)
            path = work / f"national_scale_{label}.json"
            path.write_text(json.dumps(doc, indent=2) + "\n")
            expected = scenario_students(doc)
            need = 170 * expected  # about 160 bytes a student resident at the peak, and the model
            avail = _mem_available()
            if avail > 0 and need > avail:
                print(f"  WARNING: {label} needs about {need / 2**30:.1f} GiB; {avail / 2**30:.1f} GiB available",
                      file=sys.stderr)
            print(f"  {label}: {expected:,} students, {how}; running plsim_bench ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            result = run_bench(bench, path, threads=args.threads, repeats=args.repeats, years=args.years,
                               out=work / f"bench_{label}.json", memory=not args.no_memory, verbose=args.verbose)
            entry = {"size": label, "target_students": size, "students": result["students"],
                     "expected_students": expected, "build": how, "scenario": doc,
                     "wall_seconds": time.perf_counter() - start, "bench": result}
            entries.append(entry)
            rows.extend(rows_of(entry))
    finally:
        if tmp is not None:
            tmp.cleanup()

    print("\nplsim scaling: national_scale.json at each size, %d year(s), threads %s, %d repeat(s)\n"
          % (args.years, args.threads, args.repeats))
    print(table(rows))
    worst = max((r["other_processes_cores"] or 0) for r in rows)
    if worst > 0.1:
        print(f"  WARNING: other processes kept up to {worst:.2f} cores busy; the figures are pessimistic.")
    if args.markdown:
        print()
        print(markdown(rows))
    if args.json:
        first = entries[0]["bench"]
        out = {"sizes": entries, "rows": rows, "years": args.years, "threads": args.threads,
               "repeats": args.repeats, "base": str(args.base),
               "machine": first.get("machine"), "build": first.get("build"),
               "command": ["bench/scaling.py", *(sys.argv[1:] if argv is None else argv)]}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"\n  figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
