#include "plsim/modules/learning.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>

#include <tbb/parallel_for.h>

#include "plsim/fast_math.hpp"
#include "plsim/model.hpp"
#include "plsim/rng.hpp"
#include "plsim/simd.hpp"
#include "plsim/state.hpp"
#include "modules/classroom_lanes.hpp"

namespace plsim {

namespace {
using namespace lanes;

// Small-group target unit of each student of a classroom, per subject, re-formed at each regrouping:
// students are ranked by the teacher's estimate of their frontier (true frontier plus placement
// error) and split into groups taught at their group's mean estimate. Between regroupings the groups
// keep their target (students.group_target). The draws and estimates run over padded lanes, and each
// student's rank is the count of those before him (a lower estimate, or an equal one and a lower
// index): the order std::sort gives, in vectorised passes instead of its mispredicted branches.
void regroup(State& state, const Model& model, int small_groups, float error, std::uint32_t b, std::uint32_t e,
             const WeekContext& week) {
  StudentColumns& st = state.students;
  const Rng rng(model.seed);
  const std::uint32_t n = e - b, m = padded_lanes(n);
  LaneArray<std::uint32_t> ids;
  std::array<LaneArray<std::int32_t>, n_subjects> frontier;
  copy_columns(n, [&](auto&& copy) {
    copy(ids.data(), st.id.data() + b), copy(frontier[0].data(), st.frontier[0].data() + b);
    copy(frontier[1].data(), st.frontier[1].data() + b);
  });
  pad_lanes(n, ids, frontier[0], frontier[1]);
  std::array<Lanes, n_subjects> estimate;
  std::array<std::array<std::uint32_t, max_class_size>, 4> words;
  rng.words_of(Stream::weekly_learning, ids.data(), m, week.tick(), 2, words);
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    const auto noise = fast::standard_normal_pair(words[0][q], words[1][q]);
    estimate[0][q] = static_cast<float>(frontier[0][q]) + error * noise[0];
    estimate[1][q] = static_cast<float>(frontier[1][q]) + error * noise[1];
  }
  const int groups = std::min<int>(small_groups, static_cast<int>(n));
  std::array<std::uint32_t, max_class_size> order;
  for (int s = 0; s < n_subjects; ++s) {
    Lanes& est = estimate[s];
    std::fill(est.begin() + n, est.begin() + m, std::numeric_limits<float>::infinity());  // after everyone
    for (std::uint32_t q = 0; q < n; ++q) {
      const float v = est[q];
      std::int32_t rank = 0;
      for (std::uint32_t a = 0; a < m; ++a)
        rank += std::int32_t(est[a] < v) | (std::int32_t(est[a] == v) & std::int32_t(a < q));
      order[rank] = q;
    }
    for (int gi = 0; gi < groups; ++gi) {
      const int lo = gi * static_cast<int>(n) / groups, hi = (gi + 1) * static_cast<int>(n) / groups;
      float sum = 0;
      for (int q = lo; q < hi; ++q) sum += est[order[q]];
      for (int q = lo; q < hi; ++q) st.group_target[s][b + order[q]] = sum / float(hi - lo);
    }
  }
}

// What a classroom delivers of its instructional model this week, and the constants of its student loop.
// All of a week's learning depends on the school's and the teacher's delivery only through these
// figures, so they are derived once per classroom and week and the student loop only reads them.
struct ClassroomWeek {
  const InstructionPlan& plan;
  const MismatchKernel& kernel;
  std::uint64_t window_mask;
  float matched;         // learning paths: share of targeted time on the student's own level
  float f_progression;   // competency progression: chance an on-demand test is available
  float hold;            // chance a student behind the pace stays at his unit (mastery progression)
  float check_in;        // teacher check-ins during software time, as far as delivered
  float noise;           // open-space noise the flexible environment does not remove
  int regroup_weeks;     // small groups and autonomy levels are reviewed this often
  float guess, slip;     // of on-demand tests: poorer learner profiles make tests less reliable
  float group_error;     // units: the teacher's error placing a student in a small group
  float software_error;  // units: the software's error on a student's frontier
  std::array<float, n_subjects> pace, rate, software_subject;
  float inv_engagement, frl_mult, gap_penalty, prior, absorption, threshold, test_threshold, slack, sr_floor;
  float check_in_lift;   // share of the self-regulation shortfall of software time that check-ins recover
  float repair_share, repair_per_hazard;
  float review;          // share of whole-class time that reviews earlier units
  float unit_growth;     // e^unit_hazard: (1 - prior) / (1 - mastery threshold)
  float review_per_gap;  // repair hazard of each window gap per unit of review hazard
  float old_gap_weight;  // review of a gap older than the window, per window gap's
  float keep_fragile;    // share of fragile knowledge neither forgotten nor consolidated in a week
  float forget_share;    // share of fragile knowledge forgotten in a week
  bool dynamics;         // review or forgetting is on (both off: no draws or passes for them)
  float routine;         // targeted time's efficiency while the classroom is new to its model
  float tutoring;        // tutoring's efficiency at the size of the district's programme
  bool second_draw;      // holds or tests need the student's second draw of the week
  float engagement_base, engagement_rate;
  int top_level;
  bool level_review;

  ClassroomWeek(const State& state, const Model& model, const InstructionPlan& plan, const MismatchKernel& kernel,
                std::uint64_t window_mask, const LearningConstants& k, std::uint32_t c, const WeekContext& week);
};

// Delivered fidelity of each PL element: 1 where the model asks nothing, else what it asks scaled by the
// school's capacity under its conditions and the teacher's capacity, lower in the first implementation years. Demanding models are
// thus delivered in full only by capable schools and teachers, and never in their first years.
inline std::array<float, n_elements> delivered_fidelity(const State& state, const PersonalizationParameters& P,
                                                        const InstructionPlan& plan, std::uint32_t school,
                                                        std::uint32_t teacher) {
  const int year = std::clamp<int>(state.schools.implementation_year[school], 1, 3);
  std::array<float, n_elements> fidelity;
  for (int k = 0; k < n_elements; ++k) {
    const float capacity = state.schools.fidelity[k][school] * state.schools.conditions[k][school] *
                           state.teachers.capacity[teacher] * static_cast<float>(P.implementation_year_fidelity[year - 1]);
    fidelity[k] = 1.0f - plan.asks[k] * (1.0f - std::min(1.0f, capacity));
  }
  return fidelity;
}

}  // namespace

