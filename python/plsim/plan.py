"""Run plans: a scenario, a seed and overrides, validated like a scenario, that pickle (for Dask).

Override paths are those of `plsim.parameters()` (``"learning.learn_rate"`` is
``parameters/learning/learn_rate``) or any scenario path written with slashes (``"years"``,
``"districts/0/central_office/coaches"``, ``"grants/0/amount_per_year"``).
"""
from __future__ import annotations

import copy
import json
from typing import Any, Mapping, Optional

from .scenarios import ScenarioLike, load_scenario



def _groups() -> set:
    from .parameters import parameters

    return {path.split(".")[0] for path in parameters()["path"]}


def apply_overrides(document: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """A copy of `document` with each override set at its path (validated when the scenario loads): a
    JSON pointer (districts/0/count), or the same with dots (districts.0.count); a path whose first part
    is a parameter group (learning.learn_rate) is under /parameters."""
    doc = copy.deepcopy(dict(document))
    groups = _groups()
    for path, value in overrides.items():
        if not isinstance(path, str) or not path:
            raise ValueError(f"overrides: paths are strings like 'learning.learn_rate' or 'districts/0/count' "
                             f"(got {path!r})")
        if "/" not in path and "." in path:
            # learning.learn_rate is a parameter's path; districts.0.count is districts/0/count.
            keys = path.split(".")
            keys = ["parameters", *keys] if keys[0] in groups else keys
        else:
            keys = [k for k in path.strip("/").split("/")]
        node = doc
        for depth, key in enumerate(keys[:-1]):
            nxt = keys[depth + 1]
            if isinstance(node, list):
                if not key.isdigit() or int(key) >= len(node):
                    raise ValueError(f"overrides: {path}: /{'/'.join(keys[:depth + 1])} is not an index of a list "
                                     f"of {len(node)} items")
                node = node[int(key)]
                continue
            if not isinstance(node, dict):
                raise ValueError(f"overrides: {path}: /{'/'.join(keys[:depth])} is not an object")
            if key not in node:
                node[key] = [] if nxt.isdigit() else {}
            node = node[key]
        last = keys[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ValueError(f"overrides: {path}: not an index of a list of {len(node)} items")
            node[int(last)] = copy.deepcopy(value)
        elif isinstance(node, dict):
            node[last] = copy.deepcopy(value)
        else:
            raise ValueError(f"overrides: {path}: /{'/'.join(keys[:-1])} is not an object")
    return doc


class RunPlan:
    """A scenario, a seed and overrides: `plan.run()` returns a finished `plsim.Sim`.

    The overridden scenario is validated when the plan is made, so a bad path or value fails here
    with the engine's error (the JSON path, what was expected, what was found)."""

    def __init__(self, scenario: ScenarioLike, *, seed: Optional[int] = None,
                 overrides: Optional[Mapping[str, Any]] = None, threads: int = 1,
                 counterfactual: Optional[bool] = None):
        base = load_scenario(scenario)
        self.overrides = dict(overrides or {})
        self.document = apply_overrides(base.document, self.overrides)
        if seed is not None:
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise ValueError(f"seed: expected an integer (got {seed!r})")
            self.document["seed"] = seed
        self.scenario = load_scenario(self.document)  # validates
        self.seed = self.scenario.resolved["seed"]
        self.threads = threads
        self.counterfactual = counterfactual

    def run(self, **kwargs):
        from .sim import Sim

        return Sim(self.scenario, threads=self.threads, counterfactual=self.counterfactual, **kwargs).run()

    def __getstate__(self):
        return {"document": self.document, "overrides": self.overrides, "threads": self.threads,
                "counterfactual": self.counterfactual}

    def __setstate__(self, state):
        self.document = state["document"]
        self.overrides = state["overrides"]
        self.threads = state["threads"]
        self.counterfactual = state["counterfactual"]
        self.scenario = load_scenario(self.document)
        self.seed = self.scenario.resolved["seed"]

    def __repr__(self) -> str:
        return f"RunPlan({self.scenario.name!r}, seed={self.seed}, overrides={self.overrides!r})"


def parse_set(items) -> dict:
    """--set PATH=VALUE arguments (VALUE as JSON when it parses, else a string) as overrides."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"--set: expected PATH=VALUE (got {item!r})")
        path, text = item.split("=", 1)
        try:
            out[path] = json.loads(text)
        except json.JSONDecodeError:
            out[path] = text
    return out
