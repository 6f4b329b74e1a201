"""One name per figure: each headline effect says whose it is (plsim.results.WHOSE), and the same name
gives the same number wherever it appears: summary.json, CLI text, DataFrames, plots, reports,
compare and ensemble. The earlier keys hold the same numbers beside the new names."""
from __future__ import annotations

import json

import numpy as np
import pytest

import plsim
import plsim.cli
from plsim.compare import run_metrics
from plsim.ensemble import ensemble
from plsim.report import plot_effects
from plsim.results import WHOSE

SEED = 3


@pytest.fixture(scope="module")
def run():
    doc = plsim.load_scenario("scale_up_district", years=2).document
    return doc, plsim.Sim(doc, seed=SEED, threads=2).run()


def test_the_effect_on_students_in_pl_schools_is_one_number_everywhere(run, capsys):
    doc, sim = run
    summary = sim.summary()
    for subject, h in summary["headline_effects"].items():
        assert h["whose"] == WHOSE["pl_schools"]
        assert h["effect_sd_pl_schools"] == h["mean_effect_sd"], "the earlier key holds the same number"
        assert h["by_year_pl_schools"] == h["by_year"]
    # plsim ensemble: its per-seed table carries the same figure under the same name.
    result = ensemble(doc, seeds=[SEED], threads=2)
    last = result.summary[result.summary["year"] == 2].set_index("subject")
    for subject, h in summary["headline_effects"].items():
        assert last.loc[subject, "effect_sd_pl_schools"] == pytest.approx(h["effect_sd_pl_schools"], abs=1e-12)
    # sim.plot() and the report draw it, and say whose it is.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    plot_effects(sim.effects, ax)
    assert "students in PL schools that year" in ax.get_title()
    for bars in ax.containers:
        assert bars.lines[0].get_ydata()[-1] == pytest.approx(
            summary["headline_effects"][bars.get_label()]["effect_sd_pl_schools"], abs=1e-12)
    plt.close("all")
    # The CLI's line names it too.
    assert plsim.cli.main(["run", "scale_up_district", "--set", "years=2", "--seed", str(SEED)]) == 0
    text = capsys.readouterr().out
    math = summary["headline_effects"]["math"]["effect_sd_pl_schools"]
    assert f"math: {math:+.3f} SD" in text and "students in PL schools in year 2" in text


def test_the_effect_on_the_pl_cohort_is_one_number_everywhere(run):
    doc, sim = run
    ce = sim.cost_effectiveness()
    g = sim.subgroups
    last = g[(g["subgroup"] == "pl_cohort") & (g["year"] == g["year"].max())]
    for subject in ("math", "reading"):
        cohort = last[last["subject"] == subject].dropna(subset=["effect_true_sd"])
        expected = float(np.average(cohort["effect_true_sd"], weights=cohort["n"]))
        assert ce[f"effect_{subject}_sd_pl_cohort"] == pytest.approx(expected, abs=1e-12)
        assert ce[f"effect_{subject}_sd"] == ce[f"effect_{subject}_sd_pl_cohort"], "the earlier key"
    row = run_metrics(doc, SEED, threads=2)  # one run of plsim compare
    assert row["effect_math_sd_pl_cohort"] == pytest.approx(ce["effect_math_sd_pl_cohort"], abs=1e-12)
    summary = json.loads(json.dumps(sim.summary()))
    assert summary["cost_effectiveness"]["effect_math_sd_pl_cohort"] == pytest.approx(ce["effect_math_sd_pl_cohort"])
    # Two figures, two names (the plot's unweighted mean over schools is gone: it draws the headline).
    assert set(WHOSE) == {"pl_schools", "pl_cohort"}
