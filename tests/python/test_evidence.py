"""The evidence suite (plsim evidence, python/plsim/evidence.py): verdicts against tolerances read from
the data files, the outputs (evidence.csv, evidence.md, evidence.png), figures not expressed, errors of
runs that cannot be made, the exit code, the data directory and its errors. All but the last test use a
synthetic data directory and a fake registry, so they run where ../shared/data is absent; the last runs
`plsim evidence --quick` for real on two cheap figures when the shared data exists. No test asserts
that today's model passes any published figure."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from plsim import evidence as ev
from conftest import REPO, tiny_document

TARGETS = {"_about": "made-up figures in the format of targets.json", "targets": [
    {"id": "alpha", "what": "an effect", "value": 0.5, "tolerance": "lands in 0.4 to 0.6 in a scenario"},
    {"id": "beta", "what": "a spread", "value": [1.0, 2.0], "tolerance": "inside the range"},
    {"id": "gamma", "what": "a growth ratio", "value": 1.0, "tolerance": "within +-10% of the norm"},
    {"id": "omega", "what": "an input", "value": {"usd": 100}},
]}
EVIDENCE = {"_about": "made-up figures in the format of evidence.json", "figures": [
    {"id": "delta", "what": "a ratio", "value": {"x": 3.0, "y": 6.0}, "tolerance": {"ratio": [2.0, 4.0]}},
    {"id": "epsilon", "what": "a count", "value": 10},
]}


@pytest.fixture
def data(tmp_path):
    """A data directory like ../shared/data with made-up figures."""
    d = tmp_path / "data"
    d.mkdir()
    (d / "targets.json").write_text(json.dumps(TARGETS))
    (d / "evidence.json").write_text(json.dumps(EVIDENCE))
    return d


def constant(value):
    return lambda runs, entry: value


def seed_mean(runs, entry) -> float:
    """The mean over seeds of the fake run's value (the seed itself)."""
    return float(np.mean([r["seeded"] for r in runs]))


WITHIN_PERCENT = ev.Text(r"within \+-([\d.]+)%", "percent")

#: Fake runs: made in code, no simulation (each seed's run is the seed).
FAKE_RUNS = {"seeded": ev.RunSpec(build=lambda seed, threads: seed)}


def passing_registry() -> list:
    return [
        ev.Figure("alpha", "targets.json", "constant inside", (), constant(0.55)),
        ev.Figure("beta", "targets.json", "the seeds' mean", ("seeded",), seed_mean, tolerance=ev.Band(("value",))),
        ev.Figure("gamma", "targets.json", "a ratio", (), constant(1.09), tolerance=WITHIN_PERCENT),
        ev.Figure("delta:ratio", "evidence.json", "derived", (), constant(2.5),
                  published=lambda e: ev.Value(e["value"]["y"] / e["value"]["x"], "y / x"),
                  tolerance=ev.Band(("tolerance", "ratio"))),
        ev.Figure("epsilon", "evidence.json", "the project's band", (), constant(11.0), tolerance=ev.ProjectAround(2.0)),
        ev.NotExpressed("omega", "targets.json", "an input, not an outcome"),
    ]


def evaluate(data, registry, seeds=3, runs=FAKE_RUNS):
    return ev.evaluate(registry, data=data, seeds=seeds, runs=runs).set_index("id")


# --- verdicts -------------------------------------------------------------------------------------

def test_a_value_inside_its_band_passes_on_both_ends_and_outside_or_missing_it_does_not():
    assert ev._verdict(0.4, 0.4, 0.6) == ev._verdict(0.6, 0.4, 0.6) == ev._verdict(0.5, 0.4, 0.6) == "pass"
    assert ev._verdict(0.39, 0.4, 0.6) == ev._verdict(0.61, 0.4, 0.6) == "fail"
    assert ev._verdict(float("nan"), 0.4, 0.6) == ev._verdict(None, 0.4, 0.6) == "error"


