// The vertical scale: maps a student's position on the knowledge map (units mastered, continuous)
// to a RIT-like score and back, calibrated so the national median student sits at the norm mean.
#pragma once

#include <array>
#include <vector>

#include "plsim/measure/norms.hpp"

namespace plsim {

// Knots sit at the fall means of grades K-12. The segment of grade g has the slope at which a student
// covering the grade's units of the pacing guide between the fall and spring test weeks gains the
// norm's fall-to-spring growth; the next fall knot lies where the segment reaches the next fall mean.
// Where the norms show summer loss, next fall's knot comes before the spring position, so the
// national mean student forgets that many units over the summer and the spiral curriculum revisits
// them. Below kindergarten the kindergarten slope continues for `levels_below` grade levels; after
// grade 12 the grade-12 slope continues far enough to hold the top of the grade-12 distribution.
class ScaleMap {
 public:
  // `taught_share`: share of a grade's units the pacing guide covers between fall and spring tests.
  ScaleMap(const Norms& norms, int units_per_grade, int levels_below, double taught_share);

  double rit(Subject s, double position) const;
  // Inverse of rit(), clamped to [0, max_position(s)].
  double position(Subject s, double rit) const;
  // RIT per unit at a position (the slope of the segment holding it).
  double slope(Subject s, double position) const;
  double max_position(Subject s) const { return knot_x_[static_cast<int>(s)].back(); }

 private:
  std::array<std::vector<double>, n_subjects> knot_x_, knot_rit_;
};

}  // namespace plsim