double delivered_share(const Model& model, const State& state, std::uint32_t c) {
  const InstructionalModel& m = model.instructional_models[state.classrooms.instructional_model[c]];
  const std::uint32_t school = state.classrooms.school[c];
  const int year = std::clamp<int>(state.schools.implementation_year[school], 1, 3);
  double asked = 0, delivered = 0;
  for (int k = 0; k < n_elements; ++k) {
    const double capacity = double(state.schools.fidelity[k][school]) * state.schools.conditions[k][school] *
                            state.teachers.capacity[state.classrooms.teacher[c]] *
                            model.params.personalization.implementation_year_fidelity[year - 1];
    asked += m.asks[k];
    delivered += m.asks[k] * std::min(1.0, capacity);
  }
  return asked > 0 ? delivered / asked : 1.0;
}

namespace {

// Each element acts through its own mechanisms (docs/model.md): learner profiles through estimate errors
// and test reliability, learning paths through the match of targeted time, competency progression
// through holds and tests, the flexible environment through regrouping, check-ins and noise.
inline ClassroomWeek::ClassroomWeek(const State& state, const Model& model, const InstructionPlan& plan,
                                    const MismatchKernel& kernel, std::uint64_t window_mask, const LearningConstants& k,
                                    std::uint32_t c, const WeekContext& week)
    : plan(plan), kernel(kernel), window_mask(window_mask) {
  const LearningParameters& L = model.params.learning;
  const PersonalizationParameters& P = model.params.personalization;
  const ClassroomColumns& cl = state.classrooms;
  const std::uint32_t school = cl.school[c];
  const std::uint32_t teacher = cl.teacher[c];
  const int grade = cl.grade[c];
  std::array<float, n_elements> fidelity = delivered_fidelity(state, P, plan, school, teacher);
  const float f_profiles = fidelity[int(Element::learner_profiles)];
  const float f_flexible = fidelity[int(Element::flexible_environment)];

  matched = fidelity[int(Element::learning_paths)];
  f_progression = fidelity[int(Element::competency_progression)];
  hold = plan.progression == Progression::mastery ? f_progression : 0.0f;
  const float profile_error = 1.0f + static_cast<float>(P.estimate_error_scale) * (1.0f - f_profiles);
  check_in = plan.check_ins * f_flexible;
  noise = plan.open_space * (1.0f - static_cast<float>(P.open_space_noise_reduction) * f_flexible);
  const float quiet = 1.0f - static_cast<float>(P.noise_penalty) * noise;
  // Every mode beyond the first costs transitions and management, recovered as far as the flexible
  // environment is delivered; one mode (traditional) costs nothing.
  const float managed = plan.modes_used > 1 ? 1.0f - static_cast<float>(P.transition_overhead) *
                                                         float(plan.modes_used - 1) * (1.0f - f_flexible)
                                            : 1.0f;
  regroup_weeks = std::max(1, static_cast<int>(std::lround(plan.regroup_weeks * (2.0f - f_flexible))));
  guess = std::min(0.5f, static_cast<float>(P.test_guess) * (2.0f - f_profiles));
  slip = std::min(0.5f, static_cast<float>(P.test_slip) * (2.0f - f_profiles));
  group_error = static_cast<float>(L.small_group_estimate_error) * profile_error;

  const float class_rate = static_cast<float>(L.learn_rate) * state.teachers.effectiveness[teacher] *
                           state.schools.growth_multiplier[school] * quiet * managed;
  for (int s = 0; s < n_subjects; ++s) {
    pace[s] = cl.pacing_unit[s][c];
    rate[s] = class_rate * static_cast<float>(L.grade_pace[s][grade]);
    software_subject[s] = static_cast<float>(L.software_subject_efficiency[s]);
  }

  inv_engagement = static_cast<float>(1.0 / L.engagement_baseline);
  frl_mult = static_cast<float>(L.frl_learning_multiplier);
  gap_penalty = static_cast<float>(L.gap_penalty / L.prerequisite_window);
  prior = static_cast<float>(L.prior);
  absorption = static_cast<float>(L.absorption_limit);
  threshold = static_cast<float>(L.mastery_threshold);
  test_threshold = static_cast<float>(P.test_out_threshold);
  slack = static_cast<float>(L.seat_time_slack);
  sr_floor = static_cast<float>(L.self_regulation_floor);
  check_in_lift = check_in * static_cast<float>(P.check_in_recovery) * (1 - sr_floor);
  repair_share = plan.targeted ? static_cast<float>(L.gap_repair_share) : 0.0f;
  repair_per_hazard = k.repair_per_hazard;
  review = static_cast<float>(L.review_share);
  old_gap_weight = static_cast<float>(L.review_old_gaps);
  unit_growth = k.unit_growth;
  review_per_gap = k.review_per_gap;
  keep_fragile = k.keep_fragile;
  forget_share = k.forget_share;
  dynamics = review > 0 || forget_share > 0;
  // A classroom is as familiar with its model as the less experienced of its school and its teacher:
  // a new hire in an established school, and every teacher of a school that starts a model, have a
  // first year. The dip scales with how much the model changes the classroom (the mean of its asks).
  const int familiar = std::clamp<int>(
      std::min<int>(state.schools.implementation_year[school], state.teachers.years_on_model[teacher] + 1), 1, 3);
  routine = 1.0f - plan.change * static_cast<float>(P.implementation_dip[familiar - 1]);
  tutoring = state.tutoring_quality.empty() ? 1.0f : state.tutoring_quality[state.schools.district[school]];
  software_error = static_cast<float>(L.software_estimate_error) * profile_error;
  second_draw = plan.test_out || hold > 0;
  engagement_base = static_cast<float>(L.engagement_baseline) - static_cast<float>(P.engagement_noise) * noise;
  engagement_rate = static_cast<float>(L.engagement_rate);
  top_level = std::max(1, plan.autonomy_levels - 1);
  level_review = plan.autonomy_levels >= 2 && week.week > 0 && week.week % regroup_weeks == 0;
}

void draw_second(const ClassroomWeek& cw, const Rng& rng, const std::uint32_t* id, std::uint32_t n,
                 const WeekContext& week, RunLanes& x);

// The student's random numbers of the week, one Philox block per use (stream weekly_learning, his id,
// the week, a slot): slot 0 for the software's estimate errors and gap repair, slot 1 for holds and
// on-demand tests, slot 2 is regroup's. Each block is drawn only when the model can use it.
void draw_lanes(const ClassroomWeek& cw, const Rng& rng, const std::uint32_t* id, std::uint32_t n,
                const WeekContext& week, RunLanes& x) {
  // Gap repair draws where targeted time or review can repair (and forgetting takes the same words'
  // low bits); the software's estimate errors only where there is targeted time. Both arms of a
  // comparison share these draws. Traditional classrooms without review or forgetting draw nothing.
  if (!cw.plan.targeted && !cw.dynamics) return draw_second(cw, rng, id, n, week, x);
  rng.words_of(Stream::weekly_learning, id, n, week.tick(), 0, x.words);
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < n; ++q) {
    x.repair_draw[0][q] = fast::uniform01(x.words[2][q]), x.repair_draw[1][q] = fast::uniform01(x.words[3][q]);
  }
  if (cw.forget_share > 0) {
    // The low 9 bits, which uniform01 does not use, decide forgetting (a 1/512 grid is fine for it).
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < n; ++q) {
      x.forget_draw[0][q] = (float(x.words[2][q] & 511u) + 0.5f) * (1.0f / 512.0f);
      x.forget_draw[1][q] = (float(x.words[3][q] & 511u) + 0.5f) * (1.0f / 512.0f);
    }
  }
  if (cw.plan.targeted) {
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < n; ++q) {
      const auto normal = fast::standard_normal_pair(x.words[0][q], x.words[1][q]);
      x.software_noise[0][q] = normal[0], x.software_noise[1][q] = normal[1];
    }
  }
  draw_second(cw, rng, id, n, week, x);
}

