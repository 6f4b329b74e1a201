"""Years are counted from 1 in everything a user sees: files, DataFrames, summary.json, CLI text and
reports; every by-year table has a row for every simulated year; checkpoints of the 0-based format are
refused with the reason."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

import plsim
import plsim.cli
from plsim.checkpoint import MAGIC, from_bytes, to_bytes
from plsim.report import write_report


@pytest.fixture(scope="module")
def two_year_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("years") / "run"
    args = ["run", "scale_up_district", "--set", "years=2", "--study", "--responses", "0.02", "--out", str(out)]
    assert plsim.cli.main(args) == 0
    return out


def test_every_table_a_two_year_run_writes_counts_years_from_1_to_2(two_year_run):
    with_years = []
    for path in sorted(two_year_run.glob("*.csv")):
        frame = pd.read_csv(path)
        if "year" in frame:
            with_years.append(path.stem)
            assert (frame["year"].min(), frame["year"].max()) == (1, 2), path.name
    assert {"assessments", "subgroups", "effects", "rollout", "fidelity", "costs", "study", "responses"} <= set(with_years)


def test_summary_json_counts_years_from_1_with_a_teachers_row_for_every_year(two_year_run):
    s = json.loads((two_year_run / "summary.json").read_text())
    assert s["years_counted_from"] == 1
    assert [r["year"] for r in s["teachers"]["by_year"]] == [1, 2]
    assert [r["year"] for r in s["rollout"]["by_year"]] == [1, 2]
    assert {r["year"] for r in s["fidelity"]["by_year"]} == {1, 2}
    assert {r["year"] for r in s["costs"]["by_year"]} <= {1, 2}
    math = s["headline_effects"]["math"]
    assert math["year"] == 2 and list(math["by_year"]) == ["1", "2"]
    assert math["mean_effect_sd"] == pytest.approx(math["by_year"]["2"], abs=1e-6), "the headline is the last year's"
    assert all(h["year"] == 2 for h in s["headline"].values())


def test_the_cli_names_the_years_it_simulated(two_year_run, capsys):
    assert plsim.cli.main(["run", "scale_up_district", "--set", "years=2"]) == 0
    text = capsys.readouterr().out
    assert "spring of year 2" in text and "year 3" not in text and "year 0" not in text


def test_every_teachers_row_has_the_turnover_decided_at_the_end_of_its_year():
    sim = plsim.Sim(plsim.load_scenario("national_baseline", years=2), threads=2, seed=1).run()
    t = sim.teachers_by_year
    assert list(t["year"]) == [1, 2]
    assert t["teachers"].gt(0).all() and t["mean_experience"].gt(0).all()
    assert t["turnover"].between(0.10, 0.25).all(), "year 1 decides too, and so does the last year"
    # The last year's decisions are reported, with no next year to apply them to: they are pending.
    teachers = sim._core.teachers
    pending = int((teachers["active"].astype(bool) & teachers["leaving"].astype(bool)).sum())
    assert pending == round(t["turnover"].iloc[-1] * t["teachers"].iloc[-1]) > 0


def test_scale_up_district_has_five_years_of_turnover_at_the_national_rate_and_poverty_gap(tmp_path):
    """As the acceptance check scaleup-rollout reads summary.json: turnover 0.12-0.20 over every
    year's row, high-poverty schools 1.3-1.8 times the others."""
    assert plsim.cli.main(["run", "scale_up_district", "--out", str(tmp_path / "run")]) == 0
    rows = json.loads((tmp_path / "run" / "summary.json").read_text())["teachers"]["by_year"]
    assert [r["year"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r["turnover"] is not None and 0 <= r["turnover"] <= 1 for r in rows)
    mean = sum(r["turnover"] for r in rows) / len(rows)
    ratio = sum(r["turnover_high_poverty"] for r in rows) / sum(r["turnover_low_poverty"] for r in rows)
    assert 0.12 <= mean <= 0.20 and 1.3 <= ratio <= 1.8, (mean, ratio)


def test_a_report_of_a_run_written_before_years_counted_from_1_shows_them_from_1(two_year_run, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    summary = json.loads((two_year_run / "summary.json").read_text())
    del summary["years_counted_from"]
    for entry in summary["headline"].values():
        entry["year"] -= 1
    (old / "summary.json").write_text(json.dumps(summary))
    a = pd.read_csv(two_year_run / "assessments.csv")
    a.assign(year=a["year"] - 1).to_csv(old / "assessments.csv", index=False)
    page = write_report(old).read_text()
    assert "spring of year 2" in page and "spring of year 1<" not in page


def refusal_of_format(version: int) -> str:
    """The error a checkpoint gets when its header says `version` (its checksum made valid again)."""
    doc = plsim.load_scenario("district_station_rotation", years=2).document
    data = bytearray(to_bytes(plsim.Sim(doc, threads=1).run(until_year=1)))
    data[len(MAGIC):len(MAGIC) + 4] = version.to_bytes(4, "little")
    old = bytes(data[:-32]) + hashlib.sha256(bytes(data[:-32])).digest()
    with pytest.raises(plsim.CheckpointError) as info:
        from_bytes(old, "old.plsim")
    return str(info.value)


def test_a_checkpoint_of_the_format_that_counted_years_from_0_is_refused_with_the_reason():
    message = refusal_of_format(2)
    assert message.startswith("old.plsim: checkpoint format version 2")
    assert "counted years from 0" in message and "re-run the scenario" in message


def test_a_checkpoint_that_drew_turnover_at_the_start_of_a_year_is_refused_with_the_reason():
    message = refusal_of_format(3)
    assert message.startswith("old.plsim: checkpoint format version 3")
    assert "turnover at the start of a year" in message and "re-run the scenario" in message
