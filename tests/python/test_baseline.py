"""Summary baselines: a few headline figures of shipped scenarios, pinned bit for bit, so that a change
meant to restructure (not to change the model) shows that it changed nothing, and one that changes the
model says so. After a deliberate model change, regenerate and say why in the commit:

    PLSIM_UPDATE_BASELINE=1 .venv/bin/python -m pytest tests/python/test_baseline.py
"""
from __future__ import annotations

import json
import os

import pytest

import plsim
from conftest import DATA

BASELINE = DATA / "summary_baseline.json"
RUNS = {"nglc_like": 1, "district_station_rotation": 2}  # scenario -> seed; one year each


def figures(name: str, seed: int) -> dict:
    summary = plsim.Sim(plsim.load_scenario(name, years=1), seed=seed, threads=2).run().summary()
    out = {"students": summary["counts"]["students"], "teachers": summary["counts"]["teachers"],
           "student_weeks": summary["student_weeks"]}
    for subject, h in summary["headline"].items():
        out[f"{subject}_mean_rit"] = h["mean_rit"]
        out[f"{subject}_growth_vs_norm"] = h["growth_vs_norm"]
    for subject, e in (summary["headline_effects"] or {}).items():
        out[f"{subject}_effect_sd"] = e["mean_effect_sd"]
    return out


@pytest.fixture(scope="module")
def measured() -> dict:
    found = {f"{name}/{seed}": figures(name, seed) for name, seed in RUNS.items()}
    if os.environ.get("PLSIM_UPDATE_BASELINE"):
        BASELINE.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    return found


@pytest.mark.parametrize("run", [f"{n}/{s}" for n, s in RUNS.items()])
def test_headline_figures_equal_the_pinned_baseline_bit_for_bit(measured, run):
    pinned = json.loads(BASELINE.read_text())[run]
    assert measured[run] == pinned, {k: (measured[run].get(k), v) for k, v in pinned.items() if measured[run].get(k) != v}