// Slot 1: holds and on-demand tests.
void draw_second(const ClassroomWeek& cw, const Rng& rng, const std::uint32_t* id, std::uint32_t n,
                 const WeekContext& week, RunLanes& x) {
  if (cw.second_draw) {
    rng.words_of(Stream::weekly_learning, id, n, week.tick(), 1, x.words);
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < n; ++q) {
      x.hold_draw[0][q] = fast::uniform01(x.words[0][q]), x.hold_draw[1][q] = fast::uniform01(x.words[1][q]);
      x.test_draw[0][q] = fast::uniform01(x.words[2][q]), x.test_draw[1][q] = fast::uniform01(x.words[3][q]);
    }
  } else {
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < n; ++q) {
      x.hold_draw[0][q] = x.test_draw[0][q] = 1.0f;
      x.hold_draw[1][q] = x.test_draw[1][q] = 1.0f;
    }
  }
}

// One student's offer from mode weights, shares and choice.
inline void set_offer(RunLanes& x, std::uint32_t q, const ModeWeights& w, const TimeShares& shares, float choice) {
  x.w_class[q] = w[int(Mode::whole_class)] + w[int(Mode::collaborative)];
  x.w_tutoring[q] = w[int(Mode::tutoring)];
  x.w_small[q] = w[int(Mode::small_group)];
  x.software_use[q] = w[int(Mode::adaptive_software)];  // scaled by self-regulation in uptake_lanes
  x.collaborative[q] = shares.collaborative, x.contact[q] = shares.contact, x.software_share[q] = shares.software;
  x.choice[q] = choice;
}

// The model's minutes, moved toward its top level's as far as the student has earned autonomy, or the
// minutes a Python policy set for him this week (converted only where a row differs from the previous
// student's: policies mostly give whole classes the same minutes). Choice is only real where learning
// paths let students work on what they chose. The classroom's students are the lanes [o, o + n); the
// run's padding lanes are set to zero once its classrooms' offers are in (pad_offer).
void offer_lanes(const ClassroomWeek& cw, const State& state, std::uint32_t model, std::uint32_t b, std::uint32_t n,
                 std::uint32_t o, const LearningParameters& L, RunLanes& x) {
  const InstructionPlan& plan = cw.plan;
  const double* first = plan.python_policy ? state.python_policy_minutes.data() + std::size_t(b) * n_modes : nullptr;
  // One row for every student of the model (the policy returned one: state.python_policy_rows), else
  // usually one for the whole class (its rows are consecutive: compared as one run of doubles).
  const double* model_row = plan.python_policy && (std::size_t(model) + 1) * n_modes <= state.python_policy_rows.size()
                                ? state.python_policy_rows.data() + std::size_t(model) * n_modes
                                : nullptr;
  if (model_row && !std::isnan(model_row[0])) first = model_row;
  if (plan.python_policy && n > 0 &&
      (first == model_row || std::equal(first + n_modes, first + std::size_t(n) * n_modes, first))) {
    std::array<double, n_modes> row;
    std::copy(first, first + n_modes, row.begin());
    const ModeWeights weights = mode_weights(row, L);
    const TimeShares shares = time_shares(row);
    for (std::uint32_t q = 0; q < n; ++q) set_offer(x, o + q, weights, shares, plan.choice * cw.matched);
  } else if (plan.python_policy) {
    std::array<double, n_modes> row;
    row.fill(-1.0);  // no row yet: the first student converts his
    ModeWeights weights{};
    TimeShares shares{};
    for (std::uint32_t q = 0; q < n; ++q) {
      const double* minutes = state.python_policy_minutes.data() + std::size_t(b + q) * n_modes;
      if (!std::equal(minutes, minutes + n_modes, row.begin())) {
        std::copy(minutes, minutes + n_modes, row.begin());
        weights = mode_weights(row, L);
        shares = time_shares(row);
      }
      set_offer(x, o + q, weights, shares, plan.choice * cw.matched);
    }
  } else if (plan.autonomy_levels >= 2) {
    for (std::uint32_t q = 0; q < n; ++q) {
      const float t = static_cast<float>(state.students.autonomy[b + q]) / static_cast<float>(cw.top_level);
      ModeWeights w = plan.weight;
      for (int k = 0; k < n_modes; ++k) w[k] += t * (plan.top_weight[k] - w[k]);
      TimeShares shares = plan.shares;
      shares.collaborative += t * (plan.top_shares.collaborative - shares.collaborative);
      shares.contact += t * (plan.top_shares.contact - shares.contact);
      shares.software += t * (plan.top_shares.software - shares.software);
      set_offer(x, o + q, w, shares, plan.choice * t * cw.matched);
    }
  } else {
    // The whole class the same offer: vectorised stores of the model's figures, over whole vectors (lanes
    // past the classroom's are the next classroom's, set after, or the run's padding, set to zero after).
    const ModeWeights& w = plan.weight;
    const TimeShares& shares = plan.shares;
    const float w_class = w[int(Mode::whole_class)] + w[int(Mode::collaborative)], w_tutoring = w[int(Mode::tutoring)];
    const float w_small = w[int(Mode::small_group)], software = w[int(Mode::adaptive_software)];
    const float choice = plan.choice * cw.matched;
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = o; q < o + padded_lanes(n); ++q) {
      x.w_class[q] = w_class, x.w_tutoring[q] = w_tutoring, x.w_small[q] = w_small, x.software_use[q] = software;
      x.collaborative[q] = shares.collaborative, x.contact[q] = shares.contact, x.software_share[q] = shares.software;
      x.choice[q] = choice;
    }
  }
}

