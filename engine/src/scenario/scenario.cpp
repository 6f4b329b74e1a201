#include "plsim/scenario/scenario.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "calibrated_defaults.hpp"

namespace plsim {

using nlohmann::json;
using Props = std::vector<std::pair<std::string, Spec>>;

ScenarioError::ScenarioError(std::vector<std::string> errors)
    : std::runtime_error([&] {
        std::string text;
        for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e;
        return text;
      }()),
      errors_(std::move(errors)) {}

namespace {

constexpr double inf = 1e300;

Spec learning_spec() {
  const LearningParameters d;
  json pace = {{"math", calibrated::grade_pace_math}, {"reading", calibrated::grade_pace_reading}};
  json efficiency = json::object();
  for (int m = 0; m < n_modes; ++m) efficiency[mode_names[m]] = d.mode_efficiency[m];
  Props eff_props;
  for (int m = 0; m < n_modes; ++m)
    eff_props.emplace_back(mode_names[m], Spec::number(0, 10, d.mode_efficiency[m],
                                                       std::string("learning per minute in ") + mode_names[m] +
                                                           ", relative to well-matched whole-class teaching"));
  auto grade_array = [](const char* subject) {
    return Spec::array_of(Spec::number(0, 20, nullptr, "multiplier for one grade"), n_grades, n_grades,
                          std::string("calibrated pace for ") + subject + ", grades K-12");
  };
  return Spec::object(
      "Learner model and instruction parameters",
      Props{
          {"units_per_grade", Spec::integer(1, 60, d.units_per_grade, "knowledge-map units per grade level")},
          {"levels_below", Spec::integer(0, 6, d.levels_below, "grade levels of units below kindergarten")},
          {"learn_rate", Spec::number(0, 1, d.learn_rate,
                                      "BKT learn probability per practice opportunity (median student, "
                                      "full match); ASSISTments median 0.08")},
          {"minutes_per_opportunity", Spec::positive(d.minutes_per_opportunity,
                                                     "instructional minutes per practice opportunity")},
          {"prior", Spec::number(0, 0.9, d.prior, "BKT probability that a new unit is already known")},
          {"absorption_limit",
           Spec::number(0.1, 100, d.absorption_limit,
                        "weekly learning hazard h saturates as h * limit / (limit + h): a student absorbs only "
                        "so much a week, which keeps even ideal one-to-one tutoring below Bloom's two sigma")},
          {"mastery_threshold", Spec::number(0.5, 0.999, d.mastery_threshold, "BKT mastery criterion")},
          {"gap_penalty", Spec::number(0, 1, d.gap_penalty,
                                       "share of learning lost when every prerequisite unit is a gap")},
          {"prerequisite_window", Spec::integer(1, 64, d.prerequisite_window,
                                                "units below the frontier that act as prerequisites")},
          {"mismatch_width_behind", Spec::number(0.5, 64, d.mismatch_width_behind,
                                                   "units; learning falls as exp(-distance/width) when "
                                                   "instruction is above the student's frontier")},
          {"mismatch_width_ahead", Spec::number(0.5, 64, d.mismatch_width_ahead,
                                                  "units; same when instruction is below the frontier")},
          {"ahead_floor", Spec::number(0, 1, d.ahead_floor,
                                       "share of learning left when instruction is far below the student")},
          {"seat_time_slack", Spec::number(0, 24, d.seat_time_slack,
                                           "units behind the pacing guide before seat time moves a student on")},
          {"pacing_grade_level_weight",
           Spec::number(0, 1, d.pacing_grade_level_weight,
                        "where each class's pacing guide starts: 1 = national grade level, 0 = class median")},
          {"mode_efficiency", Spec::object("learning per minute of each instruction mode", eff_props)},
          {"small_group_estimate_error", Spec::number(0, 24, d.small_group_estimate_error,
                                                      "units: error of the teacher's placement of a student")},
          {"software_estimate_error", Spec::number(0, 24, d.software_estimate_error,
                                                   "units: error of adaptive software's frontier estimate")},
          {"software_subject_efficiency",
           Spec::object("multiplier of adaptive-software learning per subject: computer-assisted learning "
                        "shows larger effects in math than in reading (Escueta et al. 2017)",
                        Props{{"math", Spec::number(0, 2, d.software_subject_efficiency[0], "math")},
                              {"reading", Spec::number(0, 2, d.software_subject_efficiency[1], "reading")}})},
          {"self_regulation_floor", Spec::number(0, 1, d.self_regulation_floor,
                                                 "share of software minutes that count at zero self-regulation")},
          {"gap_repair_share", Spec::number(0, 1, d.gap_repair_share,
                                            "share of targeted time spent on recent gaps when there are any")},
          {"gap_repair_ease", Spec::positive(d.gap_repair_ease, "relearning a gap is this many times faster")},
          {"engagement_baseline", Spec::number(0.05, 1, d.engagement_baseline,
                                               "engagement of a student taught at his level, without choice, "
                                               "contact or collaboration; learning scales with engagement / this")},
          {"engagement_rate", Spec::number(0, 1, d.engagement_rate, "weekly adjustment of engagement toward its target")},
          {"engagement_collaborative_bonus", Spec::number(0, 1, d.engagement_collaborative_bonus,
                                                          "rise of the engagement target when all time is collaborative")},
          {"frl_learning_multiplier", Spec::number(0.1, 2, d.frl_learning_multiplier,
                                                   "learning-rate multiplier of FRL students")},
          {"learning_rate_sd", Spec::number(0, 2, d.learning_rate_sd, "lognormal SD of student learning rates")},
          {"learning_rate_achievement_correlation",
           Spec::number(-1, 1, d.learning_rate_achievement_correlation,
                        "correlation of the learning rate with starting achievement")},
          {"status_neutral_growth",
           Spec::number(0, 2, d.status_neutral_growth,
                        "exponent of the scale-slope ratio in a student's learning rate: 1 makes expected RIT "
                        "growth independent of starting status, 0 gives every student the same unit rate")},
          {"teacher_effect_sd", Spec::number(0, 2, d.teacher_effect_sd, "lognormal SD of teacher effectiveness")},
          {"school_growth_sd", Spec::number(0, 2, d.school_growth_sd, "lognormal SD of school effects on learning")},
          {"grade_pace", Spec::object("calibrated learn-rate multiplier per grade",
                                      Props{{"math", grade_array("math").with_default(pace["math"])},
                                            {"reading", grade_array("reading").with_default(pace["reading"])}})},
      });
}

Spec population_spec() {
  const PopulationParameters d;
  return Spec::object(
      "Synthetic population parameters",
      Props{
          {"school_mean_sd", Spec::number(0, 0.95, d.school_mean_sd,
                                          "SD of school mean achievement in student SDs, national population")},
          {"frl_achievement_gap", Spec::number(0, 3, d.frl_achievement_gap, "FRL students start this many SDs lower")},
          {"national_frl_share", Spec::number(0, 1, d.national_frl_share, "mean school FRL share, national population")},
          {"national_frl_share_sd", Spec::number(0, 0.5, d.national_frl_share_sd, "SD of school FRL shares, national")},
          {"subject_correlation", Spec::number(-1, 1, d.subject_correlation, "correlation of math and reading achievement")},
          {"gap_share_base", Spec::number(0, 0.5, d.gap_share_base, "share of passed units that are gaps, average student")},
          {"gap_share_per_sd_below", Spec::number(0, 0.5, d.gap_share_per_sd_below,
                                                  "added gap share per SD below the national mean")},
          {"self_regulation_mean", Spec::number(0, 1, d.self_regulation_mean, "mean self-regulation")},
          {"self_regulation_sd", Spec::number(0, 1, d.self_regulation_sd, "SD of self-regulation")},
          {"self_regulation_achievement_correlation",
           Spec::number(-1, 1, d.self_regulation_achievement_correlation, "correlation with achievement")},
          {"attendance_mean", Spec::number(0.5, 1, d.attendance_mean, "mean share of time present")},
          {"attendance_frl_gap", Spec::number(0, 0.5, d.attendance_frl_gap, "attendance gap of FRL students")},
          {"attendance_sd", Spec::number(0, 0.5, d.attendance_sd, "SD of attendance")},
          {"tracking_from_grade", Spec::integer(0, 13, d.tracking_from_grade,
                                                "from this grade on, classrooms are formed by achievement "
                                                "(course tracking); 13 = never")},
      });
}

Spec assessment_spec() {
  const AssessmentParameters d;
  return Spec::object(
      "Assessments",
      Props{
          {"measurement_error_rit", Spec::number(0, 20, d.measurement_error_rit, "SD of test error in RIT")},
          {"weeks", Spec::object("week of the year (1-based) of each assessment window",
                                 Props{{"fall", Spec::integer(1, 52, d.weeks[0], "fall window")},
                                       {"winter", Spec::integer(1, 52, d.weeks[1], "winter window")},
                                       {"spring", Spec::integer(1, 52, d.weeks[2], "spring window")}})},
      });
}

Spec summer_spec() {
  const SummerParameters d;
  return Spec::object(
      "Summer step between school years",
      Props{
          {"loss_scale", Spec::number(0, 5, d.loss_scale, "multiplier on the norm-derived summer loss")},
          {"frl_extra_loss", Spec::number(0, 5, d.frl_extra_loss, "FRL students lose this share more")},
          {"loss_sd", Spec::number(0, 2, d.loss_sd, "relative student variation of the loss")},
      });
}

Spec instructional_model_spec() {
  Props minutes;
  for (const char* name : mode_names)
    minutes.emplace_back(name, Spec::number(0, 3000, 0.0, std::string("weekly minutes per subject in ") + name));
  Props asks;
  for (const char* name : element_names)
    asks.emplace_back(name, Spec::number(0, 1, 0.0, std::string("how much the model demands of teachers in ") + name));
  const InstructionalModel d;
  return Spec::object(
      "An instructional model: weekly minutes per subject in each mode and a progression rule",
      Props{
          {"description", Spec::text("", "what the model is")},
          {"minutes", Spec::object("weekly minutes per subject in each instruction mode", minutes).as_required()},
          {"progression", Spec::text("seat_time", "how students move between units",
                                     {progression_names.begin(), progression_names.end()})},
          {"small_groups", Spec::integer(1, 16, d.small_groups, "small groups per classroom")},
          {"regroup_weeks", Spec::integer(1, 52, d.regroup_weeks, "small groups are re-formed this often")},
          {"asks", Spec::object("how much of each personalized-learning element the model demands of teachers and "
                                "schools (0..1): what is delivered is this scaled by their capacity",
                                asks)},
          {"choice", Spec::number(0, 1, d.choice, "share of time in which students choose what they work on")},
          {"check_ins", Spec::number(0, 1, d.check_ins, "teacher check-ins during independent time")},
          {"open_space", Spec::number(0, 1, d.open_space, "share of time in open, shared spaces (noise)")},
          {"test_out", Spec::flag(d.test_out, "students may take an on-demand test to move on")},
          {"autonomy_levels", Spec::integer(0, 8, d.autonomy_levels,
                                            "levels of autonomy students earn (0: none); minutes move from "
                                            "`minutes` at the first level to `top_level_minutes` at the last")},
          {"top_level_minutes", Spec::object("weekly minutes at the highest autonomy level", minutes)},
          {"python_policy", Spec::flag(false, "minutes are set every week by the plsim.Policy of this name "
                                              "registered with the Sim; `minutes` are its defaults")},
      });
}

Spec fidelity_spec() {
  Props props;
  for (const char* name : element_names)
    props.emplace_back(name, Spec::number(0, 1, 1.0, std::string("mean school capacity to deliver ") + name));
  props.emplace_back("sd", Spec::number(0, 0.5, 0.0, "SD of school capacity across the group's schools"));
  return Spec::object("capacity of the schools to deliver each personalized-learning element (0..1)", props);
}

Spec personalization_spec() {
  const PersonalizationParameters d;
  const auto& y = d.implementation_year_fidelity;
  return Spec::object(
      "Personalized-learning mechanisms",
      Props{
          {"estimate_error_scale", Spec::number(0, 20, d.estimate_error_scale,
                                                "estimate errors grow by this factor at zero learner-profile fidelity")},
          {"noise_penalty", Spec::number(0, 1, d.noise_penalty,
                                         "learning lost in fully open space without flexible-environment skill")},
          {"engagement_choice", Spec::number(0, 1, d.engagement_choice, "engagement target rise with full choice")},
          {"engagement_contact", Spec::number(0, 1, d.engagement_contact,
                                              "engagement target rise with all time in teacher contact")},
          {"engagement_mismatch", Spec::number(0, 1, d.engagement_mismatch,
                                               "engagement target fall when nothing taught matches the student")},
          {"engagement_noise", Spec::number(0, 1, d.engagement_noise, "engagement target fall in fully open space")},
          {"check_in_recovery", Spec::number(0, 1, d.check_in_recovery,
                                             "share of the self-regulation shortfall that full check-ins recover")},
          {"test_out_threshold", Spec::number(0, 1, d.test_out_threshold,
                                              "P(known) at which a student asks for an on-demand test")},
          {"test_guess", Spec::number(0, 0.5, d.test_guess, "P(pass) of an on-demand test on an unknown unit")},
          {"test_slip", Spec::number(0, 0.5, d.test_slip, "P(fail) of an on-demand test on a known unit")},
          {"implementation_year_fidelity",
           Spec::array_of(Spec::number(0, 1, nullptr, "multiplier"), 3, 3,
                          "capacity multiplier in implementation years 1, 2 and 3+")
               .with_default(json::array({y[0], y[1], y[2]}))},
          {"teacher_capacity_sd", Spec::number(0, 1, d.teacher_capacity_sd, "SD of teachers' PL capacity")},
          {"autonomy_engagement", Spec::number(0, 1, d.autonomy_engagement,
                                               "engagement needed to earn the next autonomy level")},
          {"autonomy_self_regulation_step", Spec::number(0, 1, d.autonomy_self_regulation_step,
                                                         "self-regulation needed rises by this per level")},
          {"autonomy_self_regulation_base", Spec::number(0, 1, d.autonomy_self_regulation_base,
                                                         "self-regulation needed to earn the second autonomy level")},
          {"autonomy_demotion_margin", Spec::number(0, 1, d.autonomy_demotion_margin,
                                                    "engagement this far below autonomy_engagement loses a level")},
          {"open_space_noise_reduction", Spec::number(0, 1, d.open_space_noise_reduction,
                                                      "share of open-space noise a fully delivered flexible "
                                                      "environment removes")},
      });
}

Spec school_group_spec() {
  return Spec::object(
      "A group of similar schools in each district",
      Props{
          {"level", Spec::text(nullptr, "school level", {level_names.begin(), level_names.end()}).as_required()},
          {"type", Spec::text("district", "governance", {school_type_names.begin(), school_type_names.end()})},
          {"count", Spec::integer(1, 100000, 1, "number of schools in the group")},
          {"enrollment", Spec::integer(1, 20000, nullptr, "students per school").as_required()},
          {"grades", Spec::array_of(Spec::integer(0, 12, nullptr, "grade, 0 = kindergarten"), 2, 2,
                                    "first and last grade served; default by level: elementary [0, 5], "
                                    "middle [6, 8], high [9, 12]")},
          {"class_size", Spec::integer(1, 64, nullptr,
                                       "students per classroom; default by level: 22, 26, 28")},
          {"frl_share", Spec::object("share of students eligible for free/reduced-price lunch",
                                     Props{{"mean", Spec::number(0, 1, 0.5, "mean over the group's schools")},
                                           {"sd", Spec::number(0, 0.5, 0.25, "SD over the group's schools")}})},
          {"achievement_shift_sd", Spec::number(-3, 3, 0.0, "starting achievement shift in student SDs")},
          {"model", Spec::text(nullptr, "instructional model of every school in the group (default traditional)")},
          {"models", Spec::map_of(Spec::number(0, 1, nullptr, "share of schools"),
                                  "shares of schools per instructional model, summing to 1")},
          {"fidelity", fidelity_spec()},
          {"implementation_year",
           Spec::integer(1, 50, 3, "year of implementation of the schools' model in the first simulated year "
                                   "(1: first year; fidelity grows over the first years)")},
      });
}

Spec build_scenario_spec() {
  return Spec::object(
      "A plsim scenario",
      Props{
          {"name", Spec::text(nullptr, "scenario name").as_required()},
          {"description", Spec::text("", "what the scenario represents")},
          {"seed", Spec::integer(0, 9007199254740991.0, 1, "random seed (an integer up to 2^53 - 1)")},
          {"years", Spec::integer(1, 50, 1, "school years to simulate")},
          {"weeks_per_year", Spec::integer(10, 52, 36, "instructional weeks per school year")},
          {"parameters", Spec::object("model parameters; every key is optional",
                                      Props{{"learning", learning_spec()},
                                            {"personalization", personalization_spec()},
                                            {"population", population_spec()},
                                            {"assessment", assessment_spec()},
                                            {"summer", summer_spec()}})},
          {"counterfactual", Spec::text("auto", "also run the counterfactual twin (every school traditional, "
                                                "same random numbers) to measure true effects; auto: when any "
                                                "school is not traditional",
                                        {"auto", "always", "never"})},
          {"instructional_models",
           Spec::map_of(instructional_model_spec(),
                        "instructional models by name, added to or replacing the built-in ones (see "
                        "engine/data/instructional_models.json)")
               .with_default(json::object())},
          {"districts",
           Spec::array_of(Spec::object("a district, replicated `count` times",
                                       Props{{"name", Spec::text(nullptr, "district name").as_required()},
                                             {"count", Spec::integer(1, 10000, 1, "number of such districts")},
                                             {"achievement_shift_sd",
                                              Spec::number(-3, 3, 0.0, "starting achievement shift in student SDs")},
                                             {"schools", Spec::array_of(school_group_spec(), 1, 1000,
                                                                        "school groups")
                                                             .as_required()}}),
                          1, 10000, "districts")
               .as_required()},
      });
}

json builtin_models() {
  static const json models = json::parse(builtin_instructional_models_json());
  return models;
}

// The built-in models with the scenario's own added or replacing them, by name.
json known_models(const json& scenario_models) {
  json models = builtin_models();
  for (const auto& [name, m] : scenario_models.items()) models[name] = m;
  return models;
}

std::array<int, 2> default_grades(Level level) {
  switch (level) {
    case Level::elementary: return {0, 5};
    case Level::middle: return {6, 8};
    case Level::high: return {9, 12};
  }
  return {0, 12};
}

int default_class_size(Level level) {
  switch (level) {
    case Level::elementary: return 22;
    case Level::middle: return 26;
    case Level::high: return 28;
  }
  return 25;
}

// Checks that need more than one value at a time; `doc` has defaults filled.
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
  if (school_sd * school_sd < gap * gap * sd * sd)
    errors.push_back("/parameters/population/school_mean_sd: too small for the FRL composition alone "
                     "(frl_achievement_gap * national_frl_share_sd = " + std::to_string(gap * sd) + ", got " +
                     std::to_string(school_sd) + ")");
  if (1.0 - school_sd * school_sd - gap * gap * std::max(0.0, m * (1 - m) - sd * sd) <= 0.05)
    errors.push_back("/parameters/population: school_mean_sd and frl_achievement_gap leave no variation "
                     "between students of a school (got " + pop.dump() + ")");

