// Fall, winter and spring assessments: each student's true scale score plus test error, recorded
// as the student's last score and aggregated per school, grade and subject.
#pragma once

#include <vector>

#include "plsim/fields.hpp"
#include "plsim/results.hpp"

namespace plsim {

// Scenario key "parameters/assessment". One line a parameter: type, name, default, range, unit, doc,
// source.
#define PLSIM_ASSESSMENT_PARAMETERS(X)                                                                        \
  X(double, measurement_error_rit, 3.0, between(0, 20), "RIT", "SD of test error",                             \
    "NWEA MAP Growth: typical standard error of measurement of about 3 RIT")                                  \
  X(BySeason<int>, weeks, (BySeason<int>{1, 18, 34}), between(1, 52), "week",                                 \
    "week of the year (1-based) of each assessment window", "assumption: typical fall, winter, spring windows")

struct AssessmentParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_ASSESSMENT_PARAMETERS)
};

// Reads: knowledge state. Writes: students.score (and, in a fall test, start_quintile and baseline_z
// where unset), rows appended to `out` in school order and, when given, rows of every subgroup to
// `subgroups` and, in a spring test, the evaluator's matching cells to `study`; the results are
// identical for any thread count. The counterfactual twin reports its own test errors.
void assess(const Model& model, State& state, Season season, std::vector<AssessmentRow>& out,
            std::vector<SubgroupRow>* subgroups = nullptr, std::vector<StudyCellRow>* study = nullptr);

}  // namespace plsim
