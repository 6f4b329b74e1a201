"""Mechanisms seen from Python: each test changes one thing in a scenario and checks the direction
(and, where the model fixes it, the size) of the change. Arms of a comparison share their seed, so
common random numbers make every draw that does not depend on the arm identical."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import plsim
from conftest import TRAIT_COLUMNS, elementary_district


def fall_mean_sd(sim: plsim.Sim) -> float:
    a = sim.assessments
    fall = a[(a["year"] == 1) & (a["season"] == "fall")]
    return float(np.average(fall["mean_sd"], weights=fall["n"]))


def run(doc: dict) -> plsim.Sim:
    return plsim.Sim(doc, threads=2).run()


@pytest.fixture(scope="module")
def traditional_and_rotation():
    """The same 40 elementary schools (4,800 students), all traditional or all station rotation:
    (sim before running, sim after running) for each arm."""
    arms = {}
    for model in ("traditional", "station_rotation"):
        sim = plsim.Sim(elementary_district(model=model), threads=2)
        start = {name: column.copy() for name, column in sim.students.items()}
        arms[model] = (start, sim.run())
    return arms


def test_a_district_starting_0_3_sd_below_the_norms_is_measured_0_3_sd_below_in_the_fall():
    """School effects (SD about 0.45) average out over 200 schools to about +-0.03 SD."""
    below = run(elementary_district(shift=-0.3, schools=200, enrollment=60))
    level = fall_mean_sd(below)
    assert level == pytest.approx(-0.3, abs=0.15), f"mean fall SD units {level:+.3f}"
    schools = below.schools
    realised = float(np.average(schools["achievement_shift"], weights=schools["students"]))
    assert level == pytest.approx(realised, abs=0.03), \
        f"measured {level:+.3f} SD, drawn school shifts average {realised:+.3f} SD"


def test_a_district_shift_moves_every_school_by_exactly_that_shift_against_its_twin():
    at_norms = run(elementary_district())
    below = run(elementary_district(shift=-0.3))
    difference = fall_mean_sd(below) - fall_mean_sd(at_norms)
    assert difference == pytest.approx(-0.3, abs=0.02), f"paired difference {difference:+.4f} SD"


def test_frl_heavy_schools_start_lower_by_the_frl_gap_times_the_difference_in_frl_share():
    """frl_achievement_gap (0.5 SD) x (0.9 - 0.1) = 0.4 SD between otherwise identical schools."""
    heavy = run(elementary_district(frl_mean=0.9, frl_sd=0.0))
    light = run(elementary_district(frl_mean=0.1, frl_sd=0.0))
    difference = fall_mean_sd(heavy) - fall_mean_sd(light)
    assert difference == pytest.approx(-0.4, abs=0.06), f"high- minus low-FRL schools {difference:+.3f} SD"


def test_frl_students_start_half_an_sd_below_their_schoolmates():
    sim = plsim.Sim(elementary_district(frl_sd=0.0), threads=1)
    st = sim.students
    norms = plsim.norms_growth()
    for subject in ("math", "reading"):
        fall_sd = norms[norms["subject"] == subject].set_index("grade")["fall_sd"]
        df = pd.DataFrame({"school": st["school"], "grade": st["grade"], "frl": st["frl"].astype(bool),
                           "z": st[f"{subject}_score"] / fall_sd.loc[st["grade"]].to_numpy()})
        cell = df.groupby(["school", "grade", "frl"])["z"].mean().unstack("frl").dropna()
        gap = float((cell[True] - cell[False]).mean())
        assert gap == pytest.approx(-0.5, abs=0.06), f"{subject}: FRL minus non-FRL within school and grade {gap:+.3f} SD"


def test_two_arms_with_the_same_seed_start_from_the_identical_population(traditional_and_rotation):
    (trad_start, _), (rot_start, _) = traditional_and_rotation["traditional"], traditional_and_rotation["station_rotation"]
    for name in TRAIT_COLUMNS + ("math_frontier", "reading_frontier", "math_gaps", "math_score", "reading_score"):
        assert np.array_equal(trad_start[name], rot_start[name]), name


def test_station_rotation_and_traditional_instruction_give_different_results(traditional_and_rotation):
    _, trad = traditional_and_rotation["traditional"]
    _, rot = traditional_and_rotation["station_rotation"]
    assert set(trad.schools["model"]) == {"traditional"} and set(rot.schools["model"]) == {"station_rotation"}
    ta, ra = trad.assessments, rot.assessments
    fall = ta["season"] == "fall"
    pd.testing.assert_series_equal(ta[fall]["mean_rit"], ra[fall]["mean_rit"], check_exact=True,
                                   obj="fall scores (before any instruction)")
    assert not np.allclose(ta[~fall]["mean_rit"], ra[~fall]["mean_rit"])


def test_station_rotation_gains_most_below_the_class_where_its_targeted_time_repairs_gaps(
        traditional_and_rotation):
    """Small groups and software teach near each student's frontier and spend `gap_repair_share` (0.6) of
    their time on a student's gaps while he has any; whole-class time teaches the class's pacing unit, a
    third of which reviews earlier units (docs/model.md, "Who gains most"). Against the counterfactual
    twin, station rotation helps the students more than 4 units below their class's median (those with
    most gaps) more than those near it, and those near it more than those more than 4 units above it, in
    each subject: what its targeted time repairs outweighs the review its shorter whole-class time loses
    (with a share of 0.25 the order was the reverse). Its mean effect is positive."""
    start, rot = traditional_and_rotation["station_rotation"]
    assert rot.has_counterfactual and rot.scenario.years == 1, "one year: the students of the start are the end's"
    by_id = pd.DataFrame({k: start[k] for k in ("id", "classroom", "grade", "math_frontier", "reading_frontier")})
    by_id = by_id.set_index("id")
    for subject in ("math", "reading"):
        effect = rot.student_effects(subject).set_index("id")["effect_rit"]
        frontier = by_id[f"{subject}_frontier"]
        distance = (frontier - frontier.groupby(by_id["classroom"]).transform("median")).reindex(effect.index)
        band = pd.cut(distance, [-np.inf, -4, 4, np.inf], labels=["below", "near", "above"])
        mean = effect.groupby(band, observed=True).mean()
        assert mean["below"] > mean["near"] > mean["above"], \
            f"{subject}: mean true effect (RIT) by distance from the class's median: {mean.round(2).to_dict()}"
        assert effect.mean() > 0, f"{subject}: mean true effect {effect.mean():+.2f} RIT"


def test_station_rotation_repairs_gaps_that_traditional_instruction_leaves(traditional_and_rotation):
    _, trad = traditional_and_rotation["traditional"]
    _, rot = traditional_and_rotation["station_rotation"]
    for subject in ("math", "reading"):
        assert rot.students[f"{subject}_gaps"].mean() < trad.students[f"{subject}_gaps"].mean(), subject


def test_collaborative_time_raises_engagement_to_its_documented_target():
    """Engagement moves toward engagement_baseline + engagement_collaborative_bonus x collaborative share
    + engagement_contact x teacher-contact share - engagement_mismatch x (1 - match) (docs/model.md; no
    choice, check-ins or open space here). Without the mismatch term the target is fixed: station rotation
    spends 75 of 300 minutes collaborating and 75 in teacher-led small groups, traditional teaching
    neither, so after 36 weeks at engagement_rate 0.2 every student is at his model's target."""
    def doc(model: str) -> dict:
        d = elementary_district(model=model)
        d["parameters"] = {"personalization": {"engagement_mismatch": 0.0}}
        return d

    resolved = plsim.load_scenario(doc("station_rotation")).resolved["parameters"]
    learning, personalization = resolved["learning"], resolved["personalization"]
    baseline = learning["engagement_baseline"]
    target = (baseline + learning["engagement_collaborative_bonus"] * 75 / 300
              + personalization["engagement_contact"] * 75 / 300)
    assert target > baseline
    trad = plsim.Sim(doc("traditional"), threads=2).run()
    rot = plsim.Sim(doc("station_rotation"), threads=2, counterfactual=False).run()
    assert trad.students["engagement"] == pytest.approx(np.full(len(trad.students["id"]), baseline), abs=1e-6)
    assert rot.students["engagement"] == pytest.approx(np.full(len(rot.students["id"]), target), abs=1e-4)


