#include "plsim/modules/practice_log.hpp"

#include <algorithm>
#include <cmath>

#include "plsim/rng.hpp"

namespace plsim {

bool logs_responses(const State& state, std::uint32_t id) {
  if (state.responses_share <= 0) return false;
  const std::uint32_t h = id * 2654435761u;  // Knuth's multiplicative hash: spreads consecutive ids
  return double(h) < state.responses_share * 4294967296.0;
}

void log_practice(const Model& model, const State& state, Results& results) {
  const StudentColumns& st = state.students;
  const LearningParameters& L = model.params.learning;
  const PersonalizationParameters& P = model.params.personalization;
  const Rng rng(model.seed);
  const auto tick = static_cast<std::uint32_t>(state.year * 64 + state.week);
  for (std::uint32_t i = 0; i < st.size(); ++i) {
    if (!logs_responses(state, st.id[i])) continue;
    const std::uint32_t c = st.classroom[i];
    const InstructionalModel& im = model.instructional_models[state.classrooms.instructional_model[c]];
    const double minutes = im.python_policy && state.python_policy_minutes.size() == st.size() * n_modes
                               ? state.python_policy_minutes[std::size_t(i) * n_modes + int(Mode::adaptive_software)]
                               : im.minutes[int(Mode::adaptive_software)];
    const int opportunities = static_cast<int>(std::floor(minutes * st.attendance[i] / L.minutes_per_opportunity));
    for (int s = 0; s < n_subjects; ++s) {
      const double learn = std::min(1.0, L.learn_rate * st.learning_rate[s][i]);
      bool known = false;
      for (int j = 0; j < opportunities; ++j) {
        const auto w = rng.words(Stream::practice_log, st.id[i], tick, static_cast<std::uint32_t>(s * 4096 + j));
        if (j == 0) known = uniform01(w[0]) < st.p_known[s][i];
        const bool correct = known ? uniform01(w[1]) >= P.test_slip : uniform01(w[1]) < P.test_guess;
        results.responses.push_back({st.id[i], st.frontier[s][i], static_cast<std::uint8_t>(s),
                                     static_cast<std::uint8_t>(correct), state.year, state.week});
        if (!known) known = uniform01(w[2]) < learn;
      }
    }
  }
}

}  // namespace plsim
