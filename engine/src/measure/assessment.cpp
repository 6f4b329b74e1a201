#include "plsim/measure/assessment.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <tbb/parallel_for.h>

#include "plsim/fast_math.hpp"
#include "plsim/model.hpp"
#include "plsim/rng.hpp"
#include "plsim/simd.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {

// In a fall test, students who have no starting quintile yet (the first year's students, then each
// year's entrants) get the quintile of their true score among all students of their grade. Each
// (subject, grade) is independent, so they run in parallel and write disjoint elements.
void assign_start_quintiles(const Model& model, StudentColumns& st) {
  std::array<std::vector<std::uint32_t>, n_grades> by_grade;
  for (std::uint32_t i = 0; i < st.size(); ++i) by_grade[st.grade[i]].push_back(i);
  tbb::parallel_for(0, n_subjects * n_grades, [&](int cell) {
    const int s = cell / n_grades;
    const auto& students = by_grade[cell % n_grades];
    // After the first fall only entrants lack a quintile: grades without any are left alone.
    if (std::none_of(students.begin(), students.end(), [&](std::uint32_t i) { return st.start_quintile[s][i] == 0; }))
      return;
    const auto subject = static_cast<Subject>(s);
    std::vector<double> score(students.size());
    for (std::size_t j = 0; j < students.size(); ++j)
      score[j] = model.scale.rit(subject, mastered_position(st, s, students[j]));
    // The four cuts are order statistics: nth_element finds each in linear time (a sort took seconds
    // per grade at national size), from the lowest up, each in the part above the last.
    std::vector<double> sorted = score;
    std::array<double, 4> cut{};
    auto from = sorted.begin();
    for (int q = 0; q < 4; ++q) {
      const auto at = sorted.begin() + static_cast<std::ptrdiff_t>((q + 1) * sorted.size() / 5);
      std::nth_element(from, at, sorted.end());
      cut[q] = *at;
      from = at;
    }
    for (std::size_t j = 0; j < students.size(); ++j) {
      std::uint8_t& quintile = st.start_quintile[s][students[j]];
      if (quintile == 0)
        quintile = static_cast<std::uint8_t>(1 + (std::upper_bound(cut.begin(), cut.end(), score[j]) - cut.begin()));
    }
  });
}

// The evaluator's cells of a spring test: per PL school (policy arm) and for the comparison pool (the
// policy arm's schools at no PL stage, every school of the twin), by subject, grade, FRL and prior band.
void record_study_cells(const Model& model, const State& state, const std::vector<float>& spring_z,
                        std::vector<StudyCellRow>& out) {
  const StudentColumns& st = state.students;
  const SchoolColumns& sc = state.schools;
  const bool twin = model.arm == ComparisonArm::counterfactual;
  constexpr int per_slot = n_subjects * n_grades * 2 * n_prior_bands;
  std::vector<std::int64_t> slot(sc.size(), 0);  // 0: pool; k + 1: the k-th PL school
  std::vector<std::uint32_t> school_of_slot{study_pool};
  for (std::uint32_t k = 0; k < sc.size(); ++k)
    if (!twin && sc.pl_stage[k] != std::uint8_t(PlStage::none)) {
      slot[k] = static_cast<std::int64_t>(school_of_slot.size());
      school_of_slot.push_back(k);
    }
  struct Sum {
    std::uint32_t n = 0;
    double sum = 0, sum_squares = 0;
  };
  std::vector<Sum> sums(school_of_slot.size() * per_slot);
  for (std::uint32_t i = 0; i < st.size(); ++i)
    for (int s = 0; s < n_subjects; ++s) {
      const float prior = st.baseline_z[s][i];
      if (std::isnan(prior)) continue;
      const int band = std::clamp(static_cast<int>(std::floor((prior + 3.0f) / 0.5f)), 0, n_prior_bands - 1);
      const int cell = ((s * n_grades + st.grade[i]) * 2 + st.frl[i]) * n_prior_bands + band;
      Sum& x = sums[std::size_t(slot[st.school[i]]) * per_slot + cell];
      const double z = spring_z[std::size_t(i) * n_subjects + s];
      x.n++, x.sum += z, x.sum_squares += z * z;
    }
  for (std::size_t j = 0; j < school_of_slot.size(); ++j)
    for (int cell = 0; cell < per_slot; ++cell) {
      const Sum& x = sums[j * per_slot + cell];
      if (x.n == 0) continue;
      StudyCellRow row;
      row.year = state.year;
      row.school = school_of_slot[j];
      row.prior_band = static_cast<std::uint8_t>(cell % n_prior_bands);
      row.frl = static_cast<std::uint8_t>(cell / n_prior_bands % 2);
      row.grade = static_cast<std::uint8_t>(cell / (2 * n_prior_bands) % n_grades);
      row.subject = static_cast<Subject>(cell / (2 * n_prior_bands * n_grades));
      row.n = x.n, row.sum = x.sum, row.sum_squares = x.sum_squares;
      out.push_back(row);
    }
}

