// Schools as organisations that change: their principal's leadership, data systems and obstacles (the
// conditions under which they deliver a model), their personalized-learning stage (none, pilot
// classrooms, school-wide), how a pilot spreads when the principal codifies it, and how a school drops
// a model it adopted. docs/model.md, "Scale-up".
#pragma once

#include <cstdint>

#include "plsim/fields.hpp"

namespace plsim {

// Scenario key "parameters/schools"; docs/model.md. One line a parameter: type, name, default, range,
// unit, doc, source.
#define PLSIM_SCHOOL_PARAMETERS(X)                                                                              \
  X(double, leadership_mean, 0.5, between(0, 1), "0..1", "mean of principals' leadership (motivation and skill)", \
    "assumption: a 0..1 scale centred on the typical principal")                                               \
  X(double, leadership_sd, 0.2, between(0, 0.5), "SD", "SD of principals' leadership across schools",          \
    "assumption: principal effects vary widely (Grissom, Egalite & Lindsay 2021)")                             \
  X(double, data_quality_mean, 0.5, between(0, 1), "0..1",                                                      \
    "mean quality of a school's data system (timely, usable learner data)", "assumption")                      \
  X(double, data_quality_sd, 0.2, between(0, 0.5), "SD", "SD of data-system quality across schools", "assumption") \
  X(double, data_quality_weight, 0.4, between(0, 1), "share",                                                   \
    "share of learner-profile capacity that depends on the data system",                                      \
    "assumption: RAND 2017 found learner profiles the least implemented element, limited by data tools")      \
  X(double, obstacle_mean, 0.5, between(0, 1), "0..1",                                                          \
    "mean severity of each obstacle (pressure to cover material, lack of suitable materials, scheduling)",     \
    "assumption: RAND 2017 and CRPE 2019 teachers named all three as common")                                 \
  X(double, obstacle_sd, 0.15, between(0, 0.5), "SD", "SD of each obstacle across schools", "assumption")       \
  X(double, obstacle_weight, 0.5, between(0, 1), "share",                                                       \
    "share of delivered capacity lost at the most severe obstacles (mean of the three)",                       \
    "assumption, relative to the typical school (the scenario's fidelity is its capacity there)")             \
  X(double, system_change_obstacle_removal, 0.6, between(0, 1), "share",                                        \
    "share of coverage pressure and scheduling obstacles a central office in system-change mode removes",     \
    "assumption from CRPE 2019: changing structures, policies and supports, not granting waivers")            \
  X(double, system_change_data_gain, 0.25, between(0, 1), "0..1",                                               \
    "data-system quality a system-change central office adds (data support)", "assumption")                   \
  X(double, charter_autonomy, 0.6, between(0, 1), "share",                                                      \
    "share of coverage pressure and scheduling obstacles a charter school removes by its own authority "      \
    "over time, staff and schedule", "assumption from RAND 2017: charter NGLC schools implemented more")      \
  X(double, proven_model_materials, 0.6, between(0, 1), "share",                                                \
    "share of the lack-of-materials obstacle removed when a school adopts a proven model", "assumption")        \
  X(double, invent_fidelity, 0.85, between(0, 1), "multiplier",                                                 \
    "capacity of a school that designs its own model, relative to one adopting a proven model",               \
    "assumption from CRPE 2019: schools that invented were slower and less reliable")                         \
  X(double, pilot_share, 0.2, between(0, 1), "share",                                                           \
    "share of a pilot school's teachers who practise the model (those with most buy-in)",                     \
    "assumption: pilots ran in a few classrooms (CRPE 2019)")                                                  \
  X(double, codify_rate, 0.15, between(0, 1), "per year",                                                       \
    "yearly chance that a pilot school with a typical principal codifies practice into school-wide "          \
    "principles (and goes school-wide), under waivers",                                                       \
    "assumption from CRPE 2019: pilots rarely spread beyond a handful of classrooms")                         \
  X(double, codify_fidelity_reference, 0.5, above(0), "share",                                               \
    "delivered fidelity of the pilot classrooms at which the codify chance is codify_rate (it scales with it)", \
    "assumption: principals codify practice that visibly works")                                              \
  X(double, leadership_floor, 0.3, between(0, 1), "0..1",                                                       \
    "leadership below which a principal never codifies; above it the chance grows linearly", "assumption")     \
  X(double, codify_support, 2.0, between(1, 10), "multiplier",                                                  \
    "codify chance multiplier where the principal has authority over structures: system change or a charter", \
    "assumption from CRPE 2019")                                                                               \
  X(double, drop_rate, 0.18, between(0, 1), "per year",                                                          \
    "chance that a typical school drops a model in the first year after adopting it",                         \
    "targets.json platform_attrition: about 18% of schools dropped a PL platform within a year (Summit 2019)") \
  X(double, later_drop_factor, 0.25, between(0, 1), "multiplier",                                               \
    "drop chance in later years relative to the first year", "assumption")                                    \
  X(double, unsupported_drop_factor, 2.0, between(1, 10), "multiplier",                                         \
    "drop chance multiplier in the year after a school's coaching ends", "assumption: schools revert when support ends") \
  X(double, prep_minutes_waivers, 30, between(0, 3000), "minutes per week",                                     \
    "preparation time beyond regular planning a district school gets under waivers",                         \
    "assumption from CRPE 2019: teachers were asked to innovate without the time to do it")                   \
  X(double, prep_minutes_system_change, 120, between(0, 3000), "minutes per week",                              \
    "preparation time beyond regular planning under system change (restructured schedules)", "assumption")    \
  X(double, prep_minutes_charter, 120, between(0, 3000), "minutes per week",                                    \
    "preparation time beyond regular planning a charter school gives (its own schedule)", "assumption")       \
  X(double, prep_minutes_per_ask, 60, between(0, 600), "minutes per week",                                      \
    "weekly preparation a model needs beyond traditional lessons, per unit of what it asks (sum of asks)",    \
    "assumption: teachers reported PL needing hours more planning a week (RAND 2018, Pane et al.)")

struct SchoolParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_SCHOOL_PARAMETERS)
};

