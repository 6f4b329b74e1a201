"""The plsim command: run (summary, summary.json, assessments.csv), validate, schema, list, and its
handling of bad arguments, invalid scenarios and Ctrl-C. Subprocess tests run
`python -m plsim` with the interpreter running the tests; the rest call plsim.cli.main."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import plsim
import plsim.cli
from conftest import INVALID_PATH, NOT_JSON_PATH, TINY_PATH

CSV_COLUMNS = ["year", "season", "subject", "grade", "school_id", "n", "mean_rit", "mean_percentile", "mean_sd"]


def plsim_command(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def tiny_cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    done = plsim_command("run", TINY_PATH, "--out", out, "--threads", "1", "--seed", "3")
    return done, out


# --- run ------------------------------------------------------------------------------------------

def test_run_exits_0_and_prints_a_summary(tiny_cli_run):
    done, out = tiny_cli_run
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == f"plsim {plsim.__version__}: scenario tiny (seed 3, 1 threads)"
    assert "520 students, 26 teachers, 26 classrooms, 4 schools, 1 districts" in lines[1]
    assert "1 year, 36 weeks, 18,720 student-weeks" in lines[2]
    assert any(line.strip().startswith("math") and "national percentile" in line for line in lines)
    assert any(line.strip().startswith("grade  K") for line in lines), "the growth table starts at kindergarten"
    # tiny has a station-rotation school: the counterfactual twin runs and its effects are reported too.
    assert any(line.strip().startswith("effect      math:") and "against the counterfactual twin" in line
               for line in lines)
    # tiny's station-rotation school costs money (licences, devices, planning time, PD): costs.csv too.
    assert any(line.strip().startswith("money       $") for line in lines)
    assert lines[-1].strip() == (f"wrote       {out / 'summary.json'}, {out / 'assessments.csv'}, "
                                 f"{out / 'subgroups.csv'}, {out / 'effects.csv'}, {out / 'costs.csv'}")


def test_run_writes_a_summary_json_describing_the_run(tiny_cli_run):
    _, out = tiny_cli_run
    s = json.loads((out / "summary.json").read_text())
    assert (s["scenario"], s["source"], s["seed"], s["threads"]) == ("tiny", str(TINY_PATH), 3, 1)
    assert s["counts"] == {"students": 520, "teachers": 26, "classrooms": 26, "schools": 4, "districts": 1}
    assert (s["years"], s["weeks_simulated"], s["student_weeks"], s["finished"]) == (1, 36, 520 * 36, True)
    assert isinstance(s["seconds"], float) and s["seconds"] >= 0
    assert set(s["headline"]) == {"math", "reading"}
    assert {"mean_rit", "mean_percentile", "mean_sd", "growth_vs_norm", "students", "year"} <= set(s["headline"]["math"])


def test_run_writes_the_assessments_of_the_api_run_to_csv(tiny_cli_run):
    _, out = tiny_cli_run
    csv = pd.read_csv(out / "assessments.csv")
    assert list(csv.columns) == CSV_COLUMNS
    api = plsim.Sim(TINY_PATH, threads=1, seed=3).run().assessments
    assert len(csv) == len(api)
    for column in ("year", "grade", "school_id", "n"):
        assert (csv[column].to_numpy() == api[column].to_numpy()).all(), column
    for column in ("season", "subject"):
        assert (csv[column].to_numpy() == api[column].astype(str).to_numpy()).all(), column
    for column in ("mean_rit", "mean_percentile", "mean_sd"):
        assert (csv[column] - api[column]).abs().max() <= 1e-6, f"{column} is written with 6 decimals"


def test_run_writes_the_effects_against_the_counterfactual_twin_to_csv(tiny_cli_run):
    _, out = tiny_cli_run
    csv = pd.read_csv(out / "effects.csv")
    api = plsim.Sim(TINY_PATH, threads=1, seed=3).run().effects
    assert list(csv.columns) == list(api.columns)
    assert len(csv) == len(api) > 0
    for column in ("year", "grade", "school_id", "n"):
        assert (csv[column].to_numpy() == api[column].to_numpy()).all(), column
    for column in ("subject", "model"):
        assert (csv[column].to_numpy() == api[column].astype(str).to_numpy()).all(), column
    for column in ("effect_rit", "effect_sd", "measured_effect_rit"):
        assert (csv[column] - api[column]).abs().max() <= 1e-6, f"{column} is written with 6 decimals"


def test_run_without_out_prints_the_summary_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert plsim.cli.main(["run", str(TINY_PATH), "--threads", "1"]) == 0
    assert "scenario tiny (seed 11, 1 threads)" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_run_of_a_shipped_scenario_by_name_uses_its_seed(capsys):
    assert plsim.cli.main(["run", "national_baseline", "--threads", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"plsim {plsim.__version__}: scenario national_baseline (seed 20201, 2 threads)")
    assert "99,840 students" in out


def test_run_of_an_invalid_scenario_exits_2_listing_every_error_without_a_traceback():
    done = plsim_command("run", INVALID_PATH)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == plsim.check_scenario(INVALID_PATH)


def test_run_of_a_missing_scenario_exits_2_naming_the_shipped_ones(capsys):
    assert plsim.cli.main(["run", "no_such_scenario"]) == 2
    err = capsys.readouterr().err
    assert "no file 'no_such_scenario'" in err and "national_baseline" in err and "district_station_rotation" in err


def test_ctrl_c_during_a_run_exits_130_with_a_message(monkeypatch, capsys):
    """The run is stopped between two weeks by the engine's KeyboardInterrupt, as Ctrl-C does."""

    class InterruptedSim(plsim.Sim):
        def run(self, *, progress=False, until_year=None):
            def interrupt(done, total):
                if done == 5:
                    raise KeyboardInterrupt

            return super().run(progress=interrupt, until_year=until_year)

    monkeypatch.setattr(plsim.commands.run, "Sim", InterruptedSim)
    assert plsim.cli.main(["run", str(TINY_PATH), "--threads", "1"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "plsim: interrupted\n"
    assert captured.out == ""


# --- bad arguments --------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--threads", "-1"], "argument --threads: must be 0 or more (got -1)"),
    (["--seed", "-3"], "argument --seed: must be 0 or more (got -3)"),
    (["--threads", "two"], "argument --threads: expected an integer (got 'two')"),
], ids=["negative threads", "negative seed", "threads not a number"])
def test_bad_run_arguments_exit_2_with_a_message_naming_the_argument(args, message):
    done = plsim_command("run", TINY_PATH, *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_seed_too_large_for_the_engine_exits_2_with_a_message_naming_seed():
    done = plsim_command("run", TINY_PATH, "--seed", 2**64)
    assert "Traceback" not in done.stderr and done.returncode == 2 and "--seed" in done.stderr, (
        f"PACKAGE BUG: plsim run --seed {2**64} exited {done.returncode} with "
        f"{[line for line in done.stderr.splitlines() if 'Error' in line][-1:]}")


def test_a_command_is_required():
    done = plsim_command()
    assert done.returncode == 2
    assert "usage: plsim" in done.stderr


def test_version_prints_the_package_version():
    done = plsim_command("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"plsim {plsim.__version__}"


# --- validate, schema, list -----------------------------------------------------------------------

@pytest.mark.parametrize("scenario", [str(TINY_PATH), "national_baseline"])
def test_validate_exits_0_on_a_valid_scenario(scenario, capsys):
    assert plsim.cli.main(["validate", scenario]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{scenario}: valid\n"
    assert captured.err == ""


def test_validate_exits_1_printing_every_error_to_stderr():
    done = plsim_command("validate", INVALID_PATH)
    assert done.returncode == 1
    assert done.stdout == ""
    errors = plsim.check_scenario(INVALID_PATH)
    assert len(errors) == 6
    assert done.stderr.splitlines() == errors + [f"{INVALID_PATH}: 6 errors"]


def test_validate_reports_a_file_that_is_not_json(capsys):
    assert plsim.cli.main(["validate", str(NOT_JSON_PATH)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{NOT_JSON_PATH}: invalid JSON: ")
    assert err[1] == f"{NOT_JSON_PATH}: 1 error"


def test_validate_of_a_missing_file_exits_non_zero_naming_it(capsys):
    assert plsim.cli.main(["validate", "missing.json"]) != 0
    assert "'missing.json'" in capsys.readouterr().err


def test_schema_prints_the_json_schema():
    done = plsim_command("schema")
    assert done.returncode == 0
    assert json.loads(done.stdout) == plsim.scenario_schema()


def test_schema_out_writes_the_schema_to_a_file(tmp_path, capsys):
    target = tmp_path / "scenario.schema.json"
    assert plsim.cli.main(["schema", "--out", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text()) == plsim.scenario_schema()


def test_list_names_every_shipped_scenario_with_its_file(capsys):
    assert plsim.cli.main(["list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert {name: path for name, path in rows} == {n: str(p) for n, p in plsim.shipped_scenarios().items()}
    assert {"national_baseline", "district_station_rotation"} <= {name for name, _ in rows}


@pytest.mark.parametrize("value, twin", [("never", False), ("always", True), ("auto", True)])
def test_counterfactual_takes_never_always_or_auto(value, twin, capsys):
    assert plsim.cli.main(["run", str(TINY_PATH), "--threads", "1", "--counterfactual", value]) == 0
    assert ("effect " in capsys.readouterr().out) == twin  # tiny.json has a personalized school: auto runs the twin
