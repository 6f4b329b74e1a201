#include "plsim/scenario/spec.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace plsim {

using nlohmann::json;

namespace {
Spec make(Spec::Kind kind, json def, std::string doc) {
  Spec s;
  s.kind = kind;
  s.default_value = std::move(def);
  s.description = std::move(doc);
  return s;
}
}  // namespace

Spec Spec::number(double lo, double hi, json def, std::string doc) {
  Spec s = make(Kind::number, std::move(def), std::move(doc));
  s.minimum = lo;
  s.maximum = hi;
  return s;
}

Spec Spec::integer(double lo, double hi, json def, std::string doc) {
  Spec s = number(lo, hi, std::move(def), std::move(doc));
  s.kind = Kind::integer;
  return s;
}

Spec Spec::text(json def, std::string doc, std::vector<std::string> choices) {
  Spec s = make(Kind::string, std::move(def), std::move(doc));
  s.choices = std::move(choices);
  return s;
}

Spec Spec::flag(bool def, std::string doc) { return make(Kind::boolean, def, std::move(doc)); }

Spec Spec::object(std::string doc, SpecProperties props) {
  Spec s = make(Kind::object, nullptr, std::move(doc));
  s.properties = std::move(props);
  return s;
}

Spec Spec::map_of(Spec value, std::string doc) {
  Spec s = make(Kind::map, nullptr, std::move(doc));
  s.element = std::make_shared<Spec>(std::move(value));
  return s;
}

Spec Spec::array_of(Spec item, std::size_t min_items, std::size_t max_items, std::string doc) {
  Spec s = make(Kind::array, nullptr, std::move(doc));
  s.element = std::make_shared<Spec>(std::move(item));
  s.min_items = min_items;
  s.max_items = max_items;
  return s;
}

Spec&& Spec::with_default(json def) && {
  default_value = std::move(def);
  return std::move(*this);
}

Spec&& Spec::as_required() && {
  required = true;
  return std::move(*this);
}

