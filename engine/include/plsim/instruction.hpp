// What an instructional model means for learning in one week: per-mode opportunity weights and the
// mismatch kernel (how learning falls when instruction is above or below a student's frontier).
#pragma once

#include <array>
#include <cmath>
#include <vector>

#include "plsim/model.hpp"

namespace plsim {

// exp(-distance/width) tabulated at 1/8 unit over +-64 units: the weekly loop calls it several times
// per student and subject, and a table keeps it off the transcendental path.
class MismatchKernel {
 public:
  explicit MismatchKernel(const LearningParameters& p);
  // d = student frontier minus the unit taught: negative when the material is above the student.
  float operator()(float d) const {
    const float t = std::fmin(std::fmax(d * steps_per_unit + half, 0.0f), float(2 * half));
    return table_[static_cast<int>(t + 0.5f)];
  }

 private:
  static constexpr int steps_per_unit = 8;
  static constexpr int half = 64 * steps_per_unit;
  std::vector<float> table_;
};

// Per instructional model, the weekly opportunity weight of each mode (minutes times efficiency over
// minutes per opportunity) and what the model needs computed each week.
struct InstructionPlan {
  std::array<float, n_modes> weight{};
  Progression progression = Progression::seat_time;
  int small_groups = 1;
  int regroup_weeks = 6;
  float collaborative_share = 0;  // of all minutes
  bool uses_small_groups = false;
  bool uses_software = false;
  bool targeted = false;  // small group, software or tutoring: may repair gaps
};

std::vector<InstructionPlan> make_plans(const Model& model);

}  // namespace plsim
