#include "plsim/modules/population.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "plsim/model.hpp"
#include "plsim/modules/classrooms.hpp"
#include "plsim/modules/enrolment.hpp"
#include "plsim/modules/schools.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

// Student-SD components of starting achievement (national reference population): school effect,
// FRL composition and the student's own deviation, so that the national mean is 0 with SD 1 and the
// SD of school means is `school_mean_sd`.
struct AchievementVariance {
  double district_effect_sd;
  double school_effect_sd;
  double within_sd;
  double subject_residual_correlation;
};

AchievementVariance achievement_variance(const PopulationParameters& p) {
  const double between_frl = p.frl_achievement_gap * p.national_frl_share_sd;
  const double school_effect_var =
      p.school_mean_sd * p.school_mean_sd - between_frl * between_frl - p.district_mean_sd * p.district_mean_sd;
  const double within_frl_var = p.frl_achievement_gap * p.frl_achievement_gap *
                                std::max(0.0, p.national_frl_share * (1 - p.national_frl_share) -
                                                  p.national_frl_share_sd * p.national_frl_share_sd);
  const double within_var = 1.0 - p.school_mean_sd * p.school_mean_sd - within_frl_var;
  const double shared = 1.0 - within_var;  // identical in both subjects
  const double residual = std::clamp((p.subject_correlation - shared) / within_var, -1.0, 1.0);
  return {p.district_mean_sd, std::sqrt(std::max(0.0, school_effect_var)), std::sqrt(within_var), residual};
}

// Mask of `n` recent units each a gap with probability `share` (8-bit resolution, bit-sliced from
// random words so the mask costs four Philox calls whatever its length).
std::uint64_t random_gap_mask(const Rng& rng, std::uint32_t id, int subject, double share, int n) {
  if (n <= 0 || share <= 0) return 0;
  const auto level = static_cast<std::uint32_t>(std::clamp(share, 0.0, 1.0) * 256.0);
  std::uint64_t mask = 0;
  for (int pair = 0; pair < 4; ++pair) {
    const auto w = rng.words(Stream::student_gaps, id, static_cast<std::uint32_t>(subject), pair);
    for (int half = 0; half < 2; ++half) {
      const int bit = 2 * pair + half;
      const std::uint64_t word = std::uint64_t(w[2 * half]) << 32 | w[2 * half + 1];
      mask = (level >> bit) & 1u ? (mask | word) : (mask & word);
    }
  }
  if (level >= 256) mask = ~std::uint64_t(0);
  return n >= 64 ? mask : mask & ((std::uint64_t(1) << n) - 1);
}

// Largest-remainder counts of a group's `n` schools per instructional model of `shares`, then a
// seeded shuffle of which school gets which.
std::vector<std::uint32_t> assign_instructional_models(const Model& model,
                                                       const std::vector<std::pair<int, double>>& shares, int n,
                                                       std::uint32_t first_school) {
  std::vector<int> counts;
  std::vector<std::pair<double, std::size_t>> remainders;
  int assigned = 0;
  for (std::size_t k = 0; k < shares.size(); ++k) {
    const double exact = shares[k].second * n;
    counts.push_back(static_cast<int>(std::floor(exact)));
    assigned += counts.back();
    remainders.emplace_back(-(exact - std::floor(exact)), k);
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t k = 0; assigned < n; ++k, ++assigned) counts[remainders[k % remainders.size()].second]++;
  std::vector<std::uint32_t> assigned_models;
  for (std::size_t k = 0; k < counts.size(); ++k)
    assigned_models.insert(assigned_models.end(), counts[k], static_cast<std::uint32_t>(shares[k].first));
  const Rng rng(model.seed);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> keyed;
  for (int i = 0; i < n; ++i)
    keyed.emplace_back(rng.words(Stream::school_models, first_school + i, 0)[0], static_cast<std::uint32_t>(i));
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::uint32_t> out(n);
  for (int i = 0; i < n; ++i) out[keyed[i].second] = assigned_models[i];
  return out;
}

// The models that decide which of a group's schools are PL schools: the policy arm's, in both arms.
const std::vector<std::pair<int, double>>& policy_models_of(const SchoolGroupSpec& group) {
  return group.policy_models.empty() ? group.instructional_models : group.policy_models;
}

