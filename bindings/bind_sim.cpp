// plsim._core.Sim: a run with the GIL released while C++ works, Ctrl-C checked between weeks, and
// zero-copy read-only numpy views of the agent columns whose base keeps the run alive.
#include <algorithm>
#include <limits>
#include <optional>
#include <type_traits>

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "plsim/modules/population.hpp"
#include "plsim/modules/teachers.hpp"
#include "plsim/rng.hpp"
#include "plsim/scenario/scenario.hpp"
#include "plsim/simulation.hpp"

namespace py = pybind11;
using plsim::n_subjects;
using plsim::subject_names;

namespace {

struct PySim {
  std::unique_ptr<plsim::Simulation> sim;
};

template <class T>
py::array view(const std::vector<T>& column, py::handle owner) {
  py::array out(py::dtype::of<T>(), {static_cast<py::ssize_t>(column.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                column.data(), owner);
  py::detail::array_proxy(out.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return out;
}

template <class T>
py::array writable_view(std::vector<T>& column, py::handle owner) {
  return py::array(py::dtype::of<T>(), {static_cast<py::ssize_t>(column.size())},
                   {static_cast<py::ssize_t>(sizeof(T))}, column.data(), owner);
}

// Read-only views of every named column of `columns` (students or teachers), by name.
template <class Columns>
py::dict views_of(Columns& columns, py::handle owner) {
  py::dict d;
  columns.for_each_named_column([&](const std::string& name, const auto& column) { d[name.c_str()] = view(column, owner); });
  return d;
}

// The writable view of the column of `columns` called `name` (the caller checked that it may be written).
template <class Columns>
py::array writable_named(Columns& columns, const std::string& name, py::handle owner) {
  py::array out;
  columns.for_each_named_column([&](const std::string& n, auto& column) {
    if (n == name) out = writable_view(column, owner);
  });
  return out;
}

// FNV-1a: the stream number of a named Python hook stream, in the upper half of the stream space so it
// never meets the engine's own streams.
std::uint32_t hook_stream(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h | 0x80000000u;
}

// A numpy column of one field of result rows.
template <class T, class Row, class Field>
py::array_t<T> column_of(const std::vector<Row>& rows, Field field) {
  py::array_t<T> out(static_cast<py::ssize_t>(rows.size()));
  auto o = out.template mutable_unchecked<1>();
  for (std::size_t i = 0; i < rows.size(); ++i) o(static_cast<py::ssize_t>(i)) = static_cast<T>(field(rows[i]));
  return out;
}

template <class T>
py::array copy_of(const std::vector<T>& column) {
  return py::array_t<T>(static_cast<py::ssize_t>(column.size()), column.data());
}

// Writable (rows, n_modes) view of a buffer of minutes per row and mode, kept alive by `owner`.
py::array minutes_view(std::vector<double>& v, const py::object& owner) {
  const auto rows = static_cast<py::ssize_t>(v.size() / plsim::n_modes);
  return py::array(py::dtype::of<double>(), {rows, static_cast<py::ssize_t>(plsim::n_modes)},
                   {static_cast<py::ssize_t>(plsim::n_modes * sizeof(double)), static_cast<py::ssize_t>(sizeof(double))},
                   v.data(), owner);
}

// Builds a run (population set-up) with the GIL released; a pending Ctrl-C cancels the set-up and is
// raised here as KeyboardInterrupt.
template <class Build>
PySim build_interruptibly(Build build) {
  std::optional<py::error_already_set> error;
  std::function<bool()> keep_going = [&] {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() == 0) return true;
    error = py::error_already_set();
    return false;
  };
  try {
    py::gil_scoped_release release;
    return PySim{build(keep_going)};
  } catch (const plsim::SetupCancelled&) {
    if (error) throw std::move(*error);
    throw;
  }
}

// Runs with the GIL released; between weeks takes the GIL to deliver Ctrl-C and progress. Stops once
// `until_year` years are complete (negative: at the end).
void run(PySim& self, const py::object& progress, bool one_week, int until_year = -1) {
  std::optional<py::error_already_set> error;
  auto between_weeks = [&](const plsim::Progress& p) {
    py::gil_scoped_acquire acquire;
    try {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (!progress.is_none()) progress(p.weeks_done, p.weeks_total);
    } catch (py::error_already_set& e) {
      error = std::move(e);
      return false;
    }
    return !one_week && (until_year < 0 || self.sim->results().years_completed < until_year);
  };
  if (until_year >= 0 && self.sim->results().years_completed >= until_year) return;
  {
    py::gil_scoped_release release;
    self.sim->run(between_weeks);
  }
  if (error) throw std::move(*error);
}


// numpy's type for a field of a result row: an enumeration as its code.
template <class T, bool = std::is_enum_v<T>>
struct numpy_of {
  using type = T;
};
template <class T>
struct numpy_of<T, true> {
  using type = std::underlying_type_t<T>;
};

// One numpy column per field of a result table's rows, in the order of the row's field list
// (Row::for_each_field): every table leaves the engine through this one function.
template <class Row>
py::dict columns_of(const std::vector<Row>& rows) {
  py::dict d;
  Row::for_each_field([&](const char* name, auto member) {
    using Field = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<const Row&>().*member)>>;
    using Out = typename numpy_of<Field>::type;
    d[name] = column_of<Out>(rows, [member](const Row& r) { return static_cast<Out>(r.*member); });
  });
  return d;
}

using SimClass = py::class_<PySim>;

void bind_module_functions(py::module_& m) {
  py::list writable;
  for (const auto& c : plsim::hook_writable_columns) writable.append(py::make_tuple(c.name, c.lo, c.hi));
  m.attr("hook_writable_columns") = writable;

  m.def(
      "schedule",
      [] {
        py::list out;
        for (const plsim::Stage& stage : plsim::schedule()) {
          py::dict d;
          d["stage"] = stage.name;
          d["phase"] = plsim::phase_names[static_cast<int>(stage.phase)];
          d["kind"] = stage.is_hook() ? "python hook" : "engine";
          d["reads"] = stage.reads;
          d["writes"] = stage.writes;
          d["doc"] = stage.doc;
          out.append(d);
        }
        return out;
      },
      "The stages of a year and of a week, in the order they run.");

  static py::exception<plsim::RunStateError> checkpoint_error(m, "CheckpointError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const plsim::RunStateError& e) {
      PyErr_SetString(checkpoint_error.ptr(), e.what());
    }
  });

