"""Scenario files: loading, validation (done by the C++ loader, never repeated here) and the schema."""
from __future__ import annotations

import copy
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from . import _core
from .safe_io import SCENARIO_MAX_BYTES, check_depth, check_duplicates, loads_noting_duplicates, read_bounded

ScenarioLike = Union["Scenario", str, os.PathLike, Mapping[str, Any]]


def _scenario_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # Installed packages carry a copy; a source checkout has the repository's folder.
    return [d for d in (here / "_scenarios", here.parent.parent / "scenarios") if d.is_dir()]


def shipped_scenarios() -> dict[str, Path]:
    """Scenarios shipped with plsim, by name (those in a subfolder as "grants/spread")."""
    found: dict[str, Path] = {}
    for d in _scenario_dirs():
        for p in sorted(d.rglob("*.json")):
            if not p.name.endswith(".schema.json"):
                found.setdefault(p.relative_to(d).with_suffix("").as_posix(), p)
    return found


def _plain(value: Any) -> Any:
    """JSON encoder fallback: numpy scalars and arrays become plain numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"scenario: values must be JSON numbers, strings, lists or objects (got {type(value).__name__})")


def _unencodable(value: Any, path: str = "") -> list[str]:
    """Values a scenario dict may hold in Python but JSON cannot carry: NaN, infinities, integers beyond
    the range of a double, and text that is not valid Unicode (lone surrogates); each with its JSON path."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{path or '/'}: expected a finite number (got {value!r})"]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        return [f"{path or '/'}: expected a number within the range of a double (got an integer of "
                f"{len(str(abs(value)))} digits)"]
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return [f"{path or '/'}: expected valid Unicode text (got {value.encode('utf-8', 'backslashreplace').decode()!r})"]
        return []
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            out += _unencodable(key, path + "/<key>") if isinstance(key, str) else []
            out += _unencodable(item, f"{path}/{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [e for i, item in enumerate(value) for e in _unencodable(item, f"{path}/{i}")]
    return []


def scenario_error(errors: list[str]) -> Exception:
    error = _core.ScenarioError("\n".join(errors))
    error.errors = list(errors)
    return error


def _refused(message: str) -> Exception:
    return scenario_error([message])


def to_json(doc: Any, source: str = "<dict>") -> str:
    check_depth(doc, source, error=_refused)  # before anything walks it recursively
    problems = _unencodable(doc)
    if problems:
        raise scenario_error([f"{source}: {p}" for p in problems])
    return json.dumps(doc, default=_plain, allow_nan=False)


def _path_of(source: Union[str, os.PathLike]) -> Path:
    """The scenario file of a path or shipped name, checked before the engine reads it
    (_check_scenario_file)."""
    path = Path(source)
    if path.exists() or path.is_symlink():
        _check_scenario_file(path)
        return path
    shipped = shipped_scenarios()
    if str(source) in shipped:
        return shipped[str(source)]
    names = ", ".join(shipped) or "none found"
    raise FileNotFoundError(f"scenario: no file {str(source)!r} and no shipped scenario of that name"
                            f"{_did_you_mean(str(source), list(shipped))}; shipped: {names}")


def _did_you_mean(name: str, shipped: list) -> str:
    """' (did you mean "X"?)' for the shipped names closest to a misspelt one (also by the part after a
    folder: "coaching_heavi" finds grants/coaching_heavy), as the engine suggests keys; or ""."""
    import difflib

    stem = name.removesuffix(".json")
    close = difflib.get_close_matches(stem, shipped, n=3, cutoff=0.75)
    if not close:
        tails = {n.rsplit("/", 1)[-1]: n for n in shipped}
        close = [tails[t] for t in difflib.get_close_matches(stem.rsplit("/", 1)[-1], list(tails), n=3, cutoff=0.6)]
    return " (did you mean " + " or ".join(f'"{c}"' for c in close) + "?)" if close else ""


def _check_scenario_file(path: Path) -> None:
    """What the engine's JSON reader would let through: a device or pipe (read until memory runs out), a
    file of gigabytes, a key given twice (the last would win silently) or a runaway nesting. Refused
    with a ScenarioError naming the file; syntax errors are left to the engine, which reports them."""
    data = read_bounded(path, limit=SCENARIO_MAX_BYTES, what="scenario file", error=_refused)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the engine's reader reports it, with the other syntax errors
    try:
        document = loads_noting_duplicates(text)
    except (json.JSONDecodeError, RecursionError):
        return  # syntax and depth: the engine's reader reports them (it stops at 64 levels)
    check_duplicates(document, str(path), _refused)


def _source_of(document: Mapping[str, Any]) -> str:
    """How errors name a scenario given as a dict: its name, when it has one."""
    name = document.get("name")
    return name if isinstance(name, str) and not _unencodable(name) else "<dict>"


def _load(source: ScenarioLike, changes: Mapping[str, Any] = {}, extra_models: Mapping[str, Any] = {}) -> "Scenario":
    """One crossing into the engine: the document is read (files by C++), `changes` replace its
    top-level keys, `extra_models` join its instructional models, and it is validated and filled once."""
    if isinstance(source, Scenario) and not changes and not extra_models:
        return source
    changes_json, models_json = to_json(dict(changes)), to_json(dict(extra_models))
    if isinstance(source, Scenario):
        core = _core.Scenario.from_json(source._core.document_json, source.source, changes_json, models_json)
    elif isinstance(source, Mapping):
        core = _core.Scenario.from_json(to_json(source, _source_of(source)), _source_of(source), changes_json, models_json)
    elif isinstance(source, (str, os.PathLike)):
        core = _core.Scenario.from_file(str(_path_of(source)), changes_json, models_json)
    else:
        raise TypeError(f"scenario: expected a path, a scenario name or a dict (got {type(source).__name__})")
    return Scenario._from_core(core)


class Scenario:
    """A validated scenario: the document as written, where it came from, and its resolved form with
    every default filled in. Immutable: `replace` returns a new scenario. The engine validated it
    once, and runs use the model it built then."""

    def __init__(self, document: Mapping[str, Any], source: str = "<dict>"):
        self._set(_core.Scenario.from_json(to_json(document, source), source))

    @classmethod
    def _from_core(cls, core) -> "Scenario":
        scenario = cls.__new__(cls)
        scenario._set(core)
        return scenario

    def _set(self, core) -> None:
        self._core = core
        self.source = core.source
        self._document = json.loads(core.document_json)
        self._resolved = json.loads(core.resolved_json)

    @property
    def document(self) -> dict:
        """The scenario as written (a copy)."""
        return copy.deepcopy(self._document)

    @property
    def resolved(self) -> dict:
        """The scenario with every default filled in (a copy)."""
        return copy.deepcopy(self._resolved)

    @property
    def name(self) -> str:
        return self._resolved["name"]

    @property
    def seed(self) -> int:
        return self._resolved["seed"]

    @property
    def years(self) -> int:
        return self._resolved["years"]

    def replace(self, **changes: Any) -> "Scenario":
        """A new scenario with top-level keys replaced, e.g. ``scenario.replace(seed=7, years=3)``."""
        return _load(self, changes)

    def __getstate__(self):
        return {"document": self._document, "source": self.source}

    def __setstate__(self, state):
        self.__init__(state["document"], state["source"])

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, seed={self.seed}, years={self.years}, source={self.source!r})"


