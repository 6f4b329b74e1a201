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
    (lambda t: t.assign(_colour="red"), "column '_colour': an attribute's name must be text not starting with _"),
    (lambda t: t.drop(columns="enrollment"), "missing column(s) enrollment"),
    (lambda t: t.drop(columns="level"), "rows 1, 2, 3 (3 of 3): columns level and grades are both missing"),
], ids=["frl above 1", "fractional enrollment", "unknown level", "underscored column", "no enrollment", "no level"])
def test_a_bad_table_is_refused_naming_the_row_and_the_column(change, message):
    with pytest.raises(plsim.SchoolTableError) as info:
        plsim.from_schools(change(three_schools()))
    assert any(message in e for e in info.value.errors), info.value.errors


def test_numbers_with_thousands_separators_and_words_in_any_case_are_read(tmp_path):
    csv = tmp_path / "schools.csv"
    csv.write_text('id,name,level,enrollment,frl_share,type\n1,Adams ES,Elementary,"1,115",0.8,District\n'
                   '2,Baker MS,MIDDLE, 610 ,0.6,Charter\n3,Cole HS,high,"12,400.0",0.5,district\n')
    groups = plsim.from_schools(csv).resolved["districts"][0]["schools"]
    assert [g["enrollment"] for g in groups] == [1115, 610, 12400]
    assert [g["level"] for g in groups] == ["elementary", "middle", "high"]
    assert [g["type"] for g in groups] == ["district", "charter", "district"]
    # A decimal comma is not a thousands separator: refused, not read as 15.
    with pytest.raises(plsim.SchoolTableError, match=r"row 1 \(1, Adams ES\): column enrollment: expected a whole "
                                                     r"number \(got '1,5'\)"):
        plsim.from_schools(three_schools().assign(enrollment=["1,5", "610", "900"]))
    with pytest.raises(plsim.SchoolTableError, match=r"column level: must be one of elementary, middle, high"):
        plsim.from_schools(three_schools().assign(level=["Elementary", "Junior", "high"]))


def test_a_bad_column_is_one_error_naming_its_rows_and_an_example():
    table = pd.DataFrame({"id": range(1, 41), "name": [f"School {k}" for k in range(1, 41)], "level": "elementary",
                          "enrollment": ["about 300"] * 25 + ["300"] * 15, "frl_share": [0.5] * 30 + [1.2] * 10})
    with pytest.raises(plsim.SchoolTableError) as info:
        plsim.from_schools(table)
    assert info.value.errors == ["<table>: rows 1, 2, 3, 4, 5, 6, 7, 8, ... (25 of 40): column enrollment: expected a "
                                 "whole number; e.g. row 1 (1, School 1): got 'about 300'"]
    with pytest.raises(plsim.SchoolTableError) as info:
        plsim.from_schools(table.assign(enrollment=300))
    assert info.value.errors == ["<table>: rows 31, 32, 33, 34, 35, 36, 37, 38, ... (10 of 40): column frl_share: must "
                                 "be between 0 and 1; e.g. row 31 (31, School 31): got 1.2"]


def test_school_ids_given_twice_are_refused():
    table = pd.concat([three_schools(), three_schools().iloc[[0, 1]]], ignore_index=True)
    with pytest.raises(plsim.SchoolTableError) as info:
        plsim.from_schools(table)
    assert info.value.errors == ["<table>: column id: each school needs its own id (2 given to more than one row): "
                                 "'1' in rows 1, 4; '2' in rows 2, 5"]
    plsim.from_schools(three_schools().assign(id=[1, None, None]))  # schools without an id are not duplicates


