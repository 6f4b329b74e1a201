// Calibrated default learning pace per subject and grade: the multiplier of the BKT learn rate that
// makes a nationally representative population under traditional instruction reproduce the MAP 2020
// fall-to-spring norm growth. Regenerate with `python -m plsim.calibrate growth` (docs/calibration.md).
#pragma once

#include <array>

namespace plsim::calibrated {

inline constexpr std::array<double, 13> grade_pace_math{
    0.5660, 0.6006, 0.6577, 0.7159, 0.8626, 1.1721, 1.0074, 1.2617, 1.6380, 1.4643, 1.6656, 1.8001, 1.6027};
inline constexpr std::array<double, 13> grade_pace_reading{
    0.5718, 0.6231, 0.7848, 1.0037, 1.2741, 1.7229, 1.4218, 1.7673, 2.6036, 2.3335, 2.7311, 2.0172, 1.7096};

}  // namespace plsim::calibrated
