#include "plsim/modules/enrolment.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include <tbb/parallel_for.h>

#include "plsim/modules/population.hpp"

namespace plsim {

// Each school that does not serve grade 12 sends its leavers to a school of the same district copy
// that starts at the next grade, spread evenly when there are several. Schools are matched by rank of
// achievement: neighbourhoods feed the schools near them, so the schools of low-achieving (and
// high-poverty) neighbourhoods feed each other and school differences persist from level to level, as
// the spread of school means in the norms does at every grade.
// Schools are bucketed by their first and last grade and each bucket sorted once: O(n log n) in the
// schools of a district (a district of a million schools links in a second).
void link_feeders(State& state, std::uint32_t first, std::uint32_t last) {
  auto& sc = state.schools;
  constexpr int grades = 14;  // kindergarten (0) to grade 12, and one past it
  std::array<std::vector<std::uint32_t>, grades> starting, ending;  // schools by first / last grade, by index
  for (std::uint32_t k = first; k < last; ++k) {
    starting[sc.grade_lo[k]].push_back(k);
    ending[sc.grade_hi[k]].push_back(k);
  }
  auto by_achievement = [&](std::vector<std::uint32_t>& schools) {
    std::stable_sort(schools.begin(), schools.end(),
                     [&](std::uint32_t x, std::uint32_t y) { return sc.achievement_shift[x] < sc.achievement_shift[y]; });
  };
  for (int g = 0; g + 1 < grades; ++g) {
    std::vector<std::uint32_t>& same_end = ending[g];
    std::vector<std::uint32_t>& next = starting[g + 1];
    if (next.empty() || same_end.empty()) continue;
    by_achievement(next);
    by_achievement(same_end);
    // The school of rank r among those ending at g feeds the school of the same relative rank among
    // those starting at g + 1.
    for (std::size_t rank = 0; rank < same_end.size(); ++rank)
      sc.feeder_next[same_end[rank]] = static_cast<std::int32_t>(next[rank * next.size() / same_end.size()]);
  }
}

void enrol_students(const Model& model, State& state) {
  StudentColumns& st = state.students;
  auto& sc = state.schools;
  // Promotion, in parallel: graduates and leavers whose school has no feeder leave; then the others
  // are kept in order.
  std::vector<std::uint8_t> stays(st.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, st.size(), 1 << 14), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const std::uint32_t school = st.school[i];
      const int grade = st.grade[i];
      stays[i] = 0;
      if (grade >= sc.grade_hi[school]) {
        if (grade >= 12 || sc.feeder_next[school] < 0) continue;
        st.school[i] = static_cast<std::uint32_t>(sc.feeder_next[school]);
      }
      st.grade[i] = static_cast<std::uint8_t>(grade + 1);
      stays[i] = 1;
    }
  });
  std::vector<std::uint32_t> keep;
  keep.reserve(st.size());
  for (std::uint32_t i = 0; i < st.size(); ++i)
    if (stays[i]) keep.push_back(i);
  permute_students(st, keep);
  // Entry cohorts fill every grade up to the school's per-grade enrollment.
  std::vector<std::uint32_t> count(sc.size() * n_grades, 0);
  for (std::size_t i = 0; i < st.size(); ++i) count[st.school[i] * n_grades + st.grade[i]]++;
  std::vector<NewStudent> entrants;
  for (std::uint32_t k = 0; k < sc.size(); ++k) {
    // Entrants take the next ids of the school's block, which holds max_years full schools (population.cpp).
    const std::uint64_t block = std::uint64_t(sc.grade_enrollment[k]) * (sc.grade_hi[k] - sc.grade_lo[k] + 1) * max_years;
    for (int g = sc.grade_lo[k]; g <= sc.grade_hi[k]; ++g)
      for (std::uint32_t n = count[k * n_grades + g]; n < sc.grade_enrollment[k]; ++n) {
        if (sc.entrants[k] >= block)
          throw std::length_error("enrolment: more than " + std::to_string(max_years) + " years of entrants");
        entrants.push_back({k, static_cast<std::uint8_t>(g), sc.first_entrant_id[k] + sc.entrants[k]++});
      }
  }
  add_students(model, state, entrants);
}

}  // namespace plsim
