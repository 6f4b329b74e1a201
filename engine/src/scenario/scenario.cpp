#include "plsim/scenario/scenario.hpp"

#include <fstream>

#include "loader.hpp"

namespace plsim {

using nlohmann::json;

namespace {

// Messages quote what they found, which may be any bytes: keep them valid UTF-8 (an invalid byte
// becomes U+FFFD), so every caller, Python included, can read them.
std::string valid_utf8(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (ok && n > 1) {
      // No overlong forms, surrogates or code points beyond U+10FFFF (what strict decoders refuse).
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(n == 2 && c < 0xC2) && !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) &&
           !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90) && c <= 0xF4;
    }
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::vector<std::string> readable(std::vector<std::string> errors) {
  for (auto& e : errors) e = valid_utf8(e);
  return errors;
}

}  // namespace

ScenarioError::ScenarioError(std::vector<std::string> raw)
    : ScenarioError(readable(std::move(raw)), 0) {}

ScenarioError::ScenarioError(std::vector<std::string> errors, int)
    : std::runtime_error([&] {
        std::string text;
        for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e;
        return text;
      }()),
      errors_(std::move(errors)) {}

namespace {

const Spec& property_spec(const Spec& spec, const std::string& name) {
  for (const auto& [key, sub] : spec.properties)
    if (key == name) return sub;
  throw std::logic_error("scenario spec has no property " + name);
}

std::vector<std::string> with_source(const std::vector<std::string>& errors, const std::string& source) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(source + ": " + e);
  return out;
}

}  // namespace

const Spec& scenario_spec() {
  static const Spec spec = loader::scenario_structure_spec();
  return spec;
}

json scenario_schema() {
  json schema = to_json_schema(scenario_spec());
  schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  schema["$id"] = "https://plsim.org/scenario.schema.json";
  schema["title"] = "plsim scenario";
  return schema;
}

std::vector<std::string> check_scenario(const json& doc, const std::string& source) {
  auto errors = validate(doc, scenario_spec());
  // Checks across values need the defaults filled in, and read numbers as the types the
  // specification gives them: a number that failed its own check is replaced by its default first (a
  // 1e30 where an integer is expected would be an undefined cast). A document whose structure is too
  // broken for them (a wrong type where an object is expected) gets its structural errors alone.
  try {
    const auto meaning = loader::check_meaning(fill_defaults(without_invalid_numbers(doc, scenario_spec()), scenario_spec()));
    errors.insert(errors.end(), meaning.begin(), meaning.end());
  } catch (const nlohmann::json::exception&) {
    if (errors.empty()) throw;
  }
  return readable(with_source(errors, source));
}

json resolve_scenario(const json& doc, const std::string& source) {
  auto errors = check_scenario(doc, source);
  if (!errors.empty()) throw ScenarioError(errors);
  json filled = fill_defaults(doc, scenario_spec());
  filled["instructional_models"] =
      fill_defaults(loader::known_models(filled["instructional_models"]), property_spec(scenario_spec(), "instructional_models"));
  for (auto& district : filled["districts"]) {
    // A district without a plan has none (rather than a plan of defaults without a model).
    if (!district["rollout"].contains("model")) district.erase("rollout");
    for (auto& group : district["schools"]) {
      const Level level = static_cast<Level>(index_of(level_names, group["level"].get<std::string>()));
      if (!group.contains("grades")) group["grades"] = loader::default_grades(level);
      if (!group.contains("class_size")) group["class_size"] = loader::default_class_size(level);
      if (!group.contains("models")) group["models"] = {{group.value("model", "traditional"), 1.0}};
      group.erase("model");
    }
  }
  return filled;
}

Model build_model(const json& doc, const std::string& source) { return model_from_resolved(resolve_scenario(doc, source)); }

