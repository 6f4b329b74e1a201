#include "plsim/modules/rollout.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "plsim/model.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

double RolloutSpec::target(int year) const {
  if (targets.empty()) return 0.0;
  if (year <= targets.front().first) return targets.front().second * year / std::max(1, targets.front().first);
  for (std::size_t i = 1; i < targets.size(); ++i) {
    const auto [y0, s0] = targets[i - 1];
    const auto [y1, s1] = targets[i];
    if (year <= y1) return s0 + (s1 - s0) * double(year - y0) / double(y1 - y0);
  }
  return targets.back().second;
}

bool RolloutSpec::admits(double reached, double added, double target) const {
  switch (target_kind) {
    case TargetKind::at_least: return true;
    case TargetKind::at_most: return reached + added <= target;
    case TargetKind::closest: return std::abs(reached + added - target) < std::abs(reached - target);
  }
  return true;
}

SelectionRule RolloutSpec::rule(int year) const {
  SelectionRule rule = waves.empty() ? SelectionRule::volunteers : waves.front().rule;
  for (const RolloutWave& w : waves)
    if (year >= w.from_year) rule = w.rule;
  return rule;
}

std::uint32_t planned_pl_students(PlStage stage, std::uint32_t enrolled, double pilot_share) {
  switch (stage) {
    case PlStage::none: return 0;
    case PlStage::pilot: return static_cast<std::uint32_t>(std::lround(enrolled * pilot_share));
    case PlStage::schoolwide: return enrolled;
  }
  return 0;
}

std::vector<std::uint32_t> enrolled_by_school(const State& state) {
  std::vector<std::uint32_t> enrolled(state.schools.size(), 0);
  for (std::uint32_t school : state.students.school) enrolled[school]++;
  return enrolled;
}

namespace {

// Students a school at its stage teaches in PL classrooms, as the plan counts them.
std::uint32_t students_pl(const State& state, std::uint32_t k, std::uint32_t n, const SchoolParameters& p) {
  return planned_pl_students(static_cast<PlStage>(state.schools.pl_stage[k]), n, p.pilot_share);
}

// Candidates of a district in the order of `rule`; lower key first.
std::vector<std::uint32_t> ordered_candidates(const Model& model, const State& state, std::uint32_t district,
                                              const RolloutSpec& plan, SelectionRule rule,
                                              const std::vector<std::uint8_t>& scheduled) {
  const SchoolColumns& sc = state.schools;
  const Rng rng(model.seed);
  const auto year = static_cast<std::uint32_t>(state.year);
  std::vector<std::pair<double, std::uint32_t>> keyed;
  // A school's mean level, for "need", from the students it had last year (one pass over students).
  std::vector<double> level;
  if (rule == SelectionRule::need) {
    level.assign(sc.size(), 0.0);
    std::vector<std::uint32_t> n(sc.size(), 0);
    const StudentColumns& st = state.students;
    for (std::uint32_t i = 0; i < st.size(); ++i)
      for (int s = 0; s < n_subjects; ++s) {
        level[st.school[i]] += model.norms.z_score(static_cast<Subject>(s), Season::spring, st.grade[i], st.score[s][i]);
        n[st.school[i]]++;
      }
    for (std::size_t k = 0; k < sc.size(); ++k) level[k] = n[k] ? level[k] / n[k] : 0.0;
  }
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    if (sc.district[k] != district || sc.pl_stage[k] != std::uint8_t(PlStage::none) || sc.converted_year[k] ||
        scheduled[k])
      continue;
    const auto w = rng.words(Stream::rollout, sc.id[k], year);
    const double lottery = uniform01(w[0]);
    const auto noise = standard_normals(rng.words(Stream::rollout, sc.id[k], 0, 1));
    switch (rule) {
      case SelectionRule::volunteers: {
        // Principals volunteer when motivated; the most motivated apply first (a design competition).
        const double seen = sc.leadership[k] + plan.readiness_noise * noise.first;
        if (sc.leadership[k] >= plan.volunteer_leadership) keyed.emplace_back(-seen, k);
        break;
      }
      case SelectionRule::readiness: {
        const double seen = sc.leadership[k] + plan.readiness_noise * noise.first + sc.data_quality[k] +
                            plan.readiness_noise * noise.second -
                            (sc.obstacle_coverage[k] + sc.obstacle_materials[k] + sc.obstacle_scheduling[k]) / 3.0;
        keyed.emplace_back(-seen, k);
        break;
      }
      case SelectionRule::need: keyed.emplace_back(level[k], k); break;
      case SelectionRule::lottery: keyed.emplace_back(lottery, k); break;
      case SelectionRule::charter:
        if (sc.type[k] == std::uint8_t(SchoolType::charter)) keyed.emplace_back(lottery, k);
        break;
      case SelectionRule::python:
        if (std::isfinite(sc.rollout_priority[k])) keyed.emplace_back(sc.rollout_priority[k], k);
        break;
    }
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> out;
  for (const auto& [key, k] : keyed) out.push_back(k);
  return out;
}

}  // namespace

