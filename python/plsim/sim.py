"""A simulation run: the engine's Sim behind a keyword-only, DataFrame-returning interface."""
from __future__ import annotations

import json
from types import MappingProxyType
from typing import Callable, Mapping, Optional, Union

import numpy as np
import pandas as pd

from . import _core
from .results import LEVELS, SCHOOL_TYPES, assessment_frame, headline
from .scenarios import Scenario, ScenarioLike, load_scenario

Progress = Union[bool, Callable[[int, int], None]]
MAX_SEED = 2**53 - 1  # the scenario specification's bound: seeds survive a round trip through JSON numbers


class Sim:
    """One run of a scenario.

    >>> sim = Sim(load_scenario("national_baseline"), threads=2).run()
    >>> sim.assessments  # tidy DataFrame, one row per year, season, subject, grade and school

    `threads=0` uses every core; results are identical for any thread count. `seed` overrides the
    scenario's seed.
    """

    def __init__(self, scenario: ScenarioLike, *, threads: int = 0, seed: Optional[int] = None):
        if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 0:
            raise ValueError(f"threads: expected 0 (all cores) or a positive integer (got {threads!r})")
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
                                 or not 0 <= seed <= MAX_SEED):
            raise ValueError(f"seed: expected an integer between 0 and {MAX_SEED} (got {seed!r})")
        self.scenario: Scenario = load_scenario(scenario)
        self._core = _core.Sim(json.dumps(self.scenario.document), self.scenario.source, int(threads),
                               None if seed is None else int(seed))

    def run(self, *, progress: Progress = False) -> "Sim":
        """Run to the end of the scenario. `progress=True` shows a progress bar; a callable receives
        (weeks_done, weeks_total). Ctrl-C stops the run between two weeks (KeyboardInterrupt); calling
        run again resumes it."""
        if progress is True:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.scenario.years * self.scenario.resolved["weeks_per_year"], unit="week")
            bar.update(self._core.counts["weeks_simulated"])

            def report(done: int, total: int) -> None:
                bar.update(done - bar.n)

            try:
                self._core.run(report)
            finally:
                bar.close()
        elif progress is False or progress is None:
            self._core.run(None)
        elif callable(progress):
            self._core.run(progress)
        else:
            raise TypeError(f"progress: expected True, False or a callable (got {type(progress).__name__})")
        return self

    def step(self) -> bool:
        """Run one week; False once the run is finished."""
        return self._core.step()

    @property
    def finished(self) -> bool:
        return self._core.finished

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
        return assessment_frame(self._core.assessments)

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
        """One row per school: district, level, type, grades, instructional model, FRL share, effects."""
        raw = dict(self._core.schools)
        models = raw.pop("model_names")
        districts = raw.pop("district_names")
        df = pd.DataFrame(raw)
        df.index.name = "school_id"
        df["district"] = pd.Categorical.from_codes(df["district"], districts)
        df["level"] = pd.Categorical.from_codes(df["level"], LEVELS)
        df["type"] = pd.Categorical.from_codes(df["type"], SCHOOL_TYPES)
        df["model"] = pd.Categorical.from_codes(df["model"], models)
        return df

    def summary(self) -> dict:
        """Scenario, seed, threads, counts, timing and headline results, ready for summary.json."""
        counts = self.counts
        seconds = counts.pop("seconds")
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "threads": self.threads,
            "counts": {k: counts[k] for k in ("students", "teachers", "classrooms", "schools", "districts")},
            "years": counts["years_completed"],
            "weeks_simulated": counts["weeks_simulated"],
            "student_weeks": counts["student_weeks"],
            "seconds": seconds,
            "student_weeks_per_second": counts["student_weeks"] / seconds if seconds > 0 else None,
            "finished": self.finished,
            "headline": headline(self.assessments),
        }

    def __repr__(self) -> str:
        c = self.counts
        return (f"Sim({self.scenario.name!r}, seed={self.seed}, threads={self.threads}, "
                f"students={c['students']}, weeks={c['weeks_simulated']})")
