// The immutable model of one run: parameters, instructional models and the population
// specification, built once from a validated scenario. Runs hold it by const reference.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "plsim/measure/norms.hpp"
#include "plsim/measure/scale.hpp"
#include "plsim/types.hpp"

namespace plsim {

using GradeTable = std::array<std::array<double, n_grades>, n_subjects>;  // [subject][grade]

// Learner model and instruction (scenario key "parameters/learning").
struct LearningParameters {
  int units_per_grade = 12;         // knowledge-map units per grade level
  int levels_below = 3;             // grade levels of units below kindergarten
  double learn_rate = 0.08;         // BKT learn probability per opportunity, median student, full match
  double minutes_per_opportunity = 5.0;
  double prior = 0.1;               // BKT probability a new unit is already known
  double absorption_limit = 6.0;    // weekly learning hazard saturates at this (diminishing returns)
  double mastery_threshold = 0.95;  // BKT mastery criterion
  double gap_penalty = 0.6;         // share of learning lost when every prerequisite unit is a gap
  int prerequisite_window = 24;     // units below the frontier that act as prerequisites (<= 64)
  double mismatch_width_behind = 12.0;  // units; learning falls as exp(-distance/width)
  double mismatch_width_ahead = 6.0;
  double ahead_floor = 0.3;         // share of learning left when instruction is far below the student
  double seat_time_slack = 1.0;     // units behind the pacing guide before seat time moves a student on
  double pacing_grade_level_weight = 0.3;  // pacing starts between grade level (1) and class median (0)
  std::array<double, n_modes> mode_efficiency{1.0, 1.1, 0.8, 0.4, 1.5};
  double small_group_estimate_error = 2.0;  // units: teacher's error placing a student from test data
  double software_estimate_error = 1.0;     // units: adaptive software's error on the frontier
  std::array<double, n_subjects> software_subject_efficiency{1.0, 0.6};  // reading software does less
  double self_regulation_floor = 0.3;       // share of software minutes that count at zero self-regulation
  double gap_repair_share = 0.25;  // share of targeted time (small group, software, tutoring) on recent gaps
  double gap_repair_ease = 1.5;   // relearning a gap is this much faster than a new unit
  double engagement_baseline = 0.7;
  double engagement_rate = 0.2;              // weekly adjustment toward the target
  double engagement_collaborative_bonus = 0.1;  // target rise when all time is collaborative
  double frl_learning_multiplier = 0.95;
  double learning_rate_sd = 0.25;            // lognormal SD of the student learning-rate multiplier
  double learning_rate_achievement_correlation = 0.4;
  double status_neutral_growth = 1.0;  // 1: learning rate scales with 1/scale slope at the start position
  double teacher_effect_sd = 0.15;           // lognormal SD of teacher effectiveness
  double school_growth_sd = 0.16;            // lognormal SD of school effects on learning
  GradeTable grade_pace{};                   // calibrated multiplier of learn_rate per grade
};

// Population generation (scenario key "parameters/population").
struct PopulationParameters {
  double school_mean_sd = 0.47;        // SD of school mean achievement, student SDs (national reference)
  double frl_achievement_gap = 0.5;    // FRL students start this many SDs lower
  double national_frl_share = 0.5;     // reference population: mean and SD of school FRL shares
  double national_frl_share_sd = 0.25;
  double subject_correlation = 0.75;   // correlation of math and reading achievement
  double gap_share_base = 0.05;        // share of passed units that are gaps for an average student
  double gap_share_per_sd_below = 0.05;
  double self_regulation_mean = 0.6;
  double self_regulation_sd = 0.2;
  double self_regulation_achievement_correlation = 0.3;
  double attendance_mean = 0.94;
  double attendance_frl_gap = 0.03;
  double attendance_sd = 0.04;
  int tracking_from_grade = 6;  // from this grade on, classrooms are formed by achievement (13: never)
};

struct AssessmentParameters {
  double measurement_error_rit = 3.0;  // SD of test error (MAP's standard error of measurement)
  std::array<int, n_seasons> weeks{1, 18, 34};  // week of the year (1-based) of each window
};

struct SummerParameters {
  double loss_scale = 1.0;       // multiplier on the norm-derived summer loss
  double frl_extra_loss = 0.25;  // FRL students lose this share more
  double loss_sd = 0.3;          // relative student variation of summer loss
};

// Personalized-learning mechanisms (scenario key "parameters/personalization"); docs/model.md.
struct PersonalizationParameters {
  double estimate_error_scale = 3.0;  // estimate errors grow by this factor at zero learner-profile fidelity
  double noise_penalty = 0.15;        // learning lost in fully open space without flexible-environment skill
  double engagement_choice = 0.15;    // engagement target rise with full choice
  double engagement_contact = 0.10;   // ... with all time in teacher contact (small group, tutoring, check-ins)
  double engagement_mismatch = 0.25;  // ... fall when nothing taught matches the student
  double engagement_noise = 0.10;     // ... fall in fully open, noisy space
  double check_in_recovery = 0.5;     // share of the self-regulation shortfall that check-ins recover
  double test_out_threshold = 0.7;    // P(known) at which a student asks for an on-demand test
  double test_guess = 0.15;           // BKT guess and slip of on-demand tests (ASSISTments medians)
  double test_slip = 0.20;
  std::array<double, 3> implementation_year_fidelity{0.6, 0.8, 1.0};  // years 1, 2, 3+
  double teacher_capacity_sd = 0.15;  // SD of teachers' PL capacity (multiplies school fidelity)
  double autonomy_engagement = 0.72;  // engagement needed to earn the next autonomy level
  double autonomy_self_regulation_step = 0.15;  // self-regulation needed rises by this per level
  double autonomy_self_regulation_base = 0.3;   // self-regulation needed for the second level
  double autonomy_demotion_margin = 0.1;        // engagement this far below autonomy_engagement loses a level
  double open_space_noise_reduction = 0.5;      // share of open-space noise a fully flexible environment removes
};

struct Parameters {
  LearningParameters learning;
  PersonalizationParameters personalization;
  PopulationParameters population;
  AssessmentParameters assessment;
  SummerParameters summer;
};

// A policy as data: weekly minutes per subject in each mode, plus a progression rule.
struct InstructionalModel {
  std::string name;
  std::string description;
  std::array<double, n_modes> minutes{};
  Progression progression = Progression::seat_time;
  int small_groups = 4;
  int regroup_weeks = 6;  // small groups are re-formed this often
  std::array<double, n_elements> asks{};  // how much of each PL element the model demands of teachers
  double choice = 0;       // share of time in which students choose what they work on
  double check_ins = 0;    // teacher check-ins during independent time (0..1)
  double open_space = 0;   // share of time in open, shared spaces (noise)
  bool test_out = false;   // students may take an on-demand test to move on
  int autonomy_levels = 0;  // levels of autonomy students earn (0: none); minutes move toward
  std::array<double, n_modes> top_level_minutes{};  // these at the highest level
  bool python_policy = false;  // minutes come from a plsim.Policy each week

