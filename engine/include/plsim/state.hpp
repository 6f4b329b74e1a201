// The mutable agent state of a run, structure-of-arrays: one contiguous column per attribute.
// Students are sorted by school, then grade, then classroom, so every classroom and school is a
// contiguous range [begin, end) of the student columns.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "plsim/modules/costs.hpp"
#include "plsim/types.hpp"

namespace plsim {

template <class T>
using PerSubject = std::array<std::vector<T>, n_subjects>;

struct StudentColumns {
  std::vector<std::uint32_t> id;           // per student (n): stable identity, keys random streams
  std::vector<std::uint32_t> school;       // per student: index into SchoolColumns
  std::vector<std::uint32_t> classroom;    // per student: index into ClassroomColumns
  std::vector<std::uint8_t> grade;         // per student: 0 (kindergarten) to 12
  std::vector<std::uint8_t> frl;           // per student: 1 if eligible for free/reduced-price lunch
  std::vector<float> self_regulation;      // per student: 0..1, how well he works alone
  std::vector<float> engagement;           // per student: 0..1, dynamic
  std::vector<float> attendance;           // per student: share of instructional time present
  std::vector<std::uint8_t> autonomy;      // per student: autonomy level earned (autonomy-level models)
  PerSubject<float> learning_rate;         // per subject, per student: units learned relative to median
  PerSubject<std::uint16_t> frontier;      // per subject, per student: unit being worked on
  PerSubject<std::uint16_t> gaps;          // per subject, per student: units below frontier not mastered
  PerSubject<std::uint64_t> recent_gaps;   // per subject, per student: bit k = unit frontier-1-k is a gap
  PerSubject<float> p_known;               // per subject, per student: BKT P(working unit known)
  PerSubject<std::uint16_t> fragile;       // per subject, per student: units learned but not yet consolidated
                                           // by later use (forgotten at forgetting_rate), in 1/256 units
  PerSubject<float> score;                 // per subject, per student: last measured RIT score
  PerSubject<float> group_target;          // per subject, per student: unit his small group is taught
  PerSubject<std::uint8_t> start_quintile; // per subject, per student: quintile of his first fall's true
                                           // score within grade (1..5; 0 before his first fall test)
  std::vector<std::uint8_t> ever_pl;       // per student: 1 once he has been enrolled in a PL school
  PerSubject<float> baseline_z;            // per subject, per student: national z of his first measured fall
                                           // score in the run (NaN before it): what an evaluator matches on

  std::size_t size() const { return id.size(); }

  // Calls f(name, column) for every column, per-subject ones as "math_frontier", "reading_frontier"...:
  // the one list of the columns, so that reserving, growing, permuting, views and checks never miss one.
  template <class F>
  void for_each_named_column(F&& f) {
    f("id", id), f("school", school), f("classroom", classroom), f("grade", grade), f("frl", frl);
    f("self_regulation", self_regulation), f("engagement", engagement), f("attendance", attendance);
    f("autonomy", autonomy), f("ever_pl", ever_pl);
    for (int s = 0; s < n_subjects; ++s) {
      const std::string p = std::string(subject_names[s]) + "_";
      f(p + "learning_rate", learning_rate[s]), f(p + "frontier", frontier[s]), f(p + "gaps", gaps[s]);
      f(p + "recent_gaps", recent_gaps[s]), f(p + "p_known", p_known[s]), f(p + "fragile", fragile[s]);
      f(p + "score", score[s]);
      f(p + "group_target", group_target[s]), f(p + "start_quintile", start_quintile[s]);
      f(p + "baseline_z", baseline_z[s]);
    }
  }
  template <class F>
  void for_each_named_column(F&& f) const {
    const_cast<StudentColumns*>(this)->for_each_named_column(
        [&](const std::string& name, const auto& column) { f(name, column); });
  }
  template <class F>
  void for_each_column(F&& f) {
    for_each_named_column([&](const std::string&, auto& column) { f(column); });
  }
  template <class F>
  void for_each_column(F&& f) const {
    for_each_named_column([&](const std::string&, const auto& column) { f(column); });
  }
};

// Student columns that Python processes may write (ctx.writable), with the values they may hold: a
// hook's writes are checked against these bounds (and for being finite) after it returns.
struct WritableColumn {
  const char* name;
  double lo, hi;
};
inline constexpr WritableColumn hook_writable_columns[] = {
    {"engagement", 0, 1},           {"self_regulation", 0, 1},      {"attendance", 0, 1},
    {"math_learning_rate", 0, 1e9}, {"reading_learning_rate", 0, 1e9}, {"math_p_known", 0, 1},
    {"reading_p_known", 0, 1},
    // Teachers (a process's coaching or selection): what experience then scales, each year and after
    // the hook (refresh_teacher_traits).
    {"teachers.value_added", 0, 1e9}, {"teachers.base_capacity", 0, 1.5},
    {"teachers.pl_skill", 0, 1}, {"teachers.buy_in", 0, 1}, {"teachers.burnout", 0, 1},
    // Schools (a process's support or a district's investment): conditions follow after the hook.
    {"schools.leadership", 0, 1}, {"schools.data_quality", 0, 1}, {"schools.obstacle_coverage", 0, 1},
    {"schools.obstacle_materials", 0, 1}, {"schools.obstacle_scheduling", 0, 1},
};

struct ClassroomColumns {
  std::vector<std::uint64_t> id;          // per classroom: stable identity (school, year, section)
  std::vector<std::uint32_t> begin, end;  // per classroom: student range
  std::vector<std::uint32_t> school;      // per classroom
  std::vector<std::uint32_t> teacher;     // per classroom: index into TeacherColumns
  std::vector<std::uint8_t> grade;        // per classroom
  PerSubject<float> pacing_unit;          // per subject, per classroom: pacing-guide unit this week
  std::vector<std::uint32_t> instructional_model;  // per classroom: its teacher's model (index)
  // Per subject, per classroom: sums of the measured fall and spring scores in national SD units (what
  // an evaluator of the pilots sees), over n_measured students measured in both tests.
  PerSubject<float> fall_z, spring_z;
  std::vector<std::uint32_t> n_measured;

