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

ScaleMap::ScaleMap(const Norms& norms, int units_per_grade, int levels_below, double taught_share) {
  if (units_per_grade < 1) throw std::invalid_argument("units_per_grade must be at least 1");
  if (levels_below < 0) throw std::invalid_argument("levels_below must be non-negative");
  if (!(taught_share > 0)) throw std::invalid_argument("taught_share must be positive");
  const double taught = units_per_grade * taught_share;  // units covered from fall to spring test
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    auto& xs = knot_x_[s];
    auto& ys = knot_rit_[s];
    auto slope_of = [&](int g) {
      const double growth = norms.at(subject, Season::spring, g).mean - norms.at(subject, Season::fall, g).mean;
      if (growth <= 0)
        throw std::invalid_argument(std::string("norms: /") + subject_names[s] + "/spring/" + std::to_string(g) +
                                    "/mean: must exceed the fall mean for the scale to be invertible");
      return growth / taught;
    };
    const double below = slope_of(0) * units_per_grade * levels_below;
    if (levels_below > 0) {  // else the kindergarten fall mean is the first knot itself
      xs.push_back(0.0);
      ys.push_back(norms.at(subject, Season::fall, 0).mean - below);
    }
    xs.push_back(units_per_grade * double(levels_below));
    ys.push_back(norms.at(subject, Season::fall, 0).mean);
    for (int g = 0; g + 1 < n_grades; ++g) {
      const double next = norms.at(subject, Season::fall, g + 1).mean;
      if (next <= ys.back())
        throw std::invalid_argument(std::string("norms: /") + subject_names[s] + "/fall/" + std::to_string(g + 1) +
                                    "/mean: fall means must rise with grade for the scale to be invertible "
                                    "(got " + std::to_string(next) + ")");
      xs.push_back(xs.back() + (next - ys.back()) / slope_of(g));
      ys.push_back(next);
    }
    const NormCell spring12 = norms.at(subject, Season::spring, 12);
    const double top = spring12.mean + 4.0 * spring12.sd;
    xs.push_back(xs.back() + (top - ys.back()) / slope_of(12));
    ys.push_back(top);
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
