"""Output levels (plsim.levels, plsim run --level) and the fast CSV writer (plsim.csvio).

The district and national tables are checked against the same statistics computed here, row by row
from the per-school tables, without pandas' groupby; against the figures summary.json already derives
(headline, headline_effects, study); and the school level against what pandas' to_csv writes, byte for
byte, which is what plsim run wrote before it had levels."""
from __future__ import annotations

import copy
import filecmp
import gzip
import json
import math
import statistics
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plsim
import plsim.cli
from plsim.csvio import format_csv, write_csv
from plsim.levels import aggregate, pooled_sd
from plsim.study import summarize
from conftest import TINY_PATH, tiny_document


def districts_document() -> dict:
    """tiny's district three times (town-1 to town-3: 20 students a grade in each elementary school, 40
    in the middle and high school) and a city (30 a grade in each of 4 elementary schools, 60 in each of
    2 middle and 2 high schools), two years: schools of unequal sizes, so an unweighted mean would differ
    from the right one."""
    doc = tiny_document()
    doc["years"] = 2
    town = doc["districts"][0]
    town["count"] = 3
    city = copy.deepcopy(town)
    city.pop("count")
    city["name"] = "city"
    city["schools"][0].update(count=4, enrollment=180)
    city["schools"][1].update(count=2, enrollment=180)
    city["schools"][2].update(count=2, enrollment=240)
    doc["districts"].append(city)
    return doc


@pytest.fixture(scope="module")
def run() -> plsim.Sim:
    return plsim.Sim(districts_document(), threads=2).run()


def district_of(sim: plsim.Sim) -> dict:
    return dict(zip(sim.schools.index, sim.schools["district"].astype(str)))


def by_hand(rows: pd.DataFrame, keys: list, means: list, spread: str) -> dict:
    """Per group of `keys`: schools, n, the n-weighted mean of each of `means` and the SD over schools
    of `spread`, from plain Python sums over the rows."""
    groups = defaultdict(list)
    for row in rows.to_dict("records"):
        groups[tuple(str(row[k]) for k in keys)].append(row)
    out = {}
    for key, members in groups.items():
        n = sum(int(r["n"]) for r in members)
        entry = {"schools": len(members), "n": n}
        for column in means:
            entry[column] = math.fsum(int(r["n"]) * r[column] for r in members) / n
        entry["school_sd"] = statistics.stdev([r[spread] for r in members]) if len(members) > 1 else float("nan")
        out[key] = entry
    return out


def assert_matches(table: pd.DataFrame, expected: dict, keys: list) -> None:
    assert len(table) == len(expected)
    for row in table.to_dict("records"):
        want = expected[tuple(str(row[k]) for k in keys)]
        for column, value in want.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(row[column]), column
            else:
                assert row[column] == pytest.approx(value, rel=1e-12, abs=1e-12), (column, row)


# --- the statistics ----------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["district", "national"])
def test_assessments_at_a_level_are_the_statistics_of_the_school_rows(run, level):
    school = run.assessments
    keys = ["year", "season", "subject", "grade"] + (["district"] if level == "district" else [])
    rows = school.assign(district=school["school_id"].map(district_of(run)))
    means = ["mean_rit", "mean_percentile", "mean_sd", "mean_true_rit"]
    table = plsim.aggregate(school, "assessments", level, schools=run.schools)
    assert list(table.columns) == keys + ["schools", "n"] + means + ["school_sd"]
    assert_matches(table, by_hand(rows, keys, means, "mean_sd"), keys)
    assert table["n"].sum() == school["n"].sum()
    if level == "district":
        assert sorted(table["district"].astype(str).unique()) == ["city", "town-1", "town-2", "town-3"]
    assert run.table("assessments", level).equals(table)


def test_national_assessments_give_the_headline_of_the_summary(run):
    national = run.table("assessments", "national")
    headline = run.summary()["headline"]
    for subject, h in headline.items():
        spring = national[(national["year"] == h["year"]) & (national["season"] == "spring")
                          & (national["subject"] == subject)]
        assert spring["n"].sum() == h["students"]
        for column in ("mean_rit", "mean_percentile", "mean_sd"):
            assert np.average(spring[column], weights=spring["n"]) == pytest.approx(h[column], rel=1e-12)


