// Stable identities and common random numbers: every entity has an id that does not depend on what
// else was created, and every draw is keyed by it, so arms that differ somewhere share every other draw.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// Two districts, each an elementary school pair feeding a middle school; `first` is the first
// elementary school of the second district (school 3), the one the arms change.
json two_districts(const json& first, int years = 2) {
  auto district = [](const std::string& name, const json& elementary) {
    return json{{"name", name},
                {"schools", json::array({elementary,
                                         {{"level", "elementary"}, {"enrollment", 132}},
                                         {{"level", "middle"}, {"enrollment", 150}}})}};
  };
  const json plain = {{"level", "elementary"}, {"enrollment", 132}};
  json doc = {{"name", "arms"}, {"seed", 9}, {"years", years},
              {"districts", json::array({district("a", plain), district("b", first)})}};
  return doc;
}

// Assessment rows by (year, season, subject, grade, school).
std::map<std::tuple<int, int, int, int, std::uint32_t>, AssessmentRow> rows_by_cell(const Results& r) {
  std::map<std::tuple<int, int, int, int, std::uint32_t>, AssessmentRow> out;
  for (const auto& row : r.assessments)
    out[{row.year, int(row.season), int(row.subject), row.grade, row.school}] = row;
  return out;
}

bool same_row(const AssessmentRow& a, const AssessmentRow& b) {
  return plsim_test::first_differing_row({a}, {b}) == -1;
}

// Teachers by stable id: (effectiveness, capacity).
// Teachers of every school but `except` (whose teachers' preparation and burnout follow its model).
std::map<std::uint64_t, std::pair<float, float>> teachers_by_id(const State& s, std::uint32_t except = ~0u) {
  std::map<std::uint64_t, std::pair<float, float>> out;
  for (std::size_t t = 0; t < s.teachers.size(); ++t)
    if (s.teachers.school[t] != except) out[s.teachers.id[t]] = {s.teachers.effectiveness[t], s.teachers.capacity[t]};
  return out;
}

}  // namespace

TEST_CASE("two arms that differ in one school's instructional model agree bit for bit on every other school",
          "[identity]") {
  json changed = {{"level", "elementary"}, {"enrollment", 132}, {"model", "station_rotation"}};
  Simulation a(plsim_test::shared_model_of(two_districts({{"level", "elementary"}, {"enrollment", 132}})), 2);
  Simulation b(plsim_test::shared_model_of(two_districts(changed)), 2);
  a.run();
  b.run();
  const auto ra = rows_by_cell(a.results()), rb = rows_by_cell(b.results());
  REQUIRE(ra.size() == rb.size());
  int same = 0, differ = 0;
  for (const auto& [cell, row] : ra) {
    const std::uint32_t school = std::get<4>(cell);
    // School 3 is the changed one; 5 (district b's middle school) receives its leavers in year 2.
    const bool touched = school == 3 || (school == 5 && std::get<0>(cell) == 1);
    if (touched) {
      differ += !same_row(row, rb.at(cell));
    } else {
      INFO("school " << school << " year " << std::get<0>(cell));
      CHECK(same_row(row, rb.at(cell)));
      ++same;
    }
  }
  CHECK(same > 100);
  CHECK(differ > 0);  // the change did change the school it was made in
  CHECK(teachers_by_id(a.state(), 3) == teachers_by_id(b.state(), 3));
}

TEST_CASE("hiring more teachers in one school changes no draw of any other teacher or student", "[identity]") {
  // Smaller classes in school 3 need more teachers there; no other school's teachers or students move.
  json smaller = {{"level", "elementary"}, {"enrollment", 132}, {"class_size", 8}};
  const Model ma = plsim_test::model_of(two_districts({{"level", "elementary"}, {"enrollment", 132}}));
  const Model mb = plsim_test::model_of(two_districts(smaller));
  const State a = build_population(ma), b = build_population(mb);
  REQUIRE(b.teachers.size() > a.teachers.size());
  const auto ta = teachers_by_id(a), tb = teachers_by_id(b);
  for (const auto& [id, traits] : ta) {
    INFO("teacher of school " << (id >> 32) << ", hire " << (id & 0xffffffffu));
    REQUIRE(tb.count(id) == 1);
    CHECK(tb.at(id) == traits);  // the same teacher, drawn the same, wherever the extra hires were
  }
  for (const auto& [id, traits] : tb)
    if (ta.count(id) == 0) CHECK((id >> 32) == 3);  // the extra teachers are all in school 3
  // Students do not depend on teachers: every student column but the classroom index is identical.
  CHECK(plsim_test::differing_student_columns(a.students, b.students) == std::vector<std::string>{"classroom"});
}

TEST_CASE("every entity has a unique stable id, and a run's first year does not depend on its length",
          "[identity]") {
  const auto two = plsim_test::shared_model_of(two_districts({{"level", "elementary"}, {"enrollment", 132}}, 2));
  const auto five = plsim_test::shared_model_of(two_districts({{"level", "elementary"}, {"enrollment", 132}}, 5));
  Simulation a(two, 1), b(five, 1);
  a.run();
  while (b.results().years_completed < 2) b.step();
  CHECK(plsim_test::first_differing_row(a.results().assessments, b.results().assessments) == -1);
  CHECK(plsim_test::differing_student_columns(a.state().students, b.state().students).empty());
  const State& s = a.state();
  CHECK(std::set<std::uint32_t>(s.students.id.begin(), s.students.id.end()).size() == s.students.size());
  CHECK(std::set<std::uint64_t>(s.teachers.id.begin(), s.teachers.id.end()).size() == s.teachers.size());
  CHECK(std::set<std::uint64_t>(s.classrooms.id.begin(), s.classrooms.id.end()).size() == s.classrooms.size());
  CHECK(std::set<std::uint32_t>(s.schools.id.begin(), s.schools.id.end()).size() == s.schools.size());
  CHECK(std::set<std::uint32_t>(s.districts.id.begin(), s.districts.id.end()).size() == s.districts.size());
}
