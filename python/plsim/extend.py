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
# Student columns processes may write, with the values each may hold (plsim/state.hpp).
WRITABLE_COLUMNS: Mapping[str, tuple] = {name: (lo, hi) for name, lo, hi in _core.hook_writable_columns}


class HookWriteError(ValueError):
    """A hook wrote a value a column may not hold (not finite, or outside its range). Its writes were
    undone, so run() resumes the run at that hook."""


class YearView:
    """What hooks share within one school year of one arm: the schools table, the student views, and
    each model's students as contiguous ranges (students are sorted by school). Built once a year, so
    a weekly hook costs no set-up."""

    def __init__(self, core, schools_frame):
        self._core = core
        self.year = core.year
        self._schools_frame = schools_frame  # builds the schools table; called only if a hook asks for it
        self._schools = None
        self.students: Mapping[str, np.ndarray] = core.students
        raw = core.schools
        counts = np.asarray(raw["students"])
        self._ends = np.cumsum(counts)
        self._begins = self._ends - counts
        self._models = np.asarray(raw["model_names"], dtype=str)[np.asarray(raw["model"])]
        self.model_index = {name: k for k, name in enumerate(raw["model_names"])}
        self._policy_rows: dict = {}
        self._ranges: dict = {}
        self._masks: dict = {}
        self.rows_written: dict = {}  # policy name -> the one row of minutes it last wrote this year

    @property
    def schools(self):
        """The schools table (a DataFrame with names: a millisecond to build, so only on demand)."""
        if self._schools is None:
            self._schools = self._schools_frame()
        return self._schools

    def policy_row(self, model: str) -> Optional[np.ndarray]:
        """The engine's python_policy_rows row of `model` (a view, made once a year), or None where the
        engine has no rows (a run restored in mid-year has them again from the next year)."""
        if model not in self._policy_rows:
            rows = self._core.python_policy_rows
            self._policy_rows[model] = rows[self.model_index[model]] if len(rows) else None
        return self._policy_rows[model]

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
        self.year = core.year + 1  # the school year, counted from 1 as in every table and scenario
        self.week = core.week  # 0-based: the week about to run (policies) or just run (processes)
        self.students: Mapping[str, np.ndarray] = view.students
        self._written: dict = {}  # column -> (writable view, its values before the hook)
        self._minutes_view: Optional[np.ndarray] = None  # policies: the engine's minutes buffer
        self._minutes_before: Optional[np.ndarray] = None  # its values before the hook, once it is read

    @property
    def minutes(self) -> np.ndarray:
        """For a policy: the engine's (n_students, n_modes) minutes buffer, to write in place (rows of
        the policy's schools are used). Checked like returned minutes when the hook returns."""
        if self._minutes_view is None:
            raise AttributeError("minutes: only policies have them")
        if self._minutes_before is None:
            self._minutes_before = self._minutes_view.copy()
        return self._minutes_view

    @property
    def n_students(self) -> int:
        return len(self.students["id"])

    @property
    def schools(self):
        """Per-school DataFrame (index school_id), as sim.schools: district, level, type, model, FRL
        share, fidelities; for a scenario from a table of schools, the district's own school_ref and
        school_name first and the table's extra columns last."""
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

    @property
    def school_columns(self) -> Mapping[str, np.ndarray]:
        """Read-only zero-copy views of the school columns (one element per school: leadership,
        data_quality, obstacle_*, pl_stage, converted_year, coached_share, type, frl_share, ...);
        ``self.schools`` is the same as a DataFrame with names."""
        return self._core.school_columns

    @property
    def teachers(self) -> Mapping[str, np.ndarray]:
        """Read-only views of the teacher columns (id, school, active, experience, value_added,
        base_capacity, effectiveness, capacity); ``self.schools`` has the schools."""
        return self._core.teachers

    def writable(self, column: str) -> np.ndarray:
        """Writable zero-copy view of engagement, self_regulation, attendance,
        {math,reading}_learning_rate, {math,reading}_p_known; teachers.value_added, base_capacity,
        pl_skill, buy_in, burnout (effectiveness and capacity follow them from the next week); or
        schools.leadership, data_quality, obstacle_coverage, obstacle_materials, obstacle_scheduling
        (the schools' conditions follow). What the hook writes is checked when it returns: finite and
        within the column's range (`plsim.extend.WRITABLE_COLUMNS`)."""
        view = self._core.writable(column)
        if column not in self._written:
            self._written[column] = (view, view.copy())
        return view

    def _undo_writes(self) -> None:
        for view, before in self._written.values():
            np.copyto(view, before)

    def _check_writes(self, label: str) -> None:
        """Raises HookWriteError when a written column holds a value it may not: the error names the
        hook, the column, the first bad index and the value (Sim._call then undoes the hook's writes)."""
        for column, (view, _) in self._written.items():
            lo, hi = WRITABLE_COLUMNS[column]
            with np.errstate(invalid="ignore"):
                bad = ~(np.isfinite(view) & (view >= lo) & (view <= hi))
            if bad.any():
                index = int(np.flatnonzero(bad)[0])
                value = float(view[index])
                upper = "" if hi >= 1e9 else f" and at most {hi:g}"
                raise HookWriteError(f"{label} wrote {column}[{index}] = {value!r} ({int(bad.sum())} bad values): "
                                     f"{column} must be finite, at least {lo:g}{upper}; the hook's writes were undone")
        if any(column.startswith("teachers.") for column in self._written):
            self._core.refresh_teacher_traits()
        if any(column.startswith("schools.") for column in self._written):
            self._core.refresh_school_conditions()


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


