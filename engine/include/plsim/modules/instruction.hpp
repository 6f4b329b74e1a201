// Instructional models (policies as data: minutes per mode, progression, what they ask of the four
// elements of personalized learning) and what one means for learning in a week: per-mode opportunity
// weights and the mismatch kernel (how learning falls when instruction is above or below a student's
// frontier).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "plsim/fast_math.hpp"
#include "plsim/fields.hpp"
#include "plsim/types.hpp"

namespace plsim {

struct LearningParameters;

// The fields of an instructional model (scenario "instructional_models/NAME"; built-in models in
// engine/data/instructional_models.json). One line a field: type, name, default, range, unit, doc, source.
#define PLSIM_INSTRUCTIONAL_MODEL_FIELDS(X)                                                                   \
  X(std::string, description, "", any_value(), "", "what the model is", "")                                   \
  X(ByMode<double>, minutes, {}, between(0, 3000), "minutes per week",                                         \
    "weekly minutes per subject in each instruction mode", "")                                                 \
  X(Progression, progression, Progression::seat_time, any_value(), "", "how students move between units", "")  \
  X(int, small_groups, 4, between(1, 16), "groups", "small groups per classroom", "")                          \
  X(int, regroup_weeks, 6, between(1, 52), "weeks", "small groups are re-formed this often", "")              \
  X(ByElement<double>, asks, {}, between(0, 1), "share",                                                       \
    "how much of each personalized-learning element the model demands of teachers and schools: what is "       \
    "delivered is this scaled by their capacity", "")                                                          \
  X(double, choice, 0.0, between(0, 1), "share", "share of time in which students choose what they work on", "") \
  X(double, check_ins, 0.0, between(0, 1), "share", "teacher check-ins during independent time", "")         \
  X(double, open_space, 0.0, between(0, 1), "share", "share of time in open, shared spaces (noise)", "")     \
  X(bool, test_out, false, any_value(), "", "students may take an on-demand test to move on", "")              \
  X(int, autonomy_levels, 0, between(0, 8), "levels",                                                           \
    "levels of autonomy students earn (0: none); minutes move from `minutes` at the first level to "          \
    "`top_level_minutes` at the last", "")                                                                      \
  X(ByMode<double>, top_level_minutes, {}, between(0, 3000), "minutes per week",                               \
    "weekly minutes at the highest autonomy level", "")                                                         \
  X(bool, python_policy, false, any_value(), "",                                                                \
    "minutes are set every week by the plsim.Policy of this name registered with the Sim; `minutes` are its " \
    "defaults", "")

struct InstructionalModel {
  std::string name;  // its key in the scenario's instructional_models (or the built-in table)
  PLSIM_DECLARE_MEMBERS(PLSIM_INSTRUCTIONAL_MODEL_FIELDS)

  // What the model asks of the four elements in all: its weekly preparation scales with it.
  double asks_total() const {
    double t = 0;
    for (double a : asks) t += a;
    return t;
  }
  double total_minutes() const {
    double t = 0;
    for (double m : minutes) t += m;
    return t;
  }
};

// exp(-distance/width), with a floor of what is left when instruction is far below the student. The
// weekly loop evaluates it up to three times per student and subject, in vectorised loops: fast::exp.
class MismatchKernel {
 public:
  explicit MismatchKernel(const LearningParameters& p);
  // d = student frontier minus the unit taught: negative when the material is above the student.
  float operator()(float d) const {
    const bool above = d < 0;
    const float e = fast::exp(above ? d * inv_width_behind_ : -d * inv_width_ahead_);
    return above ? e : ahead_floor_ + (1.0f - ahead_floor_) * e;
  }

 private:
  float inv_width_behind_, inv_width_ahead_, ahead_floor_;
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
  float change = 0;  // mean of the asks: how much the model changes a classroom (scales the first-year dip)
  float choice = 0, check_ins = 0, open_space = 0;
  bool test_out = false;
  int autonomy_levels = 0;
  bool python_policy = false;  // minutes from a Python policy, per student and week
  bool uses_small_groups = false;
  bool targeted = false;  // small group, software or tutoring: may repair gaps
  int modes_used = 1;     // instruction modes with minutes (at any autonomy level)
};

std::vector<InstructionPlan> make_plans(const Model& model);

}  // namespace plsim
