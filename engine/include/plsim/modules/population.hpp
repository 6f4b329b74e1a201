// Population generation: districts, schools and students drawn from the scenario for the first
// year. Every trait is a function of (seed, stable id), never of the order of creation.
#pragma once

#include <cstdint>

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Districts, schools, teachers and students for year 0, laid out in classrooms.
State build_population(const Model& model);

// Appends one new student of `grade` to `school` (initial population and entry cohorts).
void add_student(const Model& model, State& state, std::uint32_t school, int grade);

}  // namespace plsim
