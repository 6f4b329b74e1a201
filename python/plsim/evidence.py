"""The evidence suite: every figure of the published data files (targets.json, evidence.json) that plsim
can express as a scenario, run over seeds and set against the published value and its tolerance.

    plsim evidence [--out DIR] [--seeds N] [--quick] [--threads T] [--data DIR]
    plsim.run_evidence(seeds=5, quick=False, threads=0, data=None)      # the table, a DataFrame

REGISTRY is the one list of figures. A `Figure` names its data file and id, the key paths of its
published value and tolerance in the data (or the project's tolerance where the data gives none), the
runs it needs (names in RUNS: a scenario and overrides, run once per seed and shared between figures)
and a pure function from those runs to the simulated value; a `NotExpressed` names a figure plsim
cannot express and why. The simulated value is the function of every seed's runs; its interval is the
range of the function of each seed's runs alone. docs/model.md, "Evidence suite", says what each
figure runs and how its value is computed.

The data files live outside the project: --data DIR, else $PLSIM_DATA, else ../shared/data from the
current directory, else beside the source tree of the package.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np
import pandas as pd

from .results import SUBJECTS, growth_by_grade, school_growth_spread, school_spread

#: The data files and the key of each one's list of figures.
DATA_FILES = {"targets.json": "targets", "evidence.json": "figures"}

#: Columns of evidence.csv, in order.
COLUMNS = ("id", "what", "published", "low", "high", "simulated", "interval_low", "interval_high", "n_seeds",
           "verdict", "interval_source", "note")

VERDICTS = ("pass", "fail", "error", "not expressed")
FAILING = ("fail", "error")

DEFAULT_SEEDS = 5
QUICK_SEEDS = 2

#: Grades of the cohort a multi-year figure follows: the students in grades 1-4 in the first year. All
#: of them stay in the tutoring scenario's elementary and middle schools for three more years, so the
#: same students are measured every year (grade 8 leaves the district; new kindergartners join later).
COHORT_GRADES = (1, 2, 3, 4)


# --- the data -------------------------------------------------------------------------------------

def _source_roots() -> list:
    """Where the package's source tree may be: the checkout it runs from, or the project whose virtual
    environment holds an installed copy."""
    roots = [Path(__file__).resolve().parents[2], Path(sys.prefix).resolve().parent]
    return [r for r in dict.fromkeys(roots) if (r / "pyproject.toml").is_file()]


def data_dir(data: Union[str, os.PathLike, None] = None) -> Path:
    """The directory of targets.json and evidence.json: `data`, else $PLSIM_DATA, else ../shared/data
    from the current directory, else beside the package's source tree. FileNotFoundError names every
    place looked in."""
    if data is not None:
        candidates, how = [Path(data)], "--data"
    elif os.environ.get("PLSIM_DATA"):
        candidates, how = [Path(os.environ["PLSIM_DATA"])], "PLSIM_DATA"
    else:
        candidates = [Path.cwd() / ".." / "shared" / "data"] + [r.parent / "shared" / "data" for r in _source_roots()]
        how = "the default places"
    for path in candidates:
        if path.is_dir():
            missing = [name for name in DATA_FILES if not (path / name).is_file()]
            if not missing:
                return path.resolve()
            if how != "the default places":
                raise FileNotFoundError(f"evidence: {how} {path}: no {' and no '.join(missing)} in it")
        elif how != "the default places":
            raise FileNotFoundError(f"evidence: {how} {path}: no such directory (it should hold {' and '.join(DATA_FILES)})")
    looked = ", ".join(str(p.resolve() if p.exists() else p) for p in dict.fromkeys(candidates))
    raise FileNotFoundError(f"evidence: no data directory with {' and '.join(DATA_FILES)} ({how}); looked in {looked}. "
                            f"Give --data DIR or set PLSIM_DATA")


def load_data(directory: Union[str, os.PathLike]) -> dict:
    """{(file name, figure id): the figure's entry} of both data files in `directory`."""
    out = {}
    for name, key in DATA_FILES.items():
        path = Path(directory) / name
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"evidence: {path}: not JSON ({error})") from None
        items = document.get(key) if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"evidence: {path}: expected an object with a list {key!r} of figures")
        for item in items:
            if isinstance(item, dict) and "id" in item:
                out[(name, item["id"])] = item
    return out


def _at(entry: Mapping, path: Sequence[str]) -> Any:
    node = entry
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise KeyError(f"no /{'/'.join(path)} in its entry")
        node = node[key]
    return node


# --- published values and tolerances ---------------------------------------------------------------

class Value(NamedTuple):
    """A number with what a reader should know about it; a measure may give its seeds' own values
    (`seeds`), which are then the interval, instead of the measure of each seed's runs alone."""
    value: float
    note: str = ""
    seeds: Optional[tuple] = None


def _published(spec, entry: Mapping) -> Value:
    """The published value: a key path in the entry (a number, or a [low, high] range: its midpoint),
    a constant, or a function of the entry (a value derived from the data)."""
    if callable(spec):
        result = spec(entry)
        return result if isinstance(result, Value) else Value(float(result))
    if isinstance(spec, (int, float)):
        return Value(float(spec))
    raw = _at(entry, spec)
    if isinstance(raw, list) and len(raw) == 2:
        return Value((raw[0] + raw[1]) / 2, f"published range {raw[0]:g} to {raw[1]:g} (its midpoint shown)")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Value(float(raw))
    raise ValueError(f"/{'/'.join(spec)} is not a number or a [low, high] range (got {raw!r})")


# A tolerance's resolve(entry, published) gives (low, high, where): where in the data it was read (a key
# path, and the words read there), or None for the project's own (then describe() says what it is).

@dataclass(frozen=True)
class Band:
    """The data's [low, high] at a key path of the figure's entry."""
    path: tuple = ("tolerance",)

    def resolve(self, entry: Mapping, published: float) -> tuple:
        raw = _at(entry, self.path)
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, (int, float)) for x in raw)):
            raise ValueError(f"/{'/'.join(self.path)} is not a [low, high] range (got {raw!r})")
        return float(raw[0]), float(raw[1]), _file_path(self.path)


