#include "plsim/instruction.hpp"

namespace plsim {

MismatchKernel::MismatchKernel(const LearningParameters& p) : table_(2 * half + 1) {
  for (int k = 0; k <= 2 * half; ++k) {
    const double d = double(k - half) / steps_per_unit;
    table_[k] = static_cast<float>(
        d < 0 ? std::exp(d / p.mismatch_width_behind)
              : p.ahead_floor + (1 - p.ahead_floor) * std::exp(-d / p.mismatch_width_ahead));
  }
}

std::vector<InstructionPlan> make_plans(const Model& model) {
  const LearningParameters& L = model.params.learning;
  std::vector<InstructionPlan> plans;
  for (const InstructionalModel& m : model.instructional_models) {
    InstructionPlan plan;
    for (int k = 0; k < n_modes; ++k)
      plan.weight[k] = static_cast<float>(m.minutes[k] * L.mode_efficiency[k] / L.minutes_per_opportunity);
    plan.progression = m.progression;
    plan.small_groups = m.small_groups;
    plan.regroup_weeks = m.regroup_weeks;
    plan.collaborative_share = static_cast<float>(m.minutes[int(Mode::collaborative)] / m.total_minutes());
    plan.uses_small_groups = m.minutes[int(Mode::small_group)] > 0;
    plan.uses_software = m.minutes[int(Mode::adaptive_software)] > 0;
    plan.targeted = plan.uses_small_groups || plan.uses_software || m.minutes[int(Mode::tutoring)] > 0;
    plans.push_back(plan);
  }
  return plans;
}

}  // namespace plsim
