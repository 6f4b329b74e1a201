#include "helpers.hpp"

#include <type_traits>

#include <cmath>

#include <catch2/catch.hpp>

#include "plsim/modules/population.hpp"

namespace plsim_test {

json scenario(json schools, const json& extra) {
  json doc = {{"name", "test"},
              {"seed", 5},
              {"districts", json::array({{{"name", "d"}, {"schools", std::move(schools)}}})}};
  for (const auto& [key, value] : extra.items()) doc[key] = value;
  return doc;
}

json one_school(const std::string& model_name, int enrollment, const json& extra) {
  return scenario(json::array({{{"level", "elementary"}, {"enrollment", enrollment}, {"model", model_name}}}), extra);
}

json single_week_learning() { return {{"review_share", 0.0}, {"forgetting_rate", 0.0}, {"learn_rate", 0.02}}; }

plsim::Model model_of(const json& doc) { return plsim::build_model(doc, "test"); }

std::shared_ptr<const plsim::Model> shared_model_of(const json& doc) {
  return std::make_shared<const plsim::Model>(plsim::build_model(doc, "test"));
}

std::vector<double> positions(const plsim::State& state, int s) {
  std::vector<double> out(state.students.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = plsim::mastered_position(state.students, s, i);
  return out;
}

double mean_position(const plsim::State& state) {
  double sum = 0;
  for (int s = 0; s < plsim::n_subjects; ++s)
    for (std::size_t i = 0; i < state.students.size(); ++i) sum += plsim::mastered_position(state.students, s, i);
  return sum / double(plsim::n_subjects * state.students.size());
}

void run_serial(const plsim::LearningProcess& learning, plsim::State& state, int year, int first_week, int weeks) {
  for (int w = first_week; w < first_week + weeks; ++w)
    for (std::uint32_t c = 0; c < state.classrooms.size(); ++c)
      learning.run_classroom(state, c, plsim::WeekContext{year, w});
}

double mean_gain(const plsim::LearningProcess& learning, plsim::State& state, int weeks) {
  const double before = mean_position(state);
  run_serial(learning, state, 0, 0, weeks);
  return mean_position(state) - before;
}

void level_classes(const plsim::Model& model, plsim::State& state) {
  plsim::StudentColumns& st = state.students;
  for (std::uint32_t c = 0; c < state.classrooms.size(); ++c) {
    for (std::uint32_t i = state.classrooms.begin[c]; i < state.classrooms.end[c]; ++i) {
      for (int s = 0; s < plsim::n_subjects; ++s) {
        st.frontier[s][i] = static_cast<std::uint16_t>(std::lround(state.classrooms.pacing_unit[s][c]));
        st.gaps[s][i] = 0;
        st.recent_gaps[s][i] = 0;
        st.p_known[s][i] = static_cast<float>(model.params.learning.prior);
      }
    }
    // Pacing on a whole unit: the levelled students sit exactly at distance zero.
    for (int s = 0; s < plsim::n_subjects; ++s)
      state.classrooms.pacing_unit[s][c] = std::round(state.classrooms.pacing_unit[s][c]);
  }
}

std::vector<std::string> differing_student_columns(const plsim::StudentColumns& a, const plsim::StudentColumns& b) {
  std::vector<std::vector<char>> bytes;  // a's columns as bytes, in the order of the named list
  a.for_each_named_column([&](const std::string&, const auto& column) {
    const auto* p = reinterpret_cast<const char*>(column.data());
    bytes.emplace_back(p, p + column.size() * sizeof(column[0]));
  });
  std::vector<std::string> out;
  std::size_t k = 0;
  b.for_each_named_column([&](const std::string& name, const auto& column) {
    const auto& x = bytes[k++];
    if (x.size() != column.size() * sizeof(column[0]) ||
        (!x.empty() && std::memcmp(x.data(), column.data(), x.size()) != 0))
      out.push_back(name);
  });
  return out;
}

std::vector<std::string> differing_structure_columns(const plsim::State& a, const plsim::State& b) {
  std::vector<std::string> out;
  auto check = [&](const char* name, const auto& x, const auto& y) {
    if (!same_bits(x, y)) out.emplace_back(name);
  };
  check("classrooms.id", a.classrooms.id, b.classrooms.id);
  check("classrooms.begin", a.classrooms.begin, b.classrooms.begin);
  check("classrooms.end", a.classrooms.end, b.classrooms.end);
  check("classrooms.school", a.classrooms.school, b.classrooms.school);
  check("classrooms.teacher", a.classrooms.teacher, b.classrooms.teacher);
  check("classrooms.grade", a.classrooms.grade, b.classrooms.grade);
  for (int s = 0; s < plsim::n_subjects; ++s)
    check((std::string("classrooms.pacing_unit.") + plsim::subject_names[s]).c_str(), a.classrooms.pacing_unit[s],
          b.classrooms.pacing_unit[s]);
  check("teachers.id", a.teachers.id, b.teachers.id);
  check("teachers.school", a.teachers.school, b.teachers.school);
  check("teachers.capacity", a.teachers.capacity, b.teachers.capacity);
  check("teachers.effectiveness", a.teachers.effectiveness, b.teachers.effectiveness);
  check("schools.id", a.schools.id, b.schools.id);
  check("schools.entrants", a.schools.entrants, b.schools.entrants);
  check("schools.teachers_hired", a.schools.teachers_hired, b.schools.teachers_hired);
  check("schools.begin", a.schools.begin, b.schools.begin);
  check("schools.end", a.schools.end, b.schools.end);
  check("schools.class_begin", a.schools.class_begin, b.schools.class_begin);
  check("schools.class_end", a.schools.class_end, b.schools.class_end);
  check("schools.instructional_model", a.schools.instructional_model, b.schools.instructional_model);
  check("schools.achievement_shift", a.schools.achievement_shift, b.schools.achievement_shift);
  check("schools.growth_multiplier", a.schools.growth_multiplier, b.schools.growth_multiplier);
  return out;
}

std::vector<std::string> differing_result_tables(const plsim::Results& a, const plsim::Results& b) {
  std::vector<std::string> out;
  a.for_each_table([&](const char* name, const auto& rows) {
    b.for_each_table([&](const char* other, const auto& other_rows) {
      if constexpr (std::is_same_v<decltype(rows), decltype(other_rows)>)
        if (std::string(name) == other && first_differing_row(rows, other_rows) != -1) out.emplace_back(name);
    });
  });
  return out;
}

Arm::Arm(const json& doc, bool levelled)
    : model(model_of(doc)), state(plsim::build_population(model)), learning(model) {
  if (levelled) level_classes(model, state);
}

void require_same_run(const plsim::Simulation& a, const plsim::Simulation& b) {
  REQUIRE(a.results().assessments.size() == b.results().assessments.size());
  CHECK(differing_result_tables(a.results(), b.results()) == std::vector<std::string>{});
  CHECK(a.results().years_completed == b.results().years_completed);
  CHECK(a.results().weeks_simulated == b.results().weeks_simulated);
  CHECK(a.results().student_weeks == b.results().student_weeks);
  CHECK(differing_student_columns(a.state().students, b.state().students) == std::vector<std::string>{});
  CHECK(differing_structure_columns(a.state(), b.state()) == std::vector<std::string>{});
}

}  // namespace plsim_test
