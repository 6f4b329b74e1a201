"""plsim.bkt: BKT fitted to response logs. Parameters are recovered from synthetic logs, predictions
are the forward filter's, bad logs are refused by column and row, `plsim bkt fit` writes its JSON,
and (where ../shared/data/assistments is present) a sample of the real ASSISTments logs fits to a
held-out AUC above chance by the margin BKT is known for."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import plsim
import plsim.bkt
import plsim.bkt_checks
import plsim.cli

from conftest import REPO

ASSISTMENTS = REPO.parent / "shared" / "data" / "assistments"


def synthetic_log(prior=0.3, learn=0.15, guess=0.2, slip=0.1, forget=0.0, students=1500, attempts=12, seed=1,
                  skill="fractions") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(students):
        known = rng.random() < prior
        for _ in range(attempts):
            rows.append((f"s{s}", skill, int(rng.random() >= slip if known else rng.random() < guess)))
            known = rng.random() >= forget if known else rng.random() < learn
    return pd.DataFrame(rows, columns=["student", "skill", "correct"])


def test_fit_recovers_the_parameters_of_a_synthetic_log_within_0_03():
    log = synthetic_log()
    fitted = plsim.bkt.fit(log, restarts=5, seed=0)
    p = fitted.params.loc["fractions"]
    assert p["prior"] == pytest.approx(0.3, abs=0.03)
    assert p["learn"] == pytest.approx(0.15, abs=0.03)
    assert p["guess"] == pytest.approx(0.2, abs=0.03)
    assert p["slip"] == pytest.approx(0.1, abs=0.03)
    assert p["forget"] == 0 and p["responses"] == 18_000 and p["students"] == 1500
    assert fitted.log_likelihood == pytest.approx(p["log_likelihood"])
    assert 0.5 < fitted.auc(log) < 1


def test_predictions_are_one_step_ahead_and_keep_the_log_order():
    log = synthetic_log(students=50, attempts=6, seed=2)
    shuffled = pd.concat([log.iloc[::2], log.iloc[1::2]])  # interleaved rows: order within a student matters
    fitted = plsim.bkt.fit(log)
    p = fitted.params.loc["fractions"]
    expected = []
    for _, student in log.groupby("student", sort=False):
        known = p["prior"]
        for c in student["correct"]:
            q = known * (1 - p["slip"]) + (1 - known) * p["guess"]
            expected.append(q)
            post = known * (1 - p["slip"]) / q if c else known * p["slip"] / (1 - q)
            known = post + (1 - post) * p["learn"]
    predicted = pd.Series(fitted.predict(log), index=log.index)
    by_student = pd.concat([predicted[g.index] for _, g in log.groupby("student", sort=False)])
    assert np.allclose(by_student.to_numpy(), expected)
    # The same rows in another order: each row's prediction now follows the order of that log.
    assert not np.allclose(fitted.predict(shuffled), predicted[shuffled.index].to_numpy())


def test_fits_are_deterministic_and_a_skill_never_seen_is_predicted_with_the_median():
    log = pd.concat([synthetic_log(skill="a", seed=3, students=200), synthetic_log(skill="b", seed=4, students=200,
                                                                                    learn=0.3)])
    one = plsim.bkt.fit(log, threads=1, seed=5)
    two = plsim.bkt.fit(log, threads=2, seed=5)
    pd.testing.assert_frame_equal(one.params, two.params, check_exact=True)
    new = synthetic_log(skill="c", students=3, attempts=2)
    median = one.fallback
    first = one.predict(new)[0]
    assert first == pytest.approx(median["prior"] * (1 - median["slip"]) + (1 - median["prior"]) * median["guess"])


def test_the_three_line_format_reads_as_a_log(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("3\n7,7,9,\n0,1,1,\n1\n9\n1\n")
    log = plsim.bkt.read_responses(path)
    assert log.to_dict("list") == {"student": [0, 0, 0, 1], "skill": [7, 7, 9, 9], "correct": [0, 1, 1, 1]}
    path.write_text("3\n7,7\n0,1,1\n")
    with pytest.raises(plsim.bkt.ResponseLogError, match=r"log.csv:1: 3 responses announced, 2 skills"):
        plsim.bkt.read_responses(path)
    path.write_text("2\n7,7\n0,2\n")
    with pytest.raises(plsim.bkt.ResponseLogError, match=r"log.csv:3: correctness must be 0 or 1 \(got '2'\)"):
        plsim.bkt.read_responses(path)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.rename(columns={"correct": "right"}), "no column 'correct' for the correct (argument correct=)"),
    (lambda d: d.assign(correct=d["correct"].replace(1, 2)), "column 'correct', row 1: correctness must be 0 or 1 "
                                                             "(got 2"),
    (lambda d: d.assign(correct=d["correct"].astype(float).where(d.index != 3)), "column 'correct', row 3"),
    (lambda d: d.assign(skill=d["skill"].where(d.index != 2)), "column 'skill', row 2: empty value"),
    (lambda d: d.iloc[:0], "no responses to fit"),
], ids=["unknown column", "not binary", "missing correctness", "empty skill", "empty log"])
def test_bad_logs_are_refused_naming_the_column_and_row(change, message):
    log = synthetic_log(students=3, attempts=3)
    log.loc[1, "correct"] = 1
    with pytest.raises(plsim.bkt.ResponseLogError) as info:
        plsim.bkt.fit(change(log))
    assert message in str(info.value)


def test_students_with_one_response_and_skills_all_correct_fit_without_nan():
    log = pd.DataFrame({"student": [f"s{i}" for i in range(40)] + ["t"] * 5, "skill": ["once"] * 40 + ["easy"] * 5,
                        "correct": [i % 2 for i in range(40)] + [1] * 5})
    fitted = plsim.bkt.fit(log, forgets=True)
    values = fitted.params[plsim.bkt.PARAMETERS].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    assert (fitted.params["guess"] < 0.5).all() and (fitted.params["slip"] < 0.5).all()


def test_plsim_bkt_fit_prints_the_parameters_and_writes_the_json(tmp_path, capsys):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    synthetic_log(students=300, seed=6).to_csv(train, index=False)
    synthetic_log(students=100, seed=7).to_csv(test, index=False)
    out = tmp_path / "fit.json"
    assert plsim.cli.main(["bkt", "fit", str(train), "--test", str(test), "--json", str(out), "--forgets"]) == 0
    printed = capsys.readouterr().out
    assert "fractions" in printed and f"test        {test}: 1,200 responses, AUC" in printed
    report = json.loads(out.read_text())
    for key in ("test_auc", "train_log_likelihood", "fit_seconds", "n_skills", "params", "options"):
        assert key in report, key
    assert report["n_skills"] == 1 and report["options"]["forgets"] is True
    assert 0.5 < report["test_auc"] < 1 and report["params"][0]["skill"] == "fractions"
    assert plsim.cli.main(["bkt", "fit", str(train), "--skill", "topic"]) == 2
    assert "no column 'topic' for the skill" in capsys.readouterr().err


@pytest.mark.skipif(not ASSISTMENTS.is_dir(), reason=f"the ASSISTments logs are not at {ASSISTMENTS}")
def test_a_sample_of_the_assistments_logs_fits_to_a_held_out_auc_near_the_published_one():
    train = plsim.bkt.read_sequences(ASSISTMENTS / "builder_train.csv")
    test = plsim.bkt.read_sequences(ASSISTMENTS / "builder_test.csv")
    sample = train[train["student"] < 800]
    fitted = plsim.bkt.fit(sample)
    auc = fitted.auc(test)
    # pyBKT's standard BKT on the whole train split: 0.760; a quarter of it fits a little worse.
    assert 0.72 < auc < 0.85
    median = fitted.params[plsim.bkt.PARAMETERS].median()
    # targets.json bkt_parameters (medians of EM fits to these data): learn 0.08, guess 0.15, slip 0.2.
    assert median["learn"] == pytest.approx(0.08, abs=0.05)
    assert median["slip"] == pytest.approx(0.2, abs=0.08)


def test_a_simulated_response_log_fits_back_to_the_learner_models_guess_slip_and_learn(tiny_doc):
    sim = plsim.Sim(tiny_doc, threads=1, responses=1.0).run()
    log = sim.responses()
    assert list(log.columns) == ["student", "skill", "subject", "unit", "year", "week", "correct"]
    assert len(log) > 10_000 and set(log["correct"].unique()) == {0, 1}
    # Only schools with adaptive software practise on it.
    assert set(log["student"]).issubset(set(sim.students["id"]))
    twin = sim.responses("counterfactual")
    assert len(twin) < len(log), "the twin's traditional schools use no software"
    fitted = plsim.bkt.fit(log)
    median = fitted.params[plsim.bkt.PARAMETERS].median()
    p = sim.scenario.resolved["parameters"]
    assert median["guess"] == pytest.approx(p["personalization"]["test_guess"], abs=0.05)
    assert median["slip"] == pytest.approx(p["personalization"]["test_slip"], abs=0.05)
    assert median["learn"] == pytest.approx(p["learning"]["learn_rate"], abs=0.04)


def test_responses_are_logged_for_a_stable_share_of_students_and_survive_a_checkpoint(tiny_doc, tmp_path):
    none = plsim.Sim(tiny_doc, threads=1).run()
    assert none.responses().empty
    half = plsim.Sim(tiny_doc, threads=1, responses=0.5)
    half.run(until_year=0)
    half.step()
    half.save(tmp_path / "run.plsim")
    resumed = plsim.load(tmp_path / "run.plsim").run()
    whole = plsim.Sim(tiny_doc, threads=1, responses=0.5).run()
    pd.testing.assert_frame_equal(resumed.responses(), whole.responses())
    full = plsim.Sim(tiny_doc, threads=1, responses=1.0).run().responses()
    share = whole.responses()["student"].nunique() / full["student"].nunique()
    assert 0.35 < share < 0.65
    with pytest.raises(ValueError, match=r"responses: expected a share of students from 0 to 1 \(got 2\)"):
        plsim.Sim(tiny_doc, responses=2)


def test_plsim_run_responses_writes_a_log_plsim_bkt_fit_reads(tmp_path):
    out = tmp_path / "run"
    assert plsim.cli.main(["run", str(REPO / "tests/python/data/tiny.json"), "--responses", "0.5", "--out", str(out),
                           "--threads", "1"]) == 0
    log = pd.read_csv(out / "responses.csv")
    assert len(log) > 1000
    assert plsim.cli.main(["bkt", "fit", str(out / "responses.csv"), "--json", str(tmp_path / "fit.json")]) == 0
    assert json.loads((tmp_path / "fit.json").read_text())["n_skills"] == log["skill"].nunique()


# --- the order of responses, degenerate fits, the terminal summary (issue 23, item 5) -----------------

def _with_times(log: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The log with a column timestamp (in time order), its rows shuffled."""
    timed = log.assign(timestamp=pd.date_range("2024-09-02", periods=len(log), freq="37s").astype(str))
    return timed.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_an_order_column_sorts_each_students_responses_and_a_shuffled_log_is_warned_about():
    log = synthetic_log(students=1500, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log in time order raises no warning
        ordered = plsim.bkt.fit(log)
    shuffled = _with_times(log)
    with pytest.warns(plsim.bkt.ResponseOrderWarning) as caught:
        naive = plsim.bkt.fit(shuffled)
    messages = " ".join(str(w.message) for w in caught)
    assert "column 'timestamp' decreases within students" in messages and "pass --order timestamp" in messages
    assert "hardly more often correct than early ones" in messages
    assert naive.params.loc["fractions", "learn"] < ordered.params.loc["fractions", "learn"] / 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_time = plsim.bkt.fit(shuffled, order="timestamp")
    columns = plsim.bkt.PARAMETERS
    pd.testing.assert_frame_equal(by_time.params[columns], ordered.params[columns], atol=1e-9, rtol=0)
    assert by_time.order_check["file_rows_out_of_order"] > 0
    assert "sorted them by 'timestamp'" in by_time.order_check["note"]
    # Predictions of a shuffled log come back in its row order, each read in time order.
    original_rows = shuffled.merge(_with_times(log.reset_index(), seed=1), how="left")["index"]
    np.testing.assert_allclose(by_time.predict(shuffled), ordered.predict(log)[original_rows.to_numpy()], atol=1e-9)


def test_a_bad_order_column_is_refused_naming_the_column_and_row():
    log = synthetic_log(students=5, attempts=3).assign(t=[str(i) for i in range(15)])
    log.loc[4, "t"] = "yesterday-ish"
    with pytest.raises(plsim.bkt.ResponseLogError, match=r"column 't', row 4: expected a number or a time for the "
                                                          r"order \(got 'yesterday-ish'\)"):
        plsim.bkt.fit(log, order="t")
    with pytest.raises(plsim.bkt.ResponseLogError, match="no column 'time' for the order"):
        plsim.bkt.fit(log, order="time")


def _worsening(students: int = 600, attempts: int = 10, seed: int = 3) -> pd.DataFrame:
    """A skill whose students answer worse and worse: nothing BKT without forgets can call learning."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame([(f"s{s}", "worsening", int(rng.random() < 0.9 - 0.08 * t))
                         for s in range(students) for t in range(attempts)], columns=["student", "skill", "correct"])


def test_degenerate_fits_are_flagged_per_skill_and_sound_ones_are_not():
    with pytest.warns(plsim.bkt.ResponseOrderWarning):  # later responses are less often correct
        fitted = plsim.bkt.fit(pd.concat([synthetic_log(students=600, seed=4), _worsening()]))
    flags = fitted.params["flags"]
    assert flags["fractions"] == "" and flags["worsening"] != ""
    report = fitted.to_dict()
    for flag in flags["worsening"].split(","):
        assert fitted.degenerate[flag] == ["worsening"]
        assert report["degenerate"][flag]["which"] == ["worsening"] and report["degenerate"][flag]["meaning"]
    assert {r["skill"]: r["flags"] for r in report["params"]}["fractions"] == []
    json.dumps(report, allow_nan=False)
    # Each flag at its threshold.
    params = pd.DataFrame({"learn": [0.1, 5e-5, 0.99995, 0.1, 0.1, 0.1], "guess": [0.2, 0.2, 0.2, 0.4995, 0.45, 0.2],
                           "slip": [0.1, 0.1, 0.1, 0.1, 0.46, 0.1], "converged": [True] * 5 + [False]},
                          index=["sound", "never", "at_once", "capped", "alike", "stopped"])
    assert plsim.bkt_checks.degenerate_flags(params).to_dict() == {
        "sound": "", "never": "learn_at_bound", "at_once": "learn_at_bound", "capped": "guess_slip_at_cap",
        "alike": "indistinct_states", "stopped": "not_converged"}


def test_plsim_bkt_fit_prints_a_summary_and_writes_every_skill_to_the_json(tmp_path, capsys):
    logs = [synthetic_log(students=40 + 10 * k, seed=k, skill=f"skill{k:02d}") for k in range(14)]
    train = tmp_path / "train.csv"
    pd.concat(logs + [_worsening(students=300)]).to_csv(train, index=False)
    out = tmp_path / "fit.json"
    assert plsim.cli.main(["bkt", "fit", str(train), "--json", str(out)]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "order       the file's row order within each student" in printed
    assert f"the 10 with most responses (all 15 in --json {out})" in printed
    shown = [name for name in [f"skill{k:02d}" for k in range(14)] + ["worsening"] if name in printed]
    assert len(shown) == 10 and "skill00" not in shown, "the most practised skills"
    assert "parameters  median [10%, 90%] over skills: prior" in printed
    assert "flagged     1 of 15 skills: " in printed and "(worsening)" in printed
    assert "flagged" not in "".join(line for line in printed.splitlines() if "skill0" in line or "skill1" in line)
    assert captured.err == "", "responses in time order: no warning"
    report = json.loads(out.read_text())
    assert report["n_skills"] == 15 and len(report["params"]) == 15
    assert report["order"]["by"] == "the file's row order within each student"
    assert plsim.cli.main(["bkt", "fit", str(train), "--all"]) == 0
    printed = capsys.readouterr().out
    assert all(f"skill{k:02d}" in printed for k in range(14))
    # Shuffled, with a timestamp: a one-line warning, and --order reads it in time order again.
    shuffled = tmp_path / "shuffled.csv"
    _with_times(synthetic_log(students=1500, seed=3)).to_csv(shuffled, index=False)
    assert plsim.cli.main(["bkt", "fit", str(shuffled)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"plsim: warning: {shuffled}: column 'timestamp' decreases within students")
    assert plsim.cli.main(["bkt", "fit", str(shuffled), "--order", "timestamp"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "order       column 'timestamp' (ascending; ties in the file's order)" in captured.out
