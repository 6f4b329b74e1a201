"""Results by year, for one run and over many.

Every year's reach, teachers, fidelity, scores, effects and costs of a run as one long table (year,
metric, value), built from the result tables the run has (plsim.tables: `sim.tables.frame(name)`, or
the CSV files `plsim run --out` writes, read by plsim.report), and their bands over runs (seeds, and
parameter draws where an ensemble draws them). plsim.compare, plsim.ensemble and `plsim report` all
read it, so a figure has one definition wherever it is shown:

    plsim.compare(["scale_up_district", "scale_up_system_change"], seeds=3).by_year("teacher_turnover")
    plsim.ensemble("scale_up_district", seeds=5).plot("share_students_pl")

A band is the 5th to 95th percentile over the runs (interpolated between runs; over 3 seeds it spans
nearly all of them), and says so: the `band` column of every table, the subtitle of every plot.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from pandas.plotting import PlotAccessor

from . import formats
from .levels import aggregate
from .safe_io import formula_safe_frame, plot_label
from .tables import TABLES


@dataclass(frozen=True)
class Metric:
    name: str
    section: str   # where the report shows it: reach, teachers, fidelity, scores, effects, costs, subgroups
    unit: str      # plsim.formats.UNITS
    question: str  # the question a chart of it answers (its title)
    doc: str


SUBGROUP_LABELS = {"frl": "FRL", "non_frl": "non-FRL", "start_q1": "lowest starting fifth",
                    "start_q2": "second starting fifth", "start_q3": "middle starting fifth",
                    "start_q4": "fourth starting fifth", "start_q5": "highest starting fifth"}
SUBGROUPS = tuple(SUBGROUP_LABELS)


def _metrics() -> tuple:
    m = [
        Metric("share_students_pl", "reach", "share", "How many students learn in PL classrooms, against the target?",
               "share of the students taught by a teacher practising a PL model, at the year's start"),
        Metric("target_share", "reach", "share", "What share of students do the plans aim for?",
               "the rollout plans' target for the year, weighted by the students of districts with a plan"),
        Metric("target_gap", "reach", "share", "How far is reach from the plan's target?",
               "share_students_pl minus target_share: above 0 past the target, below short of it"),
        Metric("students_pl", "reach", "count", "How many students learn in PL classrooms?",
               "students taught by a teacher practising a PL model"),
        Metric("schools_pl", "reach", "count", "How many schools run a PL model?",
               "schools at a PL stage (pilot classrooms or school-wide)"),
        Metric("students_reached", "reach", "count", "How many students has PL reached so far?",
               "distinct students ever enrolled in a school at a PL stage, to the year"),
        Metric("teacher_turnover", "teachers", "share", "How many teachers leave each year?",
               "share of the year's teachers who leave at its end"),
        Metric("turnover_high_poverty", "teachers", "share", "How many teachers leave high-poverty schools?",
               "teacher turnover in high-poverty schools"),
        Metric("turnover_low_poverty", "teachers", "share", "How many teachers leave low-poverty schools?",
               "teacher turnover in low-poverty schools"),
        Metric("mean_burnout", "teachers", "number", "Are teachers burning out?",
               "mean burnout (0 to 1) of the teachers teaching, at the year's start"),
        Metric("practising_teachers", "teachers", "count", "How many teachers practise a PL model?",
               "teachers practising a PL model"),
        Metric("mean_pl_skill", "teachers", "number", "How skilled in PL are the teachers practising it?",
               "mean PL skill (0 to 1) of the teachers practising a PL model"),
        Metric("mean_pl_fidelity", "fidelity", "share", "How much of the model do PL classrooms deliver?",
               "delivered share of what the model asks, mean over the PL classrooms"),
    ]
    for subject in ("math", "reading"):
        m.append(Metric(f"score_{subject}_sd", "scores", "sd",
                        f"Where do students score in {subject} against the national norms?",
                        f"spring mean {subject} score of every student, national SD units (0: the national norm)"))
    for subject in ("math", "reading"):
        m.append(Metric(f"effect_{subject}_sd", "effects", "sd", f"What does PL add in {subject} for the students "
                        f"it reached?", f"true {subject} effect on the PL cohort (students ever in a PL school), "
                        f"spring, against the counterfactual twin"))
    for subject in ("math", "reading"):
        m.append(Metric(f"effect_{subject}_sd_pl_schools", "effects", "sd", f"What does PL add in {subject} for the "
                        f"students in PL schools that year?", f"true {subject} effect on the students in PL schools "
                        f"that year, spring, against the counterfactual twin"))
    m += [
        Metric("cost_total", "costs", "money", "What does it cost each year?",
               "US$ spent on personalized learning in the year, every payer"),
        Metric("cost_cumulative", "costs", "money", "What has it cost so far?", "US$ spent to the year's end"),
        Metric("cost_per_student_reached", "costs", "money", "What has each student reached cost so far?",
               "cost_cumulative over students_reached"),
    ]
    for group, label in SUBGROUP_LABELS.items():
        for subject in ("math", "reading"):
            m.append(Metric(f"effect_{subject}_sd_{group}", "subgroups", "sd", f"What does PL add in {subject} for "
                            f"{label} students?", f"true {subject} effect on every {label} student of the "
                            f"district (in a PL school or not), spring, against the counterfactual twin"))
    return tuple(m)


#: Every by-year metric, in the order of tables and reports.
METRICS = {m.name: m for m in _metrics()}
#: The metrics of plsim compare's and plsim ensemble's by-year plot.
KEY_METRICS = ("share_students_pl", "schools_pl", "teacher_turnover", "mean_pl_fidelity", "mean_burnout",
               "effect_math_sd", "effect_reading_sd", "score_math_sd", "cost_total", "cost_per_student_reached")
#: The result tables (plsim.tables) the metrics come from, besides the teachers' year table.
SOURCES = ("rollout", "fidelity", "assessments", "subgroups", "effects", "costs")
assert set(SOURCES) <= set(TABLES), "by_year reads tables plsim.tables declares"
BAND_COLUMNS = ("mean", "low", "high", "n_seeds")


# --- one run ----------------------------------------------------------------------------------------

def of_run(sim, **known: pd.DataFrame) -> pd.DataFrame:
    """Every by-year metric of a finished `sim` (a plsim.Sim): year, metric, value (NaN-free: a figure a
    run does not have, such as an effect without a twin, has no row). `known`: tables already built
    (assessments=..., effects=...), which are not built again."""
    frames = {"teachers": sim.tables.teachers_by_year}
    for name in SOURCES:
        if name == "effects" and not sim.has_counterfactual:
            continue
        frames[name] = known[name] if name in known else sim.tables.frame(name)
    return of_frames(frames)


def of_frames(frames: Mapping[str, Optional[pd.DataFrame]]) -> pd.DataFrame:
    """The by-year metrics from a run's tables by name (SOURCES and "teachers", at any output level; a
    missing table gives no rows): year, metric, value."""
    columns: dict = {}
    for extract in (_reach, _teachers, _fidelity, _scores, _effects):
        columns.update(extract(frames))
    columns.update(_costs(frames, columns.get("students_reached")))
    wide = pd.DataFrame(columns)
    if wide.empty:
        return pd.DataFrame({"year": pd.Series(dtype=int), "metric": pd.Series(dtype=object),
                             "value": pd.Series(dtype=float)})
    wide.index.name = "year"
    order = [m for m in METRICS if m in wide]
    long = wide[order].reset_index().melt(id_vars="year", var_name="metric", value_name="value")
    long = long[np.isfinite(long["value"].to_numpy(float))]
    long["year"] = long["year"].astype(int)
    return long.reset_index(drop=True)


def _present(frames, name) -> Optional[pd.DataFrame]:
    frame = frames.get(name)
    return frame if frame is not None and len(frame) else None


def _weighted(frame: pd.DataFrame, value: str, weight: str, by) -> pd.Series:
    """Mean of `value` weighted by `weight` per group, over the rows where both are finite."""
    ok = frame[np.isfinite(frame[value].to_numpy(float)) & (frame[weight].to_numpy(float) > 0)]
    sums = ok.assign(_w=ok[value] * ok[weight]).groupby(by)[["_w", weight]].sum()
    return sums["_w"] / sums[weight]


def _reach(frames) -> dict:
    r = _present(frames, "rollout")
    if r is None:
        return {}
    if "district" in r:  # by district (school and district levels): over every district, as one row a year
        r = aggregate(r, "rollout", "national")
    r = r.set_index("year")
    out = {"share_students_pl": r["share_students_pl"].astype(float), "students_pl": r["students_pl"].astype(float),
           "schools_pl": (r["schools_pilot"] + r["schools_schoolwide"]).astype(float)}
    if "districts_with_plan" in r and (r["districts_with_plan"] > 0).any():
        target = r["target_share"].where(r["districts_with_plan"] > 0).astype(float)
        out.update(target_share=target, target_gap=out["share_students_pl"] - target)
    if "students_reached" in r:
        out["students_reached"] = r["students_reached"].astype(float)
    return out


def _teachers(frames) -> dict:
    t = _present(frames, "teachers")
    if t is None:
        return {}
    t = t.set_index("year")
    names = {"turnover": "teacher_turnover", "turnover_high_poverty": "turnover_high_poverty",
             "turnover_low_poverty": "turnover_low_poverty", "mean_burnout": "mean_burnout",
             "practising": "practising_teachers", "mean_pl_skill": "mean_pl_skill"}
    return {metric: t[column].astype(float) for column, metric in names.items() if column in t}


def _fidelity(frames) -> dict:
    f = _present(frames, "fidelity")
    return {} if f is None else {"mean_pl_fidelity": _weighted(f, "mean", "classrooms", "year")}


def _scores(frames) -> dict:
    a = _present(frames, "assessments")
    if a is None:
        return {}
    spring = a[a["season"].astype(str) == "spring"]
    by = _weighted(spring, "mean_sd", "n", ["year", spring["subject"].astype(str)])
    return {f"score_{subject}_sd": g.droplevel(1) for subject, g in by.groupby(level=1)}


def _effects(frames) -> dict:
    out = {}
    g = _present(frames, "subgroups")
    if g is not None:
        by = _weighted(g, "effect_true_sd", "n", ["year", g["subject"].astype(str), g["subgroup"].astype(str)])
        for (subject, group), s in by.groupby(level=[1, 2]):
            if group == "pl_cohort":
                out[f"effect_{subject}_sd"] = s.droplevel([1, 2])
            elif group in SUBGROUP_LABELS:
                out[f"effect_{subject}_sd_{group}"] = s.droplevel([1, 2])
    e = _present(frames, "effects")
    if e is not None:
        e = e[e["model"].astype(str) != "traditional"]
        by = _weighted(e, "effect_sd", "n", ["year", e["subject"].astype(str)])
        out.update({f"effect_{subject}_sd_pl_schools": s.droplevel(1) for subject, s in by.groupby(level=1)})
    return out


def _costs(frames, reached: Optional[pd.Series]) -> dict:
    c = frames.get("costs")
    years = _years(frames)
    if c is None or not len(years):
        return {}
    # A year without a cost row spent nothing.
    per_year = c.groupby("year")["amount"].sum().reindex(years, fill_value=0.0).astype(float)
    out = {"cost_total": per_year, "cost_cumulative": per_year.cumsum()}
    if reached is not None:
        r = reached.reindex(years)
        out["cost_per_student_reached"] = (out["cost_cumulative"] / r.where(r > 0)).astype(float)
    return out


def _years(frames) -> list:
    """Every year any of the run's tables has."""
    years = set()
    for frame in frames.values():
        if frame is not None and len(frame) and "year" in frame:
            years.update(int(y) for y in frame["year"].unique())
    return sorted(years)