@pytest.mark.parametrize("level", ["district", "national"])
def test_effects_at_a_level_are_the_statistics_of_the_school_rows_by_model(run, level):
    school = run.effects
    keys = ["year", "subject", "grade"] + (["district"] if level == "district" else []) + ["model"]
    rows = school.assign(district=school["school_id"].map(district_of(run)))
    means = ["effect_rit", "effect_sd", "measured_effect_rit"]
    table = run.table("effects", level)
    assert list(table.columns) == keys + ["schools", "n"] + means + ["school_sd"]
    assert_matches(table, by_hand(rows, keys, means, "effect_sd"), keys)
    assert set(table["model"]) == {"station_rotation", "traditional"}, "models are not averaged together"


def test_national_effects_give_the_headline_effects(run):
    national = run.table("effects", "national")
    for subject, h in run.summary()["headline_effects"].items():
        pl = national[(national["year"] == h["year"]) & (national["subject"] == subject)
                      & (national["model"] != "traditional")]
        assert pl["n"].sum() == h["students"]
        assert np.average(pl["effect_sd"], weights=pl["n"]) == pytest.approx(h["mean_effect_sd"], rel=1e-12)


def test_the_national_study_is_the_pooled_study_of_the_summary(run):
    study = run.study()
    national = aggregate(study, "study", "national")
    assert list(national.columns) == ["subject", "year", "model", "schools", "n", "n_unmatched", "estimate_sd", "se",
                                      "se_sampling", "p_value", "true_effect_sd"]
    pooled = summarize(study)
    for subject, entry in pooled.items():
        row = national[(national["subject"] == subject) & (national["year"] == entry["year"])].iloc[0]
        assert row["schools"] == entry["schools"]
        assert row["estimate_sd"] == pytest.approx(entry["pooled_estimate_sd"], rel=1e-12)
        assert row["se"] == pytest.approx(entry["pooled_se"], rel=1e-12)
        assert row["se_sampling"] == pytest.approx(entry["pooled_se_sampling"], rel=1e-12)
        assert row["true_effect_sd"] == pytest.approx(entry["true_effect_sd"], rel=1e-12)
    district = run.table("study", "district")
    assert district.groupby(["year", "subject"])["n"].sum().equals(national.groupby(["year", "subject"])["n"].sum())


def test_costs_are_summed_by_district_and_nationally(run):
    costs = run.costs
    names = run.schools["district"].cat.categories
    for level in ("district", "national"):
        table = run.table("costs", level)
        assert table["amount"].sum() == pytest.approx(costs["amount"].sum(), rel=1e-12)
        assert table["schools"].sum() == len(costs)
    district = run.table("costs", "district")
    for name, g in costs.groupby(costs["district"].map(dict(enumerate(names)))):
        assert district.loc[district["district"] == name, "amount"].sum() == pytest.approx(g["amount"].sum(), rel=1e-12)


def test_national_rollout_counts_districts_and_weights_shares_by_students():
    table = pd.DataFrame({
        "year": [1, 1, 1], "district": ["a", "b", "c"], "has_plan": [True, True, False],
        "target_share": [0.5, 0.2, 0.0], "students": [1000, 3000, 500], "students_pl": [400, 600, 0],
        "students_in_pl_schools": [500, 700, 0], "schools": [10, 30, 5], "schools_pilot": [1, 2, 0],
        "schools_schoolwide": [3, 4, 0], "converted": [1, 1, 0], "dropped": [0, 1, 0], "codified": [0, 1, 0],
        "gate_estimate_sd": [0.1, 0.3, np.nan], "gate_students": [100, 300, 0], "gate_closed": [False, True, False],
        "proven": [True, False, False], "system_change": [False, False, False]})
    table["share_students_pl"] = table["students_pl"] / table["students"]
    assert aggregate(table, "rollout", "district") is table, "already by district"
    row = aggregate(table, "rollout", "national").iloc[0]
    assert (row["districts"], row["districts_with_plan"], row["students"], row["schools"]) == (3, 2, 4500, 45)
    assert row["target_share"] == pytest.approx((0.5 * 1000 + 0.2 * 3000) / 4000)
    assert row["share_students_pl"] == pytest.approx(1000 / 4500)
    assert row["gate_estimate_sd"] == pytest.approx((0.1 * 100 + 0.3 * 300) / 400)
    assert (row["districts_gate_closed"], row["districts_proven"], row["districts_system_change"]) == (1, 1, 0)