class RolloutPlan:
    """A selection rule for a scenario's rollout plan, written in Python.

    A district whose plan has a wave with ``"rule": "python"`` leaves the order in which its schools are
    converted that year to the RolloutPlan registered with the Sim (``Sim(..., rollout_plans=[plan])``).
    `order(ctx)` is called once a year, before the plan converts schools, with numpy views of the school
    columns (``ctx.school_columns``, ``ctx.schools``); it returns the indices of the schools it would
    convert, first first. The engine still stops at the year's target and skips schools already converted
    or outside the plan's district. Runs in the policy arm only (the twin follows the policy arm's plan).
    """

    name: str = ""

    def order(self, ctx: HookContext):
        raise NotImplementedError(f"{type(self).__name__}.order(ctx) must return school indices, first first")


def apply_rollout_order(plan: RolloutPlan, ctx: HookContext, core) -> None:
    """Calls the plan's hook and hands its order to the engine, which checks each index."""
    result = plan.order(ctx)
    if result is None:
        raise TypeError(f"{type(plan).__name__}.order: expected a sequence of school indices (got None)")
    order = np.asarray(result)
    if order.ndim != 1 or not (order.size == 0 or np.issubdtype(order.dtype, np.integer)):
        raise TypeError(f"{type(plan).__name__}.order: expected a 1-d sequence of integer school indices "
                        f"(got an array of shape {order.shape} and dtype {order.dtype})")
    core.set_rollout_order([int(k) for k in order])


def policy_models(policies) -> dict:
    """The instructional-model entries of the policies, by name, for the scenario. A policy needs a name
    of its own: two policies with one name are refused, and so is "traditional", the model of every
    school of the counterfactual twin."""
    names = [p.name for p in policies]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"policies: two or more policies are named {', '.join(map(repr, twice))}; each "
                         f"policy is the instructional model of that name, so names must be unique")
    if "traditional" in names:
        raise ValueError("policies: a policy may not be named 'traditional': that is the model of every school "
                         "of the counterfactual twin; give the policy another name")
    builtin = set(json.loads(_core.builtin_instructional_models_json()))
    shadowing = sorted(set(names) & builtin)
    if shadowing:
        raise ValueError(f"policies: {', '.join(map(repr, shadowing))} would replace the built-in model of that name "
                         f"for every school that names it; give the policy a name of its own (built-in models: "
                         f"{', '.join(sorted(builtin))})")
    return {p.name: p.model_entry() for p in policies}  # model_entry refuses a policy without a name