// The test errors of up to `lanes` consecutive students, drawn at once (vectorised Philox and
// Box-Muller: plsim/fast_math.hpp): per subject a standard normal of the shared stream and the one the
// twin reports (the shared one outside the twin).
struct TestErrors {
  static constexpr std::uint32_t lanes = 64;
  std::array<std::array<float, lanes>, n_subjects> shared, own;
  std::array<std::array<std::uint32_t, lanes>, 4> words;

  void draw(const Rng& rng, const std::uint32_t* id, std::uint32_t n, std::uint32_t tick, bool twin) {
    normals(rng, Stream::assessment, id, n, tick, shared);
    if (twin) normals(rng, Stream::twin_assessment, id, n, tick, own);
    else own = shared;
  }
  void normals(const Rng& rng, Stream stream, const std::uint32_t* id, std::uint32_t n, std::uint32_t tick,
               std::array<std::array<float, lanes>, n_subjects>& out) {
    rng.words_of(stream, id, n, tick, 0, words);
    for (std::uint32_t q = 0; q < n; ++q) {
      out[0][q] = fast::standard_normal_pair(words[0][q], words[1][q])[0];
      out[1][q] = fast::standard_normal_pair(words[2][q], words[3][q])[0];
    }
  }
};

// The norms of one test season by subject and grade, for lookups by a vectorised loop.
struct TestNorms {
  std::array<std::array<double, n_grades>, n_subjects> mean, sd;
  TestNorms(const Model& model, Season season) {
    for (int s = 0; s < n_subjects; ++s)
      for (int g = 0; g < n_grades; ++g) {
        const NormCell& c = model.norms.at(static_cast<Subject>(s), season, g);
        mean[s][g] = c.mean, sd[s][g] = c.sd;
      }
  }
};

// The scores of up to TestErrors::lanes consecutive students of a school, per subject: true, measured
// (shared draw), reported (the twin's own draw), the reported score's national z and percentile, the
// measured score's z. One loop over the lanes, which the compiler vectorises.
struct TestScores {
  using Lanes = std::array<std::array<double, TestErrors::lanes>, n_subjects>;
  Lanes true_rit, rit, reported, z, percentile, z_shared;
  std::array<std::uint8_t, TestErrors::lanes> grade;
  std::array<double, TestErrors::lanes> mastered, mean, sd;  // units mastered; the norms of his grade

  void measure(const Model& model, const TestNorms& norms, const StudentColumns& st, std::uint32_t first,
               std::uint32_t n, double error, const TestErrors& errors) {
    // Narrow columns and the norms' lookups are first made lanes of doubles: GCC 12 does not vectorise a
    // loop that mixes them with the arithmetic.
    for (std::uint32_t q = 0; q < n; ++q) grade[q] = st.grade[first + q];
    for (int s = 0; s < n_subjects; ++s) {
      const auto subject = static_cast<Subject>(s);
      const std::uint16_t* frontier = st.frontier[s].data() + first;
      const std::uint16_t* gaps = st.gaps[s].data() + first;
      const float* p_known = st.p_known[s].data() + first;
      for (std::uint32_t q = 0; q < n; ++q) {
        mastered[q] = static_cast<double>(std::int32_t(frontier[q]) - std::int32_t(gaps[q])) + p_known[q];
        mean[q] = norms.mean[s][grade[q]], sd[q] = norms.sd[s][grade[q]];
      }
      const ScaleMap::Segment scale = model.scale.segment(subject);
      PLSIM_VECTORIZE_LOOP
      for (std::uint32_t q = 0; q < n; ++q) {
        const double t = scale.rit(mastered[q]);  // of mastered_position: units mastered
        const double measured = t + error * errors.shared[s][q], own = t + error * errors.own[s][q];
        const double m = mean[q], d = sd[q];
        true_rit[s][q] = t, rit[s][q] = measured, reported[s][q] = own;
        z[s][q] = (own - m) / d;
        z_shared[s][q] = (measured - m) / d;
      }
      for (std::uint32_t q = 0; q < n; ++q)
        percentile[s][q] = Norms::percentile_of_z(z[s][q]);
    }
  }
};

struct Cell {
  std::uint32_t n = 0;
  double rit = 0, true_rit = 0, percentile = 0, sd = 0;
  void add(double measured, double truth) {
    n++;
    rit += measured;
    true_rit += truth;
  }
};

}  // namespace