def test_published_values_and_tolerances_are_read_from_the_data_files(data):
    t = evaluate(data, passing_registry())
    assert (t.loc["alpha", ["published", "low", "high"]].tolist()) == [0.5, 0.4, 0.6], "'0.4 to 0.6' in the text"
    assert t.loc["beta", ["published", "low", "high"]].tolist() == [1.5, 1.0, 2.0], "a range: its midpoint, and the band"
    assert t.loc["gamma", ["low", "high"]].tolist() == pytest.approx([0.9, 1.1]), "'within +-10%' of 1"
    assert t.loc["delta:ratio", ["published", "low", "high"]].tolist() == [2.0, 2.0, 4.0], "derived from the entry"
    assert t.loc["epsilon", ["published", "low", "high"]].tolist() == [10.0, 8.0, 12.0]
    assert "tolerance: targets.json /tolerance \"0.4 to 0.6\"" in t.loc["alpha", "note"]
    assert "tolerance: evidence.json /tolerance/ratio" in t.loc["delta:ratio", "note"]
    assert "tolerance: the project's (the published value -+ 2)" in t.loc["epsilon", "note"]
    assert "published range 1 to 2" in t.loc["beta", "note"]


def test_the_simulated_value_pools_the_seeds_and_the_interval_is_the_range_of_single_seeds(data):
    t = evaluate(data, passing_registry(), seeds=3)
    row = t.loc["beta"]
    assert (row["simulated"], row["interval_low"], row["interval_high"], row["n_seeds"]) == (2.0, 1.0, 3.0, 3)
    assert row["interval_source"] == "seeds 1-3: min-max of single-seed values"
    assert row["verdict"] == "pass"
    assert evaluate(data, passing_registry(), seeds=1).loc["beta", "interval_source"].startswith("seed 1:")


def test_a_measure_may_give_its_own_values_per_seed_as_the_interval(data):
    def worst(runs, entry):
        return ev.Value(0.5, "worst cell", seeds=(0.45, 0.52))

    t = evaluate(data, [ev.Figure("alpha", "targets.json", "w", ("seeded",), worst)])
    assert t.loc["alpha", ["simulated", "interval_low", "interval_high"]].tolist() == [0.5, 0.45, 0.52]
    assert t.loc["alpha", "note"].startswith("worst cell")


def test_worst_cell_takes_the_pooled_extreme_and_each_seeds_value_of_that_cell():
    a = pd.Series([1.02, 0.95, 1.0], index=["x", "y", "z"])
    b = pd.Series([1.08, 0.97, 1.0], index=["x", "y", "z"])
    value = ev._worst_cell([a, b], 1.0, lambda cell, pooled: f"cell {cell}")
    assert value.value == pytest.approx(1.05) and value.note == "cell x"
    assert value.seeds == (1.02, 1.08)


def test_outside_the_band_fails(data):
    registry = passing_registry()
    registry[0] = ev.Figure("alpha", "targets.json", "too large", (), constant(0.7))
    t = evaluate(data, registry)
    assert t.loc["alpha", "verdict"] == "fail"
    assert (t.drop(index=["alpha", "omega"])["verdict"] == "pass").all()


# --- figures not expressed, and errors ------------------------------------------------------------

def test_figures_not_expressed_are_listed_with_their_reason_in_the_table_and_the_printout(data):
    t = evaluate(data, passing_registry())
    row = t.loc["omega"]
    assert row["verdict"] == "not expressed" and row["note"] == "an input, not an outcome"
    assert not np.isfinite(row["simulated"]) and row["n_seeds"] == 0
    printed = ev.format_table(t.reset_index())
    assert "not expressed:\n  omega: an input, not an outcome" in printed
    assert "5 pass, 0 fail, 0 error, 1 not expressed" in printed