  py::list tables;
  plsim::Results{}.for_each_table([&](const char* name, const auto&) { tables.append(name); });
  m.attr("result_tables") = tables;
}

// Building, running and saving a run.
void bind_running(SimClass& cls) {
  cls
      .def(py::init([](const plsim::LoadedScenario& scenario, int threads) {
             if (threads < 0) throw py::value_error("threads: must be 0 (all cores) or positive (got " + std::to_string(threads) + ")");
             return build_interruptibly([&](const std::function<bool()>& keep_going) {
               return std::make_unique<plsim::Simulation>(scenario.model, threads, keep_going);
             });
           }),
           py::arg("scenario"), py::arg("threads") = 0,
           "Builds the population (Ctrl-C stops the set-up: KeyboardInterrupt).")
      .def("run", [](PySim& self, const py::object& progress, int until_year) { run(self, progress, false, until_year); },
           py::arg("progress") = py::none(), py::arg("until_year") = -1,
           "Runs to the end, or until `until_year` years are complete; progress(weeks_done, weeks_total) is "
           "called between weeks.")
      .def("save_state",
           [](const PySim& self) {
             std::string bytes;
             {
               py::gil_scoped_release release;
               bytes = plsim::save_run_state(*self.sim);
             }
             return py::bytes(bytes);
           },
           "The run's whole mutable state (agents, results so far, the stage it stands at) as bytes.")
      .def("restore_state",
           [](PySim& self, const py::bytes& data) {
             const std::string_view bytes = data;
             py::gil_scoped_release release;
             plsim::restore_run_state(*self.sim, bytes);
           },
           py::arg("data"),
           "Continues a saved run: its state from save_state() of a run of the same model. Only for a Sim "
           "just built (views of its columns taken before would go stale).")
      .def("step", [](PySim& self) { run(self, py::none(), true); return !self.sim->finished(); },
           "Runs one week; returns False when the run is finished.")
      .def("run_to_hook",
           [](PySim& self) {
             py::gil_scoped_release release;
             return self.sim->run_to_hook();
           },
           "Runs engine stages up to the next due hook stage (its index is returned; it is not run) or to "
           "the end of the week (-1).")
      .def("complete_hook", [](PySim& self) { self.sim->complete_hook(); },
           "Moves the run past the hook stage it stands at, once its Python hooks have run.")
      .def_property_readonly("stage_times",
                             [](const PySim& self) {
                               py::list out;
                               for (const auto& t : self.sim->stage_times())
                                 out.append(py::make_tuple(t.calls, t.cpu_seconds, t.wall_seconds));
                               return out;
                             })
      .def("counterfactual",
           [](const PySim& self) {
             return build_interruptibly(
                 [&](const std::function<bool()>& keep_going) { return self.sim->counterfactual(keep_going); });
           },
           "A new run of the same scenario and seed with every school on the traditional model, following "
           "this run's rollout (the same plan, no school converted). Create it before running this one.")
      .def_property_readonly("has_personalization",
                             [](const PySim& self) { return plsim::has_personalization(self.sim->model()); })
      .def_property_readonly("counterfactual_mode", [](const PySim& self) { return self.sim->model().counterfactual; },
                             "The scenario's counterfactual setting (a plsim._core.Counterfactual).")
      .def_property_readonly("weeks_per_year", [](const PySim& self) { return self.sim->model().weeks_per_year; });
}

