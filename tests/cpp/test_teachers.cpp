// Teachers: turnover by poverty, novices replacing leavers, experience, common random numbers.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "helpers.hpp"
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
  REQUIRE(rows.size() == 4);  // the first year (no transition: no teachers or leavers counted) and three transitions
  double leavers = 0, teachers = 0, high_leavers = 0, high_teachers = 0;
  for (const auto& r : rows) {
    leavers += r.leavers, teachers += r.teachers;
    high_leavers += r.leavers_high_poverty, high_teachers += r.teachers_high_poverty;
  }
  const double low = (leavers - high_leavers) / (teachers - high_teachers), high = high_leavers / high_teachers;
  INFO("turnover low poverty " << low << ", high poverty " << high);
  const auto& p = model->params.teachers;
  CHECK(low == Approx(p.turnover_rate).margin(0.02));
  CHECK(high == Approx(p.turnover_rate * p.high_poverty_turnover_ratio).margin(0.03));
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
