#include "plsim/modules/summer.hpp"

#include <algorithm>
#include <array>

#include <tbb/parallel_for.h>

#include "plsim/fast_math.hpp"
#include "plsim/model.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

void summer(const Model& model, State& state) {
  StudentColumns& st = state.students;
  const SummerParameters& p = model.params.summer;
  const Rng rng(model.seed);
  // FRL students lose frl_extra_loss more than others, and the national mean student loses what the
  // norms show: the multipliers are scaled so that their national mean is 1.
  const double national = 1.0 + p.frl_extra_loss * model.params.population.national_frl_share;
  const double frl_factor = (1.0 + p.frl_extra_loss) / national, other_factor = 1.0 / national;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, st.size(), 4096), [&](const tbb::blocked_range<std::size_t>& r) {
    // Each student's two normals (one per subject) from one Philox block, drawn 64 students at a time.
    constexpr std::size_t lanes = 64;
    std::array<std::array<std::uint32_t, lanes>, 4> words;
    std::array<std::array<float, lanes>, n_subjects> noise;
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const std::size_t q = (i - r.begin()) % lanes;
      if (q == 0) {
        const auto n = static_cast<std::uint32_t>(std::min(lanes, r.end() - i));
        rng.words_of(Stream::summer, st.id.data() + i, n, static_cast<std::uint32_t>(state.year), 0, words);
        for (std::uint32_t l = 0; l < n; ++l) {
          noise[0][l] = fast::standard_normal_pair(words[0][l], words[1][l])[0];
          noise[1][l] = fast::standard_normal_pair(words[2][l], words[3][l])[0];
        }
      }
      for (int s = 0; s < n_subjects; ++s) {
        const double variation = std::max(0.0, 1.0 + p.loss_sd * noise[s][q]);
        const double base = model.summer_loss[s][st.grade[i]] * p.loss_scale * variation;
        const double loss = base > 0 ? base * (st.frl[i] ? frl_factor : other_factor) : base;
        // What summer forgets is the most recent knowledge, the fragile part first.
        st.fragile[s][i] = fragile_stored(static_cast<float>(std::max(0.0, fragile_units(st.fragile[s][i]) - std::max(0.0, loss))));
        double known = st.p_known[s][i] - loss;
        // A summer gain (negative loss, where the norms show one) masters units from the working one up.
        while (known >= 1.0 && st.frontier[s][i] < 65535) {
          st.frontier[s][i]++;
          st.recent_gaps[s][i] <<= 1;
          known -= 1.0;
        }
        // Forget whole units, most recent mastered first, while the loss exceeds the working unit.
        while (known < 0 && st.frontier[s][i] > st.gaps[s][i]) {
          forget_latest_unit(st.recent_gaps[s][i], st.gaps[s][i], st.frontier[s][i]);
          known += 1.0;
        }
        st.p_known[s][i] = static_cast<float>(std::max(0.0, known));
      }
    }
  });
}

}  // namespace plsim
