// Checkpoints: a run saved at any point between weeks and restored into a fresh run of the same model
// continues exactly as the uninterrupted run; bad bytes are refused with a reason.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "helpers.hpp"
#include "plsim/run_state.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

json district_on_rotation() {
  json schools = json::array({
      {{"level", "elementary"}, {"count", 4}, {"enrollment", 200},
       {"models", {{"station_rotation", 0.5}, {"traditional", 0.5}}}},
      {{"level", "middle"}, {"enrollment", 300}},
  });
  json doc = plsim_test::scenario(schools, {{"years", 2}, {"seed", 3}});
  doc["districts"][0]["rollout"] = {{"model", "station_rotation"},
                                    {"targets", json::array({{{"year", 2}, {"share", 0.8}}})}};
  return doc;
}

// Runs `sim` until `weeks` weeks are done.
void run_weeks(Simulation& sim, std::uint64_t weeks) {
  sim.run([&](const Progress& p) { return p.weeks_done < weeks; });
}

// The run-state bytes with the first value of `column` overwritten: a column is its name, 8 bytes of
// length, then its values.
template <class T>
std::string with_first_value(std::string bytes, const char* column, T value) {
  const auto at = bytes.find(column);
  REQUIRE(at != std::string::npos);
  std::memcpy(bytes.data() + at + std::strlen(column) + 8, &value, sizeof(T));
  return bytes;
}

}  // namespace

TEST_CASE("every column of the school and classroom tables is saved", "[run_state]") {
  int schools = 0, classrooms = 0;
  SchoolColumns sc;
  sc.for_each_stored_column([&](const std::string&, auto&) { ++schools; });
  ClassroomColumns cl;
  cl.for_each_named_column([&](const std::string&, auto&) { ++classrooms; });
  // Every column is a std::vector, all of one size: the struct's size counts its columns.
  CHECK(schools * sizeof(std::vector<char>) == sizeof(SchoolColumns));
  CHECK(classrooms * sizeof(std::vector<char>) == sizeof(ClassroomColumns));
}

TEST_CASE("a run restored from its state at a year end, or mid-year, ends as the uninterrupted run", "[run_state]") {
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation whole(model, 2);
  auto whole_twin = whole.counterfactual();
  whole.run();
  whole_twin->run();

  for (std::uint64_t stop : {std::uint64_t(model->weeks_per_year), std::uint64_t(model->weeks_per_year + 7)}) {
    DYNAMIC_SECTION("saved after week " << stop) {
      Simulation first(model, 1);
      auto first_twin = first.counterfactual();
      run_weeks(first, stop);
      run_weeks(*first_twin, stop);
      const std::string bytes = save_run_state(first), twin_bytes = save_run_state(*first_twin);

      Simulation resumed(model, 2);  // another thread count: results do not depend on it
      auto resumed_twin = resumed.counterfactual();
      restore_run_state(resumed, bytes);
      restore_run_state(*resumed_twin, twin_bytes);
      CHECK(save_run_state(resumed).size() == bytes.size());
      resumed.run();
      resumed_twin->run();
      REQUIRE(resumed.finished());
      plsim_test::require_same_run(whole, resumed);
      plsim_test::require_same_run(*whole_twin, *resumed_twin);
    }
  }
}

TEST_CASE("bad run-state bytes are refused with the reason", "[run_state]") {
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation sim(model, 1);
  sim.step();
  const std::string bytes = save_run_state(sim);

  Simulation other_run(model, 1);
  CHECK_THROWS_WITH(restore_run_state(other_run, bytes.substr(0, bytes.size() / 2)),
                    Catch::Contains("truncated while reading"));
  CHECK_THROWS_WITH(restore_run_state(other_run, "not a run state at all"), Catch::Contains("not the state of a plsim run"));
  CHECK_THROWS_WITH(restore_run_state(other_run, bytes + "x"), Catch::Contains("left over"));
  std::string other_version = bytes;
  other_version[8] = 99;
  CHECK_THROWS_WITH(restore_run_state(other_run, other_version), Catch::Contains("format version 99"));

  json doc = district_on_rotation();
  doc["seed"] = 4;
  Simulation other_model(plsim_test::shared_model_of(doc), 1);
  CHECK_THROWS_WITH(restore_run_state(other_model, bytes), Catch::Contains("another model (seed 3"));
}

TEST_CASE("a column name edited into bytes that are not text is quoted in the refusal, escaped", "[run_state]") {
  // Found by tests/fuzz/run_state_fuzzer.cpp: the refusal quoted the name as read, so a message could
  // hold bytes that are not UTF-8 (and Python showed an empty reason).
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation sim(model, 1);
  std::string bytes = save_run_state(sim);
  const auto at = bytes.find("students.grade");
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 3, "\x80\x9f'");
  Simulation other_run(model, 1);
  CHECK_THROWS_WITH(restore_run_state(other_run, bytes),
                    "run state: expected column students.grade, found '\\x80\\x9f\\x27dents.grade'");
}

