"""The engine's weekly learning written again in vectorised numpy: a side-by-side check of the mechanics
and a yardstick for the engine's speed.

Usage:

    .venv/bin/python bench/numpy_reference.py [--scenario NAME_OR_PATH] [--students N] [--weeks W]
        [--threads T] [--repeats R] [--break MECHANISM] [--jitter REL] [--evaluation auto|libm|fast]
        [--json FILE]

Builds a plsim.Sim of the scenario (default district_station_rotation, the engine's benchmark scenario;
one year, no counterfactual twin, review and forgetting off (the reference mirrors the weekly path
without them; see DYNAMICS_OFF); `--students N` scales its school counts to about N students) and
copies the columns the learning reads: those it writes (knowledge, engagement, autonomy, group targets,
pacing guides) right after set-up, the others (teachers' capacity, classrooms' models, schools'
fidelity...) after week 0, whose first stages (rollout, practice) set them and whose learning never
writes them; Python has no stop between practice and learning. Then it runs

* the engine for `--weeks` weeks (default: the school year, stopping before the year transition) on
  `--threads` threads (default 2), timed by the engine's own clock (`counts["seconds"]`: the wall time
  of its stages, set-up excluded, as plsim_bench measures it; the learning stage alone is reported too).
  The assessments of those weeks write only scores (score, baseline_z, start_quintile, classroom z sums),
  which the learning never reads;
* this reference for the same weeks from the copied state, timed by wall clock (its per-year set-up
  included), on one thread as numpy runs.

The reference is `LearningProcess::run_classroom` (engine/src/modules/learning.cpp) over whole columns,
one slice of students per instructional model: delivered fidelity, regrouping of small groups, the
mismatch kernel, the saturating BKT hazard, mastery / seat-time / on-demand-test progression, gaps and
the recent-gap window, gap repair, engagement, autonomy reviews and the pacing guide. Its random numbers
are the engine's: Philox4x32-10 of (seed, stream 7, student id, week, slot), checked against Random123's
known answers and against the engine's own generator. Its arithmetic is float32 in the engine's order, and
it evaluates exp, log and the kernel as the installed engine does ("libm": the kernel tabulated at 1/8
unit, 32-bit uniforms; "fast": engine/include/plsim/fast_math.hpp), chosen by which one reproduces the
engine's week 0; so the two differ only where a last-bit rounding tips a threshold.

Agreement, per subject, of frontier advance over the weeks and of gaps at the end (exit status 1, and
what disagreed printed, when any is outside its tolerance):

* share of students with the identical value             at least 0.999
* mean and SD (units)                                     within 0.01
* 10th, 50th and 90th percentiles (units)                within 0.5
* the classrooms' pacing guides                           identical

On tests/python/test_numpy_reference.py's population (one school per built-in model), a mechanism
switched off in the reference (`--break gap_penalty`, mismatch_kernel, gap_repair, regrouping or
engagement) leaves at most 93% of the students identical and moves a mean by 0.05 to 1.9 units; in
district_station_rotation a broken regrouping (a sixth of the students regroup) still leaves only 98.4-98.9%
identical. Exp and log off by a relative 1e-6 or 1e-5 (`--jitter`) change no student, 1e-4 one in 1,000.
Schools on Python-policy models are not supported.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

import plsim
from plsim import _core

F = np.float32
SUBJECTS = list(_core.names["subjects"])
MODES = list(_core.names["modes"])
ELEMENTS = list(_core.names["elements"])
WC, SG, SW, CO, TU = (MODES.index(m) for m in
                      ("whole_class", "small_group", "adaptive_software", "collaborative", "tutoring"))
PROFILES, PATHS, PROGRESSION, FLEXIBLE = (ELEMENTS.index(e) for e in
                                          ("learner_profiles", "learning_paths", "competency_progression",
                                           "flexible_environment"))
WEEKLY_LEARNING = 7  # Stream::weekly_learning (engine/include/plsim/rng.hpp)
BROKEN = ("gap_penalty", "mismatch_kernel", "gap_repair", "regrouping", "engagement")
# How the engine evaluates its functions: "libm" (the kernel tabulated at 1/8 unit, uniforms from all 32
# bits of a word, glibc's logf and cosf) or "fast" (engine/include/plsim/fast_math.hpp: the kernel's
# exponential evaluated, 23-bit uniforms, polynomial log and sin/cos).
EVALUATIONS = ("libm", "fast")
TOLERANCES = {"identical_share_min": 0.999, "mean_abs": 0.01, "sd_abs": 0.01, "quantile_abs": 0.5}
QUANTILES = (0.1, 0.5, 0.9)

# ---------------------------------------------------------------------------------------------------
# Philox4x32-10 (Random123), vectorised: uint64 products give mulhi and mullo of 32-bit words.
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LO32, _S32 = np.uint64(0xFFFFFFFF), np.uint64(32)


def philox4x32_10(c0, c1, c2, c3, k0: int, k1: int):
    """The four output words (uint64 arrays or scalars) of counter (c0..c3) under key (k0, k1).
    Counter words that are scalars stay scalars as long as the rounds allow, so a counter that varies
    only in one word costs eight rounds of array work, not ten."""
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in (c0, c1, c2, c3))
    for r in range(10):
        if r:
            k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
        p0, p1 = c0 * _M0, c2 * _M1
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ np.uint64(k0), p1 & _LO32, (p0 >> _S32) ^ c3 ^ np.uint64(k1), p0 & _LO32
    return c0, c1, c2, c3


# Random123's known answers for philox4x32_10 (counter, key -> output; the last is its "pi" vector), also
# reproduced by a g++ program on Debian's Random123 1.14 headers.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def check_philox() -> None:
    for ctr, key, want in PHILOX_KAT:
        got = tuple(int(w) for w in philox4x32_10(*ctr, *key))
        if got != want:
            raise AssertionError(f"Philox4x32-10 of {ctr}, {key}: {got} (Random123: {want})")


def uniform01(word) -> np.ndarray:
    """rng.hpp uniform01, in double, then as the float the engine keeps."""
    return ((word.astype(np.float64) + 0.5) * 2.0 ** -32).astype(F)


def uniform01_fast(word) -> np.ndarray:
    """fast_math.hpp uniform01: the word's top 23 bits and half a step, exact in a float."""
    return ((word >> np.uint64(9)).astype(F) + F(0.5)) * F(2.0 ** -23)


