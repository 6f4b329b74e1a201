"""bench/ensemble.py and bench/scaling.py (issue 13's ensemble and scaling benchmarks) on small sizes:
their JSON has the documented keys and sane values, and the scaling sizes are the sizes asked for."""
from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import pandas as pd
import pytest

import plsim

from conftest import REPO, TINY_PATH

BENCH_DIR = REPO / "bench"
PLSIM_BENCH = next((path for path in (REPO / "build" / "bench" / "bench" / "plsim_bench",
                                      REPO / "build" / "dev" / "bench" / "plsim_bench") if path.exists()),
                   REPO / "build" / "dev" / "bench" / "plsim_bench")  # what bench/scaling.py runs


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _script(name: str, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py"), *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"bench/{name}.py failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


# ----------------------------------------------------------------------------------------------------
# bench/ensemble.py

def test_the_ensemble_benchmark_keeps_what_plsim_ensemble_keeps():
    """The timed run returns the tables plsim.ensemble._run_tables returns for the same plan, so the
    benchmark measures the package's ensemble, not an imitation of it."""
    from plsim.ensemble import _run_tables
    from plsim.plan import RunPlan

    bench = _module("ensemble")
    plan = RunPlan(plsim.load_scenario(TINY_PATH), seed=3, threads=1)
    tables, timing = bench.timed_run(plan)
    expected = _run_tables(plan)
    assert tables.keys() == expected.keys()
    for key in ("summary", "effects", "assessments"):
        pd.testing.assert_frame_equal(tables[key], expected[key])
    assert tables["seed"] == expected["seed"] == 3
    assert timing["setup"] > 0 and timing["simulation"] > 0 and timing["tables"] > 0
    assert timing["student_weeks_simulated"] == (2 if timing["twin"] else 1) * timing["student_weeks"]


def _check_ensemble_figures(f: dict, *, runs: int, twin: bool) -> None:
    for key in ("scenario", "students", "years", "runs", "seeds", "counterfactual", "layout", "wall_seconds",
                "runs_per_second", "student_weeks", "student_weeks_simulated", "student_weeks_per_second",
                "simulated_student_weeks_per_second", "per_run_seconds", "split", "simulation_stages_seconds",
                "fixed_seconds",
                "projected_seconds_1000", "target", "other_processes_cores", "bands", "machine"):
        assert key in f, key
    assert f["scenario"] == "district_station_rotation" and f["years"] == 1
    assert 45_000 <= f["students"] <= 55_000
    assert f["runs"] == runs and f["seeds"] == [1, runs]
    assert f["counterfactual"]["twin_ran"] is twin
    assert f["wall_seconds"] > 0 and f["runs_per_second"] > 0
    assert math.isclose(f["runs_per_second"], runs / f["wall_seconds"])
    assert f["student_weeks"] == runs * f["students"] * f["weeks_per_run"]  # no entrants within one year
    assert f["student_weeks_simulated"] == (2 if twin else 1) * f["student_weeks"]
    assert f["student_weeks_per_second"] > 0
    p = f["per_run_seconds"]
    for key in ("setup", "simulation", "plan", "run_python", "tables", "dispatch", "aggregate", "python", "total"):
        assert key in p, key
    assert p["setup"] > 0 and p["simulation"] > 0 and p["tables"] > 0 and p["total"] > 0
    assert math.isclose(sum(f["split"].values()), 1.0, rel_tol=0.02)
    stages = f["simulation_stages_seconds"]
    assert {"learning", "assessment"} <= stages.keys()
    assert math.isclose(sum(stages.values()), p["simulation"], rel_tol=0.02)  # the schedule's stages add up
    assert f["projected_seconds_1000"] > f["wall_seconds"]  # 1,000 runs take longer than a few
    t = f["target"]
    assert t["runs"] == 1000 and t["seconds"] == 300 and not t["measured"]
    assert t["seconds_for_runs"] == f["projected_seconds_1000"] and t["pass"] == (t["seconds_for_runs"] <= 300)
    bands = pd.DataFrame(f["bands"])
    assert set(bands["subject"]) == {"math", "reading"}
    assert (bands["runs"] == (runs if twin else 0)).all()  # runs with an effect: effects need the twin


def test_the_ensemble_benchmark_in_its_default_layout(tmp_path):
    out = tmp_path / "ensemble.json"
    proc = _script("ensemble", "--runs", 4, "--json", out, "--no-progress")
    f = json.loads(out.read_text())
    _check_ensemble_figures(f, runs=4, twin=True)
    assert f["layout"] == {**f["layout"], "workers": 2, "processes": False, "threads_per_run": 1}
    assert f["counterfactual"]["setting"] == "auto"  # what plsim ensemble does
    assert "1,000 runs in at most 300 s" in proc.stdout and ("PASS" in proc.stdout or "FAIL" in proc.stdout)


def test_the_ensemble_benchmark_on_dask_worker_processes(tmp_path):
    """Worker processes import the script again (its __main__ guard) and get its functions by value."""
    out = tmp_path / "ensemble.json"
    _script("ensemble", "--runs", 4, "--workers", 2, "--processes", "--json", out, "--no-progress")
    f = json.loads(out.read_text())
    _check_ensemble_figures(f, runs=4, twin=True)
    assert f["layout"] == {**f["layout"], "workers": 2, "processes": True, "threads_per_run": 1}
    assert f["fixed_seconds"]["cluster_start"] > 0


def test_the_ensemble_benchmark_in_sequence_without_the_twin(tmp_path):
    out = tmp_path / "ensemble.json"
    _script("ensemble", "--runs", 2, "--workers", 0, "--no-counterfactual", "--json", out, "--no-progress")
    f = json.loads(out.read_text())
    _check_ensemble_figures(f, runs=2, twin=False)
    assert f["layout"]["workers"] == 0 and f["layout"]["threads_per_run"] == 2
    assert f["counterfactual"]["setting"] == "never"


# ----------------------------------------------------------------------------------------------------
# bench/scaling.py

@pytest.mark.parametrize("text", ["10k", "100k", "1M", "10M", "50M", "25k", "2.5M"])
def test_every_scaling_size_is_the_size_asked_for_and_a_valid_scenario(text):
    """The generated scenarios, validated by plsim (not built): students within 5% of the size."""
    scaling = _module("scaling")
    base = json.loads((REPO / "scenarios" / "national_scale.json").read_text())
    size = scaling.parse_size(text)
    doc, how = scaling.build_scenario(base, size, years=1)
    resolved = plsim.load_scenario(doc).resolved
    students = sum(d["count"] * g["count"] * g["enrollment"] for d in resolved["districts"] for g in d["schools"])
    assert abs(students - size) <= 0.05 * size, (text, students, how)
    assert students == scaling.scenario_students(doc)
    assert resolved["years"] == 1


def test_scaling_sizes_parse():
    scaling = _module("scaling")
    assert [scaling.parse_size(s) for s in ("10k", "1M", "2.5m", "50000", "national")] == [
        10_000, 1_000_000, 2_500_000, 50_000, None]
    with pytest.raises(Exception):
        scaling.parse_size("ten")


@pytest.mark.skipif(not PLSIM_BENCH.exists(),
                    reason=f"{PLSIM_BENCH.relative_to(REPO)} is not built (scripts/setup.sh and bench/run.sh "
                           f"build it)")
def test_the_scaling_benchmark_runs_plsim_bench_at_10k(tmp_path):
    out = tmp_path / "scaling.json"
    proc = _script("scaling", "--sizes", "10k", "--repeats", 1, "--years", 1, "--json", out, "--markdown")
    f = json.loads(out.read_text())
    for key in ("sizes", "rows", "years", "threads", "repeats", "machine", "command"):
        assert key in f, key
    (entry,) = f["sizes"]
    assert entry["size"] == "10k" and entry["target_students"] == 10_000
    assert abs(entry["students"] - 10_000) <= 0.05 * 10_000  # counted by the engine, not by the generator
    assert entry["students"] == entry["expected_students"]
    assert entry["bench"]["years"] == 1 and entry["bench"]["deterministic"] is True
    rows = f["rows"]
    assert [r["threads"] for r in rows] == [1, 2]
    for r in rows:
        assert r["students"] == entry["students"]
        assert r["student_weeks_per_second_best"] > 0 and r["setup_seconds_best"] > 0 and r["speedup"] > 0
        assert 20 < r["bytes_per_student_columns"] < 1000
        assert r["bytes_per_student_resident"] is not None and 0 < r["bytes_per_student_resident"] < 1000
    assert rows[0]["speedup"] == 1.0
    assert ("| students | threads | M student-weeks/s (best) | speed-up | set-up s | bytes per student: resident "
            "| columns |") in proc.stdout


# ----------------------------------------------------------------------------------------------------
# bench/psa.py

def test_the_psa_benchmark_times_the_runs_of_plsim_compare_under_uncertainty(tmp_path):
    """Two draws of the four grant strategies: the figures say where the time went, the projection of
    500 draws exceeds what was measured, and the table is the one plsim compare --uncertainty makes."""
    out = tmp_path / "psa.json"
    proc = _script("psa", "--draws", 2, "--processes", 2, "--json", out, "--out", tmp_path / "files", timeout=300)
    f = json.loads(out.read_text())
    assert f["draws"] == 2 and f["runs"] == 8 and f["years"] == 5 and f["workers"] == 2
    assert f["strategies"] == ["coaching_heavy", "concentrated", "device_heavy", "spread"]
    assert set(f["phases"]) == {"prepare", "pool_start", "runs", "tables", "summaries", "evppi"}
    r = f["per_run_worker_seconds"]
    assert r["engine"] > r["setup"] > 0 and r["python"] > 0 and 0 < f["worker_busy_share"] <= 1.05
    assert f["projected_seconds_500"] > f["wall_seconds"] and f["projected_seconds_500_idle"] > 0
    assert 0 < f["cpu_seconds_per_run"] and 0 < f["cpu_share_of_wall"] <= 1.05
    assert set(f["table"]["probability_best"]) == {"5000", "20000"}
    assert "500 draws:" in proc.stdout and "a run, in worker seconds" in proc.stdout
    psa = pd.read_csv(tmp_path / "files" / "psa.csv")
    expected = plsim.compare(sorted((REPO / "scenarios" / "grants").glob("*.json")), uncertainty="priors", draws=2,
                             seeds=1).table
    pd.testing.assert_frame_equal(psa[["draw", "scenario", "cost", "effect"]],
                                  expected[["draw", "scenario", "cost", "effect"]].reset_index(drop=True),
                                  check_exact=False, rtol=1e-5)