// The school traits drawn by strata: FRL share, achievement effect, growth effect.
enum SchoolTrait { frl_trait, achievement_trait, growth_trait, n_school_traits };
using SchoolNormals = std::array<double, n_school_traits>;

// Stratified (Latin hypercube) standard normals for the entities `ids` (the schools of one school group
// in every copy of its district, or the copies of a district): for each trait, a seeded shuffle gives
// every entity one of n equally likely strata, and its own uniform draw places it inside. So a group
// that stands for a population has effects that average out across it, as a sample of that population
// should, while each entity's draw stays a function of its stable id.
std::vector<SchoolNormals> stratified_normals(const Model& model, const std::vector<std::uint32_t>& ids,
                                              Stream strata_stream, Stream own_stream) {
  const Rng rng(model.seed);
  const std::size_t n = ids.size();
  std::vector<SchoolNormals> out(n);
  for (int t = 0; t < n_school_traits; ++t) {
    std::vector<std::pair<std::uint32_t, std::size_t>> keyed;
    for (std::size_t j = 0; j < n; ++j)
      keyed.emplace_back(rng.words(strata_stream, ids[j], static_cast<std::uint32_t>(t))[0], j);
    std::sort(keyed.begin(), keyed.end());
    for (std::size_t stratum = 0; stratum < n; ++stratum) {
      const std::size_t j = keyed[stratum].second;
      const double u = uniform01(rng.words(own_stream, ids[j], 0)[t]);
      out[j][t] = inverse_normal_cdf((double(stratum) + u) / double(n));
    }
  }
  return out;
}

void add_school(const Model& model, State& state, const SchoolGroupSpec& group, std::uint32_t district,
                std::uint32_t instructional_model, std::uint32_t policy_model, const SchoolNormals& z) {
  const AchievementVariance var = achievement_variance(model.params.population);
  const Rng rng(model.seed);
  auto& sc = state.schools;
  const auto index = static_cast<std::uint32_t>(sc.size());
  sc.id.push_back(index);
  sc.district.push_back(district);
  sc.level.push_back(static_cast<std::uint8_t>(group.level));
  sc.type.push_back(static_cast<std::uint8_t>(group.type));
  sc.grade_lo.push_back(static_cast<std::uint8_t>(group.grade_lo));
  sc.grade_hi.push_back(static_cast<std::uint8_t>(group.grade_hi));
  sc.class_size.push_back(static_cast<std::uint16_t>(group.class_size));
  sc.instructional_model.push_back(instructional_model);
  const int n_served = group.grade_hi - group.grade_lo + 1;
  sc.grade_enrollment.push_back(static_cast<std::uint32_t>(std::max(1L, std::lround(double(group.enrollment) / n_served))));
  sc.frl_share.push_back(
      static_cast<float>(std::clamp(group.frl_share_mean + group.frl_share_sd * z[frl_trait], 0.0, 1.0)));
  sc.achievement_shift.push_back(static_cast<float>(state.districts.achievement_shift[district] +
                                                    group.achievement_shift_sd + var.school_effect_sd * z[achievement_trait]));
  sc.growth_multiplier.push_back(
      static_cast<float>(lognormal_multiplier(model.params.learning.school_growth_sd, z[growth_trait])));
  const auto n3 = standard_normals(rng.words(Stream::school_traits, index, 2));
  const auto n4 = standard_normals(rng.words(Stream::school_traits, index, 3));
  // A school's capacities share a school-wide quality draw (fidelity_school_correlation) beside their
  // own: schools differ in how well they implement, more than elements do within a school.
  const double rho = model.params.personalization.fidelity_school_correlation;
  const auto w_quality = rng.words(Stream::school_traits, index, 4);
  const double quality = standard_normal(w_quality[0], w_quality[1]);
  std::array<double, n_elements> capacity_noise{n3.first, n3.second, n4.first, n4.second};
  for (double& z : capacity_noise) z = rho * quality + std::sqrt(1 - rho * rho) * z;
  for (int e = 0; e < n_elements; ++e)
    sc.fidelity[e].push_back(
        static_cast<float>(std::clamp(group.fidelity[e] + group.fidelity_sd * capacity_noise[e], 0.0, 1.0)));
  sc.implementation_year.push_back(static_cast<std::uint8_t>(group.implementation_year));
  sc.feeder_next.push_back(-1);
  for (auto* column : {&sc.begin, &sc.end, &sc.class_begin, &sc.class_end, &sc.teachers_hired, &sc.first_entrant_id,
                       &sc.entrants})
    column->push_back(0);
  draw_school_conditions(model, state, index, static_cast<int>(policy_model) != model.instructional_model_index("traditional"));
}

