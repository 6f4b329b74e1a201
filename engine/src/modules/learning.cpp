#include "plsim/modules/learning.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <tbb/parallel_for.h>

#include "plsim/model.hpp"
#include "plsim/rng.hpp"
#include "plsim/state.hpp"

namespace plsim {

namespace {
constexpr int max_class_size = 64;  // the scenario spec bounds class_size by this

// Small-group target unit of each student of a classroom, per subject, re-formed at each regrouping:
// students are ranked by the teacher's estimate of their frontier (true frontier plus placement
// error) and split into groups taught at their group's mean estimate. Between regroupings the groups
// keep their target (students.group_target).
using ClassArray = std::array<float, max_class_size>;

void regroup(State& state, const Model& model, int small_groups, float error, std::uint32_t b, std::uint32_t e,
             const WeekContext& week) {
  StudentColumns& st = state.students;
  const Rng rng(model.seed);
  const int n = static_cast<int>(e - b);
  std::array<ClassArray, n_subjects> estimate;
  for (int q = 0; q < n; ++q) {
    const auto w = rng.words(Stream::weekly_learning, st.id[b + q], week.tick(), 2);
    const auto noise = standard_normal_pair(w[0], w[1]);
    for (int s = 0; s < n_subjects; ++s) estimate[s][q] = st.frontier[s][b + q] + error * noise[s];
  }
  const int groups = std::min(small_groups, n);
  std::array<int, max_class_size> order;
  for (int s = 0; s < n_subjects; ++s) {
    const ClassArray& est = estimate[s];
    for (int q = 0; q < n; ++q) order[q] = q;
    std::sort(order.begin(), order.begin() + n,
              [&](int a, int c) { return est[a] < est[c] || (est[a] == est[c] && a < c); });
    for (int gi = 0; gi < groups; ++gi) {
      const int lo = gi * n / groups, hi = (gi + 1) * n / groups;
      float sum = 0;
      for (int q = lo; q < hi; ++q) sum += est[order[q]];
      for (int q = lo; q < hi; ++q) st.group_target[s][b + order[q]] = sum / float(hi - lo);
    }
  }
}

// What a classroom delivers of its instructional model this week, and the constants of its student loop.
// All of a week's learning depends on the school's and the teacher's delivery only through these
// figures, so they are derived once per classroom and week and the student loop only reads them.
struct ClassroomWeek {
  const InstructionPlan& plan;
  const MismatchKernel& kernel;
  std::uint64_t window_mask;
  float matched;         // learning paths: share of targeted time on the student's own level
  float f_progression;   // competency progression: chance an on-demand test is available
  float hold;            // chance a student behind the pace stays at his unit (mastery progression)
  float check_in;        // teacher check-ins during software time, as far as delivered
  float noise;           // open-space noise the flexible environment does not remove
  int regroup_weeks;     // small groups and autonomy levels are reviewed this often
  float guess, slip;     // of on-demand tests: poorer learner profiles make tests less reliable
  float group_error;     // units: the teacher's error placing a student in a small group
  float software_error;  // units: the software's error on a student's frontier
  std::array<float, n_subjects> pace, rate, software_subject;
  float inv_engagement, frl_mult, gap_penalty, prior, absorption, threshold, test_threshold, slack, sr_floor;
  float check_in_lift;   // share of the self-regulation shortfall of software time that check-ins recover
  float repair_share, repair_per_hazard;
  bool second_draw;      // holds or tests need the student's second draw of the week
  float engagement_base, engagement_rate;
  int top_level;
  bool level_review;

