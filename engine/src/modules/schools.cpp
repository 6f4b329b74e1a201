#include "plsim/modules/schools.hpp"

#include <algorithm>

namespace plsim {

void advance_implementation_year(const Model&, State& state) {
  for (auto& year : state.schools.implementation_year) year = static_cast<std::uint8_t>(std::min(255, year + 1));
}

}  // namespace plsim
