"""Checkpoints and exact resumption: a run saved at a year end (by plsim run --checkpoint, Sim.save,
pickling or copying) continues to outputs identical to an uninterrupted run's; bad files are refused
with the reason; Ctrl-C while a hook runs, or during set-up, loses nothing."""
from __future__ import annotations

import copy
import filecmp
import os
import pickle
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.cli
from plsim.checkpoint import MAGIC, from_bytes, to_bytes

from conftest import elementary_district


class Drift(plsim.Process):
    """A process with its own state (a random generator and a counter): resuming it exactly needs that
    state saved and the hook never half-run."""

    name = "drift"

    def __init__(self, seed=1, interrupt_at=None, interrupts=1):
        self.rng = np.random.default_rng(seed)
        self.calls = 0
        self.interrupt_at, self.interrupts = interrupt_at, interrupts

    def on_week(self, ctx):
        self.calls += 1
        e = ctx.writable("engagement")
        e[:] = np.clip(e + 0.02 * (self.rng.random(len(e)) - 0.5), 0, 1)
        if (ctx.arm, ctx.year, ctx.week) == self.interrupt_at:
            self.interrupt_at = None
            for _ in range(self.interrupts):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives in the middle of the hook...
        e[:] = np.clip(e + 0.02 * (self.rng.random(len(e)) - 0.5), 0, 1)  # ...which then works on


def scenario(years=2):
    return elementary_district(schools=12, enrollment=120, model="station_rotation", years=years, seed=11)


def assert_same_run(a: plsim.Sim, b: plsim.Sim) -> None:
    assert a.finished and b.finished
    pd.testing.assert_frame_equal(a.assessments, b.assessments, check_exact=True)
    pd.testing.assert_frame_equal(a.effects, b.effects, check_exact=True)
    pd.testing.assert_frame_equal(a.subgroups, b.subgroups, check_exact=True)
    pd.testing.assert_frame_equal(a.costs, b.costs, check_exact=True)
    for name, column in a.students.items():
        assert np.array_equal(b.students[name], column, equal_nan=True), name


@pytest.fixture(scope="module")
def whole():
    return plsim.Sim(scenario(), threads=1).run()


@pytest.fixture(scope="module")
def whole_with_process():
    return plsim.Sim(scenario(), threads=1, processes=[Drift()]).run()


def test_a_run_saved_after_year_one_and_loaded_ends_as_the_uninterrupted_run(tmp_path, whole):
    sim = plsim.Sim(scenario(), threads=2).run(until_year=1)
    assert (sim.years_completed, sim.finished) == (1, False)
    sim.save(tmp_path / "run.plsim", extra={"note": "year 1"})
    resumed, extra = plsim.checkpoint.read(tmp_path / "run.plsim")
    assert extra == {"note": "year 1"}
    assert resumed.years_completed == 1
    resumed.run()
    assert_same_run(whole, resumed)


@pytest.mark.parametrize("saved_after", [1, 2])
def test_a_run_whose_model_starts_and_ends_in_given_years_resumes_from_either_side_of_a_switch(tmp_path, saved_after):
    doc = scenario(years=3)
    doc["districts"][0]["schools"][0]["model_years"] = [2, 2]
    whole = plsim.Sim(doc, threads=1).run()
    sim = plsim.Sim(doc, threads=2).run(until_year=saved_after)
    sim.save(tmp_path / "run.plsim")
    resumed, _ = plsim.checkpoint.read(tmp_path / "run.plsim")
    resumed.run()
    assert_same_run(whole, resumed)
    ever = lambda arm: arm.students["ever_pl"][np.argsort(arm.students["id"])]
    assert np.array_equal(ever(whole), ever(resumed._twin)) and ever(whole).any()
    assert set(whole.rollout_by_year.loc[whole.rollout_by_year["students_pl"] > 0, "year"]) == {2}