  double total_minutes() const {
    double t = 0;
    for (double m : minutes) t += m;
    return t;
  }
};

enum class SchoolType : std::uint8_t { district = 0, charter = 1 };
inline constexpr std::array<const char*, 2> school_type_names{"district", "charter"};

struct SchoolGroupSpec {
  Level level = Level::elementary;
  SchoolType type = SchoolType::district;
  int count = 1;
  int enrollment = 450;
  int grade_lo = 0, grade_hi = 5;
  int class_size = 22;
  double frl_share_mean = 0.5, frl_share_sd = 0.25;
  double achievement_shift_sd = 0.0;
  std::vector<std::pair<int, double>> models;  // (instructional model index, share)
  std::array<double, n_elements> fidelity{1, 1, 1, 1};  // mean school fidelity per PL element
  double fidelity_sd = 0.0;                               // SD across schools
  int implementation_year = 3;  // year of PL implementation in the first simulated year (3: mature)
};

struct DistrictSpec {
  std::string name;
  int count = 1;
  double achievement_shift_sd = 0.0;
  std::vector<SchoolGroupSpec> schools;
};

struct Model {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  int years = 1;
  std::string counterfactual = "auto";  // auto, always or never: also run the all-traditional twin
  int weeks_per_year = 36;
  Parameters params;
  std::vector<InstructionalModel> instructional_models;
  std::vector<DistrictSpec> districts;
  Norms norms;
  ScaleMap scale;

  // Derived once from norms and parameters.
  double pacing_per_week = 0;  // pacing-guide units per week: one grade level per school year
  GradeTable summer_loss{};    // units lost over the summer after each grade (national mean)

  Model(Parameters p, Norms n, int weeks_per_year);
  // Share of a school year between the fall and spring assessments.
  static double taught_share(const Parameters& p, int weeks_per_year);
  int model_index(const std::string& name) const;
};

}  // namespace plsim
