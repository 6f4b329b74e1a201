// A run: an immutable model, its agent state and results, and the one place where the order of the
// stages of a week and of a year is written down.
#pragma once

#include <functional>
#include <memory>

#include <tbb/task_arena.h>

#include "plsim/learning.hpp"
#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

struct Progress {
  int year = 0;
  int week = 0;
  std::uint64_t weeks_done = 0;
  std::uint64_t weeks_total = 0;
};

class Simulation {
 public:
  // threads = 0 uses every core.
  explicit Simulation(std::shared_ptr<const Model> model, int threads = 0);

  // Runs until the scenario's last year ends or `after_week` returns false (the run can then be
  // resumed by calling run again). `after_week` is called between weeks, never inside parallel work.
  void run(const std::function<bool(const Progress&)>& after_week = {});
  // Runs exactly one week (with the year transition before it when due); false when finished.
  bool step();
  // The two halves of step(), for callers that act between them (Python policies): begin_week runs
  // the year transition when due and the week's assessments; finish_week runs learning.
  void begin_week();
  void finish_week();

  bool finished() const { return results_.years_completed >= model_->years; }
  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  const State& state() const { return state_; }
  State& state() { return state_; }
  const Results& results() const { return results_; }
  int threads() const { return threads_; }
  Progress progress() const;

 private:
  std::shared_ptr<const Model> model_;
  int threads_;
  tbb::task_arena arena_;
  State state_;
  LearningProcess learning_;
  Results results_;
  bool week_begun_ = false;
};

// The counterfactual twin of a model: the same scenario with every school on the traditional model.
// Run with the same seed, it shares every random draw that does not depend on instruction (common
// random numbers), so the difference between the two runs is the true effect of the policy.
std::shared_ptr<const Model> counterfactual_of(const Model& model);
// Whether any school of the model is assigned a model other than traditional.
bool has_personalization(const Model& model);

}  // namespace plsim