@dataclass(frozen=True)
class Text:
    """A band read from the data's tolerance text by `pattern` (a regex whose groups are numbers):
    kind "range" reads "A to B", "plus_minus" -A..A, "percent" 1 -+ A/100."""
    pattern: str = r"(-?[\d.]+) to (-?[\d.]+)"
    kind: str = "range"
    path: tuple = ("tolerance",)

    def resolve(self, entry: Mapping, published: float) -> tuple:
        text = _at(entry, self.path)
        match = re.search(self.pattern, str(text))
        if match is None:
            raise ValueError(f"/{'/'.join(self.path)} {str(text)!r} does not say {self.pattern!r}")
        numbers = [float(g) for g in match.groups()]
        low, high = {"range": lambda: (numbers[0], numbers[1]),
                     "plus_minus": lambda: (-numbers[0], numbers[0]),
                     "percent": lambda: (1 - numbers[0] / 100, 1 + numbers[0] / 100)}[self.kind]()
        return low, high, f"{_file_path(self.path)} \"{match.group(0)}\""


@dataclass(frozen=True)
class Project:
    """The project's band, where the data gives no tolerance of this form."""
    low: float
    high: float

    def resolve(self, entry: Mapping, published: float) -> tuple:
        return self.low, self.high, None

    def describe(self) -> str:
        return f"{self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class ProjectAround:
    """The project's band: the published value -+ `width`."""
    width: float

    def resolve(self, entry: Mapping, published: float) -> tuple:
        return published - self.width, published + self.width, None

    def describe(self) -> str:
        return f"the published value -+ {self.width:g}"


def _file_path(path: Sequence[str]) -> str:
    return "/" + "/".join(path)


# --- runs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSpec:
    """What a figure runs, once per seed: a shipped scenario (by name, "evidence/tutoring_trial") with
    overrides (plsim.RunPlan paths), and further overrides under --quick; or `build(seed, threads)`, a
    run made in code. Figures that name the same run share it."""
    scenario: str = ""
    changes: Mapping = field(default_factory=dict)
    quick: Mapping = field(default_factory=dict)
    counterfactual: Optional[bool] = None
    build: Optional[Callable] = None

    def describe(self, quick: bool) -> str:
        if self.build is not None:
            return f"{self.build.__module__}.{self.build.__name__}"
        changes = {**self.changes, **(self.quick if quick else {})}
        with_ = ", ".join(f"{k}={json.dumps(v)}" for k, v in changes.items())
        return self.scenario + (f" with {with_}" if with_ else "")


class Run:
    """One finished run. A Sim builds its tables anew on every access; a Run builds each once."""

    def __init__(self, sim):
        self.sim = sim

    @cached_property
    def assessments(self) -> pd.DataFrame:
        return self.sim.assessments

    @cached_property
    def effects(self) -> pd.DataFrame:
        return self.sim.effects

    @cached_property
    def subgroups(self) -> pd.DataFrame:
        return self.sim.subgroups

    @cached_property
    def teachers_by_year(self) -> pd.DataFrame:
        return self.sim.teachers_by_year

    @cached_property
    def rollout_by_district(self) -> pd.DataFrame:
        return self.sim.rollout_by_district

    @cached_property
    def costs(self) -> pd.DataFrame:
        return self.sim.costs


def _model_effects(seed: int, threads: int) -> dict:
    from .calibrate import model_effects

    return model_effects(years=1, seed=seed, fidelity=0.8, threads=threads)


def _coaching(caseload: int) -> RunSpec:
    """regional_partner with every practising teacher coached at `caseload` (0: no coaches), two years
    (the second for teachers_by_year, which reports coached teachers from year 2 on)."""
    office = "districts/0/central_office"
    return RunSpec("regional_partner", {"years": 2, f"{office}/coaches": 100 if caseload else 0,
                                        f"{office}/coach_caseload": caseload or 20})


RUNS: dict = {
    "national_baseline": RunSpec("national_baseline", {"years": 5}, quick={"years": 3}),
    "nglc_like": RunSpec("nglc_like"),
    "tutoring_trial": RunSpec("evidence/tutoring_trial"),
    "mastery_learning": RunSpec("evidence/mastery_learning"),
    "coaching_none": _coaching(0),
    "coaching_caseload_10": _coaching(10),
    "coaching_caseload_20": _coaching(20),
    "platform_attrition": RunSpec("evidence/platform_attrition"),
    "fadeout_after_end": RunSpec("evidence/fadeout_after_end", quick={"years": 3}),
    "sublinear_accumulation": RunSpec("evidence/sublinear_accumulation"),
    "implementation_dip_year_1": RunSpec("evidence/implementation_dip", quick={"districts/0/count": 2}),
    "implementation_dip_year_2": RunSpec("evidence/implementation_dip", {
        "districts/0/schools/0/implementation_year": 2, "districts/0/schools/1/implementation_year": 2},
        quick={"districts/0/count": 2}),
    "model_effects": RunSpec(build=_model_effects),
    "tutoring_at_scale_60": RunSpec("evidence/tutoring_at_scale_60"),
    "tutoring_at_scale_250": RunSpec("evidence/tutoring_at_scale_250"),
    "tutoring_at_scale_700": RunSpec("evidence/tutoring_at_scale_700"),
    "tutoring_at_scale_2000": RunSpec("evidence/tutoring_at_scale_2000"),
    "tutoring_cost": RunSpec("evidence/tutoring_cost"),
}


def _forgetting_parameter() -> Optional[tuple]:
    """The model's forgetting parameter (a path with "forget" in it, not summer loss) and the value that
    switches it off (its minimum), if the model has one."""
    from .parameters import parameters

    table = parameters()
    found = table[table["path"].str.contains("forget") & ~table["path"].str.startswith("summer.")]
    if found.empty:
        return None
    off = float(found["min"].iloc[0])
    return str(found["path"].iloc[0]), off if np.isfinite(off) else 0.0


FORGETTING = _forgetting_parameter()
if FORGETTING is not None:
    RUNS["fadeout_without_forgetting"] = RunSpec("evidence/fadeout_after_end", {FORGETTING[0]: FORGETTING[1]},
                                                 quick={"years": 3})


# --- measures: pure functions of the runs ----------------------------------------------------------
# Each takes `runs` (one {run name: Run} per seed) and the figure's data entry, and returns a number or
# a Value. Means over seeds pool the seeds first, then take ratios or extremes.

