// Scenario validation, default filling, the exported schema and the model built from a scenario.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "plsim/scenario/scenario.hpp"

using namespace plsim;
using plsim_test::json;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

json valid_doc() {
  return plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 132}}}));
}

// The one error of `errors` that mentions `path` followed by ": ", or "" when none does.
std::string error_at(const std::vector<std::string>& errors, const std::string& path) {
  std::string found;
  for (const auto& e : errors)
    if (e.find(": " + path + ": ") != std::string::npos) found = e;
  return found;
}

std::string joined(const std::vector<std::string>& errors) {
  std::string text;
  for (const auto& e : errors) text += e + "\n";
  return text;
}

}  // namespace

TEST_CASE("a minimal scenario is valid", "[scenario]") {
  const auto errors = check_scenario(valid_doc(), "ok.json");
  INFO(joined(errors));
  CHECK(errors.empty());
  CHECK_NOTHROW(build_model(valid_doc(), "ok.json"));
}

TEST_CASE("an unknown key names source and path, suggests the close key and lists the valid keys", "[scenario]") {
  json doc = valid_doc();
  doc["yeers"] = 2;
  const auto errors = check_scenario(doc, "district.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "district.json: /yeers: unknown key (did you mean \"years\"?); valid keys are name, description, seed, "
        "years, weeks_per_year, parameters, counterfactual, instructional_models, districts, grants, priors, min_cell");

  json nested = valid_doc();
  nested["districts"][0]["schools"][0]["enrolment"] = 100;
  const auto nested_errors = check_scenario(nested, "d.json");
  REQUIRE(nested_errors.size() == 1);
  CHECK_THAT(nested_errors[0], StartsWith("d.json: /districts/0/schools/0/enrolment: unknown key"));
  CHECK_THAT(nested_errors[0], Contains("did you mean \"enrollment\"?"));
  CHECK_THAT(nested_errors[0], Contains("valid keys are level, type, count, enrollment, grades"));
}

TEST_CASE("an unknown key far from every valid key gets no suggestion", "[scenario]") {
  json doc = valid_doc();
  doc["parameters"] = {{"learning", {{"xyzzy_quux", 1}}}};
  const auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("t.json: /parameters/learning/xyzzy_quux: unknown key; valid keys are rit_per_unit"));
  CHECK_THAT(errors[0], !Contains("did you mean"));
}

TEST_CASE("keys starting with an underscore are comments", "[scenario]") {
  json doc = valid_doc();
  doc["_comment"] = "anything";
  doc["districts"][0]["_note"] = {{"free", "form"}};
  CHECK(check_scenario(doc, "t.json").empty());
}

TEST_CASE("a value of the wrong type names the expected type and the value", "[scenario]") {
  json doc = valid_doc();
  doc["years"] = "two";
  doc["districts"][0]["schools"][0]["count"] = 2.5;
  doc["description"] = 3;
  const auto errors = check_scenario(doc, "t.json");
  CHECK(error_at(errors, "/years") == "t.json: /years: expected an integer (got \"two\")");
  CHECK(error_at(errors, "/districts/0/schools/0/count") == "t.json: /districts/0/schools/0/count: expected an integer (got 2.5)");
  CHECK(error_at(errors, "/description") == "t.json: /description: expected a string (got 3)");
  CHECK(errors.size() == 3);
}

TEST_CASE("an out-of-range value names its bounds and the value", "[scenario]") {
  json doc = valid_doc();
  doc["parameters"]["learning"]["learn_rate"] = 1.5;
  doc["parameters"]["learning"]["minutes_per_opportunity"] = 0;
  doc["weeks_per_year"] = 60;
  doc["districts"][0]["schools"][0]["frl_share"] = {{"mean", -0.1}};
  const auto errors = check_scenario(doc, "t.json");
  CHECK(error_at(errors, "/parameters/learning/learn_rate") ==
        "t.json: /parameters/learning/learn_rate: must be between 0 and 1 (got 1.5)");
  CHECK(error_at(errors, "/parameters/learning/minutes_per_opportunity") ==
        "t.json: /parameters/learning/minutes_per_opportunity: must be greater than 0 (got 0)");
  CHECK(error_at(errors, "/weeks_per_year") == "t.json: /weeks_per_year: must be between 10 and 52 (got 60)");
  CHECK(error_at(errors, "/districts/0/schools/0/frl_share/mean") ==
        "t.json: /districts/0/schools/0/frl_share/mean: must be between 0 and 1 (got -0.1)");
  CHECK(errors.size() == 4);
}

