// The weekly learning process: each student's instruction minutes become BKT learning on his working
// unit, moderated by mismatch, gaps, engagement, attendance, teacher and school; then progression.
#pragma once

#include <cstdint>
#include <vector>

#include "plsim/fields.hpp"
#include "plsim/modules/instruction.hpp"

namespace plsim {

namespace lanes {
struct RunLanes;  // modules/classroom_lanes.hpp
}

// Learner model and instruction (scenario key "parameters/learning"); equations in docs/model.md.
// One line a parameter: type, name, default, range, unit, doc, source.
#define PLSIM_LEARNING_PARAMETERS(X)                                                                          \
  X(double, rit_per_unit, 1.0, between(0.25, 5), "RIT",                                                    \
    "knowledge on the vertical scale of one knowledge-map unit (every unit is the same size)",               \
    "assumption: one RIT, so that distances on the map are RIT points; a week moves a student by a fraction of a unit") \
  X(int, levels_below, 3, between(0, 6), "years", "years of kindergarten growth the map reaches below the kindergarten fall mean", \
    "assumption: room for the lowest kindergarten scores of the norms")                                         \
  X(double, learn_rate, 0.08, between(0, 1), "probability",                                                   \
    "BKT learn probability per practice opportunity (median student, full match)",                             \
    "ASSISTments 2009 skill-builder EM fits, median learn (targets.json bkt_parameters)")                      \
  X(double, minutes_per_opportunity, 5.0, above(0), "minutes", "instructional minutes per practice opportunity", \
    "assumption: one practice item or worked example every five minutes")                                      \
  X(double, prior, 0.1, between(0, 0.9), "probability", "BKT probability that a new unit is already known",   \
    "assumption: units ahead of the frontier are mostly unknown")                                               \
  X(double, absorption_limit, 6.0, between(0.1, 100), "hazard per week",                                       \
    "weekly learning hazard h saturates as h * limit / (limit + h): a student absorbs only so much a week, "   \
    "which keeps even ideal one-to-one tutoring below Bloom's two sigma",                                      \
    "calibrated: tutoring in the band of Nickow, Oreopoulos & Quan 2020, below Bloom 1984")                     \
  X(double, mastery_threshold, 0.95, between(0.5, 0.999), "probability", "BKT mastery criterion",              \
    "Corbett & Anderson 1995 (the usual BKT mastery criterion)")                                                \
  X(double, gap_penalty, 0.1, between(0, 1), "share", "share of learning lost when every prerequisite unit is a gap", \
    "calibrated with review and forgetting on: conditional growth within 15% (targets.json conditional_growth; " \
    "scripts/calibration)")                                                                                    \
  X(int, prerequisite_window, 64, between(1, 64), "units", "units below the frontier that act as prerequisites", \
    "calibrated: 64 RIT (about four years of growth in grades 3-5, the whole earlier curriculum a grade builds " \
    "on); with a narrower window class review lifts bottom starters of the upper grades above the "            \
    "conditional-growth band (docs/model.md, Effects over years)")                                            \
  X(double, mismatch_width_behind, 128.0, between(0.5, 128), "units",                                          \
    "learning falls as exp(-distance/width) when instruction is above the student's frontier",                  \
    "calibrated: growth of every starting quintile within 15% of the norm under traditional instruction "      \
    "(targets.json conditional_growth); a student one SD (about 15 RIT) behind learns 89% as much")           \
  X(double, mismatch_width_ahead, 48.0, between(0.5, 128), "units",                                             \
    "same when instruction is below the frontier", "calibrated with mismatch_width_behind")                    \
  X(double, ahead_floor, 0.8, between(0, 1), "share",                                                          \
    "share of learning left when instruction is far below the student",                                        \
    "calibrated with mismatch_width_behind: students far ahead keep learning (enrichment, reading, homework)") \
  X(double, seat_time_slack, 1.0, between(0, 24), "units",                                                     \
    "units behind the pacing guide before seat time moves a student on", "assumption")                          \
  X(double, pacing_grade_level_weight, 0.3, between(0, 1), "share",                                            \
    "where each class's pacing guide starts: 1 = national grade level, 0 = class median",                       \
    "assumption: teachers start where their class is, pulled toward the standards")                             \
  X(ByMode<double>, mode_efficiency, (ByMode<double>{1.0, 0.9, 0.85, 1.0, 1.7}), between(0, 10),                 \
    "relative to whole class", "learning per minute of each instruction mode, relative to well-matched whole-class teaching", \
    "calibrated with review, forgetting and the first-year dip on: nglc_like on RAND 2017 (math 0.09, reading " \
    "0.07 SD), trial-sized tutoring on Nickow et al. 2020, and the eight models' magnitudes on Kraft 2020 "     \
    "(median trial effect 0.10 SD; scripts/calibration); collaborative work as much per minute as whole-class " \
    "teaching, small groups 0.9 and software 0.85 (within-class grouping's +0.17 SD, Lou et al. 1996, comes "  \
    "from matching, which the kernel gives small groups), tutoring 1.7 (small groups 0.9 since session 4 "        \
    "of 2026-12-07, with gap_repair_share 0.6)")                                                                                 \
  X(double, small_group_estimate_error, 2.0, between(0, 24), "units",                                          \
    "error of the teacher's placement of a student in small groups", "assumption")                              \
  X(double, software_estimate_error, 1.0, between(0, 24), "units",                                             \
    "error of adaptive software's frontier estimate", "assumption")                                             \
  X(BySubject<double>, software_subject_efficiency, (BySubject<double>{1.0, 0.8}), between(0, 2), "multiplier",  \
    "multiplier of adaptive-software learning per subject",                                                     \
    "Escueta, Quan, Nickow & Oreopoulos 2017: computer-assisted learning shows larger effects in math")         \
  X(double, self_regulation_floor, 0.3, between(0, 1), "share",                                                \
    "share of software minutes that count at zero self-regulation", "assumption")                               \
  X(double, gap_repair_share, 0.6, between(0, 1), "share",                                                     \
    "share of targeted time (small group, software, tutoring) spent on recent gaps when there are any",         \
    "calibrated with mode_efficiency on RAND 2015's larger gains of students who started behind (the bottom "  \
    "three fifths of nglc_like gain more than the top two; 0.25 until session 4 of 2026-12-07 gave the "       \
    "opposite) and RAND 2017's NGLC effects (docs/model.md)")                                                  \
  X(double, gap_repair_ease, 1.5, above(0), "multiplier", "relearning a gap is this many times faster than a new unit", \
    "assumption")                                                                                                \
  X(double, review_share, 0.35, between(0, 1), "share",                                                       \
    "share of whole-class and collaborative time that reviews earlier units: it teaches nothing new, and "    \
    "re-teaches each gap of the prerequisite window as far as the time spread over the window allows",       \
    "TIMSS 1999 Video Study (Hiebert et al. 2003): US eighth-grade mathematics lessons spend about half their " \
    "time on review; 0.35 of whole-class and collaborative time, calibrated with forgetting_rate on "            \
    "evidence.json fadeout_after_end (docs/model.md, Effects over years)")                                                                      \
  X(double, review_old_gaps, 1.0, between(0, 1), "share",                                                    \
    "how much class review re-teaches a gap older than the prerequisite window, per gap in the window",        \
    "calibrated on evidence.json fadeout_mechanism: the comparison group catches up on what it missed")       \
  X(double, forgetting_rate, 0.0095, between(0, 1), "per week",                                                \
    "weekly hazard of forgetting knowledge not yet consolidated by later use (forgotten units become gaps)",  \
    "calibrated with review_share, review_old_gaps and consolidation_rate: a one-year programme keeps about " \
    "half its effect a year after it ends and 0.3 two years after, forgetting carrying about a fifth of the "   \
    "fade (evidence.json fadeout_after_end, fadeout_mechanism; docs/model.md, Effects over years)")                  \
  X(double, consolidation_rate, 0.012, between(0, 1), "per week",                                             \
    "weekly hazard with which new knowledge is consolidated by later use (then it is no longer forgotten "    \
    "week by week)", "calibrated with forgetting_rate")                                                       \
  X(double, engagement_baseline, 0.7, between(0.05, 1), "engagement",                                          \
    "engagement of a student taught at his level, without choice, contact or collaboration; learning scales "   \
    "with engagement / this", "assumption")                                                                     \
  X(double, engagement_rate, 0.2, between(0, 1), "per week", "weekly adjustment of engagement toward its target", \
    "assumption")                                                                                                \
  X(double, engagement_collaborative_bonus, 0.1, between(0, 1), "engagement",                                  \
    "rise of the engagement target when all time is collaborative", "assumption")                               \
  X(double, frl_learning_multiplier, 0.95, between(0.1, 2), "multiplier", "learning-rate multiplier of FRL students", \
    "assumption")                                                                                                \
  X(double, learning_rate_sd, 0.25, between(0, 2), "log SD", "lognormal SD of student learning rates",          \
    "assumption")                                                                                                \
  X(double, learning_rate_achievement_correlation, 0.3, between(-1, 1), "correlation",                         \
    "correlation of the learning rate with starting achievement",                                              \
    "MAP Growth 2020 conditional growth norms: growth varies little with starting status; with review and "    \
    "forgetting on, 0.3 (persistent factors, Bailey, Watts, Littlefield & Geary 2014) keeps it so (docs/model.md)") \
  X(double, teacher_effect_sd, 0.13, between(0, 2), "log SD", "lognormal SD of teacher effectiveness",          \
    "set with school_growth_sd to reproduce targets.json school_growth_spread (MAP Growth 2020)")              \
  X(double, school_growth_sd, 0.17, between(0, 2), "log SD", "lognormal SD of school effects on learning",      \
    "set with teacher_effect_sd to reproduce targets.json school_growth_spread (MAP Growth 2020)")             \
  X(GradeTable, grade_pace, calibrated_grade_table("learning.grade_pace"), between(0, 100), "multiplier",        \
    "learn-rate multiplier per subject and grade, K-12",                                                        \
    "calibrated: python -m plsim.calibrate growth, national_baseline on MAP Growth 2020 (engine/data/calibrated.json)") \
  X(GradeTable, fragile_start, calibrated_grade_table("learning.fragile_start"), between(0, 5), "multiplier",   \
    "multiplier of the steady-state fragile knowledge a student of each subject and grade starts with "         \
    "(forgetting on): the initial population at the steady state of the forgetting dynamics",                  \
    "calibrated with grade_pace: year-1 growth of national_baseline equal to later years' (scripts/calibration)")

struct LearningParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_LEARNING_PARAMETERS)
};

