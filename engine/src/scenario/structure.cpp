// The scenario document's structure: top-level keys, districts and school groups, and the defaults
// that depend on a school's level. Parameters and instructional models come from their declarations
// (parameters.cpp).
#include <string>

#include "loader.hpp"
#include "plsim/scenario/scenario.hpp"

namespace plsim::loader {

using Props = SpecProperties;

namespace {

Spec fidelity_spec() {
  Props props;
  for (const char* name : element_names)
    props.push_back({name, Spec::number(0, 1, 1.0, std::string("mean school capacity to deliver ") + name)});
  props.push_back({"sd", Spec::number(0, 0.5, 0.0, "SD of school capacity across the group's schools")});
  return Spec::object("capacity of the schools to deliver each personalized-learning element (0..1)", props);
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
           Spec::integer(1, 50, 3, "year of implementation of the schools' model in the first simulated year, or "
                                   "in the first of its model_years (1: first year; fidelity grows over the first "
                                   "years)")},
          {"model_years",
           Spec::array_of(Spec::integer(1, max_years, nullptr, "year of the run, 1 = the first"), 2, 2,
                          "first and last year of the run (counted from 1, inclusive) in which the schools run their "
                          "model, school-wide; before and after they teach traditionally (PL stage none). Default: "
                          "every year")},
      });
}

Spec central_office_spec() {
  return Spec::object(
      "the district's central office: how it supports personalized learning",
      Props{
          {"mode", Spec::text("waivers", "waivers: exceptions for PL schools, obstacles stay; system_change: obstacles "
                                         "removed, data and scheduling support (CRPE 2019)",
                              {central_office_names.begin(), central_office_names.end()})},
          {"system_change_from_year",
           Spec::integer(0, max_years, 0, "1-based year from which a waivers office changes systems (0: never)")},
          {"knowledge_management", Spec::flag(false, "proven practice spreads between schools: a proven pilot model "
                                                     "goes on a menu later schools adopt, and peers learn across schools")},
          {"coaches", Spec::integer(0, 100000, 0, "instructional coaches, assigned each year to the practising "
                                                  "teachers of the newest PL schools first")},
          {"coach_caseload", Spec::integer(1, 200, 20, "teachers per coach")},
          {"pd_days", Spec::number(0, 60, 3, "professional-development days a year for practising teachers")},
          {"extra_prep_minutes", Spec::number(0, 3000, 0, "weekly planning time per practising teacher the district "
                                                          "pays for beyond what its mode gives")},
      });
}

Spec rollout_spec() {
  return Spec::object(
      "a rollout plan: targets by year, waves of selection rules, a scale gate",
      Props{
          {"model", Spec::text(nullptr, "the instructional model the plan spreads").as_required()},
          {"start", Spec::text("pilot", "converted schools start as pilots (a few classrooms) or school-wide",
                               {"pilot", "schoolwide"})},
          {"targets",
           Spec::array_of(Spec::object("share of the district's students taught in PL classrooms by a year",
                                       Props{{"year", Spec::integer(1, max_years, nullptr, "1-based year").as_required()},
                                             {"share", Spec::number(0, 1, nullptr, "share of students").as_required()}}),
                          1, 50, "targets in increasing years; linear in between, from 0 before the first")
               .as_required()},
          {"target_kind",
           Spec::text("at_least", "what the targets mean, as whole schools convert: at_least, a floor (schools convert "
                                  "until the target is met; the last may overshoot it, and pilots that go school-wide "
                                  "add more); at_most, a ceiling (no conversion, school-wide pilot or PL classroom "
                                  "takes the district past it); closest, a goal (a school converts, or a pilot goes "
                                  "school-wide, only when that brings the share closer to the target)",
                      {target_kind_names.begin(), target_kind_names.end()})},
          {"waves", Spec::array_of(
                        Spec::object("a selection rule from a year on",
                                     Props{{"from_year", Spec::integer(1, max_years, 1, "1-based first year")},
                                           {"rule", Spec::text(nullptr, "how the schools to convert are chosen",
                                                               {selection_rule_names.begin(), selection_rule_names.end()})
                                                        .as_required()}}),
                        1, 50, "selection rules by year, in increasing from_year")
                        .with_default(json::array({{{"from_year", 1}, {"rule", "volunteers"}}}))},
          {"gate", Spec::object("scale gate: from its year on, widening needs the pilots' measured effect",
                                Props{{"year", Spec::integer(0, max_years, 0, "1-based first gated year (0: no gate)")},
                                      {"min_effect_sd", Spec::number(-3, 3, 0.0, "measured effect the pilots must show, "
                                                                                 "student SD")},
                                      {"min_students", Spec::integer(1, 10000000, 40, "measured pilot students the "
                                                                                      "gate needs to decide")}})},
          {"max_new_schools_per_year", Spec::integer(1, 100000, 100000, "schools the plan converts in a year at most")},
          {"design", Spec::text("invent", "invent: schools design their own model until a proven one is on the "
                                          "menu; adopt: they adopt a proven model",
                                {design_mode_names.begin(), design_mode_names.end()})},
          {"volunteer_leadership", Spec::number(0, 1, 0.6, "leadership from which a principal volunteers")},
          {"readiness_noise", Spec::number(0, 2, 0.15, "SD of the district's error on each trait it judges readiness by")},
      });
}

