#include "plsim/modules/teachers.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "plsim/model.hpp"
#include "plsim/modules/learning.hpp"
#include "plsim/results.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

double turnover_of(const TeacherParameters& p, float frl_share, double burnout = 0.0) {
  const bool high_poverty = frl_share >= p.high_poverty_frl_share;
  return std::min(1.0, p.turnover_rate * (high_poverty ? p.high_poverty_turnover_ratio : 1.0) *
                           (1.0 + p.burnout_turnover * burnout));
}

// Multiplier of a teacher with `experience` years relative to an experienced one, novice at year 0.
double experience_multiplier(double novice, double experience, double scale) {
  return 1.0 - (1.0 - novice) * std::exp(-experience / scale);
}

// Effectiveness: value added, experience and the coaching dose. PL capacity: base capacity,
// experience, skill at the model, buy-in (around its mean) and the preparation deficit.
void set_experienced_traits(const TeacherParameters& p, TeacherColumns& t, std::uint32_t k) {
  t.effectiveness[k] = static_cast<float>(
      t.value_added[k] * experience_multiplier(p.novice_effectiveness, t.experience[k], p.experience_scale) *
      (1.0 + p.coaching_effectiveness_gain * t.coached[k]));
  const double buy_in = std::max(0.0, 1.0 + p.buy_in_weight * (t.buy_in[k] - typical_buy_in));
  t.capacity[k] = static_cast<float>(t.base_capacity[k] *
                                     experience_multiplier(p.novice_capacity, t.experience[k], p.experience_scale) *
                                     t.pl_skill[k] * buy_in * (1.0 - p.prep_fidelity_loss * t.prep_deficit[k]));
}

// A ceiling holds for classrooms too. A plan counts a pilot as pilot_share of its students before
// classrooms form; once they have, a district whose practising teachers' classrooms would take it past
// its ceiling keeps the practitioners of its newest adopters, least bought-in first, traditional this
// year (state.rollout[d].held_back counts them). Schools on a model from the scenario are never held back.
void hold_back_past_ceiling(const Model& model, State& state, std::vector<std::uint32_t>& n_practising) {
  const std::size_t n_districts = state.districts.size();
  std::vector<double> ceiling(n_districts, -1.0);  // -1: the district's plan sets no ceiling
  bool any = false;
  for (std::uint32_t d = 0; d < n_districts; ++d) {
    state.rollout[d].held_back = 0;
    const RolloutSpec& plan = model.district_spec(d).rollout;
    if (plan.enabled && plan.target_kind == TargetKind::at_most) ceiling[d] = plan.target(state.year + 1), any = true;
  }
  if (!any) return;
  const SchoolColumns& sc = state.schools;
  const ClassroomColumns& cl = state.classrooms;
  TeacherColumns& t = state.teachers;
  std::vector<double> students(n_districts, 0.0), taught_pl(n_districts, 0.0);
  for (std::uint32_t k = 0; k < sc.size(); ++k) students[sc.district[k]] += sc.end[k] - sc.begin[k];
  std::vector<std::uint32_t> taught(t.size(), 0);
  for (std::uint32_t c = 0; c < cl.size(); ++c) taught[cl.teacher[c]] += cl.end[c] - cl.begin[c];
  std::vector<std::uint32_t> releasable;
  for (std::uint32_t j = 0; j < t.size(); ++j) {
    if (!t.practising[j]) continue;
    const std::uint32_t d = sc.district[t.school[j]];
    taught_pl[d] += taught[j];
    if (ceiling[d] >= 0 && sc.adopted_in_run[t.school[j]] && taught[j] > 0) releasable.push_back(j);
  }
  std::stable_sort(releasable.begin(), releasable.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::pair(sc.implementation_year[t.school[a]], t.buy_in[a]) <
           std::pair(sc.implementation_year[t.school[b]], t.buy_in[b]);
  });
  for (std::uint32_t j : releasable) {
    const std::uint32_t d = sc.district[t.school[j]];
    if (taught_pl[d] <= ceiling[d] * students[d]) continue;
    t.practising[j] = 0, t.prep_deficit[j] = 0;
    taught_pl[d] -= taught[j];
    n_practising[t.school[j]]--;
    state.rollout[d].held_back++;
  }
}

}  // namespace

