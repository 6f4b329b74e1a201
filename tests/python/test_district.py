"""A real district from a table of its schools: plsim.from_schools and `plsim init --schools`."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import plsim
import plsim.cli
from conftest import REPO

EXAMPLE = REPO / "scenarios" / "example_schools.csv"


def three_schools() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "name": ["Adams ES", "Baker MS", "Cole HS"],
                         "level": ["elementary", "middle", "high"], "enrollment": [420, 610, 900],
                         "frl_share": [0.82, 0.64, 0.55], "type": ["district", "charter", "district"]})


def test_a_table_of_schools_becomes_one_school_group_a_row_and_runs():
    scenario = plsim.from_schools(three_schools(), years=1)
    groups = scenario.resolved["districts"][0]["schools"]
    assert [g["level"] for g in groups] == ["elementary", "middle", "high"]
    assert [g["enrollment"] for g in groups] == [420, 610, 900]
    assert [g["frl_share"]["mean"] for g in groups] == [0.82, 0.64, 0.55]
    assert [g["type"] for g in groups] == ["district", "charter", "district"]
    assert [g["_name"] for g in scenario.document["districts"][0]["schools"]] == ["Adams ES", "Baker MS", "Cole HS"]
    sim = plsim.Sim(scenario, threads=1).run()
    assert 1700 <= sim.counts["students"] <= 2100
    assert list(sim.schools["type"].astype(str)) == ["district", "charter", "district"]


def test_the_shipped_example_table_reads_grades_percentiles_and_models():
    scenario = plsim.from_schools(EXAMPLE)
    groups = scenario.resolved["districts"][0]["schools"]
    assert groups[0]["grades"] == [0, 5] and groups[3]["grades"] == [6, 8] and groups[5]["grades"] == [9, 12]
    assert [g["level"] for g in groups] == ["elementary"] * 3 + ["middle"] * 2 + ["high"]
    # A school whose mean student sits at the 31st national percentile starts 0.496 SD below the mean.
    assert groups[0]["achievement_shift_sd"] == pytest.approx(-0.4959, abs=1e-3)
    assert groups[1]["models"] == {"station_rotation": 1.0}


@pytest.mark.parametrize("change, message", [
    (lambda t: t.assign(frl_share=[0.82, 1.7, 0.55]), "row 2 (2, Baker MS): column frl_share: must be between 0 and 1 (got 1.7)"),
    (lambda t: t.assign(enrollment=[420, 60.5, 900]), "row 2 (2, Baker MS): column enrollment: expected a whole number (got 60.5)"),
    (lambda t: t.assign(level=["elementary", "junior", "high"]), "row 2 (2, Baker MS): column level: must be one of elementary, middle, high"),
    (lambda t: t.assign(colour="red"), "unknown column(s) 'colour'; valid columns are enrollment, id, name"),
    (lambda t: t.drop(columns="enrollment"), "missing column(s) enrollment"),
    (lambda t: t.drop(columns="level"), "row 1 (1, Adams ES): columns level and grades are both missing"),
], ids=["frl above 1", "fractional enrollment", "unknown level", "unknown column", "no enrollment", "no level"])
def test_a_bad_table_is_refused_naming_the_row_and_the_column(change, message):
    with pytest.raises(plsim.SchoolTableError) as info:
        plsim.from_schools(change(three_schools()))
    assert any(message in e for e in info.value.errors), info.value.errors


def test_plsim_init_writes_a_scenario_to_edit_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "district.json"
    assert plsim.cli.main(["init", "--schools", str(EXAMPLE), "--out", str(out), "--years", "2"]) == 0
    written = json.loads(out.read_text())
    assert written["years"] == 2 and len(written["districts"][0]["schools"]) == 6
    assert plsim.check_scenario(out) == []
    assert plsim.cli.main(["init", "--schools", str(EXAMPLE), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