Spec grant_spec() {
  std::vector<std::string> categories{cost_category_names.begin(), cost_category_names.end()};
  categories.push_back("flexible");
  return Spec::object(
      "money from a funder to a district (each copy of a replicated district receives it)",
      Props{{"funder", Spec::text(nullptr, "who gives the money").as_required()},
            {"recipient", Spec::text(nullptr, "name of the district that receives it").as_required()},
            {"from_year", Spec::integer(1, max_years, 1, "first year (1-based)")},
            {"to_year", Spec::integer(1, max_years, nullptr, "last year (1-based, inclusive)").as_required()},
            {"amount_per_year", Spec::number(0, 1e12, nullptr, "US$ a year").as_required()},
            {"category", Spec::text("flexible", "the cost category it is earmarked for, or flexible", categories)},
            {"school", Spec::integer(0, 10000000, nullptr, "a school of the district (0-based, in the order of "
                                                          "its school groups) whose costs the grant pays first; "
                                                          "absent: the district's")}});
}

}  // namespace

Spec scenario_structure_spec() {
  return Spec::object(
      "A plsim scenario",
      Props{
          {"name", Spec::text(nullptr, "scenario name").as_required()},
          {"description", Spec::text("", "what the scenario represents")},
          {"seed", Spec::integer(0, 9007199254740991.0, 1, "random seed (an integer up to 2^53 - 1)")},
          {"years", Spec::integer(1, max_years, 1, "school years to simulate")},
          {"weeks_per_year", Spec::integer(10, 52, 36, "instructional weeks per school year")},
          {"parameters", parameters_spec()},
          {"counterfactual", Spec::text("auto", "also run the counterfactual twin (every school traditional, "
                                                "same random numbers) to measure true effects; auto: when any "
                                                "school is not traditional",
                                        {counterfactual_names.begin(), counterfactual_names.end()})},
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
                                                             .as_required()},
                                             {"central_office", central_office_spec()},
                                             {"rollout", rollout_spec()},
                                             {"pl_budget_per_year",
                                              Spec::number(0, 1e12, nullptr,
                                                           "US$ a year the district spends on PL beyond its grants "
                                                           "(default: whatever its schools need)")}}),
                          1, 10000, "districts")
               .as_required()},
          {"grants", Spec::array_of(grant_spec(), 0, 1000, "grants to districts").with_default(json::array())},
          {"priors", priors_spec()},
          {"min_cell", Spec::integer(0, 1000000, 0, "exported tables suppress the values of rows with fewer "
                                                    "students than this (0: no suppression; plsim run --min-cell)")},
      });
}

json known_models(const json& scenario_models) {
  static const json builtin = json::parse(builtin_instructional_models_json());
  json models = builtin;
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

}  // namespace plsim::loader
