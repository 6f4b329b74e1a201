"""Interrupting a run: Ctrl-C (a real SIGINT, or _thread.interrupt_main, from another thread while the
engine works) and exceptions raised by a progress callback stop the run between two weeks; the Sim
stays usable and run() resumes it to the same final results as a run that was never interrupted."""
from __future__ import annotations

import _thread
import os
import signal
import threading

import numpy as np
import pandas as pd
import pytest

import plsim
from conftest import elementary_district

YEARS = 4
WEEKS = 36 * YEARS


def long_scenario() -> dict:
    """40 elementary schools (4,800 students) over four years: three year transitions."""
    return elementary_district(model="station_rotation", years=YEARS, seed=17)


@pytest.fixture(scope="module")
def uninterrupted() -> plsim.Sim:
    return plsim.Sim(long_scenario(), threads=2).run()


def assert_same_final_results(resumed: plsim.Sim, reference: plsim.Sim) -> None:
    assert resumed.finished
    assert resumed.counts["weeks_simulated"] == WEEKS
    assert resumed.counts["student_weeks"] == reference.counts["student_weeks"]
    pd.testing.assert_frame_equal(resumed.assessments, reference.assessments, check_exact=True)
    for name, column in reference.students.items():
        assert np.array_equal(resumed.students[name], column), name


def stop_at(week: int, error: BaseException):
    def progress(done, total):
        if done == week:
            raise error

    return progress


def test_keyboard_interrupt_from_a_progress_callback_stops_the_run_between_two_weeks(uninterrupted):
    sim = plsim.Sim(long_scenario(), threads=2)
    with pytest.raises(KeyboardInterrupt):
        sim.run(progress=stop_at(50, KeyboardInterrupt()))
    assert not sim.finished
    c = sim.counts
    assert (c["weeks_simulated"], c["years_completed"], c["cancelled"]) == (50, 1, True)
    assert sorted(sim.assessments["year"].unique()) == [1, 2], "year 2's fall window (week 37) has passed"
    assert sim.run() is sim
    assert sim.counts["cancelled"] is False
    assert_same_final_results(sim, uninterrupted)


def test_a_run_interrupted_several_times_and_stepped_in_between_ends_as_if_never_interrupted(uninterrupted):
    sim = plsim.Sim(long_scenario(), threads=1)
    for week in (10, 36, 37, 100):
        with pytest.raises(KeyboardInterrupt):
            sim.run(progress=stop_at(week, KeyboardInterrupt()))
        assert sim.counts["weeks_simulated"] == week
    assert sim.step() is True
    assert sim.counts["weeks_simulated"] == 101
    sim.run()
    assert_same_final_results(sim, uninterrupted)


def interrupt_from_another_thread(send):
    """A progress callback that, at week 20, lets a second thread send the interrupt while the engine
    works on the next week (the GIL released), and from then on waits until the interrupt was sent, so
    that it always arrives before the run could end."""
    go, sent = threading.Event(), threading.Event()

    def worker():
        go.wait()
        send()
        sent.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    weeks = []

    def progress(done, total):
        weeks.append(done)
        if done == 20:
            go.set()
        elif done > 20:
            sent.wait(timeout=60)

    return progress, thread, weeks


@pytest.mark.parametrize("send", [
    pytest.param(_thread.interrupt_main, id="_thread.interrupt_main"),
    pytest.param(lambda: os.kill(os.getpid(), signal.SIGINT), id="SIGINT"),
])
def test_ctrl_c_from_another_thread_stops_a_long_run_and_run_resumes_it(uninterrupted, send):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "Python's own Ctrl-C handler"
    sim = plsim.Sim(long_scenario(), threads=2)
    progress, thread, weeks = interrupt_from_another_thread(send)
    with pytest.raises(KeyboardInterrupt):
        sim.run(progress=progress)
    thread.join(timeout=60)
    assert not thread.is_alive()
    done = sim.counts["weeks_simulated"]
    assert 20 < done < WEEKS and not sim.finished
    assert done - weeks[-1] in (0, 1), "the run stopped between two weeks"
    assert sim.run() is sim
    assert_same_final_results(sim, uninterrupted)


class ProgressError(Exception):
    pass


@pytest.mark.parametrize("error", [ValueError("progress bar broke at week 3"), ProgressError("custom: week 3")],
                         ids=["ValueError", "custom exception"])
def test_an_exception_in_a_progress_callback_propagates_with_its_type_and_message(uninterrupted, error):
    sim = plsim.Sim(long_scenario(), threads=2)
    with pytest.raises(type(error)) as info:
        sim.run(progress=stop_at(3, error))
    assert info.value is error
    assert str(info.value) == str(error)
    assert sim.counts["weeks_simulated"] == 3
    sim.run()
    assert_same_final_results(sim, uninterrupted)


def test_an_exception_in_the_callback_of_the_last_week_leaves_a_finished_run(tiny_scenario):
    sim = plsim.Sim(tiny_scenario, threads=1, counterfactual=False)
    with pytest.raises(RuntimeError, match="last week"):
        sim.run(progress=stop_at(36, RuntimeError("last week")))
    assert sim.finished
    assert sim.counts["cancelled"] is False
    calls = []
    sim.run(progress=lambda done, total: calls.append(done))
    assert calls == []


def test_with_the_twin_an_exception_in_the_policy_arms_last_week_leaves_the_twin_to_run_and_run_finishes_both(
        tiny_scenario):
    """Without hooks the policy arm runs to its end, then the twin: progress counts 1..36 for the
    policy arm and 37..72 for the twin."""
    sim = plsim.Sim(tiny_scenario, threads=1)
    assert sim.has_counterfactual
    with pytest.raises(RuntimeError, match="policy arm done"):
        sim.run(progress=stop_at(36, RuntimeError("policy arm done")))
    assert not sim.finished
    assert sim.counts["weeks_simulated"] == 36 and sim.counts["cancelled"] is False
    assert sim.counterfactual_assessments.empty, "the twin has not started"
    calls = []
    sim.run(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(week, 72) for week in range(37, 73)]
    assert sim.finished
    reference = plsim.Sim(tiny_scenario, threads=1).run()
    pd.testing.assert_frame_equal(sim.assessments, reference.assessments, check_exact=True)
    pd.testing.assert_frame_equal(sim.effects, reference.effects, check_exact=True)

    # An exception in the callback of the twin's last week leaves a finished run.
    both = plsim.Sim(tiny_scenario, threads=1)
    with pytest.raises(RuntimeError, match="last week"):
        both.run(progress=stop_at(72, RuntimeError("last week")))
    assert both.finished
    calls = []
    both.run(progress=lambda done, total: calls.append(done))
    assert calls == []
    pd.testing.assert_frame_equal(both.effects, reference.effects, check_exact=True)
