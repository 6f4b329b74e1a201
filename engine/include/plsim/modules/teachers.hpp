// Teachers: hiring, and each teacher's traits (effectiveness, personalized-learning capacity).
#pragma once

#include <cstdint>

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Hires a teacher for `school` and returns the teacher's index; traits are drawn from the teacher's
// stable id, so hiring in one school never shifts the draws of another school's teachers.
std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school);

}  // namespace plsim
