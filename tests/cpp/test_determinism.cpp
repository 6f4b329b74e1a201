// Reproducibility: results are a function of scenario and seed only, never of thread count,
// scheduling or how a run is split into calls.
#include <catch2/catch.hpp>

#include <memory>

#include <tbb/task_arena.h>

#include "helpers.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// Two district copies of about 3,900 students each (more than one summer work chunk of 4,096 and
// dozens of classrooms), a quarter of elementary and middle schools on station rotation, two years.
json two_year_district() {
  json schools = json::array({
      {{"level", "elementary"}, {"count", 8}, {"enrollment", 300},
       {"models", {{"station_rotation", 0.25}, {"traditional", 0.75}}}},
      {{"level", "middle"}, {"count", 2}, {"enrollment", 450},
       {"models", {{"station_rotation", 0.5}, {"traditional", 0.5}}}},
      {{"level", "high"}, {"enrollment", 600}},
  });
  json doc = plsim_test::scenario(schools, {{"years", 2}, {"seed", 2024}});
  doc["districts"][0]["count"] = 2;
  return doc;
}

std::unique_ptr<Simulation> finished_run(const std::shared_ptr<const Model>& model, int threads) {
  auto sim = std::make_unique<Simulation>(model, threads);
  sim->run();
  return sim;
}

}  // namespace

TEST_CASE("one, two and four threads give bit-identical results and states over two years", "[determinism]") {
  const auto model = plsim_test::shared_model_of(two_year_district());
  const auto one = finished_run(model, 1);
  REQUIRE(one->finished());
  REQUIRE(one->results().years_completed == 2);
  REQUIRE(one->state().students.size() > 4096);
  REQUIRE(one->state().classrooms.size() > 100);
  // Fall, winter and spring of two years, in every school and grade.
  REQUIRE(one->results().assessments.size() > 6 * 22 * 2);
  for (int threads : {2, 4}) {
    INFO(threads << " threads");
    const auto other = finished_run(model, threads);
    CHECK(other->threads() == threads);
    plsim_test::require_same_run(*one, *other);
  }
}

TEST_CASE("a run stopped between weeks and resumed equals an uninterrupted run", "[determinism]") {
  const auto model = plsim_test::shared_model_of(two_year_district());
  const auto whole = finished_run(model, 2);

  Simulation pieces(model, 2);
  int calls = 0;
  // Stop every 25 weeks: once inside each year and once just after the year boundary.
  while (!pieces.finished()) {
    pieces.run([&](const Progress& p) { return ++calls % 25 != 0 || p.weeks_done == p.weeks_total; });
    if (!pieces.finished()) CHECK(pieces.results().cancelled);
  }
  CHECK_FALSE(pieces.results().cancelled);
  CHECK(calls == 72);
  plsim_test::require_same_run(*whole, pieces);

  Simulation stepped(model, 1);
  while (stepped.step()) {
  }
  plsim_test::require_same_run(*whole, stepped);
}

TEST_CASE("the same scenario and seed give the same run, another seed a different one", "[determinism]") {
  json doc = two_year_district();
  doc["years"] = 1;
  const auto a = finished_run(plsim_test::shared_model_of(doc), 2);
  const auto b = finished_run(plsim_test::shared_model_of(doc), 2);
  plsim_test::require_same_run(*a, *b);
  doc["seed"] = 2025;
  const auto c = finished_run(plsim_test::shared_model_of(doc), 2);
  REQUIRE(c->results().assessments.size() == a->results().assessments.size());
  CHECK(plsim_test::first_differing_row(a->results().assessments, c->results().assessments) == 0);
}

TEST_CASE("the parallel week equals running every classroom serially, bit for bit", "[determinism]") {
  const auto model = plsim_test::shared_model_of(two_year_district());
  Simulation sim(model, 2);
  // Into the year, past a regrouping of small groups, so the state is not the freshly drawn one.
  for (int w = 0; w < 8; ++w) sim.step();
  const LearningProcess learning(*model);
  for (int w = 8; w < 14; ++w) {
    State parallel = sim.state();
    State serial = sim.state();
    const WeekContext week{sim.state().year, w};
    tbb::task_arena arena(4);
    arena.execute([&] { learning.run_week(parallel, week); });
    for (std::uint32_t c = 0; c < serial.classrooms.size(); ++c) learning.run_classroom(serial, c, week);
    INFO("week " << w);
    CHECK(plsim_test::differing_student_columns(parallel.students, serial.students) == std::vector<std::string>{});
    CHECK(plsim_test::differing_structure_columns(parallel, serial) == std::vector<std::string>{});
    // The week did something: learning moved students.
    CHECK_FALSE(plsim_test::same_bits(parallel.students.p_known[0], sim.state().students.p_known[0]));
    sim.state() = serial;
  }
}

