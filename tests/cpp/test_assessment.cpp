// Assessments: measured scores are true scale scores plus test error, aggregated per school, grade
// and subject in the weeks of the assessment windows.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "draws.hpp"
#include "helpers.hpp"
#include "plsim/measure/assessment.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/simulation.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

json k12(double error_rit = 3.0) {
  json doc = plsim_test::scenario(json::array({
                                      {{"level", "elementary"}, {"count", 4}, {"enrollment", 264}},
                                      {{"level", "middle"}, {"count", 2}, {"enrollment", 264}},
                                      {{"level", "high"}, {"enrollment", 480}},
                                  }),
                                  {{"parameters", {{"assessment", {{"measurement_error_rit", error_rit}}}}}});
  doc["districts"][0]["count"] = 2;
  return doc;
}

}  // namespace

TEST_CASE("a test measures every student once with the configured test error", "[assessment]") {
  const Model m = plsim_test::model_of(k12());
  State state = build_population(m);
  std::vector<AssessmentRow> rows;
  assess(m, state, Season::fall, rows);
  const auto& st = state.students;

  double sum = 0, sum2 = 0;
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t i = 0; i < st.size(); ++i) {
      const double e = st.score[s][i] - m.scale.rit(static_cast<Subject>(s), mastered_position(st, s, i));
      sum += e, sum2 += e * e;
    }
  const double n = 2.0 * st.size();
  INFO("test error: mean " << sum / n << ", SD " << std::sqrt(sum2 / n));
  CHECK(sum / n == Approx(0).margin(0.1));  // SE 3 / sqrt(n) = 0.03
  CHECK(std::sqrt(sum2 / n) == Approx(3.0).margin(0.1));

  // One row per school, subject and grade served, in school order, counting each student once.
  std::map<std::pair<int, int>, std::uint32_t> counted;  // subject, school -> students
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const AssessmentRow& row = rows[r];
    if (r > 0) CHECK(rows[r - 1].school <= row.school);
    CHECK(row.year == 0);
    CHECK(row.season == Season::fall);
    counted[{int(row.subject), int(row.school)}] += row.n;
    // The row's means are the means over its students.
    const int s = int(row.subject);
    double rit = 0, true_rit = 0;
    std::uint32_t k = 0;
    for (std::uint32_t i = state.schools.begin[row.school]; i < state.schools.end[row.school]; ++i) {
      if (st.grade[i] != row.grade) continue;
      rit += st.score[s][i];
      true_rit += m.scale.rit(row.subject, mastered_position(st, s, i));
      ++k;
    }
    INFO("row " << r);
    REQUIRE(k == row.n);
    CHECK(row.mean_rit == Approx(rit / k).epsilon(1e-6));
    CHECK(row.mean_true_rit == Approx(true_rit / k).epsilon(1e-9));
    const NormCell norm = m.norms.at(row.subject, Season::fall, row.grade);
    CHECK(row.mean_sd == Approx((row.mean_rit - norm.mean) / norm.sd).margin(1e-9));
    CHECK(row.mean_percentile > 0);
    CHECK(row.mean_percentile < 100);
  }
  for (std::uint32_t k = 0; k < state.schools.size(); ++k)
    for (int s = 0; s < n_subjects; ++s) CHECK(counted[{s, int(k)}] == state.schools.end[k] - state.schools.begin[k]);
}

TEST_CASE("without test error a measured score is the true score", "[assessment]") {
  const Model m = plsim_test::model_of(k12(0.0));
  State state = build_population(m);
  std::vector<AssessmentRow> rows;
  assess(m, state, Season::spring, rows);
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t i = 0; i < state.students.size(); ++i)
      REQUIRE(state.students.score[s][i] ==
              static_cast<float>(m.scale.rit(static_cast<Subject>(s), mastered_position(state.students, s, i))));
  for (const auto& row : rows) CHECK(row.mean_rit == Approx(row.mean_true_rit).epsilon(1e-6));
}

