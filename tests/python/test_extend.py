"""Extending plsim from Python: a `plsim.Policy` is an instructional model whose minutes Python sets each
week, a `plsim.Process` a mechanism whose hooks run after each week and year on every arm. Hooks see
read-only student views, write through ctx.writable, draw from named counter-based streams shared by
both arms, and leave a run that an exception or Ctrl-C stopped resumable to the same results."""
from __future__ import annotations

import _thread
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import plsim
from conftest import elementary_district

ROTATION_MINUTES = np.array([75.0, 75.0, 75.0, 75.0, 0.0])  # plsim.MODES order
WEEKS = 36


def district(model: str, *, years: int = 1, seed: int = 23) -> dict:
    """Six elementary schools (720 students) on `model` in their first implementation year, with
    partial, varying fidelity, so that every fidelity path of learning is exercised."""
    doc = elementary_district(model=model, schools=6, enrollment=120, years=years, seed=seed)
    doc["districts"][0]["schools"][0].update(
        implementation_year=1,
        fidelity={"learner_profiles": 0.7, "learning_paths": 0.6, "competency_progression": 0.5,
                  "flexible_environment": 0.6, "sd": 0.15})
    return doc


class PyRotation(plsim.Policy):
    """The built-in station_rotation written in Python."""

    name = "py_rotation"
    progression = "seat_time"
    small_groups = 4
    regroup_weeks = 6
    asks = {"learner_profiles": 0.5, "learning_paths": 0.5, "competency_progression": 0.0,
            "flexible_environment": 0.4}
    default_minutes = {"whole_class": 75, "small_group": 75, "adaptive_software": 75, "collaborative": 75}

    def minutes(self, ctx):
        return ROTATION_MINUTES


class PerStudentRotation(PyRotation):
    """The same minutes, as one row per student."""

    def minutes(self, ctx):
        return np.tile(ROTATION_MINUTES, (ctx.n_students, 1))


class InPlaceRotation(PyRotation):
    """The same minutes, written into ctx.minutes."""

    def minutes(self, ctx):
        ctx.minutes[ctx.mask] = ROTATION_MINUTES


def assert_same_results(actual: plsim.Sim, expected: plsim.Sim) -> None:
    """Both arms' assessments identical bit for bit; on failure, says how many rows of which arm differ."""
    for arm, frame in (("policy", "assessments"), ("counterfactual", "counterfactual_assessments")):
        a, e = getattr(actual, frame), getattr(expected, frame)
        if len(a) == len(e) and not a.equals(e):
            differ = ~((a == e) | (a.isna() & e.isna())).all(axis=1)
            first = a[differ].iloc[0]
            pytest.fail(f"{arm} arm: {int(differ.sum())} of {len(a)} assessment rows differ, the first in year "
                        f"{first['year']}, {first['season']}, {first['subject']}, grade {first['grade']}, school "
                        f"{first['school_id']}: mean_true_rit {first['mean_true_rit']!r} instead of "
                        f"{e[differ].iloc[0]['mean_true_rit']!r}")
        pd.testing.assert_frame_equal(a, e, check_exact=True, obj=f"{arm} assessments")


def run_policy(policy: plsim.Policy, *, doc: dict | None = None, threads: int = 2, processes=()) -> plsim.Sim:
    return plsim.Sim(doc or district(policy.name), threads=threads, policies=[policy], processes=processes).run()


@pytest.fixture(scope="module")
def builtin_rotation() -> plsim.Sim:
    return plsim.Sim(district("station_rotation"), threads=2, counterfactual=True).run()


@pytest.fixture(scope="module")
def python_rotation() -> plsim.Sim:
    return run_policy(PyRotation())


# --- policies ---------------------------------------------------------------------------------------

def test_a_python_station_rotation_gives_bit_identical_results_to_the_built_in_one(builtin_rotation, python_rotation):
    assert set(python_rotation.schools["model"]) == {"py_rotation"}
    assert_same_results(python_rotation, builtin_rotation)
    for name, column in builtin_rotation.students.items():
        assert np.array_equal(python_rotation.students[name], column), name


@pytest.mark.parametrize("policy", [PerStudentRotation(), InPlaceRotation()], ids=["per-student rows", "in place"])
def test_minutes_per_student_or_written_in_place_equal_one_row_for_everyone(python_rotation, policy):
    pd.testing.assert_frame_equal(run_policy(policy).assessments, python_rotation.assessments, check_exact=True)