// What Python hooks read and write while a run stands at a hook stage.
void bind_hook_access(SimClass& cls) {
  cls
      .def_property_readonly(
          "python_policy_minutes",
          [](py::object owner) { return minutes_view(owner.cast<PySim&>().sim->state().python_policy_minutes, owner); },
          "Writable (n_students, n_modes) minutes of schools on Python policies, read by this week's learning.")
      .def_property_readonly(
          "python_policy_rows",
          [](py::object owner) { return minutes_view(owner.cast<PySim&>().sim->state().python_policy_rows, owner); },
          "Writable (n_models, n_modes): the one row of minutes all students of a Python-policy model have this "
          "week (as in python_policy_minutes), or NaN first where their rows may differ; learning then reads "
          "python_policy_minutes.")
      .def(
          "uniforms",
          [](const PySim& self, const std::string& stream) {
            const auto& st = self.sim->state().students;
            const plsim::Rng rng(self.sim->model().seed);
            const std::uint32_t id = hook_stream(stream);
            const auto tick = static_cast<std::uint32_t>(self.sim->state().year * 64 + self.sim->state().week);
            py::array_t<double> out(static_cast<py::ssize_t>(st.size()));
            auto o = out.mutable_unchecked<1>();
            for (std::size_t i = 0; i < st.size(); ++i)
              o(i) = plsim::uniform01(rng.words(static_cast<plsim::Stream>(id), st.id[i], tick)[0]);
            return out;
          },
          py::arg("stream"),
          "One uniform (0, 1) per student from the engine's counter-based generator, keyed by the stream name, "
          "the student and the week: deterministic, and shared by both arms of a comparison.")
      .def(
          "writable",
          [](py::object owner, const std::string& column) -> py::array {
            std::string names;
            for (const auto& c : plsim::hook_writable_columns) names += (names.empty() ? "" : ", ") + std::string(c.name);
            const bool allowed = std::any_of(std::begin(plsim::hook_writable_columns), std::end(plsim::hook_writable_columns),
                                             [&](const plsim::WritableColumn& c) { return column == c.name; });
            if (!allowed) throw py::value_error("column: writable columns are " + names + " (got '" + column + "')");
            auto& state = owner.cast<PySim&>().sim->state();
            const std::string teacher_prefix = "teachers.", school_prefix = "schools.";
            if (column.compare(0, teacher_prefix.size(), teacher_prefix) == 0)
              return writable_named(state.teachers, column.substr(teacher_prefix.size()), owner);
            if (column.compare(0, school_prefix.size(), school_prefix) == 0)
              return writable_named(state.schools, column.substr(school_prefix.size()), owner);
            return writable_named(state.students, column, owner);
          },
          py::arg("column"), "A writable zero-copy view of a student column, for Python processes.")
      .def_property_readonly(
          "teachers",
          [](py::object owner) { return views_of(owner.cast<PySim&>().sim->state().teachers, owner); },
          "Zero-copy read-only views of the teacher columns (valid until the next year transition hires).")
      .def_property_readonly(
          "school_columns",
          [](py::object owner) { return views_of(owner.cast<PySim&>().sim->state().schools, owner); },
          "Zero-copy read-only views of the school columns, for hooks (ctx.schools).")
      .def("refresh_school_conditions",
           [](PySim& self) { plsim::refresh_school_conditions(self.sim->model(), self.sim->state()); },
           "Capacity multipliers of every school from its leadership, data system and obstacles.")
      .def(
          "set_rollout_order",
          [](PySim& self, const std::vector<long long>& order) {
            auto& sc = self.sim->state().schools;
            std::vector<char> seen(sc.size(), 0);
            for (std::size_t j = 0; j < order.size(); ++j) {
              const long long k = order[j];
              if (k < 0 || k >= static_cast<long long>(sc.size()))
                throw py::value_error("RolloutPlan.order: item " + std::to_string(j) + ": a school index in 0.." +
                                      std::to_string(sc.size() - 1) + " (got " + std::to_string(k) + ")");
              if (seen[k]++)
                throw py::value_error("RolloutPlan.order: item " + std::to_string(j) + ": school " + std::to_string(k) +
                                      " is listed twice");
            }
            std::fill(sc.rollout_priority.begin(), sc.rollout_priority.end(), std::numeric_limits<double>::quiet_NaN());
            for (std::size_t j = 0; j < order.size(); ++j) sc.rollout_priority[order[j]] = static_cast<double>(j);
          },
          py::arg("order"), "Schools a Python rollout rule may convert this year, first first (others: none).")
      .def("refresh_teacher_traits",
           [](PySim& self) { plsim::refresh_teacher_traits(self.sim->model(), self.sim->state()); },
           "Effectiveness and capacity of every teacher from value added, base capacity and experience.");
}

