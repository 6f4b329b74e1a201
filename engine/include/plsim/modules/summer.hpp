// The summer step between school years: students forget some of what they learned, more so students
// from low-income families; forgotten units become gaps.
#pragma once

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Reads: grade, frl. Writes: p_known, gaps, recent_gaps. Runs before advance_year.
void summer(const Model& model, State& state);

}  // namespace plsim
