"""Scenario files: loading, validation (done by the C++ loader, never repeated here) and the schema."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Mapping, Union

from . import _core

ScenarioLike = Union["Scenario", str, os.PathLike, Mapping[str, Any]]


def _scenario_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # Installed packages carry a copy; a source checkout has the repository's folder.
    return [d for d in (here / "_scenarios", here.parent.parent / "scenarios") if d.is_dir()]


def shipped_scenarios() -> dict[str, Path]:
    """Scenarios shipped with plsim, by name."""
    found: dict[str, Path] = {}
    for d in _scenario_dirs():
        for p in sorted(d.glob("*.json")):
            if not p.name.endswith(".schema.json"):
                found.setdefault(p.stem, p)
    return found


def _plain(value: Any) -> Any:
    """JSON encoder fallback: numpy scalars and arrays become plain numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"scenario: values must be JSON numbers, strings, lists or objects (got {type(value).__name__})")


def to_json(doc: Any) -> str:
    return json.dumps(doc, default=_plain)


def read_document(source: Union[str, os.PathLike, Mapping[str, Any]]) -> tuple[dict, str]:
    """The scenario document from a file, a shipped name or a dict, not yet validated, and its source."""
    return _read(source)


def _read(source: Union[str, os.PathLike, Mapping[str, Any]]) -> tuple[dict, str]:
    if isinstance(source, Mapping):
        doc = json.loads(to_json(source))  # a plain, JSON-clean copy
        return doc, str(doc.get("name", "<dict>")) if isinstance(doc, dict) else "<dict>"
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"scenario: expected a path, a scenario name or a dict (got {type(source).__name__})")
    path = Path(source)
    if not path.exists():
        shipped = shipped_scenarios()
        if str(source) in shipped:
            path = shipped[str(source)]
        else:
            names = ", ".join(shipped) or "none found"
            raise FileNotFoundError(f"scenario: no file {str(source)!r} and no shipped scenario of that name "
                                    f"(shipped: {names})")
    return json.loads(_core.read_scenario_file(str(path))), str(path)


class Scenario:
    """A validated scenario: the document as written, where it came from, and its resolved form with
    every default filled in. Immutable: `replace` returns a new scenario."""

    def __init__(self, document: Mapping[str, Any], source: str = "<dict>"):
        self._document = json.loads(to_json(document))
        self.source = source
        self._resolved = json.loads(_core.resolve_scenario(json.dumps(self._document), source))

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
        doc = self.document
        doc.update(json.loads(to_json(changes)))
        return Scenario(doc, self.source)

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
    if isinstance(path_or_dict, Scenario):
        return path_or_dict.replace(**changes) if changes else path_or_dict
    doc, source = _read(path_or_dict)
    if changes:
        if not isinstance(doc, dict):
            raise _core.ScenarioError(f"{source}: /: expected an object (got {json.dumps(doc)[:60]})")
        doc.update(json.loads(to_json(changes)))
    return Scenario(doc, source)


def check_scenario(path_or_dict: ScenarioLike) -> list[str]:
    """Every error of a scenario, or an empty list when it is valid."""
    if isinstance(path_or_dict, Scenario):
        return []
    try:
        doc, source = _read(path_or_dict)
    except _core.ScenarioError as e:
        return list(e.errors)
    return list(_core.check_scenario(to_json(doc), source))


def scenario_schema() -> dict:
    """The JSON Schema of scenario files, generated from the C++ loader's specification."""
    return json.loads(_core.scenario_schema())