// The run's counters, agents and schools.
void bind_state(SimClass& cls) {
  cls
      .def_property_readonly("finished", [](const PySim& self) { return self.sim->finished(); })
      .def_property_readonly("years_completed", [](const PySim& self) { return self.sim->results().years_completed; },
                             "School years completed (counts[\"years_completed\"] without building the counts: "
                             "the run loop asks every week)")
      .def_property_readonly("threads", [](const PySim& self) { return self.sim->threads(); })
      .def_property_readonly("threads_used", [](const PySim& self) { return self.sim->threads_used(); })
      .def_property_readonly("seed", [](const PySim& self) { return self.sim->model().seed; })
      .def_property_readonly("name", [](const PySim& self) { return self.sim->model().name; })
      .def_property_readonly("year", [](const PySim& self) { return self.sim->state().year; })
      .def_property_readonly("week", [](const PySim& self) { return self.sim->state().week; })
      .def_property_readonly("counts",
                             [](const PySim& self) {
                               const auto& s = self.sim->state();
                               const auto& r = self.sim->results();
                               py::dict d;
                               d["students"] = s.students.size();
                               // Teachers teaching now; those who left stay in the columns, inactive.
                               d["teachers"] = std::count(s.teachers.active.begin(), s.teachers.active.end(), 1);
                               d["classrooms"] = s.classrooms.size();
                               d["schools"] = s.schools.size();
                               d["districts"] = s.districts.size();
                               d["years_completed"] = r.years_completed;
                               d["weeks_simulated"] = r.weeks_simulated;
                               d["student_weeks"] = r.student_weeks;
                               d["seconds"] = r.seconds;
                               d["cancelled"] = r.cancelled;
                               d["students_reached"] = s.students_reached;
                               return d;
                             })
      .def_property_readonly(
          "students",
          [](py::object owner) { return views_of(owner.cast<PySim&>().sim->state().students, owner); },
          "Zero-copy read-only views of the student columns (valid until the next year transition).")
      .def("true_rit",
           [](const PySim& self, const std::string& subject) {
             const int s = plsim::index_of(subject_names, subject);
             if (s < 0) throw py::value_error("subject: must be math or reading (got '" + subject + "')");
             const auto& st = self.sim->state().students;
             py::array_t<double> out(static_cast<py::ssize_t>(st.size()));
             auto o = out.mutable_unchecked<1>();
             for (std::size_t i = 0; i < st.size(); ++i)
               o(i) = self.sim->model().scale.rit(static_cast<plsim::Subject>(s), plsim::mastered_position(st, s, i));
             return out;
           },
           py::arg("subject"), "Each student's scale score of true knowledge (no test error).")
      .def_property_readonly("schools",
                             [](const PySim& self) {
                               const auto& sc = self.sim->state().schools;
                               const auto& model = self.sim->model();
                               py::dict d;
                               d["district"] = copy_of(sc.district);
                               d["level"] = copy_of(sc.level);
                               d["type"] = copy_of(sc.type);
                               d["grade_lo"] = copy_of(sc.grade_lo);
                               d["grade_hi"] = copy_of(sc.grade_hi);
                               d["model"] = copy_of(sc.instructional_model);
                               d["frl_share"] = copy_of(sc.frl_share);
                               d["achievement_shift"] = copy_of(sc.achievement_shift);
                               d["growth_multiplier"] = copy_of(sc.growth_multiplier);
                               d["implementation_year"] = copy_of(sc.implementation_year);
                               d["pl_stage"] = copy_of(sc.pl_stage);
                               d["leadership"] = copy_of(sc.leadership);
                               d["data_quality"] = copy_of(sc.data_quality);
                               d["converted_year"] = copy_of(sc.converted_year);
                               for (int e = 0; e < plsim::n_elements; ++e)
                                 d[(std::string("fidelity_") + plsim::element_names[e]).c_str()] = copy_of(sc.fidelity[e]);
                               std::vector<std::uint32_t> n(sc.size()), classes(sc.size());
                               for (std::size_t k = 0; k < sc.size(); ++k) {
                                 n[k] = sc.end[k] - sc.begin[k];
                                 classes[k] = sc.class_end[k] - sc.class_begin[k];
                               }
                               d["students"] = copy_of(n);
                               d["classrooms"] = copy_of(classes);
                               std::vector<std::string> models;
                               for (const auto& im : model.instructional_models) models.push_back(im.name);
                               d["model_names"] = models;
                               d["district_names"] = self.sim->state().districts.name;
                               return d;
                             });
}

