"""Priors: what is known, and how uncertain, about the model's parameters, as distributions.

A Prior is a parameter path (``learning.learn_rate``, or ``PATH.K`` for element K of a list such as
``personalization.implementation_dip.0``), a frozen scipy.stats distribution and the source that set
it. plsim ships priors for the parameters that carry effects, persistence, dilution, teacher and school
responses and costs (python/plsim/data/priors.json, read and validated when this module is imported;
docs/model.md, "Priors"); a scenario's ``priors`` section replaces entries of the same path. The engine
validates both (engine/src/scenario/priors.cpp), so a bad prior is refused with its JSON path.

A prior without a centre (mean or median) is centred on the parameter's value in the scenario: the
engine's default (`plsim.parameters()`) unless the scenario sets it, so priors follow a recalibration of
the defaults without an edit. Draws never leave a parameter's range: a normal prior is cut at the range
(a truncated normal), a beta lives on lower..upper, a lognormal's upper tail beyond the range (at most
0.1% of it, the engine checks) is cut off.

    plsim.priors.shipped()                       # {path: Prior}
    plsim.priors.table(plsim.priors.resolve(scenario))
    plsim.priors.draw(priors, n=40, seed=1)      # one row per draw, one column per path
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from . import _core
from .parameters import parameters as parameter_table
from .scenarios import ScenarioLike, load_scenario, scenario_error, to_json

#: The shipped priors: one JSON file, validated at import.
SHIPPED_PATH = Path(__file__).resolve().parent / "data" / "priors.json"

# What the engine needs to validate a priors section on its own: the smallest valid scenario.
_HOST = {"name": "priors", "districts": [{"name": "d", "schools": [{"level": "elementary", "enrollment": 60}]}]}


@dataclass(frozen=True)
class Prior:
    """One parameter's prior: `dist` is the frozen scipy.stats distribution (a truncated normal, a
    lognormal, a beta on lower..upper or a uniform); draws are cut to [lower, upper], the parameter's
    range (for a lognormal, at most 0.1% of the distribution lies beyond it)."""
    path: str
    dist: Any
    source: str
    group: str
    spec: Mapping[str, Any]
    lower: float
    upper: float

    def ppf(self, u) -> np.ndarray:
        """The values at quantiles `u` in (0, 1) of the distribution cut to [lower, upper]."""
        lo, hi = self.dist.cdf(self.lower), self.dist.cdf(self.upper)
        return np.clip(self.dist.ppf(lo + np.asarray(u, dtype=float) * (hi - lo)), self.lower, self.upper)

    def pdf(self, x) -> np.ndarray:
        """The density of the distribution cut to [lower, upper] (0 outside)."""
        x = np.asarray(x, dtype=float)
        mass = self.dist.cdf(self.upper) - self.dist.cdf(self.lower)
        return np.where((x >= self.lower) & (x <= self.upper), self.dist.pdf(x) / mass, 0.0)

    def describe(self) -> str:
        """The distribution in words, e.g. ``lognormal(median 0.08, sd_log 0.25)``."""
        s = self.spec
        if s["distribution"].startswith("scipy.stats."):
            args = ", ".join([number_text(a) for a in s["args"]] + [f"{k}={number_text(v)}" for k, v in s["kwds"].items()])
            return f"{s['distribution']}({args})"
        if s["distribution"] == "lognormal":
            return f"lognormal(median {number_text(self.dist.median())}, sd_log {number_text(s['sd_log'])})"
        if s["distribution"] == "uniform":
            return f"uniform({number_text(self.lower)}, {number_text(self.upper)})"
        centre = number_text(s["mean"]) if "mean" in s else number_text(self.dist.mean())
        cut = f", on {number_text(self.lower)}..{number_text(self.upper)}"
        return f"{s['distribution']}(mean {centre}, sd {number_text(s['sd'])}{cut})"


def spec_text(spec: Mapping[str, Any]) -> str:
    """An entry as written, the centre "default" where the parameter's value centres it:
    ``lognormal(median: default, sd_log 0.25)`` (docs/model.md's table, which no recalibration outdates)."""
    fields = {"normal": ("mean", "sd", "lower", "upper"), "lognormal": ("median", "sd_log"),
              "beta": ("mean", "sd", "lower", "upper"), "uniform": ("lower", "upper")}.get(spec["distribution"])
    if fields is None:  # a scipy.stats distribution given in Python
        return str(spec["distribution"])
    parts = []
    for f in fields:
        if f in spec:
            parts.append(f"{f} {number_text(spec[f])}")
        elif f in ("mean", "median"):
            parts.append(f"{f}: default")
    return f"{spec['distribution']}({', '.join(parts)})"


def number_text(x: float) -> str:
    """A number for people: thousands with separators, small values with four significant digits."""
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _check(priors: Mapping[str, Any], where: str, host: Optional[Mapping[str, Any]] = None) -> None:
    """Validates a priors section with the engine (against `host`'s parameter values, or the defaults)."""
    document = dict(host or _HOST, priors=dict(priors))
    errors = list(_core.check_scenario(to_json(document, where), where))
    if errors:
        raise scenario_error(errors)


@lru_cache(maxsize=1)
def _shipped_section() -> dict:
    text = SHIPPED_PATH.read_text()
    section = json.loads(text).get("priors")
    if not isinstance(section, dict):
        raise scenario_error([f"{SHIPPED_PATH}: /priors: expected an object of priors by path"])
    _check(section, str(SHIPPED_PATH))
    return section


def _value_at(parameters: Mapping[str, Any], path: str) -> float:
    node: Any = parameters
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return float(node)


def _range_of(path: str) -> tuple:
    """A parameter's range (or its list's), unbounded for any other path (a scenario path)."""
    table = _ranges()
    base = path if path in table else path.rsplit(".", 1)[0]
    return table.get(base, (-math.inf, math.inf))


@lru_cache(maxsize=1)
def _ranges() -> dict:
    t = parameter_table()
    return {p: (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
            for p, lo, hi in zip(t["path"], t["min"], t["max"])}


def make_prior(path: str, spec: Mapping[str, Any], parameters: Mapping[str, Any]) -> Prior:
    """The Prior of one validated entry, centred on `parameters` (a resolved scenario's) where the entry
    gives no centre."""
    lo_range, hi_range = _range_of(path)
    kind = spec["distribution"]

    def centre(field: str) -> float:
        return float(spec[field]) if field in spec else _value_at(parameters, path)

    lower, upper = float(spec.get("lower", lo_range)), float(spec.get("upper", hi_range))
    if kind == "lognormal":
        median = centre("median")
        dist = stats.lognorm(s=float(spec["sd_log"]), scale=median)
        lower = max(lo_range, 0.0)
    elif kind == "normal":
        mean, sd = centre("mean"), float(spec["sd"])
        dist = stats.truncnorm((lower - mean) / sd, (upper - mean) / sd, loc=mean, scale=sd)
    elif kind == "beta":
        mean, sd = centre("mean"), float(spec["sd"])
        width = upper - lower
        m, v = (mean - lower) / width, (sd / width) ** 2
        k = m * (1 - m) / v - 1
        dist = stats.beta(m * k, (1 - m) * k, loc=lower, scale=width)
    else:
        dist = stats.uniform(loc=lower, scale=upper - lower)
    return Prior(path, dist, str(spec["source"]), str(spec.get("group", "other")), dict(spec), lower, upper)


def from_distribution(path: str, dist, source: str = "given as a scipy.stats distribution") -> Prior:
    """A Prior of any frozen scipy.stats distribution (`dist`), cut at the parameter's range."""
    lo_range, hi_range = _range_of(path)
    lower, upper = (float(x) for x in dist.support())
    lower, upper = max(lower, lo_range), min(upper, hi_range)
    if not dist.cdf(upper) - dist.cdf(lower) > 0:
        raise ValueError(f"parameters: {path}: the distribution has no mass in the parameter's range "
                         f"({lo_range:g} to {hi_range:g})")
    name = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
    return Prior(path, dist, source, "other", {"distribution": f"scipy.stats.{name}", "args": list(dist.args),
                                               "kwds": dict(dist.kwds)}, lower, upper)


def centred_spec(prior: Prior) -> Optional[dict]:
    """The prior's entry with its centre written out (mean or median), so that it rebuilds without the
    scenario's values; None for a scipy.stats distribution given in Python."""
    spec = dict(prior.spec)
    kind = spec["distribution"]
    if kind == "lognormal":
        spec.setdefault("median", float(prior.dist.median()))
    elif kind == "normal":
        spec.setdefault("mean", float(prior.dist.kwds["loc"]))
    elif kind == "beta":
        spec.setdefault("mean", float(prior.dist.mean()))
    elif kind != "uniform":
        return None
    return spec


def shipped() -> dict:
    """The shipped priors, centred on the engine's defaults: {path: Prior}."""
    parameters = load_scenario(_HOST).resolved["parameters"]
    return {path: make_prior(path, spec, parameters) for path, spec in sorted(_shipped_section().items())}


def resolve(scenario: ScenarioLike) -> dict:
    """The priors of a scenario: the shipped ones with its `priors` section replacing entries of the
    same path, centred on its parameter values; validated together by the engine. {path: Prior}"""
    s = load_scenario(scenario)
    section = dict(_shipped_section())
    section.update(s.document.get("priors", {}))
    _check(section, f"{s.source} (its priors with the shipped ones)", host=s.document)
    return {path: make_prior(path, spec, s.resolved["parameters"]) for path, spec in sorted(section.items())}


def from_file(path) -> dict:
    """Priors from a JSON file {"priors": {path: entry}} (entries as in a scenario's section), centred
    on the engine's defaults; validated by the engine with errors naming the file."""
    from .safe_io import SCENARIO_MAX_BYTES, parse_json, read_bounded

    where = str(path)
    doc = parse_json(read_bounded(Path(path), limit=SCENARIO_MAX_BYTES, what="priors file"), where, what="priors file")
    if not isinstance(doc, dict) or not isinstance(doc.get("priors"), dict):
        raise scenario_error([f"{where}: /priors: expected an object of priors by parameter path"])
    _check(doc["priors"], where)
    defaults = load_scenario(_HOST).resolved["parameters"]
    return {p: make_prior(p, spec, defaults) for p, spec in sorted(doc["priors"].items())}


def table(priors: Mapping[str, Prior]) -> pd.DataFrame:
    """One row per prior: path, group, distribution (with its values), as_written (the entry, "default"
    where the parameter's value centres it), median and 90% interval, source."""
    rows = []
    for path, p in priors.items():
        q = p.ppf([0.05, 0.5, 0.95])
        rows.append({"path": path, "group": p.group, "distribution": p.describe(), "as_written": spec_text(p.spec),
                     "median": q[1], "q05": q[0], "q95": q[2], "source": p.source})
    return pd.DataFrame(rows, columns=["path", "group", "distribution", "as_written", "median", "q05", "q95", "source"])


def draw(priors: Mapping[str, Prior], n: int, seed: int = 0) -> pd.DataFrame:
    """`n` joint draws, one column per path (sorted), from a Latin hypercube (scipy.stats.qmc, seeded:
    the same seed gives the same draws) mapped through each prior's quantiles; parameters are drawn
    independently. Index: the draw number, from 1."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"draws: expected a positive number of draws (got {n!r})")
    paths = sorted(priors)
    if not paths:
        raise ValueError("priors: none to draw from")
    unit = qmc.LatinHypercube(d=len(paths), seed=np.random.default_rng([int(seed), 0x9121])).random(int(n))
    frame = pd.DataFrame({p: priors[p].ppf(unit[:, j]) for j, p in enumerate(paths)},
                         index=pd.RangeIndex(1, int(n) + 1, name="draw"))
    return frame


def overrides(values: Mapping[str, float], parameters: Mapping[str, Any]) -> dict:
    """Run-plan overrides for one draw ({path: value}): an element path (PATH.K) sets element K of the
    list `parameters` (a resolved scenario's) holds, the rest of the list unchanged."""
    out: dict = {}
    for path, value in values.items():
        head, _, tail = path.rpartition(".")
        if tail.isdigit() and head:
            base = out.get(head)
            if base is None:
                base = list(_value_list(parameters, head))
            base[int(tail)] = float(value)
            out[head] = base
        else:
            out[path] = float(value)
    return out


def _value_list(parameters: Mapping[str, Any], path: str) -> list:
    node: Any = parameters
    for part in path.split("."):
        node = node[part]
    return list(node)


# Read and validated at import: a broken shipped file fails here, naming itself, not in a user's run.
_shipped_section()
