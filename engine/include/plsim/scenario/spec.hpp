// A declarative description of a JSON document (types, ranges, defaults, descriptions) that is the
// single source for scenario validation, default filling and the exported JSON Schema.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace plsim {

struct SpecProperty;
// An object's keys with their specs, in documentation order.
using SpecProperties = std::vector<SpecProperty>;

struct Spec {
  enum class Kind { object, map, array, number, integer, string, boolean };

  Kind kind = Kind::object;
  std::string description;
  nlohmann::json default_value;  // null when the key has no default
  bool required = false;

  // number / integer
  double minimum = -1e300, maximum = 1e300;
  bool exclusive_minimum = false;
  // string
  std::vector<std::string> choices;  // empty: any string
  // object: fixed keys, in documentation order
  SpecProperties properties;
  // array items and map values
  std::shared_ptr<Spec> element;
  std::size_t min_items = 0, max_items = static_cast<std::size_t>(-1);

  // Builders keep the scenario description short and readable.
  static Spec number(double lo, double hi, nlohmann::json def, std::string doc);
  static Spec integer(double lo, double hi, nlohmann::json def, std::string doc);
  static Spec text(nlohmann::json def, std::string doc, std::vector<std::string> choices = {});
  static Spec flag(bool def, std::string doc);
  static Spec object(std::string doc, SpecProperties props);
  static Spec map_of(Spec value, std::string doc);
  static Spec array_of(Spec item, std::size_t min_items, std::size_t max_items, std::string doc);
  Spec&& with_default(nlohmann::json def) &&;
  Spec&& as_required() &&;
};

// A named struct rather than std::pair: a pair of an incomplete Spec inside Spec is rejected by clang.
struct SpecProperty {
  std::string name;
  Spec spec;
};

// Every structural error in `doc`, each as "PATH: message (got VALUE)"; empty when valid.
std::vector<std::string> validate(const nlohmann::json& doc, const Spec& spec,
                                  const std::string& path = "");
// A copy of `doc` in which every number that fails its own check (type or range) is its default, or
// gone: checks across values may then read numbers as their types without an undefined cast.
nlohmann::json without_invalid_numbers(const nlohmann::json& doc, const Spec& spec);
// A copy of a valid `doc` with every missing key that has a default filled in.
nlohmann::json fill_defaults(const nlohmann::json& doc, const Spec& spec);
// `value` as JSON text for an error message: at most `max_bytes`, cut at a character boundary ("...").
std::string quoted_value(const nlohmann::json& value, std::size_t max_bytes = 60);
// Shared by the loader's messages: a number as its shortest exact text, the edit distance behind "did
// you mean", and a key escaped for a JSON pointer (~ and /).
std::string format_number(double x);
std::size_t edit_distance(const std::string& a, const std::string& b);
std::string escape_pointer(const std::string& key);
// JSON Schema (draft 2020-12) for the spec.
nlohmann::json to_json_schema(const Spec& spec);

}  // namespace plsim
