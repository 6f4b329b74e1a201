// The schedule: the one table of the stages of a school year and of a week, in the order they run.
// C++ runs it (Simulation), Python drives its hooks from it (plsim.Sim), and `sim.schedule` shows it
// with the time spent in each stage. Adding a mechanism is one line here plus its module.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/state.hpp"

namespace plsim {

class LearningProcess;

// What a stage works on.
struct StageContext {
  const Model& model;
  State& state;
  Results& results;
  const LearningProcess* learning = nullptr;  // needed by the learning stage only
};

enum class Phase : std::uint8_t {
  year_start = 0,  // between two school years, before the first week of the new one
  week = 1,        // every instructional week
};
inline constexpr std::array<const char*, 2> phase_names{"year_start", "week"};

struct Stage {
  const char* name;
  Phase phase;
  const char* reads;   // the columns and parameters it reads
  const char* writes;  // the columns it writes
  const char* doc;
  // Engine stages run; hook stages (run == nullptr) are where Python hooks run, and do nothing in C++.
  void (*run)(StageContext&);
  // Whether the stage is due this time (nullptr: always).
  bool (*due)(const StageContext&) = nullptr;
  // Year-start stages that also run before the first week of a run (the population is built without
  // them): the rollout of the first year and who practises it.
  bool first_year = false;

  bool is_hook() const { return run == nullptr; }
};

// Every stage, year-start stages first, then week stages, each group in running order.
std::span<const Stage> schedule();
// Index of the stage called `name` in schedule(); throws std::out_of_range when there is none.
std::size_t stage_index(std::string_view name);

// The year-start stages after `summer`, run on a State by hand (tests and tools that step a
// population without a Simulation): promotion and entry cohorts, the new year, schools, classrooms.
void advance_year(const Model& model, State& state);

}  // namespace plsim
