// Enrolment: which school each student attends from one year to the next. Students move up a grade,
// leave their school's last grade for its feeder school (or graduate, or leave), and entry cohorts
// fill each school's grades to its enrollment.
#pragma once

#include <cstdint>

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Links each school of [first, last) (one district) that does not serve grade 12 to the school of the
// same district that starts at its next grade, spread evenly when there are several.
void link_feeders(State& state, std::uint32_t first, std::uint32_t last);

// Year stage: promotion, graduation and feeder moves, then entry cohorts. Reads: grade, school,
// feeders, enrollment. Writes: every student column (students leave, move and arrive).
void enrol_students(const Model& model, State& state);

}  // namespace plsim