std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school) {
  const Rng rng(model.seed);
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  const auto index = static_cast<std::uint32_t>(t.size());
  // A teacher is the school's n-th hire: draws keyed by (school, n) stay the same whoever else is hired.
  const std::uint32_t school_id = state.schools.id[school];
  const std::uint32_t serial = state.schools.teachers_hired[school]++;
  const auto w = rng.words(Stream::teacher_traits, school_id, serial, 0);
  t.id.push_back(std::uint64_t(school_id) << 32 | serial);
  t.school.push_back(school);
  t.value_added.push_back(
      static_cast<float>(lognormal_multiplier(model.params.learning.teacher_effect_sd, standard_normal(w[0], w[1]))));
  t.base_capacity.push_back(static_cast<float>(
      std::clamp(1.0 + model.params.personalization.teacher_capacity_sd * standard_normal(w[2], w[3]), 0.0, 1.5)));
  // The first year's teachers have the experience of a steady turnover r: P(e years) = r (1 - r)^e.
  int experience = 0;
  const double r = turnover_of(p, state.schools.frl_share[school]);
  if (state.year == 0 && r > 0 && r < 1) {
    const double u = uniform01(rng.words(Stream::teacher_traits, school_id, serial, 1)[0]);
    experience = std::min(40, static_cast<int>(std::log(u) / std::log(1 - r)));
  }
  t.experience.push_back(static_cast<std::uint8_t>(experience));
  t.active.push_back(1);
  // The first year's teachers of a school already on a PL model are established practitioners.
  const bool established = state.year == 0 && state.schools.pl_stage[school] != std::uint8_t(PlStage::none);
  t.pl_skill.push_back(static_cast<float>(established ? 1.0 : p.hire_pl_skill));
  const auto b = rng.words(Stream::teacher_buy_in, school_id, serial, 0);
  t.buy_in.push_back(static_cast<float>(std::clamp(p.buy_in_mean + p.buy_in_sd * standard_normal(b[0], b[1]), 0.0, 1.0)));
  t.burnout.push_back(0);
  t.practising.push_back(0);
  t.coached.push_back(0);
  t.prep_deficit.push_back(0);
  // An established practitioner has practised as long as his school has had its model.
  t.years_on_model.push_back(established ? static_cast<std::uint8_t>(std::max(0, state.schools.implementation_year[school] - 1)) : 0);
  t.leaving.push_back(0);
  t.effectiveness.push_back(0);
  t.capacity.push_back(0);
  set_experienced_traits(p, t, index);
  return index;
}

void refresh_teacher_traits(const Model& model, State& state) {
  for (std::uint32_t k = 0; k < state.teachers.size(); ++k)
    if (state.teachers.active[k]) set_experienced_traits(model.params.teachers, state.teachers, k);
}

TeacherYearRow& teacher_row(Results& results, int year) {
  if (results.teachers.empty() || results.teachers.back().year != year) {
    TeacherYearRow row;
    row.year = year;
    row.mean_experience_stayers = std::nan("");  // until the year-end decisions
    results.teachers.push_back(row);
  }
  return results.teachers.back();
}

void decide_leavers(const Model& model, State& state, Results& results) {
  const Rng rng(model.seed);
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  TeacherYearRow& row = teacher_row(results, state.year);
  row.teachers = row.leavers = row.teachers_high_poverty = row.leavers_high_poverty = 0;
  double experience = 0;
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    t.leaving[k] = 0;
    if (!t.active[k]) continue;
    // The year's burnout: what was left of last year's, plus this year's preparation deficit.
    t.burnout[k] = static_cast<float>(
        std::clamp((1.0 - p.burnout_recovery) * t.burnout[k] + p.burnout_gain * t.prep_deficit[k], 0.0, 1.0));
    const std::uint32_t school = t.school[k];
    const bool high_poverty = state.schools.frl_share[school] >= p.high_poverty_frl_share;
    const auto serial = static_cast<std::uint32_t>(t.id[k] & 0xffffffffu);
    // Keyed by the year he would not return for (the transition the decision takes effect at): the same
    // teacher's decision in both arms of a comparison, whatever else either arm draws.
    const auto next_year = static_cast<std::uint32_t>(state.year + 1);
    const double u = uniform01(rng.words(Stream::teacher_turnover, state.schools.id[school], next_year, serial)[0]);
    const bool leaves = u < turnover_of(p, state.schools.frl_share[school], t.burnout[k]);
    t.leaving[k] = leaves;
    row.teachers++;
    row.leavers += leaves;
    row.teachers_high_poverty += high_poverty;
    row.leavers_high_poverty += leaves && high_poverty;
    if (!leaves) experience += std::min(255, t.experience[k] + 1);  // his experience next year
  }
  const std::uint32_t stayed = row.teachers - row.leavers;
  row.mean_experience_stayers = stayed ? experience / stayed : 0;
}

