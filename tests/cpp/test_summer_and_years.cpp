// Between school years: summer forgetting, then promotion, graduation, feeder moves, entry cohorts
// and new classrooms.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "draws.hpp"
#include "helpers.hpp"
#include "plsim/measure/assessment.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/simulation.hpp"
#include "plsim/modules/classrooms.hpp"
#include "plsim/modules/summer.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// Two elementary schools (20 per grade) feeding one middle school (40 per grade) feeding one high
// school (40 per grade): promotion keeps every school at its enrollment.
json feeder_district(int years = 1) {
  return plsim_test::scenario(json::array({
                                  {{"level", "elementary"}, {"count", 2}, {"enrollment", 120}},
                                  {{"level", "middle"}, {"enrollment", 120}},
                                  {{"level", "high"}, {"enrollment", 160}},
                              }),
                              {{"years", years}});
}

// A larger K-12 population for figures: 4 copies of the district above, 2 elementary schools larger.
json k12_population(double loss_scale = 1.0) {
  json doc = plsim_test::scenario(json::array({
                                      {{"level", "elementary"}, {"count", 4}, {"enrollment", 264}},
                                      {{"level", "middle"}, {"count", 2}, {"enrollment", 264}},
                                      {{"level", "high"}, {"enrollment", 480}},
                                  }),
                                  {{"parameters", {{"summer", {{"loss_scale", loss_scale}}}}}});
  doc["districts"][0]["count"] = 4;
  return doc;
}

struct Record {
  std::uint32_t school;
  int grade;
  std::uint16_t frontier[n_subjects];
  std::uint16_t gaps[n_subjects];
  float p_known[n_subjects];
  float learning_rate[n_subjects];
  float self_regulation;
  std::uint8_t frl;
};

std::map<std::uint32_t, Record> by_id(const State& state) {
  std::map<std::uint32_t, Record> out;
  const auto& st = state.students;
  for (std::size_t i = 0; i < st.size(); ++i) {
    Record r{st.school[i], st.grade[i], {}, {}, {}, {}, st.self_regulation[i], st.frl[i]};
    for (int s = 0; s < n_subjects; ++s) {
      r.frontier[s] = st.frontier[s][i];
      r.gaps[s] = st.gaps[s][i];
      r.p_known[s] = st.p_known[s][i];
      r.learning_rate[s] = st.learning_rate[s][i];
    }
    out[st.id[i]] = r;
  }
  return out;
}

// Everything wrong with the layout of students in schools and classrooms (empty when sound).
std::vector<std::string> layout_problems(const State& state) {
  std::vector<std::string> problems;
  const auto& st = state.students;
  const auto& sc = state.schools;
  const auto& cl = state.classrooms;
  for (std::size_t i = 1; i < st.size(); ++i)
    if (std::make_pair(st.school[i - 1], st.grade[i - 1]) > std::make_pair(st.school[i], st.grade[i]))
      problems.push_back("students not sorted at " + std::to_string(i));
  std::uint32_t next_student = 0, next_class = 0;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    if (sc.begin[k] != next_student) problems.push_back("school range " + std::to_string(k));
    if (sc.class_begin[k] != next_class) problems.push_back("school classroom range " + std::to_string(k));
    for (std::uint32_t c = sc.class_begin[k]; c < sc.class_end[k]; ++c) {
      const std::string where = "classroom " + std::to_string(c);
      if (cl.school[c] != k) problems.push_back(where + ": school");
      if (cl.begin[c] != next_student || cl.end[c] <= cl.begin[c]) problems.push_back(where + ": range");
      if (cl.end[c] - cl.begin[c] > sc.class_size[k]) problems.push_back(where + ": above class size");
      if (state.teachers.school[cl.teacher[c]] != k) problems.push_back(where + ": teacher of another school");
      for (std::uint32_t i = cl.begin[c]; i < cl.end[c]; ++i)
        if (st.school[i] != k || st.grade[i] != cl.grade[c] || st.classroom[i] != c)
          problems.push_back(where + ": student " + std::to_string(i));
      next_student = cl.end[c];
    }
    next_class = sc.class_end[k];
    if (sc.end[k] != next_student) problems.push_back("school end " + std::to_string(k));
  }
  if (next_student != st.size()) problems.push_back("students outside every classroom");
  if (next_class != cl.size()) problems.push_back("classrooms outside every school");
  return problems;
}

}  // namespace

