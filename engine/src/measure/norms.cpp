#include "plsim/measure/norms.hpp"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace plsim {

Norms Norms::from_json(const nlohmann::json& table, const std::string& source) {
  Norms norms;
  for (int s = 0; s < n_subjects; ++s) {
    for (int season = 0; season < n_seasons; ++season) {
      for (int g = 0; g < n_grades; ++g) {
        const std::string path = std::string("/") + subject_names[s] + "/" + season_names[season] + "/" +
                                 std::to_string(g);
        const nlohmann::json::json_pointer ptr(path);
        if (!table.contains(ptr))
          throw std::invalid_argument(source + ": " + path + ": missing norm cell");
        const auto& cell = table.at(ptr);
        if (!cell.contains("mean") || !cell.contains("sd") || !cell["mean"].is_number() ||
            !cell["sd"].is_number() || cell["sd"].get<double>() <= 0)
          throw std::invalid_argument(source + ": " + path +
                                      ": expected {\"mean\": number, \"sd\": positive number} (got " +
                                      cell.dump() + ")");
        norms.cells_[s][season][g] = {cell["mean"].get<double>(), cell["sd"].get<double>()};
      }
    }
  }
  return norms;
}

const Norms& Norms::national_2020() {
  static const Norms norms =
      from_json(nlohmann::json::parse(embedded_norms_json()), "norms_map2020.json");
  return norms;
}


}  // namespace plsim
