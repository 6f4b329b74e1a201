"""What Python hooks write is checked: a Process's writes to student columns must be finite and within
each column's range, a Policy's minutes within the bounds of scenario minutes. A refused (or raising)
hook has its writes undone, so run() resumes the run at that hook as if it had never run."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import plsim
from test_extend import ROTATION_MINUTES, Enthusiasm, PyRotation, assert_same_results, district


class Spoiler(Enthusiasm):
    """Enthusiasm that, once, in week 4 of the policy arm, first does its work and then writes a bad
    value into `column` at student `index`."""

    def __init__(self, column: str, value: float, index: int = 17):
        super().__init__()
        self.column, self.value, self.index, self.spoiled = column, value, index, False

    def on_week(self, ctx):
        super().on_week(ctx)
        if ctx.arm == "policy" and ctx.week == 3 and not self.spoiled:
            self.spoiled = True
            ctx.writable(self.column)[self.index] = self.value


@pytest.fixture(scope="module")
def enthusiastic() -> plsim.Sim:
    return plsim.Sim(district("station_rotation"), threads=2, processes=[Enthusiasm()]).run()


@pytest.mark.parametrize("column, value, expected", [
    ("engagement", np.nan, "engagement[17] = nan (1 bad values): engagement must be finite, at least 0 and at most 1"),
    ("math_p_known", 1.5, "math_p_known[17] = 1.5 (1 bad values): math_p_known must be finite, at least 0 and at most 1"),
    ("reading_learning_rate", -0.5, "reading_learning_rate[17] = -0.5 (1 bad values): reading_learning_rate must be "
                                    "finite, at least 0;"),
    ("attendance", np.inf, "attendance[17] = inf (1 bad values)"),
], ids=["NaN engagement", "p_known above 1", "negative learning rate", "infinite attendance"])
def test_a_bad_write_stops_the_run_naming_hook_column_index_and_value_and_run_resumes_it(
        enthusiastic, column, value, expected):
    sim = plsim.Sim(district("station_rotation"), threads=2, processes=[Spoiler(column, value)])
    with pytest.raises(plsim.HookWriteError) as info:
        sim.run()
    assert str(info.value).startswith(f"Spoiler.on_week wrote {expected}"), str(info.value)
    assert "week 4" in info.value.__notes__[0] and "run() resumes it" in info.value.__notes__[0]
    assert np.isfinite(sim.students[column]).all(), "the hook's writes were undone"
    sim.run()  # the hook runs again from the state before it, now without the bad write
    assert_same_results(sim, enthusiastic)


def test_a_hook_that_raises_after_writing_has_its_writes_undone():
    class WritesThenFails(plsim.Process):
        def on_week(self, ctx):
            ctx.writable("engagement")[:] = 0.0
            raise RuntimeError("after writing")

    sim = plsim.Sim(district("traditional"), threads=1, counterfactual=False, processes=[WritesThenFails()])
    with pytest.raises(RuntimeError):
        sim.run()
    assert (sim.students["engagement"] > 0).all()


class Minutes(PyRotation):
    def __init__(self, minutes):
        self._minutes = minutes

    def minutes(self, ctx):
        return self._minutes


def test_policy_minutes_obey_the_bound_of_scenario_minutes():
    sim = plsim.Sim(district("py_rotation"), threads=1, policies=[Minutes(np.array([300.0, 0, 0, 0, 1e9]))])
    with pytest.raises(ValueError, match=r"minutes must be finite and between 0 and 3000, as in scenario files "
                                         r"\(got 1000000000\.0 in tutoring\)"):
        sim.run()


def test_minutes_written_in_place_are_checked_and_undone_when_refused():
    class InPlace(PyRotation):
        def minutes(self, ctx):
            ctx.minutes[ctx.mask] = ROTATION_MINUTES
            ctx.minutes[np.flatnonzero(ctx.mask)[3], 4] = -1.0

    sim = plsim.Sim(district("py_rotation"), threads=1, policies=[InPlace()])
    with pytest.raises(ValueError, match=r"got -1\.0 in tutoring for student 3 of the policy's schools"):
        sim.run()
    assert (sim._core.python_policy_minutes >= 0).all()


def test_two_policies_with_one_name_are_refused():
    with pytest.raises(ValueError, match=r"^policies: two or more policies are named 'py_rotation'"):
        plsim.Sim(district("py_rotation"), policies=[PyRotation(), PyRotation()])


def test_a_policy_named_traditional_is_refused():
    class Traditional(PyRotation):
        name = "traditional"

    with pytest.raises(ValueError, match=r"^policies: a policy may not be named 'traditional'"):
        plsim.Sim(district("traditional"), policies=[Traditional()])


def test_a_policy_that_no_school_uses_gets_a_warning():
    with pytest.warns(UserWarning, match=r"no school of scenario .* uses the policy 'py_rotation', so it never runs"):
        plsim.Sim(district("traditional"), policies=[PyRotation()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plsim.Sim(district("py_rotation"), policies=[PyRotation()])


class Coaching(plsim.Process):
    """Every teacher's PL capacity raised to the top of its range at the first week: what a generous
    coaching programme would do, written through the teacher columns."""

    def on_week(self, ctx):
        if ctx.week == 0:
            ctx.writable("teachers.base_capacity")[:] = 1.5


def test_a_process_can_read_and_write_teacher_columns_and_the_engine_follows():
    plain = plsim.Sim(district("station_rotation"), threads=2, counterfactual=False).run()
    coached = plsim.Sim(district("station_rotation"), threads=2, counterfactual=False, processes=[Coaching()]).run()
    assert (coached._core.teachers["base_capacity"] == np.float32(1.5)).all()
    assert (coached._core.teachers["capacity"] > plain._core.teachers["capacity"]).mean() > 0.9
    spring = lambda s: s.assessments[s.assessments["season"] == "spring"]["mean_true_rit"].mean()
    assert spring(coached) > spring(plain), "more capacity delivers more of the model, and students learn more"


def test_a_teacher_column_written_out_of_range_is_refused_naming_it():
    class Bad(plsim.Process):
        def on_week(self, ctx):
            assert set(ctx.teachers) >= {"id", "active", "experience", "capacity"}
            ctx.writable("teachers.value_added")[0] = -1.0

    sim = plsim.Sim(district("traditional"), threads=1, counterfactual=False, processes=[Bad()])
    with pytest.raises(plsim.HookWriteError, match=r"Bad.on_week wrote teachers.value_added\[0\] = -1.0"):
        sim.run()
    assert (sim._core.teachers["value_added"] > 0).all(), "the write was undone"