def _weighted(frame: pd.DataFrame, column: str) -> float:
    frame = frame.dropna(subset=[column])
    frame = frame[frame["n"] > 0]
    return float(np.average(frame[column], weights=frame["n"])) if len(frame) else float("nan")


def pl_effect(run: Run, subject: Optional[str] = None, year: Optional[int] = None) -> float:
    """True effect (SD, spring) on the students of personalized schools against the twin, n-weighted:
    of one subject (or both), in `year` (default the last)."""
    e = run.effects
    e = e[e["model"].astype(str) != "traditional"]
    e = e[e["year"] == (e["year"].max() if year is None else year)]
    return _weighted(e if subject is None else e[e["subject"] == subject], "effect_sd")


def cohort_effect(run: Run, year: int, subject: Optional[str] = None, grades: Optional[Sequence[int]] = None) -> float:
    """The PL cohort's true effect (subgroups, "pl_cohort", effect_true_sd, n-weighted) in `year` (from
    1), of one subject or both; with `grades`, only the students in those grades in the first year,
    followed up a grade each year."""
    g = run.subgroups
    g = g[(g["subgroup"] == "pl_cohort") & (g["year"] == year)]
    if subject is not None:
        g = g[g["subject"] == subject]
    if grades is not None:
        g = g[g["grade"].isin([grade + year - 1 for grade in grades])]
    return _weighted(g, "effect_true_sd")


def _mean(runs, name: str, f: Callable) -> float:
    return float(np.mean([f(r[name]) for r in runs]))


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom != 0 and np.isfinite(bottom) else float("nan")


def _grade(g: int) -> str:
    return "K" if g == 0 else str(int(g))


def _worst_cell(per_seed: Sequence[pd.Series], centre: float, describe: Callable,
                pooled: Optional[pd.Series] = None) -> Value:
    """The cell (subject, grade, ...) whose value over the seeds (`pooled`, default the mean of
    `per_seed`) is farthest from `centre`: that value, with each seed's value of the same cell as the
    interval (each seed's own worst cell would be another statistic, further out by chance alone)."""
    pooled = sum(per_seed) / len(per_seed) if pooled is None else pooled
    cell = (pooled - centre).abs().idxmax()
    return Value(float(pooled.loc[cell]), describe(cell, pooled), tuple(float(s.loc[cell]) for s in per_seed))


def _growth(run: Run, column: str) -> pd.Series:
    g = growth_by_grade(run.assessments).assign(difference=lambda d: d["growth"] - d["norm_growth"])
    return g.set_index(["subject", "grade"])[column]


def worst_growth_k8(runs, entry) -> Value:
    per_seed = [_growth(r["national_baseline"], "ratio").loc[lambda s: s.index.get_level_values("grade") <= 8]
                for r in runs]
    return _worst_cell(per_seed, 1.0, lambda cell, all_: f"worst grade {_grade(cell[1])} {cell[0]}; K-8 from "
                                                         f"{all_.min():.3f} to {all_.max():.3f}")


def worst_growth_9_12(runs, entry) -> Value:
    per_seed = [_growth(r["national_baseline"], "difference").loc[lambda s: s.index.get_level_values("grade") >= 9]
                for r in runs]
    return _worst_cell(per_seed, 0.0, lambda cell, all_: f"worst grade {_grade(cell[1])} {cell[0]}; 9-12 from "
                                                         f"{all_.min():+.2f} to {all_.max():+.2f} RIT")


def school_spread_measure(runs, entry) -> float:
    return _mean(runs, "national_baseline", lambda r: school_spread(r.assessments)["school_sd"].mean())


def school_growth_spread_measure(runs, entry) -> float:
    return _mean(runs, "national_baseline", lambda r: school_growth_spread(r.assessments)["school_growth_sd"].mean())


def effect_of(name: str, subject: Optional[str]) -> Callable:
    """The mean over seeds of pl_effect of run `name` (one subject, or both pooled)."""
    def measure(runs, entry) -> float:
        return _mean(runs, name, lambda r: pl_effect(r, subject))
    measure.__name__ = f"effect_of_{name}_{subject or 'both'}"
    return measure


def coaching_factor(runs, entry) -> Value:
    """Coaching's added effect on the PL cohort in year 1 (both subjects, against no coaching) at a large
    rollout's caseload (20) over that at the small trials' (10), as docs/model.md measures it."""
    base, ten, twenty = (_mean(runs, f"coaching_{c}", lambda r: cohort_effect(r, 1))
                         for c in ("none", "caseload_10", "caseload_20"))
    return Value(_ratio(twenty - base, ten - base), f"added effect {ten - base:+.3f} SD at caseload 10, "
                                                    f"{twenty - base:+.3f} at 20 (no coaching {base:+.3f})")


def turnover(runs, entry) -> Value:
    t = pd.concat([r["national_baseline"].teachers_by_year for r in runs])
    years = int(t["turnover"].notna().sum()) // len(runs)  # every year's end decides its leavers
    return Value(float(t["turnover"].mean()), f"{years} years' decisions a seed; high-poverty "
                                              f"{t['turnover_high_poverty'].mean():.3f}, other "
                                              f"{t['turnover_low_poverty'].mean():.3f}")


def platform_attrition(runs, entry) -> Value:
    """Schools that dropped the model at the start of year 2 over the schools converted in year 1 (the
    scenario converts in year 1 only, so every drop then is a first-year drop)."""
    converted = dropped = 0
    for r in runs:
        d = r["platform_attrition"].rollout_by_district
        converted += int(d.loc[d["year"] == 1, "converted"].sum())
        dropped += int(d.loc[d["year"] == 2, "dropped"].sum())
    return Value(_ratio(dropped, converted), f"{dropped} of {converted} schools converted in year 1")


def status_stability(runs, entry) -> Value:
    """As `python -m plsim.calibrate levels`: the fall level of every year, subject and grade, pooled
    over the seeds; the one farthest from 0."""
    from .calibrate import fall_level_table

    frames = [r["national_baseline"].assessments for r in runs]
    per_seed = [fall_level_table([f]).stack() for f in frames]
    return _worst_cell(per_seed, 0.0, lambda cell, all_: f"worst year {int(cell[0])} grade {_grade(cell[2])} "
                                                         f"{cell[1]}; {all_.index.get_level_values(0).nunique()} years",
                       pooled=fall_level_table(frames).stack())


