// Scale-up: teacher PL skill and coaching, preparation and burnout, codifying pilots, central offices,
// rollout plans and their scale gate, and the counterfactual twin that follows a plan.
#include <catch2/catch.hpp>

#include <cmath>

#include "helpers.hpp"
#include "plsim/modules/schools.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// `count` elementary schools in one district whose plan converts every school in year 1 (a lottery,
// school-wide or as pilots) to `model`, for `years` years.
json converting(int count, const std::string& model, int years, const std::string& start = "schoolwide") {
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", count}, {"enrollment", 240},
                                                {"frl_share", {{"mean", 0.5}, {"sd", 0.1}}}}}),
                                  {{"years", years}});
  doc["districts"][0]["rollout"] = {{"model", model}, {"start", start},
                                    {"targets", json::array({{{"year", 1}, {"share", 1.0}}})},
                                    {"waves", json::array({{{"rule", "lottery"}}})}};
  return doc;
}

struct Run {
  Simulation sim;
  explicit Run(const json& doc, int threads = 2) : sim(plsim_test::shared_model_of(doc), threads) { sim.run(); }
  // Mean of a teacher column over the teachers practising now.
  double practising_mean(const std::vector<float>& column) const {
    const TeacherColumns& t = sim.state().teachers;
    double sum = 0;
    int n = 0;
    for (std::size_t k = 0; k < t.size(); ++k)
      if (t.practising[k]) sum += column[k], ++n;
    return n ? sum / n : std::nan("");
  }
  const RolloutYearRow& last_rollout() const { return sim.results().rollout.back(); }
  double last_fidelity() const {
    double sum = 0, n = 0;
    for (const auto& r : sim.results().fidelity)
      if (r.year == sim.state().year) sum += r.mean * r.classrooms, n += r.classrooms;
    return sum / n;
  }
};

}  // namespace

TEST_CASE("rollout targets are linear between the plan's years, from zero before the first", "[scaleup]") {
  RolloutSpec plan;
  plan.targets = {{2, 0.01}, {5, 0.10}};
  CHECK(plan.target(1) == Approx(0.005));
  CHECK(plan.target(2) == Approx(0.01));
  CHECK(plan.target(3) == Approx(0.04));
  CHECK(plan.target(5) == Approx(0.10));
  CHECK(plan.target(7) == Approx(0.10));
  plan.waves = {{1, SelectionRule::volunteers}, {3, SelectionRule::readiness}};
  CHECK(plan.rule(2) == SelectionRule::volunteers);
  CHECK(plan.rule(3) == SelectionRule::readiness);
}

TEST_CASE("coaching raises teachers' PL skill and delivered fidelity; a larger caseload gives a smaller dose",
          "[scaleup]") {
  json plain = converting(20, "station_rotation", 2), coached = plain, thin = plain;
  coached["districts"][0]["central_office"] = {{"coaches", 100}, {"coach_caseload", 10}};
  thin["districts"][0]["central_office"] = {{"coaches", 100}, {"coach_caseload", 20}};
  Run a(plain), b(coached), c(thin);
  const double skill_plain = a.practising_mean(a.sim.state().teachers.pl_skill);
  const double skill_coached = b.practising_mean(b.sim.state().teachers.pl_skill);
  INFO("skill without coaching " << skill_plain << ", with " << skill_coached << "; fidelity " << a.last_fidelity()
                                 << " vs " << b.last_fidelity());
  CHECK(skill_coached > skill_plain + 0.08);
  CHECK(b.last_fidelity() > a.last_fidelity() + 0.03);
  // Every practising teacher is coached (enough coaches): a full dose at the small-trial caseload,
  // half of it at twice that caseload.
  CHECK(b.practising_mean(b.sim.state().teachers.coached) == Approx(1.0));
  CHECK(c.practising_mean(c.sim.state().teachers.coached) == Approx(0.5));
}

