#include "plsim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <tbb/info.h>

#include "plsim/assessment.hpp"
#include "plsim/population.hpp"
#include "plsim/summer.hpp"

namespace plsim {

namespace {
int resolve_threads(int threads) { return threads > 0 ? threads : tbb::info::default_concurrency(); }

// Schools on Python policies read their students' minutes from state.external_minutes. At the start
// of each year (new students, new order) it is sized and filled with each model's default minutes,
// which a registered plsim.Policy then overwrites week by week (without one, as from the command
// line, the defaults are used).
void prepare_external_minutes(const Model& m, State& state) {
  bool any = false;
  for (const InstructionalModel& im : m.instructional_models) any = any || im.external;
  if (!any) return;
  if (state.week != 0 && state.external_minutes.size() == state.students.size() * n_modes) return;
  const std::size_t wanted = state.students.id.capacity() * n_modes;
  if (state.external_minutes.capacity() < wanted) state.external_minutes.reserve(wanted);
  state.external_minutes.assign(state.students.size() * n_modes, 0.0);
  const SchoolColumns& sc = state.schools;
  for (std::size_t k = 0; k < sc.size(); ++k) {
    const InstructionalModel& im = m.instructional_models[sc.model[k]];
    if (!im.external) continue;
    for (std::uint32_t i = sc.begin[k]; i < sc.end[k]; ++i)
      std::copy(im.minutes.begin(), im.minutes.end(), state.external_minutes.begin() + std::size_t(i) * n_modes);
  }
}
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

void Simulation::begin_week() {
  if (finished() || week_begun_) return;
  const Model& m = *model_;
  const auto started = std::chrono::steady_clock::now();
  arena_.execute([&] {
    // Stage order of a year: [summer, promotion and classrooms] between years, then weeks.
    if (state_.week == m.weeks_per_year) {
      summer(m, state_);        // forgetting over the summer, by grade just finished
      advance_year(m, state_);  // promotion, graduation, entry cohorts, new classrooms
    }
    // Stage order of a week: assessments open the week they fall in, [Python policies], learning.
    for (int season = 0; season < n_seasons; ++season)
      if (m.params.assessment.weeks[season] == state_.week + 1)
        assess(m, state_, static_cast<Season>(season), results_.assessments);
    prepare_external_minutes(m, state_);
  });
  week_begun_ = true;
  results_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

void Simulation::finish_week() {
  if (finished()) return;
  if (!week_begun_) begin_week();
  const Model& m = *model_;
  const auto started = std::chrono::steady_clock::now();
  arena_.execute([&] { learning_.run_week(state_, WeekContext{state_.year, state_.week}); });
  week_begun_ = false;
  results_.student_weeks += state_.students.size();
  results_.weeks_simulated++;
  if (++state_.week == m.weeks_per_year) results_.years_completed++;
  results_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

bool Simulation::step() {
  begin_week();
  finish_week();
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

std::shared_ptr<const Model> counterfactual_of(const Model& model) {
  auto twin = std::make_shared<Model>(model);
  const int traditional = twin->model_index("traditional");
  for (DistrictSpec& district : twin->districts)
    for (SchoolGroupSpec& group : district.schools) group.models = {{traditional, 1.0}};
  twin->name = model.name + " (counterfactual)";
  return twin;
}

bool has_personalization(const Model& model) {
  const int traditional = model.model_index("traditional");
  for (const DistrictSpec& district : model.districts)
    for (const SchoolGroupSpec& group : district.schools)
      for (const auto& [index, share] : group.models)
        if (index != traditional && share > 0) return true;
  return false;
}

}  // namespace plsim
