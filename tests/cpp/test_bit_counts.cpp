// The weekly loop's counts of set bits over lanes (plsim/bit_counts.hpp) against std::popcount.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <random>
#include <vector>

#include "plsim/bit_counts.hpp"

using namespace plsim;

TEST_CASE("bit_counts and bit_count count the set bits of each masked word as std::popcount does",
          "[bit_counts]") {
  std::mt19937_64 engine(19);
  std::vector<std::uint64_t> words = {0, ~std::uint64_t(0), 1, std::uint64_t(1) << 63, 0x8000000000000001u,
                                      0x00FF00FF00FF00FFu, 0xF0F0F0F0F0F0F0F0u, 0x5555555555555555u};
  // Sparse and dense random words, as students' windows of recent gaps are.
  while (words.size() < 8 * 64) {
    const std::uint64_t a = engine(), b = engine();
    words.push_back(words.size() % 3 == 0 ? a & b & engine() : (words.size() % 3 == 1 ? a | b : a));
  }
  for (const std::uint64_t mask : {~std::uint64_t(0), std::uint64_t(0), std::uint64_t(1),
                                   (std::uint64_t(1) << 24) - 1, (std::uint64_t(1) << 63) - 1}) {
    for (const std::uint32_t m : {8u, 24u, 64u, static_cast<std::uint32_t>(words.size())}) {
      std::vector<std::int32_t> counts(m, -1);
      bit_counts(words.data(), mask, counts.data(), m);
      int wrong = 0;
      for (std::uint32_t q = 0; q < m; ++q) {
        wrong += counts[q] != std::popcount(words[q] & mask);
        wrong += static_cast<int>(bit_count(words[q] & mask)) != std::popcount(words[q] & mask);
      }
      INFO("mask " << mask << ", " << m << " words");
      CHECK(wrong == 0);
    }
  }
}