// The result tables, every one through columns_of.
void bind_results(SimClass& cls) {
  cls.def(
         "table",
         [](const PySim& self, const std::string& name) {
           py::object out = py::none();
           self.sim->results().for_each_table([&](const char* table, const auto& rows) {
             if (name == table) out = columns_of(rows);
           });
           if (out.is_none()) {
             std::string names;
             self.sim->results().for_each_table(
                 [&](const char* table, const auto&) { names += (names.empty() ? "" : ", ") + std::string(table); });
             throw py::value_error("name: expected one of " + names + " (got '" + name + "')");
           }
           return out;
         },
         py::arg("name"), "The rows of a result table (plsim._core.result_tables) as numpy columns, by field.")
      .def_property_readonly(
          "cost_names",
          [](const PySim& self) {
            py::dict d;
            d["payer_names"] = plsim::payer_names(self.sim->model());
            d["category_names"] = std::vector<std::string>(plsim::cost_category_names.begin(), plsim::cost_category_names.end());
            d["one_off"] = std::vector<bool>(plsim::cost_is_one_off.begin(), plsim::cost_is_one_off.end());
            return d;
          },
          "What the codes of the costs table name: payers, categories and whether each category is one-off.")
      .def_property(
          "responses_share", [](const PySim& self) { return self.sim->state().responses_share; },
          [](PySim& self, double share) {
            if (!(share >= 0 && share <= 1))
              throw py::value_error("responses: expected a share of students from 0 to 1 (got " + std::to_string(share) + ")");
            self.sim->state().responses_share = share;
          },
          "Share of students whose software practice is logged (results: responses).");
}

}  // namespace

void bind_sim(py::module_& m) {
  bind_module_functions(m);
  SimClass cls(m, "Sim");
  bind_running(cls);
  bind_hook_access(cls);
  bind_state(cls);
  bind_results(cls);
}
