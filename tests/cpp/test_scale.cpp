// The vertical scale: knowledge-map position <-> RIT score, every unit the same size.
#include <catch2/catch.hpp>

#include "plsim/measure/norms.hpp"
#include "plsim/measure/scale.hpp"
#include "plsim/model.hpp"

using namespace plsim;

namespace {
constexpr double rit_per_unit = 1.0;
constexpr int levels_below = 3;

const ScaleMap& scale() {
  static const ScaleMap map(Norms::national_2020(), rit_per_unit, levels_below);
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

TEST_CASE("every unit is worth the same RIT wherever it lies on the map", "[scale]") {
  // Equal units make a unit learned worth the same growth for every student: growth does not depend on
  // where a student starts through the scale (MAP's conditional growth norms vary little with status).
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double top = scale().max_position(subject);
    for (double x = 0.5; x < top; x += 7.3) {
      INFO(subject_names[s] << " position " << x);
      CHECK(scale().rit(subject, x + 1) - scale().rit(subject, x) == Approx(rit_per_unit).epsilon(1e-9));
      CHECK(scale().slope(subject, x) == Approx(rit_per_unit));
    }
  }
  const ScaleMap half(Norms::national_2020(), 0.5, levels_below);
  CHECK(half.max_position(Subject::math) == Approx(2 * scale().max_position(Subject::math)));
}

TEST_CASE("the map reaches levels_below years of kindergarten growth below kindergarten, and 4 SD above "
          "the grade-12 spring mean", "[scale]") {
  const Norms& norms = Norms::national_2020();
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double k_fall = norms.at(subject, Season::fall, 0).mean;
    const double k_growth = norms.at(subject, Season::spring, 0).mean - k_fall;
    CHECK(scale().position(subject, k_fall) == Approx(levels_below * k_growth / rit_per_unit));
    const NormCell spring12 = norms.at(subject, Season::spring, 12);
    CHECK(scale().rit(subject, scale().max_position(subject)) == Approx(spring12.mean + 4 * spring12.sd));
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
  }
}

TEST_CASE("the scale rejects parameters that cannot make a map", "[scale]") {
  const Norms& norms = Norms::national_2020();
  CHECK_THROWS_WITH(ScaleMap(norms, 0.0, 3), Catch::Contains("rit_per_unit"));
  CHECK_THROWS_WITH(ScaleMap(norms, 1.0, -1), Catch::Contains("levels_below"));
}