void turn_over_teachers(const Model& model, State& state) {
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.active[k]) continue;
    if (t.leaving[k]) {
      t.active[k] = 0, t.practising[k] = 0, t.leaving[k] = 0;
      continue;
    }
    t.experience[k] = static_cast<std::uint8_t>(std::min(255, t.experience[k] + 1));
    set_experienced_traits(p, t, k);
  }
}

void develop_teachers(const Model& model, State& state) {
  const TeacherParameters& p = model.params.teachers;
  TeacherColumns& t = state.teachers;
  const SchoolColumns& sc = state.schools;
  // Last year's practice: per school and per district, teachers teaching and practising.
  std::vector<std::uint32_t> teaching(sc.size(), 0), practising(sc.size(), 0);
  std::vector<std::uint32_t> district_teaching(state.districts.size(), 0), district_practising(state.districts.size(), 0);
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.active[k]) continue;
    teaching[t.school[k]]++, practising[t.school[k]] += t.practising[k];
    district_teaching[sc.district[t.school[k]]]++, district_practising[sc.district[t.school[k]]] += t.practising[k];
  }
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.active[k]) continue;
    const std::uint32_t school = t.school[k], district = sc.district[school];
    const CentralOfficeSpec& office = model.district_spec(district).central_office;
    const bool practised = t.practising[k];
    if (practised && t.years_on_model[k] < 255) t.years_on_model[k]++;
    double support = p.skill_coaching * t.coached[k];
    if (practised) {
      const double peers = teaching[school] > 1 ? double(practising[school] - 1) / double(teaching[school] - 1) : 0.0;
      // The PD days its district paid for last year.
      support += p.skill_pd_per_day * state.funding[district].pd_days + p.skill_peers * peers;
      if (office.knowledge_management && district_teaching[district] > 0)
        support += p.skill_knowledge_management * double(district_practising[district]) / district_teaching[district];
    }
    const double growth = support + (practised ? p.skill_iteration : 0.0);
    double s = t.pl_skill[k];
    s += (1.0 - s) * (1.0 - std::exp(-growth));
    // Without support, skill above the untrained level fades.
    const double unsupported = std::max(0.0, 1.0 - support / p.support_reference);
    if (s > p.hire_pl_skill) s -= p.skill_decay * unsupported * (s - p.hire_pl_skill);
    t.pl_skill[k] = static_cast<float>(std::clamp(s, 0.0, 1.0));
    // Burnout (last year's, updated at its end by decide_leavers) costs buy-in.
    if (practised) {
      double b = t.buy_in[k];
      b += p.buy_in_support_gain * std::min(1.0, support / p.support_reference) * (1.0 - b) -
           p.buy_in_burnout_loss * t.burnout[k] * b;
      t.buy_in[k] = static_cast<float>(std::clamp(b, 0.0, 1.0));
    }
  }
}

