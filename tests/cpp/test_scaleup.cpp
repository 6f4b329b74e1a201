// Scale-up: teacher PL skill and coaching, preparation and burnout, codifying pilots, central offices,
// rollout plans and their scale gate, and the counterfactual twin that follows a plan.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <map>

#include "draws.hpp"
#include "helpers.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/modules/rollout.hpp"
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

// `converting`, its plan's one target (`share` of the students by year 1, held after) read as `kind`:
// at_least, at_most or closest.
json targeted(const std::string& kind, double share, const std::string& start, int years = 1, int count = 12) {
  json doc = converting(count, "station_rotation", years, start);
  doc["districts"][0]["rollout"]["targets"] = json::array({{{"year", 1}, {"share", share}}});
  doc["districts"][0]["rollout"]["target_kind"] = kind;
  return doc;
}

bool past(const RolloutYearRow& row) { return double(row.students_pl) > row.target_share * double(row.students); }

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
  doc = converting(4, "station_rotation", 2);
  doc["districts"][0]["rollout"]["target_kind"] = "at most";
  errors = check_scenario(doc, "test");
  REQUIRE(errors.size() == 1);
  INFO(errors[0]);
  CHECK(errors[0].find("/districts/0/rollout/target_kind") != std::string::npos);
  CHECK(errors[0].find("at_most") != std::string::npos);
  CHECK(errors[0].find("\"at most\"") != std::string::npos);
}

TEST_CASE("a ceiling is never exceeded: not by a conversion, a pilot going school-wide or a pilot's classrooms",
          "[scaleup][targets]") {
  bool floor_overshoots = false;
  for (const std::string start : {"schoolwide", "pilot"})
    for (int seed = 1; seed <= 3; ++seed) {
      // Strong principals who never drop their model: pilots codify and go school-wide.
      json ceiling = targeted("at_most", 0.3, start, 4);
      ceiling["seed"] = seed;
      ceiling["parameters"]["schools"] = {{"leadership_mean", 0.9}, {"leadership_sd", 0.0}, {"drop_rate", 0.0}};
      json floor = ceiling;
      floor["districts"][0]["rollout"]["target_kind"] = "at_least";
      Run a(ceiling), b(floor);
      for (const RolloutYearRow& row : a.sim.results().rollout) {
        INFO(start << " seed " << seed << " year " << row.year << ": " << row.students_pl << " of " << row.students
                   << " students, ceiling " << row.target_share);
        CHECK_FALSE(past(row));
        CHECK(row.target_kind == std::uint8_t(TargetKind::at_most));
      }
      for (const RolloutYearRow& row : b.sim.results().rollout) floor_overshoots = floor_overshoots || past(row);
    }
  CHECK(floor_overshoots);  // the same plans read as floors go past the target

  // A pilot's classrooms hold more students than the plan counts (pilot_share of 0.1% rounds to none,
  // yet a pilot has a practitioner): the practitioners past the ceiling stay traditional.
  json small = targeted("at_most", 0.05, "pilot", 2);
  small["parameters"]["schools"] = {{"pilot_share", 0.001}};
  Run c(small);
  for (const RolloutYearRow& row : c.sim.results().rollout) {
    INFO("year " << row.year << ": " << row.students_pl << " of " << row.students << ", ceiling " << row.target_share);
    CHECK_FALSE(past(row));
    CHECK(row.held_back > 0);
    CHECK(row.students_pl > 0);
  }
}

TEST_CASE("a floor meets its target, a ceiling stays under it, a goal lands as close as whole schools allow",
          "[scaleup][targets]") {
  for (double share : {0.15, 0.27, 0.4, 0.52}) {
    std::map<std::string, RolloutYearRow> first;
    for (const std::string kind : {"at_least", "at_most", "closest"}) {
      Run run(targeted(kind, share, "schoolwide"));
      first[kind] = run.sim.results().rollout.front();
    }
    const auto gap = [&](const std::string& kind) {
      return double(first[kind].students_pl) - share * double(first[kind].students);
    };
    INFO("share " << share << ": floor " << gap("at_least") << ", ceiling " << gap("at_most") << ", goal "
                  << gap("closest") << " students from the target");
    CHECK(gap("at_least") >= 0);
    CHECK(gap("at_most") <= 0);
    CHECK(std::abs(gap("closest")) <= std::min(std::abs(gap("at_least")), std::abs(gap("at_most"))));
    CHECK((first["closest"].students_pl == first["at_least"].students_pl ||
           first["closest"].students_pl == first["at_most"].students_pl));
  }
}