std::pair<double, std::uint32_t> measured_pilot_effect(const Model& model, const State& state, std::uint32_t district) {
  const ClassroomColumns& cl = state.classrooms;
  const int traditional = model.instructional_model_index("traditional");
  double gain[2] = {0, 0};
  std::uint32_t n[2] = {0, 0};
  for (std::uint32_t c = 0; c < cl.size(); ++c) {
    if (state.schools.district[cl.school[c]] != district || cl.n_measured[c] == 0) continue;
    const int pl = static_cast<int>(cl.instructional_model[c]) != traditional;
    for (int s = 0; s < n_subjects; ++s) gain[pl] += cl.spring_z[s][c] - cl.fall_z[s][c];
    n[pl] += cl.n_measured[c];
  }
  if (n[0] == 0 || n[1] == 0) return {std::numeric_limits<double>::quiet_NaN(), n[1]};
  return {gain[1] / (n_subjects * n[1]) - gain[0] / (n_subjects * n[0]), n[1]};
}

void run_rollout(const Model& model, State& state) {
  SchoolColumns& sc = state.schools;
  const SchoolParameters& p = model.params.schools;
  const int year = state.year + 1;  // 1-based
  for (auto& r : state.rollout) r.converted = 0;

  if (state.stage_source) {
    // The counterfactual twin: the same plan with no school converted. Stages follow the policy arm
    // (so both arms know the same PL cohort); the model stays traditional.
    if (state.stage_source->size() <= std::size_t(state.year))
      throw std::logic_error("counterfactual twin: ran ahead of its policy arm's rollout");
    const auto& stages = (*state.stage_source)[state.year];
    for (std::uint32_t k = 0; k < sc.size(); ++k) {
      if (sc.pl_stage[k] == std::uint8_t(PlStage::none) && stages[k] != std::uint8_t(PlStage::none)) {
        sc.converted_year[k] = static_cast<std::uint8_t>(year);
        state.rollout[sc.district[k]].converted++;
      }
      sc.pl_stage[k] = stages[k];
    }
  } else {
    const std::vector<std::uint32_t> enrolled = enrolled_by_school(state);
    // Schools whose group names the years of its model follow those years only: no plan converts them
    // before, between or after.
    std::vector<std::uint8_t> scheduled(sc.size(), 0);
    for (const ScheduledSchool& s : scheduled_schools(model)) scheduled[s.school] = 1;
    for (std::uint32_t d = 0; d < state.districts.size(); ++d) {
      const RolloutSpec& plan = model.district_spec(d).rollout;
      if (!plan.enabled) continue;
      DistrictRollout& status = state.rollout[d];
      // The gate: from its year on, widening needs last year's pilots to show a measured effect.
      if (plan.gate_year > 0 && year >= plan.gate_year && !status.gate_closed && !status.proven) {
        const auto [estimate, students] = measured_pilot_effect(model, state, d);
        status.gate_estimate = estimate;
        status.gate_students = students;
        if (students >= std::uint32_t(plan.gate_min_students) && std::isfinite(estimate)) {
          if (estimate >= plan.gate_min_effect_sd) status.proven = true;
          else status.gate_closed = true;
        }
      }
      const bool widening_allowed = plan.gate_year == 0 || year < plan.gate_year || status.proven;
      if (!widening_allowed) continue;
      std::uint64_t students = 0, reached = 0;
      for (std::uint32_t k = 0; k < sc.size(); ++k)
        if (sc.district[k] == d) students += enrolled[k], reached += students_pl(state, k, enrolled[k], p);
      const double target = plan.target(year) * double(students);
      const SelectionRule rule = plan.rule(year);
      // The central team it paid for last year bounds how many schools it can launch; the money for
      // launches bounds it too.
      const double team = state.funding[d].funded[int(CostCategory::central_team)];
      const auto max_new = static_cast<std::uint32_t>(std::floor(plan.max_new_schools_per_year * team + 1e-9));
      double launch_funds = state.funding[d].launch_funds;
      const PlStage start = plan.start_schoolwide ? PlStage::schoolwide : PlStage::pilot;
      for (std::uint32_t k : ordered_candidates(model, state, d, plan, rule, scheduled)) {
        if (double(reached) >= target || status.converted >= max_new) break;
        // A ceiling or a goal passes over a school too large for it and tries the next in the order.
        const std::uint32_t adds = planned_pl_students(start, enrolled[k], p.pilot_share);
        if (!plan.admits(double(reached), double(adds), target)) continue;
        const double launch = model.params.costs.launch_cost_per_school *
                              (plan.start_schoolwide ? 1.0 : model.params.costs.pilot_launch_share);
        if (launch_funds < launch) break;
        launch_funds -= launch;
        sc.pl_stage[k] = std::uint8_t(start);
        sc.instructional_model[k] = static_cast<std::uint32_t>(plan.model);
        sc.implementation_year[k] = 1;
        sc.adopted_in_run[k] = 1;
        sc.converted_year[k] = static_cast<std::uint8_t>(year);
        // Schools design their own model unless the plan adopts a proven one, or the district's
        // knowledge management has put a proven pilot model on its menu.
        const bool menu = status.proven && model.district_spec(d).central_office.knowledge_management;
        sc.invented[k] = plan.design == DesignMode::invent && !menu;
        status.converted++;
        reached += adds;
      }
    }
  }
  if (state.stage_log->size() <= std::size_t(state.year)) state.stage_log->resize(state.year + 1);
  (*state.stage_log)[state.year] = sc.pl_stage;
  refresh_school_conditions(model, state);
}

}  // namespace plsim
