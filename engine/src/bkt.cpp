#include "plsim/bkt.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "plsim/rng.hpp"

namespace plsim::bkt {

namespace {

// A skill's distinct sequences, each with how many students answered exactly so: short sequences
// repeat often (a student who got one item right), and EM need only visit each once.
struct Distinct {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint8_t> correct;
  std::vector<double> weight;
  double responses = 0, sequences = 0;
  std::size_t longest = 0;
};

Distinct distinct_sequences(const SkillResponses& skill) {
  Distinct d;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < skill.sequences(); ++k) {
    const std::uint64_t b = skill.offsets[k], e = skill.offsets[k + 1];
    if (b == e) continue;
    std::string key(reinterpret_cast<const char*>(skill.correct.data() + b), e - b);
    const auto [it, fresh] = index.emplace(std::move(key), d.weight.size());
    if (fresh) {
      d.correct.insert(d.correct.end(), skill.correct.begin() + std::ptrdiff_t(b), skill.correct.begin() + std::ptrdiff_t(e));
      d.offsets.push_back(d.correct.size());
      d.weight.push_back(0);
      d.longest = std::max<std::size_t>(d.longest, e - b);
    }
    d.weight[it->second] += 1;
    d.responses += double(e - b);
    d.sequences += 1;
  }
  return d;
}

// Expected counts of one E-step, and the log-likelihood of the parameters it ran with.
struct Counts {
  double log_likelihood = 0;
  double known_first = 0;               // sum of P(known) at each sequence's first response
  double learned = 0, unknown_before = 0;  // transitions unknown -> known; time unknown before a transition
  double forgot = 0, known_before = 0;
  double unknown_correct = 0, unknown = 0;  // guesses: correct while unknown; all time unknown
  double known_wrong = 0, known = 0;        // slips
};

// Forward-backward (Rabiner 1989) over every distinct sequence, with the two states known (k) and
// unknown (u). Neither pass divides on its chain of dependent steps (a division per step would make
// EM latency-bound): alpha and beta run unnormalized and are rescaled by 1e100 when they fall below
// 1e-100 (so that their products stay far above the smallest double), and each step's posteriors
// divide by their own normalizer, which no later step waits for.
Counts expected_counts(const Distinct& d, const Params& p, std::vector<double>& ak, std::vector<double>& au) {
  constexpr double tiny = 1e-100, rescale = 1e100;
  const double log_rescale = std::log(rescale);
  Counts n;
  const double ek[2] = {p.slip, 1 - p.slip}, eu[2] = {1 - p.guess, p.guess};  // P(response | state)
  const double stay_k = 1 - p.forget, stay_u = 1 - p.learn;
  ak.resize(d.longest), au.resize(d.longest);
  for (std::size_t s = 0; s + 1 < d.offsets.size(); ++s) {
    const std::uint8_t* o = d.correct.data() + d.offsets[s];
    const std::size_t len = d.offsets[s + 1] - d.offsets[s];
    const double w = d.weight[s];
    double k = p.prior * ek[o[0]], u = (1 - p.prior) * eu[o[0]];
    int rescales = 0;
    for (std::size_t t = 0;;) {
      ak[t] = k, au[t] = u;
      if (++t == len) break;
      double next_k = (k * stay_k + u * p.learn) * ek[o[t]];
      double next_u = (k * p.forget + u * stay_u) * eu[o[t]];
      if (next_k + next_u < tiny) next_k *= rescale, next_u *= rescale, ++rescales;
      k = next_k, u = next_u;
    }
    n.log_likelihood += w * (std::log(k + u) - rescales * log_rescale);
    double bk = 1, bu = 1;  // beta at the last step
    double inv_z = 1 / (ak[len - 1] + au[len - 1]);
    for (std::size_t t = len - 1;; --t) {
      const double gk = ak[t] * bk * inv_z, gu = au[t] * bu * inv_z;  // P(state at t | the whole sequence)
      n.known += w * gk, n.unknown += w * gu;
      n.known_wrong += w * gk * (1 - o[t]), n.unknown_correct += w * gu * o[t];
      if (t == 0) {
        n.known_first += w * gk;
        break;
      }
      // Beta at t - 1, and the transitions from t - 1 to t.
      const double from_k = ek[o[t]] * bk, from_u = eu[o[t]] * bu;
      double prev_k = stay_k * from_k + p.forget * from_u, prev_u = p.learn * from_k + stay_u * from_u;
      double inv_prev = 1 / (ak[t - 1] * prev_k + au[t - 1] * prev_u);
      n.learned += w * au[t - 1] * p.learn * from_k * inv_prev;
      n.forgot += w * ak[t - 1] * p.forget * from_u * inv_prev;
      n.known_before += w * ak[t - 1] * prev_k * inv_prev;
      n.unknown_before += w * au[t - 1] * prev_u * inv_prev;
      if (prev_k + prev_u < tiny) prev_k *= rescale, prev_u *= rescale, inv_prev /= rescale;
      bk = prev_k, bu = prev_u, inv_z = inv_prev;
    }
  }
  return n;
}

double bounded(double x, double hi = 1 - bound_low) { return std::clamp(x, bound_low, hi); }

// The M-step: each probability is its expected count over its expected opportunities, kept inside the
// identifiable region; one with no opportunities keeps its value.
Params maximize(const Counts& n, const Distinct& d, const Params& p, bool forgets) {
  Params q = p;
  q.prior = bounded(n.known_first / d.sequences);
  if (n.unknown_before > 0) q.learn = bounded(n.learned / n.unknown_before);
  if (forgets && n.known_before > 0) q.forget = bounded(n.forgot / n.known_before);
  if (n.unknown > 0) q.guess = bounded(n.unknown_correct / n.unknown, max_guess_slip);
  if (n.known > 0) q.slip = bounded(n.known_wrong / n.known, max_guess_slip);
  return q;
}

SkillFit em(const Distinct& d, Params p, const Options& options) {
  SkillFit out;
  if (d.sequences == 0) {
    out.params = p;
    out.converged = true;
    return out;
  }
  if (!options.forgets) p.forget = 0;
  std::vector<double> ak, au;
  double previous = -std::numeric_limits<double>::infinity();
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    const Counts n = expected_counts(d, p, ak, au);
    out.params = p;
    out.log_likelihood = n.log_likelihood;
    out.iterations = iteration;
    if (n.log_likelihood - previous < options.tolerance * d.responses) {
      out.converged = true;
      break;
    }
    previous = n.log_likelihood;
    p = maximize(n, d, p, options.forgets);
  }
  return out;
}