TEST_CASE("a missing required key is reported with what it is for", "[scenario]") {
  json doc = valid_doc();
  doc.erase("name");
  doc["districts"][0]["schools"][0].erase("enrollment");
  const auto errors = check_scenario(doc, "t.json");
  CHECK(error_at(errors, "/name") == "t.json: /name: required key is missing (scenario name)");
  CHECK(error_at(errors, "/districts/0/schools/0/enrollment") ==
        "t.json: /districts/0/schools/0/enrollment: required key is missing (students per school)");
  CHECK(errors.size() == 2);
}

TEST_CASE("a choice outside its list names the valid choices", "[scenario]") {
  json doc = valid_doc();
  doc["districts"][0]["schools"][0]["level"] = "kindergarten";
  const auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "t.json: /districts/0/schools/0/level: must be one of elementary, middle, high (got \"kindergarten\")");
}

TEST_CASE("a document that is not an object is rejected at the root", "[scenario]") {
  const auto errors = check_scenario(json::array({1, 2}), "t.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "t.json: /: expected an object (got [1,2])");
}

TEST_CASE("an unknown instructional model lists the known models, custom ones included", "[scenario]") {
  json doc = valid_doc();
  doc["districts"][0]["schools"][0]["model"] = "flipped";
  auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "t.json: /districts/0/schools/0/model: unknown instructional model; known models are adaptive_playlist, "
        "algorithmic_schedule, autonomy_levels, high_dosage_tutoring, mastery_based, platform_mentor, project_based, "
        "station_rotation, traditional (got \"flipped\")");

  doc["instructional_models"] = {{"tutoring_heavy", {{"minutes", {{"tutoring", 60}, {"whole_class", 240}}}}}};
  doc["districts"][0]["schools"][0].erase("model");
  doc["districts"][0]["schools"][0]["models"] = {{"tutoring_heavy", 0.5}, {"flipped", 0.5}};
  errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "t.json: /districts/0/schools/0/models/flipped: unknown instructional model; known models are "
        "adaptive_playlist, algorithmic_schedule, autonomy_levels, high_dosage_tutoring, mastery_based, "
        "platform_mentor, project_based, station_rotation, traditional, tutoring_heavy (got \"flipped\")");
}

TEST_CASE("model shares that do not sum to one are rejected", "[scenario]") {
  json doc = valid_doc();
  doc["districts"][0]["schools"][0]["models"] = {{"traditional", 0.5}, {"station_rotation", 0.4}};
  auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("t.json: /districts/0/schools/0/models: shares must sum to 1 (got 0.9"));

  doc["districts"][0]["schools"][0]["models"] = {{"traditional", 0.75}, {"station_rotation", 0.25}};
  CHECK(check_scenario(doc, "t.json").empty());
}

TEST_CASE("assessment weeks out of order or beyond the year are rejected", "[scenario]") {
  json doc = valid_doc();
  doc["parameters"]["assessment"]["weeks"] = {{"fall", 20}, {"winter", 18}, {"spring", 34}};
  auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("t.json: /parameters/assessment/weeks: fall, winter and spring must come in that order"));

  json late = valid_doc();
  late["weeks_per_year"] = 30;
  errors = check_scenario(late, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "t.json: /parameters/assessment/weeks/spring: must be within the 30 weeks of the year (got 34)");
}

