// Rollout plans: how a district (or a regional partner) spreads a model from a few pilots to many
// schools. Each year the plan compares the share of its students taught in personalized classrooms
// with the year's target, and converts schools in the order of the year's selection rule, from what the
// district can see; a scale gate stops the widening when the pilots do not show an effect as an
// evaluator would measure it (measured scores, test noise, small samples). docs/model.md, "Scale-up".
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "plsim/modules/schools.hpp"
#include "plsim/types.hpp"

namespace plsim {

// How a plan orders the schools it may convert.
enum class SelectionRule : std::uint8_t {
  volunteers = 0,  // principals who volunteer (leadership above the volunteer threshold), most motivated first
  readiness = 1,   // the district's noisy view of readiness: leadership, data system, obstacles
  need = 2,        // lowest measured achievement first
  lottery = 3,     // a random order, drawn from the school id and the year
  charter = 4,     // charter partners only, in a random order
  python = 5,      // a plsim.RolloutPlan orders them (schools.rollout_priority)
};
inline constexpr std::array<const char*, 6> selection_rule_names{"volunteers", "readiness", "need",
                                                                  "lottery",    "charter",   "python"};

// What a plan's targets mean (scenario key "districts/N/rollout/target_kind"). A school converts whole,
// so a plan cannot hit a share exactly: it says which way it may miss.
enum class TargetKind : std::uint8_t {
  at_least = 0,  // a floor: convert schools until the target is met; the last one may overshoot it
  at_most = 1,   // a ceiling: no conversion, codified pilot or PL classroom takes the district past it
  closest = 2,   // a goal: a school converts (a pilot codifies) only when it brings reach closer to the target
};
inline constexpr std::array<const char*, 3> target_kind_names{"at_least", "at_most", "closest"};

// Whether converted schools design their own model or adopt a proven one.
enum class DesignMode : std::uint8_t {
  invent = 0,  // each school designs its own (slower, less reliable), until a proven model is on the menu
  adopt = 1,   // schools adopt a proven model from the start
};
inline constexpr std::array<const char*, 2> design_mode_names{"invent", "adopt"};

enum class CentralOffice : std::uint8_t {
  waivers = 0,        // exceptions granted to PL schools; structures, policies and obstacles stay
  system_change = 1,  // obstacles removed, data and scheduling support
};
inline constexpr std::array<const char*, 2> central_office_names{"waivers", "system_change"};

// Scenario key "districts/N/central_office".
struct CentralOfficeSpec {
  CentralOffice mode = CentralOffice::waivers;
  int system_change_from_year = 0;  // 1-based year from which a waivers office changes systems (0: never)
  bool knowledge_management = false;  // proven practice spreads between schools (menu, peers across schools)
  int coaches = 0;                    // instructional coaches, assigned to schools each year
  int coach_caseload = 20;            // teachers per coach
  double pd_days = 3;                 // professional-development days a year for practising teachers
  double extra_prep_minutes = 0;      // weekly planning time it pays for beyond what its mode gives
};

struct RolloutWave {
  int from_year = 1;  // 1-based
  SelectionRule rule = SelectionRule::volunteers;
};

// Scenario key "districts/N/rollout".
struct RolloutSpec {
  bool enabled = false;
  int model = -1;                                 // index into Model::instructional_models
  bool start_schoolwide = false;                  // converted schools start school-wide, not as pilots
  std::vector<std::pair<int, double>> targets;    // (1-based year, share of the district's students)
  TargetKind target_kind = TargetKind::at_least;  // what the targets mean: a floor, a ceiling or a goal
  std::vector<RolloutWave> waves;                 // by from_year, increasing
  int gate_year = 0;                              // 1-based year from which widening needs the gate (0: none)
  double gate_min_effect_sd = 0.0;                // measured pilot effect (student SD) the gate asks for
  int gate_min_students = 40;                     // fewer measured pilot students: the gate stays closed
  int max_new_schools_per_year = 1000000;
  DesignMode design = DesignMode::invent;
  double volunteer_leadership = 0.6;              // leadership from which a principal volunteers
  double readiness_noise = 0.15;                  // SD of the district's error on each readiness trait

  // Target share in 1-based `year`: linear between targets, from 0 before the first, flat after the last.
  double target(int year) const;
  SelectionRule rule(int year) const;
  // Whether `added` more students in PL classrooms are within what the targets mean, the district
  // having `reached` of a target of `target` students: always for a floor (its loop stops at the target),
  // up to the target for a ceiling, and strictly closer to it for a goal.
  bool admits(double reached, double added, double target) const;
};

// Year stage: evaluates each plan's gate on last year's measured scores, then converts schools to the
// plan's model until the district's target share is reached, as its target_kind reads the target
// (candidates a ceiling or a goal does not admit are passed over for the next in the order). Reads: schools, classroom score
// accumulators, students (scores). Writes: schools.pl_stage, instructional_model, implementation_year,
// design, adopted_in_run; state.rollout.
void run_rollout(const Model& model, State& state);

// The measured effect of a district's pilots last year, as an evaluator would estimate it: the mean
// fall-to-spring gain (national SD units) of students in personalized classrooms minus that of the
// district's other students, with its number of personalized students. NaN without data.
std::pair<double, std::uint32_t> measured_pilot_effect(const Model& model, const State& state, std::uint32_t district);

// Students a school at `stage` teaches in PL classrooms, as a plan counts them before classrooms form:
// every enrolled student of a school-wide school, pilot_share of a pilot's.
std::uint32_t planned_pl_students(PlStage stage, std::uint32_t enrolled, double pilot_share);

// The students enrolled in each school now (by students.school: before classrooms form).
std::vector<std::uint32_t> enrolled_by_school(const State& state);

}  // namespace plsim
