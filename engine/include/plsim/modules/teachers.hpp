// Teachers: hiring, each teacher's traits (value added, personalized-learning capacity), experience,
// and who leaves between two years; novices replace leavers.
#pragma once

#include <cstdint>

#include "plsim/fields.hpp"

namespace plsim {

struct Results;

// Scenario key "parameters/teachers"; docs/model.md. One line a parameter: type, name, default, range,
// unit, doc, source.
#define PLSIM_TEACHER_PARAMETERS(X)                                                                          \
  X(double, turnover_rate, 0.15, between(0, 1), "share per year",                                              \
    "yearly share of teachers who leave their school, in schools that are not high-poverty",                  \
    "targets.json teacher_turnover: about 16% nationally (Learning Policy Institute 2017)")                    \
  X(double, high_poverty_turnover_ratio, 1.5, between(1, 5), "ratio",                                          \
    "turnover in high-poverty schools over turnover elsewhere",                                                \
    "targets.json teacher_turnover: about 1.5x higher in high-poverty schools")                               \
  X(double, high_poverty_frl_share, 0.75, between(0, 1), "share",                                              \
    "FRL share from which a school counts as high-poverty", "NCES: high-poverty schools have over 75% FRL")    \
  X(double, novice_effectiveness, 0.9, between(0.1, 1), "multiplier",                                          \
    "learning multiplier of a first-year teacher relative to an experienced one",                             \
    "assumption in the range of the returns to experience (Rice 2010; Kraft & Papay 2014)")                   \
  X(double, novice_capacity, 0.8, between(0, 1), "multiplier",                                                 \
    "personalized-learning capacity of a first-year teacher relative to an experienced one", "assumption")     \
  X(double, experience_scale, 2.0, above(0), "years",                                                          \
    "a novice's gap in effectiveness and capacity closes as exp(-experience / scale)",                         \
    "assumption: most of the returns to experience come in the first 3-5 years (Kraft & Papay 2014)")

struct TeacherParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_TEACHER_PARAMETERS)
};

// Hires a teacher for `school` and returns the teacher's index. Traits are drawn from the teacher's
// stable id, so hiring in one school never shifts the draws of another school's teachers. Teachers
// of the first year have the experience a steady turnover gives; later hires are novices.
std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school);

// Year stage: each active teacher leaves with his school's turnover rate (a draw keyed by his stable id
// and the year), the others gain a year of experience; effectiveness and capacity follow experience.
// Reads: schools.frl_share, teachers. Writes: teachers.active, experience, effectiveness, capacity; a
// row of results.teachers.
void turn_over_teachers(const Model& model, State& state, Results& results);

// Effectiveness and capacity of every active teacher from his value added, base capacity and
// experience: after a Python hook changed those, so that the change holds from the next week.
void refresh_teacher_traits(const Model& model, State& state);

}  // namespace plsim
