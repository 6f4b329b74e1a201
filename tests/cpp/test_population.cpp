// The synthetic population: layout of students in schools and classrooms, and starting achievement.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <vector>

#include "helpers.hpp"
#include "plsim/modules/population.hpp"

using namespace plsim;
using plsim_test::json;

namespace {

// Schools of every level, class sizes that do and do not divide the grade, and a charter K-8.
json mixed_district() {
  return plsim_test::scenario(json::array({
      {{"level", "elementary"}, {"count", 3}, {"enrollment", 130}},
      {{"level", "middle"}, {"enrollment", 300}},
      {{"level", "high"}, {"enrollment", 400}},
      {{"level", "elementary"}, {"type", "charter"}, {"grades", {0, 8}}, {"enrollment", 189}, {"class_size", 10}},
  }));
}

double student_z(const Model& m, const State& state, int s, std::size_t i) {
  return m.norms.z_score(static_cast<Subject>(s), Season::fall, state.students.grade[i], state.students.score[s][i]);
}

struct Moments {
  double n = 0, sum = 0, sum2 = 0;
  void add(double x) { n += 1, sum += x, sum2 += x * x; }
  double mean() const { return sum / n; }
  double var() const { return (sum2 - sum * sum / n) / (n - 1); }
  double sd() const { return std::sqrt(var()); }
};

// One district of 600 schools, without district effects (one district draws one).
json many_schools(double school_mean_sd) {
  return plsim_test::scenario(
      json::array({{{"level", "elementary"}, {"count", 600}, {"enrollment", 60}}}),
      {{"seed", 99},
       {"parameters", {{"population", {{"school_mean_sd", school_mean_sd}, {"district_mean_sd", 0.0}}}}}});
}

// SD of school means net of the sampling noise of each school's mean (ANOVA estimate), per subject.
double school_mean_sd_estimate(const Model& m, const State& state, int s) {
  Moments means;
  double within = 0;
  double n_per_school = 0;
  for (std::size_t k = 0; k < state.schools.size(); ++k) {
    Moments school;
    for (std::uint32_t i = state.schools.begin[k]; i < state.schools.end[k]; ++i) school.add(student_z(m, state, s, i));
    means.add(school.mean());
    within += school.var();
    n_per_school += school.n;
  }
  within /= double(state.schools.size());
  n_per_school /= double(state.schools.size());
  return std::sqrt(means.var() - within / n_per_school);
}

}  // namespace

TEST_CASE("students are sorted by school then grade and each school is one contiguous range", "[population]") {
  const Model m = plsim_test::model_of(mixed_district());
  const State state = build_population(m);
  const auto& st = state.students;
  const auto& sc = state.schools;
  REQUIRE(sc.size() == 6);
  for (std::size_t i = 1; i < st.size(); ++i) {
    INFO("student " << i);
    REQUIRE(std::make_pair(st.school[i - 1], st.grade[i - 1]) <= std::make_pair(st.school[i], st.grade[i]));
  }
  std::uint32_t expected_begin = 0;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    CHECK(sc.begin[k] == expected_begin);
    CHECK(sc.end[k] > sc.begin[k]);
    for (std::uint32_t i = sc.begin[k]; i < sc.end[k]; ++i) REQUIRE(st.school[i] == k);
    expected_begin = sc.end[k];
  }
  CHECK(expected_begin == st.size());
  // Ids are unique, and the first year's run from 0 without holes.
  CHECK(std::set<std::uint32_t>(st.id.begin(), st.id.end()).size() == st.size());
  CHECK(*std::max_element(st.id.begin(), st.id.end()) == st.size() - 1);
}

TEST_CASE("each school enrolls its per-grade enrollment in every grade it serves", "[population]") {
  const Model m = plsim_test::model_of(mixed_district());
  const State state = build_population(m);
  // enrollment / grades served, rounded: 130/6 -> 22, 300/3 -> 100, 400/4 -> 100, 189/9 -> 21.
  const std::vector<std::uint32_t> per_grade{22, 22, 22, 100, 100, 21};
  const std::vector<int> lo{0, 0, 0, 6, 9, 0}, hi{5, 5, 5, 8, 12, 8};
  std::map<std::pair<std::uint32_t, int>, std::uint32_t> count;
  for (std::size_t i = 0; i < state.students.size(); ++i) count[{state.students.school[i], state.students.grade[i]}]++;
  for (std::uint32_t k = 0; k < state.schools.size(); ++k) {
    CHECK(state.schools.grade_enrollment[k] == per_grade[k]);
    CHECK(state.schools.grade_lo[k] == lo[k]);
    CHECK(state.schools.grade_hi[k] == hi[k]);
    for (int g = 0; g < n_grades; ++g) {
      INFO("school " << k << " grade " << g);
      CHECK(count[{k, g}] == (g >= lo[k] && g <= hi[k] ? per_grade[k] : 0u));
    }
  }
}

