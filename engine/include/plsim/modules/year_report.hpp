// What a year of scale-up looks like at its start: each district's rollout (reach against its target,
// schools by stage, conversions, drops, the gate), delivered fidelity by school type, and the state of
// the teachers (practice, skill, capacity, burnout, coaching). Recorded once a year, in week 0.
#pragma once

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Appends the year's rows to results.rollout and results.fidelity, and completes the year's row of
// results.teachers (its turnover was recorded at the transition into the year).
void report_year(const Model& model, const State& state, Results& results);

}  // namespace plsim
