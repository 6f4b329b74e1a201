#include "plsim/modules/learning.hpp"

#include "plsim/model.hpp"
#include "plsim/state.hpp"
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <tbb/parallel_for.h>

#include "plsim/rng.hpp"

namespace plsim {

namespace {
constexpr int max_class_size = 64;  // the scenario spec bounds class_size by this

// Small-group target unit of each student of a classroom, per subject, re-formed at each regrouping:
// students are ranked by the teacher's estimate of their frontier (true frontier plus placement
// error) and split into groups taught at their group's mean estimate. Between regroupings the groups
// keep their target (students.group_target).
using ClassArray = std::array<float, max_class_size>;

void regroup(State& state, const Model& model, int small_groups, float error, std::uint32_t b, std::uint32_t e,
             const WeekContext& week) {
  StudentColumns& st = state.students;
  const Rng rng(model.seed);
  const int n = static_cast<int>(e - b);
  std::array<ClassArray, n_subjects> estimate;
  for (int q = 0; q < n; ++q) {
    const auto w = rng.words(Stream::weekly_learning, st.id[b + q], week.tick(), 2);
    const auto noise = standard_normal_pair(w[0], w[1]);
    for (int s = 0; s < n_subjects; ++s) estimate[s][q] = st.frontier[s][b + q] + error * noise[s];
  }
  const int groups = std::min(small_groups, n);
  std::array<int, max_class_size> order;
  for (int s = 0; s < n_subjects; ++s) {
    const ClassArray& est = estimate[s];
    for (int q = 0; q < n; ++q) order[q] = q;
    std::sort(order.begin(), order.begin() + n,
              [&](int a, int c) { return est[a] < est[c] || (est[a] == est[c] && a < c); });
    for (int gi = 0; gi < groups; ++gi) {
      const int lo = gi * n / groups, hi = (gi + 1) * n / groups;
      float sum = 0;
      for (int q = lo; q < hi; ++q) sum += est[order[q]];
      for (int q = lo; q < hi; ++q) st.group_target[s][b + order[q]] = sum / float(hi - lo);
    }
  }
}
}  // namespace

LearningProcess::LearningProcess(const Model& model)
    : model_(model),
      plans_(make_plans(model)),
      kernel_(model.params.learning),
      window_mask_(model.params.learning.prerequisite_window >= 64
                       ? ~std::uint64_t(0)
                       : (std::uint64_t(1) << model.params.learning.prerequisite_window) - 1) {}

void LearningProcess::run_week(State& state, const WeekContext& week) const {
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, static_cast<std::uint32_t>(state.classrooms.size()), 8),
                    [&](const tbb::blocked_range<std::uint32_t>& range) {
                      for (std::uint32_t c = range.begin(); c != range.end(); ++c) run_classroom(state, c, week);
                    });
}

