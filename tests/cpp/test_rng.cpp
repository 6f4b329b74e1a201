// Counter-based random numbers: draws are pure functions of (seed, stream, entity, tick, slot).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "plsim/fast_math.hpp"
#include "plsim/rng.hpp"

using namespace plsim;

namespace {
bool same_words(const Rng::Philox::ctr_type& a, const Rng::Philox::ctr_type& b) {
  for (int k = 0; k < 4; ++k)
    if (a[k] != b[k]) return false;
  return true;
}
}  // namespace

TEST_CASE("the same seed, stream, entity, tick and slot give the same words", "[rng]") {
  const Rng a(42), b(42);
  for (std::uint32_t entity = 0; entity < 100; ++entity)
    REQUIRE(same_words(a.words(Stream::weekly_learning, entity, 7, 1), b.words(Stream::weekly_learning, entity, 7, 1)));
  // A draw does not depend on what was drawn before it.
  const auto first = a.words(Stream::summer, 3, 2);
  for (int k = 0; k < 10; ++k) (void)a.words(Stream::summer, 4, 2);
  CHECK(same_words(first, a.words(Stream::summer, 3, 2)));
}

TEST_CASE("changing any of seed, stream, entity, tick or slot changes the words", "[rng]") {
  const Rng rng(42);
  const auto base = rng.words(Stream::student_traits, 10, 3, 1);
  CHECK_FALSE(same_words(base, Rng(43).words(Stream::student_traits, 10, 3, 1)));
  CHECK_FALSE(same_words(base, rng.words(Stream::assessment, 10, 3, 1)));
  CHECK_FALSE(same_words(base, rng.words(Stream::student_traits, 11, 3, 1)));
  CHECK_FALSE(same_words(base, rng.words(Stream::student_traits, 10, 4, 1)));
  CHECK_FALSE(same_words(base, rng.words(Stream::student_traits, 10, 3, 2)));
  // Both halves of a 64-bit seed count.
  CHECK_FALSE(same_words(Rng(1).words(Stream::summer, 0, 0), Rng(1 + (std::uint64_t(1) << 32)).words(Stream::summer, 0, 0)));
}

TEST_CASE("different streams and entities give uncorrelated uniforms", "[rng]") {
  const Rng rng(7);
  const int n = 20000;
  double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = uniform01(rng.words(Stream::student_traits, i, 0)[0]);
    const double y = uniform01(rng.words(Stream::student_gaps, i, 0)[0]);
    sx += x, sy += y, sxy += x * y, sxx += x * x, syy += y * y;
  }
  const double cov = sxy / n - sx / n * sy / n;
  const double r = cov / std::sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
  CHECK(std::abs(r) < 0.03);  // SE of r is 1/sqrt(n) = 0.007
}

TEST_CASE("uniform01 stays strictly inside the unit interval", "[rng]") {
  CHECK(uniform01(0u) > 0.0);
  CHECK(uniform01(0xFFFFFFFFu) < 1.0);
  CHECK(uniform01(0x80000000u) == Approx(0.5).margin(1e-9));
  const Rng rng(3);
  double sum = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const auto w = rng.words(Stream::assessment, i, 0);
    for (int k = 0; k < 4; ++k) {
      const double u = uniform01(w[k]);
      REQUIRE(u > 0.0);
      REQUIRE(u < 1.0);
      sum += u;
    }
  }
  CHECK(sum / (4.0 * n) == Approx(0.5).margin(0.003));  // SE 0.0005
}

TEST_CASE("standard normals have mean 0 and standard deviation 1", "[rng]") {
  const Rng rng(11);
  const int n = 100000;
  double s1 = 0, s2 = 0;     // standard_normal
  double p1 = 0, p2 = 0;     // fast::standard_normal_pair (the weekly loop's), both values
  double q1 = 0, q2 = 0, cross = 0;  // standard_normals (the two of one draw)
  for (int i = 0; i < n; ++i) {
    const auto w = rng.words(Stream::summer, i, 0);
    const double z = standard_normal(w[0], w[1]);
    s1 += z, s2 += z * z;
    const auto pair = fast::standard_normal_pair(w[2], w[3]);
    p1 += pair[0] + pair[1], p2 += double(pair[0]) * pair[0] + double(pair[1]) * pair[1];
    const auto both = standard_normals(w);
    q1 += both.first + both.second, q2 += both.first * both.first + both.second * both.second;
    cross += both.first * both.second;
  }
  // Standard errors: mean 1/sqrt(n) = 0.0032, SD about 0.0022.
  CHECK(s1 / n == Approx(0).margin(0.015));
  CHECK(std::sqrt(s2 / n - (s1 / n) * (s1 / n)) == Approx(1).margin(0.012));
  CHECK(p1 / (2.0 * n) == Approx(0).margin(0.012));
  CHECK(std::sqrt(p2 / (2.0 * n)) == Approx(1).margin(0.01));
  CHECK(q1 / (2.0 * n) == Approx(0).margin(0.012));
  CHECK(std::sqrt(q2 / (2.0 * n)) == Approx(1).margin(0.01));
  CHECK(cross / n == Approx(0).margin(0.015));  // the two normals of one draw are independent
}

TEST_CASE("standard normals have normal tails", "[rng]") {
  const Rng rng(13);
  const int n = 200000;
  int beyond2 = 0;
  for (int i = 0; i < n; ++i) {
    const auto w = rng.words(Stream::student_traits, i, 5);
    if (std::abs(standard_normal(w[0], w[1])) > 2.0) ++beyond2;
  }
  // P(|Z| > 2) = 0.0455; SE of the share 0.00047.
  CHECK(double(beyond2) / n == Approx(0.0455).margin(0.002));
}

TEST_CASE("the normal quantile function inverts the normal CDF to double precision", "[rng]") {
  // Reference values: R's qnorm.
  CHECK(plsim::inverse_normal_cdf(0.5) == Approx(0.0).margin(1e-15));
  CHECK(plsim::inverse_normal_cdf(0.975) == Approx(1.959963984540054).epsilon(1e-14));
  CHECK(plsim::inverse_normal_cdf(0.001) == Approx(-3.090232306167813).epsilon(1e-14));
  CHECK(plsim::inverse_normal_cdf(1e-10) == Approx(-6.361340902404056).epsilon(1e-12));
  CHECK(plsim::inverse_normal_cdf(0.9999) == Approx(3.719016485455709).epsilon(1e-12));
  for (double p = 0.0005; p < 1; p += 0.01)
    CHECK(0.5 * std::erfc(-plsim::inverse_normal_cdf(p) / std::sqrt(2.0)) == Approx(p).epsilon(1e-13));
}