def conditional_growth(runs, entry) -> Value:
    """As tests/python/test_calibration.py: true growth of each starting quintile, K-8, year 1, over the
    grade's norm growth."""
    per_seed = []
    for r in runs:
        t = r["national_baseline"].subgroups
        t = t[t["subgroup"].astype(str).str.startswith("start_q") & (t["grade"] <= 8) & (t["year"] == 1)]
        t = t.assign(subgroup=t["subgroup"].astype(str)).set_index(["subject", "grade", "subgroup"])
        per_seed.append(t["growth_true_rit"] / t["norm_growth_rit"])
    return _worst_cell(per_seed, 1.0, lambda cell, all_: f"worst grade {_grade(cell[1])} {cell[0]} {cell[2]}; from "
                                                         f"{all_.min():.3f} to {all_.max():.3f}")


def cohort_kept(name: str, year: int) -> Callable:
    """The math effect of the cohort (COHORT_GRADES, followed up a grade a year) in `year` (from 1) over
    that in the first year, each averaged over seeds."""
    def measure(runs, entry) -> Value:
        first = _mean(runs, name, lambda r: cohort_effect(r, 1, "math", COHORT_GRADES))
        later = _mean(runs, name, lambda r: cohort_effect(r, year, "math", COHORT_GRADES))
        return Value(_ratio(later, first),
                     f"cohort math effect {first:+.3f} SD in year 1, {later:+.3f} in year {year}")
    measure.__name__ = f"cohort_kept_{name}_{year}"
    return measure


def implementation_dip(runs, entry) -> Value:
    first = _mean(runs, "implementation_dip_year_1", lambda r: pl_effect(r, "math"))
    second = _mean(runs, "implementation_dip_year_2", lambda r: pl_effect(r, "math"))
    return Value(_ratio(first, second), f"math effect {first:+.3f} SD in a first implementation year, "
                                        f"{second:+.3f} in a second")


def _model_year_1_math(runs) -> dict:
    from .calibrate import BUILT_IN_PL_MODELS

    return {m: float(np.mean([r["model_effects"][m]["math"][0] for r in runs])) for m in BUILT_IN_PL_MODELS}


def model_effects_median(runs, entry) -> Value:
    effects = _model_year_1_math(runs)
    return Value(float(np.median(list(effects.values()))),
                 "year-1 math: " + ", ".join(f"{m} {v:+.2f}" for m, v in effects.items()))


def model_effects_share_above(runs, entry) -> Value:
    threshold = float(_at(entry, ("value", "p70_sd")))
    effects = _model_year_1_math(runs)
    above = [m for m, v in effects.items() if v > threshold]
    return Value(len(above) / len(effects), f"above {threshold:g} SD: {', '.join(above) or 'none'}")


TUTORING_SIZES = {"under_100": 60, "100_to_399": 250, "400_to_999": 700, "1000_or_more": 2000}


def tutoring_scale_ratio(runs, entry) -> Value:
    small = _mean(runs, "tutoring_at_scale_60", pl_effect)
    large = _mean(runs, "tutoring_at_scale_2000", pl_effect)
    return Value(_ratio(large, small), f"{large:+.3f} SD with 2,000 students, {small:+.3f} with 60")


def tutoring_cost(runs, entry) -> Value:
    """The tutors category of sim.costs over tutored students (taught in a classroom on the model) and
    the subjects: an instructional model's minutes are per subject, so this is a subject-year."""
    cost = students = 0.0
    for r in runs:
        c = r["tutoring_cost"].costs
        cost += float(c.loc[c["category"] == "tutors", "amount"].sum())
        students += float(r["tutoring_cost"].rollout_by_district["students_pl"].sum())
    per_subject = _ratio(cost, students * len(SUBJECTS))
    return Value(per_subject, f"per subject-year (minutes are per subject: the model tutors math and reading); "
                              f"per student-year, both subjects: {per_subject * len(SUBJECTS):,.0f}")


def coaching_cost(runs, entry) -> Value:
    """The coaches category of sim.costs over coached teachers (teachers_by_year), years 2 on."""
    cost = teachers = 0.0
    for r in runs:
        run = r["coaching_caseload_20"]
        c, t = run.costs, run.teachers_by_year
        t = t[t["year"] >= 2]  # years 2 on, as the figure was fixed (year 1 has its own row now)
        cost += float(c.loc[(c["category"] == "coaches") & c["year"].isin(t["year"]), "amount"].sum())
        teachers += float(t["coached"].sum())
    return Value(_ratio(cost, teachers),
                 f"regional_partner, caseload 20; {teachers / len(runs):.0f} coached teachers a seed")


