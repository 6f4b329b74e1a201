#include "plsim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <tbb/info.h>

#include "plsim/modules/population.hpp"

namespace plsim {

namespace {
int resolve_threads(int threads) { return threads > 0 ? threads : tbb::info::default_concurrency(); }

// An arena never gets more slots than the machine runs threads at once: results are the same for any
// count, and TBB crashes at exit with an arena of tens of thousands of slots (--threads 65537).
int arena_slots(int threads) { return std::min(threads, tbb::info::default_concurrency()); }

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}
}  // namespace

Simulation::Simulation(std::shared_ptr<const Model> model, int threads, const std::function<bool()>& keep_going)
    : model_(std::move(model)),
      threads_(resolve_threads(threads)),
      arena_(arena_slots(threads_)),
      state_(arena_.execute([&] { return build_population(*model_, keep_going); })),
      learning_(*model_),
      stage_times_(schedule().size()) {}

int Simulation::threads_used() const { return arena_slots(threads_); }

Progress Simulation::progress() const {
  return {state_.year, state_.week, results_.weeks_simulated,
          static_cast<std::uint64_t>(model_->years) * model_->weeks_per_year};
}

bool Simulation::seek_due_stage() {
  const auto stages = schedule();
  StageContext context{*model_, state_, results_, &learning_};
  if (!in_week_) {
    if (finished()) return false;
    // A week starts with the year-start stages when a year has just ended (the run's first week with
    // those marked first_year), else with the week stages.
    cursor_ = 0;
    first_week_of_run_ = state_.year == 0 && state_.week == 0 && results_.weeks_simulated == 0;
    if (state_.week != model_->weeks_per_year && !first_week_of_run_)
      while (stages[cursor_].phase == Phase::year_start) ++cursor_;
    in_week_ = true;
  }
  auto skipped = [&](const Stage& stage) {
    if (first_week_of_run_ && stage.phase == Phase::year_start && !stage.first_year) return true;
    return stage.due && !stage.due(context);
  };
  while (cursor_ < stages.size() && skipped(stages[cursor_])) ++cursor_;
  if (cursor_ == stages.size()) {
    in_week_ = false;
    return false;
  }
  return true;
}

void Simulation::run_stage(std::size_t index) {
  const Stage& stage = schedule()[index];
  const auto wall = std::chrono::steady_clock::now();
  const double cpu = process_cpu_seconds();
  StageContext context{*model_, state_, results_, &learning_};
  arena_.execute([&] { stage.run(context); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
  StageTime& t = stage_times_[index];
  t.calls++;
  t.cpu_seconds += process_cpu_seconds() - cpu;
  t.wall_seconds += seconds;
  results_.seconds += seconds;
}

long Simulation::run_to_hook() {
  while (seek_due_stage()) {
    if (schedule()[cursor_].is_hook()) return static_cast<long>(cursor_);
    run_stage(cursor_++);
  }
  return -1;
}

void Simulation::complete_hook() {
  if (in_week_ && cursor_ < schedule().size() && schedule()[cursor_].is_hook()) {
    stage_times_[cursor_].calls++;
    cursor_++;
  }
}

bool Simulation::step() {
  if (finished()) return false;
  // Ends the week in progress (or runs a whole one); hook stages do nothing from C++.
  while (run_to_hook() >= 0) complete_hook();
  return !finished();
}

void Simulation::run(const std::function<bool(const Progress&)>& after_week) {
  results_.cancelled = false;
  while (!finished()) {
    step();
    if (after_week && !after_week(progress())) {
      results_.cancelled = !finished();
      return;
    }
  }
}

std::unique_ptr<Simulation> Simulation::counterfactual(const std::function<bool()>& keep_going) const {
  auto twin = std::make_unique<Simulation>(counterfactual_of(*model_), threads_, keep_going);
  twin->state_.stage_source = state_.stage_log;
  return twin;
}

std::shared_ptr<const Model> counterfactual_of(const Model& model) {
  auto twin = std::make_shared<Model>(model);
  const int traditional = twin->instructional_model_index("traditional");
  for (DistrictSpec& district : twin->districts) {
    for (SchoolGroupSpec& group : district.schools) {
      if (group.policy_models.empty()) group.policy_models = group.instructional_models;
      group.instructional_models = {{traditional, 1.0}};
    }
    district.rollout.model = traditional;
  }
  twin->name = model.name + " (counterfactual)";
  twin->arm = ComparisonArm::counterfactual;
  return twin;
}

bool has_personalization(const Model& model) {
  const int traditional = model.instructional_model_index("traditional");
  return model.any_school_on([&](int index) { return index != traditional; });
}

}  // namespace plsim
