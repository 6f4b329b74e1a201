// Declaring parameters once. A module lists its parameters in an X-macro, one line each: type, name,
// default, range, unit, one-line doc and source. PLSIM_DECLARE_MEMBERS turns the list into the
// members of the module's parameter struct; src/scenario/parameters.cpp turns the same list into the
// scenario specification (validation, defaults, JSON Schema), the JSON-to-Model conversion and the
// table behind `plsim params`, `plsim.parameters()` and docs/parameters.md.
#pragma once

#include <array>
#include <cstddef>

#include "plsim/types.hpp"

namespace plsim {

// The values a parameter (or each element of an array parameter) may take.
struct Range {
  double lo = -1e300, hi = 1e300;
  bool exclusive_lo = false;  // lo itself is not allowed
};
constexpr Range between(double lo, double hi) { return {lo, hi, false}; }
constexpr Range above(double lo) { return {lo, 1e300, true}; }
constexpr Range any_value() { return {}; }

// One value per name of a table of names (subjects, modes, seasons, elements), written in scenarios
// as an object keyed by those names and read in C++ as an array indexed by the enumeration.
template <class T, const auto& Names>
struct Keyed : std::array<T, std::tuple_size_v<std::remove_cvref_t<decltype(Names)>>> {
  static constexpr const auto& names = Names;
};
template <class T>
using BySubject = Keyed<T, subject_names>;
template <class T>
using ByMode = Keyed<T, mode_names>;
template <class T>
using BySeason = Keyed<T, season_names>;
template <class T>
using ByElement = Keyed<T, element_names>;

using GradeRow = std::array<double, n_grades>;  // one value per grade, K-12
using GradeTable = BySubject<GradeRow>;         // [subject][grade]

// The calibrated default of a parameter (engine/data/calibrated.json, compiled in; written by
// `python -m plsim.calibrate ... --write`), by its path such as "learning.grade_pace".
GradeTable calibrated_grade_table(const char* parameter_path);

}  // namespace plsim

// Members of a parameter struct from its list: `type name = default;`. The default may be any
// expression; one with commas is written in parentheses.
#define PLSIM_DECLARE_MEMBER(type, name, default_value, range, unit, doc, source) type name = default_value;
#define PLSIM_DECLARE_MEMBERS(LIST) LIST(PLSIM_DECLARE_MEMBER)