TEST_CASE("each classroom is a contiguous range of one grade inside its school, at most class size", "[population]") {
  const Model m = plsim_test::model_of(mixed_district());
  const State state = build_population(m);
  const auto& st = state.students;
  const auto& sc = state.schools;
  const auto& cl = state.classrooms;
  std::map<std::pair<std::uint32_t, int>, std::vector<std::uint32_t>> sizes;  // per school and grade
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    std::uint32_t next = sc.begin[k];
    std::set<std::uint32_t> teachers;
    for (std::uint32_t c = sc.class_begin[k]; c < sc.class_end[k]; ++c) {
      INFO("school " << k << " classroom " << c);
      CHECK(cl.school[c] == k);
      CHECK(cl.begin[c] == next);
      REQUIRE(cl.end[c] > cl.begin[c]);
      CHECK(cl.end[c] <= sc.end[k]);
      CHECK(cl.end[c] - cl.begin[c] <= sc.class_size[k]);
      for (std::uint32_t i = cl.begin[c]; i < cl.end[c]; ++i) {
        REQUIRE(st.classroom[i] == c);
        REQUIRE(st.grade[i] == cl.grade[c]);
      }
      CHECK(state.teachers.school[cl.teacher[c]] == k);
      teachers.insert(cl.teacher[c]);
      sizes[{k, cl.grade[c]}].push_back(cl.end[c] - cl.begin[c]);
      next = cl.end[c];
    }
    CHECK(next == sc.end[k]);
    CHECK(teachers.size() == sc.class_end[k] - sc.class_begin[k]);  // one teacher per classroom
  }
  CHECK(sc.class_end.back() == cl.size());
  // The fewest classrooms that respect the class size, as even as possible.
  for (const auto& [key, list] : sizes) {
    const std::uint32_t n = std::accumulate(list.begin(), list.end(), 0u);
    const std::uint32_t size = sc.class_size[key.first];
    INFO("school " << key.first << " grade " << key.second);
    CHECK(list.size() == (n + size - 1) / size);
    CHECK(*std::max_element(list.begin(), list.end()) - *std::min_element(list.begin(), list.end()) <= 1u);
  }
}

TEST_CASE("tracked grades form classrooms by achievement, untracked grades mix them", "[population]") {
  const Model m = plsim_test::model_of(mixed_district());
  const State state = build_population(m);
  const auto& cl = state.classrooms;
  auto achievement = [&](std::uint32_t i) { return student_z(m, state, 0, i) + student_z(m, state, 1, i); };
  int tracked_pairs = 0, mixed_pairs = 0, overlapping = 0;
  for (std::uint32_t c = 0; c + 1 < cl.size(); ++c) {
    if (cl.school[c] != cl.school[c + 1] || cl.grade[c] != cl.grade[c + 1]) continue;
    double top = -1e9, bottom = 1e9;
    for (std::uint32_t i = cl.begin[c]; i < cl.end[c]; ++i) top = std::max(top, achievement(i));
    for (std::uint32_t i = cl.begin[c + 1]; i < cl.end[c + 1]; ++i) bottom = std::min(bottom, achievement(i));
    if (cl.grade[c] >= m.params.population.tracking_from_grade) {
      ++tracked_pairs;
      INFO("classrooms " << c << " and " << c + 1 << ", grade " << int(cl.grade[c]));
      CHECK(top <= bottom + 1e-4);
    } else {
      ++mixed_pairs;
      overlapping += top > bottom;
    }
  }
  CHECK(tracked_pairs >= 10);
  REQUIRE(mixed_pairs >= 10);
  CHECK(overlapping == mixed_pairs);
}

