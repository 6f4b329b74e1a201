#include "plsim/measure/assessment.hpp"

#include <array>

#include <tbb/parallel_for.h>

#include "plsim/model.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

void assess(const Model& model, State& state, Season season, std::vector<AssessmentRow>& out) {
  StudentColumns& st = state.students;
  const SchoolColumns& sc = state.schools;
  const Rng rng(model.seed);
  const double error = model.params.assessment.measurement_error_rit;
  const auto tick = static_cast<std::uint32_t>(state.year * n_seasons + static_cast<int>(season));

  // Per school: sums per (subject, grade); schools are independent and each sums in student order.
  struct Cell {
    std::uint32_t n = 0;
    double rit = 0, true_rit = 0, percentile = 0, sd = 0;
  };
  std::vector<std::array<Cell, n_subjects * n_grades>> cells(sc.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, sc.size()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      for (std::uint32_t i = sc.begin[k]; i < sc.end[k]; ++i) {
        const auto w = rng.words(Stream::assessment, st.id[i], tick);
        const auto noise = standard_normals(w);
        const int grade = st.grade[i];
        for (int s = 0; s < n_subjects; ++s) {
          const auto subject = static_cast<Subject>(s);
          const double true_rit = model.scale.rit(subject, mastered_position(st, s, i));
          const double rit = true_rit + error * (s == 0 ? noise.first : noise.second);
          st.score[s][i] = static_cast<float>(rit);
          Cell& cell = cells[k][s * n_grades + grade];
          cell.n++;
          cell.rit += rit;
          cell.true_rit += true_rit;
          cell.percentile += model.norms.percentile(subject, season, grade, rit);
          cell.sd += model.norms.z_score(subject, season, grade, rit);
        }
      }
    }
  });
  for (std::size_t k = 0; k < sc.size(); ++k) {
    for (int s = 0; s < n_subjects; ++s) {
      for (int g = 0; g < n_grades; ++g) {
        const Cell& cell = cells[k][s * n_grades + g];
        if (cell.n == 0) continue;
        AssessmentRow row;
        row.year = state.year;
        row.season = season;
        row.subject = static_cast<Subject>(s);
        row.grade = g;
        row.school = static_cast<std::uint32_t>(k);
        row.n = cell.n;
        row.mean_rit = cell.rit / cell.n;
        row.mean_true_rit = cell.true_rit / cell.n;
        row.mean_percentile = cell.percentile / cell.n;
        row.mean_sd = cell.sd / cell.n;
        out.push_back(row);
      }
    }
  }
}

}  // namespace plsim