TEST_CASE("a preparation deficit raises burnout and attrition", "[scaleup]") {
  json short_of_time = converting(60, "algorithmic_schedule", 4), enough = short_of_time;
  short_of_time["parameters"]["schools"] = {{"prep_minutes_waivers", 0.0}};
  enough["parameters"]["schools"] = {{"prep_minutes_waivers", 3000.0}};
  Run a(short_of_time), b(enough);
  auto turnover = [](const Results& r) {
    double leavers = 0, teachers = 0;
    for (const auto& row : r.teachers) leavers += row.leavers, teachers += row.teachers;
    return leavers / teachers;
  };
  const auto& ra = a.sim.results().teachers.back();
  const auto& rb = b.sim.results().teachers.back();
  INFO("burnout " << ra.mean_burnout << " vs " << rb.mean_burnout << "; turnover " << turnover(a.sim.results()) << " vs "
                  << turnover(b.sim.results()));
  CHECK(ra.mean_prep_deficit == Approx(1.0));
  CHECK(rb.mean_prep_deficit == 0.0);
  CHECK(ra.mean_burnout > 0.5);
  CHECK(rb.mean_burnout == 0.0);
  CHECK(turnover(a.sim.results()) > 1.3 * turnover(b.sim.results()));
  CHECK(a.last_fidelity() < b.last_fidelity());
}

TEST_CASE("pilots spread school-wide only where the principal codifies practice", "[scaleup]") {
  json weak = converting(30, "station_rotation", 4, "pilot"), strong = weak;
  weak["parameters"]["schools"] = {{"leadership_mean", 0.2}, {"leadership_sd", 0.0}};    // below the floor
  strong["parameters"]["schools"] = {{"leadership_mean", 0.9}, {"leadership_sd", 0.0}};
  // No school drops its model, so the comparison is of spreading alone.
  weak["parameters"]["schools"]["drop_rate"] = 0.0;
  strong["parameters"]["schools"]["drop_rate"] = 0.0;
  Run a(weak), b(strong);
  INFO("school-wide: weak principals " << a.last_rollout().schools_schoolwide << ", strong "
                                       << b.last_rollout().schools_schoolwide);
  CHECK(a.last_rollout().schools_schoolwide == 0);
  CHECK(a.last_rollout().schools_pilot == 30);
  CHECK(b.last_rollout().schools_schoolwide >= 10);
  CHECK(b.last_rollout().students_pl > 2 * a.last_rollout().students_pl);
}

TEST_CASE("system change beats waivers on fidelity and school-wide adoption; a district may switch", "[scaleup]") {
  const json waivers = read_scenario_file(std::string(PLSIM_SCENARIO_DIR) + "/scale_up_district.json");
  const json change = read_scenario_file(std::string(PLSIM_SCENARIO_DIR) + "/scale_up_system_change.json");
  Run a(waivers), b(change);
  INFO("fidelity " << a.last_fidelity() << " vs " << b.last_fidelity() << "; school-wide "
                   << a.last_rollout().schools_schoolwide << " vs " << b.last_rollout().schools_schoolwide);
  CHECK(b.last_fidelity() > a.last_fidelity() + 0.1);
  CHECK(b.last_rollout().schools_schoolwide >= a.last_rollout().schools_schoolwide);
  json switching = waivers;
  switching["years"] = 3;
  switching["districts"][0]["central_office"]["system_change_from_year"] = 2;
  Run c(switching);
  const auto& rows = c.sim.results().rollout;
  REQUIRE(rows.size() == 3);
  CHECK_FALSE(rows[0].system_change);
  CHECK(rows[1].system_change);
}

