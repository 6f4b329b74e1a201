// BKT fitting: EM recovers the parameters that generated synthetic sequences, predictions are the
// forward filter's, fits do not depend on the thread count, and degenerate skills give no NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "plsim/bkt.hpp"

using namespace plsim::bkt;

namespace {

// `students` sequences of `attempts` responses drawn from the BKT model with parameters `p`.
SkillResponses synthetic(const Params& p, int students, int attempts, std::uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0, 1);
  SkillResponses r;
  for (int s = 0; s < students; ++s) {
    bool known = u(gen) < p.prior;
    for (int t = 0; t < attempts; ++t) {
      r.correct.push_back(known ? u(gen) >= p.slip : u(gen) < p.guess);
      known = known ? u(gen) >= p.forget : u(gen) < p.learn;
    }
    r.offsets.push_back(r.correct.size());
  }
  return r;
}

}  // namespace

TEST_CASE("EM recovers the parameters of synthetic BKT sequences within 0.03", "[bkt]") {
  const Params truth{0.3, 0.15, 0.0, 0.2, 0.1};
  // Five data sets of 1,500 students x 12 attempts, each fitted with 5 restarts.
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    const auto fits = fit({synthetic(truth, 1500, 12, seed)}, Options{});
    const Params& p = fits[0].params;
    INFO("seed " << seed << ": prior " << p.prior << ", learn " << p.learn << ", guess " << p.guess << ", slip "
                 << p.slip << " after " << fits[0].iterations << " iterations");
    CHECK(fits[0].converged);
    CHECK(p.prior == Approx(truth.prior).margin(0.03));
    CHECK(p.learn == Approx(truth.learn).margin(0.03));
    CHECK(p.guess == Approx(truth.guess).margin(0.03));
    CHECK(p.slip == Approx(truth.slip).margin(0.03));
    CHECK(p.forget == 0.0);
  }
}

TEST_CASE("with forgets, EM recovers a forget probability too", "[bkt]") {
  const Params truth{0.3, 0.2, 0.05, 0.2, 0.1};
  Options options;
  options.forgets = true;
  const auto fits = fit({synthetic(truth, 4000, 20, 7)}, options);
  const Params& p = fits[0].params;
  INFO("prior " << p.prior << ", learn " << p.learn << ", forget " << p.forget << ", guess " << p.guess << ", slip " << p.slip);
  CHECK(p.forget == Approx(truth.forget).margin(0.03));
  CHECK(p.learn == Approx(truth.learn).margin(0.05));
  CHECK(p.guess == Approx(truth.guess).margin(0.03));
  CHECK(p.slip == Approx(truth.slip).margin(0.03));
}

TEST_CASE("each EM iteration raises the log-likelihood, and the fit's is that of its parameters", "[bkt]") {
  const auto data = synthetic({0.4, 0.1, 0.0, 0.25, 0.15}, 300, 10, 3);
  double previous = -1e300;
  for (int iterations = 1; iterations <= 8; ++iterations) {
    Options options;
    options.max_iterations = iterations;
    options.tolerance = -1;  // never converged: run exactly `iterations` E-steps
    const SkillFit f = fit_from(data, {0.5, 0.3, 0.0, 0.3, 0.3}, options);
    CHECK(f.iterations == iterations);
    CHECK(f.log_likelihood >= previous - 1e-9);
    CHECK(f.log_likelihood == Approx(log_likelihood(data, f.params)).epsilon(1e-10));
    previous = f.log_likelihood;
  }
}

TEST_CASE("long sequences keep their posteriors and log-likelihood exact", "[bkt]") {
  // 3,000 responses a student: alpha and beta are rescaled many times on the way.
  const auto data = synthetic({0.2, 0.01, 0.02, 0.2, 0.1}, 20, 3000, 11);
  Options options;
  options.forgets = true;
  options.max_iterations = 30;
  const SkillFit f = fit_from(data, {0.5, 0.05, 0.05, 0.25, 0.15}, options);
  for (double v : {f.params.prior, f.params.learn, f.params.forget, f.params.guess, f.params.slip}) CHECK(std::isfinite(v));
  CHECK(f.log_likelihood == Approx(log_likelihood(data, f.params)).epsilon(1e-10));
  CHECK(f.params.forget == Approx(0.02).margin(0.02));
}

TEST_CASE("a prediction is the forward filter's P(correct) before each response", "[bkt]") {
  SkillResponses r;
  r.correct = {1, 0};
  r.offsets = {0, 2};
  const Params p{0.4, 0.2, 0.0, 0.25, 0.1};
  const auto q = predict(r, p);
  CHECK(q[0] == Approx(0.4 * 0.9 + 0.6 * 0.25));
  const double posterior = 0.4 * 0.9 / q[0];
  const double known = posterior + (1 - posterior) * 0.2;
  CHECK(q[1] == Approx(known * 0.9 + (1 - known) * 0.25));
}

TEST_CASE("fits are the same on one thread and on two", "[bkt]") {
  std::vector<SkillResponses> skills;
  for (std::uint32_t s = 0; s < 6; ++s) skills.push_back(synthetic({0.2 + 0.1 * s, 0.1, 0.0, 0.2, 0.1}, 200 + 50 * s, 8, s));
  Options one, two;
  one.threads = 1, two.threads = 2;
  const auto a = fit(skills, one), b = fit(skills, two);
  for (std::size_t s = 0; s < skills.size(); ++s) {
    CHECK(a[s].log_likelihood == b[s].log_likelihood);
    CHECK(a[s].params.learn == b[s].params.learn);
    CHECK(a[s].restart == b[s].restart);
  }
}

TEST_CASE("degenerate skills fit without NaN and guess and slip stay below 0.5", "[bkt]") {
  SkillResponses all_right, all_wrong, single, empty;
  for (int s = 0; s < 50; ++s) {
    for (int t = 0; t < 5; ++t) all_right.correct.push_back(1), all_wrong.correct.push_back(0);
    all_right.offsets.push_back(all_right.correct.size());
    all_wrong.offsets.push_back(all_wrong.correct.size());
    single.correct.push_back(s % 3 == 0);
    single.offsets.push_back(single.correct.size());
  }
  Options options;
  options.forgets = true;
  for (const auto& f : fit({all_right, all_wrong, single, empty}, options)) {
    for (double v : {f.params.prior, f.params.learn, f.params.forget, f.params.guess, f.params.slip}) {
      CHECK(std::isfinite(v));
      CHECK(v >= 0.0);
      CHECK(v <= 1.0);
    }
    CHECK(f.params.guess < 0.5);
    CHECK(f.params.slip < 0.5);
    CHECK(std::isfinite(f.log_likelihood));
  }
}
