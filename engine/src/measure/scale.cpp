#include "plsim/measure/scale.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace plsim {

ScaleMap::ScaleMap(const Norms& norms, double rit_per_unit, int levels_below) {
  if (!(rit_per_unit > 0)) throw std::invalid_argument("rit_per_unit must be positive");
  if (levels_below < 0) throw std::invalid_argument("levels_below must be non-negative");
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double k_fall = norms.at(subject, Season::fall, 0).mean;
    const double k_growth = norms.at(subject, Season::spring, 0).mean - k_fall;
    const NormCell spring12 = norms.at(subject, Season::spring, 12);
    const double bottom = k_fall - levels_below * std::max(k_growth, 0.0);
    const double top = spring12.mean + 4.0 * spring12.sd;
    segment_[s] = {bottom, top, (top - bottom) / rit_per_unit};
  }
}

double ScaleMap::position(Subject s, double rit) const {
  const Segment& g = segment_[static_cast<int>(s)];
  if (rit <= g.bottom) return 0.0;
  if (rit >= g.top) return g.top_position;
  return (rit - g.bottom) / (g.top - g.bottom) * g.top_position;
}

}  // namespace plsim