def normal_pair(a, b, evaluation: str = "libm", jitter=lambda x: x):
    """standard_normal_pair: float Box-Muller, the cosine then the sine. log, cos and sin in double
    rounded to float, the closest numpy gets to glibc's logf, cosf, sinf or to fast_math.hpp's."""
    u = uniform01 if evaluation == "libm" else uniform01_fast
    r = np.sqrt(F(-2.0) * jitter(np.log(u(a).astype(np.float64)).astype(F)))
    # libm: cosf of the float 2 pi u; fast: sin and cos of u turns
    angle = (F(6.2831853) * u(b)).astype(np.float64) if evaluation == "libm" else u(b).astype(np.float64) * (2 * np.pi)
    return r * np.cos(angle).astype(F), r * np.sin(angle).astype(F)


def hook_stream(name: str) -> int:
    """bind_sim.cpp hook_stream: FNV-1a of a hook stream's name, in the upper half of the streams."""
    h = 2166136261
    for c in name.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h | 0x80000000


def check_philox_against_engine(sim) -> None:
    """The engine's own draws for the current week (Sim uniforms of a hook stream) must be ours."""
    st = sim._core.students
    tick = sim._core.year * 64 + sim._core.week
    seed = sim.seed
    words = philox4x32_10(hook_stream("numpy_reference"), st["id"], tick, 0, seed & 0xFFFFFFFF, seed >> 32)[0]
    ours = (words.astype(np.float64) + 0.5) * 2.0 ** -32
    if not np.array_equal(ours, sim._core.uniforms("numpy_reference")):
        raise AssertionError("Philox4x32-10: the reference's draws differ from the engine's")


# ---------------------------------------------------------------------------------------------------
# The engine's columns. Students come from the Sim's numpy views; classrooms (no Python view), teachers
# and schools from the run-state bytes (run_state.cpp: name, count, raw values per column).
_FIXED_DTYPES = {
    **{f"classrooms.{n}": np.uint32 for n in ("begin", "end", "school", "teacher", "instructional_model",
                                               "n_measured")},
    "classrooms.id": np.uint64, "classrooms.grade": np.uint8,
    **{f"classrooms.{s}_{n}": np.float32 for s in SUBJECTS for n in ("pacing_unit", "fall_z", "spring_z")},
    "schools.grade_lo": np.uint8, "schools.grade_hi": np.uint8, "schools.class_size": np.uint16,
    "schools.grade_enrollment": np.uint32, "schools.achievement_shift": np.float32,
    "schools.growth_multiplier": np.float32, "schools.feeder_next": np.int32, "schools.class_begin": np.uint32,
    "schools.class_end": np.uint32, "schools.teachers_hired": np.uint32, "schools.first_entrant_id": np.uint32,
    "schools.entrants": np.uint32, "schools.coached_last_year": np.uint8,
    **{f"schools.{n}_{k}": np.float32 for n in ("fidelity", "conditions") for k in range(len(ELEMENTS))},
}
_RUN_STATE_VERSION = 5  # the engine's run_state_version (plsim/run_state.hpp)
_FIRST_COLUMN = 8 + 4 + 48  # magic, version, the model's fingerprint


def state_columns(sim) -> dict:
    """Copies of every student, classroom, teacher and school column of the run, by "table.name"."""
    core = sim._core
    dtypes = dict(_FIXED_DTYPES)
    dtypes.update({f"students.{k}": v.dtype for k, v in core.students.items()})
    dtypes.update({f"teachers.{k}": v.dtype for k, v in core.teachers.items()})
    dtypes.update({f"schools.{k}": v.dtype for k, v in core.school_columns.items()})
    raw = core.save_state()
    if raw[:8] != b"PLSIMRUN" or int(np.frombuffer(raw, "<u4", 1, 8)[0]) != _RUN_STATE_VERSION:
        raise RuntimeError(f"run state: not version {_RUN_STATE_VERSION} of the engine's layout "
                           f"(update bench/numpy_reference.py)")
    out, pos = {}, _FIRST_COLUMN
    while True:
        length = int(np.frombuffer(raw, "<u8", 1, pos)[0])
        name = raw[pos + 8:pos + 8 + length].decode()
        if not name.startswith(("students.", "classrooms.", "teachers.", "schools.")):
            return out
        count = int(np.frombuffer(raw, "<u8", 1, pos + 8 + length)[0])
        start = pos + 16 + length
        if name not in dtypes:
            raise RuntimeError(f"run state: column {name} of an unknown type (update bench/numpy_reference.py)")
        dtype = np.dtype(dtypes[name])
        out[name] = np.frombuffer(raw, dtype, count, start).copy()
        pos = start + count * dtype.itemsize


# Student and classroom columns the learning writes: taken right after set-up, since no stage before
# week 0's learning writes them. The others it only reads: taken after week 0, since week 0's first
# stages (rollout, practice: teachers' capacity, classrooms' models) set them and learning never does.
LEARNING_WRITES = ("engagement", "autonomy") + tuple(
    f"{s}_{n}" for s in SUBJECTS for n in ("frontier", "gaps", "recent_gaps", "p_known", "group_target"))
PACING = tuple(f"classrooms.{s}_pacing_unit" for s in SUBJECTS)
STUDENT_TRAITS = ("id", "school", "classroom", "grade", "frl", "self_regulation", "attendance") + tuple(
    f"{s}_learning_rate" for s in SUBJECTS)


def starting_state(before: dict, after_week0: dict) -> dict:
    """The state as week 0's learning found it, from copies taken before and after week 0."""
    for name in STUDENT_TRAITS:  # the same students in the same order
        if not np.array_equal(before[f"students.{name}"], after_week0[f"students.{name}"]):
            raise RuntimeError(f"students.{name} changed in week 0 outside learning")
    state = dict(after_week0)
    for name in LEARNING_WRITES:
        state[f"students.{name}"] = before[f"students.{name}"]
    for name in PACING:
        state[name] = before[name]
    return state


# ---------------------------------------------------------------------------------------------------
# Parameters and instructional plans (instruction.cpp make_plans), from the resolved scenario.
def mode_weights(minutes, L) -> np.ndarray:
    eff = [L["mode_efficiency"][m] for m in MODES]
    return np.array([minutes[k] * eff[k] / L["minutes_per_opportunity"] for k in range(len(MODES))], F)


