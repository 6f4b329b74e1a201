// The synthetic population: districts, schools, teachers and students drawn from the scenario,
// the yearly transition (promotion, graduation, entry cohorts) and classroom formation.
#pragma once

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Districts, schools, teachers and students for year 0, laid out in classrooms.
State build_population(const Model& model);

// End of a school year: students move up a grade, leave their school's last grade for the feeder
// school (or graduate, or leave), and entry cohorts fill each school's grades to its enrollment.
void advance_year(const Model& model, State& state);

// Sorts students by school, grade and a yearly shuffle, forms classrooms of at most the school's
// class size, assigns teachers (hiring when a school needs more) and starts each pacing guide.
void form_classrooms(const Model& model, State& state);

// Position on the knowledge map of a student in one subject: units mastered plus P(current known).
inline double mastered_position(const StudentColumns& st, int s, std::size_t i) {
  return static_cast<double>(st.frontier[s][i]) - st.gaps[s][i] + st.p_known[s][i];
}

}  // namespace plsim
