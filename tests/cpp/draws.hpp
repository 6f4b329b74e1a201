// Statistics for the tests of random draws over several years: draws collected by stable id, their
// correlations and spreads, and bounds on them derived from the sample size (never arbitrary).
#pragma once

#include <cmath>
#include <cstdint>
#include <map>

namespace plsim_test {

// One draw (or a quantity made from it) per entity, by the entity's stable id.
using ById = std::map<std::uint64_t, double>;

// Pearson correlation over the ids present in both.
inline double correlation(const ById& a, const ById& b) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (const auto& [id, x] : a) {
    const auto it = b.find(id);
    if (it == b.end()) continue;
    const double y = it->second;
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y, ++n;
  }
  const double cov = sab / n - sa / n * sb / n;
  return cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
}

inline double mean(const ById& a) {
  double s = 0;
  for (const auto& [id, x] : a) s += x;
  return s / double(a.size());
}

inline double sd(const ById& a) {
  const double m = mean(a);
  double s = 0;
  for (const auto& [id, x] : a) s += (x - m) * (x - m);
  return std::sqrt(s / double(a.size()));
}

// Four standard errors: the largest |correlation| of n pairs of independent draws (SE 1/sqrt(n)), the
// largest relative error of the SD of n normal draws (SE 1/sqrt(2n)), of a mean of n draws of SD sd.
// A sound engine exceeds one in about 16,000 tests; the draws are seeded, so a test that passes once
// passes always.
inline double independent_correlation_bound(std::size_t n) { return 4.0 / std::sqrt(double(n)); }
inline double sd_relative_bound(std::size_t n) { return 4.0 / std::sqrt(2.0 * double(n)); }
inline double mean_bound(double sd, std::size_t n) { return 4.0 * sd / std::sqrt(double(n)); }

// Number of ids whose values are identical bit for bit in both (over the ids of `a` found in `b`).
inline std::size_t same_values(const ById& a, const ById& b) {
  std::size_t same = 0;
  for (const auto& [id, x] : a) {
    const auto it = b.find(id);
    same += it != b.end() && it->second == x;
  }
  return same;
}

}  // namespace plsim_test
