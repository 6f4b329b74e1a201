// A run's mutable part as bytes, for checkpoints: the agent state, the results so far, the stage the
// run stands at and its timings. The model is not in it: a run is restored into a Simulation freshly
// built from the same model (the scenario), and the bytes carry the model's fingerprint to refuse any
// other. Random streams have no position to save: every draw is a function of (seed, stream, entity,
// tick), and the ticks (year, week, test) are part of the state.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace plsim {

class Simulation;

// Bad checkpoint bytes: truncated, of another format version, or of another model.
struct RunStateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Format version of the bytes; bump it when anything saved changes.
// 2: responses logged; 3: a teachers row for the first year; 4: teachers decide to leave at a year's end
// (teachers.leaving, and a stage for it); 5: rollout rows and district status with target_kind,
// held_back and students_reached
inline constexpr std::uint32_t run_state_version = 5;

std::string save_run_state(const Simulation& sim);
// Restores `bytes` into `sim`, which must be a run of the same model (checked): it continues exactly
// as the saved run would have. Throws RunStateError, leaving `sim` unusable, when the bytes are bad.
void restore_run_state(Simulation& sim, std::string_view bytes);

}  // namespace plsim
