// Calibrated default learning pace per subject and grade: the multiplier of the BKT learn rate that
// makes a nationally representative population under traditional instruction reproduce the MAP 2020
// fall-to-spring norm growth. Regenerate with `python -m plsim.calibrate growth` (docs/calibration.md).
#pragma once

#include <array>

namespace plsim::calibrated {

inline constexpr std::array<double, 13> grade_pace_math{
    0.7397, 0.7830, 0.8599, 0.9454, 1.2115, 1.9646, 1.5120, 1.9427, 2.5948, 1.9892, 2.3433, 2.6525, 2.0411};
inline constexpr std::array<double, 13> grade_pace_reading{
    0.7474, 0.8200, 1.0723, 1.4766, 2.0555, 3.1154, 2.2264, 2.8365, 4.6443, 3.2903, 3.9602, 2.7718, 2.1649};

}  // namespace plsim::calibrated