TEST_CASE("inconsistent school groups are rejected", "[scenario]") {
  json doc = valid_doc();
  auto& group = doc["districts"][0]["schools"][0];
  group["grades"] = {5, 2};
  group["model"] = "traditional";
  group["models"] = {{"traditional", 1.0}};
  const auto errors = check_scenario(doc, "t.json");
  CHECK_THAT(error_at(errors, "/districts/0/schools/0/grades"), Contains("first grade must not exceed the last"));
  CHECK_THAT(error_at(errors, "/districts/0/schools/0"), Contains("give either model or models, not both"));

  json small = valid_doc();
  small["districts"][0]["schools"][0]["enrollment"] = 4;
  const auto small_errors = check_scenario(small, "t.json");
  REQUIRE(small_errors.size() == 1);
  CHECK_THAT(small_errors[0], StartsWith("t.json: /districts/0/schools/0/enrollment: needs at least one student per grade served (6)"));
}

TEST_CASE("a group's model_years are two years of the run in order, for a group with a model", "[scenario]") {
  json doc = valid_doc();
  doc["years"] = 4;
  auto& group = doc["districts"][0]["schools"][0];
  group["model"] = "station_rotation";
  const std::string path = "/districts/0/schools/0/model_years";
  auto error_with = [&](const json& years, const std::string& at) {
    group["model_years"] = years;
    const auto errors = check_scenario(doc, "t.json");
    INFO(joined(errors));
    CHECK(errors.size() == 1);
    return error_at(errors, at);
  };
  CHECK_THAT(error_with({2, 3, 4}, path), Contains("expected exactly 2 items (got 3)"));
  CHECK_THAT(error_with({2}, path), Contains("expected exactly 2 items (got 1)"));
  CHECK_THAT(error_with("2-3", path), Contains("expected an array (got \"2-3\")"));
  CHECK_THAT(error_with({2.5, 3}, path + "/0"), Contains("expected an integer (got 2.5)"));
  CHECK_THAT(error_with({0, 3}, path + "/0"), Contains("must be between 1 and 50 (got 0)"));
  CHECK_THAT(error_with({3, 2}, path), Contains("the last year must not come before the first (got [3,2])"));
  CHECK_THAT(error_with({2, 5}, path + "/1"), Contains("must be within the scenario's 4 years (got 5)"));
  group["model_years"] = {2, 4};
  CHECK(check_scenario(doc, "t.json").empty());
  group["model_years"] = {4, 4};
  CHECK(check_scenario(doc, "t.json").empty());

  group.erase("model");
  CHECK_THAT(error_with({2, 3}, path), Contains("its schools are traditional"));
  group["models"] = {{"traditional", 0.5}, {"station_rotation", 0.5}};
  group["model_years"] = {2, 3};
  CHECK(check_scenario(doc, "t.json").empty());
}

TEST_CASE("the model carries a group's model_years; without them the group runs its model every year", "[scenario]") {
  json doc = valid_doc();
  doc["years"] = 5;
  doc["districts"][0]["schools"][0]["model"] = "station_rotation";
  const Model every_year = plsim_test::model_of(doc);
  const SchoolGroupSpec& all = every_year.districts[0].schools[0];
  CHECK_FALSE(all.limits_model_years());
  for (int year = 1; year <= 5; ++year) CHECK(all.runs_model_in(year));
  doc["districts"][0]["schools"][0]["model_years"] = {2, 3};
  const Model some = plsim_test::model_of(doc);
  const SchoolGroupSpec& group = some.districts[0].schools[0];
  CHECK(group.model_years == std::array<int, 2>{2, 3});
  CHECK(group.limits_model_years());
  CHECK_FALSE(group.runs_model_in(1));
  CHECK(group.runs_model_in(2));
  CHECK(group.runs_model_in(3));
  CHECK_FALSE(group.runs_model_in(4));
  CHECK_FALSE(resolve_scenario(valid_doc(), "t.json")["districts"][0]["schools"][0].contains("model_years"));
}

