// Teachers: turnover by poverty, novices replacing leavers, experience, common random numbers.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "draws.hpp"
#include "helpers.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/modules/teachers.hpp"
#include "plsim/schedule.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {
// Sixty elementary schools, a third of them high-poverty.
json mixed_poverty(int years = 4) {
  return plsim_test::scenario(
      json::array({{{"level", "elementary"}, {"count", 40}, {"enrollment", 240}, {"frl_share", {{"mean", 0.4}, {"sd", 0.05}}}},
                   {{"level", "elementary"}, {"count", 20}, {"enrollment", 240}, {"frl_share", {{"mean", 0.9}, {"sd", 0.03}}}}}),
      {{"years", years}});
}
}  // namespace

TEST_CASE("teachers leave at the national rate, half as often again in high-poverty schools", "[teachers]") {
  const auto model = plsim_test::shared_model_of(mixed_poverty());
  Simulation sim(model, 2);
  sim.run();
  const auto& rows = sim.results().teachers;
  REQUIRE(rows.size() == 4);  // a row for every year, each with the decisions taken at its end
  double leavers = 0, teachers = 0, high_leavers = 0, high_teachers = 0;
  for (const auto& r : rows) {
    REQUIRE(r.teachers > 0);
    CHECK(r.leavers <= r.teachers);
    leavers += r.leavers, teachers += r.teachers;
    high_leavers += r.leavers_high_poverty, high_teachers += r.teachers_high_poverty;
  }
  const double low = (leavers - high_leavers) / (teachers - high_teachers), high = high_leavers / high_teachers;
  INFO("turnover low poverty " << low << ", high poverty " << high);
  const auto& p = model->params.teachers;
  CHECK(low == Approx(p.turnover_rate).margin(0.02));
  CHECK(high == Approx(p.turnover_rate * p.high_poverty_turnover_ratio).margin(0.03));
}

TEST_CASE("teachers decide to leave at the end of a year, in its row, and go at the next transition", "[teachers]") {
  const auto model = plsim_test::shared_model_of(mixed_poverty(2));
  Simulation sim(model, 2);
  while (sim.results().years_completed < 1) sim.step();
  const TeacherColumns decided = sim.state().teachers;
  REQUIRE(sim.results().teachers.size() == 1);
  const TeacherYearRow first = sim.results().teachers[0];
  std::uint32_t active = 0, leaving = 0;
  for (std::size_t k = 0; k < decided.size(); ++k) active += decided.active[k], leaving += decided.active[k] && decided.leaving[k];
  CHECK(first.year == 0);
  CHECK(first.teachers == active);
  CHECK(first.leavers == leaving);
  CHECK(leaving > 0);
  sim.step();  // the transition and the first week of year 2
  const TeacherColumns& t = sim.state().teachers;
  for (std::size_t k = 0; k < decided.size(); ++k) {
    if (!decided.active[k]) continue;
    INFO("teacher " << k);
    CHECK(t.active[k] == !decided.leaving[k]);
    CHECK(t.leaving[k] == 0);
    if (t.active[k]) CHECK(t.experience[k] == std::min(255, decided.experience[k] + 1));
  }
  sim.run();
  // The last year decides too (reported), with no next year to apply it to.
  const auto& rows = sim.results().teachers;
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].year == 1);
  CHECK(rows[1].leavers > 0);
  std::uint32_t pending = 0;
  for (std::size_t k = 0; k < t.size(); ++k) pending += t.active[k] && t.leaving[k];
  CHECK(pending == rows[1].leavers);
}

TEST_CASE("the year's own burnout, from its preparation deficit, raises the chance of leaving at its end",
          "[teachers]") {
  json doc = mixed_poverty(1);
  doc["parameters"]["teachers"]["turnover_rate"] = 0.1;
  doc["parameters"]["teachers"]["high_poverty_turnover_ratio"] = 1.0;
  doc["parameters"]["teachers"]["burnout_gain"] = 1.0;
  doc["parameters"]["teachers"]["burnout_turnover"] = 5.0;
  const Model m = plsim_test::model_of(doc);
  State state = build_population(m);
  for (std::size_t k = 0; k < state.teachers.size(); ++k) state.teachers.burnout[k] = 0, state.teachers.prep_deficit[k] = 1;
  Results results;
  decide_leavers(m, state, results);
  const TeacherYearRow& row = results.teachers.at(0);
  const double n = row.teachers, rate = 0.1 * (1 + 5.0 * 1.0);  // burnout 1 after a year of full deficit
  INFO(row.leavers << " of " << row.teachers << " leave; expected " << rate * n);
  CHECK(std::abs(row.leavers - rate * n) < 4 * std::sqrt(n * rate * (1 - rate)));
  for (std::size_t k = 0; k < state.teachers.size(); ++k) CHECK(state.teachers.burnout[k] == 1.0f);
}

