#include "plsim/modules/teachers.hpp"

#include <algorithm>
#include <cmath>

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

double turnover_of(const TeacherParameters& p, float frl_share) {
  const bool high_poverty = frl_share >= p.high_poverty_frl_share;
  return std::min(1.0, p.turnover_rate * (high_poverty ? p.high_poverty_turnover_ratio : 1.0));
}

// Multiplier of a teacher with `experience` years relative to an experienced one, novice at year 0.
double experience_multiplier(double novice, double experience, double scale) {
  return 1.0 - (1.0 - novice) * std::exp(-experience / scale);
}

void set_experienced_traits(const TeacherParameters& p, TeacherColumns& t, std::uint32_t k) {
  t.effectiveness[k] = static_cast<float>(t.value_added[k] * experience_multiplier(p.novice_effectiveness, t.experience[k],
                                                                                   p.experience_scale));
  t.capacity[k] = static_cast<float>(t.base_capacity[k] * experience_multiplier(p.novice_capacity, t.experience[k],
                                                                                p.experience_scale));
}

}  // namespace

std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school) {
  const Rng rng(model.seed);
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  const auto index = static_cast<std::uint32_t>(t.size());
  // A teacher is the school's n-th hire: draws keyed by (school, n) stay the same whoever else is hired.
  const std::uint32_t school_id = state.schools.id[school];
  const std::uint32_t serial = state.schools.teachers_hired[school]++;
  const auto w = rng.words(Stream::teacher_traits, school_id, serial, 0);
  t.id.push_back(std::uint64_t(school_id) << 32 | serial);
  t.school.push_back(school);
  t.value_added.push_back(
      static_cast<float>(lognormal_multiplier(model.params.learning.teacher_effect_sd, standard_normal(w[0], w[1]))));
  t.base_capacity.push_back(static_cast<float>(
      std::clamp(1.0 + model.params.personalization.teacher_capacity_sd * standard_normal(w[2], w[3]), 0.0, 1.5)));
  // The first year's teachers have the experience of a steady turnover r: P(e years) = r (1 - r)^e.
  int experience = 0;
  const double r = turnover_of(p, state.schools.frl_share[school]);
  if (state.year == 0 && r > 0 && r < 1) {
    const double u = uniform01(rng.words(Stream::teacher_traits, school_id, serial, 1)[0]);
    experience = std::min(40, static_cast<int>(std::log(u) / std::log(1 - r)));
  }
  t.experience.push_back(static_cast<std::uint8_t>(experience));
  t.active.push_back(1);
  t.effectiveness.push_back(0);
  t.capacity.push_back(0);
  set_experienced_traits(p, t, index);
  return index;
}

void refresh_teacher_traits(const Model& model, State& state) {
  for (std::uint32_t k = 0; k < state.teachers.size(); ++k)
    if (state.teachers.active[k]) set_experienced_traits(model.params.teachers, state.teachers, k);
}

void turn_over_teachers(const Model& model, State& state, Results& results) {
  const Rng rng(model.seed);
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  TeacherYearRow row;
  row.year = state.year;
  double experience = 0;
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.active[k]) continue;
    const std::uint32_t school = t.school[k];
    const bool high_poverty = state.schools.frl_share[school] >= p.high_poverty_frl_share;
    const auto serial = static_cast<std::uint32_t>(t.id[k] & 0xffffffffu);
    const double u = uniform01(
        rng.words(Stream::teacher_turnover, state.schools.id[school], static_cast<std::uint32_t>(state.year), serial)[0]);
    const bool leaves = u < turnover_of(p, state.schools.frl_share[school]);
    row.teachers++;
    row.leavers += leaves;
    row.teachers_high_poverty += high_poverty;
    row.leavers_high_poverty += leaves && high_poverty;
    if (leaves) {
      t.active[k] = 0;
      continue;
    }
    t.experience[k] = static_cast<std::uint8_t>(std::min(255, t.experience[k] + 1));
    experience += t.experience[k];
    set_experienced_traits(p, t, k);
  }
  const std::uint32_t stayed = row.teachers - row.leavers;
  row.mean_experience_stayers = stayed ? experience / stayed : 0;
  results.teachers.push_back(row);
}

}  // namespace plsim