TEST_CASE("an instructional model without minutes is rejected", "[scenario]") {
  json doc = valid_doc();
  doc["instructional_models"] = {{"idle", {{"minutes", json::object()}}}};
  const auto errors = check_scenario(doc, "t.json");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], StartsWith("t.json: /instructional_models/idle/minutes: at least one mode needs minutes"));
}

TEST_CASE("every structural error of a document is reported at once", "[scenario]") {
  json doc = valid_doc();
  doc.erase("name");
  doc["yeers"] = 2;
  doc["seed"] = "seven";
  doc["parameters"]["learning"]["learn_rate"] = 1.5;
  doc["districts"][0]["schools"][0]["level"] = "kindergarten";
  doc["districts"].push_back({{"name", "second"}, {"schools", json::array()}});
  const auto errors = check_scenario(doc, "many.json");
  INFO(joined(errors));
  CHECK(errors.size() == 6);
  CHECK_FALSE(error_at(errors, "/name").empty());
  CHECK_FALSE(error_at(errors, "/yeers").empty());
  CHECK_FALSE(error_at(errors, "/seed").empty());
  CHECK_FALSE(error_at(errors, "/parameters/learning/learn_rate").empty());
  CHECK_FALSE(error_at(errors, "/districts/0/schools/0/level").empty());
  CHECK(error_at(errors, "/districts/1/schools") == "many.json: /districts/1/schools: expected between 1 and 1000 items (got 0)");
  for (const auto& e : errors) CHECK_THAT(e, StartsWith("many.json: /"));
}

TEST_CASE("every error about the meaning of a document is reported at once", "[scenario]") {
  json doc = valid_doc();
  doc["parameters"]["assessment"]["weeks"] = {{"fall", 20}, {"winter", 18}};
  doc["districts"][0]["schools"][0]["models"] = {{"traditional", 0.5}, {"station_rotation", 0.4}};
  doc["districts"][0]["schools"].push_back({{"level", "middle"}, {"enrollment", 300}, {"model", "flipped"}});
  const auto errors = check_scenario(doc, "t.json");
  INFO(joined(errors));
  CHECK(errors.size() == 3);
  CHECK_FALSE(error_at(errors, "/parameters/assessment/weeks").empty());
  CHECK_FALSE(error_at(errors, "/districts/0/schools/0/models").empty());
  CHECK_FALSE(error_at(errors, "/districts/0/schools/1/model").empty());
}

TEST_CASE("errors of structure and of meaning in one document are reported together", "[scenario]") {
  json doc = valid_doc();
  doc["yeers"] = 2;
  doc["districts"][0]["schools"][0]["model"] = "flipped";
  const auto errors = check_scenario(doc, "t.json");
  INFO(joined(errors));
  CHECK_FALSE(error_at(errors, "/yeers").empty());
  CHECK_FALSE(error_at(errors, "/districts/0/schools/0/model").empty());
}

TEST_CASE("a document too broken for the meaning checks still gets its structural errors", "[scenario]") {
  json doc = valid_doc();
  doc["districts"][0]["schools"][0].erase("enrollment");
  doc["districts"][0]["schools"][0]["model"] = "flipped";
  doc["parameters"] = "fast";
  const auto errors = check_scenario(doc, "t.json");
  INFO(joined(errors));
  CHECK_FALSE(error_at(errors, "/districts/0/schools/0/enrollment").empty());
  CHECK_FALSE(error_at(errors, "/parameters").empty());
}

TEST_CASE("build_model throws a ScenarioError carrying every error", "[scenario]") {
  json doc = valid_doc();
  doc["yeers"] = 2;
  doc["parameters"]["summer"]["loss_scale"] = -1;
  const auto expected = check_scenario(doc, "bad.json");
  REQUIRE(expected.size() == 2);
  try {
    build_model(doc, "bad.json");
    FAIL("build_model accepted an invalid scenario");
  } catch (const ScenarioError& e) {
    CHECK(e.errors() == expected);
    CHECK(std::string(e.what()) == expected[0] + "\n" + expected[1]);
  }
  CHECK_THROWS_AS(resolve_scenario(doc, "bad.json"), ScenarioError);
}

