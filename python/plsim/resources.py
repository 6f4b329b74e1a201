"""What a run will need against what the machine has: its memory, estimated before anything is built,
so that a run that cannot fit is refused at once with the figures instead of failing with MemoryError
after minutes of work.
"""
from __future__ import annotations

import os
from typing import Optional

GiB = 1 << 30


def machine_memory() -> Optional[int]:
    """Bytes of memory this machine has (MemTotal, or the pages the system reports); None if unknown.
    A cgroup limit below it (containers) wins."""
    total = None
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if total is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", "rb") as f:
            limit = f.read(64).strip()
        if limit.isdigit() and 0 < int(limit) < total:
            total = int(limit)
    except OSError:
        pass
    return total


def available_memory() -> Optional[int]:
    """Bytes a new run can have now (MemAvailable), else the machine's memory; None if unknown."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    total = machine_memory()
                    return min(available, total) if total else available
    except (OSError, ValueError, IndexError):
        pass
    return machine_memory()


# Measured on district_station_rotation (2026-12-07, both arms, peak RSS of `plsim run --out`): the
# engine state of both arms with its growth headroom, an assessment row through the engine, the tables
# and the CSV, a logged response through the engine vector, DataFrame (its "skill" strings) and CSV.
BASE_BYTES = 150 << 20           # the interpreter, numpy, pandas and the engine module
BYTES_PER_STUDENT_ARM = 200
BYTES_PER_ASSESSMENT_ROW = 400
BYTES_PER_RESPONSE = 450
# Logged responses per student-week per minute of adaptive software a week (18.4 at station
# rotation's 75 minutes), rounded up.
RESPONSES_PER_SOFTWARE_MINUTE = 0.35


class MemoryLimitError(ValueError):
    """A run estimated to need more memory than it may have; refused before anything is built."""


def _number(value, default: float = 0.0) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        return _number(value.get("mean", value.get("value")), default)
    return default


def estimate_run_memory(resolved: dict, *, responses: float = 0.0, arms: int = 2) -> dict:
    """What a run of the resolved scenario will need: students, assessment rows, logged responses and
    bytes (an estimate from the measured costs above, within about a factor of two)."""
    years, weeks = int(_number(resolved.get("years"), 1)), int(_number(resolved.get("weeks_per_year"), 36))
    models = resolved.get("instructional_models", {})
    students = assessment_rows = response_rate = 0.0
    for district in resolved.get("districts", []):
        for group in district.get("schools", []):
            schools = _number(district.get("count"), 1) * _number(group.get("count"), 1)
            enrolled = schools * _number(group.get("enrollment"), 0)
            grades = group.get("grades") or [0, 12]
            span = int(grades[1]) - int(grades[0]) + 1 if isinstance(grades, list) and len(grades) == 2 else 13
            students += enrolled
            assessment_rows += schools * span * 3 * 2 * years
            mix = group.get("models") or {}
            for name, share in (mix.items() if isinstance(mix, dict) else []):
                minutes = _number((models.get(name) or {}).get("minutes", {}).get("adaptive_software"), 0)
                if (models.get(name) or {}).get("python_policy"):
                    minutes = 300.0  # a Python policy may give every minute to software
                response_rate += enrolled * _number(share) * minutes * RESPONSES_PER_SOFTWARE_MINUTE
    logged = responses * response_rate * weeks * years
    total = (BASE_BYTES + arms * students * BYTES_PER_STUDENT_ARM + arms * assessment_rows * BYTES_PER_ASSESSMENT_ROW
             + logged * BYTES_PER_RESPONSE)
    return {"bytes": int(total), "students": int(students), "years": years, "arms": arms,
            "responses": int(logged)}


def check_run_memory(resolved: dict, *, responses: float, arms: int, max_memory: Optional[int], what: str) -> dict:
    """The estimate of `estimate_run_memory`, after refusing (MemoryLimitError) a run that needs more
    than `max_memory` bytes (default: the memory available on this machine)."""
    estimate = estimate_run_memory(resolved, responses=responses, arms=arms)
    limit = max_memory if max_memory is not None else available_memory()
    if limit is not None and estimate["bytes"] > limit:
        total = machine_memory()
        machine = (f"the {limit / GiB:.1f} GiB given by max_memory" if max_memory is not None else
                   f"the {limit / GiB:.1f} GiB available on this machine"
                   + (f" ({total / GiB:.1f} GiB in all)" if total else ""))
        logged = f", {estimate['responses']:,} logged responses" if estimate["responses"] else ""
        raise MemoryLimitError(
            f"{what}: this run needs about {estimate['bytes'] / GiB:.1f} GiB of memory ({estimate['students']:,} "
            f"students, {estimate['years']} years, {arms} arm{'s' if arms != 1 else ''}{logged}), more than "
            f"{machine}; run fewer years, schools or a smaller responses share, or set max_memory "
            f"(plsim run --max-memory) if you know it fits")
    return estimate