TEST_CASE("a new student's mastered position is the scale position of his starting score", "[population]") {
  const Model m = plsim_test::model_of(mixed_district());
  const State state = build_population(m);
  const auto& st = state.students;
  for (int s = 0; s < n_subjects; ++s) {
    const auto subject = static_cast<Subject>(s);
    const double lowest = m.scale.rit(subject, 0.0), highest = m.scale.rit(subject, m.scale.max_position(subject));
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (st.score[s][i] <= lowest || st.score[s][i] >= highest) continue;  // clamped at the ends of the map
      INFO(subject_names[s] << " student " << i);
      REQUIRE(m.scale.rit(subject, mastered_position(st, s, i)) == Approx(st.score[s][i]).margin(2e-3));
      REQUIRE(st.gaps[s][i] >= std::popcount(st.recent_gaps[s][i]));
      REQUIRE(st.frontier[s][i] >= st.gaps[s][i]);
      REQUIRE(st.p_known[s][i] >= 0.0f);
      REQUIRE(st.p_known[s][i] < 1.0f);
    }
  }
}

TEST_CASE("starting achievement has national mean 0 and SD 1 with school means spread by school_mean_sd",
          "[population]") {
  for (double target : {0.47, 0.3}) {
    const Model m = plsim_test::model_of(many_schools(target));
    const State state = build_population(m);
    for (int s = 0; s < n_subjects; ++s) {
      Moments all;
      for (std::size_t i = 0; i < state.students.size(); ++i) all.add(student_z(m, state, s, i));
      INFO("school_mean_sd " << target << ", " << subject_names[s]);
      // 600 schools: the SE of the national mean is about target / sqrt(600), of the SD estimate
      // about target / sqrt(1200).
      CHECK(all.mean() == Approx(0).margin(0.08));
      CHECK(all.sd() == Approx(1).margin(0.04));
      CHECK(school_mean_sd_estimate(m, state, s) == Approx(target).margin(0.045));
    }
  }
}

TEST_CASE("math and reading start correlated by subject_correlation", "[population]") {
  const Model m = plsim_test::model_of(many_schools(0.47));
  const State state = build_population(m);
  Moments x, y;
  double xy = 0;
  for (std::size_t i = 0; i < state.students.size(); ++i) {
    const double a = student_z(m, state, 0, i), b = student_z(m, state, 1, i);
    x.add(a), y.add(b), xy += a * b;
  }
  const double cov = (xy - x.sum * y.sum / x.n) / (x.n - 1);
  CHECK(cov / (x.sd() * y.sd()) == Approx(m.params.population.subject_correlation).margin(0.02));
}

TEST_CASE("FRL students start lower by the FRL achievement gap and attend less", "[population]") {
  const Model m = plsim_test::model_of(many_schools(0.47));
  const State state = build_population(m);
  const auto& st = state.students;
  for (int s = 0; s < n_subjects; ++s) {
    Moments frl, other;
    for (std::size_t i = 0; i < st.size(); ++i) (st.frl[i] ? frl : other).add(student_z(m, state, s, i));
    INFO(subject_names[s] << ": FRL " << frl.mean() << " (n " << frl.n << "), others " << other.mean());
    CHECK(frl.n > 0.3 * st.size());
    CHECK(other.n > 0.3 * st.size());
    CHECK(other.mean() - frl.mean() == Approx(m.params.population.frl_achievement_gap).margin(0.06));
  }
  Moments frl_att, other_att;
  for (std::size_t i = 0; i < st.size(); ++i) (st.frl[i] ? frl_att : other_att).add(st.attendance[i]);
  CHECK(other_att.mean() - frl_att.mean() == Approx(m.params.population.attendance_frl_gap).margin(0.005));
}

TEST_CASE("an achievement shift moves every student's starting score by that many SDs", "[population]") {
  const json base = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 4}, {"enrollment", 120}}}));
  json shifted = base;
  shifted["districts"][0]["achievement_shift_sd"] = -0.3;
  shifted["districts"][0]["schools"][0]["achievement_shift_sd"] = 0.1;
  const Model m0 = plsim_test::model_of(base), m1 = plsim_test::model_of(shifted);
  const State a = build_population(m0), b = build_population(m1);
  REQUIRE(a.students.size() == b.students.size());
  // Common random numbers: the same students, each 0.2 SD lower (classroom order may differ).
  std::map<std::uint32_t, std::size_t> row_of;
  for (std::size_t i = 0; i < b.students.size(); ++i) row_of[b.students.id[i]] = i;
  for (std::size_t i = 0; i < a.students.size(); ++i) {
    const std::size_t j = row_of.at(a.students.id[i]);
    REQUIRE(a.students.frl[i] == b.students.frl[j]);
    for (int s = 0; s < n_subjects; ++s)
      REQUIRE(student_z(m1, b, s, j) - student_z(m0, a, s, i) == Approx(-0.2).margin(1e-4));
  }
}