// A classroom's constants of the week in its lanes [o, o + n) (RunLanes), as whole vectors from o, like
// the common offer (offer_lanes): lanes past the classroom's are the next classroom's, set after, or the
// run's padding, set to zero after. A fill to a run-time count was a scalar loop: a tenth of the
// learning stage's instructions in an all-traditional district.
void constant_lanes(const ClassroomWeek& cw, std::uint32_t o, std::uint32_t n, RunLanes& x) {
  const float pace0 = cw.pace[0], pace1 = cw.pace[1], rate0 = cw.rate[0], rate1 = cw.rate[1];
  const auto unit0 = static_cast<std::int32_t>(cw.pace[0]), unit1 = static_cast<std::int32_t>(cw.pace[1]);
  const float matched = cw.matched, software_error = cw.software_error, f_progression = cw.f_progression;
  const float hold = cw.hold, slip = cw.slip, guess = cw.guess, check_in_lift = cw.check_in_lift;
  const float routine = cw.routine, tutoring = cw.routine * cw.tutoring, engagement_base = cw.engagement_base;
  const float check_in = cw.check_in;
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = o; q < o + padded_lanes(n); ++q) {
    x.pace[0][q] = pace0, x.pace[1][q] = pace1, x.pace_unit[0][q] = unit0, x.pace_unit[1][q] = unit1;
    x.rate[0][q] = rate0, x.rate[1][q] = rate1;
    x.matched[q] = matched, x.software_error[q] = software_error, x.f_progression[q] = f_progression;
    x.hold[q] = hold, x.slip[q] = slip, x.guess[q] = guess, x.check_in_lift[q] = check_in_lift;
    x.routine[q] = routine, x.tutoring[q] = tutoring, x.engagement_base[q] = engagement_base;
    x.check_in[q] = check_in;
  }
}

// Zeros in the run's padding lanes of the offer and the classrooms' constants.
void pad_offer(std::uint32_t n, RunLanes& x) {
  pad_lanes(n, x.w_class, x.w_tutoring, x.w_small, x.software_use, x.collaborative, x.contact, x.software_share,
            x.choice);
  pad_lanes(n, x.pace[0], x.pace[1], x.pace_unit[0], x.pace_unit[1], x.rate[0], x.rate[1], x.matched,
            x.software_error, x.f_progression, x.hold, x.slip, x.guess, x.check_in_lift, x.routine, x.tutoring,
            x.engagement_base, x.check_in);
}

// How much of what is offered reaches the student, the same in both subjects. Self-paced software
// counts only as far as the student works alone, and check-ins recover part of the shortfall; engaged
// students who attend learn more of everything.
void uptake_lanes(const ClassroomWeek& cw, std::uint32_t m, RunLanes& x) {
  const float frl_mult = cw.frl_mult, inv_engagement = cw.inv_engagement, sr_floor = cw.sr_floor;
  const float sr_slope = 1 - cw.sr_floor;
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    x.student[q] = (x.frl[q] != 0 ? frl_mult : 1.0f) * x.engagement[q] * inv_engagement * x.attendance[q];
    const float sr = x.self_regulation[q];
    x.software_use[q] *= (sr_floor + sr_slope * sr + x.check_in_lift[q] * (1 - sr)) * x.routine[q];
    x.w_small[q] *= x.routine[q];
    x.w_tutoring[q] *= x.tutoring[q];
    x.offered[q] = x.w_class[q] + x.w_tutoring[q] + x.w_small[q] + x.software_use[q];
    x.match_sum[q] = 0.0f;
  }
}

// Gaps in each student's prerequisite window and, with review, those of them below the pacing unit.
// With review or forgetting (`dynamics`) also what decide_lanes needs of the counts once the week's
// progression has shifted the window by one: the count of each and whether its top bit was a gap (a
// count after the shift is the count before less that bit), so that it needs no popcount of its own.
// The counts are passes of their own (bit_counts), between passes over the words and the floats.
template <bool dynamics>
void gap_lanes(const ClassroomWeek& cw, int s, std::uint32_t m, RunLanes& x) {
  const std::uint64_t* recent = x.recent[s].data();
  const std::int32_t* frontier = x.front[s].data();
  const std::uint64_t window_mask = cw.window_mask;
  const int window_top = std::bit_width(window_mask) - 1;  // the oldest unit of the window
  const std::uint64_t review_mask = cw.review > 0 ? ~std::uint64_t(0) : 0;  // no review: nothing reviewed
  const std::int32_t* gaps = x.gap_count[s].data();
  const float old_weight = cw.review > 0 ? cw.old_gap_weight : 0.0f;
  const std::int32_t* pace = x.pace_unit[s].data();
  std::int32_t* window_gaps = x.window_gaps[s].data();
  bit_counts(recent, window_mask, window_gaps, m);
  if constexpr (dynamics) {
    std::int32_t* reviewed_count = x.reviewed_count[s].data();
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < m; ++q) {
      const std::uint64_t window = recent[q] & window_mask;
      // Bit k is unit frontier-1-k: units at or above the pacing unit are not what the class reviews,
      // the `above` lowest bits (all of them from 64 up). The bits are cleared by shifting the window
      // down and up: GCC 12 does not vectorise a constant shifted by a lane's count.
      const std::int32_t ahead = frontier[q] - pace[q];
      const std::int32_t above = ahead < 0 ? 0 : (ahead > 63 ? 63 : ahead);
      const std::uint64_t keep = (std::uint64_t(0) - static_cast<std::uint64_t>(ahead < 64)) & review_mask;
      const std::uint64_t reviewed = ((window >> above) << above) & keep;
      x.reviewed[s][q] = reviewed;
      x.window_oldest[s][q] = static_cast<std::int32_t>(window >> window_top);
      x.reviewed_oldest[s][q] = static_cast<std::int32_t>(reviewed >> 63);
    }
    bit_counts(x.reviewed[s].data(), ~std::uint64_t(0), reviewed_count, m);
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < m; ++q) {
      x.prerequisite_gaps[s][q] = static_cast<float>(window_gaps[q]);
      // Gaps older than the window lie far below the pace: review re-teaches them too, at their weight.
      x.old_reviewed[s][q] = old_weight * (static_cast<float>(gaps[q]) - x.prerequisite_gaps[s][q]);
      x.reviewed_gaps[s][q] = static_cast<float>(reviewed_count[q]) + x.old_reviewed[s][q];
    }
  } else {
    PLSIM_VECTORIZE_LOOP
    for (std::uint32_t q = 0; q < m; ++q) x.prerequisite_gaps[s][q] = static_cast<float>(window_gaps[q]);
  }
}