TEST_CASE("run-state bytes whose indices or enumerations point outside the state are refused", "[run_state]") {
  // A checkpoint's checksum has no key: an edited state must be refused by its values, not read out of
  // bounds. Each case edits the first value of one column (its name, then 8 bytes of length, then the
  // values) and must be named in the refusal.
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation sim(model, 1);
  sim.step();
  const std::string bytes = save_run_state(sim);
  struct Edit {
    const char* column;
    unsigned char value;
    const char* message;
  };
  for (const Edit& edit : {Edit{"students.grade", 200, "students.grade of row 0 is out of range"},
                           Edit{"students.reading_start_quintile", 6, "students.reading_start_quintile of row 0 is out"},
                           Edit{"schools.district", 9, "schools.district of row 0 is out of range"},
                           Edit{"schools.level", 7, "schools.level of row 0 is out of range"},
                           Edit{"schools.pl_stage", 3, "schools.pl_stage of row 0 is out of range"},
                           Edit{"teachers.school", 250, "teachers.school of row 0 is out of range"},
                           Edit{"schools.feeder_next", 200, "schools.feeder_next of row 0 is out of range"}}) {
    INFO(edit.column);
    Simulation fresh(model, 1);
    CHECK_THROWS_WITH(restore_run_state(fresh, with_first_value(bytes, edit.column, edit.value)),
                      Catch::Contains(edit.message));
  }
  Simulation fresh(model, 1);
  CHECK_NOTHROW(restore_run_state(fresh, bytes));  // the unedited bytes still restore
  CHECK(save_run_state(fresh).size() == bytes.size());
}

namespace {

// Whether a row type's field list names every member: sorted by offset, the fields leave no gap but
// padding (a gap as large as the next field's alignment would hold a member the list forgot).
template <class Row>
bool field_list_is_complete() {
  const Row row{};
  std::vector<std::pair<std::size_t, std::pair<std::size_t, std::size_t>>> fields;  // offset, (size, alignment)
  Row::for_each_field([&](const char*, auto member) {
    using Field = std::remove_cv_t<std::remove_reference_t<decltype(row.*member)>>;
    const auto offset = static_cast<std::size_t>(reinterpret_cast<const char*>(&(row.*member)) -
                                                 reinterpret_cast<const char*>(&row));
    fields.push_back({offset, {sizeof(Field), alignof(Field)}});
  });
  std::sort(fields.begin(), fields.end());
  std::size_t end = 0;
  for (const auto& [offset, size_alignment] : fields) {
    if (offset < end || offset - end >= size_alignment.second) return false;
    end = offset + size_alignment.first;
  }
  return sizeof(Row) - end < alignof(Row);
}

}  // namespace

TEST_CASE("every result table is declared field by field, saved and compared whole", "[run_state]") {
  CHECK(field_list_is_complete<AssessmentRow>());
  CHECK(field_list_is_complete<SubgroupRow>());
  CHECK(field_list_is_complete<StudyCellRow>());
  CHECK(field_list_is_complete<TeacherYearRow>());
  CHECK(field_list_is_complete<RolloutYearRow>());
  CHECK(field_list_is_complete<CostRow>());
  CHECK(field_list_is_complete<FidelityYearRow>());
  CHECK(field_list_is_complete<ResponseRow>());
  std::vector<std::string> names;
  Results{}.for_each_table([&](const char* name, const auto&) { names.emplace_back(name); });
  CHECK(names == std::vector<std::string>{"assessments", "subgroups", "teachers", "rollout", "fidelity", "costs",
                                          "study", "responses"});

  // A run restored from its bytes holds every table as saved; a change in one field of any table shows.
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation run(model, 1);
  run_weeks(run, model->weeks_per_year + 2);
  Simulation restored(model, 1);
  restore_run_state(restored, save_run_state(run));
  CHECK(plsim_test::differing_result_tables(run.results(), restored.results()).empty());
  REQUIRE(run.results().teachers.size() == 2);  // the first year's row and the transition into the second
  Results changed = run.results();
  changed.teachers.back().mean_burnout += 1e-12;
  changed.rollout.front().proven = !changed.rollout.front().proven;
  CHECK(plsim_test::differing_result_tables(run.results(), changed) == std::vector<std::string>{"teachers", "rollout"});
}

TEST_CASE("run-state bytes with a number that is not finite, or a pacing guide off the map, are refused", "[run_state]") {
  // Found by tests/fuzz/run_state_fuzzer.cpp: a NaN pacing unit was accepted and the next week turned it
  // into an integer (undefined behaviour). Each case writes the first value of one float column.
  const auto model = plsim_test::shared_model_of(district_on_rotation());
  Simulation sim(model, 1);
  sim.step();
  const std::string bytes = save_run_state(sim);
  struct Edit {
    const char* column;
    float value;
    const char* message;
  };
  for (const Edit& edit : {Edit{"classrooms.math_pacing_unit", std::nanf(""), "classrooms.math_pacing_unit of row 0"},
                           Edit{"students.math_p_known", INFINITY, "students.math_p_known of row 0"},
                           Edit{"teachers.buy_in", -INFINITY, "teachers.buy_in of row 0"},
                           Edit{"classrooms.reading_pacing_unit", 1e9f, "classrooms.pacing_unit of row 0"}}) {
    INFO(edit.column);
    Simulation fresh(model, 1);
    CHECK_THROWS_WITH(restore_run_state(fresh, with_first_value(bytes, edit.column, edit.value)),
                      Catch::Contains(edit.message) && Catch::Contains("out of range"));
  }
}
