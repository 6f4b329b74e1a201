// The vertical scale: maps a student's position on the knowledge map (units mastered, continuous)
// to a RIT-like score and back, calibrated so the national median student sits at the norm mean.
#pragma once

#include <array>

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

  // The scale of a subject is one segment: RIT at position 0 and at the top, the top's position.
  struct Segment {
    double bottom = 0, top = 1, top_position = 1;
    double rit(double position) const {
      return position <= 0 ? bottom : position >= top_position ? top : bottom + position / top_position * (top - bottom);
    }
  };
  const Segment& segment(Subject s) const { return segment_[static_cast<int>(s)]; }

  double rit(Subject s, double position) const { return segment(s).rit(position); }
  // Inverse of rit(), clamped to [0, max_position(s)].
  double position(Subject s, double rit) const;
  // RIT per unit (the scale is one segment: every unit is worth the same).
  double slope(Subject s, double /*position*/) const {
    const Segment& g = segment_[static_cast<int>(s)];
    return (g.top - g.bottom) / g.top_position;
  }
  double max_position(Subject s) const { return segment_[static_cast<int>(s)].top_position; }

 private:
  std::array<Segment, n_subjects> segment_;
};

}  // namespace plsim