// One subject's learning for every student: BKT learning on his working unit with a hazard that
// saturates (diminishing returns within a week) and falls with mismatch and prerequisite gaps.
// Whole-class time is at the pacing unit. Targeted time hits the student's own level as far as learning
// paths are delivered, else the class's: the small group at its estimate of him, the software at its
// own; `fit` is how well each kind of time matches him (for engagement), `targeted` also counts how
// much it teaches (reading software teaches less). Targeted time spends its repair share on recent gaps.
// `dynamics`: review or forgetting is on (their extra work is compiled out of the default path).
template <bool targeted_time, bool dynamics>
void learn_lanes(const ClassroomWeek& cw, int s, std::uint32_t m, RunLanes& x) {
  const std::int32_t* frontier = x.front[s].data();
  const std::int32_t* gaps = x.gap_count[s].data();
  const float* p_known = x.known[s].data();
  const float* learning_rate = x.learning_rate[s].data();
  const float* group_target = x.group_target[s].data();
  const float* pace = x.pace[s].data();
  const float* rate = x.rate[s].data();
  const float software_subject = cw.software_subject[s];
  const float* noise = x.software_noise[s].data();
  // The classroom's constants in locals: read through cw, each would be loaded again in every
  // iteration (a store to the float lanes might change them, as far as the compiler knows).
  const MismatchKernel kernel = cw.kernel;
  const float repair_share = cw.repair_share, gap_penalty = cw.gap_penalty;
  const float review = cw.review, not_review = 1 - cw.review, absorption = cw.absorption;
  const float not_threshold = 1.0f - cw.threshold, inv_not_threshold = 1.0f / not_threshold;
  const float repair_per_hazard = cw.repair_per_hazard, review_per_gap = cw.review_per_gap;
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    const float f = frontier[q];
    const float at_class = kernel(f - pace[q]);
    const float matched = x.matched[q];
    float targeted = 0, fit = 0, repair = 0;
    if constexpr (targeted_time) {
      const float small = matched * kernel(f - group_target[q]) + (1 - matched) * at_class;
      const float software = matched * kernel(-x.software_error[q] * noise[q]) + (1 - matched) * at_class;
      targeted = x.w_tutoring[q] + x.w_small[q] * small + x.software_use[q] * software_subject * software;
      fit = x.w_tutoring[q] + x.w_small[q] * small + x.software_use[q] * software;
      repair = x.prerequisite_gaps[s][q] > 0 ? repair_share : 0.0f;
    }
    const float whole_class = x.w_class[q] * at_class;
    x.match_sum[q] += x.offered[q] > 0 ? (whole_class + fit) / x.offered[q] : 0.0f;
    const float student_rate = rate[q] * learning_rate[q] * x.student[q];
    const float gap_factor = 1.0f - gap_penalty * x.prerequisite_gaps[s][q];
    // Review time teaches no new unit: a student without gaps meets content he already knows.
    const float taught = dynamics ? whole_class * not_review : whole_class;
    const float offered_hazard = (taught + targeted * (1 - repair)) * student_rate * gap_factor;
    const float hazard = offered_hazard * absorption / (absorption + offered_hazard);
    const float survives = fast::exp(-hazard);
    x.p[s][q] = 1.0f - (1.0f - p_known[q]) * survives;
    if constexpr (dynamics) {
      // The week's hazard beyond what mastering the working unit took goes on to the next unit: with
      // forgetting, a year's norm growth needs more than one mastery a week in the early grades. The
      // leftover hazard is h - max(0, ln((1 - p) / (1 - threshold))), at least 0; what the passes need
      // is e^-left = min(1, e^-h max(1, (1 - p) / (1 - threshold))), which takes no log or exp of its own.
      const float unknown = 1.0f - p_known[q];
      const float over = (unknown > not_threshold ? unknown : not_threshold) * inv_not_threshold;
      const float carry = survives * over;
      x.carry[s][q] = carry < 1.0f ? carry : 1.0f;
    }
    if constexpr (targeted_time)
      x.targeted_chance[s][q] = 1.0f - fast::exp(-targeted * repair * student_rate * repair_per_hazard);
    if constexpr (dynamics) {
      x.position[s][q] = float(frontier[q]) - float(gaps[q]) + p_known[q];
      // Review re-teaches every gap of the window below the pacing unit (what the class has been
      // taught), each with its share of the time: the more gaps, the more it repairs, so those the
      // curriculum left behind catch up. Targeted time repairs the most recent gap.
      const float review_hazard = x.w_class[q] * review * review_per_gap * x.reviewed_gaps[s][q];
      x.repair_chance[s][q] = 1.0f - fast::exp(-(targeted * repair * repair_per_hazard + review_hazard) * student_rate);
    }
  }
}

