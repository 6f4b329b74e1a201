"""The result tables of a run, declared once.

Each entry of TABLES says what a table is: its name (its CSV file, `sim.table(name)`), the accessor of
a Sim that builds it (`sim.assessments`, ...), its key columns (kept by the small-cell rule, grouped by
when aggregating), the finest level it exists at, how each other column aggregates to a coarser level
(summed, n-weighted mean, the spread between schools), whether `plsim run` writes it and how. Everything
else reads this list: `Sim.table` and `plsim.aggregate` (plsim.levels), the writers of `plsim run`
(plsim.commands.run), and the tests that every table of the engine (`_core.result_tables`, the C++ field
lists of engine/include/plsim/results.hpp) reaches a DataFrame. Adding a table: its row type and field
list in results.hpp (the binding, checkpoints and C++ comparisons follow), its DataFrame in
plsim.run_tables, and its entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


def _always(sim, options: dict) -> bool:
    return True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    #: The Sim accessor that builds the table at its finest level (a property, or a method called with
    #: the options of the run: study(pool)).
    accessor: str
    #: Columns that identify a row (the small-cell rule keeps them; aggregation groups by them, "district"
    #: only at the district level).
    keys: tuple
    #: The finest level the table exists at: "school", "district" or "national" (coarser tables keep
    #: their level at finer ones), or "whole" for a record written whole at every level.
    level: str = "school"
    #: Aggregation to a coarser level: summed columns, means weighted by `weight`, and `spread` = (name,
    #: column): the unweighted SD over the group's schools of `column`. `custom`: a function of
    #: plsim.levels by name, for the tables whose aggregates are statistics of their own (study, rollout).
    sums: tuple = ()
    means: tuple = ()
    weight: str = "n"
    spread: Optional[tuple] = None
    custom: Optional[str] = None
    #: Where a row's district comes from at the district level: its school ("school_id") or its own
    #: district code ("district").
    district_from: str = "school_id"
    #: How plsim run writes it: whether (a function of the Sim and the run's options), the columns left
    #: out of the file, small cells suppressed or not, the format of floats (None: write_csv's default).
    written: Callable = _always
    csv_drops: tuple = ()
    suppress: bool = True
    float_format: Optional[str] = "%.6f"


def _has_twin(sim, options: dict) -> bool:
    return sim.has_counterfactual


def _has_rollout(sim, options: dict) -> bool:
    return any(d.get("rollout") for d in sim.scenario.resolved["districts"])


def _has_study(sim, options: dict) -> bool:
    return options.get("study") is not None


def _has_costs(sim, options: dict) -> bool:
    return len(sim.costs) > 0


def _logs_responses(sim, options: dict) -> bool:
    return sim.responses_share > 0


def _has_identifiers(sim, options: dict) -> bool:
    return sim.tables.school_identifiers is not None


#: Every table plsim run writes, in the order it writes them.
TABLES = {t.name: t for t in (
    Table("assessments", "one row per year, season, subject, grade and school: n, mean RIT, percentile, SD units",
          "assessments", keys=("year", "season", "subject", "grade", "school_id", "district"), sums=("n",),
          means=("mean_rit", "mean_percentile", "mean_sd", "mean_true_rit"), spread=("school_sd", "mean_sd"),
          csv_drops=("mean_true_rit",)),
    Table("subgroups", "one row per year, subject, grade and subgroup: growth and effects", "subgroups",
          keys=("year", "subject", "grade", "subgroup"), level="national"),
    Table("effects", "true effects per year, subject, grade and school against the counterfactual twin", "effects",
          keys=("year", "subject", "grade", "school_id", "district", "model"), sums=("n",),
          means=("effect_rit", "effect_sd", "measured_effect_rit"), spread=("school_sd", "effect_sd"),
          written=_has_twin),
    Table("rollout", "each district's rollout at the start of each year", "rollout_by_district",
          keys=("year", "district"), level="district", custom="rollout_national", written=_has_rollout,
          suppress=False),
    Table("fidelity", "delivered fidelity in PL classrooms by year and school type", "fidelity_by_year",
          keys=("year", "school_type"), level="national", written=_has_rollout, suppress=False),
    Table("study", "the emulated matched evaluation: one row per PL school, subject and year", "study",
          keys=("school_id", "subject", "year", "district", "model", "school_type", "implementation_year"),
          custom="study", written=_has_study),
    Table("costs", "what each school cost each year, by category and payer (US$)", "costs",
          keys=("year", "district", "school_id", "category", "payer", "one_off"), sums=("amount",),
          weight="amount", district_from="district", written=_has_costs, suppress=False, float_format="%.2f"),
    Table("responses", "the logged practice responses, one row per opportunity", "responses", keys=(),
          level="whole", written=_logs_responses, suppress=False, float_format=None),
    Table("schools", "the district's own id and name of each school and the extra columns of its table of "
          "schools (plsim.from_schools), beside plsim's school_id and the district", "school_identifiers",
          keys=("school_id", "school_ref", "school_name", "district"), level="whole", written=_has_identifiers,
          suppress=False),
)}

#: The engine's result tables (plsim._core.result_tables) and the table of TABLES, or the Sim accessor,
#: each reaches Python through.
FROM_ENGINE = {"assessments": "assessments", "subgroups": "subgroups", "teachers": "teachers_by_year",
               "rollout": "rollout", "fidelity": "fidelity", "costs": "costs", "study": "study",
               "responses": "responses"}