std::string quoted_value(const json& value, std::size_t max_bytes) {
  std::string text = value.dump();
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes - 3;
  // Back off to the start of a character: never split a multi-byte UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string format_number(double x) {
  std::ostringstream out;
  out.precision(16);
  out << x;
  return out.str();
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

namespace {

std::string show(const json& value) { return quoted_value(value); }

std::string kind_name(Spec::Kind kind) {
  switch (kind) {
    case Spec::Kind::object:
    case Spec::Kind::map: return "an object";
    case Spec::Kind::array: return "an array";
    case Spec::Kind::number: return "a number";
    case Spec::Kind::integer: return "an integer";
    case Spec::Kind::string: return "a string";
    case Spec::Kind::boolean: return "true or false";
  }
  return "?";
}

std::string where(const std::string& path) { return path.empty() ? "/" : path; }

void check_range(const json& doc, const Spec& spec, const std::string& path,
                 std::vector<std::string>& errors) {
  const double x = doc.get<double>();
  const bool below = spec.exclusive_minimum ? !(x > spec.minimum) : x < spec.minimum;
  if (!std::isfinite(x) || below || x > spec.maximum) {
    std::string expected;
    if (spec.maximum < 1e299)
      expected = "must be between " + format_number(spec.minimum) + " and " + format_number(spec.maximum);
    else if (spec.exclusive_minimum)
      expected = "must be greater than " + format_number(spec.minimum);
    else
      expected = "must be at least " + format_number(spec.minimum);
    errors.push_back(where(path) + ": " + expected + " (got " + show(doc) + ")");
  }
}

}  // namespace

std::vector<std::string> validate(const json& doc, const Spec& spec, const std::string& path) {
  std::vector<std::string> errors;
  auto wrong_type = [&] {
    errors.push_back(where(path) + ": expected " + kind_name(spec.kind) + " (got " + show(doc) + ")");
  };
  switch (spec.kind) {
    case Spec::Kind::number:
      if (!doc.is_number()) wrong_type();
      else check_range(doc, spec, path, errors);
      break;
    case Spec::Kind::integer:
      if (!doc.is_number_integer() &&
          !(doc.is_number_float() && std::floor(doc.get<double>()) == doc.get<double>()))
        wrong_type();
      else check_range(doc, spec, path, errors);
      break;
    case Spec::Kind::boolean:
      if (!doc.is_boolean()) wrong_type();
      break;
    case Spec::Kind::string:
      if (!doc.is_string()) {
        wrong_type();
      } else if (!spec.choices.empty()) {
        const auto& value = doc.get_ref<const std::string&>();
        bool found = false;
        for (const auto& c : spec.choices) found = found || c == value;
        if (!found) {
          std::string list;
          for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
          errors.push_back(where(path) + ": must be one of " + list + " (got " + show(doc) + ")");
        }
      }
      break;
    case Spec::Kind::array:
      if (!doc.is_array()) {
        wrong_type();
        break;
      }
      if (doc.size() < spec.min_items || doc.size() > spec.max_items) {
        std::string expected = spec.min_items == spec.max_items
                                   ? "exactly " + std::to_string(spec.min_items)
                                   : "at least " + std::to_string(spec.min_items);
        if (spec.min_items != spec.max_items && spec.max_items != static_cast<std::size_t>(-1))
          expected = "between " + std::to_string(spec.min_items) + " and " + std::to_string(spec.max_items);
        errors.push_back(where(path) + ": expected " + expected + " items (got " +
                         std::to_string(doc.size()) + ")");
      }
      for (std::size_t i = 0; i < doc.size(); ++i) {
        auto sub = validate(doc[i], *spec.element, path + "/" + std::to_string(i));
        errors.insert(errors.end(), sub.begin(), sub.end());
      }
      break;
    case Spec::Kind::map:
      if (!doc.is_object()) {
        wrong_type();
        break;
      }
      for (const auto& [key, value] : doc.items()) {
        auto sub = validate(value, *spec.element, path + "/" + escape_pointer(key));
        errors.insert(errors.end(), sub.begin(), sub.end());
      }
      break;
    case Spec::Kind::object: {
      if (!doc.is_object()) {
        wrong_type();
        break;
      }
      std::string valid_keys;
      for (const auto& [key, sub_spec] : spec.properties) valid_keys += (valid_keys.empty() ? "" : ", ") + key;
      for (const auto& [key, value] : doc.items()) {
        if (!key.empty() && key[0] == '_') continue;  // "_comment" style keys are documentation
        const Spec* sub_spec = nullptr;
        for (const auto& [name, s] : spec.properties)
          if (name == key) sub_spec = &s;
        const std::string sub_path = path + "/" + escape_pointer(key);
        if (!sub_spec) {
          std::string hint;
          std::size_t best = key.size() / 3 + 2;
          for (const auto& [name, s] : spec.properties) {
            const std::size_t d = edit_distance(key, name);
            if (d < best) {
              best = d;
              hint = " (did you mean \"" + name + "\"?)";
            }
          }
          errors.push_back(sub_path + ": unknown key" + hint + "; valid keys are " + valid_keys);
          continue;
        }
        auto sub = validate(value, *sub_spec, sub_path);
        errors.insert(errors.end(), sub.begin(), sub.end());
      }
      for (const auto& [name, s] : spec.properties)
        if (s.required && !doc.contains(name))
          errors.push_back(path + "/" + escape_pointer(name) + ": required key is missing (" +
                           s.description + ")");
      break;
    }
  }
  return errors;
}

json without_invalid_numbers(const json& doc, const Spec& spec) {
  switch (spec.kind) {
    case Spec::Kind::object: {
      if (!doc.is_object()) return doc;
      json out = doc;
      for (const auto& [name, s] : spec.properties) {
        if (!doc.contains(name)) continue;
        const bool numeric = s.kind == Spec::Kind::number || s.kind == Spec::Kind::integer;
        if (numeric && !validate(doc[name], s).empty()) {
          if (s.default_value.is_null()) out.erase(name);
          else out[name] = s.default_value;
        } else {
          out[name] = without_invalid_numbers(doc[name], s);
        }
      }
      return out;
    }
    case Spec::Kind::map:
    case Spec::Kind::array: {
      if (!doc.is_object() && !doc.is_array()) return doc;
      json out = doc;
      for (auto& item : out) item = without_invalid_numbers(item, *spec.element);
      return out;
    }
    default:
      return doc;
  }
}

json fill_defaults(const json& doc, const Spec& spec) {
  switch (spec.kind) {
    case Spec::Kind::object: {
      json out = doc;
      for (const auto& [name, s] : spec.properties) {
        if (doc.contains(name)) out[name] = fill_defaults(doc[name], s);
        else if (s.kind == Spec::Kind::object && s.default_value.is_null()) out[name] = fill_defaults(json::object(), s);
        else if (!s.default_value.is_null()) out[name] = fill_defaults(s.default_value, s);
      }
      return out;
    }
    case Spec::Kind::map: {
      json out = json::object();
      for (const auto& [key, value] : doc.items()) out[key] = fill_defaults(value, *spec.element);
      return out;
    }
    case Spec::Kind::array: {
      json out = json::array();
      for (const auto& item : doc) out.push_back(fill_defaults(item, *spec.element));
      return out;
    }
    default:
      return doc;
  }
}

json to_json_schema(const Spec& spec) {
  json out;
  if (!spec.description.empty()) out["description"] = spec.description;
  if (!spec.default_value.is_null()) out["default"] = spec.default_value;
  switch (spec.kind) {
    case Spec::Kind::number:
    case Spec::Kind::integer:
      out["type"] = spec.kind == Spec::Kind::number ? "number" : "integer";
      if (spec.minimum > -1e299) out[spec.exclusive_minimum ? "exclusiveMinimum" : "minimum"] = spec.minimum;
      if (spec.maximum < 1e299) out["maximum"] = spec.maximum;
      break;
    case Spec::Kind::string:
      out["type"] = "string";
      if (!spec.choices.empty()) out["enum"] = spec.choices;
      break;
    case Spec::Kind::boolean:
      out["type"] = "boolean";
      break;
    case Spec::Kind::array:
      out["type"] = "array";
      out["items"] = to_json_schema(*spec.element);
      if (spec.min_items > 0) out["minItems"] = spec.min_items;
      if (spec.max_items != static_cast<std::size_t>(-1)) out["maxItems"] = spec.max_items;
      break;
    case Spec::Kind::map:
      out["type"] = "object";
      out["additionalProperties"] = to_json_schema(*spec.element);
      break;
    case Spec::Kind::object: {
      out["type"] = "object";
      json props = json::object();
      json required = json::array();
      for (const auto& [name, s] : spec.properties) {
        props[name] = to_json_schema(s);
        if (s.required) required.push_back(name);
      }
      out["properties"] = props;
      out["patternProperties"] = {{"^_", json::object()}};
      out["additionalProperties"] = false;
      if (!required.empty()) out["required"] = required;
      break;
    }
  }
  return out;
}

}  // namespace plsim
