// The vertical scale: knowledge-map position <-> RIT score.
#include <catch2/catch.hpp>

#include "plsim/model.hpp"
#include "plsim/measure/norms.hpp"
#include "plsim/measure/scale.hpp"

using namespace plsim;

namespace {
constexpr int units_per_grade = 12;
constexpr int levels_below = 3;
constexpr double taught_share = 33.0 / 36.0;  // default fall (week 1) to spring (week 34) of 36

const ScaleMap& scale() {
  static const ScaleMap map(Norms::national_2020(), units_per_grade, levels_below, taught_share);
  return map;
}
}  // namespace

TEST_CASE("a position maps to a RIT score and back to the same position", "[scale]") {
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double top = scale().max_position(subject);
    for (double x = 0; x <= top; x += 0.173) {
      INFO(subject_names[s] << " position " << x);
      REQUIRE(scale().position(subject, scale().rit(subject, x)) == Approx(x).margin(1e-9));
    }
  }
}

TEST_CASE("the national fall mean of every grade maps to a position and back exactly", "[scale]") {
  const Norms& norms = Norms::national_2020();
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    double previous = -1;
    for (int g = 0; g < n_grades; ++g) {
      const double mean = norms.at(subject, Season::fall, g).mean;
      const double x = scale().position(subject, mean);
      INFO(subject_names[s] << " grade " << g);
      CHECK(scale().rit(subject, x) == mean);
      CHECK(x > previous);
      previous = x;
    }
    // Kindergarten's fall mean sits `levels_below` grade levels above the bottom of the map.
    CHECK(scale().position(subject, norms.at(subject, Season::fall, 0).mean) ==
          Approx(double(units_per_grade * levels_below)));
  }
}

TEST_CASE("the RIT score rises strictly with position and every slope is positive", "[scale]") {
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double top = scale().max_position(subject);
    double previous = scale().rit(subject, 0.0);
    for (double x = 0.05; x <= top; x += 0.05) {
      const double r = scale().rit(subject, x);
      INFO(subject_names[s] << " position " << x);
      REQUIRE(r > previous);
      REQUIRE(scale().slope(subject, x) > 0);
      previous = r;
    }
    CHECK(scale().slope(subject, -10.0) > 0);
    CHECK(scale().slope(subject, top + 10.0) > 0);
  }
}

TEST_CASE("a grade's segment gains the norm's fall-to-spring growth over the units taught", "[scale]") {
  const Norms& norms = Norms::national_2020();
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    for (int g = 0; g < n_grades; ++g) {
      const double growth = norms.at(subject, Season::spring, g).mean - norms.at(subject, Season::fall, g).mean;
      const double x = scale().position(subject, norms.at(subject, Season::fall, g).mean);
      INFO(subject_names[s] << " grade " << g);
      CHECK(scale().slope(subject, x + 1e-6) == Approx(growth / (units_per_grade * taught_share)).epsilon(1e-9));
    }
  }
}

TEST_CASE("positions clamp at zero and at the top of the map", "[scale]") {
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double top = scale().max_position(subject);
    const double bottom_rit = scale().rit(subject, 0.0);
    const double top_rit = scale().rit(subject, top);
    CHECK(scale().position(subject, bottom_rit - 50) == 0.0);
    CHECK(scale().position(subject, -1e6) == 0.0);
    CHECK(scale().position(subject, top_rit + 50) == top);
    CHECK(scale().position(subject, 1e6) == top);
    CHECK(scale().rit(subject, -5.0) == bottom_rit);
    CHECK(scale().rit(subject, top + 100) == top_rit);
    // The map holds the top of the grade-12 distribution: spring mean + 4 SD.
    const NormCell spring12 = Norms::national_2020().at(subject, Season::spring, 12);
    CHECK(top_rit == Approx(spring12.mean + 4 * spring12.sd));
  }
}

TEST_CASE("the scale rejects parameters that cannot make a map", "[scale]") {
  const Norms& norms = Norms::national_2020();
  CHECK_THROWS_WITH(ScaleMap(norms, 0, 3, 0.9), Catch::Contains("units_per_grade"));
  CHECK_THROWS_WITH(ScaleMap(norms, 12, -1, 0.9), Catch::Contains("levels_below"));
  CHECK_THROWS_WITH(ScaleMap(norms, 12, 3, 0.0), Catch::Contains("taught_share"));
}

// With levels_below = 0 the kindergarten fall mean is the first knot; no zero-length segment.
TEST_CASE("the slope stays positive outside the map when the map starts at kindergarten", "[scale]") {
  const ScaleMap map(Norms::national_2020(), units_per_grade, 0, taught_share);
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    INFO(subject_names[s]);
    CHECK(map.slope(subject, 0.0) > 0);
    CHECK(map.slope(subject, 5.0) > 0);
    CHECK(map.slope(subject, -1.0) > 0);
  }
}
