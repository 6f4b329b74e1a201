// A run: an immutable model, its agent state and results, advanced stage by stage through the
// schedule (plsim/schedule.hpp), with the time spent in each stage.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <tbb/task_arena.h>

#include "plsim/model.hpp"
#include "plsim/modules/learning.hpp"
#include "plsim/results.hpp"
#include "plsim/run_state.hpp"
#include "plsim/schedule.hpp"
#include "plsim/state.hpp"

namespace plsim {

struct Progress {
  int year = 0;
  int week = 0;
  std::uint64_t weeks_done = 0;
  std::uint64_t weeks_total = 0;
};

// Time spent in one stage of the schedule so far.
struct StageTime {
  std::uint64_t calls = 0;
  double cpu_seconds = 0;   // CPU time of the whole process (every thread) while the stage ran
  double wall_seconds = 0;
};

class Simulation {
 public:
  // threads = 0 uses every core. `keep_going` is asked now and then during population set-up, which
  // throws SetupCancelled when it returns false (Ctrl-C from Python).
  explicit Simulation(std::shared_ptr<const Model> model, int threads = 0,
                      const std::function<bool()>& keep_going = {});

  // Runs until the scenario's last year ends or `after_week` returns false (the run can then be
  // resumed by calling run again). `after_week` is called between weeks, never inside parallel work.
  // Hook stages do nothing here.
  void run(const std::function<bool(const Progress&)>& after_week = {});
  // Runs exactly one week (with the year-start stages before it when due); false when finished.
  bool step();
  // For callers with hooks (Python): runs engine stages until the next due hook stage, whose index
  // is returned without running it, or to the end of the week (returns -1). The run stays at the
  // hook until complete_hook() moves it past.
  long run_to_hook();
  void complete_hook();

  // The counterfactual twin of this run (counterfactual_of its model, the same threads), which follows
  // this run's rollout: the same plan, no school converted. Create it before running this one.
  std::unique_ptr<Simulation> counterfactual(const std::function<bool()>& keep_going = {}) const;

  bool finished() const { return results_.years_completed >= model_->years; }
  const Model& model() const { return *model_; }
  std::shared_ptr<const Model> model_ptr() const { return model_; }
  const State& state() const { return state_; }
  State& state() { return state_; }
  const Results& results() const { return results_; }
  int threads() const { return threads_; }
  // The threads that really work at once: an arena of more slots than the machine has cores gets no
  // more threads than the cores (results are the same for any count; summaries report this one).
  int threads_used() const;
  Progress progress() const;
  // Per stage of schedule(): calls and time so far.
  const std::vector<StageTime>& stage_times() const { return stage_times_; }

 private:
  friend std::string save_run_state(const Simulation& sim);
  friend void restore_run_state(Simulation& sim, std::string_view bytes);

  // Moves the cursor to the next stage that is due (wrapping from the end of a week to the start of
  // the next); returns false when the week has ended.
  bool seek_due_stage();
  void run_stage(std::size_t index);

  std::shared_ptr<const Model> model_;
  int threads_;
  tbb::task_arena arena_;
  State state_;
  LearningProcess learning_;
  Results results_;
  std::vector<StageTime> stage_times_;
  std::size_t cursor_ = 0;     // the next stage of the schedule to consider
  bool in_week_ = false;       // whether the cursor is inside a week (past its first stage)
  bool first_week_of_run_ = false;
};

// The counterfactual twin of a model: the same scenario with every school on the traditional model.
// Run with the same seed, it shares every random draw that does not depend on instruction (common
// random numbers), so the difference between the two runs is the true effect of the policy.
std::shared_ptr<const Model> counterfactual_of(const Model& model);
// Whether any school of the model is assigned a model other than traditional.
bool has_personalization(const Model& model);

}  // namespace plsim
