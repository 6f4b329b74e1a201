// Scenario files: JSON validated completely against one specification before anything runs, then
// turned into an immutable Model. The same specification exports scenarios/scenario.schema.json.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plsim/model.hpp"
#include "plsim/scenario/spec.hpp"

namespace plsim {

// Every problem found in a scenario, each "SOURCE: /json/path: what was expected (got VALUE)".
class ScenarioError : public std::runtime_error {
 public:
  // Messages are made valid UTF-8 (they quote what they found).
  explicit ScenarioError(std::vector<std::string> errors);
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  ScenarioError(std::vector<std::string> errors, int);  // errors already readable
  std::vector<std::string> errors_;
};

const Spec& scenario_spec();
// The built-in instructional models (engine/data/instructional_models.json), as JSON text.
const char* builtin_instructional_models_json();
nlohmann::json scenario_schema();

// All errors of a scenario document (structure and meaning); empty when it is valid.
std::vector<std::string> check_scenario(const nlohmann::json& doc, const std::string& source);
// The document with every default filled in; throws ScenarioError when invalid.
nlohmann::json resolve_scenario(const nlohmann::json& doc, const std::string& source);
// Builds the model; throws ScenarioError listing every error when invalid.
Model build_model(const nlohmann::json& doc, const std::string& source);
// The model of a resolved scenario (from resolve_scenario), without validating again.
Model model_from_resolved(const nlohmann::json& resolved);

// A scenario read, validated and filled once: the document as written (with any changes applied),
// where it came from, its resolved form and the immutable Model built from it.
struct LoadedScenario {
  nlohmann::json document;
  std::string source;
  nlohmann::json resolved;
  std::shared_ptr<const Model> model;
};
// `changes` replace top-level keys of the document (e.g. {"seed": 7}); `extra_models` join its
// instructional_models (the models of Python policies). Throws ScenarioError listing every problem.
LoadedScenario load_scenario(nlohmann::json document, const std::string& source,
                             const nlohmann::json& changes = nlohmann::json::object(),
                             const nlohmann::json& extra_models = nlohmann::json::object());
LoadedScenario load_scenario_file(const std::string& path, const nlohmann::json& changes = nlohmann::json::object(),
                                  const nlohmann::json& extra_models = nlohmann::json::object());
// Reads and parses a scenario file; errors name the file.
nlohmann::json read_scenario_file(const std::string& path);
// Parses scenario JSON text after checking its size and nesting depth (before any recursion); every
// problem, invalid UTF-8 and numbers beyond the double range included, is a ScenarioError naming
// `source`.
nlohmann::json parse_scenario_text(const std::string& text, const std::string& source);

}  // namespace plsim