TEST_CASE("the summer change comes from the norms: the year's end, spring plus the weeks after it, minus next fall",
          "[summer]") {
  const Model m = plsim_test::model_of(feeder_district());
  const auto& w = m.params.assessment.weeks;
  const double after_spring = m.weeks_per_year - (w[int(Season::spring)] - 1);
  int grades_with_loss = 0;
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    for (int g = 0; g + 1 < n_grades; ++g) {
      const double spring = m.norms.at(subject, Season::spring, g).mean;
      const double next_fall = m.norms.at(subject, Season::fall, g + 1).mean;
      INFO(subject_names[s] << " grade " << g);
      CHECK(m.summer_loss[s][g] == Approx(m.scale.position(subject, spring) + after_spring * m.pacing_per_week[s][g] -
                                          m.scale.position(subject, next_fall)).epsilon(1e-12));
      grades_with_loss += m.summer_loss[s][g] > 0;
    }
    // The norms show a summer gain between kindergarten and grade 1 (spring K below fall of grade 1).
    CHECK(m.summer_loss[s][0] < 0);
  }
  CHECK(grades_with_loss >= 10);
}

TEST_CASE("summer lowers mastered positions by the summer loss and turns forgotten units into gaps", "[summer]") {
  const Model m = plsim_test::model_of(k12_population());
  const State before = build_population(m);
  State after = before;
  summer(m, after);
  const auto& a = before.students;
  const auto& b = after.students;
  const auto& p = m.params.summer;
  double ratio_sum[2] = {0, 0}, ratio_n[2] = {0, 0};  // loss over expected loss, non-FRL and FRL
  long gaps_before = 0, gaps_after = 0;
  for (int s = 0; s < n_subjects; ++s) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (m.summer_loss[s][a.grade[i]] <= 0) continue;  // kindergarten: the norms show a summer gain
      const double x0 = mastered_position(a, s, i), x1 = mastered_position(b, s, i);
      INFO(subject_names[s] << " student " << i);
      REQUIRE(x1 <= x0 + 1e-6);
      REQUIRE(b.frontier[s][i] == a.frontier[s][i]);
      REQUIRE(b.gaps[s][i] >= a.gaps[s][i]);
      REQUIRE(b.gaps[s][i] >= std::popcount(b.recent_gaps[s][i]));
      REQUIRE((b.recent_gaps[s][i] & a.recent_gaps[s][i]) == a.recent_gaps[s][i]);  // gaps stay gaps
      gaps_before += a.gaps[s][i];
      gaps_after += b.gaps[s][i];
      const double expected = m.summer_loss[s][a.grade[i]] * p.loss_scale;
      if (expected > 0) {
        ratio_sum[a.frl[i]] += (x0 - x1) / expected;
        ratio_n[a.frl[i]] += 1;
      }
    }
  }
  CHECK(gaps_after > gaps_before);
  CHECK(plsim_test::mean_position(after) < plsim_test::mean_position(before));
  REQUIRE(ratio_n[0] > 1000);
  REQUIRE(ratio_n[1] > 1000);
  const double non_frl = ratio_sum[0] / ratio_n[0], frl = ratio_sum[1] / ratio_n[1];
  INFO("loss relative to the norm-derived loss: non-FRL " << non_frl << ", FRL " << frl);
  // FRL students lose frl_extra_loss more, and the national mean loss is the norms' (national FRL
  // share 0.5). Relative variation has SD loss_sd = 0.3: SE of each mean below 0.01.
  const double national = 1.0 + p.frl_extra_loss * m.params.population.national_frl_share;
  CHECK(non_frl == Approx(1.0 / national).margin(0.04));
  CHECK(frl == Approx((1.0 + p.frl_extra_loss) / national).margin(0.05));
}