void assess(const Model& model, State& state, Season season, std::vector<AssessmentRow>& out,
            std::vector<SubgroupRow>* subgroups, std::vector<StudyCellRow>* study) {
  StudentColumns& st = state.students;
  const SchoolColumns& sc = state.schools;
  const Rng rng(model.seed);
  const double error = model.params.assessment.measurement_error_rit;
  const auto tick = static_cast<std::uint32_t>(state.year * n_seasons + static_cast<int>(season));
  const bool twin = model.arm == ComparisonArm::counterfactual;
  if (season == Season::fall) assign_start_quintiles(model, st);

  // Per school: sums per (subject, grade); per block of schools: sums per (subject, grade, subgroup),
  // whose rows are national. Each sums in student order and blocks are fixed ranges of schools added
  // in order, so the totals do not depend on the threads.
  // About a thousand blocks whatever the size: enough to spread a district's few schools over the
  // threads, few enough that the block sums stay small (10 MB at national scale).
  const std::size_t schools_per_block = std::max<std::size_t>(1, (sc.size() + 1023) / 1024);
  const std::size_t n_blocks = (sc.size() + schools_per_block - 1) / schools_per_block;
  std::vector<std::array<Cell, n_subjects * n_grades>> cells(sc.size());
  std::vector<std::array<Cell, n_subjects * n_grades * n_subgroups>> groups(subgroups ? n_blocks : 0);
  const bool study_cells = study && season == Season::spring;
  std::vector<float> spring_z(study_cells ? st.size() * n_subjects : 0);
  const TestNorms norms(model, season);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n_blocks), [&](const tbb::blocked_range<std::size_t>& r) {
    TestErrors errors;
    TestScores scores;
    for (std::size_t block = r.begin(); block != r.end(); ++block) {
      for (std::size_t k = block * schools_per_block; k < std::min(sc.size(), (block + 1) * schools_per_block); ++k) {
        const auto type_group = sc.type[k] == std::uint8_t(SchoolType::charter) ? Subgroup::charter : Subgroup::district;
        for (std::uint32_t first = sc.begin[k]; first < sc.end[k]; first += TestErrors::lanes) {
          const std::uint32_t n = std::min<std::uint32_t>(TestErrors::lanes, sc.end[k] - first);
          errors.draw(rng, st.id.data() + first, n, tick, twin);
          scores.measure(model, norms, st, first, n, error, errors);
          for (std::uint32_t q = 0; q < n; ++q) {
            const std::uint32_t i = first + q;
            const int grade = st.grade[i];
            if (season == Season::fall) state.classrooms.n_measured[st.classroom[i]]++;
            for (int s = 0; s < n_subjects; ++s) {
              const double true_rit = scores.true_rit[s][q], reported = scores.reported[s][q], z = scores.z[s][q];
              st.score[s][i] = static_cast<float>(scores.rit[s][q]);
              Cell& cell = cells[k][s * n_grades + grade];
              cell.add(reported, true_rit);
              cell.percentile += scores.percentile[s][q];
              cell.sd += z;
              // The first fall score a student has in the run is what an evaluator matches on (the shared
              // draw, like st.score, so the twin's state stays the policy run's where instruction agrees).
              if (season == Season::fall && std::isnan(st.baseline_z[s][i]))
                st.baseline_z[s][i] = static_cast<float>(scores.z_shared[s][q]);
              if (study_cells) spring_z[std::size_t(i) * n_subjects + s] = static_cast<float>(z);
              // What an evaluator of the pilots sees: each classroom's measured fall and spring scores.
              if (season == Season::fall) state.classrooms.fall_z[s][st.classroom[i]] += static_cast<float>(z);
              if (season == Season::spring) state.classrooms.spring_z[s][st.classroom[i]] += static_cast<float>(z);
              if (!subgroups) continue;
              Cell* g = &groups[block][(s * n_grades + grade) * n_subgroups];
              g[int(Subgroup::all)].add(reported, true_rit);
              g[int(st.frl[i] ? Subgroup::frl : Subgroup::non_frl)].add(reported, true_rit);
              if (st.start_quintile[s][i]) g[int(Subgroup::start_q1) + st.start_quintile[s][i] - 1].add(reported, true_rit);
              g[int(type_group)].add(reported, true_rit);
              if (st.ever_pl[i]) g[int(Subgroup::pl_cohort)].add(reported, true_rit);
            }
          }
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
  if (study_cells) record_study_cells(model, state, spring_z, *study);
  if (!subgroups) return;
  for (int s = 0; s < n_subjects; ++s) {
    for (int g = 0; g < n_grades; ++g) {
      for (int q = 0; q < n_subgroups; ++q) {
        Cell total;
        for (std::size_t block = 0; block < n_blocks; ++block) {
          const Cell& c = groups[block][(s * n_grades + g) * n_subgroups + q];
          total.n += c.n;
          total.rit += c.rit;
          total.true_rit += c.true_rit;
        }
        if (total.n == 0) continue;
        subgroups->push_back({state.year, season, static_cast<Subject>(s), g, static_cast<Subgroup>(q), total.n,
                              total.rit / total.n, total.true_rit / total.n});
      }
    }
  }
}

}  // namespace plsim
