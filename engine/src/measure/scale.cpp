#include "plsim/measure/scale.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace plsim {

namespace {
// Linear interpolation on increasing knots, extrapolating nothing: callers clamp.
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  if (x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const auto hi = static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
  const std::size_t lo = hi - 1;
  const double t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}
}  // namespace

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
    knot_x_[s] = {0.0, (top - bottom) / rit_per_unit};
    knot_rit_[s] = {bottom, top};
  }
}

double ScaleMap::rit(Subject s, double position) const {
  return interpolate(knot_x_[static_cast<int>(s)], knot_rit_[static_cast<int>(s)], position);
}

double ScaleMap::slope(Subject s, double position) const {
  const auto& xs = knot_x_[static_cast<int>(s)];
  const auto& ys = knot_rit_[static_cast<int>(s)];
  auto hi = static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), position) - xs.begin());
  hi = std::clamp<std::size_t>(hi, 1, xs.size() - 1);
  return (ys[hi] - ys[hi - 1]) / (xs[hi] - xs[hi - 1]);
}

double ScaleMap::position(Subject s, double rit) const {
  return interpolate(knot_rit_[static_cast<int>(s)], knot_x_[static_cast<int>(s)], rit);
}

}  // namespace plsim