TEST_CASE("without summer loss the summer changes nothing", "[summer]") {
  const Model m = plsim_test::model_of(k12_population(0.0));
  const State before = build_population(m);
  State after = before;
  summer(m, after);
  CHECK(plsim_test::differing_student_columns(before.students, after.students) == std::vector<std::string>{});
}

TEST_CASE("each school feeds the school of its district copy that starts at its next grade", "[years]") {
  json doc = feeder_district();
  doc["districts"][0]["count"] = 2;
  const Model m = plsim_test::model_of(doc);
  const State state = build_population(m);
  const auto& sc = state.schools;
  REQUIRE(sc.size() == 8);
  // Per copy: elementary 0 and 1 -> middle 2 -> high 3 -> none; the second copy is offset by 4.
  const std::vector<std::int32_t> expected{2, 2, 3, -1, 6, 6, 7, -1};
  CHECK(std::vector<std::int32_t>(sc.feeder_next.begin(), sc.feeder_next.end()) == expected);
  CHECK(sc.district[0] == 0);
  CHECK(sc.district[4] == 1);
}

TEST_CASE("a year transition promotes, graduates, moves leavers to the feeder school and refills entry grades",
          "[years]") {
  const Model m = plsim_test::model_of(feeder_district());
  State state = build_population(m);
  const auto old = by_id(state);
  const auto feeder = state.schools.feeder_next;
  const auto grade_hi = state.schools.grade_hi;
  advance_year(m, state);

  CHECK(state.year == 1);
  CHECK(state.week == 0);
  const auto now = by_id(state);
  int graduated = 0, moved = 0, promoted = 0;
  for (const auto& [id, r] : old) {
    INFO("student " << id << " in school " << r.school << " grade " << r.grade);
    if (r.grade == 12) {
      CHECK(now.count(id) == 0);
      ++graduated;
      continue;
    }
    REQUIRE(now.count(id) == 1);
    const Record& n = now.at(id);
    CHECK(n.grade == r.grade + 1);
    if (r.grade == grade_hi[r.school]) {
      CHECK(n.school == static_cast<std::uint32_t>(feeder[r.school]));
      ++moved;
    } else {
      CHECK(n.school == r.school);
      ++promoted;
    }
    // Promotion moves a student; it never changes what he knows or who he is.
    CHECK(n.frl == r.frl);
    CHECK(n.self_regulation == r.self_regulation);
    for (int s = 0; s < n_subjects; ++s) {
      CHECK(n.frontier[s] == r.frontier[s]);
      CHECK(n.gaps[s] == r.gaps[s]);
      CHECK(n.p_known[s] == r.p_known[s]);
      CHECK(n.learning_rate[s] == r.learning_rate[s]);
    }
  }
  CHECK(graduated == 40);
  CHECK(moved == 2 * 20 + 40);  // grade 5 of both elementary schools, grade 8 of the middle school
  CHECK(promoted > 0);

  // Entry cohorts: only kindergarten lacks students (the feeders fill grades 6 and 9 exactly).
  std::map<std::pair<std::uint32_t, int>, int> new_students, all_students;
  for (const auto& [id, r] : now) {
    all_students[{r.school, r.grade}]++;
    if (old.count(id) == 0) new_students[{r.school, r.grade}]++;
  }
  CHECK(new_students == std::map<std::pair<std::uint32_t, int>, int>{{{0, 0}, 20}, {{1, 0}, 20}});
  for (std::uint32_t k = 0; k < state.schools.size(); ++k)
    for (int g = state.schools.grade_lo[k]; g <= state.schools.grade_hi[k]; ++g) {
      INFO("school " << k << " grade " << g);
      CHECK(all_students[{k, g}] == int(state.schools.grade_enrollment[k]));
    }
  // Entrants get ids from their school's block, after every first-year id.
  for (const auto& [id, r] : now)
    if (old.count(id) == 0) CHECK(id >= state.schools.first_entrant_id[r.school]);

  // Classrooms are formed again around the new grades.
  CHECK(layout_problems(state) == std::vector<std::string>{});
  for (std::uint32_t c = 0; c < state.classrooms.size(); ++c)
    CHECK(state.classrooms.grade[c] >= state.schools.grade_lo[state.classrooms.school[c]]);
}

