"""Shared fixtures of the Python suite: small scenarios built from tests/python/data/tiny.json, and
runs that several tests read (session-scoped, so each is simulated once).

Runs shared between tests are only read by them; a test that steps, runs or interrupts a Sim builds
its own.
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from hypothesis import strategies as st

import plsim

# A suite started in the background (`cmd &`) inherits SIGINT ignored, and Python then installs no
# Ctrl-C handler; the interrupt tests need the interactive one.
signal.signal(signal.SIGINT, signal.default_int_handler)

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]

TINY_PATH = DATA / "tiny.json"
INVALID_PATH = DATA / "invalid.json"
NOT_JSON_PATH = DATA / "not_json.json"

#: Student columns set when a student is created and never changed by learning: two runs that share
#: a seed must agree on them whatever their instructional models.
TRAIT_COLUMNS = ("id", "school", "grade", "frl", "self_regulation", "attendance", "math_learning_rate",
                 "reading_learning_rate")

#: Seeds over which the calibration statistics of national_baseline are averaged. plsim.calibrate fits
#: grade_pace on seeds (1, 2); these are held out, so the tests check the fit, not the fitting.
CALIBRATION_SEEDS = (3, 4)


def tiny_document() -> dict:
    """tiny.json as a fresh dict: 520 students, one district, 4 schools, mixed instructional models."""
    return json.loads(TINY_PATH.read_text())


def elementary_district(*, name: str = "elementary", schools: int = 40, enrollment: int = 120,
                        shift: float = 0.0, frl_mean: float = 0.5, frl_sd: float = 0.25,
                        model: str = "traditional", seed: int = 5, years: int = 1) -> dict:
    """A district of identical elementary schools (grades K-5): enough schools for school-level
    statistics, few enough students (schools * enrollment) to simulate in milliseconds."""
    return {
        "name": name,
        "seed": seed,
        "years": years,
        "districts": [{
            "name": "district",
            "achievement_shift_sd": shift,
            "schools": [{"level": "elementary", "count": schools, "enrollment": enrollment,
                         "frl_share": {"mean": frl_mean, "sd": frl_sd}, "model": model}],
        }],
    }


def edit_json(draw, doc, values) -> None:
    """One to three hypothesis-drawn edits of a JSON-like document, in place, each at a path drawn by
    walking into it: the value there replaced by one of `values`, deleted, or an unknown key (or item)
    added beside it."""
    for _ in range(draw(st.integers(1, 3))):
        parent, key = None, None
        node = doc
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, draw(st.sampled_from(keys))
            node = node[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if parent is None:
            if action == "add":
                doc[draw(st.text(min_size=1, max_size=8))] = draw(values)
            continue
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        else:
            parent.append(draw(values))


@pytest.fixture
def tiny_doc() -> dict:
    """A fresh, mutable copy of tiny.json for each test."""
    return tiny_document()


@pytest.fixture
def tiny_scenario() -> plsim.Scenario:
    return plsim.load_scenario(TINY_PATH)


@pytest.fixture(scope="session")
def tiny_run() -> plsim.Sim:
    """tiny.json run to the end of its one year on 2 threads (read-only for tests)."""
    return plsim.Sim(plsim.load_scenario(TINY_PATH), threads=2).run()


@pytest.fixture(scope="session")
def tiny_three_year_run() -> plsim.Sim:
    """tiny.json over three years (two year transitions), read-only for tests."""
    return plsim.Sim(plsim.load_scenario(TINY_PATH, years=3), threads=2).run()


@pytest.fixture(scope="session")
def baseline_runs() -> dict:
    """national_baseline (100k students, one year) run once per calibration seed, by seed."""
    scenario = plsim.load_scenario("national_baseline")
    return {seed: plsim.Sim(scenario, threads=0, seed=seed).run() for seed in CALIBRATION_SEEDS}


@pytest.fixture
def write_scenario(tmp_path):
    """Writes a scenario dict to tmp_path/<name>.json and returns the path."""

    def write(doc, name: str = "scenario") -> Path:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2))
        return path

    return write
