#include "plsim/modules/schools.hpp"

#include <algorithm>
#include <cmath>

#include "plsim/model.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

// Obstacles as they bear on a school this year: the central office's system change and a charter's
// autonomy remove part of coverage pressure and scheduling; a proven model brings materials.
double effective_obstacles(const Model& model, const State& state, std::uint32_t k) {
  const SchoolParameters& p = model.params.schools;
  const SchoolColumns& sc = state.schools;
  // A charter school answers to its own board, not to the central office: its autonomy replaces the
  // office's mode.
  const bool charter = sc.type[k] == std::uint8_t(SchoolType::charter);
  double structural = 1.0;
  if (charter) structural *= 1.0 - p.charter_autonomy;
  else if (system_change(model, state, sc.district[k])) structural *= 1.0 - p.system_change_obstacle_removal;
  const double materials = sc.invented[k] ? 1.0 : 1.0 - p.proven_model_materials;
  return (structural * (sc.obstacle_coverage[k] + sc.obstacle_scheduling[k]) + materials * sc.obstacle_materials[k]) / 3.0;
}

// The chance a school that adopted its model during the run drops it this year.
double drop_chance(const Model& model, const State& state, std::uint32_t k) {
  const SchoolParameters& p = model.params.schools;
  const SchoolColumns& sc = state.schools;
  double h = p.drop_rate * (1.0 - sc.leadership[k]) / (1.0 - typical_condition) *
             effective_obstacles(model, state, k) / typical_condition;
  if (sc.implementation_year[k] > 2) h *= p.later_drop_factor;
  if (sc.coached_last_year[k] && sc.coached_share[k] == 0) h *= p.unsupported_drop_factor;
  return std::clamp(h, 0.0, 1.0);
}

double codify_chance(const Model& model, const State& state, std::uint32_t k) {
  const SchoolParameters& p = model.params.schools;
  const SchoolColumns& sc = state.schools;
  const bool authority = sc.type[k] == std::uint8_t(SchoolType::charter) || system_change(model, state, sc.district[k]);
  const double above = std::max(0.0, sc.leadership[k] - p.leadership_floor) /
                       std::max(1e-6, typical_condition - p.leadership_floor);
  // A principal codifies what works: the chance grows with how well the pilot classrooms delivered.
  const double working = sc.delivered_fidelity[k] / p.codify_fidelity_reference;
  return std::clamp(p.codify_rate * above * working * (authority ? p.codify_support : 1.0), 0.0, 1.0);
}

}  // namespace

bool system_change(const Model& model, const State& state, std::uint32_t district) {
  const CentralOfficeSpec& office = model.district_spec(district).central_office;
  if (office.mode == CentralOffice::system_change) return true;
  return office.system_change_from_year > 0 && state.year + 1 >= office.system_change_from_year;
}

void draw_school_conditions(const Model& model, State& state, std::uint32_t k, bool pl_school) {
  const SchoolParameters& p = model.params.schools;
  SchoolColumns& sc = state.schools;
  const Rng rng(model.seed);
  const auto a = standard_normals(rng.words(Stream::school_conditions, sc.id[k], 0));
  const auto b = standard_normals(rng.words(Stream::school_conditions, sc.id[k], 1));
  const auto c = standard_normals(rng.words(Stream::school_conditions, sc.id[k], 2));
  auto unit = [](double x) { return static_cast<float>(std::clamp(x, 0.0, 1.0)); };
  sc.leadership.push_back(unit(p.leadership_mean + p.leadership_sd * a.first));
  sc.data_quality.push_back(unit(p.data_quality_mean + p.data_quality_sd * a.second));
  sc.obstacle_coverage.push_back(unit(p.obstacle_mean + p.obstacle_sd * b.first));
  sc.obstacle_materials.push_back(unit(p.obstacle_mean + p.obstacle_sd * b.second));
  sc.obstacle_scheduling.push_back(unit(p.obstacle_mean + p.obstacle_sd * c.first));
  for (auto& column : sc.conditions) column.push_back(1.0f);
  sc.adopted_in_run.push_back(0);
  sc.invented.push_back(0);
  sc.converted_year.push_back(0);
  sc.coached_share.push_back(0);
  sc.coached_last_year.push_back(0);
  sc.delivered_fidelity.push_back(0);
  sc.codified_year.push_back(0);
  sc.rollout_priority.push_back(std::numeric_limits<double>::quiet_NaN());
  sc.pl_stage.push_back(static_cast<std::uint8_t>(pl_school ? PlStage::schoolwide : PlStage::none));
}