TEST_CASE("leavers of a school without a feeder school leave the run", "[years]") {
  const Model m = plsim_test::model_of(plsim_test::scenario(json::array({{{"level", "middle"}, {"enrollment", 90}}})));
  State state = build_population(m);
  REQUIRE(state.schools.feeder_next[0] == -1);
  const auto old = by_id(state);
  advance_year(m, state);
  const auto now = by_id(state);
  for (const auto& [id, r] : old) CHECK(now.count(id) == (r.grade == 8 ? 0u : 1u));
  CHECK(state.students.size() == 90);  // grade 6 refilled by an entry cohort
}

TEST_CASE("classrooms of untracked grades are re-mixed every year", "[years]") {
  const Model m = plsim_test::model_of(
      plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 264}}})));
  State state = build_population(m);
  std::map<std::uint32_t, std::uint32_t> old_class;
  for (std::size_t i = 0; i < state.students.size(); ++i) old_class[state.students.id[i]] = state.students.classroom[i];
  advance_year(m, state);
  // Pairs of classmates in kindergarten, and how many of them share a grade-1 classroom.
  int pairs = 0, together = 0;
  const auto& st = state.students;
  for (std::size_t i = 0; i < st.size(); ++i)
    for (std::size_t j = i + 1; j < st.size(); ++j) {
      if (st.grade[i] != 1 || st.grade[j] != 1 || old_class[st.id[i]] != old_class[st.id[j]]) continue;
      ++pairs;
      together += st.classroom[i] == st.classroom[j];
    }
  REQUIRE(pairs > 100);
  CHECK(together < pairs * 3 / 4);
  CHECK(together > pairs / 4);
}

TEST_CASE("between years the simulation runs summer, then promotion, then the fall test and learning", "[years]") {
  const auto model = plsim_test::shared_model_of(feeder_district(2));
  Simulation sim(model, 2);
  while (sim.results().years_completed < 1) sim.step();
  REQUIRE(sim.state().week == model->weeks_per_year);
  REQUIRE(sim.state().year == 0);

  State manual = sim.state();
  std::vector<AssessmentRow> rows;
  summer(*model, manual);
  advance_year(*model, manual);
  assess(*model, manual, Season::fall, rows);
  LearningProcess(*model).run_week(manual, WeekContext{1, 0});

  const std::size_t rows_before = sim.results().assessments.size();
  sim.step();
  CHECK(sim.state().year == 1);
  CHECK(sim.state().week == 1);
  CHECK(plsim_test::differing_student_columns(sim.state().students, manual.students) == std::vector<std::string>{});
  const std::vector<AssessmentRow> new_rows(sim.results().assessments.begin() + long(rows_before),
                                            sim.results().assessments.end());
  CHECK(plsim_test::first_differing_row(new_rows, rows) == -1);
  REQUIRE_FALSE(rows.empty());
  for (const auto& r : rows) {
    CHECK(r.year == 1);
    CHECK(r.season == Season::fall);
  }
}

TEST_CASE("knowledge invariants hold after two simulated years", "[years]") {
  const auto model = plsim_test::shared_model_of(feeder_district(2));
  Simulation sim(model, 2);
  sim.run();
  const auto& st = sim.state().students;
  const float threshold = static_cast<float>(model->params.learning.mastery_threshold);
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t i = 0; i < st.size(); ++i) {
      INFO(subject_names[s] << " student " << i);
      REQUIRE(st.frontier[s][i] >= st.gaps[s][i]);
      REQUIRE(st.gaps[s][i] >= std::popcount(st.recent_gaps[s][i]));
      REQUIRE(st.p_known[s][i] >= 0.0f);
      REQUIRE(st.p_known[s][i] < threshold);
    }
  CHECK(layout_problems(sim.state()) == std::vector<std::string>{});
  // Every school is still at its enrollment: the feeders balance.
  for (std::uint32_t k = 0; k < sim.state().schools.size(); ++k) {
    const auto& sc = sim.state().schools;
    CHECK(sc.end[k] - sc.begin[k] == sc.grade_enrollment[k] * (sc.grade_hi[k] - sc.grade_lo[k] + 1u));
  }
}

