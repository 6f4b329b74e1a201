"""Notes that explain results which look like bugs (plsim.notes): school study estimates significantly
negative where the true effect is positive, and a district paying launches while its PL classrooms
fall to zero; printed by plsim run and kept in summary.json."""
from __future__ import annotations

import json

import pandas as pd

import plsim
import plsim.cli
from plsim.notes import budget_notes, study_note


def test_coaching_heavy_year_5_is_explained_by_launches_paid_first(tmp_path, capsys):
    out = tmp_path / "run"
    assert plsim.cli.main(["run", "grants/coaching_heavy", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    notes = json.loads((out / "summary.json").read_text())["notes"]
    assert len(notes) == 1 and f"  note        {notes[0]}" in printed
    assert notes[0].startswith("year 5, riverside: all $300,000 it spent went to launches (3 pilots going school-wide")
    assert "nothing was left for the software, devices or tutors" in notes[0]
    # What the note says is what the run's tables hold.
    rollout = pd.read_csv(out / "rollout.csv").set_index("year")
    costs = pd.read_csv(out / "costs.csv")
    year5 = costs[costs["year"] == 5]
    assert rollout.loc[5, "students_pl"] == 0 and rollout.loc[5, "students_in_pl_schools"] > 0
    assert rollout.loc[5, "codified"] == 3 and set(year5["category"]) == {"launch"}
    assert year5["amount"].sum() == 300_000


def test_study_schools_significantly_negative_with_a_positive_truth_are_explained(tmp_path, capsys):
    assert plsim.cli.main(["run", "nglc_like", "--study", "--out", str(tmp_path / "run")]) == 0
    printed = capsys.readouterr().out
    notes = json.loads((tmp_path / "run" / "summary.json").read_text())["notes"]
    study = pd.read_csv(tmp_path / "run" / "study.csv")
    odd = study[(study["p_value"] < 0.05) & (study["estimate_sd"] < 0) & (study["true_effect_sd"] > 0)]
    math, reading = (int((odd["subject"] == s).sum()) for s in ("math", "reading"))
    assert math > 0 and reading > 0
    note = next(n for n in notes if n.startswith("schools significantly negative"))
    assert f"({math} of 40 in math, {reading} of 40 in reading)" in note and "school_growth_sd" in note
    assert "these schools grow slowly anyway" in note and f"  note        {note}" in printed


def test_no_note_where_nothing_needs_explaining():
    study = pd.DataFrame({"school_id": [0, 1], "subject": ["math", "math"], "year": [1, 1],
                          "estimate_sd": [0.1, -0.2], "p_value": [0.01, 0.01], "true_effect_sd": [0.1, -0.1]})
    schools = pd.DataFrame({"growth_multiplier": [1.0, 0.8]})
    assert study_note(study, schools) is None  # the negative school is negative in truth too
    noted = study_note(study.assign(true_effect_sd=[0.1, 0.05]), schools)
    assert noted.startswith("schools significantly negative although their true effect is positive (1 of 2 in math)")
    assert "median growth multiplier 0.80, all schools 0.90" in noted
    rollout = pd.DataFrame({"year": [1], "district": ["d"], "students_in_pl_schools": [100], "students_pl": [40],
                            "codified": [1], "converted": [0]})
    costs = pd.DataFrame({"year": [1], "school_id": [0], "category": ["launch"], "amount": [112_500.0]})
    named = pd.DataFrame({"district": ["d"]})
    assert budget_notes(costs, rollout, named) == [], "PL classrooms still ran"
    lines = budget_notes(pd.concat([costs, costs.assign(category="coaches", amount=50_000.0)]),
                         rollout.assign(students_pl=0), named)
    assert lines == ["year 1, d: $112,500 of the $162,500 it spent went to launches (1 pilot going school-wide, 0 new "
                     "schools), which are paid first as committed; the rest did not cover the software, devices or "
                     "tutors its PL classrooms need, so all of them taught traditionally (100 students in PL schools, "
                     "none in a PL classroom)"]