def time_shares(minutes) -> np.ndarray:
    """collaborative, contact (small group and tutoring), software shares of the minutes."""
    total = 0.0
    for m in minutes:
        total += m
    if total <= 0:
        return np.zeros(3, F)
    return np.array([minutes[CO] / total, (minutes[SG] + minutes[TU]) / total, minutes[SW] / total], F)


class Plan:
    def __init__(self, name: str, m: dict, L: dict):
        if m["python_policy"]:
            raise SystemExit(f"numpy_reference: model {name!r} is a Python policy (not supported)")
        self.name = name
        minutes = [float(m["minutes"][k]) for k in MODES]
        top = [float(m["top_level_minutes"][k]) for k in MODES]
        levels = m["autonomy_levels"] >= 2
        self.weight = mode_weights(minutes, L)
        self.top_weight = mode_weights(top, L) if levels else self.weight
        self.shares = time_shares(minutes)
        self.top_shares = time_shares(top) if levels else self.shares
        self.mastery = m["progression"] == "mastery"
        self.small_groups = int(m["small_groups"])
        self.regroup_weeks = int(m["regroup_weeks"])
        self.asks = np.array([m["asks"][e] for e in ELEMENTS], F)
        self.change = F(sum(float(m["asks"][e]) for e in ELEMENTS) / len(ELEMENTS))  # make_plans' plan.change
        self.choice, self.check_ins, self.open_space = F(m["choice"]), F(m["check_ins"]), F(m["open_space"])
        self.test_out = bool(m["test_out"])
        self.autonomy_levels = int(m["autonomy_levels"]) if levels else 0
        uses = [minutes[k] > 0 or (levels and top[k] > 0) for k in range(len(MODES))]
        self.uses_small_groups = uses[SG]
        self.targeted = uses[SG] or uses[SW] or uses[TU]
        self.modes_used = sum(uses)
        self.tutors = minutes[TU] > 0 or top[TU] > 0


def pacing_per_week(params: dict) -> np.ndarray:
    """model.cpp: each grade's norm growth from the fall to the spring test, per taught week."""
    norms = json.loads(_core.norms_json())
    weeks = params["assessment"]["weeks"]
    taught = float(weeks["spring"] - weeks["fall"])
    rit = params["learning"]["rit_per_unit"]
    return np.array([[(norms[s]["spring"][str(g)]["mean"] - norms[s]["fall"][str(g)]["mean"]) / rit / taught
                      for g in range(13)] for s in SUBJECTS], np.float64)


def kernel_table(L: dict, broken: frozenset) -> np.ndarray:
    """instruction.cpp MismatchKernel before fast_math.hpp: K at every 1/8 unit over +-128 units."""
    d = (np.arange(2 * 1024 + 1) - 1024) / 8.0
    k = np.where(d < 0, np.exp(d / L["mismatch_width_behind"]),
                 L["ahead_floor"] + (1 - L["ahead_floor"]) * np.exp(-d / L["mismatch_width_ahead"]))
    return np.ones_like(k, F) if "mismatch_kernel" in broken else k.astype(F)


_POPCOUNT16 = sum(((np.arange(1 << 16) >> b) & 1) for b in range(16)).astype(np.uint8)


def pick(condition: np.ndarray, a, b):
    """a where condition, else b: exact for finite values (a * 1 + b * 0 is a), and ten times faster
    than np.where, whose branches mispredict on random masks."""
    return a * condition + b * ~condition


