// The weekly learning process: each student's instruction minutes become BKT learning on his working
// unit, moderated by mismatch, gaps, engagement, attendance, teacher and school; then progression.
#pragma once

#include <cstdint>
#include <vector>

#include "plsim/modules/instruction.hpp"
#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

struct WeekContext {
  int year = 0;
  int week = 0;  // 0-based within the year
  std::uint32_t tick() const { return static_cast<std::uint32_t>(year * 64 + week); }
};

class LearningProcess {
 public:
  explicit LearningProcess(const Model& model);

  // One week for every classroom. Reads: student traits, teachers, schools. Writes: frontier, gaps,
  // recent_gaps, p_known, engagement, classroom pacing. Classrooms are independent, so the result does
  // not depend on how they are spread over threads.
  void run_week(State& state, const WeekContext& week) const;
  // One classroom; run_week calls it for each, and tests call it directly.
  void run_classroom(State& state, std::uint32_t classroom, const WeekContext& week) const;

 private:
  const Model& model_;
  std::vector<InstructionPlan> plans_;
  MismatchKernel kernel_;
  std::uint64_t window_mask_;
};

}  // namespace plsim
