// Teachers: hiring, each teacher's traits (value added, personalized-learning capacity, buy-in),
// experience, PL skill that grows with coaching, PD, iteration and peers and decays without support,
// preparation time against what the model needs, burnout, and who leaves at the end of a year (gone
// at the transition); novices replace leavers. docs/model.md, "Teachers".
#pragma once

#include <cstdint>

#include "plsim/fields.hpp"

namespace plsim {

struct Results;
struct TeacherYearRow;

// Scenario key "parameters/teachers"; docs/model.md. One line a parameter: type, name, default, range,
// unit, doc, source.
#define PLSIM_TEACHER_PARAMETERS(X)                                                                          \
  X(double, turnover_rate, 0.15, between(0, 1), "share per year",                                              \
    "yearly share of teachers who leave their school, in schools that are not high-poverty",                  \
    "targets.json teacher_turnover: about 16% nationally (Learning Policy Institute 2017)")                    \
  X(double, high_poverty_turnover_ratio, 1.5, between(1, 5), "ratio",                                          \
    "turnover in high-poverty schools over turnover elsewhere",                                                \
    "targets.json teacher_turnover: about 1.5x higher in high-poverty schools")                               \
  X(double, high_poverty_frl_share, 0.75, between(0, 1), "share",                                              \
    "FRL share from which a school counts as high-poverty", "NCES: high-poverty schools have over 75% FRL")    \
  X(double, novice_effectiveness, 0.9, between(0.1, 1), "multiplier",                                          \
    "learning multiplier of a first-year teacher relative to an experienced one",                             \
    "assumption in the range of the returns to experience (Rice 2010; Kraft & Papay 2014)")                   \
  X(double, novice_capacity, 0.8, between(0, 1), "multiplier",                                                 \
    "personalized-learning capacity of a first-year teacher relative to an experienced one", "assumption")     \
  X(double, experience_scale, 2.0, above(0), "years",                                                          \
    "a novice's gap in effectiveness and capacity closes as exp(-experience / scale)",                         \
    "assumption: most of the returns to experience come in the first 3-5 years (Kraft & Papay 2014)")       \
  X(double, hire_pl_skill, 0.6, between(0, 1), "0..1",                                                          \
    "PL skill of a teacher new to the model (hired, or in a school that converts) relative to an "            \
    "established practitioner (1)", "assumption: RAND 2017 effects grew over the first implementation years") \
  X(double, skill_iteration, 0.2, between(0, 10), "per year",                                                         \
    "skill growth rate from a year of practising the model", "assumption")                                     \
  X(double, skill_pd_per_day, 0.04, between(0, 10), "per day",                                                        \
    "skill growth rate per professional-development day", "assumption: PD alone changes practice little (TNTP 2015)") \
  X(double, skill_coaching, 0.8, between(0, 10), "per year",                                                          \
    "skill growth rate at a full coaching dose",                                                               \
    "targets.json coaching_effect: coaching raises practice by 0.49 SD (Kraft, Blazar & Hogan 2018)")          \
  X(double, skill_peers, 0.4, between(0, 10), "per year",                                                             \
    "skill growth rate when every colleague of the school practises (communities of practice)", "assumption") \
  X(double, skill_knowledge_management, 0.2, between(0, 10), "per year",                                               \
    "skill growth rate from the district's practising share where knowledge management spreads practice",      \
    "assumption from CRPE 2019: knowledge management helped")                                                  \
  X(double, skill_decay, 0.15, between(0, 1), "per year",                                                        \
    "yearly loss of skill above the untrained level without any support (coaching, PD, peers)", "assumption") \
  X(double, support_reference, 0.3, above(0), "rate",                                                            \
    "support (growth rate from PD, coaching and peers) at which skill no longer decays", "assumption")          \
  X(double, buy_in_mean, 0.6, between(0, 1), "0..1", "mean teacher buy-in to personalized learning",             \
    "assumption: about 60% of teachers in PL schools were positive (RAND 2017 surveys)")                       \
  X(double, buy_in_sd, 0.2, between(0, 0.5), "SD", "SD of buy-in across teachers", "assumption")                   \
  X(double, buy_in_weight, 0.3, between(0, 2), "multiplier per unit",                                            \
    "PL capacity changes by this times the buy-in above the typical teacher's (typical_buy_in, 0.6)", "assumption")                               \
  X(double, buy_in_support_gain, 0.2, between(0, 1), "per year",                                                  \
    "yearly gain of buy-in (towards 1) at full support", "assumption")                                         \
  X(double, buy_in_burnout_loss, 0.3, between(0, 1), "per year",                                                  \
    "yearly loss of buy-in at full burnout", "assumption")                                                     \
  X(double, prep_fidelity_loss, 0.3, between(0, 1), "share",                                                      \
    "share of PL capacity lost when a teacher has none of the preparation time the model needs",              \
    "assumption from CRPE 2019: teachers were asked to innovate without the time to do it")                   \
  X(double, burnout_gain, 0.6, between(0, 5), "per year",                                                         \
    "burnout a year of full preparation deficit adds", "assumption")                                           \
  X(double, burnout_recovery, 0.5, between(0, 1), "share per year", "share of burnout that fades each year",     \
    "assumption")                                                                                               \
  X(double, burnout_turnover, 1.0, between(0, 10), "multiplier per unit",                                         \
    "turnover rises by this share at full burnout",                                                            \
    "assumption: workload is among the main reasons leavers give (Learning Policy Institute 2017)")            \
  X(double, coach_reference_caseload, 10, above(0), "teachers",                                                   \
    "teachers per coach in the small trials: a coach with a larger caseload gives each teacher a "           \
    "proportionally smaller dose", "assumption from Kraft, Blazar & Hogan 2018 (small trials, under 100 teachers)") \
  X(double, coaching_effectiveness_gain, 0.2, between(0, 1), "multiplier",                                        \
    "learning multiplier of a fully dosed coached teacher beyond what coaching does to PL fidelity",          \
    "assumption: a full dose adds about 0.09 SD in a first year (targets.json coaching_effect: 0.18 in small " \
    "trials, mostly literacy coaching on researcher-designed measures; MAP-like tests show less)")

// The buy-in of the typical teacher (buy_in_mean's default): capacity is stated for him.
inline constexpr double typical_buy_in = 0.6;

struct TeacherParameters {
  PLSIM_DECLARE_MEMBERS(PLSIM_TEACHER_PARAMETERS)
};

// Hires a teacher for `school` and returns the teacher's index. Traits are drawn from the teacher's
// stable id, so hiring in one school never shifts the draws of another school's teachers. Teachers
// of the first year have the experience a steady turnover gives; later hires are novices.
std::uint32_t hire_teacher(const Model& model, State& state, std::uint32_t school);

// End of a school year (its last week): each active teacher's burnout takes the year's preparation
// deficit, then he decides whether to leave, with his school's turnover rate raised by that burnout (a
// draw keyed by his school, his hiring serial and the year he would not return for, so both arms of a
// comparison draw alike). Reads: schools.frl_share, teachers. Writes: teachers.burnout, leaving; the
// turnover of the year's row of results.teachers. The last year's decisions are reported, never applied.
void decide_leavers(const Model& model, State& state, Results& results);

// Year stage: the teachers who decided to leave at the end of last year leave, the others gain a year
// of experience; effectiveness and capacity follow experience. Reads: teachers.leaving. Writes:
// teachers.active, experience, leaving, practising, effectiveness, capacity.
void turn_over_teachers(const Model& model, State& state);

// The row of results.teachers for `year` (0-based), added at the end when the last row is another year's.
TeacherYearRow& teacher_row(Results& results, int year);

// Year stage, before turnover: each teacher's PL skill grows with last year's practice, coaching, PD
// and peers and decays without support; buy-in follows support and last year's burnout (decide_leavers
// updated it at the year's end). Reads: teachers (practising, coached, burnout), schools, districts.
// Writes: teachers.pl_skill, buy_in.
void develop_teachers(const Model& model, State& state);

// After classrooms are formed: who practises the school's model (every teacher school-wide, those
// with most buy-in in a pilot), coaching doses from the district's coaches (newest PL schools first),
// each practising teacher's preparation deficit, and capacity and effectiveness from all of it.
// Writes: teachers.practising, coached, prep_deficit, effectiveness, capacity; classrooms.instructional_model.
void assign_practice(const Model& model, State& state);

// Effectiveness and capacity of every active teacher from his value added, base capacity and
// experience: after a Python hook changed those, so that the change holds from the next week.
void refresh_teacher_traits(const Model& model, State& state);

}  // namespace plsim