def test_a_scenario_that_fails_validation_makes_its_figures_errors_with_the_message_and_not_a_crash(data, tmp_path):
    """Like fadeout_after_end until the engine knows `model_years`: the run is refused, the suite goes on."""
    doc = tiny_document()
    doc["districts"][0]["schools"][0]["not_a_key"] = [1, 1]
    path = tmp_path / "refused.json"
    path.write_text(json.dumps(doc))
    runs = dict(FAKE_RUNS, refused=ev.RunSpec(str(path)))
    registry = passing_registry() + [ev.Figure("delta:refused", "evidence.json", "r", ("refused",), constant(3.0),
                                               published=("value", "x"), tolerance=ev.Band(("tolerance", "ratio")))]
    t = evaluate(data, registry, runs=runs)
    row = t.loc["delta:refused"]
    assert row["verdict"] == "error"
    assert "run refused" in row["note"] and "/districts/0/schools/0/not_a_key: unknown key" in row["note"]
    assert np.isfinite(row["low"]), "the published figure is still reported"
    assert (t.drop(index=["delta:refused", "omega"])["verdict"] == "pass").all(), "the other figures still run"
    assert ev.exit_code(t) == 1


def test_a_run_or_a_measure_that_raises_is_an_error_of_its_figures_only(data):
    def broken(seed, threads):
        raise RuntimeError("the engine stopped")

    def bad_measure(runs, entry):
        raise KeyError("no such column")

    runs = dict(FAKE_RUNS, broken=ev.RunSpec(build=broken))
    registry = passing_registry() + [ev.Figure("alpha:broken", "targets.json", "b", ("broken",), constant(0.5)),
                                     ev.Figure("alpha:measure", "targets.json", "m", (), bad_measure)]
    t = evaluate(data, registry, runs=runs)
    assert t.loc["alpha:broken", "verdict"] == "error" and "the engine stopped" in t.loc["alpha:broken", "note"]
    assert t.loc["alpha:measure", "verdict"] == "error" and "no such column" in t.loc["alpha:measure", "note"]
    assert t.loc["alpha", "verdict"] == "pass"


def test_a_value_the_runs_cannot_give_or_a_tolerance_the_data_does_not_say_is_an_error(data):
    registry = [ev.Figure("alpha", "targets.json", "nan", (), constant(float("nan"))),
                ev.Figure("gamma", "targets.json", "unreadable", (), constant(1.0)),  # no "A to B" in its text
                ev.Figure("zeta", "targets.json", "absent", (), constant(1.0))]
    t = evaluate(data, registry)
    assert t["verdict"].tolist() == ["error"] * 3
    assert "no value" in t.loc["alpha", "note"]
    assert "/tolerance 'within +-10% of the norm' does not say" in t.loc["gamma", "note"]
    assert "targets.json has no figure 'zeta'" in t.loc["zeta", "note"]


# --- outputs --------------------------------------------------------------------------------------

def test_outputs_are_the_csv_with_exactly_its_columns_the_markdown_table_and_a_png(data, tmp_path):
    registry = passing_registry()
    registry[0] = ev.Figure("alpha", "targets.json", "too large", (), constant(0.7))
    table = ev.evaluate(registry, data=data, seeds=2, runs=FAKE_RUNS)
    paths = ev.write_outputs(table, tmp_path / "out")
    assert [p.name for p in paths] == ["evidence.csv", "evidence.md", "evidence.png"]
    csv = pd.read_csv(paths[0])
    assert list(csv.columns) == ["id", "what", "published", "low", "high", "simulated", "interval_low",
                                 "interval_high", "n_seeds", "verdict", "interval_source", "note"]
    assert csv["id"].tolist() == [f.id for f in registry]
    assert csv.set_index("id").loc["alpha", "verdict"] == "fail"
    md = paths[1].read_text()
    assert md.startswith("| figure | what is simulated | published | tolerance | simulated [interval over seeds] | "
                         "verdict |")
    assert "| `alpha` | too large | 0.500 | 0.400 to 0.600 | 0.700 [0.700, 0.700] | **fail** |" in md
    assert "Not expressed:\n\n* `omega`: an input, not an outcome" in md
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".*partial*")), "written atomically, nothing left behind"


def test_the_plot_draws_values_far_outside_the_band_and_errors(data, tmp_path):
    registry = [ev.Figure("alpha", "targets.json", "far", (), constant(1e6)),
                ev.Figure("gamma", "targets.json", "error", (), constant(float("nan")),
                          tolerance=WITHIN_PERCENT)]
    ev.plot(ev.evaluate(registry, data=data, seeds=1, runs=FAKE_RUNS), tmp_path / "e.png")
    assert (tmp_path / "e.png").stat().st_size > 1000