def hook_name(hook: Any) -> str:
    return getattr(hook, "name", "") or type(hook).__name__


def _max_minutes() -> float:
    """The bound of weekly minutes in scenario files, from the engine's specification."""
    model = _core.scenario_schema()
    minutes = json.loads(model)["properties"]["instructional_models"]["additionalProperties"]["properties"]["minutes"]
    return float(minutes["properties"][MODES[0]]["maximum"])


MAX_MINUTES = _max_minutes()


def check_minutes(label: str, minutes: np.ndarray) -> None:
    """Minutes from a policy obey the bounds of scenario minutes: finite, 0 to MAX_MINUTES."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(minutes) & (minutes >= 0) & (minutes <= MAX_MINUTES))
    if bad.any():
        where = np.argwhere(bad)[0]
        mode = MODES[int(where[-1])]
        student = f" for student {int(where[0])} of the policy's schools" if minutes.ndim == 2 else ""
        raise ValueError(f"{label}: minutes must be finite and between 0 and {MAX_MINUTES:g}, as in scenario files "
                         f"(got {float(minutes[tuple(where)])!r} in {mode}{student})")


def apply_policy_minutes(policy: Policy, ctx: HookContext, minutes_view: np.ndarray) -> None:
    """Calls the policy's hook and stores its answer in the engine's minutes buffer, school by school,
    and, when it is one row for all its students, in the model's row of the engine's python_policy_rows
    (learning then reads one row instead of a row per student; NaN says "read the buffer"). Minutes
    written in place are checked like returned ones, and undone when they are refused."""
    ctx._minutes_view = minutes_view
    # The model's row holds what the buffer holds for all its students, or NaN: kept so at every exit.
    model_row = ctx._view.policy_row(policy.name)
    try:
        result = policy.minutes(ctx)
        if result is None:
            check_minutes(f"{type(policy).__name__}.minutes", minutes_view[ctx.mask])
    except BaseException:
        if ctx._minutes_before is not None:
            np.copyto(minutes_view, ctx._minutes_before)
        if model_row is not None:
            model_row[0] = np.nan
        raise
    if result is None:
        ctx._view.rows_written.pop(policy.name, None)  # written in place: the buffer may differ now
        if model_row is not None:
            model_row[0] = np.nan
        return
    result = np.asarray(result, dtype=np.float64)
    name = type(policy).__name__
    if result.shape not in ((len(MODES),), minutes_view.shape):
        raise ValueError(f"{name}.minutes: expected shape ({len(MODES)},) or {minutes_view.shape} (got {result.shape})")
    per_student = result.ndim == 2
    written = ctx._view.rows_written
    if not per_student:
        # One row, as most policies give: checked and compared as five Python floats (numpy's set-up
        # per call costs more than the work on five values, and this runs every week).
        row = tuple(result.tolist())
        if policy.name in written and written[policy.name] == row:
            if model_row is not None and model_row[0] != model_row[0]:  # NaN after an exception
                model_row[:] = row
            return  # the buffer still holds exactly these minutes (it is refilled only at a new year)
        if not all(0.0 <= m <= MAX_MINUTES for m in row):  # also false for NaN
            check_minutes(f"{name}.minutes", result)
    else:
        check_minutes(f"{name}.minutes", result[ctx.mask])
    if model_row is not None:
        model_row[0] = np.nan  # while the buffer changes
    for b, e in ctx._view.ranges(policy.name):
        minutes_view[b:e] = result[b:e] if per_student else result
    if per_student:
        written.pop(policy.name, None)
    else:
        written[policy.name] = row
        if model_row is not None:
            model_row[:] = row