TEST_CASE("resolving a scenario fills every default", "[scenario]") {
  json doc = valid_doc();
  doc["districts"][0]["schools"].push_back({{"level", "middle"}, {"enrollment", 300}});
  doc["districts"][0]["schools"].push_back({{"level", "high"}, {"enrollment", 400}, {"model", "station_rotation"}});
  const json r = resolve_scenario(doc, "t.json");
  CHECK(r["years"] == 1);
  CHECK(r["weeks_per_year"] == 36);
  CHECK(r["description"] == "");
  CHECK(r["parameters"]["learning"]["learn_rate"] == 0.08);
  CHECK(r["parameters"]["learning"]["mode_efficiency"] ==
        json({{"whole_class", 1.0}, {"small_group", 0.9}, {"adaptive_software", 0.85}, {"collaborative", 1.0},
              {"tutoring", 1.7}}));
  CHECK(r["parameters"]["learning"]["gap_repair_share"] == 0.6);
  CHECK(r["parameters"]["learning"]["gap_repair_ease"] == 1.5);
  CHECK(r["parameters"]["learning"]["engagement_collaborative_bonus"] == 0.1);
  CHECK(r["parameters"]["learning"]["school_growth_sd"] == 0.17);
  CHECK(r["parameters"]["learning"]["absorption_limit"] == 6.0);
  CHECK(r["parameters"]["learning"]["software_subject_efficiency"] == json({{"math", 1.0}, {"reading", 0.8}}));
  CHECK(r["parameters"]["personalization"]["implementation_year_fidelity"] == json({0.8, 0.9, 0.9}));
  CHECK(r["counterfactual"] == "auto");
  CHECK(r["parameters"]["learning"]["grade_pace"]["math"].size() == 13);
  CHECK(r["parameters"]["population"]["school_mean_sd"] == 0.45);
  CHECK(r["parameters"]["assessment"]["weeks"] == json({{"fall", 1}, {"winter", 18}, {"spring", 34}}));
  CHECK(r["parameters"]["summer"]["frl_extra_loss"] == 0.25);
  CHECK(r["districts"][0]["count"] == 1);

  const auto& schools = r["districts"][0]["schools"];
  CHECK(schools[0]["grades"] == json({0, 5}));
  CHECK(schools[0]["class_size"] == 22);
  CHECK(schools[0]["models"] == json({{"traditional", 1.0}}));
  CHECK(schools[0]["type"] == "district");
  CHECK(schools[0]["frl_share"] == json({{"mean", 0.5}, {"sd", 0.25}}));
  CHECK(schools[1]["grades"] == json({6, 8}));
  CHECK(schools[1]["class_size"] == 26);
  CHECK(schools[2]["grades"] == json({9, 12}));
  CHECK(schools[2]["class_size"] == 28);
  CHECK(schools[2]["models"] == json({{"station_rotation", 1.0}}));
  CHECK_FALSE(schools[2].contains("model"));
  CHECK(schools[0]["implementation_year"] == 3);
  CHECK(schools[0]["fidelity"] == json({{"learner_profiles", 1.0}, {"learning_paths", 1.0},
                                        {"competency_progression", 1.0}, {"flexible_environment", 1.0},
                                        {"sd", 0.0}}));

  // The resolved document carries the nine built-in models of engine/data/instructional_models.json.
  const auto& models = r["instructional_models"];
  std::vector<std::string> names;
  for (const auto& [name, m] : models.items()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"adaptive_playlist", "algorithmic_schedule", "autonomy_levels",
                                          "high_dosage_tutoring", "mastery_based", "platform_mentor",
                                          "project_based", "station_rotation", "traditional"});
  REQUIRE(models.contains("traditional"));
  REQUIRE(models.contains("station_rotation"));
  CHECK(models["traditional"]["minutes"]["whole_class"] == 300.0);
  CHECK(models["traditional"]["progression"] == "seat_time");
  CHECK(models["station_rotation"]["minutes"]["small_group"] == 75.0);
  CHECK(models["station_rotation"]["minutes"]["tutoring"] == 0.0);
  CHECK(models["station_rotation"]["small_groups"] == 4);
  CHECK(models["traditional"]["asks"] == json({{"learner_profiles", 0.0}, {"learning_paths", 0.0},
                                               {"competency_progression", 0.0}, {"flexible_environment", 0.0}}));
  CHECK(models["mastery_based"]["progression"] == "mastery");
  CHECK(models["mastery_based"]["test_out"] == true);
  CHECK(models["high_dosage_tutoring"]["minutes"]["tutoring"] == 90.0);
  // The resolved document is itself a valid scenario, and resolving it again changes nothing.
  CHECK(check_scenario(r, "resolved").empty());
  CHECK(resolve_scenario(r, "resolved") == r);
}

