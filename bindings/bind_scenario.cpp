// Scenario validation, defaults and schema, exchanged with Python as JSON text so that validation
// lives only in the C++ loader.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "plsim/measure/norms.hpp"
#include "plsim/model.hpp"
#include "plsim/results.hpp"
#include "plsim/scenario/parameters.hpp"
#include "plsim/scenario/scenario.hpp"

namespace py = pybind11;

namespace {
// JSON text from Python (always json.dumps output); a parse error is a ScenarioError naming `source`.
nlohmann::json parse(const std::string& text, const std::string& source) {
  return plsim::parse_scenario_text(text, source);
}
}  // namespace

void bind_scenario(py::module_& m) {
  static py::exception<plsim::ScenarioError> scenario_error(m, "ScenarioError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const plsim::ScenarioError& e) {
      py::object error = py::reinterpret_borrow<py::object>(scenario_error.ptr())(e.what());
      error.attr("errors") = py::cast(e.errors());
      PyErr_SetObject(scenario_error.ptr(), error.ptr());
    }
  });

  py::enum_<plsim::Counterfactual>(m, "Counterfactual", "Whether a run also runs its counterfactual twin.")
      .value("auto", plsim::Counterfactual::auto_)
      .value("always", plsim::Counterfactual::always)
      .value("never", plsim::Counterfactual::never);

  // The engine's name tables (plsim/types.hpp), so Python never keeps a copy of them.
  auto names = [](const auto& table) { return std::vector<std::string>(table.begin(), table.end()); };
  py::dict tables;
  tables["subjects"] = names(plsim::subject_names);
  tables["seasons"] = names(plsim::season_names);
  tables["levels"] = names(plsim::level_names);
  tables["school_types"] = names(plsim::school_type_names);
  tables["modes"] = names(plsim::mode_names);
  tables["elements"] = names(plsim::element_names);
  tables["progressions"] = names(plsim::progression_names);
  tables["subgroups"] = names(plsim::subgroup_names);
  tables["cost_categories"] = names(plsim::cost_category_names);
  tables["target_kinds"] = names(plsim::target_kind_names);
  m.attr("names") = tables;

  m.def(
      "parameters",
      [] {
        py::list rows;
        for (const plsim::ParameterRow& r : plsim::parameter_table()) {
          py::dict d;
          d["path"] = r.path;
          d["type"] = r.type;
          d["default"] = r.default_value.dump();
          d["min"] = r.minimum > -1e299 ? py::cast(r.minimum) : py::none();
          d["max"] = r.maximum < 1e299 ? py::cast(r.maximum) : py::none();
          d["exclusive_min"] = r.exclusive_minimum;
          d["unit"] = r.unit;
          d["doc"] = r.doc;
          d["source"] = r.source;
          rows.append(d);
        }
        return rows;
      },
      "Every model parameter (defaults as JSON text), from the modules' declarations.");
  m.def(
      "builtin_instructional_models_json", [] { return std::string(plsim::builtin_instructional_models_json()); },
      "The built-in instructional models (engine/data/instructional_models.json, compiled in).");
  m.def(
      "parameter_reference", [] { return plsim::parameter_reference_markdown(); },
      "docs/parameters.md: the parameter table as Markdown.");
  m.def(
      "instructional_model_defaults", [] { return plsim::instructional_model_defaults().dump(); },
      "Every field of an instructional model at its default, as JSON text.");
  py::class_<plsim::LoadedScenario, std::shared_ptr<plsim::LoadedScenario>>(
      m, "Scenario", "A scenario read, validated and filled once, with the Model built from it.")
      .def_static(
          "from_file",
          [](const std::string& path, const std::string& changes, const std::string& extra_models) {
            return std::make_shared<plsim::LoadedScenario>(plsim::load_scenario_file(
                path, parse(changes, "changes"), parse(extra_models, "policies")));
          },
          py::arg("path"), py::arg("changes") = "{}", py::arg("extra_models") = "{}",
          "Reads, validates and fills a scenario file; `changes` (JSON text) replace top-level keys and "
          "`extra_models` join its instructional models.")
      .def_static(
          "from_json",
          [](const std::string& text, const std::string& source, const std::string& changes,
             const std::string& extra_models) {
            return std::make_shared<plsim::LoadedScenario>(plsim::load_scenario(
                parse(text, source), source, parse(changes, "changes"), parse(extra_models, "policies")));
          },
          py::arg("document"), py::arg("source"), py::arg("changes") = "{}", py::arg("extra_models") = "{}",
          "The same for a scenario given as JSON text.")
      .def_property_readonly("document_json", [](const plsim::LoadedScenario& s) { return s.document.dump(); })
      .def_property_readonly("resolved_json", [](const plsim::LoadedScenario& s) { return s.resolved.dump(); })
      .def_readonly("source", &plsim::LoadedScenario::source);

  m.def(
      "check_scenario",
      [](const std::string& text, const std::string& source) {
        return plsim::check_scenario(parse(text, source), source);
      },
      py::arg("scenario_json"), py::arg("source"),
      "Every error of a scenario given as JSON text; an empty list when it is valid.");
  m.def(
      "check_scenario_file",
      [](const std::string& path) {
        try {
          return plsim::check_scenario(plsim::read_scenario_file(path), path);
        } catch (const plsim::ScenarioError& e) {
          return e.errors();
        }
      },
      py::arg("path"), "Every error of a scenario file (reading it included); an empty list when it is valid.");
  m.def(
      "norms_json", [] { return std::string(plsim::embedded_norms_json()); },
      "The national norms table compiled into the engine, as JSON text.");
  m.def(
      "scenario_schema", [] { return plsim::scenario_schema().dump(2); },
      "JSON Schema of scenario files, generated from the loader's specification.");
}
