// Parameters declared once: the table, the reference document, validation and the Model all follow
// from the modules' declarations.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "helpers.hpp"
#include "plsim/scenario/parameters.hpp"
#include "plsim/scenario/scenario.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// The JSON pointer of a parameter path: "learning.mode_efficiency.tutoring" -> /parameters/learning/...
json::json_pointer pointer_of(const std::string& path) {
  std::string pointer = "/parameters";
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) pointer += "/" + part;
  return json::json_pointer(pointer);
}

json valid_doc() { return plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 132}}})); }

}  // namespace

TEST_CASE("every parameter has a path, a unit or none, a doc, a source and a default inside its range",
          "[parameters]") {
  const auto& table = parameter_table();
  REQUIRE(table.size() > 60);
  std::set<std::string> paths;
  for (const ParameterRow& row : table) {
    INFO(row.path);
    CHECK(paths.insert(row.path).second);
    CHECK_FALSE(row.doc.empty());
    CHECK_FALSE(row.source.empty());
    const json values = row.default_value.is_array() ? row.default_value : json::array({row.default_value});
    for (const auto& v : values) {
      REQUIRE(v.is_number());
      CHECK(v.get<double>() >= row.minimum);
      CHECK(v.get<double>() <= row.maximum);
    }
  }
  CHECK(paths.count("learning.learn_rate") == 1);
  CHECK(paths.count("learning.mode_efficiency.tutoring") == 1);
  CHECK(paths.count("assessment.weeks.spring") == 1);
}

TEST_CASE("the scenario's resolved defaults are the table's defaults", "[parameters]") {
  const json resolved = resolve_scenario(valid_doc(), "test");
  for (const ParameterRow& row : parameter_table()) {
    INFO(row.path);
    CHECK(resolved.at(pointer_of(row.path)) == row.default_value);
  }
}

TEST_CASE("a value beyond any parameter's range is refused at its JSON path", "[parameters]") {
  for (const ParameterRow& row : parameter_table()) {
    if (row.maximum > 1e299) continue;
    json doc = valid_doc();
    const double too_big = row.maximum + 1.0;
    doc[pointer_of(row.path)] = row.default_value.is_array()
                                    ? json(std::vector<double>(row.default_value.size(), too_big))
                                    : json(row.type == "integer" ? json(static_cast<long>(too_big)) : json(too_big));
    const auto errors = check_scenario(doc, "test");
    INFO(row.path);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors[0].find(pointer_of(row.path).to_string()) != std::string::npos);
  }
}

TEST_CASE("a parameter set in a scenario reaches the model, others keep their defaults", "[parameters]") {
  json doc = valid_doc();
  doc["parameters"]["learning"]["learn_rate"] = 0.05;
  doc["parameters"]["learning"]["mode_efficiency"]["tutoring"] = 2.0;
  doc["parameters"]["assessment"]["weeks"]["winter"] = 17;
  doc["parameters"]["personalization"]["implementation_year_fidelity"] = {0.5, 0.7, 0.9};
  const Model m = build_model(doc, "test");
  CHECK(m.params.learning.learn_rate == 0.05);
  CHECK(m.params.learning.mode_efficiency[int(Mode::tutoring)] == 2.0);
  CHECK(m.params.learning.mode_efficiency[int(Mode::small_group)] == LearningParameters{}.mode_efficiency[1]);
  CHECK(m.params.assessment.weeks[int(Season::winter)] == 17);
  CHECK(m.params.assessment.weeks[int(Season::spring)] == 34);
  CHECK(m.params.personalization.implementation_year_fidelity == PerImplementationYear{0.5, 0.7, 0.9});
  CHECK(m.params.learning.grade_pace[0][3] == LearningParameters{}.grade_pace[0][3]);
}

TEST_CASE("calibrated defaults come from engine/data/calibrated.json", "[parameters]") {
  std::ifstream in(std::string(PLSIM_ENGINE_DATA_DIR) + "/calibrated.json");
  REQUIRE(in);
  const json calibrated = json::parse(in);
  const LearningParameters defaults;
  for (int s = 0; s < n_subjects; ++s)
    for (int g = 0; g < n_grades; ++g)
      CHECK(defaults.grade_pace[s][g] == calibrated["learning.grade_pace"][subject_names[s]][g].get<double>());
}

// Regenerate with `plsim params --markdown > docs/parameters.md` when a declaration changes.
TEST_CASE("the shipped parameter reference is the one the declarations generate", "[parameters]") {
  std::ifstream in(std::string(PLSIM_DOCS_DIR) + "/parameters.md");
  REQUIRE(in);
  std::stringstream shipped;
  shipped << in.rdbuf();
  CHECK(shipped.str() == parameter_reference_markdown());
}

TEST_CASE("instructional-model defaults hold every field a scenario model may set", "[parameters]") {
  const json defaults = instructional_model_defaults();
  for (const char* key : {"description", "minutes", "progression", "small_groups", "regroup_weeks", "asks", "choice",
                          "check_ins", "open_space", "test_out", "autonomy_levels", "top_level_minutes",
                          "python_policy"})
    CHECK(defaults.contains(key));
  CHECK(defaults["small_groups"] == 4);
  CHECK(defaults["progression"] == "seat_time");
  CHECK(defaults["minutes"]["tutoring"] == 0.0);
}