def test_tables_coarser_than_the_level_keep_their_level(run):
    for name in ("subgroups", "fidelity"):
        assert run.table(name, "national").equals(run.table(name, "school"))


def test_pooled_sd_is_the_sd_of_the_union_never_the_mean_of_the_sds():
    rng = np.random.default_rng(4)
    parts = [rng.normal(mu, sd, size) for mu, sd, size in ((200, 10, 30), (215, 14, 120), (190, 8, 7), (205, 1, 2))]
    n = [len(p) for p in parts]
    means = [p.mean() for p in parts]
    for ddof in (0, 1):
        sds = [p.std(ddof=ddof) for p in parts]
        assert plsim.pooled_sd(n, means, sds, ddof=ddof) == pytest.approx(np.concatenate(parts).std(ddof=ddof), rel=1e-12)
    sds = [p.std(ddof=1) for p in parts]
    assert pooled_sd(n, means, sds) - np.average(sds, weights=n) > 1, "the spread between the parts counts"
    assert math.isnan(pooled_sd([1], [3.0], [np.nan]))


def test_unknown_levels_and_tables_are_refused(run):
    with pytest.raises(ValueError, match="level: expected one of school, district, national"):
        run.table("assessments", "state")
    with pytest.raises(ValueError, match="name: expected one of assessments"):
        run.table("students", "national")
    with pytest.raises(ValueError, match="needs schools="):
        aggregate(run.assessments, "assessments", "district")


# --- plsim run --level -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("levels") / "districts.json"
    path.write_text(json.dumps(districts_document()))
    return path


def run_cli(*args) -> int:
    return plsim.cli.main(["run", *map(str, args), "--threads", "2"])


def test_the_default_level_writes_what_pandas_to_csv_wrote_before(scenario_file, tmp_path):
    out = tmp_path / "run"
    assert run_cli(scenario_file, "--out", out, "--study", "--min-cell", "25") == 0
    sim = plsim.Sim(plsim.load_scenario(scenario_file), threads=1)
    sim.run()
    small = lambda t: plsim.cli.suppress_small_cells(t, 25)  # noqa: E731
    before = {"assessments.csv": small(sim.assessments.drop(columns=["mean_true_rit"])).to_csv(index=False, float_format="%.6f"),
              "subgroups.csv": small(sim.subgroups).to_csv(index=False, float_format="%.6f"),
              "effects.csv": small(sim.effects).to_csv(index=False, float_format="%.6f"),
              "study.csv": small(sim.study()).to_csv(index=False, float_format="%.6f"),
              "costs.csv": sim.costs.to_csv(index=False, float_format="%.2f")}
    for name, text in before.items():
        assert (out / name).read_bytes() == text.encode(), name
    assert sorted(p.name for p in out.glob("*.csv")) == sorted(before)
    assert json.loads((out / "summary.json").read_text())["level"] == "school"


def test_run_writes_the_tables_at_the_level_asked(scenario_file, run, tmp_path):
    out = tmp_path / "national"
    assert run_cli(scenario_file, "--out", out, "--level", "national", "--study") == 0
    a = pd.read_csv(out / "assessments.csv")
    assert list(a.columns) == ["year", "season", "subject", "grade", "schools", "n", "mean_rit", "mean_percentile",
                               "mean_sd", "school_sd"], "mean_true_rit is not exported, as at the school level"
    api = run.table("assessments", "national")
    assert len(a) == len(api) and (a["n"].to_numpy() == api["n"].to_numpy()).all()
    assert np.abs(a["mean_rit"].to_numpy() - api["mean_rit"].to_numpy()).max() <= 5e-7
    assert "school_id" not in pd.read_csv(out / "effects.csv") and "district" not in pd.read_csv(out / "costs.csv")
    assert (out / "subgroups.csv").read_bytes() == run.subgroups.to_csv(index=False, float_format="%.6f").encode()
    s = json.loads((out / "summary.json").read_text())
    assert s["level"] == "national" and "compress" not in s
    district = tmp_path / "district"
    assert run_cli(scenario_file, "--out", district, "--level", "district") == 0
    d = pd.read_csv(district / "assessments.csv")
    assert set(d["district"]) == {"city", "town-1", "town-2", "town-3"}
    assert set(pd.read_csv(district / "costs.csv")["district"]) <= {"city", "town-1", "town-2", "town-3"}
    assert plsim.cli.main(["report", str(district)]) == 0