TEST_CASE("assessment windows open in their weeks of the year", "[assessment]") {
  json doc = k12();
  doc["parameters"]["assessment"]["weeks"] = {{"fall", 2}, {"winter", 10}, {"spring", 20}};
  doc["weeks_per_year"] = 24;
  const auto model = plsim_test::shared_model_of(doc);
  Simulation sim(model, 1);
  std::map<int, int> first_week;  // season -> 1-based week in which its rows appeared
  std::size_t seen = 0;
  for (int week = 1; sim.step(); ++week) {
    const auto& rows = sim.results().assessments;
    for (; seen < rows.size(); ++seen) first_week.emplace(int(rows[seen].season), week);
  }
  CHECK(first_week == std::map<int, int>{{0, 2}, {1, 10}, {2, 20}});
  // Three windows, each with one row per school, subject and grade served.
  std::size_t cells = 0;
  for (std::uint32_t k = 0; k < sim.state().schools.size(); ++k)
    cells += n_subjects * (sim.state().schools.grade_hi[k] - sim.state().schools.grade_lo[k] + 1u);
  CHECK(sim.results().assessments.size() == 3 * cells);
}

TEST_CASE("a cell's mean percentile is the mean national percentile of its measured scores, not of true ones",
          "[assessment]") {
  const auto model = plsim_test::shared_model_of(plsim_test::one_school("traditional"));
  Simulation sim(model, 1);
  sim.step();  // the fall test of week 1
  const auto& st = sim.state().students;
  std::map<std::pair<int, int>, std::pair<double, int>> cells;  // (subject, grade) -> (sum of percentiles, n)
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t i = 0; i < st.size(); ++i) {
      auto& c = cells[{s, st.grade[i]}];
      c.first += model->norms.percentile(static_cast<Subject>(s), Season::fall, st.grade[i], st.score[s][i]);
      c.second++;
    }
  int rows = 0;
  for (const auto& row : sim.results().assessments) {
    if (row.season != Season::fall) continue;
    const auto& c = cells.at({int(row.subject), row.grade});
    INFO(subject_names[int(row.subject)] << " grade " << row.grade);
    CHECK(row.mean_percentile == Approx(c.first / c.second).margin(0.02));
    ++rows;
  }
  CHECK(rows == 2 * 6);
}

TEST_CASE("a student's baseline score and starting quintile are those of his first fall test in the run, "
          "kept in later years", "[assessment]") {
  json doc = plsim_test::one_school("traditional");
  doc["years"] = 2;
  const auto model = plsim_test::shared_model_of(doc);
  Simulation sim(model, 1);
  sim.step();  // year 1's fall test
  const auto& st = sim.state().students;
  std::map<std::uint32_t, std::pair<float, int>> first;  // id -> (math baseline z, math start quintile)
  for (std::size_t i = 0; i < st.size(); ++i) {
    REQUIRE_FALSE(std::isnan(st.baseline_z[0][i]));
    REQUIRE(st.start_quintile[0][i] >= 1);
    first[st.id[i]] = {st.baseline_z[0][i], st.start_quintile[0][i]};
  }
  sim.run([&](const Progress& p) { return p.weeks_done < std::uint64_t(model->weeks_per_year + 1); });
  REQUIRE(sim.state().year == 1);  // year 2's fall test is done
  int continuing = 0, entrants = 0;
  for (std::size_t i = 0; i < st.size(); ++i) {
    const auto it = first.find(st.id[i]);
    if (it == first.end()) {
      ++entrants;
      CHECK_FALSE(std::isnan(st.baseline_z[0][i]));  // an entrant's first fall is this one
      continue;
    }
    ++continuing;
    REQUIRE(st.baseline_z[0][i] == it->second.first);
    REQUIRE(int(st.start_quintile[0][i]) == it->second.second);
  }
  CHECK(continuing > 100);
  CHECK(entrants > 10);
}

namespace {

// Each student's test error (measured minus true scale score) in subject s, by stable id.
std::map<std::uint32_t, double> errors_by_id(const Model& m, State& state, int year, Season season, int s) {
  state.year = year;
  std::vector<AssessmentRow> rows;
  assess(m, state, season, rows);
  std::map<std::uint32_t, double> out;
  const auto& st = state.students;
  for (std::size_t i = 0; i < st.size(); ++i)
    out[st.id[i]] = st.score[s][i] - m.scale.rit(static_cast<Subject>(s), mastered_position(st, s, i));
  return out;
}

double correlation(const std::map<std::uint32_t, double>& a, const std::map<std::uint32_t, double>& b) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (const auto& [id, x] : a) {
    const double y = b.at(id);
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y, ++n;
  }
  const double cov = sab / n - sa / n * sb / n;
  return cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
}

}  // namespace

