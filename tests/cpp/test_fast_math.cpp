// The weekly loop's single-precision functions against double-precision libm, and the batched Philox
// against Random123's (plsim/fast_math.hpp, Rng::words_of).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "plsim/fast_math.hpp"
#include "plsim/rng.hpp"

using namespace plsim;

TEST_CASE("fast::exp is within one ulp of exp over its whole range and clamps outside it", "[fast_math]") {
  double worst = 0;
  for (int i = 0; i <= 1'000'000; ++i) {
    const float x = -87.0f + 175.0f * static_cast<float>(i) / 1e6f;
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(fast::exp(x) - exact) / exact);
  }
  CHECK(worst < 1.2e-7);  // one ulp of a float is 1.19e-7 relative at most
  CHECK(fast::exp(0.0f) == 1.0f);
  CHECK(fast::exp(-1000.0f) == Approx(std::exp(-87.0)).epsilon(1e-6));
  CHECK(std::isfinite(fast::exp(1000.0f)));
}

TEST_CASE("fast::log is within 1e-7 of log in every binade below 1", "[fast_math]") {
  double worst = 0;
  for (int e = 0; e < 40; ++e)
    for (int k = 0; k < 20'000; ++k) {
      const float x = static_cast<float>(std::ldexp(1.0 + k / 20'000.0, -e - 1));
      const double exact = std::log(static_cast<double>(x));
      worst = std::max(worst, std::abs(fast::log(x) - exact) / std::max(1.0, std::abs(exact)));
    }
  CHECK(worst < 1e-7);
  CHECK(fast::log(1.0f) == 0.0f);
}

TEST_CASE("fast::sincos_turn is within 1.5e-7 of sin and cos of 2 pi u for u from 0 to 1", "[fast_math]") {
  double worst = 0;
  for (int i = 0; i <= 1'000'000; ++i) {
    const float u = static_cast<float>(i) / 1e6f;
    const auto sc = fast::sincos_turn(u);
    const double angle = 6.283185307179586 * static_cast<double>(u);
    worst = std::max({worst, std::abs(sc.sin - std::sin(angle)), std::abs(sc.cos - std::cos(angle))});
  }
  CHECK(worst < 1.5e-7);
}

TEST_CASE("fast::normal_cdf is within 4e-7 of the normal CDF and symmetric", "[fast_math]") {
  double worst = 0;
  for (int i = 0; i <= 1'000'000; ++i) {
    const float z = -12.0f + 24.0f * static_cast<float>(i) / 1e6f;
    worst = std::max(worst, std::abs(fast::normal_cdf(z) - 0.5 * std::erfc(-z / std::sqrt(2.0))));
    CHECK_FALSE(std::abs(fast::normal_cdf(z) + fast::normal_cdf(-z) - 1.0f) > 1.2e-7f);
  }
  CHECK(worst < 4e-7);
}

TEST_CASE("fast::uniform01 stays inside (0, 1) and its normals have the moments of N(0, 1)", "[fast_math]") {
  CHECK(fast::uniform01(0) > 0.0f);
  CHECK(fast::uniform01(0xffffffffu) < 1.0f);
  const Rng rng(5);
  const int n = 400'000;
  double sum = 0, squares = 0, fourth = 0, product = 0, below = 0;
  for (int i = 0; i < n; ++i) {
    const auto w = rng.words(Stream::weekly_learning, static_cast<std::uint32_t>(i), 0);
    const auto z = fast::standard_normal_pair(w[0], w[1]);
    for (float x : z) sum += x, squares += x * x, fourth += double(x) * x * x * x, below += x < -1.959964f;
    product += double(z[0]) * z[1];
  }
  const double m = 2.0 * n;
  CHECK(std::abs(sum / m) < 4 * std::sqrt(1 / m));
  CHECK(squares / m == Approx(1.0).margin(0.01));
  CHECK(fourth / m == Approx(3.0).margin(0.05));      // kurtosis of a normal
  CHECK(product / n == Approx(0.0).margin(0.01));     // the pair is uncorrelated
  CHECK(below / m == Approx(0.025).margin(0.0015));  // the lower 2.5% tail
}

TEST_CASE("Rng::words_of gives Random123's Philox4x32-10 words for every lane", "[fast_math][rng]") {
  for (std::uint64_t seed : {std::uint64_t(0), std::uint64_t(7), std::uint64_t(0xfedcba9876543210ull)}) {
    const Rng rng(seed);
    std::vector<std::uint32_t> ids(64);
    for (std::uint32_t q = 0; q < 64; ++q) ids[q] = q * 2654435761u;
    std::array<std::array<std::uint32_t, 64>, 4> lanes;
    for (std::uint32_t n : {1u, 7u, 8u, 9u, 23u, 64u}) {  // with AVX2: blocks of eight and a remainder
      rng.words_of(Stream::assessment, ids.data(), n, 1234, 3, lanes);
      for (std::uint32_t q = 0; q < n; ++q) {
        const auto w = rng.words(Stream::assessment, ids[q], 1234, 3);
        for (int j = 0; j < 4; ++j) REQUIRE(lanes[j][q] == w[j]);
      }
    }
  }
}