def test_min_cell_applies_after_aggregation(scenario_file, tmp_path):
    # A grade has 20 to 60 students in a school, 40 (towns) or 120 (city) in a district, 240 nationally.
    assert run_cli(scenario_file, "--out", tmp_path / "s", "--min-cell", "100") == 0
    assert run_cli(scenario_file, "--out", tmp_path / "d", "--min-cell", "100", "--level", "district") == 0
    assert run_cli(scenario_file, "--out", tmp_path / "n", "--min-cell", "100", "--level", "national") == 0
    school, district, national = (pd.read_csv(tmp_path / x / "assessments.csv") for x in "sdn")
    assert school["suppressed"].all() and school["mean_rit"].isna().all()
    assert not national["suppressed"].any() and national["mean_rit"].notna().all() and national["school_sd"].notna().all()
    small = district["n"] < 100
    assert small.any() and (~small).any()
    assert district.loc[small, "suppressed"].all() and district.loc[small, ["mean_rit", "school_sd"]].isna().all().all()
    assert district.loc[small, ["district", "schools", "n"]].notna().all().all(), "keys, schools and n are kept"
    assert district.loc[~small, "mean_rit"].notna().all() and not district.loc[~small, "suppressed"].any()


def test_an_unknown_level_is_refused_by_argparse():
    done = subprocess.run([sys.executable, "-m", "plsim", "run", str(TINY_PATH), "--level", "state"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "argument --level: invalid choice: 'state' (choose from 'school', 'district', 'national')" in done.stderr
    for bad in ("0", "10", "fast"):
        done = subprocess.run([sys.executable, "-m", "plsim", "run", str(TINY_PATH), "--compress", bad],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "argument --compress:" in done.stderr, bad


def test_compressed_tables_hold_the_bytes_of_the_plain_ones(scenario_file, tmp_path):
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    assert run_cli(scenario_file, "--out", plain, "--level", "district", "--study") == 0
    assert run_cli(scenario_file, "--out", packed, "--level", "district", "--study", "--compress", "6") == 0
    tables = sorted(p.name for p in plain.glob("*.csv"))
    assert sorted(p.name for p in packed.glob("*.csv.gz")) == [f"{name}.gz" for name in tables]
    for name in tables:
        assert gzip.decompress((packed / f"{name}.gz").read_bytes()) == (plain / name).read_bytes(), name
    assert json.loads((packed / "summary.json").read_text())["compress"] == 6
    assert plsim.cli.main(["report", str(packed)]) == 0


def test_resume_keeps_the_level_of_the_run_or_takes_a_new_one(scenario_file, tmp_path):
    checkpoint = tmp_path / "run.plsim"
    assert run_cli(scenario_file, "--level", "district", "--stop-after-year", "1", "--checkpoint", checkpoint) == 0
    assert plsim.cli.main(["resume", str(checkpoint), "--out", str(tmp_path / "kept")]) == 0
    assert plsim.cli.main(["resume", str(checkpoint), "--out", str(tmp_path / "national"), "--level", "national"]) == 0
    assert run_cli(scenario_file, "--level", "district", "--out", tmp_path / "whole") == 0
    for name in ("assessments.csv", "effects.csv", "costs.csv"):
        assert filecmp.cmp(tmp_path / "whole" / name, tmp_path / "kept" / name, shallow=False), name
    assert "district" not in pd.read_csv(tmp_path / "national" / "assessments.csv")
    assert json.loads((tmp_path / "national" / "summary.json").read_text())["level"] == "national"


# --- the writer --------------------------------------------------------------------------------------

EDGE_FLOATS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, 1 / 128, -1 / 128, 1e-7, -1e-7, 5e-7, -5e-7,
               123.4567895, 0.0000005, 1e15, -1e15, 9e9, 4.5e15, 1e300, -1e300, 5e-324, 2.0 ** 52 / 1e6, 2.0 ** 53]


@pytest.mark.parametrize("float_format", [None, "%.0f", "%.2f", "%.6f", "%.9f", "%.3g"])
def test_the_writer_writes_the_bytes_of_pandas_to_csv(float_format, tmp_path):
    rng = np.random.default_rng(7)
    n = 5000
    values = np.concatenate([EDGE_FLOATS, rng.normal(0, 100, n), rng.normal(0, 1, n) * 10.0 ** rng.integers(-9, 12, n),
                             np.round(rng.normal(0, 50, n), 3) + 0.0005])
    frame = pd.DataFrame({
        "f": values, "f32": np.clip(rng.permutation(values), -1e38, 1e38).astype(np.float32),
        "i": rng.integers(-10 ** 12, 10 ** 12, len(values)), "u": rng.integers(0, 2 ** 32, len(values)).astype(np.uint32),
        "b": rng.random(len(values)) < 0.5,
        "c": pd.Categorical(rng.choice(["fall", "spring", None], len(values)), ["fall", "winter", "spring"]),
        "o": rng.choice(["é", "station_rotation", "a b"], len(values)).astype(object)})
    expected = frame.to_csv(index=False, float_format=float_format).encode()
    assert format_csv(frame, float_format=float_format) == expected
    write_csv(frame, tmp_path / "t.csv", float_format=float_format, chunk_rows=777, workers=2)
    assert (tmp_path / "t.csv").read_bytes() == expected
    write_csv(frame, tmp_path / "t.csv.gz", float_format=float_format, compress=1)
    assert gzip.decompress((tmp_path / "t.csv.gz").read_bytes()) == expected


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [], "b": []}), pd.DataFrame({"a": [1.5, np.nan]}), pd.DataFrame({"a": ["x,y", 'q"'], "b": [1, 2]}),
    pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [0.1, 0.2]}), pd.DataFrame({"a": [None, 1], "b": [1, 2]}),
    pd.DataFrame({"a": [np.iinfo(np.int64).min, 0], "b": [np.iinfo(np.uint64).max, 0]})],
    ids=["empty", "one column", "quoted", "nullable", "objects", "extreme integers"])