OTHER_MINUTES = np.array([60.0, 120.0, 60.0, 60.0, 0.0])  # more small-group time from week 12


class SwitchingRotation(PyRotation):
    """Minutes that change at week 12, given as one row, as a row per student and in place in turn:
    the engine's row per model (python_policy_rows) must follow every change and never go stale."""

    def minutes(self, ctx):
        m = ROTATION_MINUTES if ctx.week < 12 else OTHER_MINUTES
        if ctx.week % 3 == 0:
            return m
        if ctx.week % 3 == 1:
            return np.tile(m, (ctx.n_students, 1))
        ctx.minutes[ctx.mask] = m


class SwitchingPerStudent(PyRotation):
    def minutes(self, ctx):
        return np.tile(ROTATION_MINUTES if ctx.week < 12 else OTHER_MINUTES, (ctx.n_students, 1))


def test_minutes_that_change_and_switch_between_row_per_student_and_in_place_reach_the_students():
    switching, per_student = run_policy(SwitchingRotation()), run_policy(SwitchingPerStudent())
    pd.testing.assert_frame_equal(switching.assessments, per_student.assessments, check_exact=True)
    # and the change mattered: the same policy without it learns differently
    assert not run_policy(PerStudentRotation()).assessments.equals(per_student.assessments)


