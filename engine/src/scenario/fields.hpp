// From one declared field (a member pointer, a range, a unit, a doc and a source) to everything a
// scenario needs of it: its Spec (validation, default, JSON Schema), reading it from resolved JSON,
// writing it back, and its rows in the parameter table. Private to the scenario loader.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "plsim/fields.hpp"
#include "plsim/model.hpp"
#include "plsim/scenario/parameters.hpp"
#include "plsim/scenario/spec.hpp"

namespace plsim::fields {

using nlohmann::json;

// Enumerations written in scenarios by name.
inline const auto& names_of(Progression) { return progression_names; }

template <class T>
concept Named = std::is_enum_v<T> && requires(T t) { names_of(t); };

template <class T>
struct is_keyed : std::false_type {};
template <class T, const auto& N>
struct is_keyed<Keyed<T, N>> : std::true_type {};

template <class T>
struct is_list : std::false_type {};
template <class T, std::size_t N>
struct is_list<std::array<T, N>> : std::true_type {};

// --- JSON values --------------------------------------------------------------------------------

template <class T>
json encode(const T& value) {
  if constexpr (is_keyed<T>::value) {
    json out = json::object();
    for (std::size_t k = 0; k < value.size(); ++k) out[T::names[k]] = encode(value[k]);
    return out;
  } else if constexpr (is_list<T>::value) {
    json out = json::array();
    for (const auto& v : value) out.push_back(encode(v));
    return out;
  } else if constexpr (Named<T>) {
    return names_of(value)[static_cast<int>(value)];
  } else {
    return value;
  }
}

// `j` has been validated against spec_of<T>, so its type and range are right.
template <class T>
void decode(const json& j, T& out) {
  if constexpr (is_keyed<T>::value) {
    for (std::size_t k = 0; k < out.size(); ++k) decode(j.at(T::names[k]), out[k]);
  } else if constexpr (is_list<T>::value) {
    for (std::size_t k = 0; k < out.size(); ++k) decode(j.at(k), out[k]);
  } else if constexpr (Named<T>) {
    out = static_cast<T>(index_of(names_of(out), j.get<std::string>()));
  } else {
    out = j.get<T>();
  }
}

// --- specifications -----------------------------------------------------------------------------

inline Spec number_spec(bool integer, Range r, json def, std::string doc) {
  Spec s = integer ? Spec::integer(r.lo, r.hi, std::move(def), std::move(doc))
                   : Spec::number(r.lo, r.hi, std::move(def), std::move(doc));
  s.exclusive_minimum = r.exclusive_lo;
  return s;
}

// The Spec of a value of type T with default `def`: a number, a string, a flag, a name from a table,
// an object keyed by names, or an array of fixed length.
template <class T>
Spec spec_of(const T& def, Range r, const std::string& doc) {
  if constexpr (is_keyed<T>::value) {
    SpecProperties props;
    for (std::size_t k = 0; k < def.size(); ++k)
      props.push_back({T::names[k], spec_of(def[k], r, T::names[k])});
    return Spec::object(doc, std::move(props));
  } else if constexpr (is_list<T>::value) {
    using Element = typename T::value_type;
    return Spec::array_of(number_spec(std::is_integral_v<Element>, r, nullptr, "one value"), def.size(), def.size(),
                          doc)
        .with_default(encode(def));
  } else if constexpr (Named<T>) {
    const auto& names = names_of(def);
    return Spec::text(encode(def), doc, {names.begin(), names.end()});
  } else if constexpr (std::is_same_v<T, bool>) {
    return Spec::flag(def, doc);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Spec::text(def, doc);
  } else {
    return number_spec(std::is_integral_v<T>, r, def, doc);
  }
}

// --- the parameter table ------------------------------------------------------------------------

template <class T>
void rows_of(const T& def, const std::string& path, Range r, const char* unit, const char* doc, const char* source,
             std::vector<ParameterRow>& out) {
  if constexpr (is_keyed<T>::value) {
    for (std::size_t k = 0; k < def.size(); ++k) rows_of(def[k], path + "." + T::names[k], r, unit, doc, source, out);
  } else {
    ParameterRow row{path, "", encode(def), r.lo, r.hi, r.exclusive_lo, unit, doc, source};
    if constexpr (is_list<T>::value)
      row.type = "list of " + std::to_string(def.size()) +
                 (std::is_integral_v<typename T::value_type> ? " integers" : " numbers");
    else if constexpr (std::is_same_v<T, bool>) row.type = "boolean";
    else if constexpr (std::is_same_v<T, std::string> || Named<T>) row.type = "string";
    else row.type = std::is_integral_v<T> ? "integer" : "number";
    out.push_back(std::move(row));
  }
}

// --- fields of a struct -------------------------------------------------------------------------

template <class S>
struct Field {
  std::string name;
  std::function<Spec(const S& defaults)> spec;
  std::function<void(const json& j, S& out)> read;
  std::function<json(const S&)> write;
  std::function<void(const S& defaults, const std::string& prefix, std::vector<ParameterRow>&)> rows;
};

template <class S, class T>
Field<S> make_field(T S::*member, const char* name, Range range, const char* unit, const char* doc,
                    const char* source) {
  std::string described = doc;
  if (*unit) described += std::string(" [") + unit + "]";
  if (*source) described += std::string(". Source: ") + source;
  return {name,
          [=](const S& d) { return spec_of(d.*member, range, described); },
          [=](const json& j, S& out) { decode(j.at(name), out.*member); },
          [=](const S& s) { return encode(s.*member); },
          [=](const S& d, const std::string& prefix, std::vector<ParameterRow>& out) {
            rows_of(d.*member, prefix + name, range, unit, doc, source, out);
          }};
}

// The fields of a struct from its declaration list (see plsim/fields.hpp).
#define PLSIM_FIELD(type, name, default_value, range, unit, doc, source) \
  ::plsim::fields::make_field(&Self::name, #name, range, unit, doc, source),
#define PLSIM_FIELDS_OF(Struct, LIST)                                      \
  [] {                                                                     \
    using Self = Struct;                                                   \
    return std::vector<::plsim::fields::Field<Struct>>{LIST(PLSIM_FIELD)}; \
  }()

template <class S>
Spec object_spec(const std::vector<Field<S>>& fields, const std::string& doc, const S& defaults = S{}) {
  SpecProperties props;
  for (const auto& f : fields) props.push_back({f.name, f.spec(defaults)});
  return Spec::object(doc, std::move(props));
}

template <class S>
void read_object(const std::vector<Field<S>>& fields, const json& j, S& out) {
  for (const auto& f : fields) f.read(j, out);
}

template <class S>
json write_object(const std::vector<Field<S>>& fields, const S& s) {
  json out = json::object();
  for (const auto& f : fields) out[f.name] = f.write(s);
  return out;
}

}  // namespace plsim::fields
