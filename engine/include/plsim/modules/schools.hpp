// School dynamics between years: how far each school is into implementing its instructional model.
#pragma once

#include "plsim/model.hpp"
#include "plsim/state.hpp"

namespace plsim {

// Year stage: every school moves one year further into the implementation of its model (delivered
// fidelity grows over the first years, PersonalizationParameters::implementation_year_fidelity).
// Reads and writes: schools.implementation_year.
void advance_implementation_year(const Model& model, State& state);

}  // namespace plsim
