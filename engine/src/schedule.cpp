#include "plsim/schedule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "plsim/measure/assessment.hpp"
#include "plsim/modules/classrooms.hpp"
#include "plsim/modules/costs.hpp"
#include "plsim/modules/enrolment.hpp"
#include "plsim/modules/learning.hpp"
#include "plsim/modules/practice_log.hpp"
#include "plsim/modules/rollout.hpp"
#include "plsim/modules/schools.hpp"
#include "plsim/modules/summer.hpp"
#include "plsim/modules/teachers.hpp"
#include "plsim/modules/year_report.hpp"

namespace plsim {

namespace {

// Whether any school of the model is assigned a Python-policy model (never in a counterfactual twin).
bool uses_python_policies(const Model& m) {
  return m.any_school_on([&](int index) { return m.instructional_models[index].python_policy; });
}

// Schools on Python policies read their students' minutes from state.python_policy_minutes. At the
// start of each year (new students, new order) it is sized and filled with each model's default
// minutes, which a registered plsim.Policy then overwrites week by week (without one, as from the
// command line, the defaults are used).
void fill_policy_minutes(StageContext& c) {
  State& state = c.state;
  if (state.week != 0 && state.python_policy_minutes.size() == state.students.size() * n_modes) return;
  // Every student of a model starts the year at its default minutes: one row per model.
  state.python_policy_rows.assign(c.model.instructional_models.size() * n_modes, 0.0);
  for (std::size_t m = 0; m < c.model.instructional_models.size(); ++m)
    std::copy(c.model.instructional_models[m].minutes.begin(), c.model.instructional_models[m].minutes.end(),
              state.python_policy_rows.begin() + m * n_modes);
  const std::size_t wanted = state.students.id.capacity() * n_modes;
  if (state.python_policy_minutes.capacity() < wanted) state.python_policy_minutes.reserve(wanted);
  state.python_policy_minutes.assign(state.students.size() * n_modes, 0.0);
  const SchoolColumns& sc = state.schools;
  for (std::size_t k = 0; k < sc.size(); ++k) {
    const InstructionalModel& im = c.model.instructional_models[sc.instructional_model[k]];
    if (!im.python_policy) continue;
    for (std::uint32_t i = sc.begin[k]; i < sc.end[k]; ++i)
      std::copy(im.minutes.begin(), im.minutes.end(), state.python_policy_minutes.begin() + std::size_t(i) * n_modes);
  }
}

void assess_if_test_week(StageContext& c) {
  for (int season = 0; season < n_seasons; ++season)
    if (c.model.params.assessment.weeks[season] == c.state.week + 1)
      assess(c.model, c.state, static_cast<Season>(season), c.results.assessments, &c.results.subgroups,
             &c.results.study);
}

// A week counts as simulated once its students have learned; its year is complete once the hooks
// after its last week have run.
void learn(StageContext& c) {
  c.learning->run_week(c.state, WeekContext{c.state.year, c.state.week});
  c.results.student_weeks += c.state.students.size();
  c.results.weeks_simulated++;
}

void end_week(StageContext& c) {
  if (++c.state.week == c.model.weeks_per_year) c.results.years_completed++;
}

void start_year(StageContext& c) {
  ++c.state.year;
  c.state.week = 0;
}

bool is_test_week(const StageContext& c) {
  const auto& weeks = c.model.params.assessment.weeks;
  return std::find(weeks.begin(), weeks.end(), c.state.week + 1) != weeks.end();
}
bool has_python_policies(const StageContext& c) { return uses_python_policies(c.model); }
bool is_last_week(const StageContext& c) { return c.state.week + 1 == c.model.weeks_per_year; }
bool is_first_week(const StageContext& c) { return c.state.week == 0; }

// Practice as the district wants it, then the bill; where money fell short, practice again with the
// cuts (fewer coaches, less planning time, classrooms without devices or licences traditional).
void practise_and_pay(StageContext& c) {
  for (DistrictFunding& f : c.state.funding) f.funded.fill(1.0), f.device_coverage = 1.0;
  assign_practice(c.model, c.state);
  pay_costs(c.model, c.state, c.results);
  const bool cut = std::any_of(c.state.funding.begin(), c.state.funding.end(), [](const DistrictFunding& f) {
    return f.device_coverage < 1.0 || std::any_of(f.funded.begin(), f.funded.end(), [](double x) { return x < 1.0; });
  });
  if (cut) assign_practice(c.model, c.state);
}
// Whether a district's rollout plan leaves this year's selection to a plsim.RolloutPlan.
bool has_python_rollout(const StageContext& c) {
  if (c.state.stage_source) return false;
  for (const DistrictSpec& d : c.model.districts)
    if (d.rollout.enabled && d.rollout.rule(c.state.year + 1) == SelectionRule::python) return true;
  return false;
}

// The order of a year and of a week, written once. Year-start stages run before every year but the
// first (the population is built for it); week stages run every week.
const Stage stages[] = {
    {"summer", Phase::year_start, "grade, frl, knowledge state; summer parameters",
     "p_known, gaps, recent_gaps", "forgetting over the summer, by the grade just finished",
     [](StageContext& c) { summer(c.model, c.state); }},
    {"enrolment", Phase::year_start, "grade, school, feeder schools, enrollment",
     "every student column (leavers, moves, entry cohorts)",
     "promotion, graduation, moves to feeder schools, entry cohorts",
     [](StageContext& c) { enrol_students(c.model, c.state); }},
    {"new_year", Phase::year_start, "", "year, week", "the school-year counter moves on", start_year},
    {"teacher_development", Phase::year_start,
     "teachers (last year's practice, coaching, burnout), schools, central offices", "teachers.pl_skill, buy_in",
     "PL skill grows with practice, coaching, PD and peers and fades without support; buy-in follows support and "
     "burnout",
     [](StageContext& c) { develop_teachers(c.model, c.state); }},
    {"teachers", Phase::year_start, "teachers.leaving (decided at the end of last year)",
     "teachers (who left, experience, effectiveness, capacity)",
     "the teachers who decided to leave at the end of last year leave; the others gain experience",
     [](StageContext& c) { turn_over_teachers(c.model, c.state); }},
    {"schools", Phase::year_start,
     "schools (stage, leadership, obstacles, coaching), central offices, school groups' model_years",
     "schools.implementation_year, pl_stage, instructional_model, conditions; teachers.pl_skill where a model starts",
     "schools move a year further into their model, or start or end it in the years their group names; adopters "
     "may drop it; pilots whose principal codifies go school-wide",
     [](StageContext& c) { advance_schools(c.model, c.state); }},
    {"python_rollout", Phase::year_start, "school columns", "schools.rollout_priority",
     "Python hook: plsim.RolloutPlan.order(ctx) orders the schools a plan may convert", nullptr,
     has_python_rollout, true},
    {"funding", Phase::year_start, "grants, budgets, last year's recurring costs", "state.funding.launch_funds",
     "the money each district has for this year's launches", [](StageContext& c) { plan_launch_funds(c.model, c.state); },
     nullptr, true},
    {"rollout", Phase::year_start, "schools, classroom score sums (the gate), students.school; rollout plans",
     "schools.pl_stage, instructional_model, implementation_year, invented; state.rollout",
     "each plan's gate, then conversions in the year's selection order up to its target",
     [](StageContext& c) { run_rollout(c.model, c.state); }, nullptr, true},
    {"classrooms", Phase::year_start, "school, grade, scores, frontier; class sizes",
     "student order, classrooms, school ranges, teachers (hiring)",
     "students sorted and split into classrooms with teachers and pacing guides",
     [](StageContext& c) { form_classrooms(c.model, c.state); }},
    {"practice", Phase::year_start,
     "schools (stage, model), teachers (buy-in), central offices (coaches), grants, budgets, unit costs",
     "teachers.practising, coached, prep_deficit, capacity, effectiveness; classrooms.instructional_model; "
     "students.ever_pl; state.funding; results.costs",
     "who practises each school's model, coaching, preparation; the year's costs paid; what money could not "
     "pay is cut",
     practise_and_pay, nullptr, true},
    {"year_report", Phase::week, "schools, classrooms, teachers, state.rollout",
     "results.rollout, fidelity, teachers", "the year's rollout, delivered fidelity and teachers, in week 0",
     [](StageContext& c) { report_year(c.model, c.state, c.results); }, is_first_week},
    {"assessment", Phase::week, "knowledge state; assessment parameters, norms",
     "score, baseline_z; assessment, subgroup and study-cell rows", "fall, winter and spring tests in their weeks", assess_if_test_week,
     is_test_week},
    {"policy_minutes", Phase::week, "schools.instructional_model; python-policy models' minutes", "python_policy_minutes",
     "each year, the minutes of schools on Python policies start at their models' defaults", fill_policy_minutes,
     has_python_policies},
    {"python_policies", Phase::week, "every student column", "python_policy_minutes",
     "Python hook: plsim.Policy.minutes(ctx) for the schools on each Python policy", nullptr, has_python_policies},
    {"practice_log", Phase::week, "knowledge state, learning rates, attendance, software minutes",
     "results.responses", "the logged students' software practice, as a tutoring system's response log",
     [](StageContext& c) { log_practice(c.model, c.state, c.results); },
     [](const StageContext& c) { return c.state.responses_share > 0; }},
    {"learning", Phase::week, "student traits and knowledge, teachers, schools, instructional models",
     "frontier, gaps, recent_gaps, p_known, engagement, autonomy, group_target, classroom pacing",
     "a week of instruction becomes learning, then progression", learn},
    {"python_processes", Phase::week, "every student column", "columns given by ctx.writable",
     "Python hook: plsim.Process.on_week(ctx), after the week's learning", nullptr},
    {"python_year_end", Phase::week, "every student column", "columns given by ctx.writable",
     "Python hook: plsim.Process.on_year_end(ctx), after the last week of a year, before the summer", nullptr,
     is_last_week},
    {"teacher_leaving", Phase::week, "schools.frl_share, teachers (burnout, preparation deficit); teacher parameters",
     "teachers.burnout, leaving; results.teachers (the year's turnover)",
     "after the last week, burnout takes the year's preparation deficit and each teacher decides whether to leave "
     "(at his school's turnover rate, higher when burned out); the next year's transition applies it",
     [](StageContext& c) { decide_leavers(c.model, c.state, c.results); }, is_last_week},
    {"end_of_week", Phase::week, "", "week, years completed", "the week counter moves on", end_week},
};

}  // namespace

std::span<const Stage> schedule() { return stages; }

std::size_t stage_index(std::string_view name) {
  for (std::size_t i = 0; i < std::size(stages); ++i)
    if (name == stages[i].name) return i;
  throw std::out_of_range("no stage named " + std::string(name));
}

void advance_year(const Model& model, State& state) {
  Results unused;
  StageContext context{model, state, unused};
  for (std::size_t i = stage_index("summer") + 1; i < std::size(stages) && stages[i].phase == Phase::year_start; ++i)
    if (!stages[i].is_hook()) stages[i].run(context);
}

}  // namespace plsim