  double total_students = 0;
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
      total_students += districts[d].at("count").get<double>() * group.at("count").get<double>() *
                        group.at("enrollment").get<double>();
    }
  }
  if (total_students > 5e7)
    errors.push_back("/districts: at most 50,000,000 students per run (got " + std::to_string(total_students) + ")");
  return errors;
}

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

template <std::size_t N>
std::array<double, N> to_array(const json& j) {
  std::array<double, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = j.at(i).get<double>();
  return out;
}

Parameters parameters_from(const json& p) {
  Parameters out;
  const auto& l = p["learning"];
  auto& L = out.learning;
  L.units_per_grade = l["units_per_grade"];
  L.levels_below = l["levels_below"];
  L.learn_rate = l["learn_rate"];
  L.minutes_per_opportunity = l["minutes_per_opportunity"];
  L.prior = l["prior"];
  L.absorption_limit = l["absorption_limit"];
  L.mastery_threshold = l["mastery_threshold"];
  L.gap_penalty = l["gap_penalty"];
  L.prerequisite_window = l["prerequisite_window"];
  L.mismatch_width_behind = l["mismatch_width_behind"];
  L.mismatch_width_ahead = l["mismatch_width_ahead"];
  L.ahead_floor = l["ahead_floor"];
  L.seat_time_slack = l["seat_time_slack"];
  L.pacing_grade_level_weight = l["pacing_grade_level_weight"];
  for (int m = 0; m < n_modes; ++m) L.mode_efficiency[m] = l["mode_efficiency"][mode_names[m]];
  L.small_group_estimate_error = l["small_group_estimate_error"];
  L.software_estimate_error = l["software_estimate_error"];
  L.self_regulation_floor = l["self_regulation_floor"];
  for (int s = 0; s < n_subjects; ++s) L.software_subject_efficiency[s] = l["software_subject_efficiency"][subject_names[s]];
  L.gap_repair_share = l["gap_repair_share"];
  L.gap_repair_ease = l["gap_repair_ease"];
  L.engagement_baseline = l["engagement_baseline"];
  L.engagement_rate = l["engagement_rate"];
  L.engagement_collaborative_bonus = l["engagement_collaborative_bonus"];
  L.frl_learning_multiplier = l["frl_learning_multiplier"];
  L.learning_rate_sd = l["learning_rate_sd"];
  L.learning_rate_achievement_correlation = l["learning_rate_achievement_correlation"];
  L.status_neutral_growth = l["status_neutral_growth"];
  L.teacher_effect_sd = l["teacher_effect_sd"];
  L.school_growth_sd = l["school_growth_sd"];
  for (int s = 0; s < n_subjects; ++s) L.grade_pace[s] = to_array<n_grades>(l["grade_pace"][subject_names[s]]);

  const auto& q = p["population"];
  auto& P = out.population;
  P.school_mean_sd = q["school_mean_sd"];
  P.frl_achievement_gap = q["frl_achievement_gap"];
  P.national_frl_share = q["national_frl_share"];
  P.national_frl_share_sd = q["national_frl_share_sd"];
  P.subject_correlation = q["subject_correlation"];
  P.gap_share_base = q["gap_share_base"];
  P.gap_share_per_sd_below = q["gap_share_per_sd_below"];
  P.self_regulation_mean = q["self_regulation_mean"];
  P.self_regulation_sd = q["self_regulation_sd"];
  P.self_regulation_achievement_correlation = q["self_regulation_achievement_correlation"];
  P.attendance_mean = q["attendance_mean"];
  P.attendance_frl_gap = q["attendance_frl_gap"];
  P.attendance_sd = q["attendance_sd"];
  P.tracking_from_grade = q["tracking_from_grade"];

  const auto& a = p["assessment"];
  out.assessment.measurement_error_rit = a["measurement_error_rit"];
  for (int s = 0; s < n_seasons; ++s) out.assessment.weeks[s] = a["weeks"][season_names[s]];

  const auto& pl = p["personalization"];
  auto& PL = out.personalization;
  PL.estimate_error_scale = pl["estimate_error_scale"];
  PL.noise_penalty = pl["noise_penalty"];
  PL.engagement_choice = pl["engagement_choice"];
  PL.engagement_contact = pl["engagement_contact"];
  PL.engagement_mismatch = pl["engagement_mismatch"];
  PL.engagement_noise = pl["engagement_noise"];
  PL.check_in_recovery = pl["check_in_recovery"];
  PL.test_out_threshold = pl["test_out_threshold"];
  PL.test_guess = pl["test_guess"];
  PL.test_slip = pl["test_slip"];
  PL.implementation_year_fidelity = to_array<3>(pl["implementation_year_fidelity"]);
  PL.teacher_capacity_sd = pl["teacher_capacity_sd"];
  PL.autonomy_engagement = pl["autonomy_engagement"];
  PL.autonomy_self_regulation_step = pl["autonomy_self_regulation_step"];
  PL.autonomy_self_regulation_base = pl["autonomy_self_regulation_base"];
  PL.autonomy_demotion_margin = pl["autonomy_demotion_margin"];
  PL.open_space_noise_reduction = pl["open_space_noise_reduction"];

  const auto& su = p["summer"];
  out.summer.loss_scale = su["loss_scale"];
  out.summer.frl_extra_loss = su["frl_extra_loss"];
  out.summer.loss_sd = su["loss_sd"];
  return out;
}

