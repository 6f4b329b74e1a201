// The scratch of a run's week in the learning stage (modules/learning.cpp) and the helpers of its
// lanes. A run is a sequence of consecutive classrooms of the same instructional model, whose students
// are contiguous in the columns (one classroom where a classroom has max_class_size students). The
// week is computed in passes over the run's students, each a loop over lanes (one per student) of this
// scratch, so that the compiler vectorises them (docs/architecture.md, "Vectorised passes"); what
// differs between the run's classrooms (pace, rate, delivered fidelity, ...) is in lanes too, so a
// lane's arithmetic is the same whichever classrooms share its vector. The passes run over the
// students rounded up to whole vectors of eight floats, so that a loop has no scalar remainder. They
// read the scratch only: the columns are copied in first (stage_lanes) and written back after
// (write_back); the padding lanes are zeros (finite in every formula), and their results never leave
// the scratch.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "plsim/bit_counts.hpp"
#include "plsim/simd.hpp"
#include "plsim/state.hpp"
#include "plsim/types.hpp"

namespace plsim::lanes {

constexpr int max_class_size = 64;  // the scenario spec bounds class_size by this
constexpr std::uint32_t lane_block = 8;  // floats in an AVX2 vector (two SSE vectors)
constexpr int max_run_lanes = 128;      // students of a run: a few classrooms, the scratch within L2
static_assert(max_class_size % lane_block == 0 && max_run_lanes % lane_block == 0 && max_run_lanes >= max_class_size);
inline std::uint32_t padded_lanes(std::uint32_t n) { return (n + lane_block - 1) / lane_block * lane_block; }

// A lane array has room for a whole block of padding after the last student, so that padding is one
// fixed-size store (a loop up to the next multiple of eight becomes a call to memset).
template <class T>
using LaneArray = std::array<T, max_run_lanes + lane_block>;
using Lanes = LaneArray<float>;

// Zeros in the padding lanes [n, n + lane_block) of each array (those up to the padded count and more).
template <class... Arrays>
inline void pad_lanes(std::uint32_t n, Arrays&... arrays) {
  (std::fill_n(arrays.data() + n, lane_block, typename Arrays::value_type(0)), ...);
}

// Eight lanes of one column into another, converting each element, as one vector (GCC's vector
// extensions).
template <class To, class From>
inline void copy_block(To* to, const From* from) {
  typedef From FromVector __attribute__((vector_size(lane_block * sizeof(From))));
  typedef To ToVector __attribute__((vector_size(lane_block * sizeof(To))));
  FromVector v;
  std::memcpy(&v, from, sizeof v);
  ToVector w;
  if constexpr (sizeof(From) == 1 && sizeof(To) > 2) {  // GCC 12 widens bytes to 32 bits one at a time
    typedef std::uint16_t HalfVector __attribute__((vector_size(lane_block * 2)));
    w = __builtin_convertvector(__builtin_convertvector(v, HalfVector), ToVector);
  } else {
    w = __builtin_convertvector(v, ToVector);
  }
  std::memcpy(to, &w, sizeof w);
}

// Copies the lanes [0, n) of columns into others: columns(copy) calls copy(to, from) for each pair of
// columns. Eight lanes at a time, each column's as one vector: blocks of eight from 0, then the last
// eight, which overlap those before them when n is not a multiple of eight (their lanes are copied
// twice). Copies in and out of the scratch cannot run over padding lanes, which are other classrooms'
// students or past the columns. A loop over the lanes to a run-time bound was vectorised sixteen lanes
// at a time for the byte and 16-bit columns, which left every block of eight to its scalar remainder.
// Fewer than eight students: one at a time.
template <class Columns>
inline void copy_columns(std::uint32_t n, Columns&& columns) {
  if (n < lane_block) {
    columns([n](auto* to, const auto* from) {
      for (std::uint32_t q = 0; q < n; ++q) to[q] = static_cast<std::remove_reference_t<decltype(*to)>>(from[q]);
    });
    return;
  }
  const auto blocks_at = [&](std::uint32_t lo) {
    columns([lo](auto* to, const auto* from) { copy_block(to + lo, from + lo); });
  };
  std::uint32_t lo = 0;
  for (; lo + lane_block <= n; lo += lane_block) blocks_at(lo);
  if (lo < n) blocks_at(n - lane_block);
}

struct RunLanes {
  std::array<std::array<std::uint32_t, max_run_lanes>, 4> words;  // one Philox block per student
  LaneArray<std::uint32_t> ids;                                    // the students' ids
  // The student columns of each subject, copied in (stage_lanes) and written back at the end of the
  // subject (write_back): frontier and gaps (32-bit, kept within 16 bits as the columns would),
  // recent gaps, P(known) (after the week's learning, the value progression leaves), fragile knowledge;
  // read only: learning rate, small-group target.
  std::array<LaneArray<std::int32_t>, n_subjects> front, gap_count;
  std::array<LaneArray<std::uint64_t>, n_subjects> recent;
  std::array<Lanes, n_subjects> known, learning_rate, group_target;
  std::array<LaneArray<std::uint16_t>, n_subjects> fragile;
  LaneArray<std::int32_t> frl;  // and the students' FRL status, engagement (written back), attendance, self-regulation
  Lanes engagement, attendance, self_regulation;
  // What each student is offered this week: the weight of whole-class and collaborative time (taught
  // at the pacing unit), tutoring, small group, the software time that counts, and all of it; the shares
  // of time that move engagement; his choice.
  Lanes w_class, w_tutoring, w_small, software_use, offered;
  Lanes collaborative, contact, software_share, choice;
  Lanes student;  // multiplier of the class's rate: FRL, engagement, attendance
  // The student's draws of the week, per subject: the software's estimate error (standard normal),
  // gap repair, hold and on-demand test (uniform). Unused draws keep values that never fire.
  std::array<Lanes, n_subjects> software_noise, repair_draw, hold_draw, test_draw, forget_draw;
  std::array<Lanes, n_subjects> prerequisite_gaps;  // gaps in the prerequisite window
  std::array<Lanes, n_subjects> reviewed_gaps;      // those of them below the class's pacing unit, plus old ones
  std::array<Lanes, n_subjects> old_reviewed;       // the weighted gaps older than the window among them
  std::array<LaneArray<std::uint64_t>, n_subjects> reviewed;  // their bits
  // The window's gaps and the reviewed ones as integers, and whether the oldest unit of each is a gap.
  std::array<LaneArray<std::int32_t>, n_subjects> window_gaps, window_oldest, reviewed_count, reviewed_oldest;
  std::array<Lanes, n_subjects> targeted_chance;     // chance that targeted time repairs a gap
  std::array<Lanes, n_subjects> p, repair_chance;    // P(known) after the week's learning, chance to repair a gap
  std::array<Lanes, n_subjects> position;            // mastered position before the week (units)
  std::array<Lanes, n_subjects> carry;               // e^-(hazard left over after mastering the working unit)
  Lanes match_sum;                                    // how well the week matched him, summed over subjects
  LaneArray<std::int32_t> move;   // a subject's progression: 0 stays, 1 mastered, 2 gap
  LaneArray<std::int32_t> again;  // 1: the hazard left over masters the next unit too
  // Each student's classroom's constants of the week (ClassroomWeek): pacing unit (and as an integer),
  // class learn rate, learning paths' match, the software's error, competency progression's test
  // availability and hold chance, the tests' slip and guess, check-ins' lift of software time, the
  // routine's and tutoring's efficiencies, the engagement target's base and check-ins.
  std::array<Lanes, n_subjects> pace, rate;
  std::array<LaneArray<std::int32_t>, n_subjects> pace_unit;
  Lanes matched, software_error, f_progression, hold, slip, guess, check_in_lift, routine, tutoring;
  Lanes engagement_base, check_in;
};

// Copies the columns the passes read into the scratch, zeros in the padding lanes.
inline void stage_lanes(const StudentColumns& st, std::uint32_t b, std::uint32_t n, RunLanes& x) {
  const std::uint32_t* id = st.id.data() + b;
  const std::uint8_t* frl = st.frl.data() + b;
  const float* engagement = st.engagement.data() + b;
  const float* attendance = st.attendance.data() + b;
  const float* self_regulation = st.self_regulation.data() + b;
  copy_columns(n, [&](auto&& copy) {
    copy(x.ids.data(), id), copy(x.frl.data(), frl), copy(x.engagement.data(), engagement);
    copy(x.attendance.data(), attendance), copy(x.self_regulation.data(), self_regulation);
  });
  pad_lanes(n, x.ids, x.frl, x.engagement, x.attendance, x.self_regulation);
  for (int s = 0; s < n_subjects; ++s) {
    const std::uint16_t* frontier = st.frontier[s].data() + b;
    const std::uint16_t* gaps = st.gaps[s].data() + b;
    const std::uint16_t* fragile = st.fragile[s].data() + b;
    const std::uint64_t* recent = st.recent_gaps[s].data() + b;
    const float* p_known = st.p_known[s].data() + b;
    const float* learning_rate = st.learning_rate[s].data() + b;
    const float* group_target = st.group_target[s].data() + b;
    copy_columns(n, [&](auto&& copy) {
      copy(x.front[s].data(), frontier), copy(x.gap_count[s].data(), gaps), copy(x.fragile[s].data(), fragile);
      copy(x.recent[s].data(), recent), copy(x.known[s].data(), p_known);
      copy(x.learning_rate[s].data(), learning_rate), copy(x.group_target[s].data(), group_target);
    });
    pad_lanes(n, x.front[s], x.gap_count[s], x.recent[s], x.fragile[s], x.known[s], x.learning_rate[s],
              x.group_target[s]);
  }
}

// The subject's columns from the scratch, once its passes are done (frontier and gaps kept within 16
// bits by the passes: the conversion keeps their low bits, as a cast would).
inline void write_back(StudentColumns& st, int s, std::uint32_t b, std::uint32_t n, const RunLanes& x) {
  std::uint16_t* frontier = st.frontier[s].data() + b;
  std::uint16_t* gaps = st.gaps[s].data() + b;
  std::uint16_t* fragile = st.fragile[s].data() + b;
  std::uint64_t* recent = st.recent_gaps[s].data() + b;
  float* p_known = st.p_known[s].data() + b;
  copy_columns(n, [&](auto&& copy) {
    copy(frontier, x.front[s].data()), copy(gaps, x.gap_count[s].data()), copy(recent, x.recent[s].data());
    copy(p_known, x.known[s].data()), copy(fragile, x.fragile[s].data());
  });
}

}  // namespace plsim::lanes
