// Money: what personalized learning costs (devices, licences, tutors, data systems, a central PL team,
// planning time, PD, coaches, school launches), who pays (grants by funder, earmarked or flexible, then
// the district's budget), and what is cut when the money runs short, which the mechanisms then feel:
// fewer coaches, less planning time and PD, classrooms without devices or licences back on traditional
// instruction, no new launches. docs/model.md, "Money".
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "plsim/fields.hpp"

namespace plsim {

struct Results;

// Scenario key "parameters/costs"; docs/model.md. One line a parameter: type, name, default, range,
// unit, doc, source.
#define PLSIM_COST_PARAMETERS(X)                                                                               \
  X(double, device_price, 280, between(0, 1e5), "US$ per device",                                               \
    "price of a student device (laptop or Chromebook with management licence)",                                \
    "assumption from district purchase prices of education Chromebooks, about $250-$300 (2019-2023)")          \
  X(int, device_lifetime_years, 4, between(1, 8), "years", "a device is replaced after this many years",          \
    "assumption: districts plan 3- to 5-year Chromebook replacement cycles")                                   \
  X(double, devices_per_student, 1.0, between(0, 2), "devices", "devices a PL student on a software model needs", \
    "assumption: 1:1 programmes")                                                                              \
  X(double, licence_per_student, 30, between(0, 1e4), "US$ per student-year",                                   \
    "adaptive-software licences for a PL student on a model with software minutes",                           \
    "assumption from published per-student prices of adaptive math and reading software ($20-$40)")            \
  X(double, tutor_hourly_cost, 52, between(0, 1e3), "US$ per hour",                                             \
    "all-in cost of a tutor's hour: wage, benefits, recruiting, training and supervision",                    \
    "Guryan et al. 2023 (AER): $3,500-$4,300 per student-year for 2:1 tutoring 50 minutes a school day, "    \
    "about 75 tutor-hours a student, so about $52 a tutor-hour (evidence.json tutoring_cost); wages alone "  \
    "are $20-$30 an hour (Kraft & Falken 2021)")                                                            \
  X(double, tutoring_group_size, 2, between(1, 10), "students", "students a tutor serves at once",              \
    "Kraft & Falken 2021: high-dosage tutoring in groups of 1 to 4")                                           \
  X(double, data_system_per_student, 12, between(0, 1e4), "US$ per student-year",                              \
    "learner-profile and data-system costs per student of a PL school", "assumption")                          \
  X(double, central_team_cost, 130000, between(0, 1e7), "US$ per FTE-year",                                    \
    "a member of the district's central PL team, salary and benefits", "assumption")                           \
  X(double, schools_per_central_fte, 10, above(0), "schools", "PL schools one central-team member supports",     \
    "assumption")                                                                                              \
  X(double, teacher_hourly_cost, 50, between(0, 1e3), "US$ per hour",                                          \
    "cost of a teacher's hour of paid planning time",                                                          \
    "NCES 2021: mean teacher salary about $66,000 plus 30% benefits over about 1,700 paid hours")             \
  X(double, pd_day_cost, 300, between(0, 1e5), "US$ per teacher-day",                                           \
    "a professional-development day: substitute, facilitator and materials",                                  \
    "assumption; TNTP 2015 (The Mirage) put all PD at about $18,000 a teacher a year")                        \
  X(double, coach_cost, 95000, between(0, 1e7), "US$ per coach-year", "an instructional coach, salary and benefits", \
    "assumption from Kraft, Blazar & Hogan 2018 (coaching programmes of $3,000-$10,000 a teacher a year)")     \
  X(double, launch_cost_per_school, 150000, between(0, 1e8), "US$ per school",                                  \
    "one-off cost of launching a school's PL model (design, planning year, start-up)",                         \
    "targets.json grant_sizes: NGLC and LEAP launch grants of $150,000-$280,000 a school")                    \
  X(double, pilot_launch_share, 0.25, between(0, 1), "share",                                                   \
    "share of the launch cost a pilot (a few classrooms) costs; the rest when it goes school-wide",            \
    "assumption; targets.json grant_sizes: planning grants of about $100,000")

struct CostParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_COST_PARAMETERS)
};

// Cost categories in the order a district pays them when money is short: the launches its plan
// committed to this year (the plan launched only with money beyond last year's recurring costs), then
// what keeps its PL classrooms running, then their support.
enum class CostCategory : std::uint8_t {
  launch = 0, licences, devices, tutors, data_systems, central_team, planning_time, pd, coaches
};
inline constexpr int n_cost_categories = 9;
inline constexpr std::array<const char*, n_cost_categories> cost_category_names{
    "launch", "licences", "devices", "tutors", "data_systems", "central_team", "planning_time", "pd", "coaches"};
// One-off costs (launches, purchases) against recurring ones.
inline constexpr std::array<bool, n_cost_categories> cost_is_one_off{true, false, true, false, false,
                                                                     false, false, false, false};

// Scenario key "grants/N": money from a funder to a district (every copy of a replicated district), or to
// one of its schools, which it pays for first.
struct GrantSpec {
  std::string funder;
  std::string recipient;            // district name as in the scenario
  int from_year = 1, to_year = 1;   // 1-based, inclusive
  double amount_per_year = 0;
  int category = -1;                // CostCategory, or -1: flexible
  int school = -1;                  // a school of the district (0-based, scenario order), or -1: the district
};

// Per district: what its money bought this year (shares of each category's need that were paid).
struct DistrictFunding {
  std::array<double, n_cost_categories> need{}, paid{};
  std::array<double, n_cost_categories> funded{1, 1, 1, 1, 1, 1, 1, 1, 1};  // paid / need (1 without need)
  double launch_funds = std::numeric_limits<double>::infinity();  // for this year's conversions
  double recurring_last_year = 0;   // recurring spending last year, which launches may not take
  double pd_days = 0;               // PD days its practising teachers got this year
  std::array<double, 8> device_cohorts{};  // devices bought 0, 1, ... years ago
  double device_coverage = 1;       // share of the devices its PL classrooms need that it has
};

// The payers of a run: index 0 is the district's own budget, then one per funder (in scenario order).
std::vector<std::string> payer_names(const Model& model);

// Money available to each district this year for launches (rollout, before conversions): launch-
// earmarked grants plus what flexible grants and the budget leave after last year's recurring costs.
void plan_launch_funds(const Model& model, State& state);
// Year stage, after practice: prices what the year needs, pays it (earmarked grants, flexible grants,
// the budget, in category order), applies the cuts (coaches, planning time, PD, classrooms without
// devices, licences or tutors back on traditional instruction, data systems), and records the costs.
void pay_costs(const Model& model, State& state, Results& results);

}  // namespace plsim