  std::size_t size() const { return begin.size(); }

  // Calls f(name, column) for every column (checkpoints).
  template <class F>
  void for_each_named_column(F&& f) {
    f("id", id), f("begin", begin), f("end", end), f("school", school), f("teacher", teacher), f("grade", grade);
    f("instructional_model", instructional_model), f("n_measured", n_measured);
    for (int s = 0; s < n_subjects; ++s) {
      const std::string p = std::string(subject_names[s]) + "_";
      f(p + "pacing_unit", pacing_unit[s]), f(p + "fall_z", fall_z[s]), f(p + "spring_z", spring_z[s]);
    }
  }
};

struct TeacherColumns {
  std::vector<std::uint64_t> id;         // per teacher: stable identity, school << 32 | hiring serial in it
  std::vector<std::uint32_t> school;     // per teacher
  std::vector<std::uint8_t> active;      // per teacher: 1 while he teaches at his school, 0 once he has left
  std::vector<std::uint8_t> experience;  // per teacher: years of experience
  std::vector<float> value_added;        // per teacher: learning multiplier once experienced, median 1
  std::vector<float> base_capacity;      // per teacher: PL capacity once experienced
  std::vector<float> effectiveness;      // per teacher: learning multiplier now (value added x experience)
  std::vector<float> capacity;           // per teacher: PL capacity now, multiplies the school's fidelity
  std::vector<float> pl_skill;           // per teacher: skill at the model, 0..1 (1: established practitioner)
  std::vector<float> buy_in;             // per teacher: 0..1
  std::vector<float> burnout;            // per teacher: 0..1
  std::vector<std::uint8_t> practising;  // per teacher: 1 while he teaches his school's PL model
  std::vector<float> coached;            // per teacher: coaching dose this year, 0..1
  std::vector<float> prep_deficit;       // per teacher: share of the preparation his model needs he lacks
  std::vector<std::uint8_t> years_on_model;  // per teacher: years he has practised his school's model
  // per teacher: 1 if he decided at the end of this school year to leave; the year transition applies it
  // (a checkpoint taken at a year end carries the decisions of the year just ended).
  std::vector<std::uint8_t> leaving;

  std::size_t size() const { return school.size(); }