void LearningProcess::run_classroom(State& state, std::uint32_t c, const WeekContext& week) const {
  const LearningParameters& L = model_.params.learning;
  const PersonalizationParameters& P = model_.params.personalization;
  StudentColumns& st = state.students;
  ClassroomColumns& cl = state.classrooms;
  const std::uint32_t school = cl.school[c];
  const std::uint32_t teacher = cl.teacher[c];
  const InstructionPlan& plan = plans_[state.schools.model[school]];
  const int grade = cl.grade[c];
  const std::uint32_t b = cl.begin[c], e = cl.end[c];
  const Rng rng(model_.seed);

  // Delivered fidelity of each PL element: 1 where the model asks nothing, else what it asks scaled by
  // the school's and the teacher's capacity, lower in the first implementation years.
  const int year = std::clamp<int>(state.schools.implementation_year[school], 1, 3);
  std::array<float, n_elements> fidelity;
  for (int k = 0; k < n_elements; ++k) {
    const float capacity = state.schools.fidelity[k][school] * state.teachers.capacity[teacher] *
                           static_cast<float>(P.implementation_year_fidelity[year - 1]);
    fidelity[k] = 1.0f - plan.asks[k] * (1.0f - std::min(1.0f, capacity));
  }
  const float f_profiles = fidelity[int(Element::learner_profiles)];
  const float matched = fidelity[int(Element::learning_paths)];  // share of targeted time on own level
  const float f_flexible = fidelity[int(Element::flexible_environment)];
  const float f_progression = fidelity[int(Element::competency_progression)];
  const float hold = plan.progression == Progression::mastery ? f_progression : 0.0f;
  const float profile_error = 1.0f + static_cast<float>(P.estimate_error_scale) * (1.0f - f_profiles);
  const float check_in = plan.check_ins * f_flexible;
  const float noise = plan.open_space * (1.0f - 0.5f * f_flexible);
  const float quiet = 1.0f - static_cast<float>(P.noise_penalty) * noise;
  const int regroup_weeks = std::max(1, static_cast<int>(std::lround(plan.regroup_weeks * (2.0f - f_flexible))));
  const float guess = std::min(0.5f, static_cast<float>(P.test_guess) * (2.0f - f_profiles));
  const float slip = std::min(0.5f, static_cast<float>(P.test_slip) * (2.0f - f_profiles));

  const float class_rate = static_cast<float>(L.learn_rate) * state.teachers.effectiveness[teacher] *
                           state.schools.growth_multiplier[school] * quiet;
  std::array<float, n_subjects> pace, rate, software_subject;
  for (int s = 0; s < n_subjects; ++s) {
    pace[s] = cl.pacing_unit[s][c];
    rate[s] = class_rate * static_cast<float>(L.grade_pace[s][grade]);
    software_subject[s] = static_cast<float>(L.software_subject_efficiency[s]);
  }
  if (plan.uses_small_groups && week.week % regroup_weeks == 0)
    regroup(state, model_, plan.small_groups, static_cast<float>(L.small_group_estimate_error) * profile_error, b, e,
            week);

  const float inv_engagement = static_cast<float>(1.0 / L.engagement_baseline);
  const float frl_mult = static_cast<float>(L.frl_learning_multiplier);
  const float gap_penalty = static_cast<float>(L.gap_penalty / L.prerequisite_window);
  const float prior = static_cast<float>(L.prior);
  const float absorption = static_cast<float>(L.absorption_limit);
  const float threshold = static_cast<float>(L.mastery_threshold);
  const float test_threshold = static_cast<float>(P.test_out_threshold);
  const float slack = static_cast<float>(L.seat_time_slack);
  const float sr_floor = static_cast<float>(L.self_regulation_floor);
  const float check_in_lift = check_in * static_cast<float>(P.check_in_recovery) * (1 - sr_floor);
  const float repair_share = plan.targeted ? static_cast<float>(L.gap_repair_share) : 0.0f;
  // A gap costs the learning hazard of a new unit (prior to mastery threshold) divided by the ease.
  const float repair_per_hazard =
      static_cast<float>(L.gap_repair_ease / std::log((1.0 - L.prior) / (1.0 - L.mastery_threshold)));
  const float software_error = static_cast<float>(L.software_estimate_error) * profile_error;
  const bool second_draw = plan.test_out || hold > 0;
  const float engagement_base = static_cast<float>(L.engagement_baseline) -
                                static_cast<float>(P.engagement_noise) * noise;
  const float engagement_rate = static_cast<float>(L.engagement_rate);
  const int top_level = std::max(1, plan.autonomy_levels - 1);
  const bool level_review = plan.autonomy_levels >= 2 && week.week > 0 && week.week % regroup_weeks == 0;

  std::array<double, n_modes> policy_row;
  policy_row.fill(-1.0);  // no row yet: the first student converts his
  ModeWeights policy_weights{};
  TimeShares policy_shares{};
  for (std::uint32_t i = b; i < e; ++i) {
    // This week's mode weights: the model's, its autonomy level's, or the Python policy's minutes.
    ModeWeights w = plan.weight;
    TimeShares shares = plan.shares;
    float choice = plan.choice;
    if (plan.python_policy) {
      // Python policies mostly give whole classes the same minutes: convert a row only when it changes.
      const double* row = state.python_policy_minutes.data() + std::size_t(i) * n_modes;
      if (!std::equal(row, row + n_modes, policy_row.begin())) {
        std::copy(row, row + n_modes, policy_row.begin());
        policy_weights = mode_weights(policy_row, L);
        policy_shares = time_shares(policy_row);
      }
      w = policy_weights;
      shares = policy_shares;
    } else if (plan.autonomy_levels >= 2) {
      const float t = static_cast<float>(st.autonomy[i]) / static_cast<float>(top_level);
      for (int k = 0; k < n_modes; ++k) w[k] += t * (plan.top_weight[k] - w[k]);
      shares.collaborative += t * (plan.top_shares.collaborative - shares.collaborative);
      shares.contact += t * (plan.top_shares.contact - shares.contact);
      shares.software += t * (plan.top_shares.software - shares.software);
      choice *= t;
    }
    choice *= matched;
    const float w_class = w[int(Mode::whole_class)] + w[int(Mode::collaborative)];

    // Draws of this student and week: software estimate errors, gap repair, holds at the unit, tests.
    std::array<float, n_subjects> software_noise{0.0f, 0.0f}, repair_draw{1.0f, 1.0f}, hold_draw{1.0f, 1.0f},
        test_draw{1.0f, 1.0f};
    if (plan.targeted) {
      const auto r = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 0);
      software_noise = standard_normal_pair(r[0], r[1]);
      repair_draw = {static_cast<float>(uniform01(r[2])), static_cast<float>(uniform01(r[3]))};
    }
    if (second_draw) {
      const auto r = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 1);
      hold_draw = {static_cast<float>(uniform01(r[0])), static_cast<float>(uniform01(r[1]))};
      test_draw = {static_cast<float>(uniform01(r[2])), static_cast<float>(uniform01(r[3]))};
    }
    const float student = (st.frl[i] ? frl_mult : 1.0f) * st.engagement[i] * inv_engagement * st.attendance[i];
    const float sr = st.self_regulation[i];
    const float software_use = w[int(Mode::adaptive_software)] * (sr_floor + (1 - sr_floor) * sr + check_in_lift * (1 - sr));
    const float offered = w_class + w[int(Mode::tutoring)] + w[int(Mode::small_group)] + software_use;
    float match_sum = 0;

    for (int s = 0; s < n_subjects; ++s) {
      std::uint16_t& frontier = st.frontier[s][i];
      std::uint64_t& recent = st.recent_gaps[s][i];
      const float f = frontier;
      const std::uint64_t prerequisite_gaps = recent & window_mask_;
      const float student_rate = rate[s] * st.learning_rate[s][i] * student;
      const float gap_factor = 1.0f - gap_penalty * static_cast<float>(std::popcount(prerequisite_gaps));

      // Targeted time hits the student's own level as far as learning paths are delivered, else the class's.
      const float at_class = kernel_(f - pace[s]);
      // `fit` is how well each kind of time matches the student (for engagement); `targeted` also
      // counts how much it teaches (reading software teaches less).
      float targeted = w[int(Mode::tutoring)], fit = w[int(Mode::tutoring)];
      if (w[int(Mode::small_group)] > 0) {
        const float k = matched * kernel_(f - st.group_target[s][i]) + (1 - matched) * at_class;
        targeted += w[int(Mode::small_group)] * k;
        fit += w[int(Mode::small_group)] * k;
      }
      if (software_use > 0) {
        const float k = matched * kernel_(-software_error * software_noise[s]) + (1 - matched) * at_class;
        targeted += software_use * software_subject[s] * k;
        fit += software_use * k;
      }
      match_sum += offered > 0 ? (w_class * at_class + fit) / offered : 0.0f;
      const float repair = prerequisite_gaps ? repair_share : 0.0f;
      const float offered_hazard = (w_class * at_class + targeted * (1 - repair)) * student_rate * gap_factor;
      const float hazard = offered_hazard * absorption / (absorption + offered_hazard);

      float p = 1.0f - (1.0f - st.p_known[s][i]) * std::exp(-hazard);
      bool advance = false, as_gap = false;
      if (p >= threshold) {
        advance = true;
      } else if (plan.test_out && p >= test_threshold && hold_draw[s] < f_progression) {
        // On-demand test, available as far as competency progression is delivered: pass when known
        // and no slip, or by a guess (the unit then becomes a gap). The draw that decides whether a
        // test is available is the one that decides holds below: the two branches exclude each other.
        const float pass_known = p * (1 - slip);
        advance = test_draw[s] < pass_known + (1 - p) * guess;
        as_gap = advance && test_draw[s] >= pass_known;
      } else if (f + slack < pace[s] && hold_draw[s] >= hold) {
        // The class has moved on and the student is not held at his unit: passed without mastery.
        advance = as_gap = true;
      }
      if (advance && frontier < 65535) {
        frontier++;
        recent = (recent << 1) | (as_gap ? 1u : 0u);
        if (as_gap) st.gaps[s][i]++;
        p = prior;
      }
      st.p_known[s][i] = p;

      if (repair > 0 && recent != 0 && repair_draw[s] < 1.0f - std::exp(-targeted * repair * student_rate * repair_per_hazard)) {
        recent &= recent - 1;  // relearn the most recent gap (lowest set bit of the window)
        st.gaps[s][i]--;
      }
    }

    // Engagement moves toward a target set by collaboration, choice, teacher contact, how well what is
    // taught matches the student, and noise.
    const float match = match_sum / n_subjects;
    const float target = engagement_base +
                         static_cast<float>(L.engagement_collaborative_bonus) * shares.collaborative +
                         static_cast<float>(P.engagement_choice) * choice +
                         static_cast<float>(P.engagement_contact) * (shares.contact + check_in * shares.software) -
                         static_cast<float>(P.engagement_mismatch) * (1.0f - match);
    st.engagement[i] = std::clamp(st.engagement[i] + engagement_rate * (target - st.engagement[i]), 0.0f, 1.0f);

    if (level_review) {
      // Students earn autonomy with engagement and self-regulation, and lose it when disengaged.
      const float needed = 0.3f + static_cast<float>(P.autonomy_self_regulation_step) * st.autonomy[i];
      if (st.engagement[i] >= P.autonomy_engagement && sr >= needed && st.autonomy[i] < top_level)
        st.autonomy[i]++;
      else if (st.engagement[i] < P.autonomy_engagement - 0.1 && st.autonomy[i] > 0)
        st.autonomy[i]--;
    }
  }
  for (int s = 0; s < n_subjects; ++s) cl.pacing_unit[s][c] = pace[s] + static_cast<float>(model_.pacing_per_week);
}

}  // namespace plsim