TEST_CASE("classrooms are independent: a week of one classroom does not depend on the others", "[determinism]") {
  const auto model = plsim_test::shared_model_of(two_year_district());
  Simulation sim(model, 1);
  for (int w = 0; w < 3; ++w) sim.step();
  const LearningProcess learning(*model);
  const WeekContext week{0, 3};
  State forward = sim.state(), backward = sim.state();
  const auto n = static_cast<std::uint32_t>(forward.classrooms.size());
  for (std::uint32_t c = 0; c < n; ++c) learning.run_classroom(forward, c, week);
  for (std::uint32_t c = n; c-- > 0;) learning.run_classroom(backward, c, week);
  CHECK(plsim_test::differing_student_columns(forward.students, backward.students) == std::vector<std::string>{});
  CHECK(plsim_test::differing_structure_columns(forward, backward) == std::vector<std::string>{});
}

namespace {

// Schools of every model and classrooms of 3 to 27 students: consecutive classrooms of a model form
// runs of different sizes and kinds (small groups, tests and holds, autonomy levels, tutoring).
json mixed_classrooms() {
  const json mix = {{"station_rotation", 0.2}, {"adaptive_playlist", 0.15}, {"autonomy_levels", 0.15},
                    {"mastery_based", 0.15}, {"algorithmic_schedule", 0.1}, {"traditional", 0.25}};
  json schools = json::array();
  int size_index = 0;
  for (int size : {3, 5, 7, 9, 13, 20, 25, 27}) {
    const char* level = size_index++ % 2 == 0 ? "elementary" : "middle";
    schools.push_back({{"level", level}, {"count", 2}, {"enrollment", 8 * size + 5}, {"class_size", size}, {"models", mix}});
  }
  return plsim_test::scenario(schools, {{"years", 1}, {"seed", 77}});
}

// Whether some run has more than one classroom: consecutive classrooms of a model, students contiguous.
bool has_runs(const State& state) {
  const ClassroomColumns& cl = state.classrooms;
  for (std::uint32_t c = 1; c < cl.size(); ++c)
    if (cl.instructional_model[c] == cl.instructional_model[c - 1] && cl.begin[c] == cl.end[c - 1] &&
        cl.end[c] - cl.begin[c - 1] <= 128)
      return true;
  return false;
}

}  // namespace

TEST_CASE("runs of classrooms of different sizes and kinds equal classroom by classroom, bit for bit",
          "[determinism]") {
  for (const bool dynamics : {true, false}) {
    json doc = mixed_classrooms();
    if (!dynamics) {
      doc["parameters"]["learning"]["review_share"] = 0.0;
      doc["parameters"]["learning"]["forgetting_rate"] = 0.0;
    }
    const auto model = plsim_test::shared_model_of(doc);
    Simulation sim(model, 1);
    for (int w = 0; w < 3; ++w) sim.step();
    REQUIRE(has_runs(sim.state()));
    const LearningProcess learning(*model);
    for (int w = 3; w < 9; ++w) {
      State runs = sim.state(), single = sim.state();
      const WeekContext week{sim.state().year, w};
      const auto n = static_cast<std::uint32_t>(runs.classrooms.size());
      learning.run_classrooms(runs, 0, n, week);
      for (std::uint32_t c = 0; c < n; ++c) learning.run_classroom(single, c, week);
      INFO("week " << w << (dynamics ? ", review and forgetting on" : ", off"));
      CHECK(plsim_test::differing_student_columns(runs.students, single.students) == std::vector<std::string>{});
      CHECK(plsim_test::differing_structure_columns(runs, single) == std::vector<std::string>{});
      CHECK_FALSE(plsim_test::same_bits(runs.students.p_known[1], sim.state().students.p_known[1]));
      sim.state() = single;
    }
  }
}

TEST_CASE("a run keeps its model alive after the caller drops it", "[determinism]") {
  json doc = two_year_district();
  doc["years"] = 1;
  auto model = std::make_shared<Model>(plsim_test::model_of(doc));
  const auto reference = finished_run(model, 1);
  Simulation sim(std::shared_ptr<const Model>(model), 1);
  CHECK(&sim.model() == model.get());  // shared, not copied: the shared pointer keeps it alive
  model.reset();
  sim.run();
  plsim_test::require_same_run(*reference, sim);
}
