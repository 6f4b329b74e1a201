// Results of a run: one row per (year, season, subject, grade, school) assessment cell, with
// national percentiles and SD units from the norms, plus the run's counters.
#pragma once

#include <cstdint>
#include <vector>

#include "plsim/types.hpp"

namespace plsim {

struct AssessmentRow {
  std::int32_t year = 0;
  Season season = Season::fall;
  Subject subject = Subject::math;
  std::int32_t grade = 0;
  std::uint32_t school = 0;
  std::uint32_t n = 0;
  double mean_rit = 0;         // measured, with test error
  double mean_true_rit = 0;    // the scale score of true knowledge, without test error
  double mean_percentile = 0;  // national percentile of the measured score
  double mean_sd = 0;          // measured score in national student-SD units
};

struct Results {
  std::vector<AssessmentRow> assessments;
  int years_completed = 0;
  std::uint64_t weeks_simulated = 0;
  std::uint64_t student_weeks = 0;
  double seconds = 0;  // wall clock of the simulation, without population set-up
  bool cancelled = false;
};

}  // namespace plsim
