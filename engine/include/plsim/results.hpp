// Results of a run: tables of rows (assessment cells, subgroups, teachers, rollout, fidelity, costs,
// study cells, responses), each row type with its field list, plus the run's counters.
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

  // The field list: f(name, member) for every column, in order. Bindings, checkpoints and the tests'
  // comparisons are derived from it, so a field added here reaches them all.
  template <class F>
  static void for_each_field(F&& f) {
    f("year", &AssessmentRow::year), f("season", &AssessmentRow::season), f("subject", &AssessmentRow::subject);
    f("grade", &AssessmentRow::grade), f("school_id", &AssessmentRow::school), f("n", &AssessmentRow::n);
    f("mean_rit", &AssessmentRow::mean_rit), f("mean_true_rit", &AssessmentRow::mean_true_rit);
    f("mean_percentile", &AssessmentRow::mean_percentile), f("mean_sd", &AssessmentRow::mean_sd);
  }
};

// Groups of students results are also reported for: everyone, by FRL status, by the quintile of their
// true score in their first fall of the run (within grade and subject), by school type.
// pl_cohort: the students ever enrolled in a school at a PL stage (pilot or school-wide), an
// intention-to-treat cohort that both arms of a comparison define alike.
enum class Subgroup : std::uint8_t {
  all, frl, non_frl, start_q1, start_q2, start_q3, start_q4, start_q5, charter, district, pl_cohort
};
inline constexpr int n_subgroups = 11;
inline constexpr std::array<const char*, n_subgroups> subgroup_names{
    "all", "frl", "non_frl", "start_q1", "start_q2", "start_q3", "start_q4", "start_q5", "charter", "district",
    "pl_cohort"};

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

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &SubgroupRow::year), f("season", &SubgroupRow::season), f("subject", &SubgroupRow::subject);
    f("grade", &SubgroupRow::grade), f("subgroup", &SubgroupRow::subgroup), f("n", &SubgroupRow::n);
    f("mean_rit", &SubgroupRow::mean_rit), f("mean_true_rit", &SubgroupRow::mean_true_rit);
  }
};

// Spring measured scores (national z) of an evaluator's matching cell: students of one grade and FRL
// status whose first fall score in the run fell in one band (`prior_band`: 0.5 SD wide, from -3 SD).
// Rows of a PL school (school = its index), or of a comparison pool (school = study_pool): the
// policy arm's schools at no PL stage, or every school of the counterfactual twin.
inline constexpr std::uint32_t study_pool = 0xffffffffu;
inline constexpr int n_prior_bands = 12;
struct StudyCellRow {
  std::int32_t year = 0;
  std::uint32_t school = study_pool;
  Subject subject = Subject::math;
  std::uint8_t grade = 0, frl = 0, prior_band = 0;
  std::uint32_t n = 0;
  double sum = 0, sum_squares = 0;  // of the spring z

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &StudyCellRow::year), f("school_id", &StudyCellRow::school), f("subject", &StudyCellRow::subject);
    f("grade", &StudyCellRow::grade), f("frl", &StudyCellRow::frl), f("prior_band", &StudyCellRow::prior_band);
    f("n", &StudyCellRow::n), f("sum", &StudyCellRow::sum), f("sum_squares", &StudyCellRow::sum_squares);
  }
};

// The teachers of a school year: its practice (recorded at its start) and who decided to leave at its
// end (in high-poverty schools too), gone at the next transition. Until the year's end (a run stopped
// within it) the counts of teachers and leavers are 0 and mean_experience_stayers NaN.
struct TeacherYearRow {
  std::int32_t year = 0;  // the school year (0-based in the engine)
  std::uint32_t teachers = 0, leavers = 0;  // on staff at the year's end, and of them those who leave
  std::uint32_t teachers_high_poverty = 0, leavers_high_poverty = 0;
  double mean_experience_stayers = 0;  // the experience those who stay will have next year
  // Of the teachers teaching in the year (after hiring), those practising a PL model:
  std::uint32_t teaching = 0, practising = 0, coached = 0;
  double mean_pl_capacity = 0;  // mean capacity of practising teachers
  double mean_pl_skill = 0;     // mean skill of practising teachers
  double mean_burnout = 0;      // over teachers teaching
  double mean_buy_in = 0;       // over teachers teaching
  double mean_prep_deficit = 0; // over practising teachers

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &TeacherYearRow::year), f("teachers", &TeacherYearRow::teachers), f("leavers", &TeacherYearRow::leavers);
    f("teachers_high_poverty", &TeacherYearRow::teachers_high_poverty);
    f("leavers_high_poverty", &TeacherYearRow::leavers_high_poverty);
    f("mean_experience", &TeacherYearRow::mean_experience_stayers), f("teaching", &TeacherYearRow::teaching);
    f("practising", &TeacherYearRow::practising), f("coached", &TeacherYearRow::coached);
    f("mean_pl_capacity", &TeacherYearRow::mean_pl_capacity), f("mean_pl_skill", &TeacherYearRow::mean_pl_skill);
    f("mean_burnout", &TeacherYearRow::mean_burnout), f("mean_buy_in", &TeacherYearRow::mean_buy_in);
    f("mean_prep_deficit", &TeacherYearRow::mean_prep_deficit);
  }
};

