"""How a run's Python hooks run: the hook stages of each week in the engine's schedule order, each
hook's writes checked (and undone when it raises), Ctrl-C held until a hook returns, and where an
unfinished hook stage stands, so that a stopped run resumes exactly there (and checkpoints save it)."""
from __future__ import annotations

import time
from typing import Optional

from . import _core
from .extend import HookContext, Policy, YearView, apply_policy_minutes, apply_rollout_order, hook_name
from .interrupts import HeldInterrupt
from .run_tables import schools_table

STAGE_NAMES = [stage["stage"] for stage in _core.schedule()]
# The hook stages of the schedule and the Process method each calls (policies: Policy.minutes).
HOOK_METHODS = {"python_processes": "on_week", "python_year_end": "on_year_end"}
HOOK_STAGES = ("python_policies", "python_rollout", *HOOK_METHODS)


class HookRunner:
    """The Python hooks of one run (policies, processes, rollout plans) and how far they got: `done`
    (arm -> (hook stage index, hooks of it done), while a stage is unfinished), `times` (hook stage ->
    [cpu seconds, wall seconds]), `interrupted` (a hook interrupted itself by a second Ctrl-C) and
    `arms_done_this_week` (arms past the week in progress: a stopped run resumes the others). Hooks'
    ctx.schools is the table sim.schools shows, the district's own ids (`identifiers`) included."""

    def __init__(self, policies, processes, rollout_plans, identifiers=None):
        self.policies, self.processes, self.rollout_plans = policies, processes, rollout_plans
        self.identifiers = identifiers  # the district's own school ids, names and attributes (or None)
        self.done: dict = {}
        self.times: dict = {}
        self.interrupted: Optional[str] = None
        self.arms_done_this_week: set = set()
        self.year_views: dict = {}

    def week(self, arms) -> None:
        """One week of every unfinished arm: the engine runs the schedule and stops at each hook stage,
        where the Python hooks of that stage run.

        A hook that raises (an error, Ctrl-C) leaves its arm at that hook stage with the hooks before it
        done, so run() resumes exactly there: the hook that raised runs again, the others do not; an arm
        that already finished this week waits for the others, so hooks run in the same order as in a run
        never stopped (hooks that share state across arms see the same sequence of calls)."""
        for arm, core in arms:
            if core.finished or arm in self.arms_done_this_week:
                continue
            while (index := core.run_to_hook()) >= 0:
                self.run_hooks(index, arm, core)
                core.complete_hook()
            self.arms_done_this_week.add(arm)
        self.arms_done_this_week.clear()

    def hooks_of(self, stage: str, arm: str) -> list:
        if stage == "python_policies":
            return [(policy, "minutes") for policy in self.policies] if arm == "policy" else []
        if stage == "python_rollout":
            return [(plan, "order") for plan in self.rollout_plans] if arm == "policy" else []
        method = HOOK_METHODS[stage]
        return [(process, method) for process in self.processes]

    def run_hooks(self, index: int, arm: str, core) -> None:
        stage = STAGE_NAMES[index]
        hooks = self.hooks_of(stage, arm)
        done_index, done = self.done.get(arm, (index, 0))
        for k in range(done if done_index == index else 0, len(hooks)):
            hook, method = hooks[k]
            cpu, wall = time.process_time(), time.perf_counter()
            if method == "minutes":
                interrupted = self._policy_hook(hook, core)
            elif method == "order":
                ctx = self._context(core, arm, hook)
                interrupted = self._call(hook, method, ctx, lambda: apply_rollout_order(hook, ctx, core))
            else:
                ctx = self._context(core, arm, hook)
                interrupted = self._call(hook, method, ctx, lambda: getattr(hook, method)(ctx))
            times = self.times.setdefault(stage, [0.0, 0.0])
            times[0] += time.process_time() - cpu
            times[1] += time.perf_counter() - wall
            self.done[arm] = (index, k + 1)
            if interrupted:  # the Ctrl-C held while the hook ran: stop here, between two hooks
                raise KeyboardInterrupt
        self.done.pop(arm, None)

    def _policy_hook(self, policy: Policy, core) -> bool:
        ctx = self._context(core, "policy", policy)
        minutes = core.python_policy_minutes
        return self._call(policy, "minutes", ctx, lambda: apply_policy_minutes(policy, ctx, minutes))

    def _context(self, core, arm: str, hook) -> HookContext:
        view = self.year_views.get(arm)
        if view is None or view.year != core.year:
            view = self.year_views[arm] = YearView(core, lambda: schools_table(core, self.identifiers))
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
                self.interrupted = f"{label} ({ctx.arm} run, year {ctx.year}, week {ctx.week + 1})"
            if isinstance(error, Exception):
                error.add_note(f"plsim: raised by {label} in the {ctx.arm} run, year {ctx.year}, week "
                               f"{ctx.week + 1}; the run stopped there (run() resumes it)")
            raise
        return held.pending

    def check_resumable(self, method: str, rerun_interrupted_hook: bool) -> None:
        if self.interrupted and not rerun_interrupted_hook:
            raise RuntimeError(f"{method}: {self.interrupted} was interrupted while it ran (a second Ctrl-C); "
                               f"its writes to the engine were undone, but what it changed in its own state may not "
                               f"have been, so resuming could differ from an uninterrupted run. Resume from a "
                               f"checkpoint, or pass {method}(rerun_interrupted_hook=True) to run the hook again")
        self.interrupted = None
