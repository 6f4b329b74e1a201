// Checks across values of a scenario (minutes, assessment weeks, population variances, school groups,
// model names, the size limit), on a document with its defaults filled in.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "loader.hpp"

namespace plsim::loader {

std::vector<std::string> check_meaning(const json& doc) {
  std::vector<std::string> errors;
  const json models = known_models(doc.at("instructional_models"));
  for (const auto& [name, m] : doc.at("instructional_models").items()) {
    double total = 0;
    for (const auto& [mode, minutes] : m.at("minutes").items()) total += minutes.get<double>();
    if (total <= 0)
      errors.push_back("/instructional_models/" + name + "/minutes: at least one mode needs minutes (got " +
                       m.at("minutes").dump() + ")");
    if (m.at("autonomy_levels").get<int>() == 1)
      errors.push_back("/instructional_models/" + name + "/autonomy_levels: 0 (none) or at least 2 levels (got 1)");
    double top = 0;
    for (const auto& [mode, minutes] : m.at("top_level_minutes").items()) top += minutes.get<double>();
    if (m.at("autonomy_levels").get<int>() >= 2 && top <= 0)
      errors.push_back("/instructional_models/" + name + "/top_level_minutes: models with autonomy levels need "
                       "the minutes of the highest level (got " + m.at("top_level_minutes").dump() + ")");
  }
  std::string model_names;
  for (const auto& [name, m] : models.items()) model_names += (model_names.empty() ? "" : ", ") + name;

  const auto& w = doc.at("parameters").at("assessment").at("weeks");
  const int weeks = doc.at("weeks_per_year").get<int>();
  if (!(w.at("fall").get<int>() < w.at("winter").get<int>() && w.at("winter").get<int>() < w.at("spring").get<int>()))
    errors.push_back("/parameters/assessment/weeks: fall, winter and spring must come in that order (got " +
                     w.dump() + ")");
  if (w.at("spring").get<int>() > weeks)
    errors.push_back("/parameters/assessment/weeks/spring: must be within the " + std::to_string(weeks) +
                     " weeks of the year (got " + w.at("spring").dump() + ")");

  const auto& pop = doc.at("parameters").at("population");
  const double school_sd = pop.at("school_mean_sd").get<double>();
  const double gap = pop.at("frl_achievement_gap").get<double>();
  const double m = pop.at("national_frl_share").get<double>();
  const double sd = pop.at("national_frl_share_sd").get<double>();
  const double district_sd = pop.at("district_mean_sd").get<double>();
  if (school_sd * school_sd < gap * gap * sd * sd + district_sd * district_sd)
    errors.push_back("/parameters/population/school_mean_sd: too small for the FRL composition and the district "
                     "effects (sqrt((frl_achievement_gap * national_frl_share_sd)^2 + district_mean_sd^2) = " +
                     std::to_string(std::sqrt(gap * gap * sd * sd + district_sd * district_sd)) + ", got " +
                     std::to_string(school_sd) + ")");
  if (1.0 - school_sd * school_sd - gap * gap * std::max(0.0, m * (1 - m) - sd * sd) <= 0.05)
    errors.push_back("/parameters/population: school_mean_sd and frl_achievement_gap leave no variation "
                     "between students of a school (got " + pop.dump() + ")");

  double total_students = 0, total_schools = 0, total_districts = 0;
  const int years = doc.at("years").get<int>();
  const auto& districts = doc.at("districts");
  for (std::size_t d = 0; d < districts.size(); ++d) {
    const auto& schools = districts[d].at("schools");
    for (std::size_t k = 0; k < schools.size(); ++k) {
      const auto& group = schools[k];
      const std::string path = "/districts/" + std::to_string(d) + "/schools/" + std::to_string(k);
      const Level level = static_cast<Level>(index_of(level_names, group.at("level").get<std::string>()));
      auto grades = group.contains("grades") ? group.at("grades").get<std::array<int, 2>>() : default_grades(level);
      if (grades[0] > grades[1])
        errors.push_back(path + "/grades: first grade must not exceed the last (got " + group.at("grades").dump() + ")");
      const int n_served = grades[1] - grades[0] + 1;
      if (grades[0] <= grades[1] && group.at("enrollment").get<int>() < n_served)
        errors.push_back(path + "/enrollment: needs at least one student per grade served (" +
                         std::to_string(n_served) + "), got " + group.at("enrollment").dump() + ")");
      if (group.contains("model") && group.contains("models"))
        errors.push_back(path + ": give either model or models, not both (got both)");
      if (group.contains("model") && !models.contains(group.at("model").get<std::string>()))
        errors.push_back(path + "/model: unknown instructional model; known models are " + model_names + " (got " +
                         group.at("model").dump() + ")");
      if (group.contains("models")) {
        double share = 0;
        for (const auto& [name, s] : group.at("models").items()) {
          share += s.get<double>();
          if (!models.contains(name))
            errors.push_back(path + "/models/" + name + ": unknown instructional model; known models are " +
                             model_names + " (got \"" + name + "\")");
        }
        if (std::abs(share - 1.0) > 1e-6)
          errors.push_back(path + "/models: shares must sum to 1 (got " + std::to_string(share) + ")");
      }
      // model_years: its items' types and ranges are the specification's; their order, the run's length
      // and a model to run are checked here, on two whole numbers only.
      if (group.contains("model_years")) {
        const auto& span = group.at("model_years");
        const auto year_item = [&](std::size_t i) {
          return span.size() > i && span[i].is_number() && std::floor(span[i].get<double>()) == span[i].get<double>() &&
                 span[i].get<double>() >= 1 && span[i].get<double>() <= max_years;
        };
        if (span.is_array() && span.size() == 2 && year_item(0) && year_item(1)) {
          if (span[1].get<double>() < span[0].get<double>())
            errors.push_back(path + "/model_years: the last year must not come before the first (got " + span.dump() +
                             ")");
          if (span[1].get<double>() > years)
            errors.push_back(path + "/model_years/1: must be within the scenario's " + std::to_string(years) +
                             " years (got " + span[1].dump() + ")");
        }
        bool personalized = group.contains("model") && group.at("model") != "traditional";
        if (group.contains("models") && group.at("models").is_object())
          for (const auto& [name, s] : group.at("models").items())
            personalized = personalized || (name != "traditional" && s.is_number() && s.get<double>() > 0);
        if (!personalized)
          errors.push_back(path + "/model_years: names the years of the group's model, but its schools are "
                           "traditional; give the group a model or models (got " + quoted_value(span) + ")");
      }
      total_students += districts[d].at("count").get<double>() * group.at("count").get<double>() *
                        group.at("enrollment").get<double>();
      total_schools += districts[d].at("count").get<double>() * group.at("count").get<double>();
    }
    total_districts += districts[d].at("count").get<double>();
  }
  for (std::size_t d = 0; d < districts.size(); ++d) {
    if (!districts[d].contains("rollout")) continue;
    const auto& plan = districts[d].at("rollout");
    const std::string path = "/districts/" + std::to_string(d) + "/rollout";
    if (plan.contains("model") && !models.contains(plan.at("model").get<std::string>()))
      errors.push_back(path + "/model: unknown instructional model; known models are " + model_names + " (got " +
                       plan.at("model").dump() + ")");
    if (plan.contains("model") && plan.at("model") == "traditional")
      errors.push_back(path + "/model: a plan spreads a personalized model, not traditional (got \"traditional\")");
    if (plan.contains("model") && models.contains(plan.at("model").get<std::string>()) &&
        models.at(plan.at("model").get<std::string>()).value("python_policy", false))
      errors.push_back(path + "/model: a plan cannot spread a Python-policy model (got " + plan.at("model").dump() + ")");
    const auto increasing = [&](const char* key, const char* field) {
      const auto& items = plan.at(key);
      for (std::size_t i = 1; i < items.size(); ++i)
        if (items[i].at(field).get<int>() <= items[i - 1].at(field).get<int>())
          errors.push_back(path + "/" + key + "/" + std::to_string(i) + "/" + field + ": must be later than the one "
                           "before (" + items[i - 1].at(field).dump() + "), got " + items[i].at(field).dump());
    };
    if (plan.contains("targets")) increasing("targets", "year");
    if (plan.contains("waves")) increasing("waves", "from_year");
    if (plan.contains("targets"))
      for (std::size_t i = 1; i < plan.at("targets").size(); ++i)
        if (plan.at("targets")[i].at("share").get<double>() < plan.at("targets")[i - 1].at("share").get<double>())
          errors.push_back(path + "/targets/" + std::to_string(i) + "/share: targets may not fall (got " +
                           plan.at("targets")[i].at("share").dump() + " after " +
                           plan.at("targets")[i - 1].at("share").dump() + ")");
  }
  // District names are how results, grants and reports tell districts apart: unique as written, and
  // unique in the run, where the copies of a district of count N are NAME-1 to NAME-N.
  std::unordered_map<std::string, std::size_t> spec_index, run_index;
  const bool few_districts = total_districts <= max_districts;
  for (std::size_t d = 0; d < districts.size(); ++d) {
    const std::string name = districts[d].at("name").get<std::string>();
    const std::string path = "/districts/" + std::to_string(d) + "/name";
    if (const auto [it, fresh] = spec_index.emplace(name, d); !fresh) {
      errors.push_back(path + ": district " + std::to_string(it->second) + " has the same name; district names must "
                       "be unique (got " + districts[d].at("name").dump() + ")");
      continue;
    }
    if (!few_districts) continue;  // refused below; naming a million copies would be wasted work
    const int copies = districts[d].at("count").get<int>();
    for (int c = 1; c <= copies; ++c) {
      const std::string run_name = copies > 1 ? name + "-" + std::to_string(c) : name;
      if (const auto [it, fresh] = run_index.emplace(run_name, d); !fresh && it->second != d) {
        errors.push_back(path + ": districts " + std::to_string(it->second) + " and " + std::to_string(d) +
                         " would both have a district named \"" + run_name + "\" in the run (the copies of a district "
                         "of count N are NAME-1 to NAME-N); rename one (got " + districts[d].at("name").dump() + ")");
        break;
      }
    }
  }
  std::unordered_map<std::string, double> schools_of;  // district name -> schools in one copy
  std::string district_names;
  for (const auto& d : districts) {
    district_names += (district_names.empty() ? "" : ", ") + d.at("name").get<std::string>();
    double schools = 0;
    for (const auto& group : d.at("schools")) schools += group.at("count").get<double>();
    schools_of.emplace(d.at("name").get<std::string>(), schools);
  }
  const auto& grants = doc.at("grants");
  for (std::size_t i = 0; i < grants.size(); ++i) {
    const auto& g = grants[i];
    const std::string path = "/grants/" + std::to_string(i);
    const auto recipient = schools_of.find(g.at("recipient").get<std::string>());
    const bool known = recipient != schools_of.end();
    if (known && g.contains("school") && g.at("school").get<double>() >= recipient->second)
      errors.push_back(path + "/school: the district " + g.at("recipient").dump() + " has " +
                       std::to_string(static_cast<long long>(recipient->second)) + " schools, numbered from 0 (got " +
                       g.at("school").dump() + ")");
    if (!known)
      errors.push_back(path + "/recipient: no district of that name; districts are " + district_names + " (got " +
                       g.at("recipient").dump() + ")");
    if (g.at("from_year").get<int>() > g.at("to_year").get<int>())
      errors.push_back(path + "/to_year: must not come before from_year (" + g.at("from_year").dump() + "), got " +
                       g.at("to_year").dump());
    if (g.at("to_year").get<int>() > years)
      errors.push_back(path + "/to_year: must be within the scenario's " + std::to_string(years) + " years (got " +
                       g.at("to_year").dump() + ")");
  }
  // Limits on the work of a run, checked before anything is allocated (the US has about 100,000
  // public schools in 13,000 districts, and 50 million students).
  if (total_students > 5e7)
    errors.push_back("/districts: at most 50,000,000 students per run (got " + std::to_string(total_students) + ")");
  if (total_schools > max_schools)
    errors.push_back("/districts: at most " + std::to_string(max_schools) + " schools per run (got " +
                     std::to_string(static_cast<long long>(total_schools)) + ")");
  if (!few_districts)
    errors.push_back("/districts: at most " + std::to_string(max_districts) + " districts per run, counting each "
                     "copy of a district with count > 1 (got " + std::to_string(static_cast<long long>(total_districts)) + ")");
  const auto priors = check_priors(doc);
  errors.insert(errors.end(), priors.begin(), priors.end());
  return errors;
}

}  // namespace plsim::loader
