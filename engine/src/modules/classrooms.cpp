#include "plsim/modules/classrooms.hpp"

#include <algorithm>
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
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      keys.clear();
      for (std::uint32_t j = school_start[k]; j < school_start[k + 1]; ++j) {
        const std::uint32_t i = order[j];
        std::uint32_t within = rng.words(Stream::classroom_shuffle, st.id[i], year)[0];
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

  cl = ClassroomColumns{};
  const auto traditional = static_cast<std::uint32_t>(model.instructional_model_index("traditional"));
  std::vector<std::uint32_t> teachers_used(sc.size(), 0);
  std::vector<std::vector<std::uint32_t>> school_teachers(sc.size());
  for (std::uint32_t t = 0; t < state.teachers.size(); ++t)
    if (state.teachers.active[t]) school_teachers[state.teachers.school[t]].push_back(t);

  std::uint32_t i = 0;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    sc.begin[k] = i;
    sc.class_begin[k] = static_cast<std::uint32_t>(cl.size());
    while (i < st.size() && st.school[i] == k) {
      const int grade = st.grade[i];
      std::uint32_t j = i;
      while (j < st.size() && st.school[j] == k && st.grade[j] == grade) ++j;
      // Split the grade into the fewest classrooms that respect the class size, as even as possible.
      const std::uint32_t n = j - i;
      const std::uint32_t n_classes = (n + sc.class_size[k] - 1) / sc.class_size[k];
      for (std::uint32_t c = 0; c < n_classes; ++c) {
        const std::uint32_t b = i + c * n / n_classes, e = i + (c + 1) * n / n_classes;
        const auto index = static_cast<std::uint32_t>(cl.size());
        if (teachers_used[k] == school_teachers[k].size()) {
          school_teachers[k].push_back(hire_teacher(model, state, k));
        }
        const std::uint64_t section = cl.size() - sc.class_begin[k];
        cl.id.push_back(std::uint64_t(sc.id[k]) << 32 | std::uint64_t(state.year) << 20 | section);
        cl.begin.push_back(b);
        cl.end.push_back(e);
        cl.school.push_back(k);
        cl.teacher.push_back(school_teachers[k][teachers_used[k]++]);
        cl.grade.push_back(static_cast<std::uint8_t>(grade));
        cl.instructional_model.push_back(traditional);  // assign_practice sets the practising teachers' model
        for (int s = 0; s < n_subjects; ++s) cl.fall_z[s].push_back(0), cl.spring_z[s].push_back(0);
        cl.n_measured.push_back(0);
        for (std::uint32_t q = b; q < e; ++q) st.classroom[q] = index;
        for (int s = 0; s < n_subjects; ++s) {
          // Pacing starts between national grade level and where this class actually is.
          std::vector<std::uint16_t> frontiers(st.frontier[s].begin() + b, st.frontier[s].begin() + e);
          std::nth_element(frontiers.begin(), frontiers.begin() + frontiers.size() / 2, frontiers.end());
          const double w = model.params.learning.pacing_grade_level_weight;
          cl.pacing_unit[s].push_back(static_cast<float>(w * grade_level_frontier(model, s, grade) +
                                                         (1 - w) * frontiers[frontiers.size() / 2]));
        }
      }
      i = j;
    }
    sc.end[k] = i;
    sc.class_end[k] = static_cast<std::uint32_t>(cl.size());
  }
}

}  // namespace plsim
