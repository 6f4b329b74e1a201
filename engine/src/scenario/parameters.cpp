// Parameters and instructional models as the modules declare them (PLSIM_PARAMETER_GROUPS,
// PLSIM_INSTRUCTIONAL_MODEL_FIELDS): their specification, their conversion from resolved scenario
// JSON, the parameter table, its Markdown reference and the calibrated defaults.
#include "plsim/scenario/parameters.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "fields.hpp"
#include "loader.hpp"

namespace plsim {

const char* calibrated_values_json();  // generated from engine/data/calibrated.json

GradeTable calibrated_grade_table(const char* parameter_path) {
  static const nlohmann::json values = nlohmann::json::parse(calibrated_values_json());
  if (!values.contains(parameter_path))
    throw std::logic_error(std::string("engine/data/calibrated.json has no value for ") + parameter_path);
  GradeTable out{};
  fields::decode(values.at(parameter_path), out);
  return out;
}

namespace {

using namespace fields;

template <class S>
const std::vector<Field<S>>& fields_of();

#define PLSIM_DEFINE_GROUP_FIELDS(Struct, key, LIST, doc)    \
  template <>                                                \
  const std::vector<Field<Struct>>& fields_of<Struct>() {    \
    static const auto fields = PLSIM_FIELDS_OF(Struct, LIST); \
    return fields;                                           \
  }
PLSIM_PARAMETER_GROUPS(PLSIM_DEFINE_GROUP_FIELDS)
PLSIM_DEFINE_GROUP_FIELDS(InstructionalModel, instructional_model, PLSIM_INSTRUCTIONAL_MODEL_FIELDS, "")
#undef PLSIM_DEFINE_GROUP_FIELDS

struct Group {
  const char* key;
  const char* doc;
};
#define PLSIM_GROUP_ENTRY(Struct, key, LIST, doc) Group{#key, doc},
const Group groups[] = {PLSIM_PARAMETER_GROUPS(PLSIM_GROUP_ENTRY)};
#undef PLSIM_GROUP_ENTRY

std::string format_number(double x) {
  std::ostringstream out;
  out.precision(6);
  out << x;
  return out.str();
}

std::string format_range(const ParameterRow& r) {
  const bool has_lo = r.minimum > -1e299, has_hi = r.maximum < 1e299;
  if (has_lo && has_hi) return format_number(r.minimum) + " to " + format_number(r.maximum);
  if (has_lo) return (r.exclusive_minimum ? "> " : ">= ") + format_number(r.minimum);
  return "any";
}

// Markdown table cells cannot hold a bare "|".
std::string cell(std::string text) {
  for (std::size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at + 2)) text.replace(at, 1, "\\|");
  return text;
}

}  // namespace

namespace loader {

Spec parameters_spec() {
  SpecProperties props;
#define PLSIM_GROUP_SPEC(Struct, key, LIST, doc) props.push_back({#key, object_spec(fields_of<Struct>(), doc)});
  PLSIM_PARAMETER_GROUPS(PLSIM_GROUP_SPEC)
#undef PLSIM_GROUP_SPEC
  return Spec::object("model parameters; every key is optional (plsim params lists them)", std::move(props));
}

Parameters parameters_from(const json& resolved) {
  Parameters out;
#define PLSIM_GROUP_READ(Struct, key, LIST, doc) read_object(fields_of<Struct>(), resolved.at(#key), out.key);
  PLSIM_PARAMETER_GROUPS(PLSIM_GROUP_READ)
#undef PLSIM_GROUP_READ
  return out;
}

Spec instructional_model_spec() {
  Spec spec = object_spec(fields_of<InstructionalModel>(),
                          "An instructional model: weekly minutes per subject in each mode and a progression rule");
  for (auto& [name, field] : spec.properties)
    if (name == "minutes") field.required = true;
  return spec;
}

InstructionalModel instructional_model_from(const std::string& name, const json& resolved) {
  InstructionalModel out;
  out.name = name;
  read_object(fields_of<InstructionalModel>(), resolved, out);
  return out;
}

}  // namespace loader

const std::vector<ParameterRow>& parameter_table() {
  static const std::vector<ParameterRow> rows = [] {
    std::vector<ParameterRow> out;
    const Parameters defaults;
#define PLSIM_GROUP_ROWS(Struct, key, LIST, doc) \
  for (const auto& f : fields_of<Struct>()) f.rows(defaults.key, #key ".", out);
    PLSIM_PARAMETER_GROUPS(PLSIM_GROUP_ROWS)
#undef PLSIM_GROUP_ROWS
    return out;
  }();
  return rows;
}

std::string parameter_reference_markdown() {
  std::string md =
      "# Model parameters\n\n"
      "Generated from the parameter declarations of the engine's modules (`plsim params --markdown`); a test\n"
      "keeps this file current. Each parameter is a scenario key under `parameters/` (the path\n"
      "`learning.learn_rate` is `parameters/learning/learn_rate`), and `plsim.parameters()` returns the same\n"
      "table as a DataFrame. Equations and reasons: [model.md](model.md).\n";
  for (const Group& g : groups) {
    md += std::string("\n## ") + g.key + ": " + g.doc + "\n\n";
    md += "| path | default | range | unit | doc | source |\n| --- | --- | --- | --- | --- | --- |\n";
    const std::string prefix = std::string(g.key) + ".";
    for (const ParameterRow& r : parameter_table()) {
      if (r.path.compare(0, prefix.size(), prefix) != 0) continue;
      md += "| `" + r.path + "` | " + cell(r.default_value.dump()) + " | " + format_range(r) + " | " + cell(r.unit) +
            " | " + cell(r.doc) + " | " + cell(r.source) + " |\n";
    }
  }
  return md;
}

nlohmann::json instructional_model_defaults() { return write_object(fields_of<InstructionalModel>(), InstructionalModel{}); }

}  // namespace plsim
