#include "plsim/model.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace plsim {

Model::Model(Parameters p, Norms n, int weeks)
    : weeks_per_year(weeks),
      params(std::move(p)),
      norms(std::move(n)),
      scale(norms, params.learning.rit_per_unit, params.learning.levels_below) {
  const auto& w = params.assessment.weeks;
  const double taught_weeks = double(w[int(Season::spring)] - w[int(Season::fall)]);
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    // The pacing guide of a grade covers its norm growth between the fall and spring tests.
    for (int g = 0; g < n_grades; ++g)
      pacing_per_week[s][g] = (norms.at(subject, Season::spring, g).mean - norms.at(subject, Season::fall, g).mean) /
                              params.learning.rit_per_unit / taught_weeks;
    // The weeks of the year after the spring test also teach, at the grade's pace.
    const double after_spring = double(weeks - (w[int(Season::spring)] - 1));
    for (int g = 0; g + 1 < n_grades; ++g) {
      // Summer change: where the national mean student stands at the end of the year, minus next
      // fall's mean, on the map; negative where the norms show a summer gain (kindergarten to grade 1).
      const double year_end = scale.position(subject, norms.at(subject, Season::spring, g).mean) +
                              after_spring * pacing_per_week[s][g];
      summer_loss[s][g] = year_end - scale.position(subject, norms.at(subject, Season::fall, g + 1).mean);
    }
  }
}

int Model::instructional_model_index(const std::string& name) const {
  for (std::size_t i = 0; i < instructional_models.size(); ++i)
    if (instructional_models[i].name == name) return static_cast<int>(i);
  return -1;
}

void Model::index_districts() {
  district_copy_ends.clear();
  std::uint32_t end = 0;
  std::unordered_map<std::string, std::size_t> spec_of_name;
  for (std::size_t k = 0; k < districts.size(); ++k) {
    district_copy_ends.push_back(end += static_cast<std::uint32_t>(districts[k].count));
    spec_of_name.emplace(districts[k].name, k);
  }
  spec_grants.assign(districts.size(), {});
  for (std::uint32_t g = 0; g < grants.size(); ++g)
    if (const auto it = spec_of_name.find(grants[g].recipient); it != spec_of_name.end()) spec_grants[it->second].push_back(g);
}

namespace {
std::size_t spec_index(const Model& m, std::uint32_t district) {
  if (m.district_copy_ends.size() != m.districts.size() || m.spec_grants.size() != m.districts.size())
    throw std::logic_error("Model: index_districts() was not called after the districts or grants changed");
  const auto it = std::upper_bound(m.district_copy_ends.begin(), m.district_copy_ends.end(), district);
  if (it == m.district_copy_ends.end())
    throw std::out_of_range("district " + std::to_string(district) + ": the model has " +
                            std::to_string(m.district_copy_ends.empty() ? 0 : m.district_copy_ends.back()));
  return static_cast<std::size_t>(it - m.district_copy_ends.begin());
}
}  // namespace

const DistrictSpec& Model::district_spec(std::uint32_t district) const { return districts[spec_index(*this, district)]; }

const std::vector<std::uint32_t>& Model::grants_of(std::uint32_t district) const {
  return spec_grants[spec_index(*this, district)];
}

}  // namespace plsim
