#include "plsim/modules/costs.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

using ByCategory = std::array<double, n_cost_categories>;

bool active(const GrantSpec& g, int year) { return year >= g.from_year && year <= g.to_year; }

// What the year needs, per school and category, and per district in total. District-level costs
// (coach salaries, the central team, device purchases) are attributed to schools by their share of
// the work, so every cost has a school.
struct Needs {
  std::vector<ByCategory> school;           // by school
  std::vector<ByCategory> district;         // by district
  std::vector<double> devices_required;     // by district
  std::vector<double> devices_to_buy;       // by district
  std::vector<std::vector<std::uint32_t>> schools_of;  // by district
};

Needs price_needs(const Model& model, const State& state) {
  const CostParameters& p = model.params.costs;
  const SchoolColumns& sc = state.schools;
  const ClassroomColumns& cl = state.classrooms;
  const TeacherColumns& t = state.teachers;
  const std::size_t n_districts = state.districts.size();
  const int traditional = model.instructional_model_index("traditional");
  Needs n;
  n.school.assign(sc.size(), ByCategory{});
  n.district.assign(n_districts, ByCategory{});
  n.devices_required.assign(n_districts, 0.0);
  n.devices_to_buy.assign(n_districts, 0.0);
  n.schools_of.resize(n_districts);
  for (std::uint32_t k = 0; k < sc.size(); ++k) n.schools_of[sc.district[k]].push_back(k);

  std::vector<double> devices(sc.size(), 0.0);
  for (std::uint32_t c = 0; c < cl.size(); ++c) {
    if (static_cast<int>(cl.instructional_model[c]) == traditional) continue;
    const InstructionalModel& m = model.instructional_models[cl.instructional_model[c]];
    const std::uint32_t k = cl.school[c];
    const double students = cl.end[c] - cl.begin[c];
    if (m.minutes[int(Mode::adaptive_software)] > 0) {
      n.school[k][int(CostCategory::licences)] += students * p.licence_per_student;
      devices[k] += students * p.devices_per_student;
    }
    // Tutoring minutes are per subject and week.
    n.school[k][int(CostCategory::tutors)] += students * n_subjects * m.minutes[int(Mode::tutoring)] / 60.0 *
                                              model.weeks_per_year / p.tutoring_group_size * p.tutor_hourly_cost;
  }
  std::vector<std::uint32_t> pl_schools(n_districts, 0);
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    if (sc.pl_stage[k] == std::uint8_t(PlStage::none)) continue;
    pl_schools[sc.district[k]]++;
    n.school[k][int(CostCategory::data_systems)] += (sc.end[k] - sc.begin[k]) * p.data_system_per_student;
    // Launching: a pilot costs a share of a school-wide launch, the rest when it goes school-wide.
    const bool pilot = sc.pl_stage[k] == std::uint8_t(PlStage::pilot);
    if (sc.adopted_in_run[k] && sc.converted_year[k] == state.year + 1)
      n.school[k][int(CostCategory::launch)] += p.launch_cost_per_school * (pilot ? p.pilot_launch_share : 1.0);
    else if (sc.adopted_in_run[k] && sc.codified_year[k] == state.year + 1)
      n.school[k][int(CostCategory::launch)] += p.launch_cost_per_school * (1.0 - p.pilot_launch_share);
  }
  std::vector<double> coached(sc.size(), 0.0), coached_in(n_districts, 0.0);
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.practising[k]) continue;
    const std::uint32_t school = t.school[k];
    n.school[school][int(CostCategory::planning_time)] +=
        prep_minutes_provided(model, state, school) / 60.0 * model.weeks_per_year * p.teacher_hourly_cost;
    n.school[school][int(CostCategory::pd)] += model.district_spec(sc.district[school]).central_office.pd_days * p.pd_day_cost;
    coached[school] += sc.coached_share[school];
    coached_in[sc.district[school]] += sc.coached_share[school];
  }
  for (std::uint32_t d = 0; d < n_districts; ++d) {
    const DistrictSpec& spec = model.district_spec(d);
    // Coaches are paid for the teachers they serve (a district does not keep idle coaches).
    const double coaches = std::min<double>(spec.central_office.coaches,
                                            std::ceil(coached_in[d] / spec.central_office.coach_caseload - 1e-9));
    const double team = spec.rollout.enabled && pl_schools[d] > 0 ? std::ceil(pl_schools[d] / p.schools_per_central_fte) : 0.0;
    // Devices: what the PL classrooms need beyond those bought in the last lifetime years.
    double stock = 0;
    const auto& cohorts = state.funding[d].device_cohorts;
    for (int age = 0; age + 1 < p.device_lifetime_years && age < int(cohorts.size()); ++age) stock += cohorts[age];
    for (std::uint32_t k : n.schools_of[d]) n.devices_required[d] += devices[k];
    n.devices_to_buy[d] = std::max(0.0, n.devices_required[d] - stock);
    for (std::uint32_t k : n.schools_of[d]) {
      ByCategory& row = n.school[k];
      if (coached_in[d] > 0) row[int(CostCategory::coaches)] = coaches * p.coach_cost * coached[k] / coached_in[d];
      if (team > 0 && sc.pl_stage[k] != std::uint8_t(PlStage::none))
        row[int(CostCategory::central_team)] = team * p.central_team_cost / pl_schools[d];
      if (n.devices_required[d] > 0)
        row[int(CostCategory::devices)] = n.devices_to_buy[d] * p.device_price * devices[k] / n.devices_required[d];
      for (int c = 0; c < n_cost_categories; ++c) n.district[d][c] += row[c];
    }
  }
  return n;
}

}  // namespace