  ClassroomWeek(const State& state, const Model& model, const InstructionPlan& plan, const MismatchKernel& kernel,
                std::uint64_t window_mask, std::uint32_t c, const WeekContext& week);
};

// Delivered fidelity of each PL element: 1 where the model asks nothing, else what it asks scaled by the
// school's capacity under its conditions and the teacher's capacity, lower in the first implementation years. Demanding models are
// thus delivered in full only by capable schools and teachers, and never in their first years.
inline std::array<float, n_elements> delivered_fidelity(const State& state, const PersonalizationParameters& P,
                                                        const InstructionPlan& plan, std::uint32_t school,
                                                        std::uint32_t teacher) {
  const int year = std::clamp<int>(state.schools.implementation_year[school], 1, 3);
  std::array<float, n_elements> fidelity;
  for (int k = 0; k < n_elements; ++k) {
    const float capacity = state.schools.fidelity[k][school] * state.schools.conditions[k][school] *
                           state.teachers.capacity[teacher] * static_cast<float>(P.implementation_year_fidelity[year - 1]);
    fidelity[k] = 1.0f - plan.asks[k] * (1.0f - std::min(1.0f, capacity));
  }
  return fidelity;
}

}  // namespace

double delivered_share(const Model& model, const State& state, std::uint32_t c) {
  const InstructionalModel& m = model.instructional_models[state.classrooms.instructional_model[c]];
  const std::uint32_t school = state.classrooms.school[c];
  const int year = std::clamp<int>(state.schools.implementation_year[school], 1, 3);
  double asked = 0, delivered = 0;
  for (int k = 0; k < n_elements; ++k) {
    const double capacity = double(state.schools.fidelity[k][school]) * state.schools.conditions[k][school] *
                            state.teachers.capacity[state.classrooms.teacher[c]] *
                            model.params.personalization.implementation_year_fidelity[year - 1];
    asked += m.asks[k];
    delivered += m.asks[k] * std::min(1.0, capacity);
  }
  return asked > 0 ? delivered / asked : 1.0;
}

namespace {

// Each element acts through its own mechanisms (docs/model.md): learner profiles through estimate errors
// and test reliability, learning paths through the match of targeted time, competency progression
// through holds and tests, the flexible environment through regrouping, check-ins and noise.
inline ClassroomWeek::ClassroomWeek(const State& state, const Model& model, const InstructionPlan& plan,
                                    const MismatchKernel& kernel, std::uint64_t window_mask, std::uint32_t c,
                                    const WeekContext& week)
    : plan(plan), kernel(kernel), window_mask(window_mask) {
  const LearningParameters& L = model.params.learning;
  const PersonalizationParameters& P = model.params.personalization;
  const ClassroomColumns& cl = state.classrooms;
  const std::uint32_t school = cl.school[c];
  const std::uint32_t teacher = cl.teacher[c];
  const int grade = cl.grade[c];
  std::array<float, n_elements> fidelity = delivered_fidelity(state, P, plan, school, teacher);
  const float f_profiles = fidelity[int(Element::learner_profiles)];
  const float f_flexible = fidelity[int(Element::flexible_environment)];

  matched = fidelity[int(Element::learning_paths)];
  f_progression = fidelity[int(Element::competency_progression)];
  hold = plan.progression == Progression::mastery ? f_progression : 0.0f;
  const float profile_error = 1.0f + static_cast<float>(P.estimate_error_scale) * (1.0f - f_profiles);
  check_in = plan.check_ins * f_flexible;
  noise = plan.open_space * (1.0f - static_cast<float>(P.open_space_noise_reduction) * f_flexible);
  const float quiet = 1.0f - static_cast<float>(P.noise_penalty) * noise;
  // Every mode beyond the first costs transitions and management, recovered as far as the flexible
  // environment is delivered; one mode (traditional) costs nothing.
  const float managed = plan.modes_used > 1 ? 1.0f - static_cast<float>(P.transition_overhead) *
                                                         float(plan.modes_used - 1) * (1.0f - f_flexible)
                                            : 1.0f;
  regroup_weeks = std::max(1, static_cast<int>(std::lround(plan.regroup_weeks * (2.0f - f_flexible))));
  guess = std::min(0.5f, static_cast<float>(P.test_guess) * (2.0f - f_profiles));
  slip = std::min(0.5f, static_cast<float>(P.test_slip) * (2.0f - f_profiles));
  group_error = static_cast<float>(L.small_group_estimate_error) * profile_error;

  const float class_rate = static_cast<float>(L.learn_rate) * state.teachers.effectiveness[teacher] *
                           state.schools.growth_multiplier[school] * quiet * managed;
  for (int s = 0; s < n_subjects; ++s) {
    pace[s] = cl.pacing_unit[s][c];
    rate[s] = class_rate * static_cast<float>(L.grade_pace[s][grade]);
    software_subject[s] = static_cast<float>(L.software_subject_efficiency[s]);
  }

  inv_engagement = static_cast<float>(1.0 / L.engagement_baseline);
  frl_mult = static_cast<float>(L.frl_learning_multiplier);
  gap_penalty = static_cast<float>(L.gap_penalty / L.prerequisite_window);
  prior = static_cast<float>(L.prior);
  absorption = static_cast<float>(L.absorption_limit);
  threshold = static_cast<float>(L.mastery_threshold);
  test_threshold = static_cast<float>(P.test_out_threshold);
  slack = static_cast<float>(L.seat_time_slack);
  sr_floor = static_cast<float>(L.self_regulation_floor);
  check_in_lift = check_in * static_cast<float>(P.check_in_recovery) * (1 - sr_floor);
  repair_share = plan.targeted ? static_cast<float>(L.gap_repair_share) : 0.0f;
  // A gap costs the learning hazard of a new unit (prior to mastery threshold) divided by the ease.
  repair_per_hazard =
      static_cast<float>(L.gap_repair_ease / std::log((1.0 - L.prior) / (1.0 - L.mastery_threshold)));
  software_error = static_cast<float>(L.software_estimate_error) * profile_error;
  second_draw = plan.test_out || hold > 0;
  engagement_base = static_cast<float>(L.engagement_baseline) - static_cast<float>(P.engagement_noise) * noise;
  engagement_rate = static_cast<float>(L.engagement_rate);
  top_level = std::max(1, plan.autonomy_levels - 1);
  level_review = plan.autonomy_levels >= 2 && week.week > 0 && week.week % regroup_weeks == 0;
}

// What one student is offered this week: the weight of each mode, the shares of time that move his
// engagement, and his choice.
struct StudentModes {
  ModeWeights w;
  TimeShares shares;
  float choice;
  float w_class;  // whole-class and collaborative time: taught at the class's pacing unit
};

// Python policies mostly give whole classes the same minutes: a row is converted only when it differs
// from the previous student's.
struct PolicyRows {
  std::array<double, n_modes> row;
  ModeWeights weights{};
  TimeShares shares{};
  PolicyRows() { row.fill(-1.0); }  // no row yet: the first student converts his
};

// The model's minutes, moved toward its top level's as far as the student has earned autonomy, or the
// minutes a Python policy set for him this week. Choice is only real where learning paths let students
// work on what they chose.
inline StudentModes student_modes(const ClassroomWeek& cw, const State& state, std::uint32_t i, PolicyRows& policy,
                                  const LearningParameters& L) {
  const InstructionPlan& plan = cw.plan;
  StudentModes m{plan.weight, plan.shares, plan.choice, 0.0f};
  if (plan.python_policy) {
    const double* row = state.python_policy_minutes.data() + std::size_t(i) * n_modes;
    if (!std::equal(row, row + n_modes, policy.row.begin())) {
      std::copy(row, row + n_modes, policy.row.begin());
      policy.weights = mode_weights(policy.row, L);
      policy.shares = time_shares(policy.row);
    }
    m.w = policy.weights;
    m.shares = policy.shares;
  } else if (plan.autonomy_levels >= 2) {
    const float t = static_cast<float>(state.students.autonomy[i]) / static_cast<float>(cw.top_level);
    for (int k = 0; k < n_modes; ++k) m.w[k] += t * (plan.top_weight[k] - m.w[k]);
    m.shares.collaborative += t * (plan.top_shares.collaborative - m.shares.collaborative);
    m.shares.contact += t * (plan.top_shares.contact - m.shares.contact);
    m.shares.software += t * (plan.top_shares.software - m.shares.software);
    m.choice *= t;
  }
  m.choice *= cw.matched;
  m.w_class = m.w[int(Mode::whole_class)] + m.w[int(Mode::collaborative)];
  return m;
}

// The student's random numbers of the week, one Philox block per use (stream weekly_learning, his id,
// the week, a slot): slot 0 for the software's estimate errors and gap repair, slot 1 for holds and
// on-demand tests, slot 2 is regroup's. Each block is drawn only when the model can use it; unused
// draws keep values that never fire.
struct StudentDraws {
  std::array<float, n_subjects> software_noise{0.0f, 0.0f}, repair{1.0f, 1.0f}, hold{1.0f, 1.0f}, test{1.0f, 1.0f};
};

inline StudentDraws student_draws(const ClassroomWeek& cw, const Rng& rng, const StudentColumns& st, std::uint32_t i,
                                  const WeekContext& week) {
  StudentDraws d;
  if (cw.plan.targeted) {
    const auto r = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 0);
    d.software_noise = standard_normal_pair(r[0], r[1]);
    d.repair = {static_cast<float>(uniform01(r[2])), static_cast<float>(uniform01(r[3]))};
  }
  if (cw.second_draw) {
    const auto r = rng.words(Stream::weekly_learning, st.id[i], week.tick(), 1);
    d.hold = {static_cast<float>(uniform01(r[0])), static_cast<float>(uniform01(r[1]))};
    d.test = {static_cast<float>(uniform01(r[2])), static_cast<float>(uniform01(r[3]))};
  }
  return d;
}

// How much of what is offered reaches the student, the same in both subjects.
struct Uptake {
  float student;       // multiplier of the class's rate: FRL, engagement, attendance
  float sr;            // self-regulation
  float software_use;  // weight of software time that counts
  float offered;       // all the weight offered, over which the match of his week is averaged
};

// Self-paced software counts only as far as the student works alone, and check-ins recover part of the
// shortfall; engaged students who attend learn more of everything.
inline Uptake student_uptake(const ClassroomWeek& cw, const StudentModes& m, const StudentColumns& st,
                             std::uint32_t i) {
  const ModeWeights& w = m.w;
  const float student = (st.frl[i] ? cw.frl_mult : 1.0f) * st.engagement[i] * cw.inv_engagement * st.attendance[i];
  const float sr = st.self_regulation[i];
  const float software_use =
      w[int(Mode::adaptive_software)] * (cw.sr_floor + (1 - cw.sr_floor) * sr + cw.check_in_lift * (1 - sr));
  const float offered = m.w_class + w[int(Mode::tutoring)] + w[int(Mode::small_group)] + software_use;
  return {student, sr, software_use, offered};
}

// How well the week's time matches the student in one subject. `fit` is how well each kind of time
// matches him (for engagement); `targeted` also counts how much it teaches (reading software teaches less).
struct Teaching {
  float at_class, targeted, fit;
};

// Whole-class time is at the pacing unit. Targeted time hits the student's own level as far as learning
// paths are delivered, else the class's: the small group at its estimate of him, the software at its own.
inline Teaching teaching(const ClassroomWeek& cw, const StudentModes& m, const Uptake& u, const StudentDraws& d,
                         const StudentColumns& st, int s, std::uint32_t i, float f) {
  const ModeWeights& w = m.w;
  const float at_class = cw.kernel(f - cw.pace[s]);
  float targeted = w[int(Mode::tutoring)], fit = w[int(Mode::tutoring)];
  if (w[int(Mode::small_group)] > 0) {
    const float k = cw.matched * cw.kernel(f - st.group_target[s][i]) + (1 - cw.matched) * at_class;
    targeted += w[int(Mode::small_group)] * k;
    fit += w[int(Mode::small_group)] * k;
  }
  if (u.software_use > 0) {
    const float k = cw.matched * cw.kernel(-cw.software_error * d.software_noise[s]) + (1 - cw.matched) * at_class;
    targeted += u.software_use * cw.software_subject[s] * k;
    fit += u.software_use * k;
  }
  return {at_class, targeted, fit};
}

// Whether the student leaves his unit this week, and whether he leaves a gap behind.
enum class Move : std::uint8_t { stay, mastered, gap };

// Mastery always moves a student on. Below it, an on-demand test or the pacing guide may: the test only
// as far as competency progression is delivered, seat time only where the student is not held.
inline Move progression(const ClassroomWeek& cw, const StudentDraws& d, int s, float p, float f) {
  if (p >= cw.threshold) return Move::mastered;
  if (cw.plan.test_out && p >= cw.test_threshold && d.hold[s] < cw.f_progression) {
    // Pass when known and no slip, or by a guess (the unit then becomes a gap). The draw that decides
    // whether a test is available is the one that decides holds below: the two branches exclude each other.
    const float pass_known = p * (1 - cw.slip);
    if (!(d.test[s] < pass_known + (1 - p) * cw.guess)) return Move::stay;
    return d.test[s] >= pass_known ? Move::gap : Move::mastered;
  }
  // The class has moved on and the student is not held at his unit: passed without mastery.
  if (f + cw.slack < cw.pace[s] && d.hold[s] >= cw.hold) return Move::gap;
  return Move::stay;
}

// Targeted time spends its repair share on recent gaps; relearning one is easier than a new unit.
inline void repair_gap(const ClassroomWeek& cw, float draw, float repair, float targeted, float student_rate,
                       std::uint64_t& recent, StudentColumns& st, int s, std::uint32_t i) {
  if (repair > 0 && recent != 0 && draw < 1.0f - std::exp(-targeted * repair * student_rate * cw.repair_per_hazard)) {
    recent &= recent - 1;  // relearn the most recent gap (lowest set bit of the window)
    st.gaps[s][i]--;
  }
}

// One subject's week for one student: BKT learning on his working unit with a hazard that saturates
// (diminishing returns within a week) and falls with mismatch and prerequisite gaps; then progression
// and gap repair. Adds how well the week matched him in this subject to match_sum, for his engagement
// (there rather than returned, so that the sum is kept in a register across the calls to exp).
inline void learn_subject(const ClassroomWeek& cw, const StudentModes& m, const Uptake& u, const StudentDraws& d,
                          StudentColumns& st, int s, std::uint32_t i, float& match_sum) {
  std::uint16_t& frontier = st.frontier[s][i];
  std::uint64_t& recent = st.recent_gaps[s][i];
  const float f = frontier;
  const std::uint64_t prerequisite_gaps = recent & cw.window_mask;
  const float student_rate = cw.rate[s] * st.learning_rate[s][i] * u.student;
  const float gap_factor = 1.0f - cw.gap_penalty * static_cast<float>(std::popcount(prerequisite_gaps));

  Teaching t = teaching(cw, m, u, d, st, s, i, f);
  match_sum += u.offered > 0 ? (m.w_class * t.at_class + t.fit) / u.offered : 0.0f;
  const float repair = prerequisite_gaps ? cw.repair_share : 0.0f;
  const float offered_hazard = (m.w_class * t.at_class + t.targeted * (1 - repair)) * student_rate * gap_factor;
  const float hazard = offered_hazard * cw.absorption / (cw.absorption + offered_hazard);

  float p = 1.0f - (1.0f - st.p_known[s][i]) * std::exp(-hazard);
  const Move move = progression(cw, d, s, p, f);
  if (move != Move::stay && frontier < 65535) {
    const bool as_gap = move == Move::gap;
    frontier++;
    recent = (recent << 1) | (as_gap ? 1u : 0u);
    if (as_gap) st.gaps[s][i]++;
    // Moving on never changes what a student knows: a unit passed without mastery becomes a gap, and
    // his partial knowledge carries to the next unit; a mastered unit's successor starts at the prior.
    if (!as_gap) p = cw.prior;
  }
  st.p_known[s][i] = p;

  repair_gap(cw, d.repair[s], repair, t.targeted, student_rate, recent, st, s, i);
}

// Engagement moves toward a target set by collaboration, choice, teacher contact, how well what is
// taught matches the student, and noise; part of the way each week, so that it reflects the weeks
// before as well as this one.
inline void update_engagement(const ClassroomWeek& cw, const StudentModes& m, const LearningParameters& L,
                              const PersonalizationParameters& P, float match_sum, float& engagement) {
  const float match = match_sum / n_subjects;
  const float target = cw.engagement_base +
                       static_cast<float>(L.engagement_collaborative_bonus) * m.shares.collaborative +
                       static_cast<float>(P.engagement_choice) * m.choice +
                       static_cast<float>(P.engagement_contact) * (m.shares.contact + cw.check_in * m.shares.software) -
                       static_cast<float>(P.engagement_mismatch) * (1.0f - match);
  engagement = std::clamp(engagement + cw.engagement_rate * (target - engagement), 0.0f, 1.0f);
}

// Students earn autonomy with engagement and self-regulation, and lose it when disengaged; each level
// asks for more self-regulation, since it comes with more self-paced time. The margin below the
// threshold keeps a student near it from moving up and down at every review.
inline void review_autonomy(const PersonalizationParameters& P, int top_level, float sr, float engagement,
                            std::uint8_t& autonomy) {
  const float needed = static_cast<float>(P.autonomy_self_regulation_base) +
                       static_cast<float>(P.autonomy_self_regulation_step) * autonomy;
  if (engagement >= P.autonomy_engagement && sr >= needed && autonomy < top_level)
    autonomy++;
  else if (engagement < P.autonomy_engagement - P.autonomy_demotion_margin && autonomy > 0)
    autonomy--;
}

// The pacing guide moves on at a fixed rate whatever the students learned: it is what seat time
// measures them against.
inline void advance_pacing(ClassroomColumns& cl, std::uint32_t c, const std::array<float, n_subjects>& pace,
                           const GradeTable& per_week) {
  for (int s = 0; s < n_subjects; ++s) cl.pacing_unit[s][c] = pace[s] + static_cast<float>(per_week[s][cl.grade[c]]);
}

}  // namespace