std::array<double, n_modes> minutes_from(const json& minutes) {
  std::array<double, n_modes> out{};
  for (int k = 0; k < n_modes; ++k) out[k] = minutes.value(mode_names[k], 0.0);
  return out;
}

InstructionalModel instructional_model_from(const std::string& name, const json& m) {
  InstructionalModel out;
  out.name = name;
  out.description = m.value("description", "");
  out.minutes = minutes_from(m["minutes"]);
  out.progression = static_cast<Progression>(index_of(progression_names, m.value("progression", "seat_time")));
  out.small_groups = m["small_groups"];
  out.regroup_weeks = m["regroup_weeks"];
  for (int e = 0; e < n_elements; ++e) out.asks[e] = m["asks"][element_names[e]];
  out.choice = m["choice"];
  out.check_ins = m["check_ins"];
  out.open_space = m["open_space"];
  out.test_out = m["test_out"];
  out.autonomy_levels = m["autonomy_levels"];
  out.python_policy = m["python_policy"];
  out.top_level_minutes = minutes_from(m["top_level_minutes"]);
  return out;
}

}  // namespace

const Spec& scenario_spec() {
  static const Spec spec = build_scenario_spec();
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
  // Checks across values need the defaults filled in; a document whose structure is too broken for
  // that (a wrong type where an object is expected) gets its structural errors first.
  try {
    const auto meaning = check_meaning(fill_defaults(doc, scenario_spec()));
    errors.insert(errors.end(), meaning.begin(), meaning.end());
  } catch (const nlohmann::json::exception&) {
    if (errors.empty()) throw;
  }
  return with_source(errors, source);
}