// A district's rollout in a year, at its start (after conversions, drops and codifying).
struct RolloutYearRow {
  std::int32_t year = 0;
  std::uint32_t district = 0;
  bool has_plan = false;
  double target_share = 0;               // the plan's target for the year (0 without a plan)
  std::uint32_t students = 0;            // enrolled in the district
  std::uint32_t students_pl = 0;         // taught by a teacher practising a PL model
  std::uint32_t students_in_pl_schools = 0;  // enrolled in a school at a PL stage
  std::uint32_t schools = 0, schools_pilot = 0, schools_schoolwide = 0;
  std::uint32_t converted = 0, dropped = 0, codified = 0;  // at this year's start
  double gate_estimate_sd = 0;           // NaN when not measured
  std::uint32_t gate_students = 0;
  bool gate_closed = false, proven = false;
  bool system_change = false;
  std::uint8_t target_kind = 0;          // TargetKind: what the target means (a floor, a ceiling, a goal)
  std::uint32_t held_back = 0;           // practitioners a ceiling kept traditional this year
  std::uint32_t students_reached = 0;    // distinct students who joined the PL cohort in the district so far

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &RolloutYearRow::year), f("district", &RolloutYearRow::district), f("has_plan", &RolloutYearRow::has_plan);
    f("target_share", &RolloutYearRow::target_share), f("students", &RolloutYearRow::students);
    f("students_pl", &RolloutYearRow::students_pl), f("students_in_pl_schools", &RolloutYearRow::students_in_pl_schools);
    f("schools", &RolloutYearRow::schools), f("schools_pilot", &RolloutYearRow::schools_pilot);
    f("schools_schoolwide", &RolloutYearRow::schools_schoolwide), f("converted", &RolloutYearRow::converted);
    f("dropped", &RolloutYearRow::dropped), f("codified", &RolloutYearRow::codified);
    f("gate_estimate_sd", &RolloutYearRow::gate_estimate_sd), f("gate_students", &RolloutYearRow::gate_students);
    f("gate_closed", &RolloutYearRow::gate_closed), f("proven", &RolloutYearRow::proven);
    f("system_change", &RolloutYearRow::system_change), f("target_kind", &RolloutYearRow::target_kind);
    f("held_back", &RolloutYearRow::held_back), f("students_reached", &RolloutYearRow::students_reached);
  }
};

// What a school cost in a year, by category and payer (index into payer_names: 0 is the district).
struct CostRow {
  std::int32_t year = 0;
  std::uint32_t district = 0, school = 0;
  std::uint8_t category = 0;  // CostCategory
  std::uint16_t payer = 0;
  double amount = 0;          // US$

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &CostRow::year), f("district", &CostRow::district), f("school_id", &CostRow::school);
    f("category", &CostRow::category), f("payer", &CostRow::payer), f("amount", &CostRow::amount);
  }
};

// Delivered fidelity in the classrooms on a PL model, by school type, in a year.
struct FidelityYearRow {
  std::int32_t year = 0;
  std::uint8_t school_type = 0;  // SchoolType
  std::uint32_t classrooms = 0;
  double mean = 0, sd = 0;       // of each classroom's delivered share of what its model asks

  template <class F>
  static void for_each_field(F&& f) {
    f("year", &FidelityYearRow::year), f("school_type", &FidelityYearRow::school_type);
    f("classrooms", &FidelityYearRow::classrooms), f("mean", &FidelityYearRow::mean), f("sd", &FidelityYearRow::sd);
  }
};

// One logged practice response (modules/practice_log): a student's answer on his working unit.
struct ResponseRow {
  std::uint32_t student = 0;  // stable id
  std::uint16_t unit = 0;     // knowledge-map unit of the subject (the skill)
  std::uint8_t subject = 0;
  std::uint8_t correct = 0;
  std::int32_t year = 0, week = 0;

  template <class F>
  static void for_each_field(F&& f) {
    f("student", &ResponseRow::student), f("subject", &ResponseRow::subject), f("unit", &ResponseRow::unit);
    f("year", &ResponseRow::year), f("week", &ResponseRow::week), f("correct", &ResponseRow::correct);
  }
};

struct Results {
  std::vector<AssessmentRow> assessments;
  std::vector<SubgroupRow> subgroups;
  std::vector<TeacherYearRow> teachers;
  std::vector<RolloutYearRow> rollout;
  std::vector<FidelityYearRow> fidelity;
  std::vector<CostRow> costs;
  std::vector<StudyCellRow> study;
  std::vector<ResponseRow> responses;  // logged practice, when State::responses_share > 0
  int years_completed = 0;
  std::uint64_t weeks_simulated = 0;
  std::uint64_t student_weeks = 0;
  double seconds = 0;  // wall clock of the simulation, without population set-up
  bool cancelled = false;

  // The one list of the result tables: f(name, rows) for each, in the order checkpoints store them.
  template <class F>
  void for_each_table(F&& f) {
    f("assessments", assessments), f("subgroups", subgroups), f("teachers", teachers), f("rollout", rollout);
    f("fidelity", fidelity), f("costs", costs), f("study", study), f("responses", responses);
  }
  template <class F>
  void for_each_table(F&& f) const {
    const_cast<Results*>(this)->for_each_table([&](const char* name, const auto& rows) { f(name, rows); });
  }
};

}  // namespace plsim