// Whether each student leaves his unit this week, and whether he leaves a gap behind, then the
// bookkeeping, in one vectorised pass of selects. Mastery always moves a student on. Below it, an
// on-demand test or the pacing guide may: the test only as far as competency progression is delivered,
// seat time only where the student is not held. A student who moves on advances his frontier, and his
// window of recent units shifts in a gap bit or a mastered one; then gap repair. Without review and
// forgetting, targeted time relearns the most recent gap (lowest set bit of the window; relearning is
// easier than a new unit). With them, targeted time repairs the most recent gap or review the most
// recent one below the pace (the week's progression may have shifted the window by one: the review's
// bits shift with it). Students who master more than one unit are done again (settle_again).
template <bool targeted_time, bool dynamics>
void decide_lanes(const ClassroomWeek& cw, int s, std::uint32_t m, RunLanes& x) {
  std::int32_t* frontier = x.front[s].data();
  std::int32_t* gaps = x.gap_count[s].data();
  std::uint64_t* recent = x.recent[s].data();
  float* known_after = x.known[s].data();
  const float* pace = x.pace[s].data();
  const float threshold = cw.threshold, test_threshold = cw.test_threshold;
  const std::int32_t test_out = cw.plan.test_out, repair_on = cw.repair_share > 0;
  const float slack = cw.slack, prior = cw.prior, not_prior = 1.0f - cw.prior;
  const float* hold = x.hold_draw[s].data();
  const float* test = x.test_draw[s].data();
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    // Every condition is evaluated, as a 32-bit 0 or 1 (a condition skipped is a branch, and bools
    // are bytes, which GCC 12 does not vectorise beside floats).
    const float p = x.p[s][q], f = static_cast<float>(frontier[q]), held = hold[q], draw = test[q];
    const float f_progression = x.f_progression[q], hold_chance = x.hold[q], slip = x.slip[q], guess = x.guess[q];
    const std::int32_t mastered = p >= threshold;
    // Pass when known and no slip, or by a guess (the unit then becomes a gap). The draw that decides
    // whether a test is available is the one that decides holds: the two ways exclude each other.
    const std::int32_t tested = (1 - mastered) & test_out & (p >= test_threshold) & (held < f_progression);
    const float pass_known = p * (1 - slip);
    const std::int32_t passes = draw < pass_known + (1 - p) * guess;
    // The class has moved on and the student is not held at his unit: passed without mastery.
    const std::int32_t seat_time = (1 - mastered) & (1 - tested) & (f + slack < pace[q]) & (held >= hold_chance);
    const std::int32_t moves = (mastered | (tested & passes) | seat_time) & (f < 65535.0f);
    const std::int32_t as_gap = (tested & (draw >= pass_known)) | seat_time;
    x.move[q] = moves + (moves & as_gap);
    // Moving on never changes what a student knows: a unit passed without mastery becomes a gap, and
    // his partial knowledge carries to the next unit; a mastered unit's successor starts at the prior.
    float next = prior;
    if constexpr (dynamics) next = 1.0f - not_prior * x.carry[s][q];
    const float known = (moves & (1 - as_gap)) != 0 ? next : p;
    known_after[q] = known;
    // Leftover hazard enough to master the next unit too (settle_again).
    if constexpr (dynamics) x.again[q] = moves & (1 - as_gap) & (known >= threshold) & (f + 1.0f < 65535.0f);

    const std::int32_t new_gap = moves & as_gap;  // as_gap alone may hold where the student stays
    const std::uint64_t r = (recent[q] << moves) | static_cast<std::uint64_t>(new_gap);
    const float repair_draw = x.repair_draw[s][q];
    std::int32_t repairs = 0, old_review = 0;
    std::uint64_t pool = r;
    if constexpr (!dynamics && targeted_time)
      repairs = (x.prerequisite_gaps[s][q] > 0) & repair_on & (r != 0) & (repair_draw < x.targeted_chance[s][q]);
    if constexpr (dynamics) {
      std::int32_t targeted = 0;
      if constexpr (targeted_time)
        targeted = (x.prerequisite_gaps[s][q] > 0) & (r != 0) & (repair_draw < x.targeted_chance[s][q]);
      // Review repairs a gap of the window or an older one in proportion to their shares of its time.
      // The reviewed gaps are gaps of r, shifted with the window (the oldest falls out when it moves):
      // their count is gap_lanes' less that bit, and the gaps of r's window are its count less the
      // window's oldest plus the new gap (gaps + new_gap > that is gaps > the count less the oldest).
      const std::uint64_t in_window = x.reviewed[s][q] << moves;
      const std::int32_t in_window_count = x.reviewed_count[s][q] - (moves & x.reviewed_oldest[s][q]);
      const float window_count = static_cast<float>(in_window_count);
      const float chance = x.repair_chance[s][q], old = x.old_reviewed[s][q], total = window_count + old;
      const std::int32_t old_left = gaps[q] > x.window_gaps[s][q] - (moves & x.window_oldest[s][q]);
      const std::int32_t pick_old =
          (in_window_count == 0) | (repair_draw >= chance * window_count / (total > 0 ? total : 1.0f));
      old_review = (1 - targeted) & old_left & (old > 0) & (repair_draw < chance) & pick_old;
      const std::int32_t review = (1 - targeted) & (1 - old_review) & (in_window_count != 0) & (repair_draw < chance);
      repairs = targeted | review;
      pool = targeted ? r : in_window;
    }
    recent[q] = r & ~(pool & (~pool + 1) & (std::uint64_t(0) - static_cast<std::uint64_t>(repairs)));
    frontier[q] = (frontier[q] + moves) & 0xFFFF;
    gaps[q] = (gaps[q] + new_gap - (repairs | old_review)) & 0xFFFF;
  }
}

// A student whose leftover hazard masters the next unit(s) too (in district_station_rotation one
// student and subject in five hundred a week): his week's bookkeeping again from the columns, one unit
// at a time, as decide_lanes does it otherwise.
template <bool targeted_time>
void settle_again(const ClassroomWeek& cw, const StudentColumns& st, int s, std::uint32_t b, std::uint32_t q,
                  RunLanes& x) {
  const std::uint32_t moves = x.move[q] != 0, as_gap = x.move[q] == 2;
  std::uint16_t f = static_cast<std::uint16_t>(st.frontier[s][b + q] + moves);
  std::uint64_t recent = (st.recent_gaps[s][b + q] << moves) | as_gap;
  float p_known = x.known[s][q];
  float carry = x.carry[s][q];  // e^-left
  do {
    // Each unit mastered takes unit_hazard from what is left: e^-left grows by e^unit_hazard, to 1.
    f = static_cast<std::uint16_t>(f + 1);
    recent <<= 1;
    carry = std::min(1.0f, carry * cw.unit_growth);
    p_known = 1.0f - (1.0f - cw.prior) * carry;
  } while (p_known >= cw.threshold && f < 65535);
  const float draw = x.repair_draw[s][q];
  const std::uint64_t reviewed = x.reviewed[s][q] << moves;
  const bool targeted =
      targeted_time && x.prerequisite_gaps[s][q] > 0 && recent != 0 && draw < x.targeted_chance[s][q];
  const std::uint64_t in_window = recent & reviewed;
  const float window_count = static_cast<float>(std::popcount(in_window));
  const float chance = x.repair_chance[s][q], old = x.old_reviewed[s][q], total = window_count + old;
  const int gaps_now = st.gaps[s][b + q] + int(as_gap);
  const bool old_left = gaps_now > std::popcount(recent & cw.window_mask);
  const bool old_review = !targeted && old_left && old > 0 && draw < chance &&
                          (in_window == 0 || draw >= chance * window_count / total);
  const bool review = !targeted && !old_review && in_window != 0 && draw < chance;
  const std::uint64_t pool = targeted ? recent : in_window;
  const bool repairs = targeted || review;
  x.recent[s][q] = repairs ? recent & ~(pool & (~pool + 1)) : recent;
  x.front[s][q] = f;
  x.gap_count[s][q] = static_cast<std::uint16_t>(gaps_now - int(repairs || old_review));
  x.known[s][q] = p_known;
}

