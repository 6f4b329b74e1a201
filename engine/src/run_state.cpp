#include "plsim/run_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "plsim/modules/costs.hpp"
#include "plsim/results.hpp"
#include "plsim/schedule.hpp"
#include "plsim/simulation.hpp"

namespace plsim {

namespace {

constexpr char magic[8] = {'P', 'L', 'S', 'I', 'M', 'R', 'U', 'N'};

class Writer {
 public:
  template <class T>
  void pod(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void text(std::string_view s) {
    pod<std::uint64_t>(s.size());
    out_.append(s);
  }
  template <class T>
  void column(const std::string& name, const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    text(name);
    pod<std::uint64_t>(values.size());
    if (!values.empty()) out_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Bytes read from a file, for a message: printable ASCII as is, anything else as \xNN, at most 40 bytes
// (a message is one line of UTF-8 whatever the file holds).
std::string quoted(std::string_view bytes) {
  static const char* const hex = "0123456789abcdef";
  std::string out = "'";
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 40); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') out += static_cast<char>(c);
    else out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
  }
  return out + (bytes.size() > 40 ? "'..." : "'");
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  T pod(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    std::memcpy(&value, take(sizeof(T), what), sizeof(T));
    return value;
  }
  std::string text(const char* what) {
    const auto n = pod<std::uint64_t>(what);
    return std::string(take(n, what), n);
  }
  // Reads a column saved under `name` (a different name means the bytes are of another layout).
  template <class T>
  void column(const std::string& name, std::vector<T>& values) {
    const std::string found = text("a column name");
    if (found != name) throw RunStateError("run state: expected column " + name + ", found " + quoted(found));
    const auto n = pod<std::uint64_t>(name.c_str());
    if (n > in_.size() / sizeof(T)) fail(name.c_str());
    const char* data = take(n * sizeof(T), name.c_str());
    values.resize(n);
    if (n) std::memcpy(values.data(), data, n * sizeof(T));  // an empty vector's data() may be null
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  const char* take(std::size_t n, const char* what) {
    if (n > in_.size() - pos_) fail(what);
    const char* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  [[noreturn]] void fail(const char* what) const {
    throw RunStateError(std::string("run state: truncated while reading ") + what + " (at byte " +
                        std::to_string(pos_) + " of " + std::to_string(in_.size()) + ")");
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

// What a restored run must share with the saved one: everything that sizes or keys its state.
struct Fingerprint {
  std::uint64_t seed;
  std::int32_t years, weeks_per_year;
  std::uint8_t arm;
  std::uint64_t schools, districts, instructional_models;
  bool operator==(const Fingerprint&) const = default;
};

Fingerprint fingerprint_of(const Simulation& sim) {
  const Model& m = sim.model();
  return {m.seed, m.years, m.weeks_per_year, static_cast<std::uint8_t>(m.arm), sim.state().schools.size(),
          sim.state().districts.size(), m.instructional_models.size()};
}

// The columns and counters of State, in one order for both directions (Io is Writer or Reader).
template <class Io, class S>
void state_columns(Io& io, S& state) {
  auto each = [&](const std::string& prefix) {
    return [&io, prefix](const std::string& name, auto& column) { io.column(prefix + name, column); };
  };
  auto& st = const_cast<State&>(state);  // the writer only reads
  st.students.for_each_named_column(each("students."));
  st.classrooms.for_each_named_column(each("classrooms."));
  st.teachers.for_each_named_column(each("teachers."));
  st.schools.for_each_stored_column(each("schools."));
  io.column("districts.id", st.districts.id);
  io.column("districts.achievement_shift", st.districts.achievement_shift);
  io.column("python_policy_minutes", st.python_policy_minutes);
  io.column("rollout", st.rollout);
  io.column("funding", st.funding);
}

template <class Io, class R>
void results_rows(Io& io, R& results) {
  const_cast<Results&>(results).for_each_table(
      [&io](const char* name, auto& rows) { io.column(std::string("results.") + name, rows); });
}

// Every value a restored run uses as an index, a count or an enumeration is within its range, so that
// an edited (or forged, since the checksum has no key) state is refused instead of read out of bounds.
[[noreturn]] void out_of_range(const std::string& what, std::size_t row, double value) {
  throw RunStateError("run state: " + what + " of row " + std::to_string(row) + " is out of range (" +
                      std::to_string(value) + ")");
}

template <class T, class U>
void check_below(const std::string& what, const std::vector<T>& column, U limit) {
  for (std::size_t i = 0; i < column.size(); ++i)
    if (!(static_cast<double>(column[i]) >= 0 && static_cast<double>(column[i]) < static_cast<double>(limit)))
      out_of_range(what, i, static_cast<double>(column[i]));
}

template <class Rows, class Get, class U>
void check_rows(const std::string& what, const Rows& rows, Get get, U limit) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double v = static_cast<double>(get(rows[i]));
    if (!(v >= 0 && v < static_cast<double>(limit))) out_of_range(what, i, v);
  }
}

void check_values(const Model& model, const State& state, const Results& results, std::size_t cursor) {
  const std::size_t n = state.students.size(), schools = state.schools.size();
  const std::size_t districts = state.districts.size(), models = model.instructional_models.size();
  const std::size_t classrooms = state.classrooms.size(), teachers = state.teachers.size();
  if (state.year < 0 || state.year > model.years) out_of_range("the year", 0, state.year);
  if (state.week < 0 || state.week > model.weeks_per_year) out_of_range("the week", 0, state.week);
  if (results.years_completed < 0 || results.years_completed > model.years)
    out_of_range("years_completed", 0, results.years_completed);
  if (!(state.responses_share >= 0 && state.responses_share <= 1)) out_of_range("responses_share", 0, state.responses_share);
  if (cursor > schedule().size()) out_of_range("the stage cursor", 0, double(cursor));
  check_below("students.grade", state.students.grade, n_grades);
  // 0: none yet, 1-5: a quintile, which indexes a subgroup (found by the run_state fuzzer: read out of bounds).
  for (int s = 0; s < n_subjects; ++s)
    check_below("students." + std::string(subject_names[s]) + "_start_quintile", state.students.start_quintile[s], 6);
  check_below("classrooms.grade", state.classrooms.grade, n_grades);
  check_below("classrooms.instructional_model", state.classrooms.instructional_model, models);
  check_below("teachers.school", state.teachers.school, schools);
  check_below("classrooms.teacher", state.classrooms.teacher, teachers);
  check_below("classrooms.school", state.classrooms.school, schools);
  check_below("students.school", state.students.school, schools);
  // Before the first assignment there are no classrooms and every student's classroom is 0.
  if (classrooms > 0) check_below("students.classroom", state.students.classroom, classrooms);
  for (std::size_t c = 0; c < classrooms; ++c)
    if (state.classrooms.begin[c] > state.classrooms.end[c] || state.classrooms.end[c] > n)
      out_of_range("classrooms.begin/end", c, state.classrooms.end[c]);
  const SchoolColumns& sc = state.schools;
  check_below("schools.district", sc.district, districts);
  check_below("schools.level", sc.level, n_levels);
  check_below("schools.type", sc.type, school_type_names.size());
  check_below("schools.pl_stage", sc.pl_stage, 3);
  check_below("schools.instructional_model", sc.instructional_model, models);
  check_below("schools.grade_lo", sc.grade_lo, n_grades);
  check_below("schools.grade_hi", sc.grade_hi, n_grades);
  for (std::size_t k = 0; k < schools; ++k) {
    if (sc.begin[k] > sc.end[k] || sc.end[k] > n) out_of_range("schools.begin/end", k, sc.end[k]);
    if (sc.class_begin[k] > sc.class_end[k] || sc.class_end[k] > classrooms)
      out_of_range("schools.class_begin/class_end", k, sc.class_end[k]);
    if (sc.grade_lo[k] > sc.grade_hi[k]) out_of_range("schools.grade_lo", k, sc.grade_lo[k]);
    if (sc.feeder_next[k] < -1 || sc.feeder_next[k] >= static_cast<std::int64_t>(schools))
      out_of_range("schools.feeder_next", k, sc.feeder_next[k]);
  }
  // Real-valued columns hold finite numbers (NaN only where it means "not yet": a student's first fall
  // score, a school outside a Python rollout rule): the weekly loop turns some into integers, where a
  // NaN or an infinity is undefined behaviour (found by tests/fuzz/run_state_fuzzer.cpp).
  auto finite = [](const std::string& prefix) {
    return [prefix](const std::string& name, const auto& column) {
      using T = typename std::decay_t<decltype(column)>::value_type;
      if constexpr (std::is_floating_point_v<T>) {
        const bool nan_allowed = name.ends_with("baseline_z") || name == "rollout_priority";
        for (std::size_t i = 0; i < column.size(); ++i)
          if (std::isinf(column[i]) || (std::isnan(column[i]) && !nan_allowed))
            out_of_range(prefix + name, i, static_cast<double>(column[i]));
      }
    };
  };
  auto& mutable_state = const_cast<State&>(state);  // only read
  mutable_state.students.for_each_named_column(finite("students."));
  mutable_state.classrooms.for_each_named_column(finite("classrooms."));
  mutable_state.teachers.for_each_named_column(finite("teachers."));
  mutable_state.schools.for_each_stored_column(finite("schools."));
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t c = 0; c < classrooms; ++c)
      if (!(state.classrooms.pacing_unit[s][c] >= 0 && state.classrooms.pacing_unit[s][c] <= 65535))
        out_of_range("classrooms.pacing_unit", c, state.classrooms.pacing_unit[s][c]);
  for (std::size_t y = 0; y < state.stage_log->size(); ++y) {
    const auto& stages = (*state.stage_log)[y];
    if (stages.size() != schools) out_of_range("the stage log's length", y, double(stages.size()));
    check_below("the stage log", stages, 3);
  }
  const auto year_limit = model.years + 1;
  check_rows("results.assessments.year", results.assessments, [](const auto& r) { return r.year; }, year_limit);
  check_rows("results.assessments.season", results.assessments, [](const auto& r) { return int(r.season); }, n_seasons);
  check_rows("results.assessments.subject", results.assessments, [](const auto& r) { return int(r.subject); }, n_subjects);
  check_rows("results.assessments.grade", results.assessments, [](const auto& r) { return r.grade; }, n_grades);
  check_rows("results.assessments.school", results.assessments, [](const auto& r) { return r.school; }, schools);
  check_rows("results.subgroups.year", results.subgroups, [](const auto& r) { return r.year; }, year_limit);
  check_rows("results.subgroups.season", results.subgroups, [](const auto& r) { return int(r.season); }, n_seasons);
  check_rows("results.subgroups.subject", results.subgroups, [](const auto& r) { return int(r.subject); }, n_subjects);
  check_rows("results.subgroups.grade", results.subgroups, [](const auto& r) { return r.grade; }, n_grades);
  check_rows("results.subgroups.subgroup", results.subgroups, [](const auto& r) { return int(r.subgroup); }, n_subgroups);
  check_rows("results.rollout.district", results.rollout, [](const auto& r) { return r.district; }, districts);
  check_rows("results.rollout.target_kind", results.rollout, [](const auto& r) { return r.target_kind; },
             target_kind_names.size());
  check_rows("results.costs.district", results.costs, [](const auto& r) { return r.district; }, districts);
  check_rows("results.costs.school", results.costs, [](const auto& r) { return r.school; }, schools);
  check_rows("results.costs.category", results.costs, [](const auto& r) { return r.category; }, n_cost_categories);
  check_rows("results.costs.payer", results.costs, [](const auto& r) { return r.payer; }, payer_names(model).size());
  check_rows("results.fidelity.school_type", results.fidelity, [](const auto& r) { return r.school_type; },
             school_type_names.size());
  check_rows("results.responses.subject", results.responses, [](const auto& r) { return r.subject; }, n_subjects);
  check_rows("results.study.subject", results.study, [](const auto& r) { return int(r.subject); }, n_subjects);
  check_rows("results.study.grade", results.study, [](const auto& r) { return r.grade; }, n_grades);
  check_rows("results.study.prior_band", results.study, [](const auto& r) { return r.prior_band; }, n_prior_bands);
  for (std::size_t i = 0; i < results.study.size(); ++i)
    if (results.study[i].school != study_pool && results.study[i].school >= schools)
      out_of_range("results.study.school", i, results.study[i].school);
}

}  // namespace

std::string save_run_state(const Simulation& sim) {
  Writer w;
  for (char c : magic) w.pod(c);
  w.pod(run_state_version);
  w.pod(fingerprint_of(sim));
  const State& state = sim.state_;
  state_columns(w, state);
  for (const std::string& name : state.districts.name) w.text(name);
  w.pod<std::uint64_t>(state.students_reached);
  w.pod<std::uint64_t>(state.stage_log->size());
  for (std::size_t y = 0; y < state.stage_log->size(); ++y) w.column("stage_log", (*state.stage_log)[y]);
  w.pod(state.responses_share);
  w.pod<std::int32_t>(state.year);
  w.pod<std::int32_t>(state.week);
  const Results& r = sim.results_;
  results_rows(w, r);
  w.pod<std::int32_t>(r.years_completed);
  w.pod(r.weeks_simulated);
  w.pod(r.student_weeks);
  w.pod(r.seconds);
  w.pod<std::uint8_t>(r.cancelled);
  w.column("stage_times", sim.stage_times_);
  w.pod<std::uint64_t>(sim.cursor_);
  w.pod<std::uint8_t>(sim.in_week_);
  w.pod<std::uint8_t>(sim.first_week_of_run_);
  return w.take();
}

void restore_run_state(Simulation& sim, std::string_view bytes) {
  Reader r(bytes);
  for (char c : magic)
    if (r.pod<char>("the header") != c) throw RunStateError("run state: not the state of a plsim run");
  const auto version = r.pod<std::uint32_t>("the format version");
  if (version != run_state_version)
    throw RunStateError("run state: format version " + std::to_string(version) + "; this plsim reads version " +
                        std::to_string(run_state_version));
  const auto saved = r.pod<Fingerprint>("the model's fingerprint");
  const Fingerprint here = fingerprint_of(sim);
  if (!(saved == here))
    throw RunStateError("run state: saved from another model (seed " + std::to_string(saved.seed) + ", " +
                        std::to_string(saved.years) + " years, " + std::to_string(saved.schools) +
                        " schools; this run: seed " + std::to_string(here.seed) + ", " + std::to_string(here.years) +
                        " years, " + std::to_string(here.schools) + " schools)");
  State& state = sim.state_;
  state_columns(r, state);
  for (std::string& name : state.districts.name) name = r.text("a district name");
  state.students_reached = r.pod<std::uint64_t>("students_reached");
  const auto years = r.pod<std::uint64_t>("the stage log");
  if (years > static_cast<std::uint64_t>(max_years)) throw RunStateError("run state: a stage log longer than a run");
  // In place: a counterfactual twin reads this log through its own pointer to it.
  state.stage_log->assign(years, {});
  for (auto& year : *state.stage_log) r.column("stage_log", year);
  state.responses_share = r.pod<double>("responses_share");
  state.year = r.pod<std::int32_t>("the year");
  state.week = r.pod<std::int32_t>("the week");
  Results& results = sim.results_;
  results_rows(r, results);
  results.years_completed = r.pod<std::int32_t>("years_completed");
  results.weeks_simulated = r.pod<std::uint64_t>("weeks_simulated");
  results.student_weeks = r.pod<std::uint64_t>("student_weeks");
  results.seconds = r.pod<double>("seconds");
  results.cancelled = r.pod<std::uint8_t>("cancelled") != 0;
  r.column("stage_times", sim.stage_times_);
  sim.cursor_ = r.pod<std::uint64_t>("the stage cursor");
  sim.in_week_ = r.pod<std::uint8_t>("in_week") != 0;
  sim.first_week_of_run_ = r.pod<std::uint8_t>("first_week_of_run") != 0;
  if (!r.at_end()) throw RunStateError("run state: bytes left over after the state");

  // Sizes that must agree, so that no index of a restored run reads past a column.
  const std::size_t n = state.students.size();
  state.students.for_each_named_column([&](const std::string& name, const auto& column) {
    if (column.size() != n) throw RunStateError("run state: students." + name + " has " + std::to_string(column.size()) +
                                                " rows, students.id " + std::to_string(n));
  });
  const std::size_t n_classrooms = state.classrooms.size();
  state.classrooms.for_each_named_column([&](const std::string& name, const auto& column) {
    if (column.size() != n_classrooms) throw RunStateError("run state: classrooms." + name + " has the wrong length");
  });
  state.teachers.for_each_named_column([&](const std::string& name, const auto& column) {
    if (column.size() != state.teachers.size()) throw RunStateError("run state: teachers." + name + " has the wrong length");
  });
  state.schools.for_each_stored_column([&](const std::string& name, const auto& column) {
    if (column.size() != here.schools) throw RunStateError("run state: schools." + name + " has the wrong length");
  });
  if (state.rollout.size() != here.districts || state.funding.size() != here.districts ||
      state.districts.id.size() != here.districts || state.districts.achievement_shift.size() != here.districts)
    throw RunStateError("run state: district columns of the wrong length");
  if (sim.stage_times_.size() != schedule().size() || sim.cursor_ > schedule().size())
    throw RunStateError("run state: saved with another schedule (" + std::to_string(sim.stage_times_.size()) +
                        " stages; this plsim has " + std::to_string(schedule().size()) + ")");
  const std::size_t policy_rows = state.python_policy_minutes.size();
  if (policy_rows != 0 && policy_rows != n * n_modes)
    throw RunStateError("run state: python_policy_minutes of the wrong length");
  for (std::size_t i = 0; i < n_classrooms; ++i)
    if (state.classrooms.begin[i] > state.classrooms.end[i] || state.classrooms.end[i] > n ||
        state.classrooms.school[i] >= here.schools || state.classrooms.teacher[i] >= state.teachers.size())
      throw RunStateError("run state: classroom " + std::to_string(i) + " points outside the state");
  for (std::size_t i = 0; i < n; ++i)
    if (state.students.school[i] >= here.schools || state.students.classroom[i] >= n_classrooms)
      throw RunStateError("run state: student " + std::to_string(i) + " points outside the state");
  check_values(sim.model(), state, results, sim.cursor_);
}

}  // namespace plsim