// Personalized-learning mechanisms (scenario key "parameters/personalization"); docs/model.md.
using PerImplementationYear = std::array<double, 3>;  // years 1, 2 and 3+
#define PLSIM_PERSONALIZATION_PARAMETERS(X)                                                                   \
  X(double, estimate_error_scale, 3.0, between(0, 20), "multiplier",                                           \
    "estimate errors grow by this factor at zero learner-profile fidelity", "assumption")                       \
  X(double, noise_penalty, 0.15, between(0, 1), "share",                                                       \
    "learning lost in fully open space without flexible-environment skill", "assumption")                       \
  X(double, engagement_choice, 0.15, between(0, 1), "engagement", "engagement target rise with full choice",    \
    "self-determination theory (Ryan & Deci 2000): autonomy raises engagement; size assumed")                   \
  X(double, engagement_contact, 0.10, between(0, 1), "engagement",                                              \
    "engagement target rise with all time in teacher contact (small group, tutoring, check-ins)",              \
    "self-determination theory (Ryan & Deci 2000): relatedness; size assumed")                                  \
  X(double, engagement_mismatch, 0.25, between(0, 1), "engagement",                                             \
    "engagement target fall when nothing taught matches the student",                                           \
    "flow (Csikszentmihalyi 1990): tasks far from a student's level disengage; size assumed")                   \
  X(double, engagement_noise, 0.10, between(0, 1), "engagement", "engagement target fall in fully open space",   \
    "assumption")                                                                                                \
  X(double, check_in_recovery, 0.5, between(0, 1), "share",                                                    \
    "share of the self-regulation shortfall that full check-ins recover", "assumption")                         \
  X(double, test_out_threshold, 0.7, between(0, 1), "probability",                                              \
    "P(known) at which a student asks for an on-demand test", "assumption")                                     \
  X(double, test_guess, 0.15, between(0, 0.5), "probability", "P(pass) of an on-demand test on an unknown unit", \
    "ASSISTments median BKT guess (targets.json bkt_parameters)")                                               \
  X(double, test_slip, 0.20, between(0, 0.5), "probability", "P(fail) of an on-demand test on a known unit",    \
    "ASSISTments median BKT slip (targets.json bkt_parameters)")                                                \
  X(PerImplementationYear, implementation_year_fidelity, (PerImplementationYear{0.8, 0.9, 0.9}), between(0, 1), \
    "multiplier", "capacity multiplier in implementation years 1, 2 and 3+",                                    \
    "calibrated with implementation_dip: nglc_like (first- and second-year schools) on RAND 2017")                                      \
  X(PerImplementationYear, implementation_dip, (PerImplementationYear{0.37, 0.07, 0.0}), between(0, 1),    \
    "share of change", "in a classroom's first, second and third+ year on its model (the lesser of its school's " \
    "implementation year and its teacher's years practising it, plus one), its targeted time (small group, " \
    "software, tutoring) teaches this much less, times how much the model changes the classroom (the mean " \
    "of its four asks): new routines, devices and groupings take a year to work",                           \
    "calibrated: a complex model delivers at most half its second-year effect in its first year, as Cognitive " \
    "Tutor Algebra I did at scale (Pane, Griffin, McCaffrey & Karam 2014; evidence.json implementation_dip; " \
    "docs/model.md, First-year dip)")                            \
  X(double, tutoring_scale_reference, 50.0, above(0), "students",                                             \
    "a district's tutoring programme up to this many students gets tutors as good as the trials'",           \
    "Kraft, Schueler & Falken 2024: programmes under 100 students (evidence.json tutoring_at_scale)")        \
  X(double, tutoring_scale_elasticity, 0.2, between(0, 2), "elasticity",                                      \
    "tutoring's learning per minute falls as (students served / reference)^-elasticity: a larger programme " \
    "recruits tutors from a thinner pool, trains and supervises them less, and delivers less of the "       \
    "scheduled dosage",                                                                                      \
    "calibrated: effects of about 0.44, 0.30, 0.21 and 0.16 SD for programmes of under 100, 100-399, "      \
    "400-999 and 1,000+ students (Kraft, Schueler & Falken 2024; evidence.json tutoring_at_scale)")          \
  X(double, teacher_capacity_sd, 0.15, between(0, 1), "SD", "SD of teachers' PL capacity (multiplies the school's)", \
    "assumption")                                                                                                \
  X(double, autonomy_engagement, 0.72, between(0, 1), "engagement",                                             \
    "engagement needed to earn the next autonomy level", "assumption")                                          \
  X(double, autonomy_self_regulation_step, 0.15, between(0, 1), "self-regulation",                              \
    "self-regulation needed rises by this per level", "assumption")                                             \
  X(double, autonomy_self_regulation_base, 0.3, between(0, 1), "self-regulation",                               \
    "self-regulation needed to earn the second autonomy level", "assumption")                                   \
  X(double, autonomy_demotion_margin, 0.1, between(0, 1), "engagement",                                         \
    "engagement this far below autonomy_engagement loses a level", "assumption")                                \
  X(double, open_space_noise_reduction, 0.5, between(0, 1), "share",                                            \
    "share of open-space noise a fully delivered flexible environment removes", "assumption")                  \
  X(double, transition_overhead, 0.10, between(0, 0.3), "share per mode",                                       \
    "share of a week's learning lost to each mode beyond the first (transitions, managing stations and "      \
    "devices) where the flexible environment is not delivered at all; scaled by 1 - its fidelity",            \
    "assumption, set with nglc_like so that a quarter of its schools do worse than their twin in reading and " \
    "a tenth in math, as evaluations find some PL schools worse than their comparison groups (RAND 2015, 2017)") \
  X(double, fidelity_school_correlation, 0.7, between(0, 1), "correlation",                                     \
    "correlation of a school's capacities for the four elements: a school that implements one well tends "   \
    "to implement the others well",                                                                          \
    "assumption: RAND 2017 found implementation quality varying by school more than by element")