  // Calls f(name, column) for every column: the one list of them, for growing, views and hook checks.
  template <class F>
  void for_each_named_column(F&& f) {
    f("id", id), f("school", school), f("active", active), f("experience", experience);
    f("value_added", value_added), f("base_capacity", base_capacity), f("effectiveness", effectiveness);
    f("capacity", capacity), f("pl_skill", pl_skill), f("buy_in", buy_in), f("burnout", burnout);
    f("practising", practising), f("coached", coached), f("prep_deficit", prep_deficit);
    f("years_on_model", years_on_model), f("leaving", leaving);
  }
};

struct SchoolColumns {
  std::vector<std::uint32_t> id;              // per school: stable identity (order of the scenario)
  std::vector<std::uint32_t> district;        // per school: index into DistrictColumns
  std::vector<std::uint8_t> level;            // per school: Level
  std::vector<std::uint8_t> type;             // per school: SchoolType
  std::vector<std::uint8_t> grade_lo, grade_hi;
  std::vector<std::uint16_t> class_size;
  std::vector<std::uint32_t> instructional_model;  // per school: index into Model::instructional_models
  std::vector<std::uint32_t> grade_enrollment;  // per school: entry cohort size per grade
  std::vector<float> frl_share;
  std::vector<float> achievement_shift;       // per school: student-SD shift of new students
  std::vector<float> growth_multiplier;       // per school: effect on learning
  std::array<std::vector<float>, n_elements> fidelity;  // per element, per school: capacity to deliver 0..1
  std::vector<std::uint8_t> implementation_year;        // per school: 1 in the first year of its model
  std::vector<std::int32_t> feeder_next;      // per school: school receiving its leavers, or -1
  std::vector<std::uint32_t> begin, end;      // per school: student range
  std::vector<std::uint32_t> class_begin, class_end;  // per school: classroom range
  std::vector<std::uint32_t> teachers_hired;  // per school: teachers hired so far (the next one's serial)
  std::vector<std::uint32_t> first_entrant_id;  // per school: first student id of its entrants' block
  std::vector<std::uint32_t> entrants;          // per school: students who entered it after the first year
  // Scale-up (modules/schools, modules/rollout).
  std::vector<float> leadership;                // per school: principal's motivation and skill, 0..1
  std::vector<float> data_quality;              // per school: data system, 0..1 (feeds learner profiles)
  std::vector<float> obstacle_coverage;         // per school: pressure to cover material, 0..1
  std::vector<float> obstacle_materials;        // per school: lack of suitable materials, 0..1
  std::vector<float> obstacle_scheduling;       // per school: scheduling constraints, 0..1
  std::array<std::vector<float>, n_elements> conditions;  // per element, per school: capacity multiplier
  std::vector<std::uint8_t> pl_stage;           // per school: PlStage
  std::vector<std::uint8_t> adopted_in_run;     // per school: 1 if a rollout plan converted it (it may drop)
  std::vector<std::uint8_t> invented;           // per school: 1 if it designs its own model
  std::vector<std::uint8_t> converted_year;     // per school: 1-based year a plan converted it (0: never)
  std::vector<std::uint8_t> codified_year;      // per school: 1-based year its pilot went school-wide (0: never)
  std::vector<float> coached_share;             // per school: share of its practising teachers coached
  std::vector<std::uint8_t> coached_last_year;  // per school: whether it had coaching last year
  std::vector<float> delivered_fidelity;        // per school: mean delivered share in its PL classrooms (0: none)
  std::vector<double> rollout_priority;         // per school: order for a Python rollout rule (NaN: skip)

  std::size_t size() const { return district.size(); }

  // Calls f(name, column) for the columns Python hooks see (ctx.schools).
  template <class F>
  void for_each_named_column(F&& f) {
    f("id", id), f("district", district), f("level", level), f("type", type), f("frl_share", frl_share);
    f("instructional_model", instructional_model), f("implementation_year", implementation_year);
    f("leadership", leadership), f("data_quality", data_quality), f("obstacle_coverage", obstacle_coverage);
    f("obstacle_materials", obstacle_materials), f("obstacle_scheduling", obstacle_scheduling);
    f("pl_stage", pl_stage), f("adopted_in_run", adopted_in_run), f("invented", invented);
    f("converted_year", converted_year), f("codified_year", codified_year), f("coached_share", coached_share);
    f("delivered_fidelity", delivered_fidelity), f("begin", begin), f("end", end);
    f("rollout_priority", rollout_priority);
  }
  // Calls f(name, column) for every column, those hooks see and the others (checkpoints).
  template <class F>
  void for_each_stored_column(F&& f) {
    for_each_named_column(f);
    f("grade_lo", grade_lo), f("grade_hi", grade_hi), f("class_size", class_size);
    f("grade_enrollment", grade_enrollment), f("achievement_shift", achievement_shift);
    f("growth_multiplier", growth_multiplier), f("feeder_next", feeder_next), f("class_begin", class_begin);
    f("class_end", class_end), f("teachers_hired", teachers_hired), f("first_entrant_id", first_entrant_id);
    f("entrants", entrants), f("coached_last_year", coached_last_year);
    for (int e = 0; e < n_elements; ++e) {
      const std::string k = std::to_string(e);
      f("fidelity_" + k, fidelity[e]), f("conditions_" + k, conditions[e]);
    }
  }
};

// Per district: where its rollout plan stands, and what happened at this year's start.
struct DistrictRollout {
  bool gate_closed = false;     // a failed gate stopped the widening
  bool proven = false;          // a pilot passed the gate: a proven model is on the district's menu
  double gate_estimate = std::numeric_limits<double>::quiet_NaN();  // last measured pilot effect (SD)
  std::uint32_t gate_students = 0;
  std::uint32_t converted = 0, dropped = 0, codified = 0;  // this year
  std::uint32_t held_back = 0;         // this year: practitioners a ceiling kept traditional (assign_practice)
  std::uint32_t students_reached = 0;  // so far: students who first joined the PL cohort in the district
};

// Each year's school stages of the policy arm, shared with its counterfactual twin so the twin runs
// the same plan with no school converted (and knows which students were ever in a PL school).
using StageLog = std::vector<std::vector<std::uint8_t>>;

struct DistrictColumns {
  std::vector<std::uint32_t> id;           // per district: stable identity (order of the scenario)
  std::vector<std::string> name;           // per district
  std::vector<float> achievement_shift;    // per district: student-SD shift