# --- over runs ----------------------------------------------------------------------------------------

def describe_band(runs: int, low: float = 5, high: float = 95, draws: int = 0) -> str:
    """What a band is, in words: its percentiles and what varies between the runs."""
    varies = (f"each with its own draw of {draws} uncertain parameter{'s' if draws != 1 else ''}" if draws
              else "parameters fixed")
    return f"{low:g}th-{high:g}th percentile over {runs} seed{'s' if runs != 1 else ''}; {varies}"


def bands(runs: pd.DataFrame, keys: Sequence[str] = ("scenario",), low: float = 5, high: float = 95) -> pd.DataFrame:
    """Per key, metric and year of the per-run rows `runs` (keys, seed, year, metric, value): the mean,
    the `low` and `high` percentiles over the runs (linear interpolation) and n_seeds, the runs that
    have the figure; keys in their order of first appearance, metrics in METRICS order."""
    keys = [k for k in keys if k in runs]
    if runs.empty:
        return pd.DataFrame(columns=[*keys, "year", "metric", *BAND_COLUMNS])
    g = runs.groupby([*keys, "metric", "year"], sort=False)["value"]
    out = pd.DataFrame({"mean": g.mean(), "low": g.quantile(low / 100), "high": g.quantile(high / 100),
                        "n_seeds": g.count()}).reset_index()
    rank = {m: i for i, m in enumerate(METRICS)}
    out["_metric"] = out["metric"].map(rank).fillna(len(rank))
    for k in keys:
        first = {v: i for i, v in enumerate(pd.unique(runs[k]))}
        out[f"_{k}"] = out[k].map(first)
    out = out.sort_values([*(f"_{k}" for k in keys), "_metric", "year"], kind="stable")
    out = out[[*keys, "year", "metric", *BAND_COLUMNS]].reset_index(drop=True)
    # The mean of equal values can differ from them in its last bits ((0.1 + 0.1 + 0.1) / 3 > 0.1): such a
    # band is the mean. (A real difference, a mean outside the band of a skewed spread, is kept.)
    for bound in ("low", "high"):
        rounding = np.isclose(out[bound], out["mean"], rtol=1e-12, atol=0.0)
        out[bound] = np.where(rounding, out["mean"], out[bound])
    return out