// A subject's progression: the decision, its bookkeeping, and those who master more than one unit.
template <bool targeted_time, bool dynamics>
void progress_lanes(const ClassroomWeek& cw, const StudentColumns& st, int s, std::uint32_t b, std::uint32_t n,
                    std::uint32_t m, RunLanes& x) {
  decide_lanes<targeted_time, dynamics>(cw, s, m, x);
  if constexpr (dynamics)
    for (std::uint32_t q = 0; q < n; ++q)
      if (x.again[q]) settle_again<targeted_time>(cw, st, s, b, q, x);
}

// What the week added to a student's mastered position is fragile until later use consolidates it;
// fragile knowledge is forgotten at forgetting_rate: a week forgets a whole unit, the most recently
// mastered one, with probability equal to the expected loss. The working unit's P(known) is left
// alone: BKT approaches the mastery threshold slowly, and a loss taken from it stalls students below it.
void consolidate_lanes(const ClassroomWeek& cw, int s, std::uint32_t m, RunLanes& x) {
  const std::int32_t* frontier = x.front[s].data();
  const std::int32_t* gaps = x.gap_count[s].data();
  const float* p_known = x.known[s].data();
  std::uint16_t* fragile = x.fragile[s].data();
  const float* draw = x.forget_draw[s].data();
  const float forget_share = cw.forget_share, keep_fragile = cw.keep_fragile;
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    const float position = float(frontier[q]) - float(gaps[q]) + p_known[q];
    const float gained = position - x.position[s][q];
    const float held = fragile_units(fragile[q]) + (gained > 0 ? gained : 0.0f);
    const float forgotten = held * forget_share;
    fragile[q] = fragile_stored(held * keep_fragile);
    // Only a student who knows some unit below his frontier can forget one.
    x.move[q] = (draw[q] < forgotten) & (float(frontier[q]) > float(gaps[q]));
  }
}

// A forgotten unit: the unit just below the frontier is known, so forgetting it moves the frontier
// back (the unit is to be learned again, keeping his partial knowledge); else the most recent known
// unit becomes a gap (forget_latest_unit, as a select: four in ten students forget a unit a week).
void forget_lanes(int s, std::uint32_t m, RunLanes& x) {
  std::int32_t* frontier = x.front[s].data();
  std::int32_t* gaps = x.gap_count[s].data();
  std::uint64_t* recent = x.recent[s].data();
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    const std::uint64_t r = recent[q];
    const std::int32_t forgets = x.move[q], back = forgets & ((r & 1) == 0), as_gap = forgets - back;
    // Known units of the window: the frontier's lowest bits of ~r (all 64 from a frontier of 64 on),
    // found by clearing the others with shifts (see gap_lanes).
    const std::int32_t f = frontier[q], low = f < 63 ? f : 63;
    const std::uint64_t known = ~r;
    const std::uint64_t mastered = f >= 64 ? known : known ^ ((known >> low) << low);
    const std::uint64_t gap_bit = mastered & (~mastered + 1) & (std::uint64_t(0) - static_cast<std::uint64_t>(as_gap));
    recent[q] = back ? r >> 1 : r | gap_bit;
    frontier[q] = (frontier[q] - back) & 0xFFFF;
    gaps[q] = (gaps[q] + as_gap) & 0xFFFF;
  }
}

// Engagement moves toward a target set by collaboration, choice, teacher contact, how well what is
// taught matches the student, and noise; part of the way each week, so that it reflects the weeks
// before as well as this one.
void engagement_lanes(const ClassroomWeek& cw, const LearningParameters& L, const PersonalizationParameters& P,
                      StudentColumns& st, std::uint32_t b, std::uint32_t n, std::uint32_t m, RunLanes& x) {
  float* engagement = x.engagement.data();
  const float collaborative_bonus = static_cast<float>(L.engagement_collaborative_bonus);
  const float choice = static_cast<float>(P.engagement_choice), contact = static_cast<float>(P.engagement_contact);
  const float mismatch = static_cast<float>(P.engagement_mismatch);
  const float engagement_rate = cw.engagement_rate;
  PLSIM_VECTORIZE_LOOP
  for (std::uint32_t q = 0; q < m; ++q) {
    const float match = x.match_sum[q] / n_subjects;
    const float target = x.engagement_base[q] + collaborative_bonus * x.collaborative[q] + choice * x.choice[q] +
                         contact * (x.contact[q] + x.check_in[q] * x.software_share[q]) - mismatch * (1.0f - match);
    const float e = engagement[q] + engagement_rate * (target - engagement[q]);
    engagement[q] = e < 0.0f ? 0.0f : (e > 1.0f ? 1.0f : e);
  }
  float* column = st.engagement.data() + b;
  copy_columns(n, [&](auto&& copy) { copy(column, engagement); });
}

// Students earn autonomy with engagement and self-regulation, and lose it when disengaged; each level
// asks for more self-regulation, since it comes with more self-paced time. The margin below the
// threshold keeps a student near it from moving up and down at every review.
void review_autonomy(const PersonalizationParameters& P, int top_level, StudentColumns& st, std::uint32_t b,
                     std::uint32_t n) {
  for (std::uint32_t i = b; i < b + n; ++i) {
    std::uint8_t& autonomy = st.autonomy[i];
    const float needed = static_cast<float>(P.autonomy_self_regulation_base) +
                         static_cast<float>(P.autonomy_self_regulation_step) * autonomy;
    if (st.engagement[i] >= P.autonomy_engagement && st.self_regulation[i] >= needed && autonomy < top_level)
      autonomy++;
    else if (st.engagement[i] < P.autonomy_engagement - P.autonomy_demotion_margin && autonomy > 0)
      autonomy--;
  }
}

// The pacing guide moves on at a fixed rate whatever the students learned: it is what seat time
// measures them against.
inline void advance_pacing(ClassroomColumns& cl, std::uint32_t c, const GradeTable& per_week) {
  for (int s = 0; s < n_subjects; ++s)
    cl.pacing_unit[s][c] = cl.pacing_unit[s][c] + static_cast<float>(per_week[s][cl.grade[c]]);
}

}  // namespace

LearningProcess::LearningProcess(const Model& model)
    : model_(model),
      plans_(make_plans(model)),
      kernel_(model.params.learning),
      window_mask_(model.params.learning.prerequisite_window >= 64
                       ? ~std::uint64_t(0)
                       : (std::uint64_t(1) << model.params.learning.prerequisite_window) - 1),
      constants_(model.params.learning) {}

