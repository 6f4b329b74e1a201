#include "plsim/schedule.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "plsim/measure/assessment.hpp"
#include "plsim/modules/classrooms.hpp"
#include "plsim/modules/enrolment.hpp"
#include "plsim/modules/learning.hpp"
#include "plsim/modules/schools.hpp"
#include "plsim/modules/summer.hpp"
#include "plsim/modules/teachers.hpp"

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
      assess(c.model, c.state, static_cast<Season>(season), c.results.assessments, &c.results.subgroups);
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
    {"schools", Phase::year_start, "schools.implementation_year", "schools.implementation_year",
     "every school moves one year further into implementing its model",
     [](StageContext& c) { advance_implementation_year(c.model, c.state); }},
    {"teachers", Phase::year_start, "schools.frl_share, teachers; teacher parameters",
     "teachers (who left, experience, effectiveness, capacity); results.teachers",
     "teachers leave at their school's turnover rate; the others gain experience",
     [](StageContext& c) { turn_over_teachers(c.model, c.state, c.results); }},
    {"classrooms", Phase::year_start, "school, grade, scores, frontier; class sizes",
     "student order, classrooms, school ranges, teachers (hiring)",
     "students sorted and split into classrooms with teachers and pacing guides",
     [](StageContext& c) { form_classrooms(c.model, c.state); }},
    {"assessment", Phase::week, "knowledge state; assessment parameters, norms",
     "score; assessment results", "fall, winter and spring tests in their weeks", assess_if_test_week,
     is_test_week},
    {"policy_minutes", Phase::week, "schools.instructional_model; python-policy models' minutes", "python_policy_minutes",
     "each year, the minutes of schools on Python policies start at their models' defaults", fill_policy_minutes,
     has_python_policies},
    {"python_policies", Phase::week, "every student column", "python_policy_minutes",
     "Python hook: plsim.Policy.minutes(ctx) for the schools on each Python policy", nullptr, has_python_policies},
    {"learning", Phase::week, "student traits and knowledge, teachers, schools, instructional models",
     "frontier, gaps, recent_gaps, p_known, engagement, autonomy, group_target, classroom pacing",
     "a week of instruction becomes learning, then progression", learn},
    {"python_processes", Phase::week, "every student column", "columns given by ctx.writable",
     "Python hook: plsim.Process.on_week(ctx), after the week's learning", nullptr},
    {"python_year_end", Phase::week, "every student column", "columns given by ctx.writable",
     "Python hook: plsim.Process.on_year_end(ctx), after the last week of a year, before the summer", nullptr,
     is_last_week},
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
    stages[i].run(context);
}

}  // namespace plsim