TEST_CASE("a population that outgrows its student buffers keeps every student and every column", "[years]") {
  // Twenty elementary schools feed one middle and one high school of a few students per grade: the
  // later schools overfill every year until the population passes twice its starting size.
  const Model m = plsim_test::model_of(plsim_test::scenario(json::array({
      {{"level", "elementary"}, {"count", 20}, {"enrollment", 600}},
      {{"level", "middle"}, {"enrollment", 3}},
      {{"level", "high"}, {"enrollment", 4}},
  })));
  State state = build_population(m);
  const std::size_t start = state.students.size();
  const std::size_t start_capacity = state.students.id.capacity();
  REQUIRE(start == 12007);
  bool grew = false;
  for (int year = 0; year < 7; ++year) {
    const auto before = by_id(state);
    const std::size_t capacity = state.students.id.capacity();
    advance_year(m, state);
    INFO("transition " << year + 1);
    grew = grew || state.students.id.capacity() > capacity;
    // Every student who stays keeps his identity and knowledge, wherever his columns now live.
    const auto after = by_id(state);
    for (const auto& [id, r] : after) {
      if (before.count(id) == 0) continue;
      const Record& b = before.at(id);
      REQUIRE(r.grade == b.grade + 1);
      REQUIRE(r.frontier[0] == b.frontier[0]);
      REQUIRE(r.p_known[1] == b.p_known[1]);
      REQUIRE(r.learning_rate[0] == b.learning_rate[0]);
    }
    REQUIRE(layout_problems(state) == std::vector<std::string>{});
  }
  CHECK(grew);
  CHECK(state.students.id.capacity() > start_capacity);
  CHECK_FALSE(state.retired_columns.empty());
  // 20 schools x 100 students per grade move on into grades 6 to 12.
  CHECK(state.students.size() == 12000 + 7 * 2000);
  state.students.for_each_column([&](const auto& column) { CHECK(column.size() == state.students.size()); });
}

TEST_CASE("summer forgets the most recent mastered units first, and each becomes a gap in the prerequisite window",
          "[summer]") {
  const Model m = plsim_test::model_of(k12_population());
  const State before = build_population(m);
  State after = before;
  summer(m, after);
  const auto& a = before.students;
  const auto& b = after.students;
  long forgotten = 0;
  for (int s = 0; s < n_subjects; ++s)
    for (std::size_t i = 0; i < a.size(); ++i) {
      const int k = b.gaps[s][i] - a.gaps[s][i];
      if (k == 0 || a.frontier[s][i] < 64) continue;
      // The k lowest bits of the window that were mastered (0) before are the new gaps: bit j is unit
      // frontier-1-j, so these are the k most recently mastered units.
      std::uint64_t expected = a.recent_gaps[s][i], mastered = ~a.recent_gaps[s][i];
      for (int j = 0; j < k && mastered; ++j) {
        expected |= mastered & -mastered;
        mastered &= mastered - 1;
      }
      INFO(subject_names[s] << " student " << i << ": " << k << " units forgotten");
      REQUIRE(b.recent_gaps[s][i] == expected);
      forgotten += k;
    }
  CHECK(forgotten > 1000);
}

