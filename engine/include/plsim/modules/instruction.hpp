// What an instructional model means for learning in one week: per-mode opportunity weights and the
// mismatch kernel (how learning falls when instruction is above or below a student's frontier).
#pragma once

#include <algorithm>
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
    const float t = std::min(std::max(d * steps_per_unit + half, 0.0f), float(2 * half));
    return table_[static_cast<int>(t + 0.5f)];
  }

 private:
  static constexpr int steps_per_unit = 8;
  static constexpr int half = 64 * steps_per_unit;
  std::vector<float> table_;
};

// Weekly opportunity weight of each mode: minutes times efficiency over minutes per opportunity. The
// one place this is computed, so built-in and Python policies with equal minutes learn identically.
using ModeWeights = std::array<float, n_modes>;
ModeWeights mode_weights(const std::array<double, n_modes>& minutes, const LearningParameters& p);

// Shares of a week's minutes that drive engagement.
struct TimeShares {
  float collaborative = 0;  // peer and project work
  float contact = 0;        // with a teacher: small group and tutoring
  float software = 0;       // independent software time (check-ins add contact here)
};
TimeShares time_shares(const std::array<double, n_modes>& minutes);

// What an instructional model means for one week of learning, computed once per run.
struct InstructionPlan {
  ModeWeights weight{};      // at the first autonomy level (or the only one)
  ModeWeights top_weight{};  // at the highest autonomy level
  TimeShares shares{}, top_shares{};
  Progression progression = Progression::seat_time;
  int small_groups = 1;
  int regroup_weeks = 6;
  std::array<float, n_elements> asks{};
  float choice = 0, check_ins = 0, open_space = 0;
  bool test_out = false;
  int autonomy_levels = 0;
  bool python_policy = false;  // minutes from a Python policy, per student and week
  bool uses_small_groups = false;
  bool targeted = false;  // small group, software or tutoring: may repair gaps
};

std::vector<InstructionPlan> make_plans(const Model& model);

}  // namespace plsim
