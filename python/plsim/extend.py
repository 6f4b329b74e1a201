"""Extending plsim from Python at coarse grain: instructional models (`Policy`) and mechanisms
(`Process`) whose hooks run once per week or year over numpy views of the whole population.

A hook never runs per student. Random numbers come from the engine's counter-based generator through
``ctx.random(name)``, keyed by the hook, the name, the student and the week, so Python mechanisms are
deterministic and share their draws between the two arms of a comparison (common random numbers).
"""
from __future__ import annotations

import copy
import json
from typing import Any, Mapping, Optional

import numpy as np

from . import _core

MODES = tuple(_core.names["modes"])
ELEMENTS = tuple(_core.names["elements"])
# Every field of an instructional model at the engine's default (plsim/modules/instruction.hpp).
MODEL_DEFAULTS: Mapping[str, Any] = json.loads(_core.instructional_model_defaults())


class YearView:
    """What hooks share within one school year of one arm: the schools table, the student views, and
    each model's students as contiguous ranges (students are sorted by school). Built once a year, so
    a weekly hook costs no set-up."""

    def __init__(self, core, schools):
        self.year = core.year
        self.schools = schools
        self.students: Mapping[str, np.ndarray] = core.students
        counts = schools["students"].to_numpy()
        self._ends = np.cumsum(counts)
        self._begins = self._ends - counts
        self._models = schools["model"].astype(str).to_numpy()
        self._ranges: dict = {}
        self._masks: dict = {}
        self.rows_written: dict = {}  # policy name -> the one row of minutes it last wrote this year

    def ranges(self, model: str) -> list:
        """[(begin, end)] of the students of each school on `model`."""
        if model not in self._ranges:
            on = self._models == model
            self._ranges[model] = [(int(b), int(e)) for b, e in zip(self._begins[on], self._ends[on]) if e > b]
        return self._ranges[model]

    def mask(self, model: str) -> np.ndarray:
        if model not in self._masks:
            mask = np.zeros(len(self.students["id"]), dtype=bool)
            for b, e in self.ranges(model):
                mask[b:e] = True
            mask.flags.writeable = False
            self._masks[model] = mask
        return self._masks[model]


class HookContext:
    """What a hook sees: the week, read-only views of the students, per-school data, named random
    streams and, for processes, writable views of the columns a mechanism may change."""

    def __init__(self, core, view: YearView, *, arm: str, hook_name: str, policy: Optional[str] = None):
        self._core = core
        self._view = view
        self._policy = policy
        self.arm = arm
        self._hook_name = hook_name
        self.year = core.year
        self.week = core.week  # 0-based: the week about to run (policies) or just run (processes)
        self.students: Mapping[str, np.ndarray] = view.students

    @property
    def n_students(self) -> int:
        return len(self.students["id"])

    @property
    def schools(self):
        """Per-school DataFrame (index school_id): district, level, type, model, FRL share, fidelities."""
        return self._view.schools

    @property
    def mask(self) -> np.ndarray:
        """For a policy: boolean mask of the students of the schools on this policy."""
        if self._policy is None:
            raise AttributeError("mask: only policies have one; use students_of_model(model)")
        return self._view.mask(self._policy)

    def students_of_model(self, model: str) -> np.ndarray:
        """Boolean mask (read-only) of the students whose school runs `model`."""
        return self._view.mask(model)

    def random(self, name: str) -> np.ndarray:
        """One uniform (0, 1) per student from the stream `hook name/name` for this week."""
        return self._core.uniforms(f"{self._hook_name}/{name}")

    def writable(self, column: str) -> np.ndarray:
        """Writable zero-copy view of engagement, self_regulation, attendance,
        {math,reading}_learning_rate or {math,reading}_p_known."""
        return self._core.writable(column)


class Policy:
    """An instructional model written in Python.

    Subclass, give it a `name` (the name scenarios use for it, e.g. ``"models": {"my_model": 0.5}``)
    and the model's settings as class attributes, and implement `minutes(ctx)`: called once per week,
    before learning, it returns the weekly minutes per subject in each mode (`plsim.MODES`) for the
    students of the schools on this policy: an array of shape (n_modes,) for all of them, or
    (ctx.n_students, n_modes) per student (rows of other students are ignored); or it writes
    ``ctx.minutes`` in place and returns None.
    """

    name: str = ""
    description: str = ""
    default_minutes: Mapping[str, float] = {"whole_class": 300.0}
    # The other settings of an instructional model (progression, small_groups, regroup_weeks, asks,
    # choice, check_ins, open_space, test_out, autonomy_levels, top_level_minutes) are class attributes
    # set below from the engine's defaults; a subclass overrides any of them.

    def minutes(self, ctx: HookContext) -> Optional[np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__}.minutes(ctx) must return the week's minutes")

    def model_entry(self) -> dict:
        """The scenario entry (instructional_models) the engine validates for this policy."""
        if not self.name:
            raise ValueError(f"{type(self).__name__}: a Policy needs a name (the model name scenarios use)")
        entry = {field: copy.deepcopy(getattr(self, field)) for field in _POLICY_FIELDS}
        entry.update({"description": self.description or f"Python policy {type(self).__name__}",
                      "minutes": dict(self.default_minutes), "python_policy": True})
        return entry


_POLICY_FIELDS = [f for f in MODEL_DEFAULTS if f not in ("description", "minutes", "python_policy")]
for _field in _POLICY_FIELDS:
    setattr(Policy, _field, MODEL_DEFAULTS[_field])


class Process:
    """A mechanism written in Python (a summer programme, a new engagement rule, ...).

    Hooks run on every arm of a run (the policy run and its counterfactual twin), after the engine's
    stages: `on_week(ctx)` after each week's learning, `on_year_end(ctx)` after the last week of a
    school year, before the summer. Change state through ``ctx.writable(column)``.
    """

    name: str = ""

    def on_week(self, ctx: HookContext) -> None:
        pass

    def on_year_end(self, ctx: HookContext) -> None:
        pass


def hook_name(hook: Any) -> str:
    return getattr(hook, "name", "") or type(hook).__name__


def apply_policy_minutes(policy: Policy, ctx: HookContext, minutes_view: np.ndarray) -> None:
    """Calls the policy's hook and stores its answer in the engine's minutes buffer, school by school."""
    ctx.minutes = minutes_view
    result = policy.minutes(ctx)
    if result is None:
        ctx._view.rows_written.pop(policy.name, None)  # written in place: the buffer may differ now
        return
    result = np.asarray(result, dtype=np.float64)
    name = type(policy).__name__
    if result.shape not in ((len(MODES),), minutes_view.shape):
        raise ValueError(f"{name}.minutes: expected shape ({len(MODES)},) or {minutes_view.shape} (got {result.shape})")
    if not np.all(np.isfinite(result)) or np.any(result < 0):
        raise ValueError(f"{name}.minutes: minutes must be finite and non-negative")
    per_student = result.ndim == 2
    written = ctx._view.rows_written
    if not per_student and policy.name in written and np.array_equal(written[policy.name], result):
        return  # the buffer still holds exactly these minutes (it is refilled only at a new year)
    for b, e in ctx._view.ranges(policy.name):
        minutes_view[b:e] = result[b:e] if per_student else result
    if per_student:
        written.pop(policy.name, None)
    else:
        written[policy.name] = result.copy()
