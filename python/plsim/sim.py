"""A simulation run: the engine's Sim behind a keyword-only, DataFrame-returning interface."""
from __future__ import annotations

import time
import warnings
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core
from .extend import (HookContext, Policy, Process, RolloutPlan, YearView, apply_policy_minutes, apply_rollout_order,
                     hook_name, policy_models)
from .identifiers import REF_COLUMNS, school_identifiers, with_refs
from .interrupts import HeldInterrupt, RunInterrupts
from .money import cost_effectiveness, cost_frame, cost_tables
from .resources import check_run_memory
from .study import by_prior_quintile as study_by_prior
from .study import emulate as study_emulate
from .results import (LEVELS, SCHOOL_TYPES, assessment_frame, effects, headline, headline_effects, subgroup_table,
                      years_from_1)
from .scenarios import Scenario, ScenarioLike, _load, python_policy_uses

Progress = Union[bool, Callable[[int, int], None]]
STAGE_NAMES = [stage["stage"] for stage in _core.schedule()]
# The hook stages of the schedule and the Process method each calls (policies: Policy.minutes).
HOOK_METHODS = {"python_processes": "on_week", "python_year_end": "on_year_end"}
PL_STAGES = ["none", "pilot", "schoolwide"]


class Sim:
    """One run of a scenario.

    >>> sim = Sim(load_scenario("national_baseline"), threads=2).run()
    >>> sim.assessments  # tidy DataFrame, one row per year, season, subject, grade and school

    `threads=0` uses every core; results are identical for any thread count. `seed` overrides the
    scenario's seed. `counterfactual` runs the counterfactual twin (every school traditional, same
    random numbers) beside the scenario; by default the scenario's `counterfactual` setting decides
    (auto: when any school is personalized). `policies` are `plsim.Policy` objects that scenarios
    name as instructional models; `processes` are `plsim.Process` mechanisms run on every arm;
    `rollout_plans` are `plsim.RolloutPlan` selection rules for plans with a "python" wave.
    `responses` is the share of students whose adaptive-software practice is logged (`sim.responses()`,
    a response log for plsim.bkt), 0 to 1. The memory the run will need is estimated first
    (plsim.resources) and a run that needs more than `max_memory` bytes (default: the memory available
    on this machine) is refused with a plsim.MemoryLimitError giving the estimate.
    """

    def __init__(self, scenario: ScenarioLike, *, threads: int = 0, seed: Optional[int] = None,
                 counterfactual: Optional[bool] = None, policies: Sequence[Policy] = (),
                 processes: Sequence[Process] = (), rollout_plans: Sequence[RolloutPlan] = (),
                 responses: float = 0.0, max_memory: Optional[int] = None):
        if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 0:
            raise ValueError(f"threads: expected 0 (all cores) or a positive integer (got {threads!r})")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError(f"seed: expected an integer (got {seed!r})")
        if counterfactual is not None and not isinstance(counterfactual, bool):
            raise ValueError(f"counterfactual: expected True, False or None (got {counterfactual!r})")
        self.policies = list(policies)
        self.processes = list(processes)
        for p in self.policies:
            if not isinstance(p, Policy):
                raise TypeError(f"policies: expected plsim.Policy objects (got {type(p).__name__})")
        for p in self.processes:
            if not isinstance(p, Process):
                raise TypeError(f"processes: expected plsim.Process objects (got {type(p).__name__})")
        self.rollout_plans = list(rollout_plans)
        for p in self.rollout_plans:
            if not isinstance(p, RolloutPlan):
                raise TypeError(f"rollout_plans: expected plsim.RolloutPlan objects (got {type(p).__name__})")
        # One crossing into the engine: the seed override (checked against the specification's bound)
        # and the policies' models (so schools can name them) join the scenario before it is validated.
        try:
            built = _load(scenario, {} if seed is None else {"seed": int(seed)}, policy_models(self.policies))
        except _core.ScenarioError as error:
            bad_seed = [e.split(": /seed: ", 1)[1] for e in error.errors if ": /seed: " in e]
            if seed is not None and bad_seed:
                raise ValueError(f"seed: {bad_seed[0]}") from None
            raise
        if isinstance(responses, bool) or not isinstance(responses, (int, float)) or not 0 <= responses <= 1:
            raise ValueError(f"responses: expected a share of students from 0 to 1 (got {responses!r})")
        if max_memory is not None and (isinstance(max_memory, bool) or not isinstance(max_memory, (int, np.integer))
                                       or max_memory <= 0):
            raise ValueError(f"max_memory: expected a number of bytes (got {max_memory!r})")
        # Before anything is built: a run that cannot fit is refused with the estimate, not after minutes.
        check_run_memory(built.resolved, responses=float(responses), arms=1 if counterfactual is False else 2,
                         max_memory=max_memory, what=f"scenario {built.name}")
        self._build(built, int(threads), counterfactual)
        for _, core in self._arms():
            core.responses_share = float(responses)

    @classmethod
    def _restored(cls, scenario: Scenario, *, threads: int, counterfactual: bool, policies=(), processes=(),
                  rollout_plans=(), max_memory: Optional[int] = None) -> "Sim":
        """A Sim of a checkpoint's scenario as validated (its policies' models already in it), built
        for the saved states to be restored into."""
        # (the responses share travels in the engine state: the estimate assumes the share at most)
        check_run_memory(scenario.resolved, responses=0.0, arms=2 if counterfactual else 1, max_memory=max_memory,
                         what=f"scenario {scenario.name}")
        sim = cls.__new__(cls)
        sim.policies, sim.processes, sim.rollout_plans = list(policies), list(processes), list(rollout_plans)
        sim._build(scenario, threads, counterfactual)
        return sim

    def _build(self, scenario: Scenario, threads: int, counterfactual: Optional[bool]) -> None:
        self.scenario = scenario
        self._threads_requested = threads
        started = time.perf_counter()
        # Any count is accepted (clamped below with a warning); the engine takes a 32-bit one.
        self._core = _core.Sim(self.scenario._core, min(threads, 2 ** 31 - 1))
        # Set-up (population, teachers, classrooms; parallel) is timed apart from the simulation.
        self.setup_seconds = time.perf_counter() - started
        if self._core.threads_used < self._core.threads:
            warnings.warn(f"threads: asked for {threads}, but this machine runs {self._core.threads_used} at once; "
                          f"the run uses {self._core.threads_used} (summary.json reports both)", stacklevel=3)
        if counterfactual is None:
            mode = self._core.counterfactual_mode
            counterfactual = mode == _core.Counterfactual.always or (
                mode == _core.Counterfactual.auto and self._core.has_personalization)
        started = time.perf_counter()
        self._twin = self._core.counterfactual() if counterfactual else None
        self.setup_seconds_counterfactual = time.perf_counter() - started if counterfactual else None
        self._year_views: dict = {}
        self._hooks_done: dict = {}  # arm -> (hook stage index, hooks of it done), while a stage is unfinished
        self._hook_times: dict = {}  # hook stage -> [cpu seconds, wall seconds]
        self._interrupted_hook: Optional[str] = None  # a hook interrupted itself by a second Ctrl-C
        self._arms_done_this_week: set = set()  # arms past the week in progress (a stopped run resumes the others)
        self._identifiers = school_identifiers(scenario.document, self._core.counts["schools"])
        self._check_policies()
        self._check_attributes()

    def run(self, *, progress: Progress = False, until_year: Optional[int] = None,
            rerun_interrupted_hook: bool = False) -> "Sim":
        """Run to the end of the scenario (and of its counterfactual twin), or until `until_year` years
        are complete. `progress=True` shows a progress bar; a callable receives (weeks_done,
        weeks_total). Ctrl-C stops the run between two weeks, or after the Python hook that is running
        (a second Ctrl-C interrupts the hook itself), with KeyboardInterrupt; calling run again resumes
        it exactly. After a hook was interrupted itself, run() refuses to resume unless
        `rerun_interrupted_hook=True` (the hook runs again from its start; its engine writes were undone,
        but what it changed in its own state may not have been)."""
        self._check_resumable("run", rerun_interrupted_hook)
        if until_year is not None and (not isinstance(until_year, (int, np.integer)) or isinstance(until_year, bool)
                                       or not 0 <= until_year <= self.scenario.years):
            raise ValueError(f"until_year: expected a year count from 0 to the scenario's {self.scenario.years} "
                             f"(got {until_year!r})")
        until = self.scenario.years if until_year is None else int(until_year)
        total = self.scenario.years * self._core.weeks_per_year * len(self._arms())
        if progress is True:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="week")

            def report(done: int, _total: int) -> None:
                bar.update(done - bar.n)

            try:
                self._run(report, until)
            finally:
                bar.close()
        elif progress is False or progress is None:
            self._run(None, until)
        elif callable(progress):
            self._run(progress, until)
        else:
            raise TypeError(f"progress: expected True, False or a callable (got {type(progress).__name__})")
        return self

    def _check_policies(self) -> None:
        """Every school on a Python-policy model needs its plsim.Policy: say so instead of running the
        model's default minutes silently; a policy that no school uses is worth a warning."""
        registered = {p.name for p in self.policies}
        used = {name for d in self.scenario.resolved["districts"] for g in d["schools"] for name in g["models"]}
        missing = sorted(n for n in python_policy_uses(self.scenario.resolved) if n not in registered)
        if missing:
            raise ValueError(f"policies: the scenario's schools use the Python policy model(s) {', '.join(missing)}; "
                             f"pass the plsim.Policy objects: Sim(..., policies=[...]) (got "
                             f"{sorted(registered) or 'none'})")
        for name in sorted(registered - used):
            warnings.warn(f"policies: no school of scenario {self.scenario.name!r} uses the policy {name!r}, so it "
                          f"never runs; name it in a school group's model or models", stacklevel=3)
        python_rule = [d["name"] for d in self.scenario.resolved["districts"]
                       if any(w["rule"] == "python" for w in d.get("rollout", {}).get("waves", []))]
        if python_rule and not self.rollout_plans:
            raise ValueError(f"rollout_plans: the rollout plan of district(s) {', '.join(python_rule)} has a "
                             f"\"python\" wave; pass a plsim.RolloutPlan: Sim(..., rollout_plans=[...])")
        if self.rollout_plans and not python_rule:
            warnings.warn(f"rollout_plans: no district of scenario {self.scenario.name!r} has a rollout wave with "
                          f"rule \"python\", so the plan never runs", stacklevel=3)

    def _check_attributes(self) -> None:
        """A school attribute (an extra column of a table of schools) may not take the name of a column
        plsim reports for schools: sim.schools has both."""
        if self._identifiers is None:
            return
        taken = set(_schools_frame(self._core).columns) | {"school_id"}
        clash = [c for c in self._identifiers.columns if c in taken and c not in REF_COLUMNS]
        if clash:
            raise ValueError(f"scenario: the school attribute(s) {', '.join(map(repr, clash))} (extra columns of the "
                             f"table of schools) have the name of a column plsim reports for schools; rename them")

    def _arms(self):
        return [("policy", self._core)] + ([("counterfactual", self._twin)] if self._twin is not None else [])

    def _run(self, report, until_year: int) -> None:
        arms = self._arms()
        total = self.scenario.years * self._core.weeks_per_year * len(arms)
        if not (self.policies or self.processes or self.rollout_plans):
            # No Python hooks: each arm runs in C++ to its end (or the year asked), the GIL released.
            for arm, core in arms:
                others = sum(c.counts["weeks_simulated"] for a, c in arms if a != arm)
                core.run(None if report is None else (lambda d, t, o=others: report(o + d, total)), until_year)
            return
        with RunInterrupts():  # one SIGINT handler for the run, not two swaps per hook
            while self.years_completed < until_year:
                self._week()
                if report is not None:
                    report(sum(core.counts["weeks_simulated"] for _, core in arms), total)

    def _week(self) -> None:
        """One week of every unfinished arm: the engine runs the schedule and stops at each hook stage,
        where the Python hooks of that stage run.

        A hook that raises (an error, Ctrl-C) leaves its arm at that hook stage with the hooks before it
        done, so run() resumes exactly there: the hook that raised runs again, the others do not; an arm
        that already finished this week waits for the others, so hooks run in the same order as in a run
        never stopped (hooks that share state across arms see the same sequence of calls)."""
        for arm, core in self._arms():
            if core.finished or arm in self._arms_done_this_week:
                continue
            while (index := core.run_to_hook()) >= 0:
                self._run_hooks(index, arm, core)
                core.complete_hook()
            self._arms_done_this_week.add(arm)
        self._arms_done_this_week.clear()

    def _hooks_of(self, stage: str, arm: str) -> list:
        if stage == "python_policies":
            return [(policy, "minutes") for policy in self.policies] if arm == "policy" else []
        if stage == "python_rollout":
            return [(plan, "order") for plan in self.rollout_plans] if arm == "policy" else []
        method = HOOK_METHODS[stage]
        return [(process, method) for process in self.processes]

    def _run_hooks(self, index: int, arm: str, core) -> None:
        stage = STAGE_NAMES[index]
        hooks = self._hooks_of(stage, arm)
        done_index, done = self._hooks_done.get(arm, (index, 0))
        for k in range(done if done_index == index else 0, len(hooks)):
            hook, method = hooks[k]
            cpu, wall = time.process_time(), time.perf_counter()
            if method == "minutes":
                interrupted = self._policy_hook(hook)
            elif method == "order":
                ctx = self._context(core, arm, hook)
                interrupted = self._call(hook, method, ctx, lambda: apply_rollout_order(hook, ctx, core))
            else:
                ctx = self._context(core, arm, hook)
                interrupted = self._call(hook, method, ctx, lambda: getattr(hook, method)(ctx))
            times = self._hook_times.setdefault(stage, [0.0, 0.0])
            times[0] += time.process_time() - cpu
            times[1] += time.perf_counter() - wall
            self._hooks_done[arm] = (index, k + 1)
            if interrupted:  # the Ctrl-C held while the hook ran: stop here, between two hooks
                raise KeyboardInterrupt
        self._hooks_done.pop(arm, None)

    def _policy_hook(self, policy: Policy) -> bool:
        ctx = self._context(self._core, "policy", policy)
        minutes = self._core.python_policy_minutes
        return self._call(policy, "minutes", ctx, lambda: apply_policy_minutes(policy, ctx, minutes))

    def _context(self, core, arm: str, hook) -> HookContext:
        view = self._year_views.get(arm)
        if view is None or view.year != core.year:
            view = self._year_views[arm] = YearView(core, lambda: _schools_frame(core))
        return HookContext(core, view, arm=arm, hook_name=hook_name(hook),
                           policy=hook.name if isinstance(hook, Policy) else None)

    def _call(self, hook, method: str, ctx: HookContext, fn) -> bool:
        """Runs one hook; what it wrote is checked, and undone when it raised or wrote a value a column
        may not hold, so that run() resumes the run at this hook from the state before it. A Ctrl-C
        while it runs is held until it returns (plsim.interrupts); returns whether one is pending."""
        label = f"{type(hook).__name__}.{method}"
        held = HeldInterrupt(label)
        try:
            with held:
                fn()
            ctx._check_writes(label)
        except BaseException as error:
            ctx._undo_writes()
            if held.forced:
                self._interrupted_hook = f"{label} ({ctx.arm} run, year {ctx.year}, week {ctx.week + 1})"
            if isinstance(error, Exception):
                error.add_note(f"plsim: raised by {label} in the {ctx.arm} run, year {ctx.year}, week "
                               f"{ctx.week + 1}; the run stopped there (run() resumes it)")
            raise
        return held.pending

    def save(self, path, *, extra: Optional[dict] = None):
        """Write a checkpoint of the whole run to `path` (plsim.checkpoint): continue it with
        `plsim.load(path).run()`, here or in another process, with the same results as if it had never
        stopped. `extra` (JSON-ready) is saved with it."""
        from .checkpoint import save

        return save(self, path, extra)

    def __reduce__(self):
        # Pickling (Dask, multiprocessing) goes through the checkpoint bytes.
        from .checkpoint import from_bytes_only, to_bytes

        return from_bytes_only, (to_bytes(self),)

    def __copy__(self):
        from .checkpoint import from_bytes_only, to_bytes

        return from_bytes_only(to_bytes(self))

    def __deepcopy__(self, memo):
        return self.__copy__()

    @property
    def years_completed(self) -> int:
        """School years completed by every arm."""
        return min(core.years_completed for _, core in self._arms())

    def _check_resumable(self, method: str, rerun_interrupted_hook: bool) -> None:
        if self._interrupted_hook and not rerun_interrupted_hook:
            raise RuntimeError(f"{method}: {self._interrupted_hook} was interrupted while it ran (a second Ctrl-C); "
                               f"its writes to the engine were undone, but what it changed in its own state may not "
                               f"have been, so resuming could differ from an uninterrupted run. Resume from a "
                               f"checkpoint, or pass {method}(rerun_interrupted_hook=True) to run the hook again")
        self._interrupted_hook = None

    def step(self, *, rerun_interrupted_hook: bool = False) -> bool:
        """Run one week (of every arm, with the hooks); False once the run is finished."""
        self._check_resumable("step", rerun_interrupted_hook)
        if not self.finished:
            self._week()
        return not self.finished

    @property
    def schedule(self) -> pd.DataFrame:
        """The stages of a year and of a week in running order (the engine's one schedule), with what
        each reads and writes, and the calls and time spent in it so far, summed over the arms."""
        frame = pd.DataFrame(_core.schedule())
        calls = np.zeros(len(frame), dtype=np.int64)
        cpu, wall = np.zeros(len(frame)), np.zeros(len(frame))
        for _, core in self._arms():
            t = np.array(core.stage_times, dtype=float).reshape(len(frame), 3)
            calls += t[:, 0].astype(np.int64)
            cpu += t[:, 1]
            wall += t[:, 2]
        for stage, (c, w) in self._hook_times.items():
            cpu[STAGE_NAMES.index(stage)] += c
            wall[STAGE_NAMES.index(stage)] += w
        frame["calls"], frame["cpu_seconds"], frame["wall_seconds"] = calls, cpu, wall
        return frame[["phase", "stage", "kind", "calls", "cpu_seconds", "wall_seconds", "reads", "writes", "doc"]]

    @property
    def finished(self) -> bool:
        return all(core.finished for _, core in self._arms())

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def threads(self) -> int:
        return self._core.threads

    @property
    def counts(self) -> dict:
        """Students, teachers, classrooms, schools, districts, years and weeks simulated, seconds."""
        return dict(self._core.counts)

    @property
    def assessments(self) -> pd.DataFrame:
        """Tidy assessment results: year, season, subject, grade, school_id, n, mean_rit,
        mean_percentile, mean_sd (national student-SD units) and mean_true_rit (without test error)."""
        return with_refs(assessment_frame(self._core.assessments), self._identifiers)

    @property
    def students(self) -> Mapping[str, np.ndarray]:
        """Zero-copy, read-only numpy views of the student columns, sorted by school, grade and
        classroom. The views stay valid for the life of the Sim but describe the population of the
        current year: read them again after a year transition."""
        return MappingProxyType(self._core.students)

    def true_rit(self, subject: str) -> np.ndarray:
        """Each student's scale score of true knowledge in `subject` (no test error)."""
        return self._core.true_rit(subject)

    @property
    def schools(self) -> pd.DataFrame:
        """One row per school (index school_id): district, level, type, grades, instructional model, FRL
        share, effects, implementation year and capacity for each personalized-learning element. For a
        scenario from a table of schools (plsim.from_schools), first the district's own id and name
        (school_ref, school_name) and last the table's extra columns, to group any per-school output by:
        ``sim.effects.join(sim.schools["zone"], on="school_id").groupby("zone")``."""
        frame = _schools_frame(self._core)
        if self._identifiers is None:
            return frame
        refs = self._identifiers[list(REF_COLUMNS)]
        attributes = self._identifiers.drop(columns=list(REF_COLUMNS))
        return pd.concat([refs, frame, attributes], axis=1)

    @property
    def has_counterfactual(self) -> bool:
        return self._twin is not None

    def _require_twin(self, what: str):
        if self._twin is None:
            raise RuntimeError(f"{what}: this Sim has no counterfactual twin; create it with counterfactual=True")
        return self._twin

    @property
    def counterfactual_assessments(self) -> pd.DataFrame:
        """Assessments of the counterfactual twin (every school traditional, same random numbers)."""
        return with_refs(assessment_frame(self._require_twin("counterfactual_assessments").assessments),
                         self._identifiers)

    @property
    def effects(self) -> pd.DataFrame:
        """True effects per year, subject, grade and school (spring): n, effect_rit, effect_sd
        (national student SDs) and measured_effect_rit (with test error), against the twin."""
        e = effects(self.assessments, self.counterfactual_assessments)
        e.insert(4, "model", _schools_frame(self._core)["model"].to_numpy()[e["school_id"].to_numpy()])
        return with_refs(e, self._identifiers)

    @property
    def subgroups(self) -> pd.DataFrame:
        """Growth and effects by subgroup: one row per year, subject, grade and subgroup (all, frl,
        non_frl, start_q1..start_q5: quintile of the true score in the student's first fall of the run,
        within grade and subject; charter, district; pl_cohort: students ever enrolled in a school at a
        PL stage, the same students in both arms) with n, growth_true_rit, growth_measured_rit,
        norm_growth_rit, effect_true_sd and effect_measured_sd (NaN without a twin)."""
        return subgroup_table(self._core.subgroups, self._twin.subgroups if self._twin is not None else None)

    @property
    def teachers_by_year(self) -> pd.DataFrame:
        """One row per simulated year (from 1): teachers on staff before the transition into it, turnover,
        turnover_high_poverty, turnover_low_poverty, mean_experience of those who stayed; and the practice
        of the year: practising and coached teachers, mean_pl_capacity and mean_pl_skill (of practising
        teachers), mean_burnout and mean_buy_in (of teachers teaching), mean_prep_deficit (of practising
        teachers). Year 1 follows no transition (the population is built for it): its teachers are those
        teaching, and its turnover and mean_experience are NaN."""
        rows = []
        for r in years_from_1(self._core.teacher_years):
            transition = r["teachers"] > 0
            low = r["teachers"] - r["teachers_high_poverty"]
            rows.append({"year": r["year"], "teachers": r["teachers"] if transition else r["teaching"],
                         "turnover": r["leavers"] / r["teachers"] if transition else np.nan,
                         "turnover_high_poverty": (r["leavers_high_poverty"] / r["teachers_high_poverty"]
                                                   if r["teachers_high_poverty"] else np.nan),
                         "turnover_low_poverty": (r["leavers"] - r["leavers_high_poverty"]) / low if low else np.nan,
                         "mean_experience": r["mean_experience"], "practising": r["practising"],
                         "coached": r["coached"], "mean_pl_capacity": r["mean_pl_capacity"],
                         "mean_pl_skill": r["mean_pl_skill"], "mean_burnout": r["mean_burnout"],
                         "mean_buy_in": r["mean_buy_in"], "mean_prep_deficit": r["mean_prep_deficit"]})
        return pd.DataFrame(rows, columns=["year", "teachers", "turnover", "turnover_high_poverty",
                                           "turnover_low_poverty", "mean_experience", "practising", "coached",
                                           "mean_pl_capacity", "mean_pl_skill", "mean_burnout", "mean_buy_in",
                                           "mean_prep_deficit"])

    @property
    def rollout_by_district(self) -> pd.DataFrame:
        """Each district's rollout at the start of each year: target_share, students, students_pl (taught
        by a teacher practising a PL model), share_students_pl, students_in_pl_schools, schools by stage,
        conversions, drops and codified pilots that year, the gate's measured pilot effect and state."""
        df = pd.DataFrame(years_from_1(self._core.rollout_years))
        if len(df):
            df["share_students_pl"] = df["students_pl"] / df["students"].where(df["students"] > 0)
        return df

    @property
    def rollout_by_year(self) -> pd.DataFrame:
        """The rollout over every district, one row per year: share_students_pl against target_share
        (over the districts with a plan, weighted by students), schools_pl, schools_pilot,
        schools_schoolwide, converted, dropped, codified."""
        d = self.rollout_by_district
        if d.empty:
            return d
        rows = []
        for year, g in d.groupby("year"):
            planned = g[g["has_plan"]]
            target = (planned["target_share"] * planned["students"]).sum() / planned["students"].sum() \
                if len(planned) and planned["students"].sum() > 0 else np.nan
            rows.append({"year": int(year), "share_students_pl": g["students_pl"].sum() / max(1, g["students"].sum()),
                         "target_share": target, "students": int(g["students"].sum()),
                         "students_pl": int(g["students_pl"].sum()),
                         "share_students_in_pl_schools": g["students_in_pl_schools"].sum() / max(1, g["students"].sum()),
                         "schools": int(g["schools"].sum()),
                         "schools_pl": int(g["schools_pilot"].sum() + g["schools_schoolwide"].sum()),
                         "schools_pilot": int(g["schools_pilot"].sum()),
                         "schools_schoolwide": int(g["schools_schoolwide"].sum()),
                         "converted": int(g["converted"].sum()), "dropped": int(g["dropped"].sum()),
                         "codified": int(g["codified"].sum()),
                         "gate_closed": bool(g["gate_closed"].any()), "proven": bool(g["proven"].any())})
        return pd.DataFrame(rows)

    @property
    def costs(self) -> pd.DataFrame:
        """What each school cost each year: year, district, school_id, category (licences, devices,
        tutors, data_systems, central_team, planning_time, pd, coaches, launch), payer (district or a
        funder), one_off and amount (US$)."""
        return with_refs(cost_frame(self._core), self._identifiers)

    def cost_effectiveness(self) -> dict:
        """Costs and what they bought (plsim.money.cost_effectiveness): cost_total, students_reached,
        cost_per_student_reached, effect_math_sd and effect_reading_sd on the PL cohort, cost_per_sd,
        sd_per_100, lays_per_100, learning_per_1000, Kraft's classes and the same by subgroup. Effects
        need the counterfactual twin (NaN without it)."""
        students = self.rollout_by_year["students"].mean() if not self.rollout_by_year.empty else np.nan
        return cost_effectiveness(self.costs, self.subgroups, self.counts["students_reached"], students)

    def responses(self, arm: str = "policy") -> pd.DataFrame:
        """The logged practice responses (Sim(..., responses=share)) of one arm ("policy" or
        "counterfactual"): student (stable id), skill ("math-137": subject and knowledge-map unit),
        subject, unit, year, week and correct, one row per opportunity in time order: a log for
        plsim.bkt.fit, in the format of the real ones."""
        core = self._core if arm == "policy" else self._require_twin("responses") if arm == "counterfactual" else None
        if core is None:
            raise ValueError(f"arm: expected 'policy' or 'counterfactual' (got {arm!r})")
        raw = years_from_1(core.responses)
        subject = np.array(["math", "reading"])[raw["subject"]]
        return pd.DataFrame({"student": raw["student"], "skill": pd.Series(subject).str.cat(raw["unit"].astype(str), sep="-"),
                             "subject": subject, "unit": raw["unit"], "year": raw["year"], "week": raw["week"],
                             "correct": raw["correct"]})

    @property
    def fidelity_by_year(self) -> pd.DataFrame:
        """Delivered fidelity in the classrooms on a PL model: one row per year and school type
        (charter, district) with classrooms, mean and sd of each classroom's delivered share of what its
        model asks."""
        return pd.DataFrame(years_from_1(self._core.fidelity_years), columns=["year", "school_type", "classrooms", "mean", "sd"])

    def study(self, pool: str = "twin") -> pd.DataFrame:
        """A RAND-style evaluation from measured scores only (plsim.study): one row per PL school,
        subject and year with n, estimate_sd, se, p_value and true_effect_sd, matched on grade, FRL
        and prior score against `pool` ("twin": the counterfactual twin's students; "traditional": this
        run's schools at no PL stage)."""
        effects = self.effects if self.has_counterfactual else None
        return with_refs(study_emulate(self._core, self._twin, _schools_frame(self._core), effects, pool),
                         self._identifiers)

    def study_by_prior_quintile(self, pool: str = "twin") -> pd.DataFrame:
        """The emulated study's pooled estimate by prior-achievement quintile (subject, year, quintile,
        n, estimate_sd, se)."""
        if pool == "twin":
            self._require_twin("study_by_prior_quintile")
        return study_by_prior(self._core, self._twin, pool)

    def table(self, name: str, level: str = "school", *, study_pool: str = "twin") -> pd.DataFrame:
        """One of the tables `plsim run --out` writes, named as its file (assessments, subgroups, effects,
        rollout, fidelity, costs, study), at an output level: "school" (as the engine reports them),
        "district" or "national" (plsim.levels: n-weighted means, summed counts, school_sd for the
        spread between schools). Unlike assessments.csv, the assessments keep mean_true_rit; nothing is
        suppressed (plsim.cli.suppress_small_cells does that for the files)."""
        from .levels import KINDS, aggregate, check_level

        check_level(level)
        sources = {"assessments": lambda: self.assessments, "subgroups": lambda: self.subgroups,
                   "effects": lambda: self.effects, "rollout": lambda: self.rollout_by_district,
                   "fidelity": lambda: self.fidelity_by_year, "costs": lambda: self.costs,
                   "study": lambda: self.study(study_pool)}
        if name not in sources:
            raise ValueError(f"name: expected one of {', '.join(KINDS)} (got {name!r})")
        return aggregate(sources[name](), name, level, schools=self.schools if level == "district" else None)

    def student_effects(self, subject: str) -> pd.DataFrame:
        """Each current student's true effect in `subject` (true RIT in this run minus in the twin)."""
        twin = self._require_twin("student_effects")
        a, b = self.students, twin.students
        order_a, order_b = np.argsort(a["id"], kind="stable"), np.argsort(b["id"], kind="stable")
        if not np.array_equal(a["id"][order_a], b["id"][order_b]):
            raise RuntimeError("student_effects: the two runs have different students (different weeks?)")
        effect = self.true_rit(subject)[order_a] - twin.true_rit(subject)[order_b]
        return with_refs(pd.DataFrame({"id": a["id"][order_a], "school_id": a["school"][order_a],
                                       "grade": a["grade"][order_a], "effect_rit": effect}), self._identifiers)

    def summary(self) -> dict:
        """Scenario, seed, threads, counts, timing and headline results, ready for summary.json."""
        counts = self.counts
        seconds = counts.pop("seconds")
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "threads": self._core.threads_used,
            "threads_requested": self.threads,
            "counts": {k: counts[k] for k in ("students", "teachers", "classrooms", "schools", "districts")},
            "years": counts["years_completed"],
            "weeks_simulated": counts["weeks_simulated"],
            "student_weeks": counts["student_weeks"],
            "seconds": seconds,
            "seconds_counterfactual": self._twin.counts["seconds"] if self._twin is not None else None,
            "setup_seconds": self.setup_seconds,
            "setup_seconds_counterfactual": self.setup_seconds_counterfactual,
            "student_weeks_per_second": counts["student_weeks"] / seconds if seconds > 0 else None,
            "finished": self.finished,
            # Every year here and in the tables beside it counts from 1 (earlier runs counted from 0).
            "years_counted_from": 1,
            "counterfactual": self.has_counterfactual,
            "headline": headline(self.assessments),
            "headline_effects": headline_effects(self.effects) if self.has_counterfactual else None,
            "teachers": {"by_year": _records(self.teachers_by_year)},
            # By district only where a district has a rollout plan: a national scenario has 13,000
            # districts, whose rows of zeros made summary.json 35 MB (rollout.csv has them all).
            "rollout": {"by_year": _records(self.rollout_by_year),
                        "by_district": _records(self.rollout_by_district)
                        if any(d.get("rollout") for d in self.scenario.resolved["districts"]) else []},
            "fidelity": {"by_year": _records(self.fidelity_by_year)},
            "costs": cost_tables(self.costs),
            "cost_effectiveness": _json_ready(self.cost_effectiveness()),
        }

    def plot(self):
        """Scores against the norms by grade and year, and the true effects by year on personalized
        schools with their 95% interval over schools (a matplotlib Figure)."""
        from .report import plot_run

        return plot_run(self.assessments, self.effects if self.has_counterfactual else None)

    def _repr_html_(self) -> str:
        from .report import summary_html

        return f"<b>plsim.Sim</b>{summary_html(self.summary())}"

    def __repr__(self) -> str:
        c = self.counts
        return (f"Sim({self.scenario.name!r}, seed={self.seed}, threads={self.threads}, "
                f"students={c['students']}, weeks={c['weeks_simulated']})")


def _json_ready(value):
    """NaN and infinities as None, numpy scalars as Python ones, through dicts and lists."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list:
    """Rows of a DataFrame as JSON-ready dicts: NaN becomes None, numpy scalars Python ones."""
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else v.item() if isinstance(v, np.generic) else v)
                    for k, v in row.items()})
    return out


def _schools_frame(core) -> pd.DataFrame:
    raw = dict(core.schools)
    models = raw.pop("model_names")
    districts = raw.pop("district_names")
    df = pd.DataFrame(raw)
    df.index.name = "school_id"
    df["district"] = pd.Categorical.from_codes(df["district"], districts)
    df["level"] = pd.Categorical.from_codes(df["level"], LEVELS)
    df["type"] = pd.Categorical.from_codes(df["type"], SCHOOL_TYPES)
    df["model"] = pd.Categorical.from_codes(df["model"], models)
    df["pl_stage"] = pd.Categorical.from_codes(df["pl_stage"], PL_STAGES)
    return df