# --- the registry ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """A published figure plsim expresses: `id` is the data's (with ":part" when one figure gives
    several rows), `file` its data file; `published` a key path in its entry (or a number, or a
    function of the entry), `tolerance` a Band, Text, Project or ProjectAround; `runs` names in RUNS;
    `measure(runs, entry)` the simulated value from one {run name: Run} per seed."""
    id: str
    file: str
    what: str
    runs: tuple
    measure: Callable
    published: Any = ("value",)
    tolerance: Any = field(default_factory=Text)

    @property
    def data_id(self) -> str:
        return self.id.split(":")[0]


@dataclass(frozen=True)
class NotExpressed:
    id: str
    file: str
    reason: str

    @property
    def data_id(self) -> str:
        return self.id.split(":")[0]


T, E = "targets.json", "evidence.json"


def _fadeout_mechanism() -> Union[Figure, NotExpressed]:
    """Expressed once the model has a forgetting parameter that can be switched off (FORGETTING)."""
    if FORGETTING is None:
        return NotExpressed("fadeout_mechanism", E, "pending: the forgetting mechanism's parameter")
    path, off = FORGETTING

    def share(runs, entry) -> Value:
        lost = {}
        for name in ("fadeout_after_end", "fadeout_without_forgetting"):
            first = _mean(runs, name, lambda r: cohort_effect(r, 1, "math", COHORT_GRADES))
            lost[name] = first - _mean(runs, name, lambda r: cohort_effect(r, 2, "math", COHORT_GRADES))
        with_, without = lost["fadeout_after_end"], lost["fadeout_without_forgetting"]
        return Value(_ratio(with_ - without, with_), f"{path} = {off:g} switches forgetting off; effect lost in the "
                                                     f"year after: {with_:+.3f} SD with, {without:+.3f} without")

    return Figure("fadeout_mechanism", E, f"share of the first year's fade-out that forgetting accounts for (the fade-out that goes "
                  f"when {path} is 0, subtracted)",
                  ("fadeout_after_end", "fadeout_without_forgetting"), share,
                  published=("value", "share_of_fadeout_from_forgetting"), tolerance=Project(0.10, 0.40))


def _registry() -> list:
    nb = ("national_baseline",)
    figures = [
        Figure("norms_growth:K-8", T, "national_baseline, year 1: fall-to-spring growth / norm growth, the grade "
               "and subject farthest from 1", nb, worst_growth_k8,
               published=lambda e: Value(1.0, "published: the norm growth of norms_map2020.json"),
               tolerance=Text(r"within ([\d.]+)% of the norm growth", "percent")),
        Figure("norms_growth:9-12", T, "national_baseline, year 1: growth - norm growth (RIT), the grade and subject "
               "farthest from 0", nb, worst_growth_9_12,
               published=lambda e: Value(0.0, "published: the norm growth of norms_map2020.json"),
               tolerance=Text(r"within ([\d.]+) RIT", "plus_minus")),
        Figure("school_spread", T, "national_baseline, first fall: SD of school mean scores (student SDs), mean over "
               "grades and subjects", nb, school_spread_measure, tolerance=Band(("value",))),
        Figure("school_growth_spread", T, "national_baseline, year 1: SD of school mean growth K-8 (student SDs), mean "
               "over grades and subjects", nb, school_growth_spread_measure, tolerance=Band(("value",))),
        Figure("nglc_effect_math", T, "nglc_like, year 1: true math effect on students of PL schools (SD)",
               ("nglc_like",), effect_of("nglc_like", "math")),
        Figure("nglc_effect_reading", T, "nglc_like, year 1: true reading effect on students of PL schools (SD)",
               ("nglc_like",), effect_of("nglc_like", "reading")),
        Figure("tutoring_effect:math", T, "evidence/tutoring_trial (about 200 tutored students): true math effect (SD)",
               ("tutoring_trial",), effect_of("tutoring_trial", "math")),
        Figure("tutoring_effect:reading", T, "evidence/tutoring_trial (about 200 tutored students): true reading "
               "effect (SD)", ("tutoring_trial",), effect_of("tutoring_trial", "reading")),
        Figure("mastery_learning_effect:math", T, "evidence/mastery_learning (K-12, full fidelity, year 3): true math "
               "effect (SD)", ("mastery_learning",), effect_of("mastery_learning", "math"),
               tolerance=Text(r"between ([\d.]+) and ([\d.]+)")),
        Figure("mastery_learning_effect:reading", T, "evidence/mastery_learning (K-12, full fidelity, year 3): true "
               "reading effect (SD)", ("mastery_learning",), effect_of("mastery_learning", "reading"),
               tolerance=Text(r"between ([\d.]+) and ([\d.]+)")),
        Figure("coaching_effect", T, "regional_partner, year 1: coaching's added effect on the PL cohort at caseload 20 "
               "over that at caseload 10", ("coaching_none", "coaching_caseload_10", "coaching_caseload_20"),
               coaching_factor, published=("value", "large_trials_factor"), tolerance=Project(0.35, 0.65)),
        Figure("teacher_turnover", T, "national_baseline: share of teachers leaving their school a year", nb, turnover),
        Figure("platform_attrition", T, "evidence/platform_attrition: share of the schools a plan converted in year 1 "
               "that drop the model at the start of year 2", ("platform_attrition",), platform_attrition),
        Figure("norms_status_stability", T, "national_baseline, every year: fall level (national SD units) of the grade, "
               "subject and year farthest from the norm", nb, status_stability,
               tolerance=Text(r"within \+-([\d.]+) SD", "plus_minus")),
        Figure("conditional_growth", T, "national_baseline, year 1: true growth / norm growth of each starting quintile, "
               "K-8, the one farthest from 1", nb, conditional_growth,
               tolerance=Text(r"within \+-([\d.]+)%", "percent")),
        NotExpressed("bkt_parameters", T, "a fit of BKT to practice-response logs, not an outcome of a scenario: "
                     "`plsim bkt fit` checks it on the ASSISTments logs (docs/model.md, 'Learner-model fitting')"),
        NotExpressed("rollout_targets", T, "a grant's targets, not a figure a model reproduces: scenarios use them as "
                     "rollout targets (scale_up_district)"),
        NotExpressed("grant_sizes", T, "an input, not an outcome: costs.launch_cost_per_school is set from it"),
        Figure("fadeout_after_end:one_year_after", E, "evidence/fadeout_after_end (a one-year tutoring programme): the "
               "cohort's math effect a year after it ends / at its end", ("fadeout_after_end",),
               cohort_kept("fadeout_after_end", 2), published=("value", "one_year_after"),
               tolerance=Band(("tolerance", "one_year_after"))),
        Figure("fadeout_after_end:two_or_three_years_after", E, "evidence/fadeout_after_end: the cohort's math effect "
               "two years after the programme ends / at its end", ("fadeout_after_end",),
               cohort_kept("fadeout_after_end", 3), published=("value", "about_three_years_after"),
               tolerance=Band(("tolerance", "two_or_three_years_after"))),
        _fadeout_mechanism(),
        Figure("sublinear_accumulation", E, "evidence/sublinear_accumulation (tutoring kept two years): the cohort's math "
               "effect after two years / after one", ("sublinear_accumulation",),
               cohort_kept("sublinear_accumulation", 2),
               published=lambda e: Value(e["value"]["two_or_more_years"]["math"] / e["value"]["one_year"],
                                         "published: two_or_more_years/math / one_year"),
               tolerance=Band(("tolerance", "ratio_two_years_to_one"))),
        Figure("implementation_dip", E, "evidence/implementation_dip (adaptive_playlist, middle and high schools): math "
               "effect in a first implementation year / in a second", ("implementation_dip_year_1",
                                                                        "implementation_dip_year_2"),
               implementation_dip, published=lambda e: Value(
                   e["value"]["year_1_sd"] / _percentile_points_to_sd(e["value"]["year_2_percentile_points"]),
                   f"published: year_1_sd / year 2's {e['value']['year_2_percentile_points']} percentile points "
                   f"({_percentile_points_to_sd(e['value']['year_2_percentile_points']):.2f} SD)"),
               tolerance=Band(("tolerance", "year_1_over_year_2"))),
        Figure("effect_size_distribution:median", E, "the eight built-in PL models (plsim.calibrate.model_effects, "
               "fidelity 0.8): median year-1 math effect (SD)", ("model_effects",), model_effects_median,
               published=("value", "median_sd"), tolerance=Project(0.03, 0.20)),
        Figure("effect_size_distribution:share_above_p70", E, "the eight built-in PL models: share whose year-1 math "
               "effect is above the published 70th percentile", ("model_effects",), model_effects_share_above,
               published=lambda e: Value(0.3, f"published: 30% of effects lie above the 70th percentile, "
                                              f"{e['value']['p70_sd']} SD"),
               tolerance=Project(0.0, 0.4)),
        NotExpressed("measure_alignment", E, "plsim has one standardized vertical-scale test, no experimenter-made or "
                     "curriculum-aligned measure"),
    ]
    figures += [Figure(f"tutoring_at_scale:{bucket}", E, f"evidence/tutoring_at_scale_{size} (a programme of about "
                       f"{size:,} students): true effect, math and reading (SD)", (f"tutoring_at_scale_{size}",),
                       effect_of(f"tutoring_at_scale_{size}", None), published=("value", bucket),
                       tolerance=ProjectAround(0.08))
                for bucket, size in TUTORING_SIZES.items()]
    figures += [
        Figure("tutoring_at_scale:largest_over_smallest", E, "the tutoring programme of 2,000 students: its effect / "
               "that of the programme of 60", ("tutoring_at_scale_60", "tutoring_at_scale_2000"), tutoring_scale_ratio,
               published=lambda e: Value(e["value"]["1000_or_more"] / e["value"]["under_100"],
                                         "published: 1000_or_more / under_100"),
               tolerance=Project(0.2, 0.6)),
        Figure("tutoring_cost", E, "evidence/tutoring_cost (2:1, 250 minutes a week): tutors' cost per tutored student "
               "and subject-year (US$)", ("tutoring_cost",), tutoring_cost, tolerance=Band(("value",))),
        Figure("coaching_cost", E, "regional_partner, caseload 20: coaches' cost per coached teacher a year (US$)",
               ("coaching_caseload_20",), coaching_cost, tolerance=Band(("value",))),
        Figure("teacher_exits", E, "national_baseline: share of teachers leaving their school a year (plsim does not "
               "tell leaving the profession from moving schools)", nb, turnover,
               published=lambda e: Value(e["value"]["leave_profession"] + e["value"]["move_schools"],
                                         "published: leave_profession + move_schools"),
               tolerance=Project(0.12, 0.20)),
    ]
    return figures


def _percentile_points_to_sd(points: float) -> float:
    """Percentile points above the median as SD units of a normal distribution."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + points / 100))