TEST_CASE("a scale gate stops widening a model whose pilots fail, and lets a working one spread", "[scaleup]") {
  auto gated = [](const std::string& model) {
    json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 40}, {"enrollment", 300}}}),
                                    {{"years", 3}});
    doc["instructional_models"] = {{"idle", {{"minutes", {{"whole_class", 40.0}}}, {"asks", {{"learning_paths", 0.2}}}}}};
    doc["districts"][0]["rollout"] = {{"model", model}, {"start", "schoolwide"},
                                      {"targets", json::array({{{"year", 1}, {"share", 0.1}}, {{"year", 3}, {"share", 0.5}}})},
                                      {"waves", json::array({{{"rule", "lottery"}}})},
                                      {"gate", {{"year", 2}, {"min_effect_sd", 0.0}}}};
    return doc;
  };
  Run failing(gated("idle")), working(gated("high_dosage_tutoring"));
  const auto& f = failing.sim.results().rollout;
  const auto& w = working.sim.results().rollout;
  INFO("measured pilot effect: failing " << f[1].gate_estimate_sd << ", working " << w[1].gate_estimate_sd);
  CHECK(f[1].gate_estimate_sd < 0);
  CHECK(f[1].gate_closed);
  CHECK(f.back().schools_schoolwide <= f[0].schools_schoolwide);  // no school converted after the gate
  CHECK(w[1].gate_estimate_sd > 0);
  CHECK(w[1].proven);
  CHECK(w.back().schools_schoolwide > 2 * w[0].schools_schoolwide);
}

TEST_CASE("the counterfactual twin runs the same plan with no school converted", "[scaleup]") {
  const auto model = plsim_test::shared_model_of(converting(12, "station_rotation", 3, "pilot"));
  Simulation policy(model, 2);
  auto twin = policy.counterfactual();
  policy.run();
  twin->run();
  const auto& a = policy.results().rollout;
  const auto& b = twin->results().rollout;
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].schools_pilot == b[i].schools_pilot);
    CHECK(a[i].schools_schoolwide == b[i].schools_schoolwide);
    CHECK(a[i].students_pl > 0);
    CHECK(b[i].students_pl == 0);  // no classroom of the twin personalizes
  }
  CHECK(plsim_test::same_bits(policy.state().students.ever_pl, twin->state().students.ever_pl));
  CHECK(plsim_test::same_bits(policy.state().schools.pl_stage, twin->state().schools.pl_stage));
}

TEST_CASE("a scale-up run is the same on one thread and on two", "[scaleup][determinism]") {
  json doc = read_scenario_file(std::string(PLSIM_SCENARIO_DIR) + "/scale_up_system_change.json");
  doc["years"] = 3;
  Run one(doc, 1), two(doc, 2);
  CHECK(plsim_test::first_differing_row(one.sim.results().assessments, two.sim.results().assessments) == -1);
  CHECK(plsim_test::same_bits(one.sim.state().teachers.pl_skill, two.sim.state().teachers.pl_skill));
  CHECK(plsim_test::same_bits(one.sim.state().schools.pl_stage, two.sim.state().schools.pl_stage));
}

TEST_CASE("rollout plans are validated with the path of the mistake", "[scaleup][scenario]") {
  json doc = converting(4, "no_such_model", 2);
  auto errors = check_scenario(doc, "test");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("/districts/0/rollout/model: unknown instructional model") != std::string::npos);
  doc = converting(4, "station_rotation", 2);
  doc["districts"][0]["rollout"]["targets"] = json::array({{{"year", 3}, {"share", 0.2}}, {{"year", 2}, {"share", 0.3}}});
  errors = check_scenario(doc, "test");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("/districts/0/rollout/targets/1/year: must be later") != std::string::npos);
  doc = converting(4, "traditional", 2);
  errors = check_scenario(doc, "test");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("not traditional") != std::string::npos);
}

