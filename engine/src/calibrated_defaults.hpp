// Calibrated default learning pace per subject and grade: the multiplier of the BKT learn rate that
// makes a nationally representative population under traditional instruction reproduce the MAP 2020
// fall-to-spring norm growth. Regenerate with `python -m plsim.calibrate growth` (docs/calibration.md).
#pragma once

#include <array>

namespace plsim::calibrated {

inline constexpr std::array<double, 13> grade_pace_math{
    0.5209, 0.5513, 0.5990, 0.6450, 0.7778, 1.0540, 0.9158, 1.1388, 1.4657, 1.3111, 1.4795, 1.5581, 1.3613};
inline constexpr std::array<double, 13> grade_pace_reading{
    0.5268, 0.5738, 0.7200, 0.9200, 1.1592, 1.5388, 1.3000, 1.6054, 2.3280, 2.1491, 2.5115, 1.8288, 1.4836};

}  // namespace plsim::calibrated
