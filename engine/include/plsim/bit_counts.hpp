// Bits set in 64-bit words, over lanes: the weekly loop counts the gaps of each student's window of
// recent units (a 64-bit word a student and subject) this way; bit_count for a word inside a loop.
#pragma once

#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace plsim {

// Bits set in a word with the operations of a vector unit (AVX2 has no popcount): counts of pairs,
// nibbles and bytes, then the bytes added by shifts. For a word inside a vectorised loop.
inline std::uint64_t bit_count(std::uint64_t v) {
  v = v - ((v >> 1) & 0x5555555555555555u);
  v = (v & 0x3333333333333333u) + ((v >> 2) & 0x3333333333333333u);
  v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
  v = v + (v >> 8);
  v = v + (v >> 16);
  v = v + (v >> 32);
  return v & 0x7F;
}

// counts[q] = the bits set in words[q] & mask, for q in [0, m), m a multiple of eight. With AVX2 a
// table of the nibbles' counts (vpshufb) and a sum of each word's bytes (vpsadbw): less than half
// the instructions of bit_count, which GCC 12 does not find on its own (with Rng::words_of_8 the engine's
// only intrinsics).
inline void bit_counts(const std::uint64_t* words, std::uint64_t mask, std::int32_t* counts, std::uint32_t m) {
#if defined(__AVX2__)
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i nibble = _mm256_set1_epi8(0x0F), bits = _mm256_set1_epi64x(static_cast<long long>(mask));
  const __m256i zero = _mm256_setzero_si256(), order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  // The count of each of four words, in the low bits of its 64-bit lane.
  const auto count4 = [&](const std::uint64_t* w) {
    const __m256i v = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)), bits);
    const __m256i low = _mm256_shuffle_epi8(table, _mm256_and_si256(v, nibble));
    const __m256i high = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    return _mm256_sad_epu8(_mm256_add_epi8(low, high), zero);
  };
  for (std::uint32_t q = 0; q < m; q += 8) {
    // Words q..q+3 in the even 32-bit slots, q+4..q+7 in the odd ones; then in their order.
    const __m256i both = _mm256_or_si256(count4(words + q), _mm256_slli_epi64(count4(words + q + 4), 32));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(counts + q), _mm256_permutevar8x32_epi32(both, order));
  }
#else
  for (std::uint32_t q = 0; q < m; ++q) counts[q] = static_cast<std::int32_t>(bit_count(words[q] & mask));
#endif
}

}  // namespace plsim
