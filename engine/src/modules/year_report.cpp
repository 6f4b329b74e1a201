#include "plsim/modules/year_report.hpp"

#include <cmath>

#include "plsim/modules/learning.hpp"
#include "plsim/modules/teachers.hpp"

namespace plsim {

namespace {

void report_rollout(const Model& model, const State& state, Results& results) {
  const SchoolColumns& sc = state.schools;
  std::vector<RolloutYearRow> rows(state.districts.size());
  for (std::uint32_t d = 0; d < rows.size(); ++d) {
    RolloutYearRow& r = rows[d];
    const RolloutSpec& plan = model.district_spec(d).rollout;
    r.has_plan = plan.enabled;
    r.target_share = plan.enabled ? plan.target(state.year + 1) : 0.0;
    const DistrictRollout& status = state.rollout[d];
    r.year = state.year;
    r.district = d;
    r.converted = status.converted, r.dropped = status.dropped, r.codified = status.codified;
    r.gate_estimate_sd = status.gate_estimate;
    r.gate_students = status.gate_students;
    r.gate_closed = status.gate_closed, r.proven = status.proven;
    r.system_change = system_change(model, state, d);
    r.target_kind = static_cast<std::uint8_t>(plan.target_kind);
    r.held_back = status.held_back;
    r.students_reached = status.students_reached;
  }
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    RolloutYearRow& r = rows[sc.district[k]];
    const std::uint32_t n = sc.end[k] - sc.begin[k];
    r.schools++;
    r.students += n;
    if (sc.pl_stage[k] == std::uint8_t(PlStage::none)) continue;
    r.students_in_pl_schools += n;
    (sc.pl_stage[k] == std::uint8_t(PlStage::pilot) ? r.schools_pilot : r.schools_schoolwide)++;
  }
  const int traditional = model.instructional_model_index("traditional");
  for (std::uint32_t c = 0; c < state.classrooms.size(); ++c)
    if (static_cast<int>(state.classrooms.instructional_model[c]) != traditional)
      rows[sc.district[state.classrooms.school[c]]].students_pl += state.classrooms.end[c] - state.classrooms.begin[c];
  results.rollout.insert(results.rollout.end(), rows.begin(), rows.end());
}

void report_fidelity(const Model& model, const State& state, Results& results) {
  const int traditional = model.instructional_model_index("traditional");
  std::array<double, 2> sum{}, sum2{};
  std::array<std::uint32_t, 2> n{};
  for (std::uint32_t c = 0; c < state.classrooms.size(); ++c) {
    if (static_cast<int>(state.classrooms.instructional_model[c]) == traditional) continue;
    const int type = state.schools.type[state.classrooms.school[c]];
    const double f = delivered_share(model, state, c);
    sum[type] += f, sum2[type] += f * f, n[type]++;
  }
  for (int type = 0; type < 2; ++type) {
    if (n[type] == 0) continue;
    const double mean = sum[type] / n[type];
    results.fidelity.push_back({state.year, static_cast<std::uint8_t>(type), n[type], mean,
                                std::sqrt(std::max(0.0, sum2[type] / n[type] - mean * mean))});
  }
}

void report_teachers(const State& state, Results& results) {
  // The year's row: its practice now, its turnover at the year's end (decide_leavers).
  TeacherYearRow& row = teacher_row(results, state.year);
  const TeacherColumns& t = state.teachers;
  std::vector<std::uint8_t> teaching(t.size(), 0);
  for (std::uint32_t c = 0; c < state.classrooms.size(); ++c) teaching[state.classrooms.teacher[c]] = 1;
  double capacity = 0, skill = 0, burnout = 0, buy_in = 0, deficit = 0;
  row.teaching = row.practising = row.coached = 0;
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!teaching[k]) continue;
    row.teaching++;
    burnout += t.burnout[k], buy_in += t.buy_in[k];
    if (!t.practising[k]) continue;
    row.practising++;
    row.coached += t.coached[k] > 0;
    capacity += t.capacity[k], skill += t.pl_skill[k], deficit += t.prep_deficit[k];
  }
  const double nan = std::nan("");
  row.mean_burnout = row.teaching ? burnout / row.teaching : nan;
  row.mean_buy_in = row.teaching ? buy_in / row.teaching : nan;
  row.mean_pl_capacity = row.practising ? capacity / row.practising : nan;
  row.mean_pl_skill = row.practising ? skill / row.practising : nan;
  row.mean_prep_deficit = row.practising ? deficit / row.practising : nan;
}

}  // namespace

void report_year(const Model& model, const State& state, Results& results) {
  report_rollout(model, state, results);
  report_fidelity(model, state, results);
  report_teachers(state, results);
}

}  // namespace plsim