LearningProcess::LearningProcess(const Model& model)
    : model_(model),
      plans_(make_plans(model)),
      kernel_(model.params.learning),
      window_mask_(model.params.learning.prerequisite_window >= 64
                       ? ~std::uint64_t(0)
                       : (std::uint64_t(1) << model.params.learning.prerequisite_window) - 1) {}

void LearningProcess::run_week(State& state, const WeekContext& week) const {
  tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, static_cast<std::uint32_t>(state.classrooms.size()), 8),
                    [&](const tbb::blocked_range<std::uint32_t>& range) {
                      for (std::uint32_t c = range.begin(); c != range.end(); ++c) run_classroom(state, c, week);
                    });
}

void LearningProcess::run_classroom(State& state, std::uint32_t c, const WeekContext& week) const {
  const LearningParameters& L = model_.params.learning;
  const PersonalizationParameters& P = model_.params.personalization;
  StudentColumns& st = state.students;
  const std::uint32_t b = state.classrooms.begin[c], e = state.classrooms.end[c];
  const Rng rng(model_.seed);
  // The steps' structs are not const: GCC keeps a const aggregate that a constructor or an inlined call
  // fills in memory instead of registers, which costs the weekly loop a few percent.
  ClassroomWeek cw(state, model_, plans_[state.classrooms.instructional_model[c]], kernel_, window_mask_, c,
                   week);
  if (cw.plan.uses_small_groups && week.week % cw.regroup_weeks == 0)
    regroup(state, model_, cw.plan.small_groups, cw.group_error, b, e, week);

  PolicyRows policy;
  for (std::uint32_t i = b; i < e; ++i) {
    StudentDraws draws = student_draws(cw, rng, st, i, week);
    StudentModes modes = student_modes(cw, state, i, policy, L);
    Uptake uptake = student_uptake(cw, modes, st, i);
    float match_sum = 0;
    for (int s = 0; s < n_subjects; ++s) learn_subject(cw, modes, uptake, draws, st, s, i, match_sum);
    update_engagement(cw, modes, L, P, match_sum, st.engagement[i]);
    if (cw.level_review) review_autonomy(P, cw.top_level, uptake.sr, st.engagement[i], st.autonomy[i]);
  }
  advance_pacing(state.classrooms, c, cw.pace, model_.pacing_per_week);
}

}  // namespace plsim
