// Counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function of
// (seed, stream, entity, tick, slot), so results never depend on thread count or scheduling, and
// adding a mechanism with its own stream never shifts the draws of any other (common random numbers).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include <Random123/philox.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace plsim {

// One stream per decision, each keyed by the stable id of one kind of entity (entity word) and a
// tick. Values are part of the reproducibility contract: never renumber them.
enum class Stream : std::uint32_t {
  school_traits = 1,      // school id: achievement and growth effects, FRL share, capacities
  school_models = 2,      // school id: which schools get which instructional model
  student_traits = 3,     // student id: achievement, learning rate, self-regulation, attendance
  student_gaps = 4,       // student id: initial gap pattern
  teacher_traits = 5,     // school id, tick = the teacher's hiring serial in it: effectiveness, capacity
  classroom_shuffle = 6,  // student id, tick = year: classroom assignment each year
  weekly_learning = 7,    // student id, tick = week: estimates, gap repair, tests
  assessment = 8,         // student id, tick = test: measurement error
  summer = 9,             // student id, tick = year: summer loss
  twin_assessment = 10,   // student id, tick = test: the counterfactual twin's own reported test errors
  school_strata = 11,     // school id, tick = trait: each school's stratum of a stratified school draw
  district_traits = 12,   // district id: the district's achievement effect
  district_strata = 13,   // district id: its stratum of the stratified district draw
  teacher_turnover = 14,  // school id, tick = year, slot = the teacher's hiring serial: whether he leaves
  school_conditions = 15, // school id: leadership, data system, obstacles
  school_events = 16,     // school id, tick = year: whether a school drops its model, codifies its pilot
  rollout = 17,           // school id, tick = year: lotteries and the district's view of readiness
  teacher_buy_in = 18,    // school id, tick = the teacher's hiring serial: his buy-in
  bkt_starts = 19,        // skill index, tick = restart: a BKT fit's starting point (plsim/bkt.hpp)
  practice_log = 20,      // student id, tick = week, slot = subject and opportunity: logged responses
};

class Rng {
 public:
  using Philox = r123::Philox4x32;

  explicit Rng(std::uint64_t seed) {
    key_ = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  }

  // Four independent 32-bit words for (stream, entity, tick, slot).
  Philox::ctr_type words(Stream stream, std::uint32_t entity, std::uint32_t tick,
                         std::uint32_t slot = 0) const {
    Philox::ctr_type ctr = {{static_cast<std::uint32_t>(stream), entity, tick, slot}};
    return philox_(ctr, key_);
  }

  // words() for n entities at once: out[j][q] is word j of entity[q]'s draw. The same function
  // (Random123's Philox4x32-10 rounds, tested against words()), written as one loop over the lanes so
  // that the compiler vectorises it: the weekly loop draws a block per student and week. With AVX2,
  // blocks of eight lanes are drawn by words_of_8 first.
  template <std::size_t Capacity>
  void words_of(Stream stream, const std::uint32_t* entity, std::uint32_t n, std::uint32_t tick, std::uint32_t slot,
                std::array<std::array<std::uint32_t, Capacity>, 4>& out) const {
    std::uint32_t q = 0;
#if defined(__AVX2__)
    for (; q + 8 <= n; q += 8)
      words_of_8(static_cast<std::uint32_t>(stream), entity + q, tick, slot,
                 {out[0].data() + q, out[1].data() + q, out[2].data() + q, out[3].data() + q});
#endif
    for (; q < n; ++q) {
      std::uint32_t c0 = static_cast<std::uint32_t>(stream), c1 = entity[q], c2 = tick, c3 = slot;
      std::uint32_t k0 = key_[0], k1 = key_[1];
      for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = std::uint64_t(0xD2511F53u) * c0, p1 = std::uint64_t(0xCD9E8D57u) * c2;
        c0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
        c1 = static_cast<std::uint32_t>(p1);
        c2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
        c3 = static_cast<std::uint32_t>(p0);
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
      }
      out[0][q] = c0, out[1][q] = c1, out[2][q] = c2, out[3][q] = c3;
    }
  }

 private:
#if defined(__AVX2__)
  // The rounds of words_of for eight entities in AVX2 registers. The one exception to the engine's
  // rule of leaving vectorisation to the compiler: GCC 12 vectorises the 32 x 32 -> 64-bit products of
  // the loop above with two thirds of its instructions shuffling halves into place, where the even and
  // odd lanes' products (vpmuludq) need only shifts and blends; this draws the same words 2-3 times
  // faster. The high and low halves of a * m in each lane:
  static void mul_hi_lo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
    const __m256i even = _mm256_mul_epu32(a, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
  }
  void words_of_8(std::uint32_t stream, const std::uint32_t* entity, std::uint32_t tick, std::uint32_t slot,
                  const std::array<std::uint32_t*, 4>& out) const {
    const __m256i m0 = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
    const __m256i m1 = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
    __m256i c0 = _mm256_set1_epi32(static_cast<int>(stream));
    __m256i c1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(entity));
    __m256i c2 = _mm256_set1_epi32(static_cast<int>(tick)), c3 = _mm256_set1_epi32(static_cast<int>(slot));
    std::uint32_t k0 = key_[0], k1 = key_[1];
    for (int round = 0; round < 10; ++round) {
      __m256i hi0, lo0, hi1, lo1;
      mul_hi_lo(c0, m0, hi0, lo0);
      mul_hi_lo(c2, m1, hi1, lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
      c1 = lo1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
      c3 = lo0;
      k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[0]), c0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[1]), c1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[2]), c2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[3]), c3);
  }
#endif
  Philox philox_;
  Philox::key_type key_;
};

// Uniform in the open interval (0, 1).
inline double uniform01(std::uint32_t word) { return (static_cast<double>(word) + 0.5) * 0x1p-32; }

// Standard normal from two words (Box-Muller, cosine branch).
inline double standard_normal(std::uint32_t a, std::uint32_t b) {
  const double r = std::sqrt(-2.0 * std::log(uniform01(a)));
  return r * std::cos(6.283185307179586 * uniform01(b));
}

// The standard normal quantile function: Acklam's rational approximation refined by one Halley step
// (Acklam 2003), accurate to double precision; p in (0, 1).
double inverse_normal_cdf(double p);

// Lognormal multiplier with median exp(-sd^2/2) and mean 1, from a standard normal.
inline double lognormal_multiplier(double sd, double normal) { return std::exp(sd * normal - 0.5 * sd * sd); }

// Two independent standard normals from the four words of one draw.
struct NormalPair {
  double first, second;
};
inline NormalPair standard_normals(const Rng::Philox::ctr_type& w) {
  return {standard_normal(w[0], w[1]), standard_normal(w[2], w[3])};
}

}  // namespace plsim
