// National achievement norms (mean and SD of RIT scores by subject, season and grade) and the
// conversions of a score into national percentiles and student-SD units.
#pragma once

#include <array>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "plsim/fast_math.hpp"
#include "plsim/types.hpp"

namespace plsim {

struct NormCell {
  double mean = 0.0;
  double sd = 1.0;
};

class Norms {
 public:
  // The NWEA MAP Growth 2020 table shipped with the engine (engine/data/norms_map2020.json).
  static const Norms& national_2020();
  // Parses a table in the same layout; errors name the JSON path.
  static Norms from_json(const nlohmann::json& table, const std::string& source);

  const NormCell& at(Subject s, Season season, int grade) const {
    return cells_[static_cast<int>(s)][static_cast<int>(season)][grade];
  }
  // Student-SD units relative to the national distribution of the grade and season.
  double z_score(Subject s, Season season, int grade, double rit) const {
    const NormCell& c = at(s, season, grade);
    return (rit - c.mean) / c.sd;
  }
  // National percentile (0..100) under the normal fit the table was derived with (fast::normal_cdf:
  // within 3e-5 percentile points of the exact CDF).
  double percentile(Subject s, Season season, int grade, double rit) const {
    return percentile_of_z(z_score(s, season, grade, rit));
  }
  // The same from a national z (the assessments' vectorised loop has z already).
  static double percentile_of_z(double z) { return 100.0 * fast::normal_cdf(static_cast<float>(z)); }

 private:
  std::array<std::array<std::array<NormCell, n_grades>, n_seasons>, n_subjects> cells_{};
};

const char* embedded_norms_json();

}  // namespace plsim
