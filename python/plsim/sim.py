"""A simulation run: the engine's Sim behind a keyword-only, DataFrame-returning interface."""
from __future__ import annotations

import time
import warnings
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core, checkpoint_format
from .extend import Policy, Process, RolloutPlan, policy_models
from .hook_state import HookStateError, decode_hooks, encode_hooks
from .identifiers import REF_COLUMNS, school_identifiers
from .hook_runner import HOOK_STAGES, STAGE_NAMES, HookRunner
from .interrupts import RunInterrupts
from .money import cost_tables
from .progress import progress_bar
from .resources import MemoryLimitError, check_run_memory
from .safe_io import json_ready
from .results import headline, headline_effects
from .run_tables import RunTables, schools_frame
from .scenarios import Scenario, ScenarioLike, _load, python_policy_uses
from .version import __version__

Progress = Union[bool, Callable[[int, int], None]]


def _result(name: str, method: bool = False):
    """Sim's accessor `name` of its result tables (RunTables), with RunTables' documentation."""
    accessor = getattr(RunTables, name)
    if method:
        def call(self, *args, **kwargs):
            return getattr(self.tables, name)(*args, **kwargs)
        call.__name__, call.__doc__ = name, accessor.__doc__
        return call
    return property(lambda self: getattr(self.tables, name), doc=accessor.__doc__)


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
        self._identifiers = school_identifiers(scenario.document, self._core.counts["schools"])
        self._hooks = HookRunner(self.policies, self.processes, self.rollout_plans, self._identifiers)
        self.tables = RunTables(self._core, self._twin, self._identifiers)
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
        self._hooks.check_resumable("run", rerun_interrupted_hook)
        if until_year is not None and (not isinstance(until_year, (int, np.integer)) or isinstance(until_year, bool)
                                       or not 0 <= until_year <= self.scenario.years):
            raise ValueError(f"until_year: expected a year count from 0 to the scenario's {self.scenario.years} "
                             f"(got {until_year!r})")
        until = self.scenario.years if until_year is None else int(until_year)
        total = self.scenario.years * self._core.weeks_per_year * len(self._arms())
        if progress is True:
            bar = progress_bar(total=total, unit="week")

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
        taken = set(schools_frame(self._core).columns) | {"school_id"}
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
                self._hooks.week(arms)
                if report is not None:
                    report(sum(core.counts["weeks_simulated"] for _, core in arms), total)

    def save(self, path, *, extra: Optional[dict] = None):
        """Write a checkpoint of the whole run to `path` (plsim.checkpoint): continue it with
        `plsim.load(path).run()`, here or in another process, with the same results as if it had never
        stopped. `extra` (JSON-ready) is saved with it."""
        return checkpoint_format.write_atomically(path, self._to_checkpoint(extra))

    def _to_checkpoint(self, extra: Optional[dict] = None) -> bytes:
        """The whole run as checkpoint bytes (plsim.checkpoint_format): the scenario, each arm's engine
        state, the hooks as data and how far their stage got; `extra` (JSON-ready) travels with it.
        Raises CheckpointError naming the hook and attribute when a hook's state cannot be stored."""
        try:
            hooks = encode_hooks({"policies": self.policies, "processes": self.processes,
                                  "rollout_plans": self.rollout_plans})
        except HookStateError as error:
            raise checkpoint_format.CheckpointError(f"checkpoint: the run's hook {error}") from None
        manifest = {"plsim_version": __version__,
                    "scenario": {"document": self.scenario.document, "source": self.scenario.source},
                    "threads": self._threads_requested, "counterfactual": self.has_counterfactual, "hooks": hooks,
                    "hooks_done": {arm: list(done) for arm, done in self._hooks.done.items()},
                    "hook_times": self._hooks.times, "arms_done_this_week": sorted(self._hooks.arms_done_this_week),
                    "interrupted_hook": self._hooks.interrupted, "extra": extra or {}}
        return checkpoint_format.pack(manifest, [(arm, core.save_state()) for arm, core in self._arms()])

    @classmethod
    def _from_checkpoint(cls, data: bytes, where: str, *, max_memory: Optional[int] = None) -> tuple:
        """The Sim of checkpoint bytes, ready to continue, and the `extra` saved with it. Runs no code the
        bytes choose; raises CheckpointError (one line, naming `where`) for any bad content."""
        error_type = checkpoint_format.CheckpointError
        manifest, states = checkpoint_format.unpack(data, where)
        if manifest["plsim_version"] != __version__:
            warnings.warn(f"{where}: written by plsim {manifest['plsim_version']}, continued by plsim {__version__}: "
                          f"the rest of the run follows this version's model", stacklevel=4)
        try:
            hooks = decode_hooks(manifest["hooks"])
            scenario = Scenario(manifest["scenario"]["document"], manifest["scenario"]["source"])
            sim = cls._restored(scenario, threads=manifest["threads"], counterfactual=manifest["counterfactual"],
                                max_memory=max_memory, **hooks)
        except (HookStateError, MemoryLimitError) as error:
            raise error_type(f"{where}: {error}") from None
        except _core.ScenarioError as error:
            raise error_type(f"{where}: its scenario is not valid here ({getattr(error, 'errors', [error])[0]})") from None
        except ValueError as error:  # a policy the scenario does not name, and the like
            raise error_type(f"{where}: its hooks do not fit its scenario ({error})") from None
        for arm, core in sim._arms():  # (each arm's responses_share travels in its state)
            if arm not in states:
                raise error_type(f"{where}: the {arm} run has no saved state")
            try:
                core.restore_state(states[arm])
            except error_type as error:
                raise error_type(f"{where}: the {arm} run: {error}") from None
        for arm, (index, count) in manifest["hooks_done"].items():
            hooks_there = len(sim._hooks.hooks_of(STAGE_NAMES[index], arm)) if STAGE_NAMES[index] in HOOK_STAGES else -1
            if count > hooks_there:
                raise error_type(f"{where}: bad checkpoint manifest: /hooks_done/{arm}: not a hook stage with "
                                 f"{count} hooks done")
        sim._hooks.done = {arm: tuple(done) for arm, done in manifest["hooks_done"].items()}
        sim._hooks.times = {stage: list(times) for stage, times in manifest["hook_times"].items()}
        sim._hooks.arms_done_this_week = set(manifest["arms_done_this_week"])
        sim._hooks.interrupted = manifest["interrupted_hook"]
        return sim, manifest["extra"]

    @classmethod
    def _from_pickle(cls, data: bytes) -> "Sim":
        return cls._from_checkpoint(data, "pickled Sim")[0]

    def __reduce__(self):
        # Pickling (Dask, multiprocessing) goes through the checkpoint bytes.
        return Sim._from_pickle, (self._to_checkpoint(),)

    def __copy__(self):
        return Sim._from_pickle(self._to_checkpoint())

    def __deepcopy__(self, memo):
        return self.__copy__()

    @property
    def years_completed(self) -> int:
        """School years completed by every arm."""
        return min(core.years_completed for _, core in self._arms())

    def step(self, *, rerun_interrupted_hook: bool = False) -> bool:
        """Run one week (of every arm, with the hooks); False once the run is finished."""
        self._hooks.check_resumable("step", rerun_interrupted_hook)
        if not self.finished:
            self._hooks.week(self._arms())
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
        for stage, (c, w) in self._hooks.times.items():
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
    def students(self) -> Mapping[str, np.ndarray]:
        """Zero-copy, read-only numpy views of the student columns, sorted by school, grade and
        classroom. The views stay valid for the life of the Sim but describe the population of the
        current year: read them again after a year transition."""
        return MappingProxyType(self._core.students)

    def true_rit(self, subject: str) -> np.ndarray:
        """Each student's scale score of true knowledge in `subject` (no test error)."""
        return self._core.true_rit(subject)

    @property
    def has_counterfactual(self) -> bool:
        return self._twin is not None

    def _require_twin(self, what: str):
        if self._twin is None:
            raise RuntimeError(f"{what}: this Sim has no counterfactual twin; create it with counterfactual=True")
        return self._twin

    @property
    def responses_share(self) -> float:
        """The share of students whose practice is logged (Sim(..., responses=share))."""
        return self._core.responses_share

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
            "cost_effectiveness": json_ready(self.cost_effectiveness()),
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


def _records(frame: pd.DataFrame) -> list:
    """Rows of a DataFrame as JSON-ready dicts: NaN becomes None, numpy scalars Python ones."""
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else v.item() if isinstance(v, np.generic) else v)
                    for k, v in row.items()})
    return out


# A Sim shows every accessor of its result tables (plsim.run_tables.RunTables, also as sim.tables) under
# the same name, documented as there: sim.assessments, sim.effects, sim.table(name, level), ...
for _name, _member in vars(RunTables).items():
    if not _name.startswith("_"):
        setattr(Sim, _name, _result(_name, method=not isinstance(_member, property)))