TEST_CASE("the model carries the scenario's values", "[scenario]") {
  json doc = valid_doc();
  doc["seed"] = 123456789012LL;
  doc["years"] = 3;
  doc["weeks_per_year"] = 40;
  doc["parameters"]["learning"]["learn_rate"] = 0.05;
  doc["parameters"]["learning"]["mode_efficiency"] = {{"small_group", 2.0}};
  doc["instructional_models"] = {
      {"traditional", {{"minutes", {{"whole_class", 200}}}}},
      {"mastery_tutoring", {{"minutes", {{"tutoring", 100}}}, {"progression", "mastery"}, {"small_groups", 3}}}};
  doc["districts"][0]["count"] = 2;
  doc["districts"][0]["schools"][0]["models"] = {{"traditional", 0.5}, {"mastery_tutoring", 0.5}};
  doc["districts"][0]["schools"][0]["count"] = 4;
  const Model m = build_model(doc, "t.json");
  CHECK(m.name == "test");
  CHECK(m.seed == 123456789012ULL);
  CHECK(m.years == 3);
  CHECK(m.weeks_per_year == 40);
  CHECK(m.params.learning.learn_rate == 0.05);
  CHECK(m.params.learning.mode_efficiency[int(Mode::small_group)] == 2.0);
  CHECK(m.params.learning.mode_efficiency[int(Mode::whole_class)] == 1.0);
  // The pacing guide covers the grade's norm growth, in units, between the fall and spring tests.
  const auto& w = m.params.assessment.weeks;
  const NormCell fall = m.norms.at(Subject::math, Season::fall, 3), spring = m.norms.at(Subject::math, Season::spring, 3);
  CHECK(m.pacing_per_week[0][3] ==
        Approx((spring.mean - fall.mean) / m.params.learning.rit_per_unit / (w[2] - w[0])));
  // The nine built-in models, the scenario's traditional replacing the built-in one, plus mastery_tutoring.
  REQUIRE(m.instructional_models.size() == 10);
  for (const char* builtin : {"traditional", "station_rotation", "algorithmic_schedule", "adaptive_playlist",
                              "mastery_based", "project_based", "platform_mentor", "autonomy_levels",
                              "high_dosage_tutoring"})
    CHECK(m.instructional_model_index(builtin) >= 0);
  const int traditional = m.instructional_model_index("traditional");
  const int tutoring = m.instructional_model_index("mastery_tutoring");
  REQUIRE(traditional >= 0);
  REQUIRE(tutoring >= 0);
  CHECK(m.instructional_model_index("flipped") == -1);
  // A scenario's model replaces the built-in one of the same name.
  CHECK(m.instructional_models[traditional].minutes[int(Mode::whole_class)] == 200);
  CHECK(m.instructional_models[tutoring].minutes[int(Mode::tutoring)] == 100);
  CHECK(m.instructional_models[tutoring].progression == Progression::mastery);
  CHECK(m.instructional_models[tutoring].small_groups == 3);
  REQUIRE(m.districts.size() == 1);
  CHECK(m.districts[0].count == 2);
  REQUIRE(m.districts[0].schools.size() == 1);
  const SchoolGroupSpec& g = m.districts[0].schools[0];
  CHECK(g.count == 4);
  CHECK(g.enrollment == 132);
  CHECK(g.grade_lo == 0);
  CHECK(g.grade_hi == 5);
  CHECK(g.class_size == 22);
  CHECK(g.instructional_models.size() == 2);
}

