#include "plsim/learning.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <tbb/parallel_for.h>

#include "plsim/rng.hpp"

namespace plsim {

namespace {
constexpr int max_class_size = 64;  // the scenario spec bounds class_size by this

// Small-group target unit of each student of a classroom, per subject: students are ranked by the
// teacher's estimate of their frontier (true frontier plus placement error, redrawn at each
// regrouping) and split into groups taught at their group's mean estimate.
using ClassArray = std::array<float, max_class_size>;

void small_group_targets(const State& state, const Model& model, const InstructionPlan& plan, std::uint32_t b,
                         std::uint32_t e, const WeekContext& week, std::array<ClassArray, n_subjects>& target) {
  const StudentColumns& st = state.students;
  const Rng rng(model.seed);
  const int n = static_cast<int>(e - b);
  const auto regroup_week = static_cast<std::uint32_t>(week.week / plan.regroup_weeks * plan.regroup_weeks);
  const auto tick = static_cast<std::uint32_t>(week.year * 64) + regroup_week;
  const auto error = static_cast<float>(model.params.learning.small_group_estimate_error);
  std::array<ClassArray, n_subjects> estimate;
  for (int q = 0; q < n; ++q) {
    const auto w = rng.words(Stream::weekly_learning, st.id[b + q], tick, 2);
    const auto noise = standard_normal_pair(w[0], w[1]);
    for (int s = 0; s < n_subjects; ++s) estimate[s][q] = st.frontier[s][b + q] + error * noise[s];
  }
  const int groups = std::min(plan.small_groups, n);
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
      for (int q = lo; q < hi; ++q) target[s][order[q]] = sum / float(hi - lo);
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
  StudentColumns& st = state.students;
  ClassroomColumns& cl = state.classrooms;
  const std::uint32_t school = cl.school[c];
  const InstructionPlan& plan = plans_[state.schools.model[school]];
  const int grade = cl.grade[c];
  const std::uint32_t b = cl.begin[c], e = cl.end[c];
  const Rng rng(model_.seed);

  const float class_rate = static_cast<float>(L.learn_rate) * state.teachers.effectiveness[cl.teacher[c]] *
                           state.schools.growth_multiplier[school];
  std::array<float, n_subjects> pace, rate;
  for (int s = 0; s < n_subjects; ++s) {
    pace[s] = cl.pacing_unit[s][c];
    rate[s] = class_rate * static_cast<float>(L.grade_pace[s][grade]);
  }
  std::array<ClassArray, n_subjects> group_target{};
  if (plan.uses_small_groups) small_group_targets(state, model_, plan, b, e, week, group_target);

  const float inv_engagement = static_cast<float>(1.0 / L.engagement_baseline);
  const float frl_mult = static_cast<float>(L.frl_learning_multiplier);
  const float gap_penalty = static_cast<float>(L.gap_penalty / L.prerequisite_window);
  const float prior = static_cast<float>(L.prior);
  const float threshold = static_cast<float>(L.mastery_threshold);
  const float slack = static_cast<float>(L.seat_time_slack);
  const float sr_floor = static_cast<float>(L.self_regulation_floor);
  const float repair_share = plan.targeted ? static_cast<float>(L.gap_repair_share) : 0.0f;
  // A gap costs the learning hazard of a new unit (prior to mastery threshold) divided by the ease.
  const float repair_per_hazard =
      static_cast<float>(L.gap_repair_ease / std::log((1.0 - L.prior) / (1.0 - L.mastery_threshold)));
  const float software_error = static_cast<float>(L.software_estimate_error);
  const float w_class = plan.weight[int(Mode::whole_class)] + plan.weight[int(Mode::collaborative)];
  const float w_group = plan.weight[int(Mode::small_group)];
  const float w_software = plan.weight[int(Mode::adaptive_software)];
  const float w_tutor = plan.weight[int(Mode::tutoring)];
  const bool seat_time = plan.progression == Progression::seat_time;
  const float engagement_target =
      static_cast<float>(L.engagement_baseline + L.engagement_collaborative_bonus * plan.collaborative_share);
  const float engagement_rate = static_cast<float>(L.engagement_rate);

  for (std::uint32_t i = b; i < e; ++i) {
    // One draw per student and week: software estimate errors (both subjects), gap-repair chances.
    std::array<float, n_subjects> software_noise{0.0f, 0.0f}, repair_draw{1.0f, 1.0f};
    if (plan.targeted) {
      const auto w = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 0);
      software_noise = standard_normal_pair(w[0], w[1]);
      repair_draw = {static_cast<float>(uniform01(w[2])), static_cast<float>(uniform01(w[3]))};
    }
    const float student = (st.frl[i] ? frl_mult : 1.0f) * st.engagement[i] * inv_engagement * st.attendance[i];
    const float software_use = w_software * (sr_floor + (1 - sr_floor) * st.self_regulation[i]);

    for (int s = 0; s < n_subjects; ++s) {
      std::uint16_t& frontier = st.frontier[s][i];
      std::uint64_t& recent = st.recent_gaps[s][i];
      const float f = frontier;
      const std::uint64_t prerequisite_gaps = recent & window_mask_;
      const float student_rate = rate[s] * st.learning_rate[s][i] * student;
      const float gap_factor = 1.0f - gap_penalty * static_cast<float>(std::popcount(prerequisite_gaps));

      float targeted = w_tutor;
      if (w_group > 0) targeted += w_group * kernel_(f - group_target[s][i - b]);
      if (w_software > 0) targeted += software_use * kernel_(-software_error * software_noise[s]);
      const float repair = prerequisite_gaps ? repair_share : 0.0f;
      const float hazard = (w_class * kernel_(f - pace[s]) + targeted * (1 - repair)) * student_rate * gap_factor;

      float p = 1.0f - (1.0f - st.p_known[s][i]) * std::exp(-hazard);
      if (p >= threshold && frontier < 65535) {
        frontier++;
        recent <<= 1;
        p = prior;
      } else if (seat_time && f + slack < pace[s] && frontier < 65535) {
        // The class has moved on: the unit is passed without mastery and becomes a gap.
        frontier++;
        st.gaps[s][i]++;
        recent = (recent << 1) | 1u;
        p = prior;
      }
      st.p_known[s][i] = p;

      if (repair > 0 && recent != 0 && repair_draw[s] < 1.0f - std::exp(-targeted * repair * student_rate * repair_per_hazard)) {
        recent &= recent - 1;  // relearn the most recent gap (lowest set bit of the window)
        st.gaps[s][i]--;
      }
    }
    st.engagement[i] += engagement_rate * (engagement_target - st.engagement[i]);
  }
  for (int s = 0; s < n_subjects; ++s) cl.pacing_unit[s][c] = pace[s] + static_cast<float>(model_.pacing_per_week);
}

}  // namespace plsim