TEST_CASE("leavers are replaced by novices, who teach less well and gain with experience", "[teachers]") {
  const auto model = plsim_test::shared_model_of(mixed_poverty(2));
  Simulation sim(model, 1);
  const std::size_t start = sim.state().teachers.size();
  sim.run();
  const TeacherColumns& t = sim.state().teachers;
  REQUIRE(t.size() > start);  // vacancies were filled by new hires
  int novices = 0;
  for (std::size_t k = start; k < t.size(); ++k) {
    INFO("new hire " << k);
    CHECK(t.experience[k] == 0);
    CHECK(t.active[k] == 1);
    CHECK(t.effectiveness[k] == Approx(t.value_added[k] * model->params.teachers.novice_effectiveness));
    ++novices;
  }
  CHECK(novices > 0);
  // Every classroom has an active teacher.
  for (std::size_t c = 0; c < sim.state().classrooms.size(); ++c) CHECK(t.active[sim.state().classrooms.teacher[c]] == 1);
}

TEST_CASE("both arms of a comparison lose and hire the same teachers, but for burnout", "[teachers]") {
  json doc = mixed_poverty(3);
  doc["districts"][0]["schools"][0]["model"] = "station_rotation";
  // Burnout from a preparation deficit is the one way instruction changes who leaves.
  doc["parameters"]["teachers"]["burnout_turnover"] = 0.0;
  const auto model = plsim_test::shared_model_of(doc);
  Simulation a(model, 2), twin(counterfactual_of(*model), 2);
  a.run();
  twin.run();
  CHECK(plsim_test::same_bits(a.state().teachers.id, twin.state().teachers.id));
  CHECK(plsim_test::same_bits(a.state().teachers.active, twin.state().teachers.active));
  CHECK(plsim_test::same_bits(a.state().teachers.effectiveness, twin.state().teachers.effectiveness));
}

TEST_CASE("teachers differ in PL capacity by teacher_capacity_sd, and novices have less of it", "[teachers]") {
  const auto model = plsim_test::shared_model_of(mixed_poverty(1));
  Simulation sim(model, 1);
  const auto& t = sim.state().teachers;
  double sum = 0, squares = 0, experienced_capacity = 0, novice_capacity = 0;
  int experienced = 0, novices = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    sum += t.base_capacity[k], squares += double(t.base_capacity[k]) * t.base_capacity[k];
    (t.experience[k] == 0 ? novice_capacity : experienced_capacity) += t.capacity[k] / t.base_capacity[k];
    ++(t.experience[k] == 0 ? novices : experienced);
  }
  const double n = double(t.size()), mean = sum / n, sd = std::sqrt(squares / n - mean * mean);
  INFO(t.size() << " teachers: base capacity mean " << mean << ", SD " << sd);
  CHECK(mean == Approx(1.0).margin(0.03));
  CHECK(sd == Approx(model->params.personalization.teacher_capacity_sd).margin(0.03));
  REQUIRE(novices > 10);
  CHECK(novice_capacity / novices < experienced_capacity / experienced);
}

TEST_CASE("teachers who stay gain a year of experience at each year transition, and effectiveness with it",
          "[teachers]") {
  const auto model = plsim_test::shared_model_of(mixed_poverty(2));
  Simulation sim(model, 1);
  const TeacherColumns before = sim.state().teachers;
  sim.run();
  const TeacherColumns& t = sim.state().teachers;
  int stayers = 0, grew = 0;
  for (std::size_t k = 0; k < before.size(); ++k) {
    if (!t.active[k]) continue;
    ++stayers;
    REQUIRE(t.experience[k] == std::min(255, before.experience[k] + 1));
    if (before.experience[k] == 0) {
      CHECK(t.effectiveness[k] > before.effectiveness[k]);  // a novice's second year
      ++grew;
    }
  }
  CHECK(stayers > 100);
  CHECK(grew > 5);
}

namespace {

// Whether each active teacher leaves at the end of year `year` (1 or 0), by teacher id, from `state`.
plsim_test::ById leavers_of(const Model& m, State state, int year) {
  state.year = year;
  Results results;
  decide_leavers(m, state, results);
  plsim_test::ById out;
  for (std::size_t k = 0; k < state.teachers.size(); ++k)
    if (state.teachers.active[k]) out[state.teachers.id[k]] = state.teachers.leaving[k];
  return out;
}

// The same draws of another entity: the teacher of school + ds with serial + dn (ids are school << 32 | serial).
plsim_test::ById shifted(const plsim_test::ById& a, std::uint64_t ds, std::uint64_t dn) {
  plsim_test::ById out;
  for (const auto& [id, x] : a) out[id - (ds << 32) - dn] = x;  // the value of (school + ds, serial + dn) at id
  return out;
}

}  // namespace

