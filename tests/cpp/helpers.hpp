// Shared fixtures of the C++ tests: small scenarios built in code, learning measured as the change of
// mastered position, and bit-for-bit comparisons of state columns and results.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plsim/modules/learning.hpp"
#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/scenario/scenario.hpp"
#include "plsim/simulation.hpp"
#include "plsim/state.hpp"

namespace plsim_test {

using nlohmann::json;

// A valid scenario: one district holding `schools` (school-group objects), `extra` merged at the top.
json scenario(json schools, const json& extra = json::object());
// One elementary school of `enrollment` students on instructional model `model_name`.
json one_school(const std::string& model_name, int enrollment = 264, const json& extra = json::object());
// Learning parameters for tests of one week's mechanisms: review and forgetting (the slow dynamics
// between weeks, tests/python/test_dynamics.py) off, and a quarter of the default learn rate, below the
// one-unit-a-week cap a week has without them (the grade pace is calibrated with forgetting on).
json single_week_learning();

plsim::Model model_of(const json& doc);
std::shared_ptr<const plsim::Model> shared_model_of(const json& doc);

// Mastered position of every student in subject s, in student order.
std::vector<double> positions(const plsim::State& state, int s);
// Mean over students and both subjects of the mastered position.
double mean_position(const plsim::State& state);

// Runs `weeks` weeks of learning classroom by classroom in order, on one thread.
void run_serial(const plsim::LearningProcess& learning, plsim::State& state, int year, int first_week, int weeks);
// Mean gain of mastered position (both subjects) over `weeks` weeks of serial learning.
double mean_gain(const plsim::LearningProcess& learning, plsim::State& state, int weeks);

// Puts every student of each classroom exactly on the classroom's pacing unit, with no gaps and
// P(known) at the prior: removes mismatch and gaps so a single mechanism can be varied.
void level_classes(const plsim::Model& model, plsim::State& state);

// One arm of a comparison: a model, its population (levelled unless asked otherwise) and the
// learning process over it. Test files extend it with the measures they need.
struct Arm {
  plsim::Model model;
  plsim::State state;
  plsim::LearningProcess learning;

  explicit Arm(const json& doc, bool levelled = true);
  Arm(const Arm&) = delete;
  double gain(int weeks) { return mean_gain(learning, state, weeks); }
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Names of the student columns that differ bit for bit (empty when identical).
std::vector<std::string> differing_student_columns(const plsim::StudentColumns& a, const plsim::StudentColumns& b);
// Names of the classroom, teacher and school columns that differ.
std::vector<std::string> differing_structure_columns(const plsim::State& a, const plsim::State& b);
// Index of the first row of a result table that differs in any field of its field list, bit for bit
// (padding between fields never counts), or -1.
template <class Row>
long first_differing_row(const std::vector<Row>& a, const std::vector<Row>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t k = 0; k < n; ++k) {
    bool same = true;
    Row::for_each_field([&](const char*, auto member) {
      same = same && std::memcmp(&(a[k].*member), &(b[k].*member), sizeof(a[k].*member)) == 0;
    });
    if (!same) return static_cast<long>(k);
  }
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

// Assessment rows also as a braced list: first_differing_row({a}, {b}).
inline long first_differing_row(const std::vector<plsim::AssessmentRow>& a, const std::vector<plsim::AssessmentRow>& b) {
  return first_differing_row<plsim::AssessmentRow>(a, b);
}

// Names of the result tables (Results::for_each_table) whose rows differ, bit for bit.
std::vector<std::string> differing_result_tables(const plsim::Results& a, const plsim::Results& b);

// Checks (Catch2) that two runs agree bit for bit: every result table, the counters, and every state
// column.
void require_same_run(const plsim::Simulation& a, const plsim::Simulation& b);

}  // namespace plsim_test