// Draws student i's traits into the (already sized) columns; every trait is a function of (seed, id).
void init_student(const Model& model, State& state, std::size_t i, std::uint32_t school, int grade, std::uint32_t id) {
  const PopulationParameters& p = model.params.population;
  const LearningParameters& L = model.params.learning;
  const Rng rng(model.seed);
  const AchievementVariance var = achievement_variance(p);
  StudentColumns& st = state.students;

  const auto w0 = rng.words(Stream::student_traits, id, 0);
  const auto w1 = rng.words(Stream::student_traits, id, 1);
  const auto n0 = standard_normals(w0);
  const auto n1 = standard_normals(w1);
  const auto w2 = rng.words(Stream::student_traits, id, 2);
  const auto n2 = standard_normals(w2);

  const bool frl = uniform01(rng.words(Stream::student_traits, id, 3)[0]) < state.schools.frl_share[school];
  const double frl_shift = -p.frl_achievement_gap * ((frl ? 1.0 : 0.0) - p.national_frl_share);
  const double shared = state.schools.achievement_shift[school] + frl_shift;
  const double r = var.subject_residual_correlation;
  const std::array<double, n_subjects> z{
      shared + var.within_sd * n0.first,
      shared + var.within_sd * (r * n0.first + std::sqrt(1 - r * r) * n0.second)};
  const double z_mean = 0.5 * (z[0] + z[1]);

  st.id[i] = id;
  st.school[i] = school;
  st.classroom[i] = 0;
  st.grade[i] = static_cast<std::uint8_t>(grade);
  st.frl[i] = static_cast<std::uint8_t>(frl);
  const double rl = L.learning_rate_achievement_correlation;
  const double aptitude = lognormal_multiplier(L.learning_rate_sd, rl * z_mean + std::sqrt(1 - rl * rl) * n1.first);
  const double rs = p.self_regulation_achievement_correlation;
  st.self_regulation[i] = static_cast<float>(std::clamp(
      p.self_regulation_mean + p.self_regulation_sd * (rs * z_mean + std::sqrt(1 - rs * rs) * n1.second), 0.0, 1.0));
  st.engagement[i] = static_cast<float>(L.engagement_baseline);
  st.autonomy[i] = 0;
  st.ever_pl[i] = 0;
  st.attendance[i] = static_cast<float>(
      std::clamp(p.attendance_mean - (frl ? p.attendance_frl_gap : 0.0) + p.attendance_sd * n2.first, 0.5, 1.0));

  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const NormCell& norm = model.norms.at(subject, Season::fall, grade);
    const double x = model.scale.position(subject, norm.mean + norm.sd * z[s]);
    const double share = std::clamp(p.gap_share_base + p.gap_share_per_sd_below * std::max(0.0, -z[s]), 0.0, 0.6);
    const double mastered = std::floor(x);
    int gaps = static_cast<int>(std::lround(mastered * share / (1.0 - share)));
    std::uint64_t recent = random_gap_mask(rng, id, s, share, static_cast<int>(mastered) + gaps);
    gaps = std::max(gaps, std::popcount(recent));
    const int frontier = std::min(65535, static_cast<int>(mastered) + gaps);
    st.learning_rate[s][i] = static_cast<float>(aptitude);
    st.frontier[s][i] = static_cast<std::uint16_t>(frontier);
    st.gaps[s][i] = static_cast<std::uint16_t>(gaps);
    st.recent_gaps[s][i] = recent;
    st.p_known[s][i] = static_cast<float>(x - mastered);
    // A student who keeps pace holds the fragile knowledge of steady state, less what last summer took
    // of it (summer forgets the fragile part first): the first year forgets like the later ones. The
    // steady state counts what he learns before forgetting: the norm's growth over the share kept.
    const double lambda = L.forgetting_rate, kappa = L.consolidation_rate;
    const double turnover = 1.0 - std::exp(-(lambda + kappa));
    const double learned = turnover > 0 ? model.pacing_per_week[s][grade] * (lambda + kappa) / std::max(kappa, 1e-9) : 0.0;
    const double steady = turnover > 0 ? std::min(learned, 1e6) * (1.0 - turnover) / turnover : 0.0;
    const double summer = grade > 0 ? std::max(0.0, model.summer_loss[s][grade - 1]) : 0.0;
    st.fragile[s][i] = fragile_stored(static_cast<float>(std::max(0.0, L.fragile_start[s][grade] * steady - summer)));
    st.score[s][i] = static_cast<float>(norm.mean + norm.sd * z[s]);
    st.group_target[s][i] = static_cast<float>(frontier);
    st.start_quintile[s][i] = 0;
    st.baseline_z[s][i] = std::numeric_limits<float>::quiet_NaN();
  }
}

}  // namespace