class ByYear:
    """Results by year over runs, for a result object holding `_runs_by_year` (scenario, seed, year,
    metric, value) and `_band_context` (the runs and parameter draws behind a band: describe_band's
    arguments): plsim.compare's and plsim.ensemble's."""

    def _runs(self) -> pd.DataFrame:
        runs = getattr(self, "_runs_by_year", None)
        if runs is None:
            raise ValueError("by_year: this result has no runs by year (a table derived from a comparison keeps "
                             "them only through pandas operations that carry its metadata)")
        return runs

    def metrics_by_year(self) -> list:
        """The by-year metrics these runs have (METRICS), in order."""
        present = set(self._runs()["metric"])
        return [m for m in METRICS if m in present]

    def _check_metric(self, metric: str) -> None:
        known = self.metrics_by_year()
        if metric not in known:
            close = difflib.get_close_matches(str(metric), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"metric: {metric!r} is not a by-year metric of these runs{hint} They have: "
                             f"{', '.join(known)}")

    def bands_by_year(self, low: float = 5, high: float = 95) -> pd.DataFrame:
        """Every by-year metric: scenario, year, metric, mean, low, high, n_seeds and band (what the band
        is: the percentiles and what varies between runs), as comparison_by_year.csv has them."""
        out = bands(self._runs(), ("scenario",), low, high)
        out["band"] = self._band_words(low, high)
        return out

    def _band_words(self, low: float, high: float) -> str:
        context = getattr(self, "_band_context", None) or {}
        return describe_band(context.get("runs", 0), low, high, context.get("draws", 0))

    def by_year(self, metric: str, scenario: Optional[str] = None, *, low: float = 5, high: float = 95) -> pd.DataFrame:
        """`metric` by year (metrics_by_year(); plsim.by_year.METRICS says what each is): mean, low, high
        and n_seeds, indexed by year (by scenario and year for several scenarios; `scenario` picks one).
        The band is the `low`-th to `high`-th percentile over the runs (`.attrs["band"]` says so)."""
        self._check_metric(metric)
        runs = self._runs()
        runs = runs[runs["metric"] == metric]
        if scenario is not None:
            names = list(pd.unique(runs["scenario"]))
            if scenario not in names:
                raise ValueError(f"scenario: expected one of {', '.join(map(repr, names))} (got {scenario!r})")
            runs = runs[runs["scenario"] == scenario]
        b = bands(runs, ("scenario",), low, high).drop(columns="metric")
        single = b["scenario"].nunique() == 1
        out = b.drop(columns="scenario").set_index("year") if single else b.set_index(["scenario", "year"])
        out.attrs["band"] = self._band_words(low, high)
        return out

    def _plot_by_year(self, metric: str, ax=None, *, low: float = 5, high: float = 95):
        self._check_metric(metric)
        return plot(self.bands_by_year(low, high), metric, ax=ax)


