// plsim._core.bkt_fit / bkt_predict: BKT on responses already grouped by python/plsim/bkt.py into
// skills and sequences (flat arrays), fitted with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "plsim/bkt.hpp"

namespace py = pybind11;

namespace {

using Correct = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;
using Offsets = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>;

// Skill s holds sequences [skill_offsets[s], skill_offsets[s + 1]); sequence k holds responses
// [sequence_offsets[k], sequence_offsets[k + 1]).
std::vector<plsim::bkt::SkillResponses> skills_of(const Correct& correct, const Offsets& sequence_offsets,
                                                  const Offsets& skill_offsets) {
  const auto c = correct.unchecked<1>();
  const auto q = sequence_offsets.unchecked<1>();
  const auto k = skill_offsets.unchecked<1>();
  if (k.shape(0) < 1 || q.shape(0) < 1 || std::uint64_t(k(k.shape(0) - 1)) != std::uint64_t(q.shape(0) - 1) ||
      std::uint64_t(q(q.shape(0) - 1)) != std::uint64_t(c.shape(0)))
    throw py::value_error("bkt: inconsistent offsets (internal)");
  std::vector<plsim::bkt::SkillResponses> skills(std::size_t(k.shape(0) - 1));
  for (std::size_t s = 0; s < skills.size(); ++s) {
    auto& r = skills[s];
    const std::uint64_t first = k(s), last = k(s + 1);
    const std::uint64_t begin = q(first), end = q(last);
    r.correct.assign(c.data(begin), c.data(0) + end);
    for (std::uint64_t j = first; j < last; ++j) r.offsets.push_back(q(j + 1) - begin);
  }
  return skills;
}

}  // namespace

void bind_bkt(py::module_& m) {
  m.def(
      "bkt_fit",
      [](const Correct& correct, const Offsets& sequence_offsets, const Offsets& skill_offsets, bool forgets,
         int restarts, std::uint64_t seed, double tolerance, int max_iterations, int threads) {
        const auto skills = skills_of(correct, sequence_offsets, skill_offsets);
        plsim::bkt::Options options;
        options.forgets = forgets, options.restarts = restarts, options.seed = seed;
        options.tolerance = tolerance, options.max_iterations = max_iterations, options.threads = threads;
        std::vector<plsim::bkt::SkillFit> fits;
        {
          py::gil_scoped_release release;
          fits = plsim::bkt::fit(skills, options);
        }
        const auto n = static_cast<py::ssize_t>(fits.size());
        py::array_t<double> prior(n), learn(n), forget(n), guess(n), slip(n), ll(n);
        py::array_t<int> iterations(n), restart(n);
        py::array_t<bool> converged(n);
        for (py::ssize_t s = 0; s < n; ++s) {
          const auto& f = fits[std::size_t(s)];
          prior.mutable_at(s) = f.params.prior, learn.mutable_at(s) = f.params.learn;
          forget.mutable_at(s) = f.params.forget, guess.mutable_at(s) = f.params.guess, slip.mutable_at(s) = f.params.slip;
          ll.mutable_at(s) = f.log_likelihood, iterations.mutable_at(s) = f.iterations;
          restart.mutable_at(s) = f.restart, converged.mutable_at(s) = f.converged;
        }
        py::dict out;
        out["prior"] = prior, out["learn"] = learn, out["forget"] = forget, out["guess"] = guess, out["slip"] = slip;
        out["log_likelihood"] = ll, out["iterations"] = iterations, out["converged"] = converged;
        out["restart"] = restart;
        return out;
      },
      py::arg("correct"), py::arg("sequence_offsets"), py::arg("skill_offsets"), py::arg("forgets"),
      py::arg("restarts"), py::arg("seed"), py::arg("tolerance"), py::arg("max_iterations"), py::arg("threads"),
      "Per-skill BKT fits by EM (plsim/bkt.hpp).");
  m.def(
      "bkt_predict",
      [](const Correct& correct, const Offsets& sequence_offsets, const Offsets& skill_offsets,
         const py::array_t<double, py::array::c_style | py::array::forcecast>& params) {
        const auto skills = skills_of(correct, sequence_offsets, skill_offsets);
        const auto p = params.unchecked<2>();
        if (p.shape(0) != static_cast<py::ssize_t>(skills.size()) || p.shape(1) != 5)
          throw py::value_error("bkt: params must be (skills, 5): prior, learn, forget, guess, slip (internal)");
        py::array_t<double> out(static_cast<py::ssize_t>(correct.size()));
        double* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          for (std::size_t s = 0; s < skills.size(); ++s) {
            const plsim::bkt::Params q{p(s, 0), p(s, 1), p(s, 2), p(s, 3), p(s, 4)};
            const auto predicted = plsim::bkt::predict(skills[s], q);
            std::copy(predicted.begin(), predicted.end(), o);
            o += predicted.size();
          }
        }
        return out;
      },
      py::arg("correct"), py::arg("sequence_offsets"), py::arg("skill_offsets"), py::arg("params"),
      "One-step-ahead P(correct) of every response, in the order of `correct`.");
}