def load_scenario(path_or_dict: ScenarioLike, **changes: Any) -> Scenario:
    """Load and validate a scenario from a file, a shipped scenario's name or a dict.

    Raises `plsim.ScenarioError` listing every problem (its ``errors`` attribute holds them one by one).
    Keyword arguments replace top-level keys: ``load_scenario("national_baseline", years=2)``.
    """
    return _load(path_or_dict, changes)


def python_policy_uses(resolved: Mapping[str, Any]) -> dict[str, str]:
    """The Python-policy models (instructional models marked python_policy) that schools use, each with
    the JSON path of the first school group using it: each needs a plsim.Policy of its name."""
    models = resolved["instructional_models"]
    uses: dict[str, str] = {}
    for d, district in enumerate(resolved["districts"]):
        for g, group in enumerate(district["schools"]):
            for name in group["models"]:
                if models[name].get("python_policy") and name not in uses:
                    uses[name] = f"/districts/{d}/schools/{g}/model{'s/' + name if len(group['models']) > 1 else ''}"
    return uses


def check_scenario(path_or_dict: ScenarioLike, *, policies: Optional[Sequence[str]] = None) -> list[str]:
    """Every error of a scenario, or an empty list when it is valid. With `policies` (the names of the
    plsim.Policy objects a run will have; `plsim validate` passes none), a school on a Python-policy
    model without its policy is an error too, as Sim() would refuse it."""
    if isinstance(path_or_dict, Scenario):
        scenario, errors = path_or_dict, []
    elif isinstance(path_or_dict, Mapping):
        source = _source_of(path_or_dict)
        try:
            check_depth(path_or_dict, source)
        except ValueError as error:
            return [str(error)]
        problems = _unencodable(path_or_dict)
        if problems:
            return [f"{source}: {p}" for p in problems]
        errors = list(_core.check_scenario(to_json(path_or_dict, source), source))
        scenario = None if errors or policies is None else Scenario(path_or_dict, source)
    elif isinstance(path_or_dict, (str, os.PathLike)):
        try:
            path = _path_of(path_or_dict)
        except _core.ScenarioError as error:  # a file refused before the engine reads it
            return list(error.errors)
        errors = list(_core.check_scenario_file(str(path)))
        scenario = None if errors or policies is None else _load(path_or_dict)
    else:
        raise TypeError(f"scenario: expected a path, a scenario name or a dict (got {type(path_or_dict).__name__})")
    if scenario is not None and policies is not None:
        for name, path in python_policy_uses(scenario.resolved).items():
            if name not in policies:
                errors.append(f"{scenario.source}: {path}: the Python-policy model {name!r} takes its minutes from a "
                              f"plsim.Policy named {name!r}, which "
                              + ("the plsim command cannot supply: run this scenario from Python, Sim(..., "
                                 "policies=[...])" if not policies else f"is not among the policies ({', '.join(policies)})"))
    return errors


def scenario_schema() -> dict:
    """The JSON Schema of scenario files, generated from the C++ loader's specification."""
    return json.loads(_core.scenario_schema())