TEST_CASE("test errors are drawn anew for every year, season and subject, keyed by the student's id",
          "[assessment][randomness]") {
  // Multi-year randomness: a stream keyed by season alone would repeat a student's errors every
  // year; one keyed by row instead of id would move every student's draws when one leaves.
  const Model m = plsim_test::model_of(k12());
  State state = build_population(m);
  const auto fall_1 = errors_by_id(m, state, 0, Season::fall, 0);
  const auto fall_3 = errors_by_id(m, state, 2, Season::fall, 0);
  const auto spring_1 = errors_by_id(m, state, 0, Season::spring, 0);
  const auto reading_3 = errors_by_id(m, state, 2, Season::fall, 1);
  for (const auto* other : {&fall_3, &spring_1, &reading_3}) {
    const double r = correlation(fall_1, *other);
    INFO("correlation " << r << " over " << fall_1.size() << " students");
    CHECK(std::abs(r) < 0.05);  // SE about 1 / sqrt(4,800) = 0.015
  }
  // The spread a later year draws is the configured one (3 RIT), as in the first.
  double sum2 = 0;
  for (const auto& [id, e] : fall_3) sum2 += e * e;
  CHECK(std::sqrt(sum2 / fall_3.size()) == Approx(3.0).margin(0.1));

  // Removing the first student changes no other student's draw, in any year.
  std::vector<std::uint32_t> order(state.students.size() - 1);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i + 1);
  const std::uint32_t removed = state.students.id[0];
  permute_students(state.students, order);
  const auto fall_3_without = errors_by_id(m, state, 2, Season::fall, 0);
  CHECK(fall_3_without.count(removed) == 0);
  std::size_t same = 0;
  for (const auto& [id, e] : fall_3_without) same += e == fall_3.at(id);
  CHECK(same == fall_3_without.size());
}

namespace {

// Each cell's (school, grade, subject) mean reported test error in year `year`'s spring test, in
// standard errors of its mean (mean error * sqrt(n) / measurement_error_rit), keyed by the cell.
plsim_test::ById cell_errors(const Model& m, State state, int year, std::vector<float>* scores = nullptr) {
  state.year = year;
  std::vector<AssessmentRow> rows;
  assess(m, state, Season::spring, rows);
  plsim_test::ById out;
  for (const auto& row : rows)
    out[(std::uint64_t(row.school) * n_grades + row.grade) * n_subjects + int(row.subject)] =
        (row.mean_rit - row.mean_true_rit) * std::sqrt(double(row.n)) / m.params.assessment.measurement_error_rit;
  if (scores) *scores = state.students.score[0];
  return out;
}

}  // namespace

TEST_CASE("the counterfactual twin reports test errors of its own, drawn anew each year, while its students' scores "
          "share the policy arm's draws", "[assessment][randomness]") {
  // A twin that reported the policy arm's errors would measure every effect without error; one whose
  // own errors repeated every year would bias every year's comparison the same way.
  json doc = k12();
  doc["districts"][0]["count"] = 8;
  const Model m = plsim_test::model_of(doc);
  const auto twin = counterfactual_of(m);
  const State state = build_population(m);  // all schools traditional: the twin's population too
  std::vector<float> policy_scores, twin_scores;
  const auto policy_third = cell_errors(m, state, 2, &policy_scores);
  const auto twin_third = cell_errors(*twin, state, 2, &twin_scores);
  const auto twin_first = cell_errors(*twin, state, 0);
  const std::size_t n = twin_third.size();
  REQUIRE(n > 400);
  const double bound = plsim_test::independent_correlation_bound(n);
  const double r_arms = plsim_test::correlation(policy_third, twin_third);
  const double r_years = plsim_test::correlation(twin_first, twin_third);
  INFO("correlation of cells' mean reported errors: policy arm and twin " << r_arms << ", the twin's years 1 and 3 "
       << r_years << " (bound " << bound << " over " << n << " cells)");
  CHECK(std::abs(r_arms) < bound);
  CHECK(std::abs(r_years) < bound);
  // Its errors have the configured spread: the cell means, in standard errors, have SD 1.
  INFO("SD of the twin's cell mean errors in standard errors: " << plsim_test::sd(twin_third));
  CHECK(plsim_test::sd(twin_third) == Approx(1.0).epsilon(plsim_test::sd_relative_bound(n)));
  // The students' measured scores, which the twin's state carries on, are the policy arm's draws.
  CHECK(plsim_test::same_bits(policy_scores, twin_scores));
}