struct PersonalizationParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_PERSONALIZATION_PARAMETERS)
};

struct WeekContext {
  int year = 0;
  int week = 0;  // 0-based within the year
  std::uint32_t tick() const { return static_cast<std::uint32_t>(year * 64 + week); }
};

// Share of what its model asks of the four elements that a classroom delivers this week (1 for a
// model that asks nothing): the asks-weighted mean of each element's capacity, capped at 1.
double delivered_share(const Model& model, const State& state, std::uint32_t classroom);

// Constants of the weekly loop derived from the parameters once per run (docs/model.md).
struct LearningConstants {
  // e^unit_hazard, where unit_hazard = ln((1 - prior) / (1 - threshold)) takes a new unit from the prior to
  // the mastery threshold: a unit mastered multiplies e^-(hazard left) by it
  float unit_growth;
  float repair_per_hazard;  // gap_repair_ease over unit_hazard: a gap's share of a unit's hazard
  float review_per_gap;     // repair hazard of each window gap per unit of review hazard
  float keep_fragile;       // share of fragile knowledge neither forgotten nor consolidated in a week
  float forget_share;       // share of fragile knowledge forgotten in a week
  explicit LearningConstants(const LearningParameters& L);
};

class LearningProcess {
 public:
  explicit LearningProcess(const Model& model);

  // One week for every classroom. Reads: student traits, teachers, schools. Writes: frontier, gaps,
  // recent_gaps, p_known, engagement, classroom pacing. Classrooms are independent, so the result does
  // not depend on how they are spread over threads.
  void run_week(State& state, const WeekContext& week) const;
  // One classroom; tests call it directly.
  void run_classroom(State& state, std::uint32_t classroom, const WeekContext& week) const;
  // The classrooms [first, last), in runs of consecutive classrooms of the same model (their students
  // contiguous), each run's passes over all its students (run_week calls it for each thread's range of
  // classrooms). The same results, bit for bit, as run_classroom for each.
  void run_classrooms(State& state, std::uint32_t first, std::uint32_t last, const WeekContext& week) const;

 private:
  std::uint32_t run_run(State& state, std::uint32_t first, std::uint32_t last, const WeekContext& week,
                        lanes::RunLanes& lanes) const;
  const Model& model_;
  std::vector<InstructionPlan> plans_;
  MismatchKernel kernel_;
  std::uint64_t window_mask_;
  LearningConstants constants_;
};

}  // namespace plsim