TEST_CASE("a plan reports the students it reached so far, each counted once", "[scaleup][targets]") {
  json doc = targeted("at_least", 0.3, "pilot", 3);
  doc["districts"][0]["rollout"]["targets"] = json::array({{{"year", 1}, {"share", 0.1}}, {{"year", 3}, {"share", 0.5}}});
  Run run(doc);
  const auto& rows = run.sim.results().rollout;
  REQUIRE(rows.size() == 3);
  for (std::size_t y = 1; y < rows.size(); ++y) CHECK(rows[y].students_reached >= rows[y - 1].students_reached);
  CHECK(rows[2].students_reached > rows[0].students_reached);
  CHECK(rows.back().students_reached == run.sim.state().students_reached);
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

namespace {

// Three elementary schools on `model` in the years `model_years` (null: every year), in their
// implementation year `implementation_year` in the first of them, and one traditional school, over
// `years` years.
json programme(const std::string& model, const json& model_years, int years, int implementation_year = 2) {
  json group = {{"level", "elementary"}, {"count", 3}, {"enrollment", 132}, {"model", model},
                {"implementation_year", implementation_year}};
  if (!model_years.is_null()) group["model_years"] = model_years;
  return plsim_test::scenario(json::array({group, {{"level", "elementary"}, {"count", 1}, {"enrollment", 132}}}),
                              {{"years", years}});
}

// What a year looks like once it has started (after its first week).
struct YearView {
  std::vector<std::uint8_t> stage, implementation_year;
  std::vector<std::uint32_t> model;
  std::vector<std::uint32_t> pl_classrooms, practising;  // per school
  std::map<std::uint32_t, std::uint8_t> ever_pl;         // by student id
  std::vector<float> pl_skill;                           // per teacher
  YearView(const Model& m, const State& s)
      : stage(s.schools.pl_stage), implementation_year(s.schools.implementation_year),
        model(s.schools.instructional_model), pl_classrooms(s.schools.size(), 0), practising(s.schools.size(), 0),
        pl_skill(s.teachers.pl_skill) {
    const auto traditional = static_cast<std::uint32_t>(m.instructional_model_index("traditional"));
    for (std::size_t c = 0; c < s.classrooms.size(); ++c)
      pl_classrooms[s.classrooms.school[c]] += s.classrooms.instructional_model[c] != traditional;
    for (std::size_t t = 0; t < s.teachers.size(); ++t) practising[s.teachers.school[t]] += s.teachers.practising[t];
    for (std::size_t i = 0; i < s.students.size(); ++i) ever_pl[s.students.id[i]] = s.students.ever_pl[i];
  }
};

// Runs `policy` (and `twin`, in step behind it) to the end, viewing each year after its first week.
std::pair<std::vector<YearView>, std::vector<YearView>> run_viewing(Simulation& policy, Simulation* twin) {
  std::vector<YearView> a, b;
  for (bool more = true; more;) {
    more = policy.step();
    if (twin) twin->step();
    if (policy.state().week == 1) {
      a.emplace_back(policy.model(), policy.state());
      if (twin) b.emplace_back(twin->model(), twin->state());
    }
  }
  return {std::move(a), std::move(b)};
}

}  // namespace

TEST_CASE("a group with model_years is traditional before and after them and on its model, school-wide, in them",
          "[scaleup][model_years]") {
  const auto model = plsim_test::shared_model_of(programme("high_dosage_tutoring", {2, 3}, 4));
  const auto tutoring = static_cast<std::uint32_t>(model->instructional_model_index("high_dosage_tutoring"));
  const auto traditional = static_cast<std::uint32_t>(model->instructional_model_index("traditional"));
  Simulation policy(model, 2);
  auto twin = policy.counterfactual();
  const auto [years, twin_years] = run_viewing(policy, twin.get());
  REQUIRE(years.size() == 4);
  REQUIRE(twin_years.size() == 4);
  for (int y = 0; y < 4; ++y) {
    const YearView& v = years[y];
    const bool on = y == 1 || y == 2;
    INFO("year " << y + 1);
    for (std::uint32_t k = 0; k < 3; ++k) {
      CHECK(v.stage[k] == std::uint8_t(on ? PlStage::schoolwide : PlStage::none));
      CHECK(v.model[k] == (on ? tutoring : traditional));
      // The group's implementation year (2) in the first of its years, one more each year after.
      CHECK(int(v.implementation_year[k]) == (on ? 2 + (y - 1) : 0));
      CHECK((v.pl_classrooms[k] > 0) == on);
      CHECK((v.practising[k] > 0) == on);
      // The twin knows the same PL schools, and teaches them traditionally.
      CHECK(twin_years[y].stage[k] == v.stage[k]);
      CHECK(twin_years[y].model[k] == traditional);
      CHECK(twin_years[y].pl_classrooms[k] == 0);
    }
    // The traditional school is untouched: its implementation year counts on from the default.
    CHECK(v.stage[3] == std::uint8_t(PlStage::none));
    CHECK(int(v.implementation_year[3]) == 3 + y);
    CHECK(v.pl_classrooms[3] == 0);
    // The PL cohort: the same students in both arms, every year.
    CHECK(v.ever_pl == twin_years[y].ever_pl);
  }
  // Nobody is in the cohort in year 1; everyone in a programme school in year 2 is, and stays in it
  // after the programme ends.
  for (const auto& [id, flag] : years[0].ever_pl) CHECK(flag == 0);
  std::size_t cohort = 0;
  for (const auto& [id, flag] : years[1].ever_pl) cohort += flag;
  CHECK(cohort >= 3 * 132 * 9 / 10);
  for (int y = 2; y < 4; ++y)
    for (const auto& [id, flag] : years[y - 1].ever_pl)
      if (flag && years[y].ever_pl.count(id)) CHECK(years[y].ever_pl.at(id) == 1);
  std::size_t still = 0;
  for (const auto& [id, flag] : years[3].ever_pl) still += flag;
  CHECK(still > 0);
  CHECK(policy.state().students_reached >= cohort);
  // The teachers a school has when its model starts practise as established practitioners.
  const TeacherColumns& t = policy.state().teachers;
  std::size_t established = 0;
  for (std::size_t j = 0; j < years[0].pl_skill.size(); ++j)
    if (t.school[j] < 3 && years[1].pl_skill[j] == 1.0f) ++established;
  CHECK(established > 0);
  // PL costs only in the programme's years.
  std::array<double, 4> cost{};
  for (const CostRow& r : policy.results().costs) cost.at(r.year) += r.amount;
  CHECK(cost[0] == 0.0);
  CHECK(cost[1] > 0.0);
  CHECK(cost[2] > 0.0);
  CHECK(cost[3] == 0.0);
  // The schools change stage by the scenario, not by a plan: neither arm counts a conversion or a drop.
  REQUIRE(policy.results().rollout.size() == twin->results().rollout.size());
  for (std::size_t i = 0; i < policy.results().rollout.size(); ++i) {
    const RolloutYearRow& a = policy.results().rollout[i];
    const RolloutYearRow& b = twin->results().rollout[i];
    CHECK(a.converted + a.dropped + b.converted + b.dropped == 0);
    CHECK(a.schools_schoolwide == b.schools_schoolwide);
    CHECK(a.schools_schoolwide == (a.year == 1 || a.year == 2 ? 3u : 0u));
  }
}

TEST_CASE("model_years spanning the whole run give the run without them, bit for bit", "[scaleup][model_years]") {
  Simulation without(plsim_test::shared_model_of(programme("station_rotation", nullptr, 3)), 2);
  Simulation spanning(plsim_test::shared_model_of(programme("station_rotation", {1, 3}, 3)), 2);
  auto twin_without = without.counterfactual();
  auto twin_spanning = spanning.counterfactual();
  without.run(), twin_without->run();
  spanning.run(), twin_spanning->run();
  plsim_test::require_same_run(without, spanning);
  plsim_test::require_same_run(*twin_without, *twin_spanning);
}

TEST_CASE("a rollout plan never converts the schools of a group with model_years", "[scaleup][model_years]") {
  json doc = programme("station_rotation", {3, 3}, 4, 1);
  doc["districts"][0]["schools"][1]["count"] = 4;
  doc["districts"][0]["rollout"] = {{"model", "station_rotation"}, {"start", "schoolwide"},
                                    {"targets", json::array({{{"year", 1}, {"share", 1.0}}})},
                                    {"waves", json::array({{{"rule", "lottery"}}})}};
  doc["parameters"]["schools"] = {{"drop_rate", 0.0}};
  Run run(doc);
  const SchoolColumns& sc = run.sim.state().schools;
  const StageLog& log = *run.sim.state().stage_log;
  REQUIRE(log.size() == 4);
  const std::uint8_t none = std::uint8_t(PlStage::none), schoolwide = std::uint8_t(PlStage::schoolwide);
  for (std::uint32_t k = 0; k < 3; ++k) {
    CHECK(sc.converted_year[k] == 0);
    CHECK(sc.adopted_in_run[k] == 0);
    CHECK(std::vector<std::uint8_t>{log[0][k], log[1][k], log[2][k], log[3][k]} ==
          std::vector<std::uint8_t>{none, none, schoolwide, none});
  }
  // The plan converted every other school in year 1 to reach its target of all students.
  for (std::uint32_t k = 3; k < 7; ++k) {
    CHECK(sc.converted_year[k] == 1);
    CHECK(log[3][k] == schoolwide);
  }
}

namespace {

// Each school's stage (0 none, 1 pilot, 2 school-wide) after the year-end events of year `year`, every
// school having been converted as a pilot by the run, by school id.
plsim_test::ById stages_after_events(const Model& m, State state, int year) {
  state.year = year;
  const auto rotation = static_cast<std::uint32_t>(m.instructional_model_index("station_rotation"));
  for (std::uint32_t k = 0; k < state.schools.size(); ++k) {
    state.schools.pl_stage[k] = std::uint8_t(PlStage::pilot);
    state.schools.adopted_in_run[k] = 1;
    state.schools.instructional_model[k] = rotation;
    state.schools.delivered_fidelity[k] = 0.8f;
  }
  advance_schools(m, state);
  plsim_test::ById out;
  for (std::uint32_t k = 0; k < state.schools.size(); ++k) out[state.schools.id[k]] = state.schools.pl_stage[k];
  return out;
}

// Whether two correlations of n pairs are equal but for sampling (4 SE of their difference).
bool same_correlation(double a, double b, std::size_t n) {
  const double r = 0.5 * (a + b);
  return std::abs(a - b) < 4 * std::sqrt(2.0) * (1 - r * r) / std::sqrt(double(n));
}

}  // namespace

TEST_CASE("whether a school drops its model or codifies its pilot is drawn anew every year, as if from a new seed",
          "[scaleup][randomness]") {
  // The reference is the same year drawn with another seed: what a school's outcomes share then comes
  // from its conditions alone. A tick that ignored the year would repeat every school's events.
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 400}, {"enrollment", 60}}}),
                                  {{"years", 4}});
  const Model m = plsim_test::model_of(doc);
  Model other_seed = m;
  other_seed.seed = m.seed + 1;
  const State state = build_population(m);
  const auto second = stages_after_events(m, state, 1), fourth = stages_after_events(m, state, 3);
  const auto second_seed2 = stages_after_events(other_seed, state, 1);
  const std::size_t n = second.size();
  double dropped = 0, codified = 0;
  for (const auto& [id, stage] : fourth) dropped += stage == 0, codified += stage == 2;
  INFO("in year 4: " << dropped << " of " << n << " pilots dropped, " << codified << " codified");
  REQUIRE(dropped >= 20);
  REQUIRE(codified >= 20);
  const double r_years = plsim_test::correlation(second, fourth), r_seed = plsim_test::correlation(second, second_seed2);
  INFO("correlation of a school's outcome: years 2 and 4 " << r_years << ", another seed " << r_seed << " (" << n
       << " schools)");
  CHECK(same_correlation(r_years, r_seed, n));
}