# ---------------------------------------------------------------------------------------------------
class ModelSlice:
    """The students of the classrooms on one instructional model: a contiguous slice of the reference's
    student order, with the classroom constants of ClassroomWeek spread over its students once a year
    (fidelity, rates, errors and the rest change only between years)."""

    def __init__(self, ref: "Reference", plan: Plan, classrooms: np.ndarray, lo: int, hi: int):
        self.plan, self.lo, self.hi, self.n = plan, lo, hi, hi - lo
        P, L, st = ref.P, ref.L, ref.state
        self.classrooms = classrooms
        self.sizes = (st["classrooms.end"][classrooms] - st["classrooms.begin"][classrooms]).astype(np.intp)
        self.local = np.repeat(np.arange(len(classrooms)), self.sizes)  # classroom of each student, 0..
        self.classroom = classrooms[self.local]  # the same, as a classroom index of the state
        if not np.array_equal(st["students.classroom"][ref.order][lo:hi], self.classroom):
            raise RuntimeError("classroom ranges and students.classroom disagree")

        # ClassroomWeek's constants, per classroom (float32 in the engine's order).
        school = st["classrooms.school"][classrooms]
        teacher = st["classrooms.teacher"][classrooms]
        grade = st["classrooms.grade"][classrooms]
        year = np.clip(st["schools.implementation_year"][school].astype(int), 1, 3)
        year_fidelity = np.array(P["implementation_year_fidelity"], F)[year - 1]
        fid = []
        for k in range(len(ELEMENTS)):
            capacity = st[f"schools.fidelity_{k}"][school] * st[f"schools.conditions_{k}"][school] * \
                st["teachers.capacity"][teacher] * year_fidelity
            fid.append(F(1) - plan.asks[k] * (F(1) - np.minimum(F(1), capacity)))
        f_profiles, f_flexible = fid[PROFILES], fid[FLEXIBLE]
        matched = fid[PATHS]
        f_progression = fid[PROGRESSION]
        hold = f_progression if plan.mastery else np.zeros_like(f_progression)
        profile_error = F(1) + F(P["estimate_error_scale"]) * (F(1) - f_profiles)
        check_in = plan.check_ins * f_flexible
        noise = plan.open_space * (F(1) - F(P["open_space_noise_reduction"]) * f_flexible)
        quiet = F(1) - F(P["noise_penalty"]) * noise
        managed = (F(1) - F(P["transition_overhead"]) * F(plan.modes_used - 1) * (F(1) - f_flexible)
                   if plan.modes_used > 1 else np.ones_like(f_flexible))
        # lround of a float: exact in double
        self.regroup_weeks = np.maximum(1, np.floor((F(plan.regroup_weeks) * (F(2) - f_flexible)).astype(np.float64)
                                                    + 0.5).astype(int))
        self.guess = np.minimum(F(0.5), F(P["test_guess"]) * (F(2) - f_profiles))
        self.slip = np.minimum(F(0.5), F(P["test_slip"]) * (F(2) - f_profiles))
        self.group_error = F(L["small_group_estimate_error"]) * profile_error
        class_rate = F(L["learn_rate"]) * st["teachers.effectiveness"][teacher] * \
            st["schools.growth_multiplier"][school] * quiet * managed
        software_error = F(L["software_estimate_error"]) * profile_error
        sr_floor = F(L["self_regulation_floor"])
        check_in_lift = check_in * F(P["check_in_recovery"]) * (F(1) - sr_floor)
        self.engagement_base = F(L["engagement_baseline"]) - F(P["engagement_noise"]) * noise
        self.top_level = max(1, plan.autonomy_levels - 1)
        self.repair_share = F(L["gap_repair_share"]) if plan.targeted and "gap_repair" not in ref.broken else F(0)
        self.second_draw = plan.test_out or bool((hold > 0).any())

        # ... spread over the students.
        at = self.local
        s0 = slice(lo, hi)
        self.matched = matched[at]
        self.hold, self.f_progression = hold[at], f_progression[at]
        self.guess_s, self.slip_s = self.guess[at], self.slip[at]
        self.check_in = check_in[at]
        self.software_error = software_error[at]
        self.rate_lr = [(class_rate * np.array(L["grade_pace"][s], F)[grade])[at] * ref.learning_rate[k][s0]
                        for k, s in enumerate(SUBJECTS)]
        sr = ref.self_regulation[s0]
        # software minutes count as far as the student works alone (the factor of w[software])
        # Targeted time while the classroom is new to its model (the lesser familiarity of school and
        # teacher) and tutoring at its district's programme size: ClassroomWeek's routine and tutoring.
        familiar = np.clip(np.minimum(st["schools.implementation_year"][school].astype(int),
                                      st["teachers.years_on_model"][teacher].astype(int) + 1), 1, 3)
        routine = F(1) - plan.change * np.array(P["implementation_dip"], F)[familiar - 1]
        tutoring = ref.tutoring_quality[st["schools.district"][school]]
        self.routine = routine[at]
        self.routine_tutoring = (routine * tutoring)[at]
        self.alone = ((sr_floor + (F(1) - sr_floor) * sr) + check_in_lift[at] * (F(1) - sr)) * self.routine
        self.sr = sr
        self.engagement_base_s = self.engagement_base[at]
        self.set_modes(ref)

    def set_modes(self, ref: "Reference") -> None:
        """student_modes and the parts of student_uptake and update_engagement that change only with
        the autonomy level: scalars for a model without levels, per student with them."""
        plan, P, L = self.plan, ref.P, ref.L
        w, sh, choice = plan.weight, plan.shares, plan.choice
        if plan.autonomy_levels >= 2:
            t = (ref.autonomy[self.lo:self.hi].astype(F) / F(self.top_level))[:, None]
            w = w + t * (plan.top_weight - w)
            sh = sh + t * (plan.top_shares - sh)
            choice = choice * t[:, 0]
            w, sh = list(w.T), list(sh.T)
        else:
            w, sh = list(w), list(sh)
        self.w = w
        self.choice = choice * self.matched
        self.w_class = w[WC] + w[CO]
        self.software_use = w[SW] * self.alone
        self.w_small = w[SG] * self.routine
        self.w_tutoring = w[TU] * self.routine_tutoring
        self.offered = self.w_class + self.w_tutoring + self.w_small + self.software_use
        self.has_offer = (self.offered > 0).astype(F)
        self.offered_safe = np.where(self.offered > 0, self.offered, F(1))
        self.uses_software = bool(np.any(self.software_use > 0))
        self.uses_small_group = bool(np.any(np.asarray(w[SG]) > 0))
        self.target_fixed = ((self.engagement_base_s + F(L["engagement_collaborative_bonus"]) * sh[0]) +
                             F(P["engagement_choice"]) * self.choice) + \
            F(P["engagement_contact"]) * (sh[1] + self.check_in * sh[2])