def test_plsim_init_writes_a_scenario_to_edit_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "district.json"
    assert plsim.cli.main(["init", "--schools", str(EXAMPLE), "--out", str(out), "--years", "2"]) == 0
    written = json.loads(out.read_text())
    assert written["years"] == 2 and len(written["districts"][0]["schools"]) == 6
    assert plsim.check_scenario(out) == []
    assert plsim.cli.main(["init", "--schools", str(EXAMPLE), "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err


def test_every_per_school_output_carries_the_districts_own_ids_and_names(tmp_path):
    table = pd.DataFrame({"id": ["A-17", "B-02"], "name": ["Adams ES", "Baker MS"], "level": ["elementary", "middle"],
                          "enrollment": [420, 610], "frl_share": [0.8, 0.6], "model": ["station_rotation", "traditional"]})
    sim = plsim.Sim(plsim.from_schools(table, years=1), threads=1).run()
    expected = {0: ("A-17", "Adams ES"), 1: ("B-02", "Baker MS")}
    for name, frame in [("assessments", sim.assessments), ("effects", sim.effects), ("costs", sim.costs),
                        ("study", sim.study("traditional")), ("student_effects", sim.student_effects("math"))]:
        columns = list(frame.columns)
        assert columns[columns.index("school_id") + 1:columns.index("school_id") + 3] == ["school_ref", "school_name"], name
        pairs = {(k, (r, n)) for k, r, n in frame[["school_id", "school_ref", "school_name"]].itertuples(index=False)}
        assert pairs <= set(expected.items()), name
        assert pairs or name in ("costs", "study"), name
    assert list(sim.schools[["school_ref", "school_name"]].itertuples(index=False, name=None)) == list(expected.values())
    assert list(sim.schools["district"].astype(str)) == ["district", "district"], "the district keeps its name"
    # The CSVs of plsim run carry them too, and so does a scenario written by plsim init.
    written = tmp_path / "district.json"
    table.to_csv(tmp_path / "schools.csv", index=False)
    assert plsim.cli.main(["init", "--schools", str(tmp_path / "schools.csv"), "--out", str(written), "--years", "1"]) == 0
    assert plsim.cli.main(["run", str(written), "--out", str(tmp_path / "run")]) == 0
    for csv in ("assessments", "effects"):
        a = pd.read_csv(tmp_path / "run" / f"{csv}.csv")
        assert set(a["school_ref"]) == {"A-17", "B-02"} and set(a["school_name"]) == {"Adams ES", "Baker MS"}


def test_extra_columns_of_the_table_are_school_attributes_to_group_outputs_by():
    table = three_schools().assign(zone=["north", "south", "north"], board_code=[11, 12, 13])
    sim = plsim.Sim(plsim.from_schools(table, years=1), threads=1, counterfactual=False).run()
    assert list(sim.schools["zone"]) == ["north", "south", "north"] and list(sim.schools["board_code"]) == [11, 12, 13]
    a = sim.assessments.join(sim.schools["zone"], on="school_id")
    by_zone = a.groupby("zone")["n"].sum()
    assert by_zone["north"] == a.loc[a["school_id"].isin([0, 2]), "n"].sum() and by_zone["south"] > 0


class _SeesSchools(plsim.Process):
    """Records what ctx.schools shows a hook, in each arm."""

    def __init__(self):
        self.seen = {}

    def on_year_end(self, ctx):
        self.seen[ctx.arm] = ctx.schools.copy()


def test_hooks_see_the_districts_own_ids_names_and_attributes_in_ctx_schools():
    table = three_schools().assign(zone=["north", "south", "north"], model=["station_rotation", "traditional",
                                                                            "traditional"])
    hook = _SeesSchools()
    sim = plsim.Sim(plsim.from_schools(table, years=1), threads=1, processes=[hook]).run()
    assert set(hook.seen) == {"policy", "counterfactual"}
    for arm, schools in hook.seen.items():
        assert list(schools.columns[:2]) == ["school_ref", "school_name"], arm
        assert list(schools["school_ref"]) == ["1", "2", "3"], arm
        assert list(schools["school_name"]) == ["Adams ES", "Baker MS", "Cole HS"], arm
        assert list(schools["zone"]) == ["north", "south", "north"], arm
        pd.testing.assert_frame_equal(schools[["school_ref", "school_name", "zone"]],
                                      sim.schools[["school_ref", "school_name", "zone"]])


def test_a_misspelt_column_is_kept_with_a_warning_and_a_clashing_attribute_is_refused():
    with pytest.warns(UserWarning, match="'frl_shares' is kept as a school attribute, not read as 'frl_share'"):
        plsim.from_schools(three_schools().assign(frl_shares=0.5))
    with pytest.raises(ValueError, match="school attribute.*'leadership'"):
        plsim.Sim(plsim.from_schools(three_schools().assign(leadership=0.5), years=1), threads=1)


def test_scenarios_not_written_from_a_table_have_no_ref_columns(tiny_run):
    assert "school_ref" not in tiny_run.assessments and "school_ref" not in tiny_run.schools


def test_a_run_from_a_table_of_schools_writes_the_schools_ids_and_attributes_as_a_table(tmp_path):
    table = three_schools().assign(zone=["north", "south", "north"])
    table.to_csv(tmp_path / "schools.csv", index=False)
    assert plsim.cli.main(["init", "--schools", str(tmp_path / "schools.csv"), "--out", str(tmp_path / "d.json"),
                           "--years", "1"]) == 0
    for level in ("school", "district"):
        out = tmp_path / level
        assert plsim.cli.main(["run", str(tmp_path / "d.json"), "--level", level, "--out", str(out)]) == 0
        schools = pd.read_csv(out / "schools.csv")
        assert list(schools.columns) == ["school_id", "school_ref", "school_name", "district", "zone"]
        assert list(schools["school_ref"]) == [1, 2, 3] and list(schools["zone"]) == ["north", "south", "north"]
    sim = plsim.Sim(plsim.from_schools(table, years=1), threads=1, counterfactual=False)
    pd.testing.assert_frame_equal(sim.table("schools"), sim.table("schools", "national"))