TEST_CASE("students further below grade level start with more gaps", "[population]") {
  const Model m = plsim_test::model_of(many_schools(0.47));
  const State state = build_population(m);
  const auto& st = state.students;
  Moments low, high;
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st.grade[i] < 3) continue;  // enough passed units for a share to show
    const double z = student_z(m, state, 0, i);
    const double share = double(st.gaps[0][i]) / st.frontier[0][i];
    if (z < -1) low.add(share);
    if (z > 0) high.add(share);
  }
  INFO("gap share below -1 SD " << low.mean() << ", above the mean " << high.mean());
  CHECK(high.mean() == Approx(m.params.population.gap_share_base).margin(0.01));
  CHECK(low.mean() > high.mean() + 0.04);
}

TEST_CASE("teacher effectiveness and school growth effects are lognormal with median 1", "[population]") {
  const Model m = plsim_test::model_of(many_schools(0.47));
  const State state = build_population(m);
  Moments teacher, school;
  for (float e : state.teachers.value_added) teacher.add(std::log(e));
  for (float g : state.schools.growth_multiplier) school.add(std::log(g));
  const double ts = m.params.learning.teacher_effect_sd, ss = m.params.learning.school_growth_sd;
  CHECK(teacher.n == state.classrooms.size());
  CHECK(teacher.sd() == Approx(ts).margin(0.01));
  CHECK(teacher.mean() == Approx(-0.5 * ts * ts).margin(0.01));
  CHECK(school.sd() == Approx(ss).margin(0.015));
  CHECK(school.mean() == Approx(-0.5 * ss * ss).margin(0.015));
  // Experience only ever lowers a teacher's learning multiplier below his value added (novices).
  for (std::size_t t = 0; t < state.teachers.size(); ++t) REQUIRE(state.teachers.effectiveness[t] <= state.teachers.value_added[t]);
}

TEST_CASE("model shares are split by largest remainder among a group's schools", "[population]") {
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 10}, {"enrollment", 60},
                                                {"models", {{"station_rotation", 0.34}, {"traditional", 0.66}}}}}));
  const Model m = plsim_test::model_of(doc);
  const State state = build_population(m);
  const auto rotation = static_cast<std::uint32_t>(m.instructional_model_index("station_rotation"));
  const auto n = std::count(state.schools.instructional_model.begin(), state.schools.instructional_model.end(), rotation);
  CHECK(n == 3);  // 3.4 and 6.6 schools: the larger remainder gets the tenth
  CHECK(state.schools.instructional_model.size() == 10);
}

TEST_CASE("a school group's effects are stratified across its schools in every copy of its district",
          "[population]") {
  // 4 copies of a district of 5 elementary schools: 20 schools whose achievement and growth effects
  // each fall in a different twentieth of their distribution (Latin hypercube), so they average out.
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"count", 5}, {"enrollment", 60}}}),
                                  {{"parameters", {{"population", {{"district_mean_sd", 0.0}}}}}});
  doc["districts"][0]["count"] = 4;
  const Model m = plsim_test::model_of(doc);
  const State state = build_population(m);
  REQUIRE(state.schools.size() == 20);
  const double school_sd = std::sqrt(m.params.population.school_mean_sd * m.params.population.school_mean_sd -
                                     std::pow(m.params.population.frl_achievement_gap * m.params.population.national_frl_share_sd, 2));
  const double growth_sd = m.params.learning.school_growth_sd;
  std::set<int> achievement_strata, growth_strata;
  for (std::size_t k = 0; k < 20; ++k) {
    const double z = state.schools.achievement_shift[k] / school_sd;
    const double g = (std::log(state.schools.growth_multiplier[k]) + 0.5 * growth_sd * growth_sd) / growth_sd;
    achievement_strata.insert(int(20 * 0.5 * std::erfc(-z / std::sqrt(2.0))));
    growth_strata.insert(int(20 * 0.5 * std::erfc(-g / std::sqrt(2.0))));
  }
  CHECK(achievement_strata.size() == 20);
  CHECK(growth_strata.size() == 20);
}