// Leadership, data quality and obstacles of the typical school, on their 0..1 scales: a scenario's
// fidelity is a school's capacity under typical conditions, so conditions act relative to these (a
// district whose schools have worse conditions than typical, by their parameters, delivers less).
inline constexpr double typical_condition = 0.5;

// A school's personalized-learning stage.
enum class PlStage : std::uint8_t {
  none = 0,        // every classroom on the traditional model
  pilot = 1,       // a few teachers (pilot_share) practise the school's model
  schoolwide = 2,  // every teacher practises it
};
inline constexpr std::array<const char*, 3> pl_stage_names{"none", "pilot", "schoolwide"};

// Draws a new school's leadership, data quality and obstacles from its stable id (at population set-up);
// `pl_school`: the scenario puts it on a PL model (in the policy arm), so it starts school-wide.
void draw_school_conditions(const Model& model, State& state, std::uint32_t school, bool pl_school);

// Year stage: every school moves one year further into its model, and a group's model starts or ends
// in the years the group names (apply_model_years); schools that adopted a model during the run may drop
// it (drop_rate, by leadership, obstacles and lost support); pilots whose principal codifies go
// school-wide. Reads: schools, teachers.coached. Writes: schools.implementation_year, pl_stage,
// instructional_model, codified, state.rollout (dropped, codified counts); teachers.pl_skill.
void advance_schools(const Model& model, State& state);

// Part of the schools stage, and of set-up: the schools of a group that names its model_years run
// their model school-wide in those years, implementation_year counted from the group's in the first
// of them, and teach traditionally (PL stage none, model traditional, implementation year 0) before
// and after; in a counterfactual twin they take the same stages on traditional. A school whose model
// starts this year makes its teachers established practitioners (PL skill 1), as a scenario school's
// first-year teachers are. Reads: the model's school groups, schools.pl_stage, teachers.school, active.
// Writes: schools.pl_stage, instructional_model, implementation_year; teachers.pl_skill.
void apply_model_years(const Model& model, State& state);

// The central office's mode in the current year for `district` (system change may start in a year).
bool system_change(const Model& model, const State& state, std::uint32_t district);

// Capacity multipliers per element of every school from its conditions (obstacles, data, design, the
// central office and autonomy), relative to the typical school under waivers, for which a scenario's
// fidelity is stated. Run at each year start and after a hook wrote school columns.
void refresh_school_conditions(const Model& model, State& state);

// Weekly preparation time beyond regular planning that a school gives its teachers this year.
double prep_minutes_provided(const Model& model, const State& state, std::uint32_t school);

}  // namespace plsim