def test_a_run_with_hooks_leaves_the_sigint_handler_as_it_found_it():
    """Sim.run installs one dispatching SIGINT handler for the run (plsim.interrupts.RunInterrupts)
    and puts Python's default back afterwards, also when a hook raised."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    run_policy(PyRotation())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(HookFailure):
        run_policy(FlakyRotation(3, HookFailure("week 3")))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class TutorEvenIds(plsim.Policy):
    """Whole-class teaching, except that students with an even id spend the same minutes with a tutor."""

    name = "tutor_even_ids"
    default_minutes = {"whole_class": 300}

    def minutes(self, ctx):
        rows = np.zeros((ctx.n_students, len(plsim.MODES)))
        tutored = ctx.students["id"] % 2 == 0
        rows[tutored, plsim.MODES.index("tutoring")] = 300
        rows[~tutored, plsim.MODES.index("whole_class")] = 300
        return rows


def test_per_student_minutes_reach_each_student():
    sim = plsim.Sim(district("tutor_even_ids"), threads=2, policies=[TutorEvenIds()])
    start = {s: pd.Series(sim.true_rit(s), index=sim.students["id"]) for s in ("math", "reading")}
    sim.run()
    for subject in ("math", "reading"):
        gain = pd.Series(sim.true_rit(subject), index=sim.students["id"]) - start[subject]
        tutored, taught = gain[gain.index % 2 == 0].mean(), gain[gain.index % 2 == 1].mean()
        assert tutored > taught + 3, f"{subject}: mean gain with a tutor {tutored:.2f} RIT, in class {taught:.2f}"


def failing_policy(result):
    class Broken(plsim.Policy):
        name = "broken"

        def minutes(self, ctx):
            return result

    return Broken()


@pytest.mark.parametrize("result, message", [
    (np.zeros(4), r"Broken\.minutes: expected shape \(5,\) or \(720, 5\) \(got \(4,\)\)"),
    (np.zeros((720, 4)), r"Broken\.minutes: expected shape \(5,\) or \(720, 5\) \(got \(720, 4\)\)"),
    (np.zeros((10, 5)), r"Broken\.minutes: expected shape \(5,\) or \(720, 5\) \(got \(10, 5\)\)"),
    (-ROTATION_MINUTES, r"Broken\.minutes: minutes must be finite and between 0 and 3000, as in scenario files "
                        r"\(got -75\.0 in whole_class\)"),
    (np.array([np.nan, 75, 75, 75, 0]), r"Broken\.minutes: minutes must be finite and between 0 and 3000, as in "
                                        r"scenario files \(got nan in whole_class\)"),
    (np.array([300, 0, 0, 0, 1e9]), r"Broken\.minutes: minutes must be finite and between 0 and 3000, as in "
                                    r"scenario files \(got 1000000000\.0 in tutoring\)"),
], ids=["too few modes", "rows of too few modes", "too few rows", "negative", "NaN", "1e9"])
def test_minutes_of_a_wrong_shape_or_negative_raise_value_error_naming_the_policy(result, message):
    sim = plsim.Sim(district("broken"), threads=1, policies=[failing_policy(result)])
    with pytest.raises(ValueError, match=message) as info:
        sim.run()
    assert any("Broken.minutes in the policy run, year 1, week 1" in note for note in info.value.__notes__)


def test_a_policy_without_a_name_is_rejected():
    class Nameless(plsim.Policy):
        def minutes(self, ctx):
            return ROTATION_MINUTES

    with pytest.raises(ValueError, match=r"^Nameless: a Policy needs a name"):
        plsim.Sim(district("traditional"), policies=[Nameless()])


def test_policies_and_processes_must_be_plsim_objects():
    with pytest.raises(TypeError, match=r"policies: expected plsim.Policy objects \(got str\)"):
        plsim.Sim(district("traditional"), policies=["station_rotation"])
    with pytest.raises(TypeError, match=r"processes: expected plsim.Process objects \(got PyRotation\)"):
        plsim.Sim(district("traditional"), processes=[PyRotation()])


def test_a_scenario_naming_a_python_policy_that_is_not_registered_fails_cleanly_instead_of_crashing(tmp_path):
    """The scenario marks a model python_policy but no plsim.Policy of that name is given to the Sim:
    Sim raises ValueError naming `policies` and the model, and never crashes the interpreter. Run in a
    child process so that a crash cannot take the test session down."""
    code = (
        "import plsim\n"
        "doc = {'name': 'p', 'seed': 1, 'districts': [{'name': 'd', 'schools': [\n"
        "    {'level': 'elementary', 'enrollment': 120, 'model': 'mine'}]}],\n"
        "    'instructional_models': {'mine': {'minutes': {'whole_class': 300}, 'python_policy': True}}}\n"
        "plsim.Sim(doc, threads=1).run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode >= 0, f"the interpreter died of signal {-done.returncode}: {done.stderr[-300:]!r}"
    assert done.returncode == 1, done.stderr[-500:]
    assert done.stderr.splitlines()[-1] == (
        "ValueError: policies: the scenario's schools use the Python policy model(s) mine; pass the plsim.Policy "
        "objects: Sim(..., policies=[...]) (got none)")


# --- hook calls ------------------------------------------------------------------------------------

class CountingPolicy(PyRotation):
    def __init__(self):
        self.calls = []

    def minutes(self, ctx):
        self.calls.append((ctx.arm, ctx.year, ctx.week))
        return ROTATION_MINUTES


class CountingProcess(plsim.Process):
    name = "counting"

    def __init__(self):
        self.weeks, self.year_ends = [], []

    def on_week(self, ctx):
        self.weeks.append((ctx.arm, ctx.year))

    def on_year_end(self, ctx):
        self.year_ends.append((ctx.arm, ctx.year))


def test_hooks_are_called_once_per_week_and_year_of_each_arm():
    years = 2
    policy, process = CountingPolicy(), CountingProcess()
    sim = run_policy(policy, doc=district("py_rotation", years=years), processes=[process])
    assert sim.has_counterfactual
    assert len(policy.calls) == years * WEEKS
    assert policy.calls == [("policy", y, w) for y in range(1, years + 1) for w in range(WEEKS)], \
        "minutes runs before each week's learning, in the policy arm only"
    for arm in ("policy", "counterfactual"):
        assert [y for a, y in process.weeks if a == arm] == [y for y in range(1, years + 1) for _ in range(WEEKS)], arm
        assert [y for a, y in process.year_ends if a == arm] == list(range(1, years + 1)), arm


# --- processes -------------------------------------------------------------------------------------

class Enthusiasm(plsim.Process):
    """Every week, engagement rises by `lift` (at most to 1)."""

    name = "enthusiasm"

    def __init__(self, lift: float = 0.1):
        self.lift = lift

    def on_week(self, ctx):
        e = ctx.writable("engagement")
        e[:] = np.minimum(1.0, e + self.lift)


def spring_true_mean(assessments: pd.DataFrame) -> float:
    spring = assessments[assessments["season"] == "spring"]
    return float(np.average(spring["mean_true_rit"], weights=spring["n"]))


def test_a_process_that_raises_engagement_raises_outcomes_in_both_arms(python_rotation):
    lifted = run_policy(PyRotation(), processes=[Enthusiasm()])
    for arm, frame in (("policy", "assessments"), ("counterfactual", "counterfactual_assessments")):
        before, after = spring_true_mean(getattr(python_rotation, frame)), spring_true_mean(getattr(lifted, frame))
        assert after > before + 0.5, f"{arm} arm: spring true RIT {before:.2f} without the process, {after:.2f} with it"
    fall = python_rotation.assessments["season"] == "fall"
    pd.testing.assert_frame_equal(lifted.assessments[fall], python_rotation.assessments[fall], check_exact=True,
                                  obj="fall scores (the first week's assessment comes before any hook)")


def test_a_writable_view_changes_the_engine_state_the_students_views_show():
    seen = []

    class Capture(plsim.Process):
        def on_week(self, ctx):
            if ctx.year == 1 and ctx.week == 0:  # on_week after the first week sees that week, 0
                ctx.writable("math_p_known")[:] = 0.5
                seen.append(ctx.students["math_p_known"].copy())

    sim = plsim.Sim(district("station_rotation"), threads=1, processes=[Capture()])
    sim.step()
    assert len(seen) == 2, "once per arm"
    assert all((s == np.float32(0.5)).all() for s in seen)
    assert (sim.students["math_p_known"] == np.float32(0.5)).all()


def test_writable_rejects_an_unknown_column_listing_the_writable_ones():
    class WritesFrontier(plsim.Process):
        def on_week(self, ctx):
            ctx.writable("math_frontier")

    sim = plsim.Sim(district("station_rotation"), threads=1, processes=[WritesFrontier()])
    with pytest.raises(ValueError) as info:
        sim.step()
    assert str(info.value) == ("column: writable columns are engagement, self_regulation, attendance, "
                               "math_learning_rate, reading_learning_rate, math_p_known, reading_p_known, "
                               "teachers.value_added, teachers.base_capacity, teachers.pl_skill, teachers.buy_in, "
                               "teachers.burnout, schools.leadership, schools.data_quality, "
                               "schools.obstacle_coverage, schools.obstacle_materials, schools.obstacle_scheduling "
                               "(got 'math_frontier')")


def test_the_student_views_passed_to_hooks_are_read_only():
    flags = []

    class Inspect(PyRotation):
        def minutes(self, ctx):
            flags.extend((name, view.flags.writeable) for name, view in ctx.students.items())
            with pytest.raises(ValueError, match="read-only"):
                ctx.students["engagement"][0] = 1.0
            return ROTATION_MINUTES

    class InspectProcess(plsim.Process):
        def on_week(self, ctx):
            flags.extend((name, view.flags.writeable) for name, view in ctx.students.items())
            with pytest.raises(ValueError, match="read-only"):
                ctx.students["math_frontier"][:] = 0

    sim = plsim.Sim(district("py_rotation"), threads=1, policies=[Inspect()], processes=[InspectProcess()])
    sim.step()
    assert len(flags) == 3 * len(sim.students), "the policy hook and the process hook of both arms"
    assert [name for name, writeable in flags if writeable] == []


# --- random streams -------------------------------------------------------------------------------

class Draws(plsim.Process):
    """Records ctx.random(name) for every name, arm and week, keyed by student id."""

    name = "draws"

    def __init__(self, names=("a", "b")):
        self.names = names
        self.draws = {}

    def on_week(self, ctx):
        for name in self.names:
            self.draws[(ctx.arm, ctx.year, ctx.week, name)] = pd.Series(ctx.random(name), index=ctx.students["id"])


def record_draws(seed: int, years: int = 1) -> Draws:
    process = Draws()
    sim = plsim.Sim(district("station_rotation", seed=seed, years=years), threads=2, processes=[process])
    for _ in range(4):
        sim.step()
    return process


def test_named_random_streams_are_deterministic_uniform_and_distinct_by_name_week_and_seed():
    first, again, other_seed = record_draws(5), record_draws(5), record_draws(6)
    assert len(first.draws) == 2 * 4 * 2, "two arms, four weeks, two names"
    for key, draws in first.draws.items():
        assert ((draws > 0) & (draws < 1)).all(), key
        assert draws.index.is_unique
        assert draws.equals(again.draws[key]), f"{key}: same seed, different draws"
        assert not np.allclose(draws.to_numpy(), other_seed.draws[key].to_numpy()), f"{key}: another seed, same draws"
        assert 0.45 < draws.mean() < 0.55, key
    a, b = first.draws[("policy", 1, 1, "a")], first.draws[("policy", 1, 1, "b")]
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1, "streams of different names are independent"
    assert not np.allclose(a, first.draws[("policy", 1, 2, "a")]), "a new week draws anew"


def test_named_random_streams_are_common_to_the_policy_arm_and_the_counterfactual_arm():
    draws = record_draws(5).draws
    for (arm, year, week, name), policy_draws in draws.items():
        if arm == "policy":
            twin = draws[("counterfactual", year, week, name)]
            pd.testing.assert_series_equal(policy_draws.sort_index(), twin.sort_index(), check_exact=True)


def test_named_random_streams_differ_between_hooks():
    class Other(Draws):
        name = "other"

    mine, theirs = Draws(), Other()
    sim = plsim.Sim(district("station_rotation"), threads=1, processes=[mine, theirs])
    sim.step()
    assert set(mine.draws) == set(theirs.draws) == {(arm, 1, 0, name) for arm in ("policy", "counterfactual")
                                                    for name in ("a", "b")}, "after the first week, week 0"
    key = ("policy", 1, 0, "a")
    assert not np.allclose(mine.draws[key], theirs.draws[key])


# --- exceptions and interrupts ---------------------------------------------------------------------

class HookFailure(Exception):
    pass


class FlakyRotation(PyRotation):
    """Raises once, in the minutes of the given week (1-based), before doing anything."""

    def __init__(self, week: int, error: BaseException):
        self.week, self.error, self.calls = week, error, 0

    def minutes(self, ctx):
        self.calls += 1
        if self.calls == self.week and self.error is not None:
            error, self.error = self.error, None
            raise error
        return ROTATION_MINUTES


def test_an_exception_in_a_policy_propagates_with_its_type_and_a_note_naming_hook_arm_year_and_week(python_rotation):
    error = HookFailure("the timetable service is down")
    sim = plsim.Sim(district("py_rotation"), threads=2, policies=[FlakyRotation(5, error)])
    with pytest.raises(HookFailure) as info:
        sim.run()
    assert info.value is error
    assert info.value.__notes__ == [
        "plsim: raised by FlakyRotation.minutes in the policy run, year 1, week 5; the run stopped there "
        "(run() resumes it)"]
    assert sim.counts["weeks_simulated"] == 4
    assert sim.run() is sim and sim.finished
    assert_same_results(sim, python_rotation)


class FlakyEnthusiasm(Enthusiasm):
    """Enthusiasm whose hook raises once, before doing anything: in on_week of the given week (1-based)
    of the policy arm, or in on_year_end of the first year."""

    def __init__(self, *, week: int | None = None, year_end: bool = False):
        super().__init__()
        self.week, self.year_end, self.raised = week, year_end, False
        self.policy_weeks = 0

    def on_week(self, ctx):
        if ctx.arm == "policy":
            self.policy_weeks += 1
            if self.policy_weeks == self.week and not self.raised:
                self.raised = True
                raise HookFailure("on_week")
        super().on_week(ctx)

    def on_year_end(self, ctx):
        if self.year_end and not self.raised:
            self.raised = True
            raise HookFailure("on_year_end")


@pytest.fixture(scope="module")
def enthusiastic_two_years() -> plsim.Sim:
    return plsim.Sim(district("station_rotation", years=2), threads=2, processes=[Enthusiasm()]).run()


def test_an_exception_in_on_week_names_the_week_just_simulated():
    sim = plsim.Sim(district("station_rotation"), threads=1, processes=[FlakyEnthusiasm(week=5)])
    with pytest.raises(HookFailure) as info:
        sim.run()
    assert sim.counts["weeks_simulated"] == 5, "the hook runs after the week's learning"
    assert info.value.__notes__[0].startswith(
        "plsim: raised by FlakyEnthusiasm.on_week in the policy run, year 1, week 5;"), info.value.__notes__


def test_an_exception_in_on_year_end_names_the_last_week_of_the_year():
    sim = plsim.Sim(district("station_rotation", years=2), threads=1, processes=[FlakyEnthusiasm(year_end=True)])
    with pytest.raises(HookFailure) as info:
        sim.run()
    assert sim.counts["weeks_simulated"] == WEEKS
    assert info.value.__notes__[0].startswith(
        f"plsim: raised by FlakyEnthusiasm.on_year_end in the policy run, year 1, week {WEEKS};"), \
        info.value.__notes__


@pytest.mark.parametrize("flaky", [{"week": 5}, {"year_end": True}], ids=["on_week", "on_year_end"])
def test_a_run_stopped_by_an_exception_in_a_process_resumes_to_the_results_of_an_uninterrupted_run(
        enthusiastic_two_years, flaky):
    """The hook raised before changing anything; run() resumes the run, the failed call included, and
    every other hook call (the counterfactual arm's of the same week among them) happens exactly once."""
    sim = plsim.Sim(district("station_rotation", years=2), threads=2, processes=[FlakyEnthusiasm(**flaky)])
    with pytest.raises(HookFailure):
        sim.run()
    sim.run()
    assert sim.finished
    assert_same_results(sim, enthusiastic_two_years)


def test_keyboard_interrupt_from_a_hook_stops_the_run_in_that_week_and_run_resumes_it(python_rotation):
    sim = plsim.Sim(district("py_rotation"), threads=2, policies=[FlakyRotation(10, KeyboardInterrupt())])
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    assert sim.counts["weeks_simulated"] == 9 and not sim.finished
    sim.run()
    assert_same_results(sim, python_rotation)


class InterruptedByTimer(PyRotation):
    """At week 10 starts a timer that calls _thread.interrupt_main() (as Ctrl-C would arrive) and from
    then on waits, a millisecond at a time, until it has fired, so the interrupt comes before the end."""

    def __init__(self):
        self.calls, self.fired, self.timer = 0, threading.Event(), None

    def minutes(self, ctx):
        self.calls += 1
        if self.calls == 10:
            def interrupt():
                _thread.interrupt_main()
                self.fired.set()

            self.timer = threading.Timer(0.01, interrupt)
            self.timer.start()
        if self.timer is not None:
            deadline = time.monotonic() + 60
            while not self.fired.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)
        return ROTATION_MINUTES