# --- plots --------------------------------------------------------------------------------------------

def _axis_formatter(unit: str):
    from matplotlib.ticker import FuncFormatter

    writers = {"money": formats.money, "share": formats.share,
               "sd": lambda x: f"{x:+.3g}", "count": formats.count, "number": lambda x: f"{x:.3g}"}
    return FuncFormatter(lambda x, _pos: writers[unit](x))


def plot(table: pd.DataFrame, metric: str, ax=None):
    """`metric` by year from a table of bands (bands_by_year, comparison_by_year.csv): a line per
    scenario with its band, integer years, the axis in the metric's unit; share_students_pl with the
    plans' target dashed. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    spec = METRICS.get(metric)
    rows = table[table["metric"] == metric]
    targets = table[table["metric"] == "target_share"] if metric == "share_students_pl" else table.iloc[:0]
    for i, (name, g) in enumerate(rows.groupby("scenario", sort=False)):
        color = f"C{i}"
        if len(g) == 1:  # one year: a band is a bar, not an area
            ax.errorbar(g["year"], g["mean"], yerr=[g["mean"] - g["low"], g["high"] - g["mean"]], fmt="none",
                        ecolor=color, alpha=0.5, capsize=6, lw=4)
        ax.fill_between(g["year"], g["low"], g["high"], color=color, alpha=0.2, lw=0)
        ax.plot(g["year"], g["mean"], marker="o", color=color, label=plot_label(name))
        t = targets[targets["scenario"] == name]
        if len(t):
            ax.plot(t["year"], t["mean"], ls="--", color=color, lw=1, label=plot_label(f"{name}: target"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if spec is not None:
        ax.yaxis.set_major_formatter(_axis_formatter(spec.unit))
        if spec.unit == "sd":
            ax.axhline(0, color="gray", lw=0.6)
    band = str(table["band"].iloc[0]) if "band" in table and len(table) else ""
    title = spec.question if spec is not None else metric
    ax.set_title(plot_label(title) + (f"\n{plot_label(band)}" if band else ""), fontsize=9)
    ax.set(xlabel="year", ylabel=plot_label(metric + (" (SD)" if spec is not None and spec.unit == "sd" else "")))
    if len(rows):
        ax.legend(fontsize=7)
    return ax


def plot_grid(table: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS, columns: int = 2):
    """The metrics of `table` (bands) present among `metrics`, one panel each (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    shown = [m for m in metrics if (table["metric"] == m).any()]
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6.2 * columns, 3.4 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, shown):
        plot(table, metric, ax=ax)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def write(table: pd.DataFrame, out: Path, prefix: str) -> list:
    """Writes `table` (bands_by_year) as OUT/PREFIX_by_year.csv and its key metrics as
    OUT/PREFIX_by_year.png; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv, png = Path(out) / f"{prefix}_by_year.csv", Path(out) / f"{prefix}_by_year.png"
    formula_safe_frame(table).to_csv(csv, index=False, float_format="%.6g")
    fig = plot_grid(table)
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return [csv, png]


# --- plsim.compare's table ----------------------------------------------------------------------------

class _ComparisonPlot(PlotAccessor):
    """A comparison's .plot: .plot(metric) for a by-year metric, pandas' DataFrame.plot otherwise."""

    def __call__(self, *args, **kwargs):
        if "metric" in kwargs:
            return self._parent._plot_by_year(kwargs.pop("metric"), *args, **kwargs)
        if args and isinstance(args[0], str) and args[0] in METRICS:
            return self._parent._plot_by_year(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class Comparison(pd.DataFrame, ByYear):
    """plsim.compare's table (one row per scenario, as before) that also holds every year of every run:
    `.by_year(metric)` (mean, low, high, n_seeds by year), `.plot(metric)` (by year, with bands; other
    arguments: pandas' DataFrame.plot), `.bands_by_year()` (every metric, as comparison_by_year.csv)."""

    _metadata = ["_runs_by_year", "_band_context"]

    @property
    def _constructor(self):
        return Comparison

    @property
    def plot(self):
        return _ComparisonPlot(self)


def comparison(table: pd.DataFrame, runs_by_year: Sequence[pd.DataFrame], seeds: int) -> Comparison:
    """`table` as a Comparison holding `runs_by_year`, the per-run by-year frames (scenario, seed, year,
    metric, value) of its `seeds` seeds."""
    out = Comparison(table)
    runs = pd.concat(list(runs_by_year), ignore_index=True) if len(runs_by_year) else pd.DataFrame(
        columns=["scenario", "seed", "year", "metric", "value"])
    out._runs_by_year = runs[["scenario", "seed", "year", "metric", "value"]]
    out._band_context = {"runs": seeds, "draws": 0}
    return out