TEST_CASE("who leaves is drawn anew every year, independently for each teacher of each school, at the turnover rate",
          "[teachers][randomness]") {
  // A turnover stream whose tick ignored the year would take the same teachers every year; one that
  // dropped the school or the serial would make colleagues, or the n-th hires of all schools, leave together.
  const Model m = plsim_test::model_of(mixed_poverty(4));
  const State state = build_population(m);
  const auto first = leavers_of(m, state, 0), third = leavers_of(m, state, 2);
  const std::size_t n = first.size();
  REQUIRE(n > 500);
  const double bound = plsim_test::independent_correlation_bound(n);
  const double r_years = plsim_test::correlation(first, third);
  const double r_colleagues = plsim_test::correlation(third, shifted(third, 0, 1));
  const double r_schools = plsim_test::correlation(third, shifted(third, 1, 0));
  INFO("correlation of leaving: years 1 and 3 " << r_years << ", the next hire of the same school " << r_colleagues
       << ", the same hire of the next school " << r_schools << " (bound " << bound << " over " << n << " teachers)");
  CHECK(std::abs(r_years) < bound);
  CHECK(std::abs(r_colleagues) < bound);
  CHECK(std::abs(r_schools) < bound);
  // The number who leave in a later year is what the rates give (binomial, 4 SE).
  const TeacherParameters& p = m.params.teachers;
  double expected = 0, variance = 0, left = 0;
  for (std::size_t k = 0; k < state.teachers.size(); ++k) {
    const bool high = state.schools.frl_share[state.teachers.school[k]] >= p.high_poverty_frl_share;
    const double rate = p.turnover_rate * (high ? p.high_poverty_turnover_ratio : 1.0);
    expected += rate, variance += rate * (1 - rate);
  }
  for (const auto& [id, x] : third) left += x;
  INFO("leavers in year 3: " << left << ", expected " << expected);
  CHECK(std::abs(left - expected) < 4 * std::sqrt(variance));
}

TEST_CASE("a later year's hires draw effectiveness, capacity and buy-in independently, keyed by school and "
          "hiring serial", "[teachers][randomness]") {
  // Hires of a later year, many per school. Traits drawn from one stream for two purposes would
  // correlate; traits keyed by the teacher's row would change with the order schools hire in.
  const Model m = plsim_test::model_of(mixed_poverty(4));
  State forward = build_population(m);
  State backward = forward;
  forward.year = backward.year = 3;
  const auto schools = static_cast<std::uint32_t>(forward.schools.size());
  const std::size_t initial = forward.teachers.size();
  for (int round = 0; round < 25; ++round)
    for (std::uint32_t k = 0; k < schools; ++k) hire_teacher(m, forward, k), hire_teacher(m, backward, schools - 1 - k);
  plsim_test::ById log_value, capacity, buy_in;
  const auto& t = forward.teachers;
  std::map<std::uint64_t, std::size_t> row_backward;
  for (std::size_t k = 0; k < backward.teachers.size(); ++k) row_backward[backward.teachers.id[k]] = k;
  std::size_t differ = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    const std::size_t b = row_backward.at(t.id[k]);
    differ += t.value_added[k] != backward.teachers.value_added[b] || t.base_capacity[k] != backward.teachers.base_capacity[b] ||
              t.buy_in[k] != backward.teachers.buy_in[b];
    if (k < initial) continue;  // this year's hires only
    log_value[t.id[k]] = std::log(t.value_added[k]);
    capacity[t.id[k]] = t.base_capacity[k];
    buy_in[t.id[k]] = t.buy_in[k];
  }
  INFO("teachers whose traits depend on the order of hiring: " << differ << " of " << t.size());
  CHECK(differ == 0);
  const std::size_t n = log_value.size();
  REQUIRE(n >= 1000);
  const double bound = plsim_test::independent_correlation_bound(n);
  const double r1 = plsim_test::correlation(log_value, capacity), r2 = plsim_test::correlation(log_value, buy_in),
               r3 = plsim_test::correlation(capacity, buy_in);
  INFO("correlations: effectiveness-capacity " << r1 << ", effectiveness-buy-in " << r2 << ", capacity-buy-in " << r3
       << " (bound " << bound << " over " << n << " hires)");
  CHECK(std::abs(r1) < bound);
  CHECK(std::abs(r2) < bound);
  CHECK(std::abs(r3) < bound);
  // Spreads: log effectiveness has SD teacher_effect_sd; capacity teacher_capacity_sd (clamps at 0 and
  // 1.5 are 2.5 SD away at most); buy-in buy_in_sd (clamped to 0..1: 2 SD from the mean of 0.6).
  const double effect_sd = m.params.learning.teacher_effect_sd, capacity_sd = m.params.personalization.teacher_capacity_sd;
  INFO("SDs: log effectiveness " << plsim_test::sd(log_value) << ", capacity " << plsim_test::sd(capacity) << ", buy-in "
       << plsim_test::sd(buy_in));
  CHECK(plsim_test::sd(log_value) == Approx(effect_sd).epsilon(plsim_test::sd_relative_bound(n)));
  CHECK(plsim_test::mean(log_value) == Approx(-0.5 * effect_sd * effect_sd).margin(plsim_test::mean_bound(effect_sd, n)));
  CHECK(plsim_test::sd(capacity) == Approx(capacity_sd).epsilon(plsim_test::sd_relative_bound(n)));
  CHECK(plsim_test::mean(buy_in) == Approx(m.params.teachers.buy_in_mean).margin(plsim_test::mean_bound(m.params.teachers.buy_in_sd, n)));
}
