// The pieces the scenario loader is made of, shared by its files: the specification of parameters
// and instructional models (parameters.cpp, from the declarations), of the scenario's structure
// (structure.cpp), the checks across values (checks.cpp); scenario.cpp puts them together.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plsim/model.hpp"
#include "plsim/scenario/spec.hpp"

namespace plsim::loader {

using nlohmann::json;

// "parameters": every group and parameter, from the declarations.
Spec parameters_spec();
Parameters parameters_from(const json& resolved_parameters);
// One entry of "instructional_models".
Spec instructional_model_spec();
InstructionalModel instructional_model_from(const std::string& name, const json& resolved_model);

// The whole scenario document.
Spec scenario_structure_spec();
// The built-in instructional models with the scenario's own added or replacing them, by name.
json known_models(const json& scenario_models);
std::array<int, 2> default_grades(Level level);
int default_class_size(Level level);

// Checks that need more than one value at a time, on a document with its defaults filled in.
std::vector<std::string> check_meaning(const json& filled);

// "priors": prior distributions of parameters by path (priors.cpp), and their checks against the
// parameter table and the scenario's parameter values (called by check_meaning).
Spec priors_spec();
std::vector<std::string> check_priors(const json& filled);

}  // namespace plsim::loader