void refresh_school_conditions(const Model& model, State& state) {
  const SchoolParameters& p = model.params.schools;
  SchoolColumns& sc = state.schools;
  const double typical_obstacles = 1.0 - p.obstacle_weight * typical_condition;
  const double typical_data = 1.0 - p.data_quality_weight * (1.0 - typical_condition);
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    const double obstacles = (1.0 - p.obstacle_weight * effective_obstacles(model, state, k)) / typical_obstacles;
    // A data system the district no longer pays for (in part) serves its school less well.
    double data = sc.data_quality[k] * state.funding[sc.district[k]].funded[int(CostCategory::data_systems)];
    if (sc.type[k] != std::uint8_t(SchoolType::charter) && system_change(model, state, sc.district[k]))
      data = std::min(1.0, data + p.system_change_data_gain);
    const double design = sc.invented[k] ? p.invent_fidelity : 1.0;
    for (int e = 0; e < n_elements; ++e) {
      double m = obstacles * design;
      if (e == int(Element::learner_profiles)) m *= (1.0 - p.data_quality_weight * (1.0 - data)) / typical_data;
      sc.conditions[e][k] = static_cast<float>(m);
    }
  }
}

double prep_minutes_provided(const Model& model, const State& state, std::uint32_t k) {
  const SchoolParameters& p = model.params.schools;
  const double extra = model.district_spec(state.schools.district[k]).central_office.extra_prep_minutes;
  if (state.schools.type[k] == std::uint8_t(SchoolType::charter)) return p.prep_minutes_charter + extra;
  return extra + (system_change(model, state, state.schools.district[k]) ? p.prep_minutes_system_change
                                                                          : p.prep_minutes_waivers);
}

namespace {

void codify(State& state, std::uint32_t k) {
  state.schools.pl_stage[k] = std::uint8_t(PlStage::schoolwide);
  state.schools.codified_year[k] = static_cast<std::uint8_t>(state.year + 1);
  state.rollout[state.schools.district[k]].codified++;
}

// Pilots whose principal codifies practice in a district whose plan sets a ceiling or a goal go
// school-wide, in school order, only while the plan admits the students they add (counted as the plan
// counts them, before classrooms form): a plan at its ceiling keeps its pilots pilots.
void codify_within_targets(const Model& model, State& state, const std::vector<std::uint32_t>& codifying) {
  if (codifying.empty()) return;
  const SchoolColumns& sc = state.schools;
  const double pilot_share = model.params.schools.pilot_share;
  const std::vector<std::uint32_t> enrolled = enrolled_by_school(state);
  std::vector<double> reached(state.districts.size(), 0.0), students(state.districts.size(), 0.0);
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    students[sc.district[k]] += enrolled[k];
    reached[sc.district[k]] += planned_pl_students(static_cast<PlStage>(sc.pl_stage[k]), enrolled[k], pilot_share);
  }
  for (std::uint32_t k : codifying) {
    const std::uint32_t d = sc.district[k];
    const RolloutSpec& plan = model.district_spec(d).rollout;
    const double added = double(enrolled[k]) - planned_pl_students(PlStage::pilot, enrolled[k], pilot_share);
    if (!plan.admits(reached[d], added, plan.target(state.year + 1) * students[d])) continue;
    codify(state, k);
    reached[d] += added;
  }
}

}  // namespace