class Reference:
    """LearningProcess over whole columns, from a copy of the engine's state; `broken` switches
    mechanisms off (to show that the agreement check catches them)."""

    def __init__(self, state: dict, params: dict, models: list, seed: int, broken=(), jitter: float = 0.0,
                 evaluation: str = "libm"):
        self.broken = frozenset(broken)
        unknown = self.broken - set(BROKEN)
        if unknown:
            raise ValueError(f"broken: unknown mechanisms {sorted(unknown)} (known: {', '.join(BROKEN)})")
        if evaluation not in EVALUATIONS:
            raise ValueError(f"evaluation: one of {', '.join(EVALUATIONS)} (got {evaluation!r})")
        self.evaluation = evaluation
        self.uniform = uniform01 if evaluation == "libm" else uniform01_fast
        self.jitter = self._jitter if jitter else (lambda x: x)
        self._signs = np.random.default_rng(0).choice(np.array([-jitter, jitter], F), len(state["students.id"]))
        self.L, self.P = params["learning"], params["personalization"]
        self.plans = [Plan(name, m, self.L) for name, m in models]
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        self.kernel = kernel_table(self.L, self.broken)
        self.inv_width_behind = F(1.0 / self.L["mismatch_width_behind"])
        self.inv_width_ahead = F(1.0 / self.L["mismatch_width_ahead"])
        self.ahead_floor = F(self.L["ahead_floor"])
        self.per_week = pacing_per_week(params)
        L = self.L
        self.gap_penalty = F(0 if "gap_penalty" in self.broken else L["gap_penalty"] / L["prerequisite_window"])
        window = L["prerequisite_window"]
        self.window_mask = np.uint64((1 << 64) - 1 if window >= 64 else (1 << window) - 1)
        self.window_words = (window + 15) // 16
        self.repair_per_hazard = F(L["gap_repair_ease"] / math.log((1 - L["prior"]) / (1 - L["mastery_threshold"])))

        # Students in the order of their classrooms' models (stable: classrooms stay contiguous and in
        # order), so that each model's students are one slice.
        st = self.state = state
        n = len(st["students.id"])
        model_of = st["classrooms.instructional_model"][st["students.classroom"]]
        self.order = np.argsort(model_of, kind="stable")
        take = lambda name: st[f"students.{name}"][self.order].copy()  # noqa: E731
        self.ids = take("id").astype(np.uint64)
        self.frl_factor = np.where(take("frl") != 0, F(L["frl_learning_multiplier"]), F(1))
        self.attendance = take("attendance")
        self.self_regulation = take("self_regulation")
        self.engagement = take("engagement")
        self.autonomy = take("autonomy").astype(np.int32)
        self.learning_rate = [take(f"{s}_learning_rate") for s in SUBJECTS]
        self.frontier = [take(f"{s}_frontier").astype(F) for s in SUBJECTS]  # exact below 2**24
        self.gaps = [take(f"{s}_gaps").astype(np.int32) for s in SUBJECTS]
        self.recent = [take(f"{s}_recent_gaps") for s in SUBJECTS]
        self.p_known = [take(f"{s}_p_known") for s in SUBJECTS]
        self.group_target = [take(f"{s}_group_target") for s in SUBJECTS]
        self.pacing = [st[name].copy() for name in PACING]
        self.grade_c = st["classrooms.grade"]
        # each student's copy of his classroom's pacing guide, advanced by the same float additions
        classroom = st["students.classroom"][self.order]
        self.pace = [p[classroom] for p in self.pacing]
        self.pace_step = [self.per_week[k].astype(F)[self.grade_c] for k in range(len(SUBJECTS))]
        self.pace_step_s = [step[classroom] for step in self.pace_step]
        self.n = n

        models_c = st["classrooms.instructional_model"]
        # Tutoring's quality per district: (students of classrooms whose model tutors / reference)^-elasticity.
        sizes = (st["classrooms.end"] - st["classrooms.begin"]).astype(np.float64)
        tutors = np.array([plan.tutors for plan in self.plans])[models_c]
        district_c = st["schools.district"][st["classrooms.school"]]
        served = np.bincount(district_c, weights=sizes * tutors, minlength=int(st["schools.district"].max()) + 1)
        reference = self.P["tutoring_scale_reference"]
        self.tutoring_quality = np.where(served > reference, np.power(np.maximum(served, 1e-300) / reference,
                                                                      -self.P["tutoring_scale_elasticity"]), 1.0).astype(F)
        bounds = np.searchsorted(model_of[self.order], np.arange(len(self.plans) + 1))
        self.slices = [ModelSlice(self, self.plans[m], np.flatnonzero(models_c == m), int(bounds[m]),
                                  int(bounds[m + 1])) for m in range(len(self.plans)) if bounds[m + 1] > bounds[m]]

    def _jitter(self, x: np.ndarray) -> np.ndarray:
        """x off by a relative 1e-6 or so, up or down: what another exp or log implementation does."""
        return x * (F(1) + self._signs[:len(x)])

    # -- the weekly mechanics -----------------------------------------------------------------------
    def K(self, d: np.ndarray) -> np.ndarray:
        """MismatchKernel::operator(): nearest 1/8 unit of the table, clamped to +-128 units (libm), or
        the exponential itself (fast)."""
        if self.evaluation == "fast":
            if "mismatch_kernel" in self.broken:
                return np.ones_like(d)
            # the engine's d < 0 ? d / behind : -d / ahead, as the smaller of the two
            e = self.jitter(np.exp(np.minimum(d * self.inv_width_behind, -d * self.inv_width_ahead)))
            return pick(d < 0, e, self.ahead_floor + (F(1) - self.ahead_floor) * e)
        t = d * F(8)
        t += F(1024)
        np.maximum(t, F(0), out=t)
        np.minimum(t, F(2048), out=t)
        t += F(0.5)
        return self.kernel.take(t.astype(np.intp))

    def words(self, ids, tick: int, slot: int):
        return philox4x32_10(WEEKLY_LEARNING, ids, tick, slot, *self.key)

    def regroup(self, g: ModelSlice, tick: int, week: int) -> None:
        """Students ranked by a noisy estimate of the frontier within their classroom and split into
        groups taught at the group's mean estimate (learning.cpp regroup), for the classrooms due."""
        due = (week % g.regroup_weeks == 0) & (g.sizes > 0)
        if "regrouping" in self.broken or not due.any():
            return
        cls = np.flatnonzero(due)
        sizes = g.sizes[cls]
        idx = np.flatnonzero(due[g.local])  # their students, classroom by classroom
        local = g.local[idx]
        w = self.words(self.ids[g.lo:g.hi][idx], tick, 2)
        noise = normal_pair(w[0], w[1], self.evaluation, self.jitter)
        error = g.group_error[local]
        # rank within the classroom; group gi of a class of n holds ranks [gi n / G, (gi+1) n / G)
        first = np.repeat(np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        n_of = np.repeat(sizes, sizes)
        groups = np.minimum(g.plan.small_groups, sizes)
        rank = np.arange(len(idx)) - first
        gi = ((rank + 1) * np.repeat(groups, sizes) - 1) // n_of
        group = np.repeat(np.concatenate([[0], np.cumsum(groups)[:-1]]), sizes) + gi  # global group number
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        lengths = np.diff(np.r_[starts, len(group)])
        for s in range(len(SUBJECTS)):
            est = self.frontier[s][g.lo:g.hi][idx] + error * noise[s]
            order = np.lexsort((est, local))  # by classroom, then estimate; ties by position
            sorted_est = est[order]
            # the engine's float sum, in rank order
            total = sorted_est[starts].copy()
            for j in range(1, int(lengths.max())):
                more = lengths > j
                total[more] += sorted_est[starts[more] + j]
            mean = total / lengths.astype(F)
            target = self.group_target[s][g.lo:g.hi]
            target[idx[order]] = np.repeat(mean, lengths)

    def popcount(self, bits: np.ndarray) -> np.ndarray:
        words = bits.view(np.uint16).reshape(-1, 4)
        count = _POPCOUNT16.take(words[:, 0])
        for k in range(1, self.window_words):
            count = count + _POPCOUNT16.take(words[:, k])
        return count

    def run_slice(self, g: ModelSlice, year: int, week: int) -> None:
        """One week of one model's students: run_classroom for all its classrooms at once."""
        plan, L, P = g.plan, self.L, self.P
        tick = year * 64 + week
        lo, hi = g.lo, g.hi
        if plan.uses_small_groups:
            self.regroup(g, tick, week)
        ids = self.ids[lo:hi]
        # slot 0: software estimate errors and gap repair; slot 1: holds and tests (learning.cpp student_draws)
        if plan.targeted:
            r = self.words(ids, tick, 0)
            software_noise = normal_pair(r[0], r[1], self.evaluation, self.jitter)
            repair_draw = (self.uniform(r[2]), self.uniform(r[3]))
        if g.second_draw:
            r = self.words(ids, tick, 1)
            hold_draw = (self.uniform(r[0]), self.uniform(r[1]))
            test_draw = (self.uniform(r[2]), self.uniform(r[3]))
        else:
            hold_draw = (F(1), F(1))

        w = g.w
        engagement = self.engagement[lo:hi]
        student = self.frl_factor[lo:hi] * engagement * F(1.0 / L["engagement_baseline"]) * self.attendance[lo:hi]
        match_sum = None
        threshold, prior = F(L["mastery_threshold"]), F(L["prior"])
        absorption = F(L["absorption_limit"])
        for s in range(len(SUBJECTS)):
            f = self.frontier[s][lo:hi]
            recent = self.recent[s][lo:hi]
            p_known = self.p_known[s][lo:hi]
            pace = self.pace[s][lo:hi]
            prerequisite = recent & self.window_mask
            has_prerequisite_gaps = prerequisite != 0
            student_rate = g.rate_lr[s] * student
            gap_factor = F(1) - self.gap_penalty * self.popcount(prerequisite).astype(F)

            # teaching: whole class at the pace; targeted time at the student as far as paths are delivered
            at_class = self.K(f - pace)
            targeted = fit = g.w_tutoring
            if g.uses_small_group:
                k = g.matched * self.K(f - self.group_target[s][lo:hi]) + (F(1) - g.matched) * at_class
                targeted = targeted + g.w_small * k
                fit = fit + g.w_small * k
            if g.uses_software:
                k = g.matched * self.K(-g.software_error * software_noise[s]) + (F(1) - g.matched) * at_class
                targeted = targeted + g.software_use * F(L["software_subject_efficiency"][SUBJECTS[s]]) * k
                fit = fit + g.software_use * k
            class_part = g.w_class * at_class
            match = (class_part + fit) / g.offered_safe * g.has_offer
            match_sum = match if match_sum is None else match_sum + match

            # the saturating BKT hazard
            if g.repair_share > 0:
                repair = g.repair_share * has_prerequisite_gaps
                offered_hazard = (class_part + targeted * (F(1) - repair)) * student_rate * gap_factor
            elif plan.targeted:
                offered_hazard = (class_part + targeted * F(1)) * student_rate * gap_factor
            else:
                offered_hazard = class_part * student_rate * gap_factor
            hazard = offered_hazard * absorption / (absorption + offered_hazard)
            p = F(1) - (F(1) - p_known) * self.jitter(np.exp(-hazard))

            # progression: mastery, an on-demand test, or seat time
            mastered = p >= threshold
            if plan.test_out:
                asks = ~mastered & (p >= F(P["test_out_threshold"])) & (hold_draw[s] < g.f_progression)
                pass_known = p * (F(1) - g.slip_s)
                passed = asks & (test_draw[s] < pass_known + (F(1) - p) * g.guess_s)
                guessed = passed & (test_draw[s] >= pass_known)
                mastered |= passed & ~guessed
                seat = ~mastered & ~asks & (f + F(L["seat_time_slack"]) < pace) & (hold_draw[s] >= g.hold)
                gap = guessed | seat
            else:
                gap = ~mastered & (f + F(L["seat_time_slack"]) < pace)
                if g.second_draw:
                    gap &= hold_draw[s] >= g.hold
            moved = (mastered | gap) & (f < F(65535))
            gap &= moved
            f += moved
            recent <<= moved.astype(np.uint64)  # a shift by 0 where he stays
            recent |= gap.astype(np.uint64)
            self.gaps[s][lo:hi] += gap
            p_known[...] = pick(moved & ~gap, prior, p)

            # gap repair: targeted time relearns the most recent gap
            if g.repair_share > 0:
                chance = F(1) - self.jitter(np.exp(-targeted * repair * student_rate * self.repair_per_hazard))
                fixed = has_prerequisite_gaps & (recent != 0) & (repair_draw[s] < chance)
                recent &= recent - fixed.astype(np.uint64)  # clears the lowest set bit where fixed
                self.gaps[s][lo:hi] -= fixed

        # engagement toward its target, then (every regrouping) the autonomy levels
        if "engagement" not in self.broken:
            target = g.target_fixed - F(P["engagement_mismatch"]) * (F(1) - match_sum / F(len(SUBJECTS)))
            engagement += F(L["engagement_rate"]) * (target - engagement)
            np.maximum(engagement, F(0), out=engagement)
            np.minimum(engagement, F(1), out=engagement)
        if plan.autonomy_levels >= 2 and week > 0:
            review = (week % g.regroup_weeks == 0)[g.local]
            if review.any():
                level = self.autonomy[lo:hi]
                e64 = engagement.astype(np.float64)  # compared with the double parameters
                needed = F(P["autonomy_self_regulation_base"]) + F(P["autonomy_self_regulation_step"]) * level.astype(F)
                up = review & (e64 >= P["autonomy_engagement"]) & (g.sr >= needed) & (level < g.top_level)
                down = review & ~up & (e64 < P["autonomy_engagement"] - P["autonomy_demotion_margin"]) & (level > 0)
                level += up
                level -= down
                g.set_modes(self)

    def run_week(self, year: int, week: int) -> None:
        for g in self.slices:
            self.run_slice(g, year, week)
        # the pacing guide moves on at its grade's pace
        for s in range(len(SUBJECTS)):
            self.pacing[s] += self.pace_step[s]
            self.pace[s] += self.pace_step_s[s]

    def columns(self) -> dict:
        """The learning's columns in the engine's student order."""
        back = np.empty(self.n, np.intp)
        back[self.order] = np.arange(self.n)
        out = {"engagement": self.engagement[back], "autonomy": self.autonomy[back]}
        for k, s in enumerate(SUBJECTS):
            out[f"{s}_frontier"] = self.frontier[k][back].astype(np.int64)
            out[f"{s}_gaps"] = self.gaps[k][back].astype(np.int64)
            out[f"{s}_recent_gaps"] = self.recent[k][back]
            out[f"{s}_p_known"] = self.p_known[k][back]
            out[f"{s}_pacing_unit"] = self.pacing[k]
        return out


def run_reference(state: dict, params: dict, models: list, seed: int, weeks: int, broken=(), jitter=0.0,
                  evaluation="libm") -> dict:
    ref = Reference(state, params, models, seed, broken, jitter, evaluation)
    for week in range(weeks):
        ref.run_week(0, week)
    return ref.columns()


# ---------------------------------------------------------------------------------------------------
# The comparison.
def distribution(x: np.ndarray) -> dict:
    q = np.quantile(x, QUANTILES)
    return {"mean": float(x.mean()), "sd": float(x.std()),
            **{f"q{int(p * 100)}": float(v) for p, v in zip(QUANTILES, q)}}


def compare(start: dict, engine: dict, reference: dict, tolerances: dict = TOLERANCES):
    """Agreement figures per subject and quantity, and the list of what is outside its tolerance."""
    figures, failures = {}, []
    for s in SUBJECTS:
        quantities = {
            "frontier_advance": (engine[f"{s}_frontier"] - start[f"students.{s}_frontier"].astype(np.int64),
                                 reference[f"{s}_frontier"] - start[f"students.{s}_frontier"].astype(np.int64)),
            "gaps": (engine[f"{s}_gaps"], reference[f"{s}_gaps"]),
        }
        for name, (e, r) in quantities.items():
            de, dr = distribution(e.astype(np.float64)), distribution(r.astype(np.float64))
            share = float(np.mean(e == r))
            figures[f"{s}_{name}"] = {"engine": de, "numpy": dr, "identical_share": share}
            if share < tolerances["identical_share_min"]:
                failures.append(f"{s} {name}: identical for {share:.4%} of students "
                                f"(at least {tolerances['identical_share_min']:.1%} expected)")
            for stat in de:
                tol = tolerances["quantile_abs"] if stat.startswith("q") else tolerances[f"{stat}_abs"]
                if abs(de[stat] - dr[stat]) > tol:
                    failures.append(f"{s} {name} {stat}: engine {de[stat]:.4f}, numpy {dr[stat]:.4f} "
                                    f"(tolerance {tol})")
        pacing_diff = float(np.max(np.abs(engine[f"{s}_pacing_unit"].astype(np.float64) -
                                          reference[f"{s}_pacing_unit"])))
        figures[f"{s}_pacing_max_abs_diff"] = pacing_diff
        if pacing_diff != 0:
            failures.append(f"{s} pacing guides: differ by up to {pacing_diff:g} units")
        # informative, not checked: how close the continuous state stays
        figures[f"{s}_p_known_mean_abs_diff"] = float(np.mean(np.abs(engine[f"{s}_p_known"] -
                                                                      reference[f"{s}_p_known"])))
    figures["engagement_mean_abs_diff"] = float(np.mean(np.abs(engine["engagement"] - reference["engagement"])))
    figures["autonomy_identical_share"] = float(np.mean(engine["autonomy"] == reference["autonomy"]))
    return figures, failures


# ---------------------------------------------------------------------------------------------------
def scenario_document(scenario: str, students=None) -> dict:
    """The scenario's document for one year; with `students`, its school counts scaled to about that."""
    doc = plsim.load_scenario(scenario).document
    doc["years"] = 1
    if students:
        total = sum(d.get("count", 1) * g.get("count", 1) * g["enrollment"]
                    for d in doc["districts"] for g in d["schools"])
        for d in doc["districts"]:
            for g in d["schools"]:
                g["count"] = max(1, round(g.get("count", 1) * students / total))
    return doc


# The slow dynamics between weeks (class review and forgetting, learning.cpp's `dynamics` path: the
# week's leftover hazard carried to further units, fragile knowledge) are the engine's alone, checked by
# tests/python/test_dynamics.py; the reference mirrors the weekly path they leave unchanged.
DYNAMICS_OFF = {"review_share": 0.0, "forgetting_rate": 0.0}


def weekly_path(doc: dict) -> dict:
    """The document with review and forgetting off; refused if it sets either on."""
    doc = json.loads(json.dumps(doc))
    learning = doc.setdefault("parameters", {}).setdefault("learning", {})
    for name, off in DYNAMICS_OFF.items():
        if learning.get(name, off) != off:
            raise SystemExit(f"parameters/learning/{name}: the numpy reference mirrors the weekly path without "
                             f"review and forgetting; expected {off} or unset, got {learning[name]}")
        learning[name] = off
    return doc


class EngineRun:
    """The engine for `weeks` weeks of its first year: the state the reference starts from (`state`), the
    students after week 0 (`week0`) and at the end (`final`, with the pacing guides), its timings, and
    the instructional models in its order (name, resolved fields)."""

    def __init__(self, doc: dict, weeks: int, threads: int):
        sim = self.sim = plsim.Sim(weekly_path(doc), threads=threads, counterfactual=False)
        if weeks > sim._core.weeks_per_year:
            raise SystemExit(f"--weeks: at most {sim._core.weeks_per_year} (one school year)")
        check_philox_against_engine(sim)
        before = state_columns(sim)
        sim.step()
        self.week0 = state_columns(sim)
        self.state = starting_state(before, self.week0)
        for _ in range(weeks - 1):
            sim.step()
        assert sim._core.year == 0 and sim.counts["weeks_simulated"] == weeks
        final = self.final = {k: np.array(v) for k, v in sim.students.items()}
        for k in ("frontier", "gaps"):
            for s in SUBJECTS:
                final[f"{s}_{k}"] = final[f"{s}_{k}"].astype(np.int64)
        after = state_columns(sim)
        for name in PACING:
            final[name.split(".")[1]] = after[name]
        stages = sim.schedule.set_index("stage")
        self.seconds = sim.counts["seconds"]
        self.learning_seconds = float(stages.loc["learning", "wall_seconds"])
        self.threads_used = sim._core.threads_used
        resolved = sim.scenario.resolved
        self.params, self.seed = resolved["parameters"], sim.seed
        self.models = [(name, resolved["instructional_models"][name]) for name in sim._core.schools["model_names"]]

    def reference(self, weeks: int, **options) -> dict:
        return run_reference(self.state, self.params, self.models, self.seed, weeks, **options)

    def engine_evaluation(self) -> tuple:
        """Which evaluation of its functions this engine uses: the one whose week 0 is the engine's
        (mean absolute difference of P(known) after it, summed over subjects, for each)."""
        diffs = {}
        for evaluation in EVALUATIONS:
            week0 = self.reference(1, evaluation=evaluation)
            diffs[evaluation] = float(sum(np.mean(np.abs(week0[f"{s}_p_known"] - self.week0[f"students.{s}_p_known"]))
                                    for s in SUBJECTS))
        return min(diffs, key=diffs.get), diffs


class OtherLoad:
    """Cores that other processes kept busy while the block ran (/proc/stat minus this process), as
    plsim_bench reports them: above 0.1 the timings are pessimistic."""

    def __enter__(self):
        self.start = self._now()
        return self

    def __exit__(self, *exc):
        busy, own, wall = (b - a for a, b in zip(self.start, self._now()))
        self.cores = max(0.0, (busy - own) / wall) if wall > 0 else 0.0

    @staticmethod
    def _now():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
            busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
        except OSError:
            busy = float("nan")
        return busy, time.process_time(), time.perf_counter()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="district_station_rotation", help="scenario name or path")
    parser.add_argument("--students", type=int, help="scale the scenario's school counts to about this many")
    parser.add_argument("--weeks", type=int, help="weeks of the first year (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="engine threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side (default 3)")
    parser.add_argument("--break", dest="broken", action="append", default=[], choices=BROKEN,
                        help="switch a mechanism off in the reference (the check should then fail)")
    parser.add_argument("--jitter", type=float, default=0.0,
                        help="put every exp and log of the reference off by this relative amount, up or down "
                             "(as another implementation would: the check should still pass), e.g. 1e-6")
    parser.add_argument("--evaluation", choices=("auto",) + EVALUATIONS, default="auto",
                        help="the engine's evaluation of exp, log and the kernel to mirror (default: the one "
                             "whose first week is the engine's)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    check_philox()

    doc = scenario_document(args.scenario, args.students)
    weeks = args.weeks or plsim.load_scenario(doc).resolved["weeks_per_year"]
    if weeks < 1 or args.repeats < 1:
        raise SystemExit("--weeks and --repeats: at least 1")
    with OtherLoad() as engine_load:
        run = EngineRun(doc, weeks, args.threads)
        engine_seconds, learning_seconds = [run.seconds], [run.learning_seconds]
        for _ in range(args.repeats - 1):
            again = EngineRun(doc, weeks, args.threads)
            engine_seconds.append(again.seconds)
            learning_seconds.append(again.learning_seconds)
    sim, state, engine = run.sim, run.state, run.final
    evaluation, probe = (args.evaluation, None) if args.evaluation != "auto" else run.engine_evaluation()

    seed = run.seed
    numpy_seconds, reference = [], None
    with OtherLoad() as numpy_load:
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = run.reference(weeks, broken=args.broken, jitter=args.jitter, evaluation=evaluation)
            numpy_seconds.append(time.perf_counter() - start)
            if reference is None:
                reference = result
            elif any(not np.array_equal(reference[k], result[k]) for k in reference):
                raise AssertionError("the numpy reference is not deterministic")

    agreement, failures = compare(state, engine, reference)
    n = len(state["students.id"])
    student_weeks = n * weeks
    e, l, nps = (statistics.median(x) for x in (engine_seconds, learning_seconds, numpy_seconds))
    figures = {
        "scenario": sim.scenario.name, "seed": seed, "students": n, "weeks": weeks, "student_weeks": student_weeks,
        "engine_threads": args.threads, "engine_threads_used": run.threads_used, "repeats": args.repeats,
        "engine_clock": "engine's own clock (counts['seconds']): wall time of every stage of those weeks "
                        "(learning, assessments, week 0's year report and first-year practice), set-up excluded",
        "engine_seconds": e, "engine_seconds_all": engine_seconds,
        "engine_student_weeks_per_second": student_weeks / e,
        "engine_learning_seconds": l, "engine_learning_student_weeks_per_second": student_weeks / l,
        "numpy_clock": "wall clock around the reference (its per-year set-up from the copied state included)",
        "numpy_seconds": nps, "numpy_seconds_all": numpy_seconds,
        "numpy_student_weeks_per_second": student_weeks / nps,
        "speedup_vs_numpy": nps / e, "speedup_learning_vs_numpy": nps / l,
        "other_processes_cores": {"engine": engine_load.cores, "numpy": numpy_load.cores},
        "numpy_version": np.__version__, "python_version": sys.version.split()[0],
        "shared_draws": True, "broken": sorted(args.broken), "jitter": args.jitter,
        "evaluation": evaluation, "evaluation_week0_p_known_diff": probe,
        "tolerances": TOLERANCES, "agreement": agreement, "agreed": not failures, "failures": failures,
    }
    print(f"{figures['scenario']}: {n:,} students, {weeks} weeks ({student_weeks:,} student-weeks), "
          f"median of {args.repeats}")
    print(f"  {'':34}{'seconds':>9}{'M student-weeks/s':>20}")
    print(f"  {f'engine, {args.threads} threads (engine clock)':34}{e:9.4f}{student_weeks / e / 1e6:20.2f}")
    print(f"  {'  of which the learning stage':34}{l:9.4f}{student_weeks / l / 1e6:20.2f}")
    print(f"  {'numpy reference, 1 thread':34}{nps:9.4f}{student_weeks / nps / 1e6:20.2f}")
    print(f"  speed-up of the engine over numpy: {nps / e:.1f}x (learning stage alone: {nps / l:.1f}x)")
    if max(engine_load.cores, numpy_load.cores) > 0.1:
        print(f"  warning: other processes kept {engine_load.cores:.2f} cores busy while the engine ran, "
              f"{numpy_load.cores:.2f} while numpy ran: the timings are pessimistic")
    print(f"  {'':24}{'engine mean / sd / q10 q50 q90':>36}   {'numpy':>30}   identical")
    def fmt(d: dict) -> str:
        return f"{d['mean']:8.3f} {d['sd']:7.3f} {d['q10']:5.0f}{d['q50']:5.0f}{d['q90']:5.0f}"

    for key, a in agreement.items():
        if isinstance(a, dict):
            print(f"  {key:24}{fmt(a['engine']):>36}   {fmt(a['numpy']):>30}   {a['identical_share']:.4%}")
    print(f"  pacing guides identical: {all(agreement[f'{s}_pacing_max_abs_diff'] == 0 for s in SUBJECTS)}; "
          f"mean |engagement difference| {agreement['engagement_mean_abs_diff']:.2e}")
    off = "" if probe is None else " (week 0's P(known) off by " + ", ".join(
        f"{k} {v:.1e}" for k, v in probe.items()) + ")"
    print(f"  the engine's evaluation of its functions mirrored: {evaluation}{off}")
    if args.broken:
        print(f"  reference broken on purpose: {', '.join(sorted(args.broken))}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if failures:
        print("DISAGREEMENT between the engine and the numpy reference:")
        for line in failures:
            print(f"  {line}")
        return 1
    print("  agreement: yes (tolerances: " + ", ".join(f"{k} {v}" for k, v in TOLERANCES.items()) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