TEST_CASE("the schema forbids unknown keys and describes every key of the specification", "[scenario]") {
  const json schema = scenario_schema();
  CHECK(schema["additionalProperties"] == false);
  CHECK(schema["required"] == json({"name", "districts"}));
  // Walk the specification and the schema together: every object forbids unknown keys and lists
  // every key of the specification, with its range.
  std::vector<std::string> problems;
  std::function<void(const Spec&, const json&, const std::string&)> walk = [&](const Spec& spec, const json& node,
                                                                                 const std::string& path) {
    switch (spec.kind) {
      case Spec::Kind::object:
        if (node.value("additionalProperties", json(true)) != false) problems.push_back(path + ": allows unknown keys");
        for (const auto& [name, sub] : spec.properties) {
          if (!node["properties"].contains(name)) problems.push_back(path + "/" + name + ": missing");
          else walk(sub, node["properties"][name], path + "/" + name);
        }
        if (node["properties"].size() != spec.properties.size()) problems.push_back(path + ": extra properties");
        break;
      case Spec::Kind::array: walk(*spec.element, node["items"], path + "/items"); break;
      case Spec::Kind::map: walk(*spec.element, node["additionalProperties"], path + "/*"); break;
      case Spec::Kind::number:
      case Spec::Kind::integer:
        if (spec.maximum < 1e299 && node["maximum"] != spec.maximum) problems.push_back(path + ": maximum");
        break;
      default: break;
    }
  };
  walk(scenario_spec(), schema, "");
  INFO(joined(problems));
  CHECK(problems.empty());
  CHECK(schema["properties"]["parameters"]["properties"]["learning"]["properties"]["learn_rate"]["maximum"] == 1.0);
}

// Regenerate the file with `plsim schema --out scenarios/scenario.schema.json` when the spec changes.
TEST_CASE("the shipped schema file is the one the specification exports", "[scenario]") {
  std::ifstream in(std::string(PLSIM_SCENARIO_DIR) + "/scenario.schema.json");
  REQUIRE(in);
  const json shipped = json::parse(in);
  CHECK(shipped == scenario_schema());
}

TEST_CASE("every shipped scenario (subfolders too) validates without errors and builds a model", "[scenario]") {
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(PLSIM_SCENARIO_DIR)) {
    const auto path = entry.path();
    if (path.extension() != ".json" || path.filename() == "scenario.schema.json") continue;
    const json doc = read_scenario_file(path.string());
    const auto errors = check_scenario(doc, path.filename().string());
    INFO(path.filename().string() << "\n" << joined(errors));
    CHECK(errors.empty());
    CHECK_NOTHROW(build_model(doc, path.filename().string()));
    ++checked;
  }
  CHECK(checked >= 11);  // 7 in scenarios/, 4 in scenarios/grants/
}

TEST_CASE("reading a scenario file names the file when it is missing or not JSON", "[scenario]") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string missing = (dir / "plsim_test_no_such_scenario.json").string();
  std::filesystem::remove(missing);
  try {
    read_scenario_file(missing);
    FAIL("a missing file was read");
  } catch (const ScenarioError& e) {
    CHECK(e.errors() == std::vector<std::string>{missing + ": cannot open the file"});
  }
  const std::string broken = (dir / "plsim_test_broken_scenario.json").string();
  std::ofstream(broken) << "{\"name\": ";
  try {
    read_scenario_file(broken);
    FAIL("invalid JSON was parsed");
  } catch (const ScenarioError& e) {
    REQUIRE(e.errors().size() == 1);
    CHECK_THAT(e.errors()[0], StartsWith(broken + ": invalid JSON: "));
  }
  std::filesystem::remove(broken);
}
