// The summer step between school years: students forget some of what they learned, more so students
// from low-income families; forgotten units become gaps.
#pragma once

#include "plsim/fields.hpp"

namespace plsim {

// Scenario key "parameters/summer"; docs/model.md. One line a parameter: type, name, default, range,
// unit, doc, source.
#define PLSIM_SUMMER_PARAMETERS(X)                                                                            \
  X(double, loss_scale, 1.0, between(0, 5), "multiplier", "multiplier on the norm-derived summer loss",        \
    "the loss itself comes from MAP Growth 2020 (spring mean above next fall's mean)")                        \
  X(double, frl_extra_loss, 0.25, between(0, 5), "share", "FRL students lose this share more",                 \
    "assumption; direction from Alexander, Entwisle & Olson 2007")                                           \
  X(double, loss_sd, 0.3, between(0, 2), "share", "relative student variation of the loss", "assumption")

struct SummerParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_SUMMER_PARAMETERS)
};

// Year stage. Reads: grade, frl. Writes: p_known, gaps, recent_gaps. Runs before enrolment.
void summer(const Model& model, State& state);

}  // namespace plsim