def test_under_traditional_teaching_students_far_from_the_pace_settle_below_the_engagement_baseline(
        traditional_and_rotation):
    """With the default engagement_mismatch, whole-class time at the class's pace misses students far
    from it: their engagement target lies below the baseline, the more so the farther they are."""
    start, trad = traditional_and_rotation["traditional"]
    baseline = plsim.load_scenario(elementary_district()).resolved["parameters"]["learning"]["engagement_baseline"]
    engagement = pd.Series(trad.students["engagement"], index=trad.students["id"])
    assert (engagement <= baseline + 1e-6).all(), "nothing in traditional teaching raises engagement"
    assert engagement.mean() < baseline - 0.005, f"mean engagement {engagement.mean():.3f}, baseline {baseline}"
    st = pd.DataFrame({k: start[k] for k in ("id", "classroom", "math_frontier", "reading_frontier")}).set_index("id")
    distance = sum((st[f"{s}_frontier"] - st[f"{s}_frontier"].groupby(st["classroom"]).transform("median")).abs()
                   for s in ("math", "reading"))
    near, far = engagement[distance.reindex(engagement.index) <= 4], engagement[distance.reindex(engagement.index) > 16]
    assert len(near) > 100 and len(far) > 100
    assert far.mean() < near.mean(), f"mean engagement near the class median {near.mean():.3f}, far {far.mean():.3f}"


def test_mastery_progression_leaves_fewer_gaps_than_seat_time(traditional_and_rotation):
    doc = elementary_district(model="mastery_class")
    doc["instructional_models"] = {"mastery_class": {"minutes": {"whole_class": 300}, "progression": "mastery"}}
    mastery = run(doc)
    _, seat_time = traditional_and_rotation["traditional"]
    for subject in ("math", "reading"):
        m, s = mastery.students[f"{subject}_gaps"].mean(), seat_time.students[f"{subject}_gaps"].mean()
        assert m < s, f"{subject}: mean gaps {m:.2f} under mastery, {s:.2f} under seat time"
