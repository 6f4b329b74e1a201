"""Extending plsim from Python at coarse grain: instructional models (`Policy`) and mechanisms
(`Process`) whose hooks run once per week or year over numpy views of the whole population.

A hook never runs per student. Random numbers come from the engine's counter-based generator through
``ctx.random(name)``, keyed by the hook, the name, the student and the week, so Python mechanisms are
deterministic and share their draws between the two arms of a comparison (common random numbers).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

MODES = ("whole_class", "small_group", "adaptive_software", "collaborative", "tutoring")
ELEMENTS = ("learner_profiles", "learning_paths", "competency_progression", "flexible_environment")


class HookContext:
    """What a hook sees: the week, read-only views of the students, per-school data, named random
    streams and, for processes, writable views of the columns a mechanism may change."""

    def __init__(self, core, *, arm: str, hook_name: str, schools, model_names, week: Optional[int] = None):
        self._core = core
        self.arm = arm
        self._hook_name = hook_name
        self._schools = schools
        self._model_names = model_names
        self.year = core.year
        self.week = core.week if week is None else week  # 0-based: the week about to run, or just run
        self.students: Mapping[str, np.ndarray] = core.students

    @property
    def n_students(self) -> int:
        return len(self.students["id"])

    @property
    def schools(self):
        """Per-school DataFrame (index school_id): district, level, type, model, FRL share, fidelities."""
        return self._schools

    def students_of_model(self, model: str) -> np.ndarray:
        """Boolean mask of the students whose school runs `model`."""
        codes = self._schools["model"].cat.categories.get_loc(model)
        per_school = (self._schools["model"].cat.codes.to_numpy() == codes)
        return per_school[self.students["school"]]

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
    progression: str = "seat_time"
    small_groups: int = 4
    regroup_weeks: int = 6
    asks: Mapping[str, float] = {}
    choice: float = 0.0
    check_ins: float = 0.0
    open_space: float = 0.0
    test_out: bool = False
    default_minutes: Mapping[str, float] = {"whole_class": 300.0}

    def minutes(self, ctx: HookContext) -> Optional[np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__}.minutes(ctx) must return the week's minutes")

    def model_entry(self) -> dict:
        """The scenario entry (instructional_models) the engine validates for this policy."""
        if not self.name:
            raise ValueError(f"{type(self).__name__}: a Policy needs a name (the model name scenarios use)")
        return {
            "description": self.description or f"Python policy {type(self).__name__}",
            "minutes": dict(self.default_minutes),
            "progression": self.progression,
            "small_groups": self.small_groups,
            "regroup_weeks": self.regroup_weeks,
            "asks": dict(self.asks),
            "choice": self.choice,
            "check_ins": self.check_ins,
            "open_space": self.open_space,
            "test_out": self.test_out,
            "python_policy": True,
        }


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
    """Calls the policy's hook and stores its answer in the engine's minutes buffer."""
    ctx.minutes = minutes_view
    mask = ctx.students_of_model(policy.name)
    ctx.mask = mask
    result = policy.minutes(ctx)
    if result is None:
        return
    result = np.asarray(result, dtype=np.float64)
    if not np.all(np.isfinite(result)) or np.any(result < 0):
        raise ValueError(f"{type(policy).__name__}.minutes: minutes must be finite and non-negative")
    if result.shape == (len(MODES),):
        minutes_view[mask] = result
    elif result.shape == minutes_view.shape:
        minutes_view[mask] = result[mask]
    else:
        raise ValueError(f"{type(policy).__name__}.minutes: expected shape ({len(MODES)},) or "
                         f"{minutes_view.shape} (got {result.shape})")