std::vector<std::string> payer_names(const Model& model) {
  std::vector<std::string> names{"district"};
  std::unordered_set<std::string> seen{"district"};  // a funder called "district" is the district's budget
  for (const GrantSpec& g : model.grants)
    if (seen.insert(g.funder).second) names.push_back(g.funder);
  return names;
}

void plan_launch_funds(const Model& model, State& state) {
  const int year = state.year + 1;
  for (std::uint32_t d = 0; d < state.districts.size(); ++d) {
    const DistrictSpec& spec = model.district_spec(d);
    DistrictFunding& f = state.funding[d];
    double earmarked = 0, general = spec.pl_budget_per_year;
    for (const std::uint32_t gi : model.grants_of(d)) {
      const GrantSpec& g = model.grants[gi];
      if (!active(g, year)) continue;
      if (g.category == int(CostCategory::launch)) earmarked += g.amount_per_year;
      else if (g.category < 0) general += g.amount_per_year;
    }
    f.launch_funds = earmarked + std::max(0.0, general - f.recurring_last_year);
  }
}

void pay_costs(const Model& model, State& state, Results& results) {
  const int year = state.year + 1;
  const CostParameters& p = model.params.costs;
  const std::vector<std::string> payers = payer_names(model);
  std::unordered_map<std::string, std::size_t> payer_of;
  for (std::size_t k = 0; k < payers.size(); ++k) payer_of.emplace(payers[k], k);
  const Needs n = price_needs(model, state);
  for (std::uint32_t d = 0; d < state.districts.size(); ++d) {
    const DistrictSpec& spec = model.district_spec(d);
    DistrictFunding& f = state.funding[d];
    // This year's money: earmarked grants (by category), flexible grants, the district's budget.
    struct Source {
      std::size_t payer;
      int category;  // -1: any
      double left;
      std::int64_t school;  // a school grant pays that school's costs only (-1: the district's)
    };
    const auto& own = n.schools_of[d];
    std::vector<Source> sources;
    for (const std::uint32_t gi : model.grants_of(d)) {
      const GrantSpec& g = model.grants[gi];
      if (active(g, year))
        sources.push_back({payer_of.at(g.funder), g.category, g.amount_per_year,
                           g.school < 0 ? -1 : std::int64_t(own.at(std::size_t(g.school)))});
    }
    sources.push_back({0, -1, spec.pl_budget_per_year, -1});
    // Paid per payer: by school grants, school by school; by the others, for the district's remainder.
    std::vector<ByCategory> by_payer(payers.size(), ByCategory{});
    std::vector<ByCategory> left_after_school_grants;  // by position in `own`
    left_after_school_grants.reserve(own.size());
    for (std::uint32_t k : own) left_after_school_grants.push_back(n.school[k]);
    std::vector<ByCategory> by_school_grant(own.size() * payers.size(), ByCategory{});
    double recurring = 0;
    // Categories in paying order (committed launches, what keeps classrooms running, their support);
    // each is paid from money earmarked for it, then from flexible grants, then from the budget; a
    // school's own grants pay its costs before the district's money does.
    for (int c = 0; c < n_cost_categories; ++c) {
      f.need[c] = n.district[d][c];
      for (int pass = 0; pass < 2; ++pass)
        for (Source& s : sources) {
          if (s.school < 0 || s.left <= 0 || !(pass == 0 ? s.category == c : s.category < 0)) continue;
          const auto j = std::size_t(std::find(own.begin(), own.end(), std::uint32_t(s.school)) - own.begin());
          double& due = left_after_school_grants[j][c];
          const double pay = std::min(due, s.left);
          s.left -= pay, due -= pay;
          by_school_grant[j * payers.size() + s.payer][c] += pay;
        }
      double remainder = 0;
      for (const ByCategory& left : left_after_school_grants) remainder += left[c];
      double due = remainder;
      for (int pass = 0; pass < 2 && due > 0; ++pass)
        for (Source& s : sources) {
          const bool match = pass == 0 ? s.category == c : s.category < 0;
          if (s.school >= 0 || !match || s.left <= 0 || due <= 0) continue;
          const double pay = std::min(due, s.left);
          s.left -= pay, due -= pay;
          by_payer[s.payer][c] += pay;
        }
      // What stays unpaid is cut district-wide (the cut shares act on every school of the district).
      f.paid[c] = n.district[d][c] - due;
      f.funded[c] = n.district[d][c] > 0 ? f.paid[c] / n.district[d][c] : 1.0;
      if (!cost_is_one_off[c]) recurring += f.paid[c];
    }
    f.recurring_last_year = recurring;
    // Devices bought this year join the stock; those older than their lifetime age out.
    auto& cohorts = f.device_cohorts;
    for (std::size_t age = cohorts.size() - 1; age > 0; --age) cohorts[age] = cohorts[age - 1];
    cohorts[0] = n.devices_to_buy[d] * f.funded[int(CostCategory::devices)];
    double stock = 0;
    for (int age = 0; age < p.device_lifetime_years; ++age) stock += cohorts[age];
    f.device_coverage = n.devices_required[d] > 0 ? std::min(1.0, stock / n.devices_required[d]) : 1.0;
    f.pd_days = spec.central_office.pd_days * f.funded[int(CostCategory::pd)];
    std::array<double, n_cost_categories> remainder{};
    for (const ByCategory& left : left_after_school_grants)
      for (int c = 0; c < n_cost_categories; ++c) remainder[c] += left[c];
    for (std::size_t j = 0; j < own.size(); ++j)
      for (int c = 0; c < n_cost_categories; ++c) {
        const std::uint32_t k = own[j];
        if (n.school[k][c] <= 0) continue;
        for (std::size_t payer = 0; payer < payers.size(); ++payer) {
          const double shared = remainder[c] > 0 ? by_payer[payer][c] * left_after_school_grants[j][c] / remainder[c] : 0.0;
          const double amount = by_school_grant[j * payers.size() + payer][c] + shared;
          if (amount > 0)
            results.costs.push_back({state.year, d, k, static_cast<std::uint8_t>(c), static_cast<std::uint16_t>(payer), amount});
        }
      }
  }
}

}  // namespace plsim