std::vector<ScheduledSchool> scheduled_schools(const Model& model) {
  std::vector<ScheduledSchool> out;
  bool any = false;
  for (const DistrictSpec& spec : model.districts)
    for (const SchoolGroupSpec& group : spec.schools) any = any || group.limits_model_years();
  if (!any) return out;
  const int traditional = model.instructional_model_index("traditional");
  // Schools in the order build_population creates them: district by district, copy by copy, group by
  // group; their models drawn as it draws them.
  std::uint32_t first_school = 0;
  for (const DistrictSpec& spec : model.districts)
    for (int copy = 0; copy < spec.count; ++copy)
      for (const SchoolGroupSpec& group : spec.schools) {
        if (group.limits_model_years()) {
          const auto own = assign_instructional_models(model, group.instructional_models, group.count, first_school);
          const auto policy = assign_instructional_models(model, policy_models_of(group), group.count, first_school);
          for (int k = 0; k < group.count; ++k)
            if (static_cast<int>(policy[k]) != traditional)
              out.push_back({first_school + static_cast<std::uint32_t>(k), &group, own[k]});
        }
        first_school += static_cast<std::uint32_t>(group.count);
      }
  return out;
}

void add_students(const Model& model, State& state, const std::vector<NewStudent>& students) {
  StudentColumns& st = state.students;
  const std::size_t first = st.size();
  while (first + students.size() > st.id.capacity()) grow_student_columns(state);
  st.for_each_column([&](auto& column) { column.resize(first + students.size()); });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, students.size(), 1024), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t j = r.begin(); j != r.end(); ++j)
      init_student(model, state, first + j, students[j].school, students[j].grade, students[j].id);
  });
}

