// Bayesian Knowledge Tracing fitted to response logs: per skill, EM (Baum-Welch) for the two-state
// hidden Markov model of Corbett & Anderson (1995), with an optional forget probability. Fits run in
// parallel over (skill, restart) pairs and are deterministic on any thread count: each pair is one
// sequential task whose starting point is drawn from (seed, skill, restart).
#pragma once

#include <cstdint>
#include <vector>

namespace plsim::bkt {

struct Params {
  double prior = 0, learn = 0, forget = 0, guess = 0, slip = 0;
};

struct Options {
  bool forgets = false;        // fit a forget probability (else 0)
  int restarts = 5;            // starting points per skill; the best log-likelihood wins
  std::uint64_t seed = 0;      // keys the starting points
  double tolerance = 1e-6;     // stop when an iteration gains less log-likelihood per response
  int max_iterations = 200;
  int threads = 0;             // 0: every core
};

// The responses of one skill: sequences (one per student), each in time order, as 0/1 in `correct`;
// sequence k is correct[offsets[k], offsets[k + 1]).
struct SkillResponses {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint8_t> correct;
  std::size_t sequences() const { return offsets.size() - 1; }
};

struct SkillFit {
  Params params;
  double log_likelihood = 0;  // of the skill's responses under `params`
  int iterations = 0;         // of the winning restart
  bool converged = false;     // it met the tolerance before max_iterations
  int restart = 0;            // which restart won
};

// Guess and slip stay below this (and every probability within [bound_low, 1 - bound_low]): above 0.5
// a "known" state would answer worse than an unknown one, and the model would be the same with the
// two states swapped (the identifiable region of BKT).
inline constexpr double max_guess_slip = 0.5 - 1e-6;
inline constexpr double bound_low = 1e-6;

std::vector<SkillFit> fit(const std::vector<SkillResponses>& skills, const Options& options);
// One EM run from `start` (tests; fit() calls it for every restart).
SkillFit fit_from(const SkillResponses& skill, Params start, const Options& options);
// P(correct) of each response given the responses before it in its sequence (one-step-ahead), in
// the order of `skill.correct`.
std::vector<double> predict(const SkillResponses& skill, const Params& params);
double log_likelihood(const SkillResponses& skill, const Params& params);

}  // namespace plsim::bkt