def test_a_python_process_and_its_own_state_travel_in_the_checkpoint(tmp_path, whole_with_process):
    sim = plsim.Sim(scenario(), threads=1, processes=[Drift()]).run(until_year=1)
    sim.save(tmp_path / "run.plsim")
    resumed = plsim.load(tmp_path / "run.plsim")
    assert resumed.processes[0].calls == sim.processes[0].calls == 2 * 36, "a call a week in each arm"
    resumed.run()
    assert_same_run(whole_with_process, resumed)
    assert resumed.processes[0].calls == whole_with_process.processes[0].calls


def test_pickle_copy_and_deepcopy_give_independent_runs_that_continue_alike(whole):
    sim = plsim.Sim(scenario(), threads=1)
    sim.step()
    for other in (pickle.loads(pickle.dumps(sim)), copy.copy(sim), copy.deepcopy(sim)):
        assert other is not sim and other._core is not sim._core
        assert other.counts["weeks_simulated"] == sim.counts["weeks_simulated"]
        other.run()
        assert_same_run(whole, other)
    assert sim.counts["weeks_simulated"] == 1, "the copies ran, not the original"


def test_plsim_run_with_a_checkpoint_and_plsim_resume_write_byte_identical_tables(tmp_path):
    full, first, resumed = tmp_path / "full", tmp_path / "first", tmp_path / "resumed"
    checkpoint = tmp_path / "run.plsim"
    args = ["run", "district_station_rotation", "--seed", "3", "--min-cell", "5", "--threads", "1"]
    assert plsim.cli.main(args + ["--out", str(full)]) == 0
    assert plsim.cli.main(args + ["--stop-after-year", "1", "--checkpoint", str(checkpoint), "--out", str(first)]) == 0
    assert plsim.cli.main(["resume", str(checkpoint), "--out", str(resumed)]) == 0
    tables = sorted(p.name for p in full.glob("*.csv"))
    assert len(tables) >= 4 and tables == sorted(p.name for p in resumed.glob("*.csv"))
    for name in tables:
        assert filecmp.cmp(full / name, resumed / name, shallow=False), name
    assert not filecmp.cmp(full / "assessments.csv", first / "assessments.csv", shallow=False), "year 1 only"
    assert "suppressed" in (resumed / "assessments.csv").read_text().splitlines()[0], "--min-cell was kept"


def test_a_checkpoint_is_saved_at_every_year_end_and_replaced_atomically(tmp_path):
    checkpoint = tmp_path / "run.plsim"
    assert plsim.cli.main(["run", "district_station_rotation", "--seed", "3", "--checkpoint", str(checkpoint)]) == 0
    sim = plsim.load(checkpoint)
    assert sim.finished, "the last save is at the last year end"
    assert [p.name for p in tmp_path.iterdir()] == ["run.plsim"], "no partial file left"


def checkpoint_bytes() -> bytes:
    return to_bytes(plsim.Sim(elementary_district(schools=2, enrollment=60), threads=1).run(until_year=0))


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[: len(b) // 2], "truncated checkpoint: its header announces"),
    (lambda b: b[:20], "truncated checkpoint (20 bytes"),
    (lambda b: b + b"more", "over-long checkpoint"),
    (lambda b: b[:-40] + bytes([b[-40] ^ 1]) + b[-39:], "corrupted checkpoint: its SHA-256 checksum"),
    (lambda b: b"PK\x03\x04" + b[4:], "not a plsim checkpoint (it starts with b'PK"),
    (lambda b: MAGIC + (99).to_bytes(4, "little") + b[len(MAGIC) + 4:], "checkpoint format version 99"),
], ids=["truncated", "header only", "over-long", "one bit flipped", "foreign", "newer format"])
def test_a_damaged_or_foreign_checkpoint_is_refused_with_the_reason(damage, message):
    with pytest.raises(plsim.CheckpointError, match="checkpoint") as info:
        from_bytes(damage(checkpoint_bytes()), "run.plsim")
    assert str(info.value).startswith("run.plsim: ")
    assert message in str(info.value)