void assign_practice(const Model& model, State& state) {
  const TeacherParameters& p = model.params.teachers;
  const SchoolParameters& q = model.params.schools;
  TeacherColumns& t = state.teachers;
  SchoolColumns& sc = state.schools;
  ClassroomColumns& cl = state.classrooms;
  const auto traditional = static_cast<std::uint32_t>(model.instructional_model_index("traditional"));
  for (std::uint32_t k = 0; k < t.size(); ++k) t.practising[k] = 0, t.coached[k] = 0, t.prep_deficit[k] = 0;
  refresh_school_conditions(model, state);  // data systems follow what the district paid for

  // Who practises: every teacher of a school-wide school, the most bought-in of a pilot school.
  std::vector<std::uint32_t> n_practising(sc.size(), 0);
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    const auto stage = static_cast<PlStage>(sc.pl_stage[k]);
    if (stage == PlStage::none || sc.instructional_model[k] == traditional) continue;
    std::vector<std::uint32_t> teachers;
    for (std::uint32_t c = sc.class_begin[k]; c < sc.class_end[k]; ++c) teachers.push_back(cl.teacher[c]);
    std::sort(teachers.begin(), teachers.end());
    teachers.erase(std::unique(teachers.begin(), teachers.end()), teachers.end());
    std::size_t n = teachers.size();
    if (stage == PlStage::pilot)
      n = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(q.pilot_share * teachers.size())));
    // Classrooms without the devices, licences or tutors the model needs stay traditional.
    const InstructionalModel& m = model.instructional_models[sc.instructional_model[k]];
    const DistrictFunding& money = state.funding[sc.district[k]];
    double covered = 1.0;
    if (m.minutes[int(Mode::adaptive_software)] > 0)
      covered = std::min({covered, money.funded[int(CostCategory::licences)], money.device_coverage});
    if (m.minutes[int(Mode::tutoring)] > 0) covered = std::min(covered, money.funded[int(CostCategory::tutors)]);
    if (covered < 1.0) n = static_cast<std::size_t>(std::floor(covered * double(n) + 1e-9));
    std::stable_sort(teachers.begin(), teachers.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return t.buy_in[a] > t.buy_in[b]; });
    const double need = q.prep_minutes_per_ask * m.asks_total();
    const double provided = prep_minutes_provided(model, state, k) * money.funded[int(CostCategory::planning_time)];
    const double deficit = need > 0 ? std::max(0.0, need - provided) / need : 0.0;
    for (std::size_t j = 0; j < std::min(n, teachers.size()); ++j) {
      t.practising[teachers[j]] = 1;
      t.prep_deficit[teachers[j]] = static_cast<float>(deficit);
    }
    n_practising[k] = static_cast<std::uint32_t>(std::min(n, teachers.size()));
  }
  hold_back_past_ceiling(model, state, n_practising);

  // Coaching: each district's coaches serve its practising teachers, newest PL schools first; schools
  // in the same implementation year share what is left alike (no school is favoured by its index).
  // (district, implementation year) -> its PL schools, in one pass over the schools.
  std::map<std::pair<std::uint32_t, int>, std::vector<std::uint32_t>> groups;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    sc.coached_share[k] = 0;
    if (n_practising[k] > 0) groups[{sc.district[k], sc.implementation_year[k]}].push_back(k);
  }
  std::vector<double> slots(state.districts.size());
  for (std::uint32_t d = 0; d < state.districts.size(); ++d) {
    const CentralOfficeSpec& office = model.district_spec(d).central_office;
    slots[d] = double(office.coaches) * office.coach_caseload * state.funding[d].funded[int(CostCategory::coaches)];
  }
  for (const auto& [key, schools] : groups) {  // by district, then newest schools first
    double& left = slots[key.first];
    if (left <= 0) continue;
    double need = 0;
    for (std::uint32_t k : schools) need += n_practising[k];
    const double share = std::min(1.0, left / need);
    for (std::uint32_t k : schools) sc.coached_share[k] = static_cast<float>(share);
    left -= share * need;
  }
  for (std::uint32_t k = 0; k < t.size(); ++k) {
    if (!t.practising[k]) continue;
    const CentralOfficeSpec& office = model.district_spec(sc.district[t.school[k]]).central_office;
    const double dose = office.coach_caseload > 0 ? std::min(1.0, p.coach_reference_caseload / office.coach_caseload) : 0.0;
    t.coached[k] = static_cast<float>(sc.coached_share[t.school[k]] * dose);
  }
  for (std::uint32_t c = 0; c < cl.size(); ++c)
    cl.instructional_model[c] = t.practising[cl.teacher[c]] ? sc.instructional_model[cl.school[c]] : traditional;
  refresh_teacher_traits(model, state);
  // Each school's delivered fidelity in its PL classrooms (what a principal sees of the pilot).
  std::vector<double> delivered(sc.size(), 0.0);
  std::vector<std::uint32_t> pl_classrooms(sc.size(), 0);
  for (std::uint32_t c = 0; c < cl.size(); ++c)
    if (cl.instructional_model[c] != traditional)
      delivered[cl.school[c]] += delivered_share(model, state, c), pl_classrooms[cl.school[c]]++;
  for (std::uint32_t k = 0; k < sc.size(); ++k)
    sc.delivered_fidelity[k] = pl_classrooms[k] ? static_cast<float>(delivered[k] / pl_classrooms[k]) : 0.0f;
  // The PL cohort: every student enrolled in a school at a PL stage (in both arms alike).
  StudentColumns& st = state.students;
  for (std::uint32_t i = 0; i < st.size(); ++i)
    if (sc.pl_stage[st.school[i]] != std::uint8_t(PlStage::none) && !st.ever_pl[i]) {
      st.ever_pl[i] = 1, state.students_reached++;
      state.rollout[sc.district[st.school[i]]].students_reached++;
    }
}

}  // namespace plsim