void advance_schools(const Model& model, State& state) {
  SchoolColumns& sc = state.schools;
  const Rng rng(model.seed);
  const int traditional = model.instructional_model_index("traditional");
  for (auto& r : state.rollout) r.dropped = r.codified = 0;
  std::vector<std::uint32_t> codifying;  // pilots going school-wide where a ceiling or a goal bounds them
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    sc.implementation_year[k] = static_cast<std::uint8_t>(std::min(255, sc.implementation_year[k] + 1));
    // The twin takes its stages from the policy arm's log (run_rollout); schools on a scenario's model
    // from the start stay on it (they are the observed, persisting schools).
    if (state.stage_source || !sc.adopted_in_run[k] || sc.pl_stage[k] == std::uint8_t(PlStage::none)) continue;
    const auto w = rng.words(Stream::school_events, sc.id[k], static_cast<std::uint32_t>(state.year));
    if (uniform01(w[0]) < drop_chance(model, state, k)) {
      sc.pl_stage[k] = std::uint8_t(PlStage::none);
      sc.instructional_model[k] = static_cast<std::uint32_t>(traditional);
      state.rollout[sc.district[k]].dropped++;
    } else if (sc.pl_stage[k] == std::uint8_t(PlStage::pilot) && uniform01(w[1]) < codify_chance(model, state, k)) {
      if (model.district_spec(sc.district[k]).rollout.target_kind == TargetKind::at_least) codify(state, k);
      else codifying.push_back(k);
    }
  }
  codify_within_targets(model, state, codifying);
  apply_model_years(model, state);
  for (std::uint32_t k = 0; k < sc.size(); ++k) sc.coached_last_year[k] = sc.coached_share[k] > 0;
  refresh_school_conditions(model, state);
}

void apply_model_years(const Model& model, State& state) {
  const std::vector<ScheduledSchool> scheduled = scheduled_schools(model);
  if (scheduled.empty()) return;
  SchoolColumns& sc = state.schools;
  const int year = state.year + 1;  // 1-based
  const auto traditional = static_cast<std::uint32_t>(model.instructional_model_index("traditional"));
  std::vector<std::uint8_t> starting(sc.size(), 0);
  bool any_starting = false;
  // Stages as a function of the year alone (not of last year's): a restored checkpoint or a twin
  // reaches the same ones. Scheduled schools are never converted or dropped (rollout, advance_schools),
  // so nothing else moves them.
  for (const ScheduledSchool& s : scheduled) {
    const std::uint32_t k = s.school;
    const SchoolGroupSpec& group = *s.group;
    if (group.runs_model_in(year)) {
      if (sc.pl_stage[k] == std::uint8_t(PlStage::none)) starting[k] = 1, any_starting = true;
      sc.pl_stage[k] = std::uint8_t(PlStage::schoolwide);
      sc.instructional_model[k] = s.instructional_model;
      sc.implementation_year[k] = static_cast<std::uint8_t>(group.implementation_year + year - group.model_years[0]);
    } else {
      sc.pl_stage[k] = std::uint8_t(PlStage::none);
      sc.instructional_model[k] = traditional;
      sc.implementation_year[k] = 0;
    }
  }
  if (!any_starting) return;
  // The implementation year carries the school's maturity; its teachers at the start are its
  // practitioners (later hires start at hire_pl_skill, as everywhere).
  TeacherColumns& t = state.teachers;
  for (std::uint32_t j = 0; j < t.size(); ++j)
    if (t.active[j] && starting[t.school[j]]) {
      t.pl_skill[j] = 1.0f;
      t.years_on_model[j] = static_cast<std::uint8_t>(std::max(0, state.schools.implementation_year[t.school[j]] - 1));
    }
}

}  // namespace plsim
