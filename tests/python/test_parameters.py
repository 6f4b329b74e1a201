"""Parameters declared once in the engine: plsim.parameters(), `plsim params`, docs/parameters.md and
the schedule as Python sees them."""
from __future__ import annotations

import plsim
import plsim.cli
from conftest import REPO, TINY_PATH


def test_parameters_is_one_row_per_settable_value_with_its_metadata():
    table = plsim.parameters()
    assert list(table.columns[:7]) == ["path", "default", "min", "max", "unit", "doc", "source"]
    assert table["path"].is_unique
    row = table.set_index("path").loc["learning.learn_rate"]
    assert row["default"] == 0.08 and row["min"] == 0 and row["max"] == 1
    assert "ASSISTments" in row["source"]
    assert table["doc"].str.len().min() > 0 and table["source"].str.len().min() > 0


def test_parameter_defaults_are_what_a_scenario_resolves_to():
    resolved = plsim.load_scenario(TINY_PATH).resolved["parameters"]
    for path, default in zip(plsim.parameters()["path"], plsim.parameters()["default"]):
        value = resolved
        for key in path.split("."):
            value = value[key]
        assert value == default, path


def test_plsim_params_prints_the_table_and_filters_by_path(capsys):
    assert plsim.cli.main(["params", "mode_efficiency"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["path", "default", "range", "unit"]
    assert [line.split()[0] for line in out[1:-1]] == [f"learning.mode_efficiency.{m}" for m in plsim.MODES]
    assert plsim.cli.main(["params", "no_such_thing"]) == 1
    assert "no parameter path contains 'no_such_thing'" in capsys.readouterr().err


def test_docs_parameters_md_is_current(capsys):
    """Regenerate with `plsim params --markdown > docs/parameters.md`."""
    assert plsim.cli.main(["params", "--markdown"]) == 0
    assert capsys.readouterr().out == (REPO / "docs" / "parameters.md").read_text()


def test_schedule_shows_the_engines_stages_in_order_with_their_time():
    sim = plsim.Sim(TINY_PATH, threads=1, counterfactual=False)
    before = sim.schedule
    assert before["calls"].sum() == 0
    assert list(before["stage"][:11]) == ["summer", "enrolment", "new_year", "teacher_development", "teachers",
                                          "schools", "python_rollout", "funding", "rollout", "classrooms", "practice"]
    sim.run()
    after = sim.schedule.set_index("stage")
    weeks = sim.counts["weeks_simulated"]
    assert after.loc["learning", "calls"] == weeks and after.loc["learning", "wall_seconds"] > 0
    assert after.loc["assessment", "calls"] == 3 * sim.scenario.years
    assert set(after["kind"]) == {"engine", "python hook"}


class Nudge(plsim.Process):
    def on_week(self, ctx):
        ctx.writable("engagement")[:] *= 1.0


def test_schedule_counts_python_hooks_and_their_time():
    sim = plsim.Sim(TINY_PATH, threads=1, counterfactual=False, processes=[Nudge()]).run()
    s = sim.schedule.set_index("stage")
    assert s.loc["python_processes", "calls"] == sim.counts["weeks_simulated"]
    assert s.loc["python_processes", "wall_seconds"] > 0