REGISTRY: list = _registry()


# --- running --------------------------------------------------------------------------------------

def _verdict(value: float, low: float, high: float) -> str:
    if value is None or not np.isfinite(value):
        return "error"
    return "pass" if low <= value <= high else "fail"


def _document(spec: RunSpec, quick: bool) -> dict:
    """The scenario of a run, overrides applied and validated (ScenarioError otherwise)."""
    from .plan import apply_overrides
    from .scenarios import load_scenario

    doc = apply_overrides(load_scenario(spec.scenario).document, {**spec.changes, **(spec.quick if quick else {})})
    load_scenario(doc)
    return doc


def _message(error: BaseException) -> str:
    lines = getattr(error, "errors", None) or [str(error)]
    return f"{type(error).__name__}: " + "; ".join(lines)


def _run_all(names, specs: Mapping, seeds, quick: bool, threads: int, log) -> tuple:
    """{name: [Run per seed]} and {name: error message} of every run `names` lists."""
    from .scenarios import shipped_scenarios
    from .sim import Sim

    done, failed, shipped = {}, {}, shipped_scenarios()
    for name in names:
        spec = specs[name]
        started = time.perf_counter()
        try:
            if spec.build is not None:
                done[name] = [spec.build(seed, threads) for seed in seeds]
            else:
                doc = _document(spec, quick)
                done[name] = [Run(Sim(doc, seed=seed, threads=threads, counterfactual=spec.counterfactual).run())
                              for seed in seeds]
        except KeyboardInterrupt:
            raise
        except Exception as error:  # a run that cannot be made fails its figures, not the suite
            failed[name] = _message(error)
            if spec.scenario in shipped:  # the installed copy's path says less than the scenario's name
                failed[name] = failed[name].replace(str(shipped[spec.scenario]), f"scenarios/{spec.scenario}.json")
        log(f"  ran {name} ({spec.describe(quick)}), {len(seeds)} seeds: {time.perf_counter() - started:.1f} s"
            + (f"; failed: {failed[name][:200]}" if name in failed else ""))
    return done, failed


