// Results of a run: one row per (year, season, subject, grade, school) assessment cell, with
// national percentiles and SD units from the norms, plus the run's counters.
#pragma once

#include <array>
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

// Groups of students results are also reported for: everyone, by FRL status, by the quintile of their
// true score in their first fall of the run (within grade and subject), by school type.
enum class Subgroup : std::uint8_t { all, frl, non_frl, start_q1, start_q2, start_q3, start_q4, start_q5, charter, district };
inline constexpr int n_subgroups = 10;
inline constexpr std::array<const char*, n_subgroups> subgroup_names{
    "all", "frl", "non_frl", "start_q1", "start_q2", "start_q3", "start_q4", "start_q5", "charter", "district"};

// One row per (year, season, subject, grade, subgroup) of every test, over all schools.
struct SubgroupRow {
  std::int32_t year = 0;
  Season season = Season::fall;
  Subject subject = Subject::math;
  std::int32_t grade = 0;
  Subgroup subgroup = Subgroup::all;
  std::uint32_t n = 0;
  double mean_rit = 0;       // measured
  double mean_true_rit = 0;  // without test error
};

// The teachers of a year transition: who taught, who left (in high-poverty schools too).
struct TeacherYearRow {
  std::int32_t year = 0;  // the year that starts after the transition
  std::uint32_t teachers = 0, leavers = 0;
  std::uint32_t teachers_high_poverty = 0, leavers_high_poverty = 0;
  double mean_experience_stayers = 0;
};

struct Results {
  std::vector<AssessmentRow> assessments;
  std::vector<SubgroupRow> subgroups;
  std::vector<TeacherYearRow> teachers;
  int years_completed = 0;
  std::uint64_t weeks_simulated = 0;
  std::uint64_t student_weeks = 0;
  double seconds = 0;  // wall clock of the simulation, without population set-up
  bool cancelled = false;
};

}  // namespace plsim
