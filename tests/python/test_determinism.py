"""Determinism: the same scenario and seed give identical results, bit for bit, on any number of
threads, through the API and the command line, whether run in one go or week by week."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

import plsim
import plsim.cli


def assert_same_run(a: plsim.Sim, b: plsim.Sim) -> None:
    pd.testing.assert_frame_equal(a.assessments, b.assessments, check_exact=True)
    sa, sb = a.students, b.students
    assert set(sa) == set(sb)
    for name in sa:
        assert np.array_equal(sa[name], sb[name]), f"student column {name} differs"
    for subject in ("math", "reading"):
        assert np.array_equal(a.true_rit(subject), b.true_rit(subject)), subject
    pd.testing.assert_frame_equal(a.schools, b.schools, check_exact=True)


def test_one_and_two_threads_give_identical_results_through_year_transitions():
    """The shipped district_station_rotation: 50,000 students, mixed models, two years."""
    one = plsim.Sim("district_station_rotation", threads=1).run()
    two = plsim.Sim("district_station_rotation", threads=2).run()
    assert (one.threads, two.threads) == (1, 2)
    assert one.counts["years_completed"] == 2
    assert set(one.schools["model"]) == {"station_rotation", "traditional"}
    assert_same_run(one, two)


def test_the_same_seed_run_twice_in_one_process_gives_identical_results(tiny_doc):
    tiny_doc["years"] = 2
    assert_same_run(plsim.Sim(tiny_doc, threads=2).run(), plsim.Sim(tiny_doc, threads=2).run())


def test_running_week_by_week_gives_the_same_results_as_one_run(tiny_doc):
    tiny_doc["years"] = 2
    whole = plsim.Sim(tiny_doc, threads=2).run()
    stepped = plsim.Sim(tiny_doc, threads=1)
    weeks = 1
    while stepped.step():
        weeks += 1
    assert weeks == 72
    assert_same_run(whole, stepped)


def test_a_scenario_sent_through_pickle_gives_the_same_run(tiny_scenario):
    copy = pickle.loads(pickle.dumps(tiny_scenario))
    assert_same_run(plsim.Sim(tiny_scenario, threads=2).run(), plsim.Sim(copy, threads=1).run())


def test_the_command_line_writes_byte_identical_assessments_on_one_and_two_threads(tmp_path, write_scenario, tiny_doc, capsys):
    tiny_doc["years"] = 2
    path = write_scenario(tiny_doc, "tiny_two_years")
    for threads in (1, 2):
        assert plsim.cli.main(["run", str(path), "--out", str(tmp_path / f"t{threads}"), "--threads", str(threads),
                               "--seed", "5"]) == 0
    capsys.readouterr()
    one, two = (tmp_path / "t1" / "assessments.csv").read_bytes(), (tmp_path / "t2" / "assessments.csv").read_bytes()
    assert len(one) > 1000
    assert one == two
    s1, s2 = (pd.read_json(tmp_path / f"t{t}" / "summary.json", typ="series") for t in (1, 2))
    for key in ("seed", "counts", "years", "weeks_simulated", "headline"):
        assert s1[key] == s2[key], key