LearningConstants::LearningConstants(const LearningParameters& L) {
  const double unit = std::log((1.0 - L.prior) / (1.0 - L.mastery_threshold));
  unit_growth = static_cast<float>((1.0 - L.prior) / (1.0 - L.mastery_threshold));
  // A gap costs the learning hazard of a new unit divided by the ease.
  repair_per_hazard = static_cast<float>(L.gap_repair_ease / unit);
  // Review time is spread over the prerequisite window: each gap in it gets its share of the time.
  review_per_gap = repair_per_hazard / static_cast<float>(L.prerequisite_window);
  const double turnover = L.forgetting_rate + L.consolidation_rate;
  keep_fragile = static_cast<float>(std::exp(-turnover));
  forget_share = turnover > 0 ? static_cast<float>(L.forgetting_rate / turnover * (1.0 - std::exp(-turnover))) : 0.0f;
}

// Tutoring's learning per minute in each district this year: a programme serving N students (those
// of classrooms whose model has tutoring minutes) gets (N / reference)^-elasticity of the trials'
// tutoring once it is larger than the reference (docs/model.md, "Dilution at scale").
static void update_tutoring_quality(const Model& model, State& state) {
  const PersonalizationParameters& P = model.params.personalization;
  std::vector<double> served(state.districts.size(), 0.0);
  const ClassroomColumns& cl = state.classrooms;
  for (std::uint32_t c = 0; c < cl.size(); ++c) {
    const InstructionalModel& m = model.instructional_models[cl.instructional_model[c]];
    if (m.minutes[int(Mode::tutoring)] > 0 || m.top_level_minutes[int(Mode::tutoring)] > 0)
      served[state.schools.district[cl.school[c]]] += cl.end[c] - cl.begin[c];
  }
  state.tutoring_quality.assign(served.size(), 1.0f);
  for (std::size_t d = 0; d < served.size(); ++d)
    if (served[d] > P.tutoring_scale_reference)
      state.tutoring_quality[d] =
          static_cast<float>(std::pow(served[d] / P.tutoring_scale_reference, -P.tutoring_scale_elasticity));
}

void LearningProcess::run_week(State& state, const WeekContext& week) const {
  // Derived once a year (and again after a restore, which does not save it).
  if (week.week == 0 || state.tutoring_quality.size() != state.districts.size()) update_tutoring_quality(model_, state);
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, static_cast<std::uint32_t>(state.classrooms.size()), 8),
                    [&](const tbb::blocked_range<std::uint32_t>& range) {
                      run_classrooms(state, range.begin(), range.end(), week);
                    });
}

void LearningProcess::run_classroom(State& state, std::uint32_t c, const WeekContext& week) const {
  run_classrooms(state, c, c + 1, week);
}

void LearningProcess::run_classrooms(State& state, std::uint32_t first, std::uint32_t last,
                                     const WeekContext& week) const {
  RunLanes lanes;
  for (std::uint32_t c = first; c < last;) c = run_run(state, c, last, week, lanes);
}

// The run of classrooms from `first` (before `last`): consecutive classrooms of the same instructional
// model (and the same need of the second draw), their students contiguous in the columns and at most
// max_run_lanes of them. Each classroom's own steps (regrouping, offer, its constants in its lanes;
// autonomy and pacing after) run classroom by classroom, the passes over all the run's lanes. Returns
// the classroom after the run.
std::uint32_t LearningProcess::run_run(State& state, std::uint32_t first, std::uint32_t last, const WeekContext& week,
                                       RunLanes& lanes) const {
  const LearningParameters& L = model_.params.learning;
  const PersonalizationParameters& P = model_.params.personalization;
  StudentColumns& st = state.students;
  const ClassroomColumns& cl = state.classrooms;
  const std::uint32_t model = cl.instructional_model[first], b = cl.begin[first];
  const Rng rng(model_.seed);
  // The steps' structs are not const: GCC keeps a const aggregate that a constructor or an inlined call
  // fills in memory instead of registers, which costs the weekly loop a few percent.
  ClassroomWeek run(state, model_, plans_[model], kernel_, window_mask_, constants_, first, week);
  std::optional<ClassroomWeek> next;  // the week of each classroom after the first
  std::array<std::uint8_t, max_run_lanes> level_review;
  std::uint32_t c = first;
  for (; c < last && c - first < max_run_lanes; ++c) {
    if (c > first) {
      if (cl.instructional_model[c] != model || cl.begin[c] != cl.end[c - 1] || cl.end[c] - b > max_run_lanes) break;
      next.emplace(state, model_, plans_[model], kernel_, window_mask_, constants_, c, week);
      if (next->second_draw != run.second_draw) break;
    }
    ClassroomWeek& cw = c > first ? *next : run;
    const std::uint32_t n = cl.end[c] - cl.begin[c], o = cl.begin[c] - b;
    if (cw.plan.uses_small_groups && week.week % cw.regroup_weeks == 0)
      regroup(state, model_, cw.plan.small_groups, cw.group_error, cl.begin[c], cl.end[c], week);
    constant_lanes(cw, o, n, lanes);
    offer_lanes(cw, state, model, cl.begin[c], n, o, L, lanes);
    level_review[c - first] = cw.level_review;
  }
  const std::uint32_t end = c, n = cl.end[end - 1] - b, m = padded_lanes(n);
  pad_offer(n, lanes);
  stage_lanes(st, b, n, lanes);
  draw_lanes(run, rng, lanes.ids.data(), m, week, lanes);
  uptake_lanes(run, m, lanes);
  for (int s = 0; s < n_subjects; ++s) {
    if (run.dynamics)
      gap_lanes<true>(run, s, m, lanes);
    else
      gap_lanes<false>(run, s, m, lanes);
    if (run.plan.targeted && run.dynamics) {
      learn_lanes<true, true>(run, s, m, lanes);
      progress_lanes<true, true>(run, st, s, b, n, m, lanes);
    } else if (run.plan.targeted) {
      learn_lanes<true, false>(run, s, m, lanes);
      progress_lanes<true, false>(run, st, s, b, n, m, lanes);
    } else if (run.dynamics) {  // traditional: no targeted time
      learn_lanes<false, true>(run, s, m, lanes);
      progress_lanes<false, true>(run, st, s, b, n, m, lanes);
    } else {
      learn_lanes<false, false>(run, s, m, lanes);
      progress_lanes<false, false>(run, st, s, b, n, m, lanes);
    }
    if (run.forget_share > 0) {
      consolidate_lanes(run, s, m, lanes);
      forget_lanes(s, m, lanes);
    }
    write_back(st, s, b, n, lanes);
  }
  engagement_lanes(run, L, P, st, b, n, m, lanes);
  for (c = first; c < end; ++c) {
    if (level_review[c - first]) review_autonomy(P, run.top_level, st, cl.begin[c], cl.end[c] - cl.begin[c]);
    advance_pacing(state.classrooms, c, model_.pacing_per_week);
  }
  return end;
}

}  // namespace plsim
