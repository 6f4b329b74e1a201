#include "plsim/simulation.hpp"

#include <chrono>

#include <tbb/info.h>

#include "plsim/assessment.hpp"
#include "plsim/population.hpp"
#include "plsim/summer.hpp"

namespace plsim {

namespace {
int resolve_threads(int threads) { return threads > 0 ? threads : tbb::info::default_concurrency(); }
}  // namespace

Simulation::Simulation(std::shared_ptr<const Model> model, int threads)
    : model_(std::move(model)),
      threads_(resolve_threads(threads)),
      arena_(threads_),
      state_(arena_.execute([&] { return build_population(*model_); })),
      learning_(*model_) {}

Progress Simulation::progress() const {
  return {state_.year, state_.week, results_.weeks_simulated,
          static_cast<std::uint64_t>(model_->years) * model_->weeks_per_year};
}

bool Simulation::step() {
  if (finished()) return false;
  const Model& m = *model_;
  const auto started = std::chrono::steady_clock::now();
  arena_.execute([&] {
    // Stage order of a year: [summer, promotion and classrooms] between years, then weeks.
    if (state_.week == m.weeks_per_year) {
      summer(m, state_);        // forgetting over the summer, by grade just finished
      advance_year(m, state_);  // promotion, graduation, entry cohorts, new classrooms
    }
    // Stage order of a week: assessments open the week they fall in, then learning.
    for (int season = 0; season < n_seasons; ++season)
      if (m.params.assessment.weeks[season] == state_.week + 1)
        assess(m, state_, static_cast<Season>(season), results_.assessments);
    learning_.run_week(state_, WeekContext{state_.year, state_.week});
  });
  results_.student_weeks += state_.students.size();
  results_.weeks_simulated++;
  if (++state_.week == m.weeks_per_year) results_.years_completed++;
  results_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
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

}  // namespace plsim
