// The vertical scale: maps a student's position on the knowledge map (units mastered, continuous)
// to a RIT-like score and back, calibrated so the national median student sits at the norm mean.
#pragma once

#include <array>
#include <vector>

#include "plsim/measure/norms.hpp"

namespace plsim {

// Every unit of the knowledge map is the same amount of knowledge on the vertical scale
// (`rit_per_unit`), from `levels_below` years of kindergarten growth below the kindergarten fall mean
// to 4 SD above the grade-12 spring mean. Units being equal, a unit learned is worth the same RIT
// wherever a student stands, so expected growth does not depend on where he starts unless a mechanism
// (mismatch, gaps, aptitude) makes it; a grade's pacing guide covers its norm growth in units.
class ScaleMap {
 public:
  ScaleMap(const Norms& norms, double rit_per_unit, int levels_below);

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
