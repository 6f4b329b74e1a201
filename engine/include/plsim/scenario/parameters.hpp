// The table of every model parameter, one row per value a scenario can set: its path (as in
// `plsim.parameters()` and run-plan overrides, e.g. "learning.learn_rate"), default, range, unit,
// doc and source. Generated from the parameter declarations of the modules (plsim/fields.hpp).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace plsim {

struct ParameterRow {
  std::string path;  // group.name[.key], e.g. "learning.mode_efficiency.tutoring"
  std::string type;  // number, integer, boolean, string, "list of 3 numbers"
  nlohmann::json default_value;
  double minimum = -1e300, maximum = 1e300;  // of the value, or of each element of a list
  bool exclusive_minimum = false;
  std::string unit, doc, source;
};

const std::vector<ParameterRow>& parameter_table();
// docs/parameters.md: the table as Markdown, one section per group (kept current by a test).
std::string parameter_reference_markdown();
// Every field of an instructional model at its default (what a model that sets nothing gets).
nlohmann::json instructional_model_defaults();

}  // namespace plsim
