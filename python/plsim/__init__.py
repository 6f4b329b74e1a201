"""plsim: an agent-based simulation of personalized learning in schools and districts.

Quickstart::

    import plsim
    sim = plsim.Sim(plsim.load_scenario("national_baseline"), threads=2).run()
    sim.assessments.head()
"""
import os as _os
import sys as _sys

try:
    from ._core import CheckpointError, ScenarioError
    from .checkpoint import load
    from .compare import compare
    from .ensemble import EnsembleResult, ensemble
    from .evidence import run_evidence
    from .plan import RunPlan
    from . import priors  # the shipped priors, read and validated here (plsim.priors.shipped())
    from .posterior import Posterior
    from .psa import PSA
    from .sensitivity import sensitivity
    from .sweep import sweep
    from .district import SchoolTableError, from_schools
    from .levels import OUTPUT_LEVELS, aggregate, pooled_sd
    from .extend import ELEMENTS, MODES, HookContext, HookWriteError, Policy, Process, RolloutPlan
    from .parameters import parameter_reference, parameters
    from .results import growth_by_grade, norms_growth, school_growth_spread, school_spread
    from .scenarios import Scenario, check_scenario, load_scenario, scenario_schema, shipped_scenarios
    from .sim import Sim
    from .outdir import OutputDirError
    from .resources import MemoryLimitError
    from .safe_io import FileRefused
except KeyboardInterrupt:
    # Ctrl-C while the plsim command imports its libraries (a second or more on a cold disk): the
    # command's one line and exit code, not a traceback of the imports. A library user sees the
    # KeyboardInterrupt as usual.
    if _sys.argv and _os.path.basename(_sys.argv[0]) in ("plsim", "__main__.py"):
        print("plsim: interrupted", file=_sys.stderr)
        raise SystemExit(130) from None
    raise

from .version import __version__  # noqa: E402  (after the Ctrl-C guard of the imports)


def __getattr__(name: str):
    # plsim.calibrate (callable: plsim.calibrate(...)) is imported when first used, so that
    # `python -m plsim.calibrate` does not find it imported already (runpy warns then).
    if name == "calibrate":
        import importlib

        return importlib.import_module(".calibrate", __name__)
    raise AttributeError(f"module 'plsim' has no attribute {name!r}")

__all__ = [
    "CheckpointError",
    "ELEMENTS",
    "FileRefused",
    "MemoryLimitError",
    "OutputDirError",
    "PSA",
    "Posterior",
    "HookContext",
    "HookWriteError",
    "MODES",
    "OUTPUT_LEVELS",
    "Policy",
    "Process",
    "RolloutPlan",
    "Scenario",
    "ScenarioError",
    "SchoolTableError",
    "Sim",
    "aggregate",
    "check_scenario",
    "calibrate",
    "compare",
    "ensemble",
    "EnsembleResult",
    "RunPlan",
    "from_schools",
    "growth_by_grade",
    "load",
    "load_scenario",
    "norms_growth",
    "parameter_reference",
    "parameters",
    "pooled_sd",
    "priors",
    "run_evidence",
    "scenario_schema",
    "school_growth_spread",
    "school_spread",
    "sensitivity",
    "shipped_scenarios",
    "sweep",
]