TEST_CASE("feeders match schools by achievement rank: neighbourhoods feed the schools near them", "[years]") {
  const Model m = plsim_test::model_of(plsim_test::scenario(json::array({
      {{"level", "elementary"}, {"count", 8}, {"enrollment", 60}},
      {{"level", "middle"}, {"count", 4}, {"enrollment", 60}},
  })));
  const State state = build_population(m);
  const auto& sc = state.schools;
  std::vector<std::uint32_t> elementary, middle;
  for (std::uint32_t k = 0; k < sc.size(); ++k) (sc.grade_lo[k] == 0 ? elementary : middle).push_back(k);
  auto by_achievement = [&](std::vector<std::uint32_t>& v) {
    std::stable_sort(v.begin(), v.end(), [&](auto a, auto b) { return sc.achievement_shift[a] < sc.achievement_shift[b]; });
  };
  by_achievement(elementary);
  by_achievement(middle);
  REQUIRE(middle != std::vector<std::uint32_t>{8, 9, 10, 11});  // rank order differs from index order
  for (std::size_t r = 0; r < elementary.size(); ++r)
    CHECK(sc.feeder_next[elementary[r]] == std::int32_t(middle[r * middle.size() / elementary.size()]));
}

namespace {

// Each student's summer variation in subject s for a summer after year `year` (1 + loss_sd * normal,
// from the loss over the expected one), by stable id; students whose grade shows no summer loss, or
// whose loss reaches the bottom of their knowledge, are left out.
plsim_test::ById summer_variation(const Model& m, const State& before, int year, int s) {
  State after = before;
  after.year = year;
  summer(m, after);
  const auto& a = before.students;
  const auto& b = after.students;
  const double national = 1.0 + m.params.summer.frl_extra_loss * m.params.population.national_frl_share;
  plsim_test::ById out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double expected = m.summer_loss[s][a.grade[i]] * m.params.summer.loss_scale *
                            (a.frl[i] ? 1.0 + m.params.summer.frl_extra_loss : 1.0) / national;
    if (expected <= 0 || b.frontier[s][i] == b.gaps[s][i]) continue;
    out[a.id[i]] = (mastered_position(a, s, i) - mastered_position(b, s, i)) / expected;
  }
  return out;
}

}  // namespace

TEST_CASE("summer loss is drawn anew every year and subject, keyed by the student's id, with spread loss_sd",
          "[summer][randomness]") {
  // A summer stream keyed by subject alone, or whose tick ignored the year, would take the same from a
  // student every summer; one keyed by row would move every student's draw when one leaves.
  const Model m = plsim_test::model_of(k12_population());
  State state = build_population(m);
  const auto first = summer_variation(m, state, 0, 0);
  const auto third = summer_variation(m, state, 2, 0);
  const auto third_reading = summer_variation(m, state, 2, 1);
  REQUIRE(first.size() > 5000);
  const double bound = plsim_test::independent_correlation_bound(first.size());
  CHECK(first.size() == third.size());
  const double r_years = plsim_test::correlation(first, third);
  const double r_subjects = plsim_test::correlation(third, third_reading);
  INFO("correlation of a student's summer losses: years 1 and 3 " << r_years << ", math and reading "
       << r_subjects << " (bound " << bound << " over " << first.size() << " students)");
  CHECK(std::abs(r_years) < bound);
  CHECK(std::abs(r_subjects) < bound);
  // A later summer varies as much as loss_sd says (and is centred on the norms' loss).
  const double loss_sd = m.params.summer.loss_sd;
  REQUIRE(loss_sd > 0.1);
  INFO("SD of the relative summer loss in year 3: " << plsim_test::sd(third) << ", mean " << plsim_test::mean(third));
  CHECK(plsim_test::sd(third) == Approx(loss_sd).epsilon(plsim_test::sd_relative_bound(third.size())));
  CHECK(plsim_test::mean(third) == Approx(1.0).margin(plsim_test::mean_bound(loss_sd, third.size())));

  // Removing a student who loses in summer leaves every other student's summer the same, bit for bit.
  std::size_t gone = 0;
  while (third.count(state.students.id[gone]) == 0) ++gone;
  const std::uint32_t removed = state.students.id[gone];
  std::vector<std::uint32_t> order;
  for (std::size_t i = 0; i < state.students.size(); ++i)
    if (i != gone) order.push_back(static_cast<std::uint32_t>(i));
  permute_students(state.students, order);
  const auto third_without = summer_variation(m, state, 2, 0);
  CHECK(third_without.count(removed) == 0);
  CHECK(plsim_test::same_values(third_without, third) == third_without.size());
}