TEST_CASE("a coached teacher teaches better by coaching_effectiveness_gain times his dose", "[scaleup]") {
  json coached = converting(20, "station_rotation", 2);
  coached["districts"][0]["central_office"] = {{"coaches", 100}, {"coach_caseload", 20}};
  Run run(coached);
  const TeacherColumns& t = run.sim.state().teachers;
  const TeacherParameters& p = run.sim.model().params.teachers;
  int checked = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!t.active[k] || t.coached[k] <= 0) continue;
    // Effectiveness = value added x experience (1 - (1 - novice) exp(-years / scale)) x (1 + gain x dose).
    const double experience = 1 - (1 - p.novice_effectiveness) * std::exp(-t.experience[k] / p.experience_scale);
    INFO("teacher " << k << ", dose " << t.coached[k]);
    REQUIRE(t.effectiveness[k] ==
            Approx(t.value_added[k] * experience * (1 + p.coaching_effectiveness_gain * t.coached[k])).epsilon(1e-5));
    ++checked;
  }
  CHECK(checked > 20);
}

TEST_CASE("a district's coaching slots go to its newest PL schools first and are used up", "[scaleup]") {
  // Ten schools in their first year on station rotation and ten in their third; 2 coaches x 10
  // teachers = 20 slots, fewer than the practising teachers of the newest schools alone.
  json doc = plsim_test::scenario(json::array({
      {{"level", "elementary"}, {"count", 10}, {"enrollment", 240}, {"model", "station_rotation"}, {"implementation_year", 1}},
      {{"level", "elementary"}, {"count", 10}, {"enrollment", 240}, {"model", "station_rotation"}, {"implementation_year", 3}},
  }));
  doc["districts"][0]["central_office"] = {{"coaches", 2}, {"coach_caseload", 10}};
  Simulation sim(plsim_test::shared_model_of(doc), 1);
  sim.step();
  const auto& t = sim.state().teachers;
  const auto& sc = sim.state().schools;
  double coached_teachers = 0;
  int practising_new = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!t.practising[k]) continue;
    coached_teachers += sc.coached_share[t.school[k]];
    if (sc.implementation_year[t.school[k]] == 1) ++practising_new;
  }
  REQUIRE(practising_new > 20);
  CHECK(coached_teachers == Approx(20.0).epsilon(1e-5));
  for (std::size_t k = 0; k < sc.size(); ++k)
    if (sc.implementation_year[k] == 3) CHECK(sc.coached_share[k] == 0.0f);
}

TEST_CASE("a pilot is run by the school's teachers with most buy-in", "[scaleup]") {
  Simulation sim(plsim_test::shared_model_of(converting(12, "station_rotation", 1, "pilot")), 1);
  sim.step();
  const auto& t = sim.state().teachers;
  const auto& sc = sim.state().schools;
  int pilots = 0;
  for (std::size_t k = 0; k < sc.size(); ++k) {
    if (sc.pl_stage[k] != std::uint8_t(PlStage::pilot)) continue;
    float least_practising = 2, most_other = -1;
    for (std::size_t j = 0; j < t.size(); ++j) {
      if (t.school[j] != k || !t.active[j]) continue;
      if (t.practising[j]) least_practising = std::min(least_practising, t.buy_in[j]);
      else most_other = std::max(most_other, t.buy_in[j]);
    }
    REQUIRE(least_practising <= 1);
    CHECK(least_practising >= most_other);
    ++pilots;
  }
  CHECK(pilots == 12);
}

TEST_CASE("principals take pilots school-wide more often where the pilot classrooms deliver more", "[scaleup]") {
  json poor = converting(30, "station_rotation", 4, "pilot"), good = poor;
  for (json* doc : {&poor, &good}) {
    (*doc)["parameters"]["schools"] = {{"leadership_mean", 0.9}, {"leadership_sd", 0.0}, {"drop_rate", 0.0}};
    const double f = doc == &poor ? 0.2 : 1.0;
    (*doc)["districts"][0]["schools"][0]["fidelity"] = {
        {"learner_profiles", f}, {"learning_paths", f}, {"competency_progression", f}, {"flexible_environment", f}};
  }
  Run a(poor), b(good);
  INFO("school-wide after four years: poorly delivered pilots " << a.last_rollout().schools_schoolwide
                                                                << ", well delivered " << b.last_rollout().schools_schoolwide);
  CHECK(b.last_rollout().schools_schoolwide > a.last_rollout().schools_schoolwide + 3);
}