def evaluate(registry: Optional[Sequence] = None, *, data: Union[str, os.PathLike, None] = None,
             seeds: Optional[int] = None, quick: bool = False, threads: int = 0, runs: Optional[Mapping] = None,
             log: Callable = lambda line: None) -> pd.DataFrame:
    """Runs every figure of `registry` (default REGISTRY) over seeds 1..`seeds` (default 5, or 2 with
    `quick`) against the data in `data` (see data_dir); returns one row per figure (COLUMNS)."""
    registry = REGISTRY if registry is None else list(registry)
    specs = RUNS if runs is None else runs
    n = (QUICK_SEEDS if quick else DEFAULT_SEEDS) if seeds is None else seeds
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"seeds: expected a positive number of seeds (got {seeds!r})")
    seed_list = list(range(1, int(n) + 1))
    entries = load_data(data_dir(data))
    figures = [f for f in registry if isinstance(f, Figure)]
    names = list(dict.fromkeys(name for f in figures for name in f.runs))
    unknown = [name for name in names if name not in specs]
    if unknown:
        raise ValueError(f"evidence: figures name runs that RUNS does not define: {', '.join(unknown)}")
    done, failed = _run_all(names, specs, seed_list, quick, threads, log)
    source = f"seeds {seed_list[0]}-{seed_list[-1]}" if len(seed_list) > 1 else f"seed {seed_list[0]}"
    rows = []
    for f in registry:
        row = dict.fromkeys(COLUMNS, np.nan)
        row.update(id=f.id, what=getattr(f, "what", ""), interval_source="", note="")
        entry = entries.get((f.file, f.data_id))
        if isinstance(f, NotExpressed):
            row.update(verdict="not expressed", note=f.reason, n_seeds=0)
            rows.append(row)
            continue
        notes = []
        row["n_seeds"] = len(seed_list)
        try:
            if entry is None:
                raise KeyError(f"{f.file} has no figure {f.data_id!r}")
            published = _published(f.published, entry)
            low, high, where = f.tolerance.resolve(entry, published.value)
            row.update(published=published.value, low=low, high=high)
            notes += [n for n in (published.note, f"tolerance: {f.file} {where}" if where else
                                  f"tolerance: the project's ({f.tolerance.describe()})") if n]
            bad = [f"run {name} ({specs[name].describe(quick)}) failed: {failed[name]}"
                   for name in f.runs if name in failed]
            if bad:
                raise RuntimeError("; ".join(bad))
            per_seed = [{name: done[name][i] for name in f.runs} for i in range(len(seed_list))]
            value = _as_value(f.measure(per_seed, entry))
            singles = value.seeds if value.seeds is not None else \
                [_as_value(f.measure([one], entry)).value for one in per_seed]
            finite = [v for v in singles if np.isfinite(v)]
            row.update(simulated=value.value, interval_low=min(finite) if finite else np.nan,
                       interval_high=max(finite) if finite else np.nan,
                       interval_source=f"{source}: min-max of single-seed values")
            if value.note:
                notes.insert(0, value.note)
            if quick and any(specs[name].quick for name in f.runs):
                shorter = [specs[name].describe(True) for name in f.runs if specs[name].quick]
                notes.append("--quick: " + "; ".join(shorter))
            row["verdict"] = _verdict(value.value, low, high)
            if row["verdict"] == "error":
                notes.insert(0, "error: the runs give no value")
        except KeyboardInterrupt:
            raise
        except Exception as error:
            row["verdict"] = "error"
            notes.insert(0, f"error: {error}" if isinstance(error, RuntimeError) else f"error: {_message(error)}")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _as_value(result) -> Value:
    return result if isinstance(result, Value) else Value(float(result))


# --- outputs --------------------------------------------------------------------------------------

def _number(value: float) -> str:
    """A figure at a precision that suits its size."""
    if value is None or not np.isfinite(value):
        return ""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _band(row) -> str:
    return f"{_number(row.low)} to {_number(row.high)}" if np.isfinite(row.low) else ""


def _simulated(row) -> str:
    if not np.isfinite(row.simulated):
        return ""
    return f"{_number(row.simulated)} [{_number(row.interval_low)}, {_number(row.interval_high)}]"


def format_table(table: pd.DataFrame) -> str:
    """The printed table: figure, published value, tolerance, simulated [interval over seeds], verdict;
    then the figures not expressed and the errors, each with its reason."""
    expressed = table[table["verdict"] != "not expressed"]
    width = max([len("figure")] + [len(i) for i in expressed["id"]])
    lines = [f"{'figure':<{width}}  {'published':>10}  {'tolerance':>20}  {'simulated [interval over seeds]':>34}  verdict"]
    for row in expressed.itertuples():
        lines.append(f"{row.id:<{width}}  {_number(row.published):>10}  {_band(row):>20}  {_simulated(row):>34}  "
                     f"{row.verdict}")
    errors = expressed[expressed["verdict"] == "error"]
    if len(errors):
        lines += ["", "errors:"] + [f"  {row.id}: {row.note}" for row in errors.itertuples()]
    skipped = table[table["verdict"] == "not expressed"]
    if len(skipped):
        lines += ["", "not expressed:"] + [f"  {row.id}: {row.note}" for row in skipped.itertuples()]
    counts = table["verdict"].value_counts()
    lines += ["", ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICTS)]
    return "\n".join(lines)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    _atomic(path, table[list(COLUMNS)].to_csv(index=False, float_format="%.6g"))


