// The schedule: one table of named stages, run in order by the Simulation, with hook stages where
// Python hooks run and the time spent in each stage.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "plsim/schedule.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {
json two_year_doc() {
  return plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 132}, {"model", "station_rotation"}}}),
                              {{"years", 2}});
}
}  // namespace

TEST_CASE("the schedule names every stage once, year-start stages before week stages", "[schedule]") {
  std::set<std::string> names;
  bool in_week = false;
  for (const Stage& stage : schedule()) {
    INFO(stage.name);
    CHECK(names.insert(stage.name).second);
    CHECK(std::string(stage.doc).size() > 0);
    if (stage.phase == Phase::week) in_week = true;
    CHECK((stage.phase == Phase::week) == in_week);
  }
  CHECK(stage_index("summer") < stage_index("enrolment"));
  CHECK(stage_index("enrolment") < stage_index("classrooms"));
  CHECK(stage_index("assessment") < stage_index("learning"));
  CHECK(stage_index("python_policies") < stage_index("learning"));
  CHECK(stage_index("learning") < stage_index("python_processes"));
  CHECK(schedule()[stage_index("python_policies")].is_hook());
  CHECK_FALSE(schedule()[stage_index("learning")].is_hook());
  CHECK_THROWS_AS(stage_index("no_such_stage"), std::out_of_range);
}

TEST_CASE("each stage runs as often as the calendar says, and its time is counted", "[schedule]") {
  const auto model = plsim_test::shared_model_of(two_year_doc());
  Simulation sim(model, 1);
  sim.run();
  const auto& t = sim.stage_times();
  const int weeks = model->weeks_per_year;
  CHECK(t[stage_index("learning")].calls == std::uint64_t(2 * weeks));
  CHECK(t[stage_index("end_of_week")].calls == std::uint64_t(2 * weeks));
  CHECK(t[stage_index("assessment")].calls == 6);   // fall, winter, spring in each of two years
  CHECK(t[stage_index("summer")].calls == 1);       // between the two years only
  CHECK(t[stage_index("classrooms")].calls == 1);
  CHECK(t[stage_index("python_year_end")].calls == 2);
  CHECK(t[stage_index("python_policies")].calls == 0);  // no school on a Python policy
  CHECK(t[stage_index("learning")].wall_seconds > 0);
  CHECK(t[stage_index("learning")].cpu_seconds > 0);
}

TEST_CASE("stopping at every hook stage gives the same run as running straight through", "[schedule]") {
  const auto model = plsim_test::shared_model_of(two_year_doc());
  Simulation straight(model, 2), hooked(model, 2);
  straight.run();
  std::vector<std::string> hooks_seen;
  while (!hooked.finished()) {
    for (long at = hooked.run_to_hook(); at >= 0; at = hooked.run_to_hook()) {
      if (hooks_seen.size() < 3) hooks_seen.push_back(schedule()[std::size_t(at)].name);
      CHECK(hooked.run_to_hook() == at);  // the run stays at a hook until it is completed
      hooked.complete_hook();
    }
  }
  CHECK(hooks_seen == std::vector<std::string>{"python_processes", "python_processes", "python_processes"});
  CHECK(plsim_test::differing_student_columns(straight.state().students, hooked.state().students).empty());
  CHECK(plsim_test::first_differing_row(straight.results().assessments, hooked.results().assessments) == -1);
}