TEST_CASE("a district converts at most max_new_schools_per_year schools a year", "[scaleup]") {
  json doc = converting(20, "station_rotation", 2);
  doc["districts"][0]["rollout"]["max_new_schools_per_year"] = 3;
  Run run(doc);
  const auto& rows = run.sim.results().rollout;
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].converted == 3);
  CHECK(rows[1].converted == 3);
}

TEST_CASE("the gate measures pilots against the district's traditional classrooms, not against the norms",
          "[scaleup]") {
  // Every classroom grows at half the norm's pace: raw gains in national SD units are negative for
  // pilots and traditional classrooms alike; tutoring still beats traditional teaching.
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 40}, {"enrollment", 300}}}),
                                  {{"years", 2}, {"parameters", {{"learning", {{"learn_rate", 0.04}}}}}});
  doc["districts"][0]["rollout"] = {{"model", "high_dosage_tutoring"}, {"start", "schoolwide"},
                                    {"targets", json::array({{{"year", 1}, {"share", 0.1}}, {{"year", 2}, {"share", 0.5}}})},
                                    {"waves", json::array({{{"rule", "lottery"}}})},
                                    {"gate", {{"year", 2}, {"min_effect_sd", 0.0}}}};
  Run run(doc);
  const auto& rows = run.sim.results().rollout;
  INFO("measured pilot effect " << rows[1].gate_estimate_sd);
  CHECK(rows[1].gate_estimate_sd > 0);
  CHECK(rows[1].proven);
}

TEST_CASE("one-off costs (launches, devices) do not count as next year's recurring spending", "[scaleup]") {
  Run run(converting(10, "station_rotation", 1));
  double recurring = 0, one_off = 0;
  for (const CostRow& r : run.sim.results().costs) (cost_is_one_off[r.category] ? one_off : recurring) += r.amount;
  REQUIRE(one_off > 0);
  REQUIRE(recurring > 0);
  CHECK(run.sim.state().funding[0].recurring_last_year == Approx(recurring).epsilon(1e-9));
}

TEST_CASE("devices last device_lifetime_years: a second year buys almost none", "[scaleup]") {
  Run run(converting(10, "station_rotation", 2));
  double devices[2] = {0, 0};
  for (const CostRow& r : run.sim.results().costs)
    if (r.category == std::uint8_t(CostCategory::devices)) devices[r.year] += r.amount;
  INFO("devices bought: year 1 $" << devices[0] << ", year 2 $" << devices[1]);
  REQUIRE(devices[0] > 0);
  CHECK(devices[1] < 0.25 * devices[0]);
}

TEST_CASE("a school launched as a pilot pays pilot_launch_share of a launch", "[scaleup]") {
  Run run(converting(6, "station_rotation", 1, "pilot"));
  const CostParameters& p = run.sim.model().params.costs;
  std::vector<double> launch(run.sim.state().schools.size(), 0.0);
  for (const CostRow& r : run.sim.results().costs)
    if (r.category == std::uint8_t(CostCategory::launch)) launch[r.school] += r.amount;
  for (double amount : launch) CHECK(amount == Approx(p.launch_cost_per_school * p.pilot_launch_share));
}

TEST_CASE("schools with strong leaders drop their model less often", "[scaleup]") {
  json weak = converting(60, "station_rotation", 4), strong = weak;
  weak["parameters"]["schools"] = {{"leadership_mean", 0.3}, {"leadership_sd", 0.0}};
  strong["parameters"]["schools"] = {{"leadership_mean", 0.8}, {"leadership_sd", 0.0}};
  Run a(weak), b(strong);
  auto dropped = [](const Run& r) {
    std::uint32_t n = 0;
    for (const auto& row : r.sim.results().rollout) n += row.dropped;
    return n;
  };
  INFO("schools that dropped their model in four years: weak leaders " << dropped(a) << ", strong " << dropped(b));
  CHECK(dropped(a) > 2 * dropped(b) + 2);
}
