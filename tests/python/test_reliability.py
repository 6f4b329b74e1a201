"""Reliability: nothing lost or overwritten by a run's outputs, threads reported as used, no policy
shadowing a built-in model, unique district names; and tests that state mechanisms a broken engine
would violate."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import plsim
import plsim.cli

from conftest import TINY_PATH, tiny_document


def test_out_refuses_a_file_and_a_non_empty_directory_before_running(tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err and a_file.read_text() == "keep me"
    out = tmp_path / "run"
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out)]) == 0
    (out / "stale.csv").write_text("old")
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    # --overwrite replaces what a run wrote (its manifest lists it), not a file put there since.
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out), "--overwrite"]) == 2
    assert "holds files no plsim run wrote (stale.csv)" in capsys.readouterr().err
    assert plsim.cli.main(["run", str(TINY_PATH), "--out", str(out), "--overwrite-all"]) == 0
    assert not (out / "stale.csv").exists() and (out / "summary.json").exists()
    assert not list(tmp_path.glob(".run.*"))  # no staging directory left behind


def test_summary_reports_the_threads_really_used():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim = plsim.Sim(TINY_PATH, threads=64, counterfactual=False)
    summary = sim.summary()
    assert summary["threads_requested"] == 64 and summary["threads"] == sim._core.threads_used <= 64
    if summary["threads"] < 64:
        assert any("asked for 64" in str(w.message) for w in caught)


def test_a_policy_may_not_shadow_a_built_in_model():
    class Rotation(plsim.Policy):
        name = "station_rotation"

        def minutes(self, ctx):
            return None

    with pytest.raises(ValueError, match="'station_rotation' would replace the built-in model"):
        plsim.Sim(TINY_PATH, policies=[Rotation()])


def test_duplicate_district_names_are_refused_by_validate():
    doc = tiny_document()
    doc["districts"].append(json.loads(json.dumps(doc["districts"][0])))
    errors = plsim.check_scenario(doc)
    assert any("/districts/1/name: district 0 has the same name" in e for e in errors), errors


def test_district_copies_may_not_take_the_name_of_another_district():
    doc = tiny_document()
    doc["districts"][0]["count"] = 2
    other = json.loads(json.dumps(doc["districts"][0]))
    other["name"], other["count"] = doc["districts"][0]["name"] + "-2", 1
    doc["districts"].append(other)
    errors = plsim.check_scenario(doc)
    assert any(f"/districts/1/name: districts 0 and 1 would both have a district named \"{other['name']}\"" in e
               for e in errors), errors


def one_grade_schools(count: int, district_count: int = 1) -> dict:
    return {"name": "many", "districts": [{"name": "d", "count": district_count, "schools": [
        {"level": "elementary", "grades": [0, 0], "count": count, "enrollment": 1}]}]}


def test_the_work_of_a_run_is_limited_in_schools_and_districts_before_anything_is_built():
    assert plsim.check_scenario(one_grade_schools(100_000, 10)) == []
    errors = plsim.check_scenario(one_grade_schools(100_000, 11))
    assert errors == ["many: /districts: at most 1000000 schools per run (got 1100000)"]
    doc = one_grade_schools(1, 10_000)
    doc["districts"] += [dict(doc["districts"][0], name=f"d{k}") for k in range(10)]
    assert plsim.check_scenario(doc) == ["many: /districts: at most 100000 districts per run, counting each copy of "
                                         "a district with count > 1 (got 110000)"]


def test_validate_refuses_a_python_policy_model_the_command_cannot_run(tmp_path, capsys):
    doc = {"name": "pp", "instructional_models": {"mine": {"minutes": {"whole_class": 100}, "python_policy": True}},
           "districts": [{"name": "d", "schools": [{"level": "elementary", "enrollment": 120, "model": "mine"}]}]}
    path = tmp_path / "pp.json"
    path.write_text(json.dumps(doc))
    assert plsim.check_scenario(path) == [], "valid for Python, which can pass the policy"
    assert plsim.cli.main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert (f"{path}: /districts/0/schools/0/model: the Python-policy model 'mine' takes its minutes from a "
            f"plsim.Policy named 'mine', which the plsim command cannot supply") in err
    assert plsim.check_scenario(doc, policies=["mine"]) == []
    assert "is not among the policies (other)" in plsim.check_scenario(doc, policies=["other"])[0]


def test_a_score_one_sd_above_the_norm_mean_is_at_about_the_84th_percentile():
    """The national percentile is Phi(z): a mutant with erfc(z) for erfc(-z) puts it at the 16th."""
    doc = tiny_document()
    sim = plsim.Sim(doc, threads=1, counterfactual=False).run()
    a = sim.assessments
    # Cells whose mean score is about 1 SD above the norm have mean percentiles well above 50, and the
    # percentile rises with the SD score everywhere.
    assert np.corrcoef(a["mean_sd"], a["mean_percentile"])[0, 1] > 0.95
    high = a[a["mean_sd"] > 0.5]
    low = a[a["mean_sd"] < -0.5]
    assert (high["mean_percentile"] > 55).all() and (low["mean_percentile"] < 45).all()
    assert 0.5 * (1 + math.erf(1 / math.sqrt(2))) == pytest.approx(0.8413, abs=1e-4)


def test_reading_test_errors_are_not_the_math_errors():
    """Each subject's measurement error is its own draw: measured minus true scores of the two subjects
    are uncorrelated across students."""
    sim = plsim.Sim(plsim.load_scenario("national_baseline", years=1), threads=2, counterfactual=False).run()
    st = sim.students
    err = [st[f"{s}_score"] - sim.true_rit(s) for s in ("math", "reading")]
    assert abs(np.corrcoef(err[0], err[1])[0, 1]) < 0.05


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(seed=float("nan")), "/seed: expected a finite number (got nan)"),
    (lambda d: d["districts"][0]["schools"][0].update(enrollment=float("inf")),
     "/districts/0/schools/0/enrollment: expected a finite number (got inf)"),
    (lambda d: d.update(description="bad\ud800text"), "/description: expected valid Unicode text"),
])
def test_values_json_cannot_carry_are_scenario_errors_with_their_path(change, message):
    doc = tiny_document()
    change(doc)
    assert any(message in e for e in plsim.check_scenario(doc))
    with pytest.raises(plsim.ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plsim.Sim(doc)


@pytest.mark.parametrize("text, message", [
    ('{"name": "x", "districts": ' + "[" * 100000 + "]" * 100000 + "}", "nested deeper than 64 levels"),
    ('{"name": "x", "years": 1e400, "districts": []}', "invalid JSON"),
    (b'{"name": "\xc3"}', "invalid JSON"),
])
def test_files_the_parser_cannot_take_are_refused_with_a_message(tmp_path, capsys, text, message):
    path = tmp_path / "bad.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert plsim.cli.main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_min_cell_suppresses_the_values_of_small_rows(tmp_path):
    import pandas as pd

    out = tmp_path / "run"
    assert plsim.cli.main(["run", str(TINY_PATH), "--min-cell", "30", "--out", str(out)]) == 0
    a = pd.read_csv(out / "assessments.csv")
    small = a[a["n"] < 30]
    assert len(small) and small["suppressed"].all() and small["mean_rit"].isna().all()
    assert a.loc[a["n"] >= 30, "mean_rit"].notna().all() and not a.loc[a["n"] >= 30, "suppressed"].any()
    e = pd.read_csv(out / "effects.csv")
    assert e.loc[e["n"] < 30, "effect_sd"].isna().all()
    assert json.loads((out / "summary.json").read_text())["min_cell"] == 30
    doc = tiny_document()
    doc["min_cell"] = -1
    assert any("/min_cell: must be between 0" in e for e in plsim.check_scenario(doc))


def test_out_of_range_numbers_never_reach_the_checks_across_values():
    """A 1e30 where an integer is expected is reported once, by its range, and the cross-value checks
    (assessment weeks within the year) see the default instead of an undefined cast."""
    doc = tiny_document()
    doc["weeks_per_year"] = 1e30
    errors = plsim.check_scenario(doc)
    assert errors == ["tiny: /weeks_per_year: must be between 10 and 52 (got 1e+30)"]
