// Scenario validation, defaults and schema, exchanged with Python as JSON text so that validation
// lives only in the C++ loader.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "plsim/measure/norms.hpp"
#include "plsim/model.hpp"
#include "plsim/scenario/parameters.hpp"
#include "plsim/scenario/scenario.hpp"

namespace py = pybind11;

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
      "parameter_reference", [] { return plsim::parameter_reference_markdown(); },
      "docs/parameters.md: the parameter table as Markdown.");
  m.def(
      "instructional_model_defaults", [] { return plsim::instructional_model_defaults().dump(); },
      "Every field of an instructional model at its default, as JSON text.");
  m.def(
      "check_scenario",
      [](const std::string& text, const std::string& source) {
        return plsim::check_scenario(nlohmann::json::parse(text), source);
      },
      py::arg("scenario_json"), py::arg("source"),
      "Every error of a scenario given as JSON text; an empty list when it is valid.");
  m.def(
      "resolve_scenario",
      [](const std::string& text, const std::string& source) {
        return plsim::resolve_scenario(nlohmann::json::parse(text), source).dump();
      },
      py::arg("scenario_json"), py::arg("source"),
      "The scenario with every default filled in, as JSON text; raises ScenarioError when invalid.");
  m.def(
      "read_scenario_file", [](const std::string& path) { return plsim::read_scenario_file(path).dump(); },
      py::arg("path"), "Reads a scenario file as JSON text; raises ScenarioError naming the file.");
  m.def(
      "norms_json", [] { return std::string(plsim::embedded_norms_json()); },
      "The national norms table compiled into the engine, as JSON text.");
  m.def(
      "scenario_schema", [] { return plsim::scenario_schema().dump(2); },
      "JSON Schema of scenario files, generated from the loader's specification.");
}
