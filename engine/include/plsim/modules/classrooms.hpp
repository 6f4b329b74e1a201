// Classrooms: each year students are sorted by school, grade and a yearly shuffle (by achievement in
// tracked grades) and split into classrooms of at most the school's class size, each with a teacher
// and a pacing guide.
#pragma once

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Year stage. Reads: school, grade, scores, frontiers. Writes: student order, classrooms, school
// ranges; hires teachers when a school needs more (teachers module).
void form_classrooms(const Model& model, State& state);

}  // namespace plsim
