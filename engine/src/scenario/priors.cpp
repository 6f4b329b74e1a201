// The scenario's "priors" section: a prior distribution per uncertain parameter, for probabilistic
// sensitivity analysis and Bayesian calibration (python/plsim/priors.py draws from them). The engine
// never draws from a prior; it validates the section here, with the rest of the scenario, so that a
// bad prior is refused with its JSON path before anything runs.
#include <algorithm>
#include <cmath>
#include <string>

#include "loader.hpp"
#include "plsim/scenario/parameters.hpp"

namespace plsim::loader {

namespace {

const std::vector<std::string> distribution_names{"normal", "lognormal", "beta", "uniform"};

// Which fields each distribution takes, and which of them it needs.
struct Family {
  std::vector<std::string> fields, required;
};

Family family_of(const std::string& name) {
  if (name == "normal") return {{"mean", "sd", "lower", "upper"}, {"sd"}};
  if (name == "lognormal") return {{"median", "sd_log"}, {"sd_log"}};
  if (name == "beta") return {{"mean", "sd", "lower", "upper"}, {"sd"}};
  return {{"lower", "upper"}, {"lower", "upper"}};  // uniform
}

Spec positive(const char* doc) {
  Spec s = Spec::number(0, 1e300, nullptr, doc);
  s.exclusive_minimum = true;
  return s;
}

// The parameter a prior's key names: a row of the parameter table, or an element ("path.K") of a row
// that is a list of numbers. Returns nullptr when there is none; `element` is -1 for a whole row.
const ParameterRow* parameter_of(const std::string& key, int& element) {
  element = -1;
  for (const auto& row : parameter_table())
    if (row.path == key) return &row;
  const auto dot = key.rfind('.');
  if (dot == std::string::npos || dot + 1 == key.size()) return nullptr;
  const std::string tail = key.substr(dot + 1);
  if (tail.find_first_not_of("0123456789") != std::string::npos || tail.size() > 4) return nullptr;
  for (const auto& row : parameter_table())
    if (row.path == key.substr(0, dot) && row.default_value.is_array()) {
      element = std::stoi(tail);
      return element < static_cast<int>(row.default_value.size()) ? &row : nullptr;
    }
  return nullptr;
}

// The parameter's value in the scenario (its own, or the default filled in): a prior without a centre
// is centred there.
double scenario_value(const json& parameters, const std::string& key) {
  const json* node = &parameters;
  std::size_t start = 0;
  while (start <= key.size()) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    node = node->is_array() ? &node->at(std::stoul(part)) : &node->at(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node->get<double>();
}

std::string nearest_parameter(const std::string& key) {
  std::string hint;
  std::size_t best = key.size() / 3 + 2;
  for (const auto& row : parameter_table()) {
    const std::size_t d = edit_distance(key, row.path);
    if (d < best) {
      best = d;
      hint = " (did you mean \"" + row.path + "\"?)";
    }
  }
  return hint;
}

std::string range_text(const ParameterRow& row) {
  return format_number(row.minimum) + " to " + (row.maximum < 1e299 ? format_number(row.maximum) : "unbounded");
}

// The checks of one prior whose structure is valid: fields of its family, bounds within the
// parameter's range, a centre inside them, and a spread its family can take.
void check_prior(const std::string& key, const json& prior, const json& parameters, std::vector<std::string>& errors) {
  const std::string path = "/priors/" + escape_pointer(key);
  int element = -1;
  const ParameterRow* row = parameter_of(key, element);
  if (!row) {
    errors.push_back(path + ": not a parameter; a prior's key is the path of a numeric parameter of `plsim params`, "
                     "or PATH.K for element K of a list" + nearest_parameter(key));
    return;
  }
  const bool numeric = element >= 0 ? row->type.find("numbers") != std::string::npos : row->type == "number";
  if (!numeric) {
    errors.push_back(path + ": a prior draws real numbers, and this parameter is " +
                     (element < 0 && row->default_value.is_array() ? "a list (name one element: " + key + ".0)"
                                                                    : "of type " + row->type));
    return;
  }
  const std::string name = prior.at("distribution").get<std::string>();
  if (std::find(distribution_names.begin(), distribution_names.end(), name) == distribution_names.end()) return;
  const Family family = family_of(name);
  std::string fields;
  for (const auto& f : family.fields) fields += (fields.empty() ? "" : ", ") + f;
  bool complete = true;
  for (const auto& field : {"mean", "sd", "median", "sd_log", "lower", "upper"}) {
    const bool allowed = std::find(family.fields.begin(), family.fields.end(), field) != family.fields.end();
    const bool needed = std::find(family.required.begin(), family.required.end(), field) != family.required.end();
    if (prior.contains(field) && !allowed)
      errors.push_back(path + "/" + field + ": not a parameter of a " + name + " prior (its parameters are " + fields +
                       ")");
    if (!prior.contains(field) && needed) {
      errors.push_back(path + ": a " + name + " prior needs " + field + " (its parameters are " + fields + ")");
      complete = false;
    }
  }
  if (!complete) return;
  const double lo_range = row->minimum, hi_range = row->maximum;
  const double lower = prior.value("lower", lo_range), upper = prior.value("upper", hi_range);
  for (const auto& [field, value] : {std::pair{"lower", lower}, std::pair{"upper", upper}})
    if (prior.contains(field) && (value < lo_range || value > hi_range))
      errors.push_back(path + "/" + field + ": must lie in the parameter's range, " + range_text(*row) + " (got " +
                       format_number(value) + ")");
  if (!(lower < upper)) {
    errors.push_back(path + ": lower must be below upper (got " + format_number(lower) + " and " +
                     format_number(upper) + ")");
    return;
  }
  const char* centre_field = name == "lognormal" ? "median" : "mean";
  const bool given = prior.contains(centre_field);
  const double centre = given ? prior.at(centre_field).get<double>() : scenario_value(parameters, key);
  const std::string centre_text = given ? std::string(centre_field)
                                        : std::string(centre_field) + " (the parameter's value, " +
                                              format_number(centre) + ")";
  const std::string at = path + (given ? "/" + std::string(centre_field) : "");
  if (name == "normal" && (centre < lower || centre > upper))
    errors.push_back(at + ": the " + centre_text + " must lie between lower and upper, " + format_number(lower) +
                     " and " + format_number(upper));
  if (name == "beta") {
    if (!std::isfinite(lower) || !std::isfinite(upper) || upper - lower > 1e12) {
      errors.push_back(path + ": a beta prior needs finite lower and upper (the parameter's range is " +
                       range_text(*row) + ")");
      return;
    }
    const double sd = prior.at("sd").get<double>();
    if (!(centre > lower && centre < upper))
      errors.push_back(at + ": the " + centre_text + " of a beta prior must lie strictly between lower and upper, " +
                       format_number(lower) + " and " + format_number(upper));
    else if (sd * sd >= (centre - lower) * (upper - centre))
      errors.push_back(path + "/sd: too large for a beta prior with this mean: it must be below " +
                       format_number(std::sqrt((centre - lower) * (upper - centre))) + " (got " + format_number(sd) +
                       ")");
  }
  if (name == "lognormal") {
    if (lo_range < 0) {
      errors.push_back(path + ": a lognormal prior draws positive values, and this parameter may be negative (range " +
                       range_text(*row) + "); use normal");
      return;
    }
    if (!(centre > 0)) {
      errors.push_back(at + ": the " + centre_text + " of a lognormal prior must be positive");
      return;
    }
    // The engine refuses values beyond a parameter's range: a lognormal whose upper tail crosses it
    // would be cut there (plsim.priors truncates), so more than a sliver of it is refused.
    const double p999 = centre * std::exp(3.0902 * prior.at("sd_log").get<double>());
    if (p999 > hi_range)
      errors.push_back(path + "/sd_log: a lognormal prior this wide puts more than 0.1% of its draws above the "
                       "parameter's maximum, " + format_number(hi_range) + " (99.9th percentile " +
                       format_number(p999) + "); narrow it or use normal or beta, which are cut at the range");
  }
}

}  // namespace

Spec priors_spec() {
  return Spec::map_of(
             Spec::object(
                 "a prior distribution of one parameter (plsim priors lists the shipped ones)",
                 SpecProperties{
                     {"distribution", Spec::text(nullptr, "normal (cut at lower and upper, default the parameter's "
                                                          "range), lognormal, beta (on lower..upper) or uniform",
                                                 distribution_names)
                                          .as_required()},
                     {"mean", Spec::number(-1e300, 1e300, nullptr,
                                           "normal and beta: the mean (absent: the parameter's value in the scenario)")},
                     {"sd", positive("normal and beta: the standard deviation")},
                     {"median", positive("lognormal: the median (absent: the parameter's value in the scenario)")},
                     {"sd_log", positive("lognormal: the SD of the logarithm")},
                     {"lower", Spec::number(-1e300, 1e300, nullptr, "uniform, normal, beta: the lowest value "
                                                                     "(absent: the parameter's minimum)")},
                     {"upper", Spec::number(-1e300, 1e300, nullptr, "uniform, normal, beta: the highest value "
                                                                     "(absent: the parameter's maximum)")},
                     {"group", Spec::text("other", "the parameter group whose value of information is reported "
                                                   "together (effects, persistence, dilution, teachers, schools, "
                                                   "costs, ...)")},
                     {"source", Spec::text(nullptr, "which published figure sets the prior (or: assumption, and why)")
                                    .as_required()}}),
             "prior distributions of uncertain parameters by path (learning.learn_rate, or PATH.K for element K of a "
             "list), replacing the shipped priors of the same paths; used by plsim compare --uncertainty priors and "
             "plsim calibrate --method abc-smc, never by a single run")
      .with_default(json::object());
}

std::vector<std::string> check_priors(const json& filled) {
  std::vector<std::string> errors;
  for (const auto& [key, prior] : filled.at("priors").items())
    if (prior.is_object() && prior.contains("distribution") && prior.contains("source"))
      check_prior(key, prior, filled.at("parameters"), errors);
  return errors;
}

}  // namespace plsim::loader