TEST_CASE("a rollout lottery is drawn anew every year: the schools it picks in two years overlap by chance only",
          "[scaleup][randomness]") {
  // A lottery whose tick ignored the year would pick the same schools from the same candidates every
  // year. From the same state, a lottery for 30% of 300 schools in year 1 and one in year 3 pick sets
  // that overlap as two independent draws of m of N do (hypergeometric: mean m^2 / N).
  json doc = converting(300, "station_rotation", 4);
  doc["districts"][0]["rollout"]["targets"] = json::array({{{"year", 1}, {"share", 0.3}}});
  const Model m = plsim_test::model_of(doc);
  const State state = build_population(m);
  auto picked = [&](int year) {
    State s = state;
    s.year = year;
    run_rollout(m, s);
    std::vector<std::uint8_t> out(s.schools.size());
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = s.schools.pl_stage[k] != std::uint8_t(PlStage::none);
    return out;
  };
  const auto first = picked(0), third = picked(2);
  double m1 = 0, m3 = 0, both = 0;
  for (std::size_t k = 0; k < first.size(); ++k) m1 += first[k], m3 += third[k], both += first[k] && third[k];
  const double n = double(first.size());
  REQUIRE(m1 >= 60);
  REQUIRE(m1 < n);
  const double expected = m1 * m3 / n, sd = std::sqrt(m1 * m3 * (n - m1) * (n - m3) / (n * n * (n - 1)));
  INFO("lotteries of years 1 and 3 picked " << m1 << " and " << m3 << " of " << n << " schools, " << both
       << " in both; by chance " << expected << " (SD " << sd << ")");
  CHECK(std::abs(both - expected) < 4 * sd);
}