  std::size_t size() const { return name.size(); }
};

struct State {
  StudentColumns students;
  ClassroomColumns classrooms;
  TeacherColumns teachers;
  SchoolColumns schools;
  DistrictColumns districts;
  // Schools on Python policies: weekly minutes per student and mode (n_students x n_modes), set
  // before learning by the policy_minutes stage and the plsim.Policy hooks.
  std::vector<double> python_policy_minutes;
  // Per instructional model (n_models x n_modes): the one row of minutes every student of the model has
  // this week, written by the Python side with the buffer above when a policy returns one row; NaN
  // (first entry) where the students' rows may differ. Lets learning skip reading the buffer. Not
  // part of checkpoints: restored runs start at NaN and read the buffer, which holds the same minutes.
  std::vector<double> python_policy_rows;
  std::vector<DistrictRollout> rollout;       // per district
  std::vector<DistrictFunding> funding;       // per district: what its money bought this year
  // Per district: tutoring's learning per minute this year, falling with the students its tutoring
  // programme serves (modules/learning; derived at each year's first week, not saved).
  std::vector<float> tutoring_quality;
  std::uint64_t students_reached = 0;         // distinct students ever enrolled in a school at a PL stage
  std::shared_ptr<StageLog> stage_log = std::make_shared<StageLog>();  // written by this run
  std::shared_ptr<const StageLog> stage_source;  // the policy arm's log, in a counterfactual twin
  // Student buffers replaced when the population outgrew them, kept alive because numpy views of
  // them may still exist (they then show the old data instead of freed memory).
  std::vector<std::shared_ptr<void>> retired_columns;
  double responses_share = 0;  // share of students whose practice is logged (modules/practice_log; 0: none)
  int year = 0;  // 0-based school year being simulated
  int week = 0;  // 0-based week within the year
};

// Forgetting a whole unit (summer, fragile knowledge): the most recently mastered unit in the window
// of recent units becomes a gap (a unit below the window only counts, having no bit).
inline void forget_latest_unit(std::uint64_t& recent_gaps, std::uint16_t& gaps, std::uint16_t frontier) {
  const int in_window = frontier < 64 ? frontier : 64;
  const std::uint64_t window = in_window >= 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << in_window) - 1;
  const std::uint64_t mastered = ~recent_gaps & window;
  if (mastered) recent_gaps |= mastered & (~mastered + 1);
  gaps++;
}

// Fragile knowledge is kept in 1/256 units (two bytes a student and subject, up to 256 units: far
// above a year's growth): to and from units.
inline constexpr float fragile_step = 1.0f / 256.0f;
inline float fragile_units(std::uint16_t stored) { return float(stored) * fragile_step; }
inline std::uint16_t fragile_stored(float units) {
  const float steps = units / fragile_step + 0.5f;
  return steps <= 0.0f ? std::uint16_t(0) : (steps >= 65535.0f ? std::uint16_t(65535) : std::uint16_t(steps));
}

// Position on the knowledge map of a student in one subject: units mastered plus P(current known).
inline double mastered_position(const StudentColumns& st, int s, std::size_t i) {
  return static_cast<double>(st.frontier[s][i]) - st.gaps[s][i] + st.p_known[s][i];
}

// Moves every student column to a buffer half as large again, keeping the old buffers alive in
// `retired_columns` because numpy views of them may still exist.
void grow_student_columns(State& state);
// Reorders (and shrinks to order.size()) every student column: column[i] = old column[order[i]].
// The buffers stay where they are, so views held by Python stay valid.
void permute_students(StudentColumns& students, const std::vector<std::uint32_t>& order);

}  // namespace plsim
