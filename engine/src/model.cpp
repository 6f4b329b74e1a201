#include "plsim/model.hpp"

#include <algorithm>

namespace plsim {

Model::Model(Parameters p, Norms n, int weeks)
    : weeks_per_year(weeks),
      params(std::move(p)),
      norms(std::move(n)),
      scale(norms, params.learning.units_per_grade, params.learning.levels_below, taught_share(params, weeks)) {
  pacing_per_week = double(params.learning.units_per_grade) / weeks_per_year;
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    for (int g = 0; g + 1 < n_grades; ++g) {
      // Summer loss: how far the spring mean sits above next fall's mean, on the map.
      const double spring = scale.position(subject, norms.at(subject, Season::spring, g).mean);
      const double next_fall = scale.position(subject, norms.at(subject, Season::fall, g + 1).mean);
      summer_loss[s][g] = std::max(0.0, spring - next_fall);
    }
  }
}

double Model::taught_share(const Parameters& p, int weeks) {
  const auto& w = p.assessment.weeks;
  return double(w[2] - w[0]) / weeks;
}

int Model::instructional_model_index(const std::string& name) const {
  for (std::size_t i = 0; i < instructional_models.size(); ++i)
    if (instructional_models[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace plsim