Model model_from_resolved(const json& s) {
  Model model(loader::parameters_from(s["parameters"]), Norms::national_2020(), s["weeks_per_year"].get<int>());
  model.name = s["name"];
  model.description = s["description"];
  model.seed = s["seed"].get<std::uint64_t>();
  model.years = s["years"];
  model.counterfactual =
      static_cast<Counterfactual>(index_of(counterfactual_names, s["counterfactual"].get<std::string>()));
  for (const auto& [name, m] : s["instructional_models"].items())
    model.instructional_models.push_back(loader::instructional_model_from(name, m));
  for (const auto& d : s["districts"]) {
    DistrictSpec district;
    district.name = d["name"];
    district.count = d["count"];
    district.achievement_shift_sd = d["achievement_shift_sd"];
    for (const auto& g : d["schools"]) {
      SchoolGroupSpec group;
      group.level = static_cast<Level>(index_of(level_names, g["level"].get<std::string>()));
      group.type = static_cast<SchoolType>(index_of(school_type_names, g["type"].get<std::string>()));
      group.count = g["count"];
      group.enrollment = g["enrollment"];
      group.grade_lo = g["grades"][0];
      group.grade_hi = g["grades"][1];
      group.class_size = g["class_size"];
      group.frl_share_mean = g["frl_share"]["mean"];
      group.frl_share_sd = g["frl_share"]["sd"];
      group.achievement_shift_sd = g["achievement_shift_sd"];
      for (const auto& [name, share] : g["models"].items())
        group.instructional_models.emplace_back(model.instructional_model_index(name), share.get<double>());
      for (int e = 0; e < n_elements; ++e) group.fidelity[e] = g["fidelity"][element_names[e]];
      group.fidelity_sd = g["fidelity"]["sd"];
      group.implementation_year = g["implementation_year"];
      if (g.contains("model_years"))
        group.model_years = {g["model_years"][0].get<int>(), g["model_years"][1].get<int>()};
      district.schools.push_back(group);
    }
    const auto& office = d["central_office"];
    district.central_office.mode = static_cast<CentralOffice>(index_of(central_office_names, office["mode"].get<std::string>()));
    district.central_office.system_change_from_year = office["system_change_from_year"];
    district.central_office.knowledge_management = office["knowledge_management"];
    district.central_office.coaches = office["coaches"];
    district.central_office.coach_caseload = office["coach_caseload"];
    district.central_office.pd_days = office["pd_days"];
    district.central_office.extra_prep_minutes = office["extra_prep_minutes"];
    if (d.contains("rollout")) {
      const auto& r = d["rollout"];
      RolloutSpec& plan = district.rollout;
      plan.enabled = true;
      plan.model = model.instructional_model_index(r["model"]);
      plan.start_schoolwide = r["start"] == "schoolwide";
      for (const auto& t : r["targets"]) plan.targets.emplace_back(t["year"].get<int>(), t["share"].get<double>());
      plan.target_kind = static_cast<TargetKind>(index_of(target_kind_names, r["target_kind"].get<std::string>()));
      for (const auto& w : r["waves"])
        plan.waves.push_back({w["from_year"].get<int>(),
                              static_cast<SelectionRule>(index_of(selection_rule_names, w["rule"].get<std::string>()))});
      plan.gate_year = r["gate"]["year"];
      plan.gate_min_effect_sd = r["gate"]["min_effect_sd"];
      plan.gate_min_students = r["gate"]["min_students"];
      plan.max_new_schools_per_year = r["max_new_schools_per_year"];
      plan.design = static_cast<DesignMode>(index_of(design_mode_names, r["design"].get<std::string>()));
      plan.volunteer_leadership = r["volunteer_leadership"];
      plan.readiness_noise = r["readiness_noise"];
    }
    if (d.contains("pl_budget_per_year")) district.pl_budget_per_year = d["pl_budget_per_year"];
    model.districts.push_back(district);
  }
  for (const auto& g : s["grants"]) {
    GrantSpec grant;
    grant.funder = g["funder"];
    grant.recipient = g["recipient"];
    grant.from_year = g["from_year"];
    grant.to_year = g["to_year"];
    grant.amount_per_year = g["amount_per_year"];
    grant.category = index_of(cost_category_names, g["category"].get<std::string>());  // -1: flexible
    grant.school = g.contains("school") ? g["school"].get<int>() : -1;
    model.grants.push_back(grant);
  }
  model.index_districts();
  return model;
}

LoadedScenario load_scenario(json document, const std::string& source, const json& changes, const json& extra_models) {
  if (!document.is_object() && !(changes.empty() && extra_models.empty()))
    throw ScenarioError({source + ": /: expected an object (got " + quoted_value(document) + ")"});
  for (const auto& [key, value] : changes.items()) document[key] = value;
  if (!extra_models.empty()) {
    json& models = document["instructional_models"];
    if (models.is_null()) models = json::object();
    if (models.is_object())
      for (const auto& [name, entry] : extra_models.items()) models[name] = entry;
  }
  json resolved = resolve_scenario(document, source);
  auto model = std::make_shared<const Model>(model_from_resolved(resolved));
  return {std::move(document), source, std::move(resolved), std::move(model)};
}

LoadedScenario load_scenario_file(const std::string& path, const json& changes, const json& extra_models) {
  return load_scenario(read_scenario_file(path), path, changes, extra_models);
}

json parse_scenario_text(const std::string& text, const std::string& source) {
  // Limits checked before any recursion: the parser and the validator recurse once per level.
  constexpr std::size_t max_bytes = 256u << 20;
  constexpr int max_depth = 64;
  if (text.size() > max_bytes)
    throw ScenarioError({source + ": the file is " + std::to_string(text.size() >> 20) +
                         " MiB; scenarios are at most 256 MiB"});
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        throw ScenarioError({source + ": invalid JSON: nested deeper than " + std::to_string(max_depth) +
                             " levels at byte " + std::to_string(i) + " (scenarios are a few levels deep)"});
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // syntax, invalid UTF-8, numbers beyond double range
    throw ScenarioError({source + ": invalid JSON: " + e.what()});
  }
}

json read_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError({path + ": cannot open the file"});
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_scenario_text(text, path);
}

}  // namespace plsim
