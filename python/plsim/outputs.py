"""Named outputs of a run, the numbers calibration, sweeps, sensitivity analysis and Bayesian
calibration compare with targets: OUTPUTS, `output_values(sim, names, extra)` and `evaluate(document,
overrides, seeds, names, extra)`, the mean of each output over seeds for one set of overrides (a
top-level function, so Dask and process pools can ship it)."""
from __future__ import annotations

import numpy as np

OUTPUTS = ("effect_math_sd", "effect_reading_sd", "growth_vs_norm_math", "growth_vs_norm_reading",
           "spring_level_math_sd", "spring_level_reading_sd", "study_share_positive_math",
           "study_share_negative_math", "study_share_positive_reading", "study_share_negative_reading")


def output_values(sim, names, extra) -> dict:
    """{name: value} of a finished Sim: named outputs (OUTPUTS) or `extra` callables of the Sim. Only
    the tables the names need are built (a run's whole summary costs three times the run of a small
    scenario, and calibration runs thousands)."""
    from .results import headline, headline_effects

    out = {}
    cache: dict = {}

    def effects() -> dict:
        if "effects" not in cache:
            cache["effects"] = headline_effects(sim.effects) if sim.has_counterfactual else {}
        return cache["effects"]

    def levels() -> dict:
        if "headline" not in cache:
            cache["headline"] = headline(sim.assessments)
        return cache["headline"]

    for name in names:
        if name in extra:
            out[name] = float(extra[name](sim))
        elif name.startswith("effect_") and name.endswith("_sd"):
            out[name] = float(effects().get(name[len("effect_"):-3], {}).get("mean_effect_sd", float("nan")))
        elif name.startswith("growth_vs_norm_"):
            out[name] = float(levels()[name[len("growth_vs_norm_"):]].get("growth_vs_norm", float("nan")))
        elif name.startswith("spring_level_") and name.endswith("_sd"):
            out[name] = float(levels()[name[len("spring_level_"):-3]].get("mean_sd", float("nan")))
        elif name.startswith("study_share_"):
            from .study import summarize

            if "study" not in cache:
                cache["study"] = summarize(sim.study())
            sign, subject = name[len("study_share_"):].split("_", 1)
            out[name] = float(cache["study"][subject][f"share_significant_{sign}"])
        else:
            raise ValueError(f"targets: unknown output {name!r}; named outputs are {', '.join(OUTPUTS)} (or pass "
                             f"outputs={{name: callable(sim)}})")
    return out


def target_goals(targets: dict) -> dict:
    """{name: (value, tolerance)} of `targets` ({name: value or (value, tolerance)}; default tolerance
    5% of the target, at least 0.001)."""
    if not targets:
        raise ValueError("targets: give at least one {name: value or (value, tolerance)}")
    goal = {}
    for name, t in targets.items():
        value, tol = (t if isinstance(t, tuple) else (t, None))
        goal[name] = (float(value), float(tol) if tol else max(abs(float(value)) * 0.05, 1e-3))
    return goal


def check_names(names, extra) -> None:
    """Refuses an unknown output before anything runs."""
    known = ("effect_", "growth_vs_norm_", "spring_level_", "study_share_")
    for name in names:
        if name not in extra and (name not in OUTPUTS and not name.startswith(known)):
            raise ValueError(f"targets: unknown output {name!r}; named outputs are {', '.join(OUTPUTS)} (or pass "
                             f"outputs={{name: callable(sim)}})")


def evaluate(document: dict, overrides: dict, seeds, names, extra) -> dict:
    """Mean of each named output over the seeds, for one set of overrides (runs on a worker too)."""
    from .plan import RunPlan

    values = [output_values(RunPlan(document, seed=int(seed), overrides=overrides).run(), names, extra)
              for seed in seeds]
    return {name: float(np.mean([v[name] for v in values])) for name in names}