def test_plsim_resume_reports_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.plsim"
    bad.write_text("my notes\n")
    assert plsim.cli.main(["resume", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == (f"{bad}: not a plsim checkpoint (it starts with b'my notes\\n'; "
                                               f"checkpoints start with b'PLSIM checkpoint\\n')")
    assert plsim.cli.main(["resume", str(tmp_path / "missing.plsim")]) == 2
    assert "missing.plsim: no such file" in capsys.readouterr().err


def test_hooks_whose_class_cannot_be_found_by_name_are_named_when_saving(tmp_path):
    class Local(plsim.Process):  # a class defined in a function: loading could not find it by name
        def on_week(self, ctx):
            pass

    sim = plsim.Sim(scenario(years=1), threads=1, processes=[Local()])
    with pytest.raises(plsim.CheckpointError, match=r"processes\[0\] .*Local\): its class is defined inside a function"):
        sim.save(tmp_path / "run.plsim")
    assert not (tmp_path / "run.plsim").exists()


@pytest.mark.parametrize("at", [("policy", 1, 5), ("counterfactual", 2, 30)], ids=["policy arm", "twin, year 2"])
def test_ctrl_c_inside_a_hook_stops_the_run_after_the_hook_and_resume_is_exact(whole_with_process, capsys, at):
    sim = plsim.Sim(scenario(), threads=1, processes=[Drift(interrupt_at=at)])
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    assert "stopping after Drift.on_week returns" in capsys.readouterr().err
    assert not sim.finished
    sim.run()
    assert_same_run(whole_with_process, sim)
    assert sim.processes[0].calls == whole_with_process.processes[0].calls, "no hook ran twice"


def test_a_second_ctrl_c_interrupts_the_hook_itself_and_resuming_then_needs_consent(whole_with_process):
    sim = plsim.Sim(scenario(), threads=1, processes=[Drift(interrupt_at=("policy", 1, 3), interrupts=2)])
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    with pytest.raises(RuntimeError, match=r"Drift.on_week \(policy run, year 1, week 4\) was interrupted while it ran"):
        sim.run()
    with pytest.raises(RuntimeError, match="step\\(rerun_interrupted_hook=True\\)"):
        sim.step()
    sim.run(rerun_interrupted_hook=True)
    assert sim.finished
    # The hook ran again from its start: the engine saw its writes once, its generator moved on twice.
    assert sim.processes[0].calls == whole_with_process.processes[0].calls + 1


def test_sigint_with_no_hooks_and_no_progress_callback_stops_a_run():
    sim = plsim.Sim(elementary_district(schools=200, enrollment=120, years=8), threads=1, counterfactual=False)
    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    timer.join()
    assert 0 < sim.counts["weeks_simulated"] < 8 * 36, "stopped between two weeks, before the end"


def test_a_python_thread_keeps_running_while_the_engine_works():
    sim = plsim.Sim(elementary_district(schools=100, enrollment=120, years=3), threads=1, counterfactual=False)
    ticks, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    time.sleep(0.01)
    before = ticks[0]
    sim.run()
    during = ticks[0] - before
    stop.set()
    thread.join()
    # With the GIL held for the whole run the thread could not count at all while it lasted.
    assert during > 10_000


def test_ctrl_c_during_population_set_up_stops_it():
    big = elementary_district(schools=10_000, enrollment=120)
    start = time.perf_counter()
    plsim.Sim(big, threads=1, counterfactual=False)
    full = time.perf_counter() - start
    timer = threading.Timer(0.01, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        plsim.Sim(big, threads=1, counterfactual=False)
    stopped = time.perf_counter() - start
    timer.join()
    assert stopped < full / 2, f"set-up stopped after {stopped:.2f} s of {full:.2f} s"
