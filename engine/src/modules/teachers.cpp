#include "plsim/modules/teachers.hpp"

#include <algorithm>

#include "plsim/rng.hpp"

namespace plsim {

std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school) {
  const Rng rng(model.seed);
  const auto index = static_cast<std::uint32_t>(state.teachers.size());
  // A teacher is the school's n-th hire: draws keyed by (school, n) stay the same whoever else is hired.
  const std::uint32_t school_id = state.schools.id[school];
  const std::uint32_t serial = state.schools.teachers_hired[school]++;
  const auto w = rng.words(Stream::teacher_traits, school_id, serial, 0);
  state.teachers.id.push_back(std::uint64_t(school_id) << 32 | serial);
  state.teachers.school.push_back(school);
  state.teachers.effectiveness.push_back(
      static_cast<float>(lognormal_multiplier(model.params.learning.teacher_effect_sd, standard_normal(w[0], w[1]))));
  state.teachers.capacity.push_back(static_cast<float>(
      std::clamp(1.0 + model.params.personalization.teacher_capacity_sd * standard_normal(w[2], w[3]), 0.0, 1.5)));
  return index;
}

}  // namespace plsim