// Restart 0 starts where BKT fits usually end; the others are drawn from (seed, skill, restart).
Params starting_point(const Options& options, std::uint32_t skill, std::uint32_t restart) {
  if (restart == 0) return {0.5, 0.1, options.forgets ? 0.02 : 0.0, 0.2, 0.1};
  const Rng rng(options.seed);
  const auto w = rng.words(Stream::bkt_starts, skill, restart);
  const auto u = [&](int k, double lo, double hi) { return lo + (hi - lo) * uniform01(w[k]); };
  const double forget = options.forgets ? 0.1 * uniform01(rng.words(Stream::bkt_starts, skill, restart, 1)[0]) : 0.0;
  return {u(0, 0.1, 0.9), u(1, 0.02, 0.4), forget, u(2, 0.05, 0.4), u(3, 0.05, 0.4)};
}

}  // namespace

SkillFit fit_from(const SkillResponses& skill, Params start, const Options& options) {
  return em(distinct_sequences(skill), start, options);
}

std::vector<SkillFit> fit(const std::vector<SkillResponses>& skills, const Options& options) {
  const int restarts = std::max(1, options.restarts);
  // Never more slots than the machine runs at once (a huge arena crashes TBB at exit).
  const int threads = options.threads > 0 ? std::min(options.threads, tbb::info::default_concurrency())
                                          : tbb::info::default_concurrency();
  std::vector<Distinct> distinct(skills.size());
  std::vector<SkillFit> runs(skills.size() * std::size_t(restarts));
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(std::size_t(0), skills.size(), [&](std::size_t s) { distinct[s] = distinct_sequences(skills[s]); });
    // Largest skills first, so that no long fit starts last while the other threads idle.
    std::vector<std::size_t> order(runs.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return distinct[a / restarts].correct.size() > distinct[b / restarts].correct.size();
    });
    tbb::parallel_for(std::size_t(0), order.size(), std::size_t(1), [&](std::size_t j) {
      const std::size_t k = order[j], s = k / restarts;
      const auto r = static_cast<std::uint32_t>(k % restarts);
      runs[k] = em(distinct[s], starting_point(options, static_cast<std::uint32_t>(s), r), options);
      runs[k].restart = static_cast<int>(r);
    });
  });
  std::vector<SkillFit> best(skills.size());
  for (std::size_t s = 0; s < skills.size(); ++s) {
    best[s] = runs[s * restarts];
    for (int r = 1; r < restarts; ++r)
      if (runs[s * restarts + r].log_likelihood > best[s].log_likelihood) best[s] = runs[s * restarts + r];
  }
  return best;
}

std::vector<double> predict(const SkillResponses& skill, const Params& p) {
  std::vector<double> out(skill.correct.size());
  for (std::size_t s = 0; s < skill.sequences(); ++s) {
    double known = p.prior;
    for (std::uint64_t t = skill.offsets[s]; t < skill.offsets[s + 1]; ++t) {
      out[t] = known * (1 - p.slip) + (1 - known) * p.guess;
      // Bayes on the response, then the transition to the next opportunity.
      const double posterior = skill.correct[t] ? known * (1 - p.slip) / out[t] : known * p.slip / (1 - out[t]);
      known = posterior * (1 - p.forget) + (1 - posterior) * p.learn;
    }
  }
  return out;
}

double log_likelihood(const SkillResponses& skill, const Params& p) {
  const std::vector<double> q = predict(skill, p);
  double ll = 0;
  for (std::size_t t = 0; t < q.size(); ++t) ll += std::log(skill.correct[t] ? q[t] : 1 - q[t]);
  return ll;
}

}  // namespace plsim::bkt
