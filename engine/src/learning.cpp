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

// Small-group target unit of each student of a classroom: students are ranked by the teacher's
// estimate of their frontier (true frontier plus placement error, redrawn at each regrouping) and
// split into groups taught at their group's mean estimate.
void small_group_targets(const State& state, const Model& model, const InstructionPlan& plan, std::uint32_t b,
                         std::uint32_t e, int subject, const WeekContext& week, float* target) {
  const StudentColumns& st = state.students;
  const Rng rng(model.seed);
  const int n = static_cast<int>(e - b);
  const auto regroup_week = static_cast<std::uint32_t>(week.week / plan.regroup_weeks * plan.regroup_weeks);
  const auto tick = static_cast<std::uint32_t>(week.year * 64) + regroup_week;
  std::array<float, max_class_size> estimate;
  std::array<int, max_class_size> order;
  const double error = model.params.learning.small_group_estimate_error;
  for (int q = 0; q < n; ++q) {
    const auto w = rng.words(Stream::weekly_learning, st.id[b + q], tick, 2);
    const double noise = subject == 0 ? standard_normal(w[0], w[1]) : standard_normal(w[2], w[3]);
    estimate[q] = static_cast<float>(st.frontier[subject][b + q] + error * noise);
    order[q] = q;
  }
  std::sort(order.begin(), order.begin() + n, [&](int a, int c) {
    return estimate[a] < estimate[c] || (estimate[a] == estimate[c] && a < c);
  });
  const int groups = std::min(plan.small_groups, n);
  for (int gi = 0; gi < groups; ++gi) {
    const int lo = gi * n / groups, hi = (gi + 1) * n / groups;
    float sum = 0;
    for (int q = lo; q < hi; ++q) sum += estimate[order[q]];
    for (int q = lo; q < hi; ++q) target[order[q]] = sum / float(hi - lo);
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
  const float inv_engagement = static_cast<float>(1.0 / L.engagement_baseline);
  const float frl_mult = static_cast<float>(L.frl_learning_multiplier);
  const float gap_penalty = static_cast<float>(L.gap_penalty / L.prerequisite_window);
  const float prior = static_cast<float>(L.prior);
  const float threshold = static_cast<float>(L.mastery_threshold);
  const float slack = static_cast<float>(L.seat_time_slack);
  const float sr_floor = static_cast<float>(L.self_regulation_floor);
  const float repair_share = plan.targeted ? static_cast<float>(L.gap_repair_share) : 0.0f;
  const float repair_ease = static_cast<float>(L.gap_repair_ease);
  const float software_error = static_cast<float>(L.software_estimate_error);
  const float w_whole = plan.weight[int(Mode::whole_class)];
  const float w_collab = plan.weight[int(Mode::collaborative)];
  const float w_group = plan.weight[int(Mode::small_group)];
  const float w_software = plan.weight[int(Mode::adaptive_software)];
  const float w_tutor = plan.weight[int(Mode::tutoring)];
  const bool draws = plan.targeted;

  for (int s = 0; s < n_subjects; ++s) {
    const float pace = cl.pacing_unit[s][c];
    const float rate = class_rate * static_cast<float>(L.grade_pace[s][grade]);
    std::array<float, max_class_size> group_target{};
    if (plan.uses_small_groups) small_group_targets(state, model_, plan, b, e, s, week, group_target.data());
    auto& frontier = st.frontier[s];
    auto& gaps = st.gaps[s];
    auto& recent = st.recent_gaps[s];
    auto& p_known = st.p_known[s];

    for (std::uint32_t i = b; i < e; ++i) {
      const float f = frontier[i];
      float software_noise = 0, repair_draw = 1;
      if (draws) {
        const auto w = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 0);
        software_noise = static_cast<float>(s == 0 ? standard_normal(w[0], w[1]) : standard_normal(w[2], w[3]));
        repair_draw = static_cast<float>(uniform01(rng.words(Stream::weekly_learning, st.id[i], week.tick(), 1)[s]));
      }
      const std::uint64_t prerequisite_gaps = recent[i] & window_mask_;
      const float student_rate = rate * st.learning_rate[s][i] * (st.frl[i] ? frl_mult : 1.0f) *
                                 st.engagement[i] * inv_engagement * st.attendance[i];
      const float gap_factor = 1.0f - gap_penalty * static_cast<float>(std::popcount(prerequisite_gaps));

      const float with_class = (w_whole + w_collab) * kernel_(f - pace);
      float targeted = w_tutor;
      if (w_group > 0) targeted += w_group * kernel_(f - group_target[i - b]);
      if (w_software > 0)
        targeted += w_software * (sr_floor + (1 - sr_floor) * st.self_regulation[i]) *
                    kernel_(-software_error * software_noise);
      const float repair = prerequisite_gaps ? repair_share : 0.0f;
      const float hazard = (with_class + targeted * (1 - repair)) * student_rate * gap_factor;

      float p = 1.0f - (1.0f - p_known[i]) * std::exp(-hazard);
      if (p >= threshold && frontier[i] < 65535) {
        frontier[i]++;
        recent[i] <<= 1;
        p = prior;
      } else if (plan.progression == Progression::seat_time && f + slack < pace && frontier[i] < 65535) {
        // The class has moved on: the unit is passed without mastery and becomes a gap.
        frontier[i]++;
        gaps[i]++;
        recent[i] = (recent[i] << 1) | 1u;
        p = prior;
      }
      p_known[i] = p;

      if (repair > 0 && recent[i] != 0 && repair_draw < 1.0f - std::exp(-targeted * repair * student_rate * repair_ease)) {
        // Relearn the most recent gap (lowest set bit of the window).
        recent[i] &= recent[i] - 1;
        gaps[i]--;
      }
    }
    cl.pacing_unit[s][c] = pace + static_cast<float>(model_.pacing_per_week);
  }

  const float target = static_cast<float>(L.engagement_baseline + L.engagement_collaborative_bonus * plan.collaborative_share);
  const float adjust = static_cast<float>(L.engagement_rate);
  for (std::uint32_t i = b; i < e; ++i) st.engagement[i] += adjust * (target - st.engagement[i]);
}

}  // namespace plsim