TEST_CASE("the copies of a district differ by stratified district effects of SD district_mean_sd", "[population]") {
  json doc = plsim_test::scenario(json::array({{{"level", "elementary"}, {"enrollment", 60}}}));
  doc["districts"][0]["count"] = 40;
  const Model m = plsim_test::model_of(doc);
  const State state = build_population(m);
  REQUIRE(state.districts.size() == 40);
  std::set<int> strata;
  Moments shifts;
  for (float shift : state.districts.achievement_shift) {
    const double z = shift / m.params.population.district_mean_sd;
    strata.insert(int(40 * 0.5 * std::erfc(-z / std::sqrt(2.0))));
    shifts.add(shift);
  }
  CHECK(strata.size() == 40);  // one district in each fortieth of the distribution
  CHECK(shifts.mean() == Approx(0).margin(0.02));
  CHECK(shifts.sd() == Approx(m.params.population.district_mean_sd).epsilon(0.1));
  // A school's own effect comes on top of its district's.
  for (std::size_t k = 0; k < state.schools.size(); ++k)
    CHECK(state.schools.achievement_shift[k] != state.districts.achievement_shift[state.schools.district[k]]);
}

TEST_CASE("learning aptitude correlates with starting achievement as learning_rate_achievement_correlation says",
          "[population]") {
  // log(learning rate) = sd x (r z_mean + sqrt(1 - r^2) e), where z_mean, the mean of the student's two
  // standard-normal achievement draws, has SD sqrt((1 + subject_correlation) / 2): their correlation is
  // r sd(z_mean) / sqrt(r^2 var(z_mean) + 1 - r^2).
  for (const double r : {0.0, 0.5}) {
    json doc = mixed_district();
    doc["parameters"]["learning"]["learning_rate_achievement_correlation"] = r;
    const Model m = plsim_test::model_of(doc);
    const State state = build_population(m);
    const auto& st = state.students;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    const double n = double(st.size());
    for (std::size_t i = 0; i < st.size(); ++i) {
      const double x = 0.5 * (student_z(m, state, 0, i) + student_z(m, state, 1, i));
      const double y = std::log(st.learning_rate[0][i]);
      sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    const double corr = (sxy / n - sx / n * sy / n) / std::sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
    const double sd_mean = std::sqrt((1 + m.params.population.subject_correlation) / 2);
    const double expected = r * sd_mean / std::sqrt(r * r * sd_mean * sd_mean + 1 - r * r);
    INFO("correlation parameter " << r << ": correlation of log learning rate with starting z " << corr << ", expected "
                                  << expected << " (" << st.size() << " students)");
    CHECK(corr == Approx(expected).margin(0.06));
  }
}

TEST_CASE("a student's starting gaps are drawn apart for each subject: math and reading gaps overlap by chance only",
          "[population][randomness]") {
  // Gap masks drawn from words shared by both subjects would nest (the subject with the higher gap
  // share would hold every gap of the other). Given how many gaps each subject has among the 64 most
  // recent units, independent positions overlap by a * b / 64 on average (hypergeometric).
  const Model m = plsim_test::model_of(many_schools(0.47));
  const State state = build_population(m);
  const auto& st = state.students;
  double overlap = 0, expected = 0, variance = 0;
  std::size_t students = 0;
  for (std::size_t i = 0; i < st.size(); ++i) {
    if (st.frontier[0][i] < 128 || st.frontier[1][i] < 128) continue;  // all 64 recent units drawn in both
    const double a = std::popcount(st.recent_gaps[0][i]), b = std::popcount(st.recent_gaps[1][i]);
    overlap += std::popcount(st.recent_gaps[0][i] & st.recent_gaps[1][i]);
    expected += a * b / 64;
    variance += a * b * (64 - a) * (64 - b) / (64.0 * 64.0 * 63.0);
    ++students;
  }
  INFO(students << " students: math and reading gaps at the same unit " << overlap << " times, by chance "
       << expected << " (SD " << std::sqrt(variance) << ")");
  REQUIRE(expected > 300);
  CHECK(std::abs(overlap - expected) < 4 * std::sqrt(variance));
}
