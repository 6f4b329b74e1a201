// Fall, winter and spring assessments: each student's true scale score plus test error, recorded
// as the student's last score and aggregated per school, grade and subject.
#pragma once

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Reads: knowledge state. Writes: students.score and rows appended to `out`, in school order, so the
// result is identical for any thread count.
void assess(const Model& model, State& state, Season season, std::vector<AssessmentRow>& out);

}  // namespace plsim
