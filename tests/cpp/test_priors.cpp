// The scenario's "priors" section: validated with the rest of the scenario, each error naming its path.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "helpers.hpp"
#include "plsim/scenario/scenario.hpp"

using namespace plsim;
using plsim_test::json;
using Catch::Matchers::Contains;

namespace {

json with_priors(const json& priors) {
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 132}}}));
  doc["priors"] = priors;
  return doc;
}

std::string all(const std::vector<std::string>& errors) {
  std::string text;
  for (const auto& e : errors) text += e + "\n";
  return text;
}

}  // namespace

TEST_CASE("priors of every family on parameters and list elements are valid", "[priors]") {
  const json priors = {
      {"learning.learn_rate", {{"distribution", "lognormal"}, {"sd_log", 0.3}, {"source", "s"}}},
      {"learning.mode_efficiency.small_group", {{"distribution", "normal"}, {"sd", 0.2}, {"source", "s"}}},
      {"teachers.turnover_rate", {{"distribution", "beta"}, {"mean", 0.16}, {"sd", 0.03}, {"source", "s"}}},
      {"personalization.implementation_dip.0", {{"distribution", "beta"}, {"sd", 0.1}, {"group", "dilution"},
                                                {"source", "s"}}},
      {"costs.coach_cost", {{"distribution", "uniform"}, {"lower", 80000}, {"upper", 110000}, {"source", "s"}}}};
  const auto errors = check_scenario(with_priors(priors), "p.json");
  INFO(all(errors));
  CHECK(errors.empty());
  const json resolved = resolve_scenario(with_priors(priors), "p.json");
  CHECK(resolved["priors"]["learning.learn_rate"]["group"] == "other");
  CHECK(resolve_scenario(with_priors(json::object()), "p.json")["priors"] == json::object());
}

TEST_CASE("a prior on an unknown path suggests the parameter and one on a list asks for an element", "[priors]") {
  const auto errors = check_scenario(
      with_priors({{"learning.learn_rat", {{"distribution", "normal"}, {"sd", 0.01}, {"source", "s"}}},
                   {"personalization.implementation_dip", {{"distribution", "beta"}, {"sd", 0.1}, {"source", "s"}}},
                   {"personalization.implementation_dip.3", {{"distribution", "beta"}, {"sd", 0.1}, {"source", "s"}}},
                   {"costs.device_lifetime_years", {{"distribution", "normal"}, {"sd", 1}, {"source", "s"}}}}),
      "p.json");
  REQUIRE(errors.size() == 4);
  CHECK_THAT(all(errors), Contains("p.json: /priors/learning.learn_rat: not a parameter; a prior's key is the path of "
                                   "a numeric parameter of `plsim params`, or PATH.K for element K of a list (did "
                                   "you mean \"learning.learn_rate\"?)"));
  CHECK_THAT(all(errors), Contains("/priors/personalization.implementation_dip: a prior draws real numbers, and this "
                                   "parameter is a list (name one element: personalization.implementation_dip.0)"));
  CHECK_THAT(all(errors), Contains("/priors/personalization.implementation_dip.3: not a parameter"));
  CHECK_THAT(all(errors), Contains("/priors/costs.device_lifetime_years: a prior draws real numbers, and this "
                                   "parameter is of type integer"));
}

TEST_CASE("a prior's fields are those of its family, its bounds in the parameter's range", "[priors]") {
  const auto errors = check_scenario(
      with_priors({{"learning.learn_rate", {{"distribution", "lognormal"}, {"sd", 0.3}, {"source", "s"}}},
                   {"learning.review_share", {{"distribution", "uniform"}, {"lower", 0.2}, {"source", "s"}}},
                   {"learning.gap_penalty", {{"distribution", "uniform"}, {"lower", 0.5}, {"upper", 1.5}, {"source", "s"}}},
                   {"learning.prior", {{"distribution", "gamma"}, {"source", "s"}}},
                   {"learning.ahead_floor", {{"distribution", "normal"}, {"sd", 0.1}}}}),
      "p.json");
  const std::string text = all(errors);
  CHECK_THAT(text, Contains("p.json: /priors/learning.learn_rate/sd: not a parameter of a lognormal prior (its "
                            "parameters are median, sd_log)"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.learn_rate: a lognormal prior needs sd_log"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.review_share: a uniform prior needs upper"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.gap_penalty/upper: must lie in the parameter's range, 0 to 1 "
                            "(got 1.5)"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.prior/distribution: must be one of normal, lognormal, beta, "
                            "uniform (got \"gamma\")"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.ahead_floor/source: required key is missing"));
  CHECK(errors.size() == 6);
}

TEST_CASE("a prior's centre defaults to the scenario's value and must fit its family", "[priors]") {
  json doc = with_priors({{"learning.review_share", {{"distribution", "beta"}, {"sd", 0.35}, {"source", "s"}}},
                          {"teachers.turnover_rate", {{"distribution", "normal"}, {"mean", 0.5}, {"sd", 0.1},
                                                      {"upper", 0.3}, {"source", "s"}}},
                          {"learning.learn_rate", {{"distribution", "lognormal"}, {"sd_log", 1.5}, {"source", "s"}}}});
  doc["parameters"]["learning"]["review_share"] = 0.1;
  const auto errors = check_scenario(doc, "p.json");
  const std::string text = all(errors);
  // The scenario sets review_share to 0.1: a beta of mean 0.1 on 0..1 takes an SD below 0.3.
  CHECK_THAT(text, Contains("p.json: /priors/learning.review_share/sd: too large for a beta prior with this mean: it "
                            "must be below 0.3 (got 0.35)"));
  CHECK_THAT(text, Contains("p.json: /priors/teachers.turnover_rate/mean: the mean must lie between lower and upper, 0 "
                            "and 0.3"));
  CHECK_THAT(text, Contains("p.json: /priors/learning.learn_rate/sd_log: a lognormal prior this wide puts more than "
                            "0.1% of its draws above the parameter's maximum, 1"));
  CHECK(errors.size() == 3);
  json zero = with_priors({{"learning.gap_penalty", {{"distribution", "lognormal"}, {"sd_log", 0.2}, {"source", "s"}}}});
  zero["parameters"]["learning"]["gap_penalty"] = 0.0;
  CHECK_THAT(all(check_scenario(zero, "z.json")),
             Contains("z.json: /priors/learning.gap_penalty: the median (the parameter's value, 0) of a lognormal "
                      "prior must be positive"));
}
