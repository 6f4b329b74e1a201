#include "plsim/modules/classrooms.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <tuple>
#include <vector>

#include <tbb/parallel_for.h>

#include "plsim/modules/teachers.hpp"
#include "plsim/rng.hpp"

namespace plsim {

namespace {

// Mean frontier a student of the grade has at the fall norm mean: the national grade level.
double grade_level_frontier(const Model& model, int subject, int grade) {
  const auto s = static_cast<Subject>(subject);
  const double x = model.scale.position(s, model.norms.at(s, Season::fall, grade).mean);
  return x / (1.0 - model.params.population.gap_share_base);
}

}  // namespace

void form_classrooms(const Model& model, State& state) {
  StudentColumns& st = state.students;
  SchoolColumns& sc = state.schools;
  ClassroomColumns& cl = state.classrooms;
  const Rng rng(model.seed);

  // Order: school, grade, then a yearly shuffle so classrooms are re-mixed every year; tracked grades
  // order by last measured achievement instead, so each classroom is a course level. Students are
  // first bucketed by school (stable), then each school's are sorted on their own, in parallel.
  const int tracked = model.params.population.tracking_from_grade;
  std::vector<std::uint32_t> school_start(sc.size() + 1, 0);
  for (std::uint32_t i = 0; i < st.size(); ++i) school_start[st.school[i] + 1]++;
  for (std::size_t k = 0; k < sc.size(); ++k) school_start[k + 1] += school_start[k];
  std::vector<std::uint32_t> order(st.size());
  {
    std::vector<std::uint32_t> next(school_start.begin(), school_start.end() - 1);
    for (std::uint32_t i = 0; i < st.size(); ++i) order[next[st.school[i]]++] = i;
  }
  const auto year = static_cast<std::uint32_t>(state.year);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, sc.size()), [&](const tbb::blocked_range<std::size_t>& r) {
    std::vector<std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>> keys;
    constexpr std::uint32_t lanes = 64;  // shuffle draws, 64 students at a time (Rng::words_of)
    std::array<std::uint32_t, lanes> ids;
    std::array<std::array<std::uint32_t, lanes>, 4> words;
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      keys.clear();
      for (std::uint32_t j = school_start[k]; j < school_start[k + 1]; ++j) {
        const std::uint32_t i = order[j];
        const std::uint32_t q = (j - school_start[k]) % lanes;
        if (q == 0) {
          const std::uint32_t n = std::min(lanes, school_start[k + 1] - j);
          for (std::uint32_t l = 0; l < n; ++l) ids[l] = st.id[order[j + l]];
          rng.words_of(Stream::classroom_shuffle, ids.data(), n, year, 0, words);
        }
        std::uint32_t within = words[0][q];
        if (st.grade[i] >= tracked) {
          const double z = model.norms.z_score(Subject::math, Season::fall, st.grade[i], st.score[0][i]) +
                           model.norms.z_score(Subject::reading, Season::fall, st.grade[i], st.score[1][i]);
          within = static_cast<std::uint32_t>(std::clamp((z + 16.0) * 1e8, 0.0, 4294967295.0));
        }
        keys.emplace_back((std::uint64_t(st.grade[i]) << 32) | within, st.id[i], i);
      }
      std::sort(keys.begin(), keys.end());
      for (std::size_t j = 0; j < keys.size(); ++j) order[school_start[k] + j] = std::get<2>(keys[j]);
    }
  });
  permute_students(st, order);

  // Each grade of a school is split into the fewest classrooms that respect the class size, as even as
  // possible: counted per school in parallel, teachers hired where a school has too few (in school
  // order: hiring appends teachers), then the classrooms filled in parallel.
  auto for_each_grade = [&](std::uint32_t k, auto&& f) {  // f(first student, end, classrooms)
    for (std::uint32_t i = school_start[k]; i < school_start[k + 1];) {
      std::uint32_t j = i;
      while (j < school_start[k + 1] && st.grade[j] == st.grade[i]) ++j;
      f(i, j, (j - i + sc.class_size[k] - 1) / sc.class_size[k]);
      i = j;
    }
  };
  std::vector<std::uint32_t> class_start(sc.size() + 1, 0);
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, static_cast<std::uint32_t>(sc.size())),
                    [&](const tbb::blocked_range<std::uint32_t>& r) {
                      for (std::uint32_t k = r.begin(); k != r.end(); ++k)
                        for_each_grade(k, [&](std::uint32_t, std::uint32_t, std::uint32_t n) { class_start[k + 1] += n; });
                    });
  for (std::size_t k = 0; k < sc.size(); ++k) class_start[k + 1] += class_start[k];

  std::vector<std::vector<std::uint32_t>> school_teachers(sc.size());
  for (std::uint32_t t = 0; t < state.teachers.size(); ++t)
    if (state.teachers.active[t]) school_teachers[state.teachers.school[t]].push_back(t);
  for (std::uint32_t k = 0; k < sc.size(); ++k)
    while (school_teachers[k].size() < class_start[k + 1] - class_start[k])
      school_teachers[k].push_back(hire_teacher(model, state, k));

  const std::size_t n_classrooms = class_start[sc.size()];
  cl = ClassroomColumns{};
  cl.for_each_named_column([&](const std::string&, auto& column) { column.resize(n_classrooms); });
  const auto traditional = static_cast<std::uint32_t>(model.instructional_model_index("traditional"));
  // Pacing starts between national grade level and where each class actually is (its median).
  const double w = model.params.learning.pacing_grade_level_weight;
  std::array<std::array<double, n_grades>, n_subjects> grade_level;
  for (int s = 0; s < n_subjects; ++s)
    for (int g = 0; g < n_grades; ++g) grade_level[s][g] = w * grade_level_frontier(model, s, g);
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, static_cast<std::uint32_t>(sc.size())),
                    [&](const tbb::blocked_range<std::uint32_t>& r) {
    std::vector<std::uint16_t> frontiers;
    for (std::uint32_t k = r.begin(); k != r.end(); ++k) {
      sc.begin[k] = school_start[k], sc.end[k] = school_start[k + 1];
      sc.class_begin[k] = class_start[k], sc.class_end[k] = class_start[k + 1];
      std::uint32_t index = class_start[k];
      for_each_grade(k, [&](std::uint32_t i, std::uint32_t j, std::uint32_t n_classes) {
        const std::uint32_t n = j - i;
        const int grade = st.grade[i];
        for (std::uint32_t c = 0; c < n_classes; ++c, ++index) {
          const std::uint32_t b = i + c * n / n_classes, e = i + (c + 1) * n / n_classes;
          const std::uint64_t section = index - class_start[k];
          cl.id[index] = std::uint64_t(sc.id[k]) << 32 | std::uint64_t(state.year) << 20 | section;
          cl.begin[index] = b, cl.end[index] = e;
          cl.school[index] = k;
          cl.teacher[index] = school_teachers[k][section];
          cl.grade[index] = static_cast<std::uint8_t>(grade);
          cl.instructional_model[index] = traditional;  // assign_practice sets the practising teachers' model
          for (std::uint32_t q = b; q < e; ++q) st.classroom[q] = index;
          for (int s = 0; s < n_subjects; ++s) {
            frontiers.assign(st.frontier[s].begin() + b, st.frontier[s].begin() + e);
            std::nth_element(frontiers.begin(), frontiers.begin() + frontiers.size() / 2, frontiers.end());
            cl.pacing_unit[s][index] = static_cast<float>(grade_level[s][grade] + (1 - w) * frontiers[frontiers.size() / 2]);
          }
        }
      });
    }
  });
}

}  // namespace plsim