namespace {

// Classrooms formed for year `year` from `state`: each untracked student's place in his school and
// grade (0 first, 1 last) by stable id, and the ids of each (school, grade) in their order.
struct ShuffleDraw {
  plsim_test::ById place;
  std::map<std::pair<std::uint32_t, int>, std::vector<std::uint32_t>> order;
};

ShuffleDraw shuffle_of(const Model& m, State state, int year) {
  state.year = year;
  form_classrooms(m, state);
  ShuffleDraw out;
  const auto& st = state.students;
  for (std::size_t i = 0; i < st.size(); ++i)
    if (st.grade[i] < m.params.population.tracking_from_grade) out.order[{st.school[i], st.grade[i]}].push_back(st.id[i]);
  for (const auto& [key, ids] : out.order)
    for (std::size_t j = 0; j < ids.size(); ++j) out.place[ids[j]] = double(j) / double(ids.size() - 1);
  return out;
}

}  // namespace

TEST_CASE("the yearly classroom shuffle is drawn anew every year and keyed by the student's id",
          "[years][randomness]") {
  // A shuffle whose tick ignored the year would keep the same classmates together every year; one
  // keyed by row would reorder a whole school when one student leaves it.
  const Model m = plsim_test::model_of(k12_population());
  State state = build_population(m);
  const auto first = shuffle_of(m, state, 0);
  const auto third = shuffle_of(m, state, 2);
  const auto fourth = shuffle_of(m, state, 3);
  REQUIRE(first.place.size() > 3000);
  const double bound = plsim_test::independent_correlation_bound(first.place.size());
  for (const auto* later : {&third, &fourth}) {
    const double r = plsim_test::correlation(first.place, later->place);
    INFO("correlation of a student's place in his grade, year 1 and a later year: " << r << " (bound " << bound << ")");
    CHECK(std::abs(r) < bound);
  }
  const double r = plsim_test::correlation(third.place, fourth.place);
  INFO("correlation of places, years 3 and 4: " << r);
  CHECK(std::abs(r) < bound);

  // Removing a student leaves the order of every other student of his school and grade as it was.
  std::vector<std::uint32_t> order(state.students.size() - 1);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i + 1);
  const std::uint32_t removed = state.students.id[0];
  const auto key = std::make_pair(state.students.school[0], int(state.students.grade[0]));
  REQUIRE(key.second < m.params.population.tracking_from_grade);
  permute_students(state.students, order);
  const auto third_without = shuffle_of(m, state, 2);
  std::size_t changed = 0;
  for (const auto& [k, ids] : third.order) {
    std::vector<std::uint32_t> expected = ids;
    if (k == key) expected.erase(std::find(expected.begin(), expected.end(), removed));
    changed += third_without.order.at(k) != expected;
  }
  INFO("grades of a school whose order changed: " << changed << " of " << third.order.size());
  CHECK(changed == 0);
}

TEST_CASE("summer loss is drawn apart from the classroom shuffle of the same year", "[summer][randomness]") {
  // One stream per decision: were summer to take the shuffle's words (same student, same year), a
  // student's place in his class list would tell how far his summer strays from the norms'.
  const Model m = plsim_test::model_of(k12_population());
  const State state = build_population(m);
  const int year = 2;
  const auto places = shuffle_of(m, state, year).place;
  const auto variation = summer_variation(m, state, year, 0);
  plsim_test::ById size;  // how far each student's summer strays, whichever way
  for (const auto& [id, v] : variation)
    if (places.count(id)) size[id] = std::abs(v - 1.0);
  REQUIRE(size.size() > 3000);
  const double r = plsim_test::correlation(places, size), bound = plsim_test::independent_correlation_bound(size.size());
  INFO("correlation of a student's place in the shuffle with the size of his summer variation: " << r << " (bound "
       << bound << " over " << size.size() << " students)");
  CHECK(std::abs(r) < bound);
}