json resolve_scenario(const json& doc, const std::string& source) {
  auto errors = check_scenario(doc, source);
  if (!errors.empty()) throw ScenarioError(errors);
  json filled = fill_defaults(doc, scenario_spec());
  filled["instructional_models"] =
      fill_defaults(known_models(filled["instructional_models"]), property_spec(scenario_spec(), "instructional_models"));
  for (auto& district : filled["districts"]) {
    for (auto& group : district["schools"]) {
      const Level level = static_cast<Level>(index_of(level_names, group["level"].get<std::string>()));
      if (!group.contains("grades")) group["grades"] = default_grades(level);
      if (!group.contains("class_size")) group["class_size"] = default_class_size(level);
      if (!group.contains("models")) group["models"] = {{group.value("model", "traditional"), 1.0}};
      group.erase("model");
    }
  }
  return filled;
}

Model build_model(const json& doc, const std::string& source) {
  const json s = resolve_scenario(doc, source);
  Model model(parameters_from(s["parameters"]), Norms::national_2020(), s["weeks_per_year"].get<int>());
  model.name = s["name"];
  model.description = s["description"];
  model.seed = s["seed"].get<std::uint64_t>();
  model.years = s["years"];
  model.counterfactual = s["counterfactual"].get<std::string>();
  for (const auto& [name, m] : s["instructional_models"].items())
    model.instructional_models.push_back(instructional_model_from(name, m));
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
        group.models.emplace_back(model.model_index(name), share.get<double>());
      for (int e = 0; e < n_elements; ++e) group.fidelity[e] = g["fidelity"][element_names[e]];
      group.fidelity_sd = g["fidelity"]["sd"];
      group.implementation_year = g["implementation_year"];
      district.schools.push_back(group);
    }
    model.districts.push_back(district);
  }
  return model;
}

json read_scenario_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError({path + ": cannot open the file"});
  try {
    return json::parse(in);
  } catch (const json::parse_error& e) {
    throw ScenarioError({path + ": invalid JSON: " + e.what()});
  }
}

}  // namespace plsim