def test_a_timer_calling_interrupt_main_stops_a_run_with_hooks_within_a_week_and_run_resumes_it(python_rotation):
    policy = InterruptedByTimer()
    sim = plsim.Sim(district("py_rotation"), threads=2, policies=[policy])
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    policy.timer.join(timeout=60)
    assert policy.fired.is_set()
    assert sim.counts["weeks_simulated"] in (9, 10), "stopped in the week the interrupt arrived"
    sim.run()
    assert_same_results(sim, python_rotation)


# --- determinism with hooks ----------------------------------------------------------------------

class RandomTutoring(PyRotation):
    """Station rotation, except that a random fifth of the students each week get tutoring instead of
    software: per-student minutes drawn from a named stream."""

    name = "random_tutoring"

    def minutes(self, ctx):
        rows = np.tile(ROTATION_MINUTES, (ctx.n_students, 1))
        lucky = ctx.random("tutoring") < 0.2
        rows[lucky, plsim.MODES.index("adaptive_software")] = 0
        rows[lucky, plsim.MODES.index("tutoring")] = 75
        return rows


class RandomEngagement(plsim.Process):
    name = "random_engagement"

    def on_week(self, ctx):
        e = ctx.writable("engagement")
        e[:] = np.clip(e + 0.05 * (ctx.random("jolt") - 0.5), 0, 1)

    def on_year_end(self, ctx):
        sr = ctx.writable("self_regulation")
        sr[:] = np.minimum(sr * np.float32(1.01), 1)


def test_one_and_two_threads_give_identical_results_with_python_hooks():
    def run(threads):
        return plsim.Sim(district("random_tutoring", years=2), threads=threads, policies=[RandomTutoring()],
                         processes=[RandomEngagement()]).run()

    one, two = run(1), run(2)
    assert (one.threads, two.threads) == (1, 2)
    assert_same_results(one, two)
    for name, column in one.students.items():
        assert np.array_equal(two.students[name], column), name
    rotation = plsim.Sim(district("station_rotation", years=2), threads=2, processes=[RandomEngagement()]).run()
    assert not one.assessments["mean_rit"].equals(rotation.assessments["mean_rit"]), "the policy changes the run"
