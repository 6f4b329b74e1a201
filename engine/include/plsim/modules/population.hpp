// Population generation: districts, schools and students drawn from the scenario for the first
// year. Every trait is a function of (seed, stable id), never of the order of creation.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "plsim/fields.hpp"

namespace plsim {

struct SchoolGroupSpec;

// Population generation (scenario key "parameters/population"); docs/model.md. One line a parameter:
// type, name, default, range, unit, doc, source.
#define PLSIM_POPULATION_PARAMETERS(X)                                                                        \
  X(double, school_mean_sd, 0.45, between(0, 0.95), "student SDs",                                            \
    "SD of school mean achievement, national population",                                                     \
    "MAP Growth 2020 school norms: 0.43-0.52 (targets.json school_spread); measured school means add the "    \
    "sampling noise of their students, so 0.45 measures near the centre")                                    \
  X(double, district_mean_sd, 0.3, between(0, 0.9), "student SDs",                                             \
    "SD of district mean achievement, the part of school_mean_sd that a district's schools share (drawn for " \
    "the copies of a district with count > 1): schools fed by the same district keep their differences",     \
    "assumption, of the order of the between-district differences in SEDA (Reardon et al.)")                 \
  X(double, frl_achievement_gap, 0.5, between(0, 3), "student SDs", "FRL students start this many SDs lower",  \
    "assumption")                                                                                              \
  X(double, national_frl_share, 0.5, between(0, 1), "share", "mean school FRL share, national population",    \
    "NCES Digest of Education Statistics: about half of public-school students are eligible")                 \
  X(double, national_frl_share_sd, 0.25, between(0, 0.5), "share", "SD of school FRL shares, national",        \
    "assumption")                                                                                              \
  X(double, subject_correlation, 0.75, between(-1, 1), "correlation", "correlation of math and reading achievement", \
    "assumption")                                                                                              \
  X(double, gap_share_base, 0.05, between(0, 0.5), "share", "share of passed units that are gaps, average student", \
    "assumption")                                                                                              \
  X(double, gap_share_per_sd_below, 0.05, between(0, 0.5), "share per SD",                                    \
    "added gap share per SD below the national mean", "assumption")                                           \
  X(double, self_regulation_mean, 0.6, between(0, 1), "self-regulation", "mean self-regulation", "assumption") \
  X(double, self_regulation_sd, 0.2, between(0, 1), "self-regulation", "SD of self-regulation", "assumption")  \
  X(double, self_regulation_achievement_correlation, 0.3, between(-1, 1), "correlation",                      \
    "correlation of self-regulation with achievement", "assumption")                                          \
  X(double, attendance_mean, 0.94, between(0.5, 1), "share", "mean share of time present",                    \
    "assumption: average daily attendance of about 94%")                                                      \
  X(double, attendance_frl_gap, 0.03, between(0, 0.5), "share", "attendance gap of FRL students", "assumption") \
  X(double, attendance_sd, 0.04, between(0, 0.5), "share", "SD of attendance", "assumption")                   \
  X(int, tracking_from_grade, 6, between(0, 13), "grade",                                                      \
    "from this grade on, classrooms are formed by achievement (course tracking); 13 = never",                \
    "assumption: course tracking starts in middle school")

struct PopulationParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_POPULATION_PARAMETERS)
};

// Set-up stopped because its `keep_going` said so (Ctrl-C).
struct SetupCancelled : std::runtime_error {
  SetupCancelled() : std::runtime_error("population set-up cancelled") {}
};

// Districts, schools, teachers and students for year 0, laid out in classrooms. `keep_going` is asked
// every few thousand schools and students; when it returns false, set-up throws SetupCancelled.
State build_population(const Model& model, const std::function<bool()>& keep_going = {});

// A school whose group names the years of its model (model_years) and puts it on a personalized model
// in the policy arm, with the model it runs in those years in this arm (traditional in a
// counterfactual twin, which gives it the policy arm's stages all the same).
struct ScheduledSchool {
  std::uint32_t school;          // index into SchoolColumns
  const SchoolGroupSpec* group;  // its group, in `model`
  std::uint32_t instructional_model;
};
// Every scheduled school of `model`, in school order (the schools' models drawn as set-up draws them);
// empty, at once, when no group names model_years.
std::vector<ScheduledSchool> scheduled_schools(const Model& model);

// A student to add: his school, grade and stable id.
struct NewStudent {
  std::uint32_t school;
  std::uint8_t grade;
  std::uint32_t id;
};

// Appends new students to the columns in the order given (initial population and entry cohorts),
// drawing their traits in parallel; every trait is drawn from (seed, id), so each `id` must be the
// student's stable id.
void add_students(const Model& model, State& state, const std::vector<NewStudent>& students);

}  // namespace plsim
