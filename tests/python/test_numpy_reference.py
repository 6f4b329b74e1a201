"""bench/numpy_reference.py: the numpy peer of the engine's weekly learning agrees with the engine on a
small population of every built-in model, and its check fails when a mechanism is switched off."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

SCRIPT = REPO / "bench" / "numpy_reference.py"
_spec = importlib.util.spec_from_file_location("numpy_reference", SCRIPT)
nr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nr)

BUILT_IN = ["traditional", "station_rotation", "algorithmic_schedule", "adaptive_playlist", "mastery_based",
            "project_based", "platform_mentor", "autonomy_levels", "high_dosage_tutoring"]


def every_model() -> dict:
    """One school per built-in model (3,240 students): every mechanism of the learning is exercised."""
    return {"name": "every_model", "seed": 3, "years": 1, "districts": [{"name": "d", "schools": [
        {"level": "elementary", "count": 1, "enrollment": 360, "model": m} for m in BUILT_IN]}]}


@pytest.fixture(scope="module")
def engine_year():
    """The engine's first year of every_model on 2 threads, the state the reference starts from, and
    which evaluation of exp, log and the kernel the installed engine uses."""
    run = nr.EngineRun(every_model(), 36, 2)
    run.evaluation, run.probe = run.engine_evaluation()
    return run


def reference(run, **options) -> tuple:
    return nr.compare(run.state, run.final, run.reference(36, evaluation=run.evaluation, **options))


def test_philox_matches_random123_and_the_engine(engine_year):
    nr.check_philox()  # Random123's known answers
    assert [int(w) for w in nr.philox4x32_10(0, 0, 0, 0, 0, 0)] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    # vectorised: one counter word an array, the others scalars, as the reference draws
    ids = np.array([0, 0xFFFFFFFF, 12345], np.uint64)
    words = nr.philox4x32_10(7, ids, 3, 1, 5, 0)
    for k, i in enumerate(ids):
        assert [int(w[k]) for w in words] == [int(w) for w in nr.philox4x32_10(7, int(i), 3, 1, 5, 0)]
    nr.check_philox_against_engine(engine_year.sim)
    with pytest.raises(AssertionError):  # another seed's key gives other draws
        nr.check_philox_against_engine(type("OtherSeed", (), {"seed": 4, "_core": engine_year.sim._core})())


def test_the_probe_tells_the_engines_evaluation_apart(engine_year):
    """Week 0 of the right evaluation is the engine's to float rounding; of the other, visibly not."""
    right = engine_year.probe[engine_year.evaluation]
    other = min(v for k, v in engine_year.probe.items() if k != engine_year.evaluation)
    assert right < 1e-6 < other


def test_reference_agrees_with_the_engine(engine_year):
    figures, failures = reference(engine_year)
    assert failures == []
    for s in nr.SUBJECTS:
        assert figures[f"{s}_frontier_advance"]["engine"]["mean"] > 5  # students did learn
        assert figures[f"{s}_gaps"]["engine"]["sd"] > 1
    state, final = engine_year.state, engine_year.final
    for s in nr.SUBJECTS:  # the students in the test schools did move, on every model
        assert np.mean(final[f"{s}_frontier"] != state[f"students.{s}_frontier"]) > 0.9
    assert final["autonomy"].max() >= 1  # autonomy levels were earned


def test_agreement_survives_float_rounding(engine_year):
    """exp and log off by 1e-6 (the engine's approximations may be): still within the tolerances."""
    figures, failures = reference(engine_year, jitter=1e-6)
    assert failures == []


@pytest.mark.parametrize("mechanism", nr.BROKEN)
def test_a_broken_mechanism_is_caught(engine_year, mechanism):
    figures, failures = reference(engine_year, broken=[mechanism])
    assert any("identical for" in line for line in failures), failures
    assert min(figures[f"{s}_{q}"]["identical_share"] for s in nr.SUBJECTS for q in ("frontier_advance", "gaps")) \
        < nr.TOLERANCES["identical_share_min"]


def test_command_line(tmp_path):
    """The script end to end on a small district: JSON figures, exit status 0; broken, exit status 1."""
    out = tmp_path / "figures.json"
    common = [sys.executable, str(SCRIPT), "--students", "3000", "--weeks", "8", "--repeats", "1"]
    run = subprocess.run(common + ["--json", str(out)], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(out.read_text())
    for key in ("engine_student_weeks_per_second", "numpy_student_weeks_per_second", "speedup_vs_numpy", "students",
                "weeks", "engine_threads", "agreement", "tolerances", "numpy_version"):
        assert key in figures
    assert figures["weeks"] == 8 and figures["engine_threads"] == 2 and figures["agreed"]
    assert figures["students"] * 8 == figures["student_weeks"]
    broken = subprocess.run(common + ["--break", "gap_penalty"], capture_output=True, text=True, cwd=REPO)
    assert broken.returncode == 1 and "DISAGREEMENT" in broken.stdout, broken.stdout + broken.stderr


def test_reference_agrees_with_the_engine_through_a_first_year_dip():
    """Every school in its first implementation year with the dip on: targeted time scaled by the
    classroom's familiarity, and tutoring by the district's programme size, as the engine does."""
    doc = every_model()
    for group in doc["districts"][0]["schools"]:
        group["implementation_year"] = 1
    doc["parameters"] = {"personalization": {"implementation_dip": [0.5, 0.15, 0.0]}}
    run = nr.EngineRun(doc, 36, 2)
    run.evaluation, run.probe = run.engine_evaluation()
    _, failures = nr.compare(run.state, run.final, run.reference(36, evaluation=run.evaluation))
    assert failures == []
