// Single-precision exp, log, sin/cos of a turn and the normal CDF for the weekly loop and the tests:
// branch-free, inline, only +, -, *, /, min, max, compares and bit casts, so that the compiler
// vectorises the loops that call them and every lane, vector or scalar, SSE or AVX, gives the same
// bits (the engine is compiled with -ffp-contract=off: no fused multiply-adds that one path would use
// and another not). libm's functions are calls the vectoriser cannot see through; their results also
// differ between libm versions.
//
// The polynomials are Cephes' single-precision ones (Moshier 1992, "Methods and Programs for
// Mathematical Functions"); the normal CDF is Abramowitz & Stegun 7.1.26. Accuracy is tested against
// double-precision libm in tests/cpp/test_fast_math.cpp: exp and log within 2 ulp (relative 2.4e-7),
// sin/cos within 2.5e-7 absolute, the normal CDF within 1.5e-7 absolute.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace plsim::fast {

// e^x for x in [-87, 88] (clamped to it: 1.7e-38 to 1.65e38, never a denormal or inf).
inline float exp(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // n = round(x / ln 2) by the 1.5 * 2^23 trick: the sum's low mantissa bits hold n.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  const std::int32_t n_bits = std::bit_cast<std::int32_t>(shifted) - 0x4B400000;
  // r = x - n ln 2 in two steps (Cody-Waite), |r| <= ln 2 / 2.
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e_r = p * (r * r) + r + 1.0f;
  return e_r * std::bit_cast<float>((n_bits + 127) << 23);
}

// Natural logarithm of a positive normal float (the uniforms of the random draws are in (0, 1)).
inline float log(float x) {
  const std::int32_t bits = std::bit_cast<std::int32_t>(x);
  float e = static_cast<float>((bits >> 23) - 126);
  float m = std::bit_cast<float>((bits & 0x007FFFFF) | 0x3F000000);  // x = m * 2^e, m in [0.5, 1)
  // Keep m in [sqrt(1/2), sqrt(2)) so that log(m) is small: below, double it and take one from e.
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1.0f : e;
  m = low ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y = y + e * -2.12194440e-4f;
  y = y - 0.5f * z;
  return m + y + e * 0.693359375f;
}

struct SinCos {
  float sin, cos;
};

// sin and cos of 2 pi u for u in [0, 1] (a uniform draw as a share of a turn): the quadrant comes from
// u itself, so there is no large-argument reduction.
inline SinCos sincos_turn(float u) {
  const float shifted = u * 4.0f + 12582912.0f;
  const float quarter = shifted - 12582912.0f;  // nearest quarter turn, 0..4
  const std::int32_t k = std::bit_cast<std::int32_t>(shifted) - 0x4B400000;
  const float t = (u - quarter * 0.25f) * 6.28318530717958648f;  // |t| <= pi / 4
  const float z = t * t;
  float s = -1.9515295891e-4f;
  s = s * z + 8.3321608736e-3f;
  s = s * z - 1.6666654611e-1f;
  s = t + t * z * s;
  float c = 2.443315711809948e-5f;
  c = c * z - 1.388731625493765e-3f;
  c = c * z + 4.166664568298827e-2f;
  c = 1.0f - 0.5f * z + z * z * c;
  // Rotate by k quarter turns: (sin, cos) of t + k pi / 2.
  const bool odd = (k & 1) != 0, flip_sin = (k & 2) != 0, flip_cos = ((k + 1) & 2) != 0;
  const float sin_abs = odd ? c : s, cos_abs = odd ? s : c;
  return {flip_sin ? -sin_abs : sin_abs, flip_cos ? -cos_abs : cos_abs};
}

// Standard normal CDF: 0.5 erfc(-z / sqrt 2) with erfc from Abramowitz & Stegun 7.1.26 (1.5e-7 in erf;
// in float, within 4e-7 of the CDF).
inline float normal_cdf(float z) {
  const float x = (z < 0 ? -z : z) * 0.707106781186547524f;
  const float t = 1.0f / (1.0f + 0.3275911f * x);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float tail = 0.5f * p * t * exp(-x * x);  // P(Z > |z|)
  return z < 0 ? tail : 1.0f - tail;
}

// Uniform in the open interval (0, 1) from a 32-bit word: its top 23 bits and half a step, so that
// every value is exact in a float and the largest is 1 - 2^-24 (the double-precision
// plsim::uniform01 keeps all 32 bits). Box-Muller normals of it reach 5.8 SD.
inline float uniform01(std::uint32_t word) {
  return (static_cast<float>(static_cast<std::int32_t>(word >> 9)) + 0.5f) * 0x1p-23f;
}

// Two standard normals from two words (Box-Muller, the cosine then the sine branch). std::sqrt
// vectorises because the engine is compiled with -fno-math-errno (its argument is never negative).
inline std::array<float, 2> standard_normal_pair(std::uint32_t a, std::uint32_t b) {
  const float r = std::sqrt(-2.0f * log(uniform01(a)));
  const SinCos angle = sincos_turn(uniform01(b));
  return {r * angle.cos, r * angle.sin};
}

}  // namespace plsim::fast
