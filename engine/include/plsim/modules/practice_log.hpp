// Simulated response logs: the practice opportunities of adaptive software, each a response a
// tutoring system would log (student, subject, unit, week, correct), for fitting BKT to simulated
// logs as to real ones (plsim.bkt). Recorded only when asked (State::responses_share > 0).
#pragma once

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Whether a student is among the share of students whose responses are logged: a stable hash of his
// id, so both arms and every year log the same students.
bool logs_responses(const State& state, std::uint32_t id);

// This week's software practice of the logged students, appended to results.responses. Each student
// gets floor(software minutes x attendance / minutes_per_opportunity) opportunities per subject on his
// working unit; his knowledge at the first is known with P(known), then each opportunity is answered
// correctly with 1 - test_slip when known and test_guess when not, and an unknown unit becomes known
// with P = learn_rate x his learning rate (the BKT process the learner model stands for). Draws: stream
// practice_log, his id, the week, a slot per subject and opportunity. It only reads the state.
void log_practice(const Model& model, const State& state, Results& results);

}  // namespace plsim
