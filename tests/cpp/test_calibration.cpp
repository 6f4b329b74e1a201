// Summary baseline: the shipped national scenario reproduces the norms it was calibrated on.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <tuple>

#include "helpers.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

TEST_CASE("the national baseline grows by the norm's fall-to-spring growth in every grade and subject",
          "[calibration]") {
  // About 100,000 students, one year: the population the grade pace table was calibrated on.
  const json doc = read_scenario_file(std::string(PLSIM_SCENARIO_DIR) + "/national_baseline.json");
  const auto model = plsim_test::shared_model_of(doc);
  Simulation sim(model, 2);
  sim.run();
  // (subject, season, grade) -> (students x mean true RIT, students)
  std::map<std::tuple<int, int, int>, std::pair<double, double>> cells;
  for (const auto& row : sim.results().assessments) {
    auto& c = cells[{int(row.subject), int(row.season), row.grade}];
    c.first += row.n * row.mean_true_rit;
    c.second += row.n;
  }
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    for (int g = 0; g < n_grades; ++g) {
      const auto& fall = cells[{s, int(Season::fall), g}];
      const auto& spring = cells[{s, int(Season::spring), g}];
      REQUIRE(fall.second > 1000);
      const double growth = spring.first / spring.second - fall.first / fall.second;
      const double norm = model->norms.at(subject, Season::spring, g).mean - model->norms.at(subject, Season::fall, g).mean;
      INFO(subject_names[s] << " grade " << g << ": growth " << growth << " RIT, norm " << norm);
      // The documented tolerances (README, Calibration): within 10% of the norm in grades K-8; in high
      // school, where the norms' growth is 1-4 RIT (rounded to 0.1), within 0.5 RIT, a third of the
      // documented 1.5.
      if (g <= 8) CHECK(growth == Approx(norm).margin(0.1 * norm));
      else CHECK(growth == Approx(norm).margin(0.5));
    }
  }
}
