#include "plsim/modules/instruction.hpp"

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

MismatchKernel::MismatchKernel(const LearningParameters& p)
    : inv_width_behind_(static_cast<float>(1.0 / p.mismatch_width_behind)),
      inv_width_ahead_(static_cast<float>(1.0 / p.mismatch_width_ahead)),
      ahead_floor_(static_cast<float>(p.ahead_floor)) {}

ModeWeights mode_weights(const std::array<double, n_modes>& minutes, const LearningParameters& p) {
  ModeWeights w{};
  for (int k = 0; k < n_modes; ++k)
    w[k] = static_cast<float>(minutes[k] * p.mode_efficiency[k] / p.minutes_per_opportunity);
  return w;
}

TimeShares time_shares(const std::array<double, n_modes>& minutes) {
  double total = 0;
  for (double m : minutes) total += m;
  if (total <= 0) return {};
  return {static_cast<float>(minutes[int(Mode::collaborative)] / total),
          static_cast<float>((minutes[int(Mode::small_group)] + minutes[int(Mode::tutoring)]) / total),
          static_cast<float>(minutes[int(Mode::adaptive_software)] / total)};
}

std::vector<InstructionPlan> make_plans(const Model& model) {
  const LearningParameters& L = model.params.learning;
  std::vector<InstructionPlan> plans;
  for (const InstructionalModel& m : model.instructional_models) {
    InstructionPlan plan;
    const bool levels = m.autonomy_levels >= 2;
    plan.weight = mode_weights(m.minutes, L);
    plan.top_weight = levels ? mode_weights(m.top_level_minutes, L) : plan.weight;
    plan.shares = time_shares(m.minutes);
    plan.top_shares = levels ? time_shares(m.top_level_minutes) : plan.shares;
    plan.progression = m.progression;
    plan.small_groups = m.small_groups;
    plan.regroup_weeks = m.regroup_weeks;
    for (int e = 0; e < n_elements; ++e) plan.asks[e] = static_cast<float>(m.asks[e]);
    plan.change = static_cast<float>(m.asks_total() / n_elements);
    plan.choice = static_cast<float>(m.choice);
    plan.check_ins = static_cast<float>(m.check_ins);
    plan.open_space = static_cast<float>(m.open_space);
    plan.test_out = m.test_out;
    plan.autonomy_levels = levels ? m.autonomy_levels : 0;
    plan.python_policy = m.python_policy;
    // Python policies may use any mode in any week, so they get every per-week computation.
    auto uses = [&](Mode mode) {
      return m.python_policy || m.minutes[int(mode)] > 0 || (levels && m.top_level_minutes[int(mode)] > 0);
    };
    plan.uses_small_groups = uses(Mode::small_group);
    plan.targeted = plan.uses_small_groups || uses(Mode::adaptive_software) || uses(Mode::tutoring);
    plan.modes_used = 0;
    for (int k = 0; k < n_modes; ++k)
      plan.modes_used += m.minutes[k] > 0 || (levels && m.top_level_minutes[k] > 0);
    plans.push_back(plan);
  }
  return plans;
}

}  // namespace plsim