# --- the command ----------------------------------------------------------------------------------

@pytest.fixture
def fake(monkeypatch):
    """plsim evidence on the fake registry and runs."""
    def use(registry):
        monkeypatch.setattr(ev, "REGISTRY", registry)
        monkeypatch.setattr(ev, "RUNS", FAKE_RUNS)
    return use


def test_plsim_evidence_exits_0_when_every_figure_passes(data, tmp_path, fake, capsys):
    fake(passing_registry())
    assert plsim.cli.main(["evidence", "--data", str(data), "--out", str(tmp_path / "out"), "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "seeds 1-2" in out and "5 pass, 0 fail, 0 error, 1 not expressed" in out
    assert (tmp_path / "out" / "evidence.csv").is_file()


def test_plsim_evidence_exits_1_on_a_fail(data, tmp_path, fake, capsys):
    registry = passing_registry()
    registry[2] = ev.Figure("gamma", "targets.json", "off", (), constant(1.2), tolerance=WITHIN_PERCENT)
    fake(registry)
    assert plsim.cli.main(["evidence", "--data", str(data), "--out", str(tmp_path / "out"), "--quick"]) == 1
    out = capsys.readouterr().out
    assert "seeds 1-2 (--quick)" in out, "--quick runs 2 seeds"
    assert "1 fail" in out


def test_plsim_evidence_exits_1_on_an_error(data, tmp_path, fake):
    fake(passing_registry() + [ev.Figure("zeta", "targets.json", "absent", (), constant(1.0))])
    assert plsim.cli.main(["evidence", "--data", str(data), "--out", str(tmp_path / "out"), "--seeds", "1"]) == 1


def test_a_missing_data_directory_is_an_error_naming_where_it_looked(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nowhere"
    assert plsim.cli.main(["evidence", "--data", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert str(missing) in capsys.readouterr().err
    monkeypatch.setenv("PLSIM_DATA", str(missing))
    with pytest.raises(FileNotFoundError, match=f"PLSIM_DATA.*{re.escape(str(missing))}"):
        ev.data_dir()
    monkeypatch.delenv("PLSIM_DATA")
    monkeypatch.setattr(ev, "_source_roots", lambda: [])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"looked in .*shared/data.*Give --data DIR or set PLSIM_DATA"):
        ev.data_dir()


def test_a_data_directory_without_the_files_names_the_missing_one(tmp_path):
    (tmp_path / "targets.json").write_text(json.dumps(TARGETS))
    with pytest.raises(FileNotFoundError, match="no evidence.json in it"):
        ev.data_dir(tmp_path)


def test_the_data_directory_is_data_then_plsim_data_then_shared_data_beside_the_current_directory(data, tmp_path,
                                                                                              monkeypatch):
    beside = tmp_path / "shared" / "data"
    beside.mkdir(parents=True)
    for name in ev.DATA_FILES:
        (beside / name).write_text((data / name).read_text())
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("PLSIM_DATA", raising=False)
    assert ev.data_dir() == beside.resolve()
    monkeypatch.setenv("PLSIM_DATA", str(data))
    assert ev.data_dir() == data.resolve()
    assert ev.data_dir(beside) == beside.resolve()


@pytest.mark.parametrize("seeds, message", [("0", "must be 1 or more"), ("two", "expected an integer")])
def test_bad_seeds_are_refused_naming_the_argument(seeds, message, capsys):
    with pytest.raises(SystemExit) as info:
        plsim.cli.main(["evidence", "--seeds", seeds])
    assert info.value.code == 2
    assert f"argument --seeds: {message}" in capsys.readouterr().err
    with pytest.raises(ValueError, match="seeds: expected a positive number"):
        ev.evaluate([], seeds=0)


def test_run_evidence_is_the_package_api(data, tmp_path, monkeypatch):
    monkeypatch.setattr(ev, "RUNS", FAKE_RUNS)
    table = plsim.run_evidence(registry=passing_registry(), data=data, seeds=2, out=tmp_path / "o")
    assert list(table.columns) == list(ev.COLUMNS)
    assert (tmp_path / "o" / "evidence.md").is_file()


# --- the measures ---------------------------------------------------------------------------------

class FakeRun:
    def __init__(self, **tables):
        self.__dict__.update(tables)


def test_the_cohort_is_followed_up_a_grade_each_year():
    rows = []
    for year in (1, 2):
        for grade in range(0, 7):
            rows.append({"year": year, "subject": "math", "grade": grade, "subgroup": "pl_cohort", "n": 10,
                         "effect_true_sd": 10 * (year - 1) + grade})
    run = FakeRun(subgroups=pd.DataFrame(rows))
    assert ev.cohort_effect(run, 1, "math", (1, 2)) == pytest.approx(1.5)
    assert ev.cohort_effect(run, 2, "math", (1, 2)) == pytest.approx(12.5), "grades 2 and 3 in the second year"
    assert math.isnan(ev.cohort_effect(run, 1, "reading", (1, 2)))


def test_the_effect_of_personalized_schools_leaves_traditional_ones_out_and_weights_by_students():
    effects = pd.DataFrame({"year": [0, 0, 0], "subject": ["math"] * 3, "model": ["tutoring", "tutoring", "traditional"],
                            "n": [10, 30, 100], "effect_sd": [0.4, 0.2, 5.0]})
    assert ev.pl_effect(FakeRun(effects=effects), "math") == pytest.approx(0.25)


# --- the registry against the shipped scenarios and the real data -----------------------------------

def test_every_figure_names_runs_that_exist_and_every_run_a_shipped_scenario():
    shipped = plsim.shipped_scenarios()
    for figure in ev.REGISTRY:
        for name in getattr(figure, "runs", ()):
            assert name in ev.RUNS, f"{figure.id}: no run {name}"
    for name, spec in ev.RUNS.items():
        assert spec.build is not None or spec.scenario in shipped, f"{name}: {spec.scenario} is not shipped"
    ids = [f.id for f in ev.REGISTRY]
    assert len(ids) == len(set(ids))


def test_the_fadeout_scenario_is_a_one_year_tutoring_programme_followed_for_four_years():
    doc = json.loads((REPO / "scenarios" / "evidence" / "fadeout_after_end.json").read_text())
    tutoring = json.loads((REPO / "scenarios" / "tutoring.json").read_text())
    assert doc["years"] == 4
    for group, original in zip(doc["districts"][0]["schools"], tutoring["districts"][0]["schools"]):
        assert group.pop("model_years") == [1, 1]
        assert group == original


def shared_data():
    try:
        return ev.data_dir()
    except FileNotFoundError as error:
        pytest.skip(f"no shared data directory: {error}")


def test_every_published_figure_is_in_the_registry_expressed_or_not():
    entries = ev.load_data(shared_data())
    listed = {(f.file, f.data_id) for f in ev.REGISTRY}
    assert set(entries) == listed


def test_plsim_evidence_quick_runs_for_real_on_two_cheap_figures(tmp_path, monkeypatch, capsys):
    shared_data()
    cheap = [f for f in ev.REGISTRY if f.id in ("nglc_effect_math", "tutoring_cost", "bkt_parameters")]
    monkeypatch.setattr(ev, "REGISTRY", cheap)
    code = plsim.cli.main(["evidence", "--quick", "--out", str(tmp_path / "out"), "--threads", "2"])
    table = pd.read_csv(tmp_path / "out" / "evidence.csv").set_index("id")
    assert table.index.tolist() == ["nglc_effect_math", "bkt_parameters", "tutoring_cost"]
    expressed = table.drop(index="bkt_parameters")
    assert expressed["verdict"].isin(["pass", "fail"]).all(), expressed["note"].to_dict()
    assert (expressed["n_seeds"] == 2).all() and np.isfinite(expressed["simulated"]).all()
    assert expressed.loc["nglc_effect_math", ["low", "high"]].tolist() == [0.05, 0.13]
    assert code == (1 if (expressed["verdict"] == "fail").any() else 0)
    assert "bkt_parameters: a fit of BKT" in capsys.readouterr().out