def to_markdown(table: pd.DataFrame) -> str:
    """The table in Markdown: expressed figures, then those not expressed with the reason."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")

    expressed = table[table["verdict"] != "not expressed"]
    lines = ["| figure | what is simulated | published | tolerance | simulated [interval over seeds] | verdict |",
             "| --- | --- | ---: | --- | --- | --- |"]
    for row in expressed.itertuples():
        lines.append(f"| `{row.id}` | {cell(row.what)} | {_number(row.published)} | {_band(row)} | {_simulated(row)} | "
                     f"**{row.verdict}** |")
    sources = sorted({s for s in expressed["interval_source"] if s})
    if sources:
        lines += ["", f"Intervals: {'; '.join(sources)}. Notes (tolerances the project's where so marked):", ""]
        lines += [f"* `{row.id}`: {cell(row.note)}" for row in expressed.itertuples() if row.note]
    skipped = table[table["verdict"] == "not expressed"]
    if len(skipped):
        lines += ["", "Not expressed:", ""] + [f"* `{row.id}`: {cell(row.note)}" for row in skipped.itertuples()]
    return "\n".join(lines) + "\n"


def write_markdown(table: pd.DataFrame, path: Path) -> None:
    _atomic(path, to_markdown(table))


COLOURS = {"pass": "tab:green", "fail": "tab:red", "error": "tab:orange", "not expressed": "0.6"}
#: The plot's x range, in units of the tolerance band (0: its low end, 1: its high end).
PLOT_RANGE = (-1.5, 2.5)


def plot(table: pd.DataFrame, path: Path) -> None:
    """A forest plot, one row per figure. Figures are on very different scales (SD, ratios, RIT, US$),
    so each row is drawn in units of its own tolerance band: 0 is the band's low end, 1 its high end.
    The band is grey, the published value a black diamond, the simulated value a dot (colour: verdict)
    with its interval over seeds; values off the plot are arrows at its edge, and the numbers are
    written at the right."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(table.itertuples())
    fig, ax = plt.subplots(figsize=(11.5, 0.34 * len(rows) + 1.6))
    lo_edge, hi_edge = PLOT_RANGE

    def scaled(value, row):
        span = row.high - row.low if row.high != row.low else max(abs(row.low) * 0.1, 1e-9)
        return (value - row.low) / span

    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        colour = COLOURS.get(row.verdict, "k")
        ax.text(lo_edge - 0.12, y, row.id, ha="right", va="center", fontsize=8,
                color="0.45" if row.verdict == "not expressed" else "k")
        if row.verdict == "not expressed" or not np.isfinite(row.low):
            label = "not expressed" if row.verdict == "not expressed" else f"{row.verdict}: no tolerance"
            ax.text(0.5, y, label, ha="center", va="center", fontsize=8, color=colour, style="italic")
            continue
        ax.barh(y, 1.0, left=0.0, height=0.6, color="0.88", zorder=1)
        if np.isfinite(row.published):
            ax.plot(np.clip(scaled(row.published, row), lo_edge, hi_edge), y, "D", color="k", ms=4, zorder=3)
        if np.isfinite(row.simulated):
            x = scaled(row.simulated, row)
            lo, hi = scaled(row.interval_low, row), scaled(row.interval_high, row)
            ax.plot([max(lo, lo_edge), min(hi, hi_edge)], [y, y], "-", color=colour, lw=1.6, zorder=2)
            if x < lo_edge or x > hi_edge:
                ax.plot(lo_edge if x < lo_edge else hi_edge, y, "<" if x < lo_edge else ">", color=colour, ms=8, zorder=4,
                        clip_on=False)
            else:
                ax.plot(x, y, "o", color=colour, ms=6, zorder=4)
        else:
            ax.text(-0.1, y, "error", ha="right", va="center", fontsize=8, color=colour, style="italic")
        text = (f"{_simulated(row) or 'error (evidence.csv: note)'}  "
                f"(published {_number(row.published)}; band {_band(row)})")
        ax.text(hi_edge + 0.05, y, text, ha="left", va="center", fontsize=7.5, color=colour)
    ax.set_xlim(lo_edge, hi_edge)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_yticks([])
    ax.axvline(0, color="0.6", lw=0.6)
    ax.axvline(1, color="0.6", lw=0.6)
    ax.set_xticks([-1, 0, 0.5, 1, 2])
    ax.set_xticklabels(["-1", "low end", "0.5", "high end", "2"])
    ax.set_xlabel("position in the figure's tolerance band: (value - low) / (high - low)")
    source = next((s for s in table["interval_source"] if isinstance(s, str) and s), "")
    ax.set_title("plsim against published figures: grey band = tolerance, diamond = published, dot = simulated mean "
                 f"with its interval over {source.split(':')[0] or 'seeds'}\ngreen pass, red fail, orange error; arrows: "
                 "off the plot (the numbers are at the right)", fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.25, right=0.6, top=1 - 0.75 / fig.get_figheight(), bottom=0.7 / fig.get_figheight())
    _atomic_figure(fig, path)
    plt.close(fig)


def _atomic(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.partial-{os.getpid()}")
    staging.write_text(text)
    os.replace(staging, path)


def _atomic_figure(fig, path: Path) -> None:
    staging = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    fig.savefig(staging, dpi=110)
    os.replace(staging, path)


def write_outputs(table: pd.DataFrame, out: Union[str, os.PathLike]) -> list:
    """evidence.csv, evidence.md and evidence.png in `out` (created); returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "evidence.csv", out / "evidence.md", out / "evidence.png"]
    write_csv(table, paths[0])
    write_markdown(table, paths[1])
    plot(table, paths[2])
    return paths


def exit_code(table: pd.DataFrame) -> int:
    """1 when any figure fails or errs, else 0."""
    return 1 if table["verdict"].isin(FAILING).any() else 0


def run_evidence(*, seeds: Optional[int] = None, quick: bool = False, threads: int = 0,
                 data: Union[str, os.PathLike, None] = None, out: Union[str, os.PathLike, None] = None,
                 registry: Optional[Sequence] = None) -> pd.DataFrame:
    """The evidence suite as a DataFrame (one row per figure: evidence.COLUMNS), written to `out`
    (evidence.csv, evidence.md, evidence.png) when given. See the module's docstring."""
    table = evaluate(registry, data=data, seeds=seeds, quick=quick, threads=threads)
    if out is not None:
        write_outputs(table, out)
    return table


# --- the command ----------------------------------------------------------------------------------

def add_command(sub) -> None:
    """`plsim evidence`, on the plsim command's subparsers."""
    from .commands.args import non_negative as _non_negative, positive as _positive

    p = sub.add_parser("evidence", help="run every published figure plsim can express against its tolerance "
                                        "(evidence.csv, evidence.md, evidence.png); exit 1 on a fail")
    p.add_argument("--out", default="runs/evidence", help="directory for the outputs (default runs/evidence)")
    p.add_argument("--seeds", type=_positive, default=None,
                   help=f"seeds 1..N of every run (default {DEFAULT_SEEDS}; {QUICK_SEEDS} with --quick)")
    p.add_argument("--quick", action="store_true", help="fewer seeds (2), fewer years and smaller scenarios where the "
                                                        "figure allows (about 10 s on 2 cores)")
    p.add_argument("--threads", type=_non_negative, default=0, help="worker threads per run (0: all cores)")
    p.add_argument("--data", metavar="DIR", help="directory of targets.json and evidence.json (default: $PLSIM_DATA, "
                                                 "else ../shared/data)")
    p.set_defaults(func=command)


def command(args) -> int:
    from .version import __version__

    directory = data_dir(args.data)
    started = time.perf_counter()
    seeds = args.seeds or (QUICK_SEEDS if args.quick else DEFAULT_SEEDS)
    print(f"plsim {__version__}: evidence suite against {directory}, seeds 1-{seeds}"
          + (" (--quick)" if args.quick else ""), flush=True)
    table = evaluate(data=directory, seeds=seeds, quick=args.quick, threads=args.threads,
                     log=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(table))
    paths = write_outputs(table, args.out)
    print(f"  wrote       {', '.join(map(str, paths))} ({time.perf_counter() - started:.0f} s)")
    return exit_code(table)