def test_frames_the_fast_path_does_not_take_are_written_by_pandas(frame):
    assert format_csv(frame, float_format="%.6f") == frame.to_csv(index=False, float_format="%.6f").encode()


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50), st.integers(0, 9))
def test_fixed_point_floats_are_formatted_as_percent_f(values, digits):
    frame = pd.DataFrame({"x": values, "k": range(len(values))})
    float_format = f"%.{digits}f"
    assert format_csv(frame, float_format=float_format) == frame.to_csv(index=False, float_format=float_format).encode()


def test_every_engine_table_reaches_python_and_every_declared_table_has_its_keys(tiny_run):
    """plsim.tables declares each table once: the engine's tables (the C++ field lists) all reach a
    DataFrame, and each declared table's accessor gives the columns its entry names."""
    from plsim.tables import FROM_ENGINE, TABLES

    assert list(FROM_ENGINE) == list(plsim._core.result_tables)
    for name in plsim._core.result_tables:
        columns = tiny_run._core.table(name)
        assert all(len(c) == len(next(iter(columns.values()))) for c in columns.values()), name
    for name, spec in TABLES.items():
        if name in ("study", "schools") or (name == "effects" and not tiny_run.has_counterfactual):
            continue  # a study needs PL schools; schools a table of schools (tests/python/test_district.py)
        frame = tiny_run.table(name)
        assert {k for k in spec.keys if k != "district"} <= set(frame.columns) or frame.empty, name
        assert set(spec.sums) | {c for c in spec.means if c != "mean_true_rit"} <= set(frame.columns), name
    with pytest.raises(ValueError, match="expected one of assessments, subgroups"):
        tiny_run.table("galaxies")