State build_population(const Model& model, const std::function<bool()>& keep_going) {
  State state;
  std::size_t work = 0;
  // Asked between pieces of work, never inside one: a cancelled set-up leaves nothing half-built behind
  // (the State is discarded).
  auto check = [&](std::size_t done) {
    work += done;
    if (work >= 4096) {
      work = 0;
      if (keep_going && !keep_going()) throw SetupCancelled();
    }
  };
  for (const DistrictSpec& spec : model.districts) {
    // School ids are given in order: copy by copy, group by group. Each group's schools in every copy
    // of the district share one stratified draw.
    const auto first_id = static_cast<std::uint32_t>(state.schools.size());
    std::uint32_t per_copy = 0;
    for (const SchoolGroupSpec& group : spec.schools) per_copy += static_cast<std::uint32_t>(group.count);
    std::vector<std::vector<SchoolNormals>> strata;
    for (std::uint32_t g = 0, offset = 0; g < spec.schools.size(); offset += spec.schools[g].count, ++g) {
      std::vector<std::uint32_t> ids;
      for (int copy = 0; copy < spec.count; ++copy)
        for (int k = 0; k < spec.schools[g].count; ++k) ids.push_back(first_id + copy * per_copy + offset + k);
      strata.push_back(stratified_normals(model, ids, Stream::school_strata, Stream::school_traits));
    }
    // District effects, stratified the same way over the copies of a district that stands for many
    // (count > 1); a single district is where the scenario puts it (its achievement_shift_sd).
    std::vector<std::uint32_t> district_ids;
    for (int copy = 0; copy < spec.count; ++copy)
      district_ids.push_back(static_cast<std::uint32_t>(state.districts.size() + copy));
    const auto district_effects = stratified_normals(model, district_ids, Stream::district_strata, Stream::district_traits);
    const double district_sd = spec.count > 1 ? achievement_variance(model.params.population).district_effect_sd : 0.0;
    for (int copy = 0; copy < spec.count; ++copy) {
      const auto district = static_cast<std::uint32_t>(state.districts.size());
      state.districts.id.push_back(district);
      state.districts.name.push_back(spec.count > 1 ? spec.name + "-" + std::to_string(copy + 1) : spec.name);
      state.districts.achievement_shift.push_back(
          static_cast<float>(spec.achievement_shift_sd + district_sd * district_effects[copy][0]));
      const auto first = static_cast<std::uint32_t>(state.schools.size());
      for (std::size_t g = 0; g < spec.schools.size(); ++g) {
        const SchoolGroupSpec& group = spec.schools[g];
        const auto first_school = static_cast<std::uint32_t>(state.schools.size());
        const auto assigned = assign_instructional_models(model, group.instructional_models, group.count, first_school);
        const auto policy = assign_instructional_models(model, policy_models_of(group), group.count, first_school);
        for (int k = 0; k < group.count; ++k) {
          add_school(model, state, group, district, assigned[k], policy[k], strata[g][std::size_t(copy) * group.count + k]);
          check(1);
        }
      }
      link_feeders(state, first, static_cast<std::uint32_t>(state.schools.size()));
    }
  }
  SchoolColumns& sc = state.schools;
  std::size_t expected = 0;
  for (std::size_t k = 0; k < sc.size(); ++k)
    expected += std::size_t(sc.grade_enrollment[k]) * (sc.grade_hi[k] - sc.grade_lo[k] + 1);
  // A quarter more than the starting population: room for feeder imbalances without moving any
  // column (beyond it, grow_student_columns moves them and keeps the old buffers alive).
  state.students.for_each_column([&](auto& column) { column.reserve(expected + expected / 4 + 1024); });
  // Stable student ids: the first year's students are numbered school by school, grade by grade; then
  // each school owns a block of ids for its later entrants, as large as its enrollment times the most
  // years a scenario may run (entry never exceeds the enrollment), so who enters one school never
  // shifts the ids, and hence the draws, of another's students, and a run's first years do not depend
  // on how many years it runs.
  // Drawn in parallel, a batch of schools at a time so that Ctrl-C is heard between batches.
  std::uint32_t id = 0;
  std::vector<NewStudent> batch;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    for (int g = sc.grade_lo[k]; g <= sc.grade_hi[k]; ++g)
      for (std::uint32_t i = 0; i < sc.grade_enrollment[k]; ++i)
        batch.push_back({k, static_cast<std::uint8_t>(g), id++});
    if (batch.size() >= (1u << 18) || k + 1 == sc.size()) {
      add_students(model, state, batch);
      check(batch.size());
      batch.clear();
    }
  }
  std::uint64_t next_block = id;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    sc.first_entrant_id[k] = static_cast<std::uint32_t>(next_block);
    next_block += std::uint64_t(sc.grade_enrollment[k]) * (sc.grade_hi[k] - sc.grade_lo[k] + 1) * max_years;
  }
  // The scenario's limits (50 million students, max_years) keep this below 2^32.
  if (next_block > 0xffffffffull) throw std::length_error("student ids: more than 2^32 over the run");
  state.rollout.assign(state.districts.size(), DistrictRollout{});
  state.funding.assign(state.districts.size(), DistrictFunding{});
  // Before its teachers are hired: a group whose model starts in a later year starts traditional.
  apply_model_years(model, state);
  refresh_school_conditions(model, state);
  form_classrooms(model, state);
  assign_practice(model, state);
  return state;
}

}  // namespace plsim
