// Small enumerations shared by every part of the engine: subjects, seasons, school levels,
// instruction modes and progression rules, with their canonical names for scenarios and outputs.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace plsim {

// The immutable model of a run and its mutable state (model.hpp, state.hpp), declared here for the
// module headers, whose functions take them by reference.
struct Model;
struct State;

enum class Subject : std::uint8_t { math = 0, reading = 1 };
inline constexpr int n_subjects = 2;
inline constexpr std::array<const char*, n_subjects> subject_names{"math", "reading"};

enum class Season : std::uint8_t { fall = 0, winter = 1, spring = 2 };
inline constexpr int n_seasons = 3;
inline constexpr std::array<const char*, n_seasons> season_names{"fall", "winter", "spring"};

// Grades run from kindergarten (0) to 12.
inline constexpr int n_grades = 13;

enum class Level : std::uint8_t { elementary = 0, middle = 1, high = 2 };
inline constexpr int n_levels = 3;
inline constexpr std::array<const char*, n_levels> level_names{"elementary", "middle", "high"};

// Instruction modes: how a student's weekly minutes are spent.
enum class Mode : std::uint8_t {
  whole_class = 0,        // teacher teaches the class's pacing-guide unit
  small_group = 1,        // teacher with a group formed from measured level
  adaptive_software = 2,  // software on its estimate of the student's frontier
  collaborative = 3,      // peer and project work at the class unit
  tutoring = 4,           // one-to-one at the student's own frontier
};
inline constexpr int n_modes = 5;
inline constexpr std::array<const char*, n_modes> mode_names{
    "whole_class", "small_group", "adaptive_software", "collaborative", "tutoring"};

// The four elements of personalized learning; schools and teachers deliver each with a fidelity 0..1.
enum class Element : std::uint8_t {
  learner_profiles = 0,        // how accurately and how often teacher and software know each frontier
  learning_paths = 1,          // share of targeted time really on the student's own material, and choice
  competency_progression = 2,  // advance on demonstrated mastery, with on-demand assessment
  flexible_environment = 3,    // regrouping, use of space and time, check-ins
};
inline constexpr int n_elements = 4;
inline constexpr std::array<const char*, n_elements> element_names{
    "learner_profiles", "learning_paths", "competency_progression", "flexible_environment"};

// How a student moves from one unit of the knowledge map to the next.
enum class Progression : std::uint8_t {
  seat_time = 0,  // the class moves on with the pacing guide; unmastered units become gaps
  mastery = 1,    // a student moves on only when he has mastered the unit
};
inline constexpr std::array<const char*, 2> progression_names{"seat_time", "mastery"};

// Index of `name` in a table of names, or -1.
template <std::size_t N>
int index_of(const std::array<const char*, N>& names, const std::string& name) {
  for (std::size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace plsim
