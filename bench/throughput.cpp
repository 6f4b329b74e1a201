// plsim_bench: how fast and how small a run is. Student-weeks per second at each thread count (the
// engine's own clock of the simulation loop), population set-up time, bytes per student (resident, in a
// fresh child process, and summed over the state's columns), and a determinism check across runs.
#include <malloc.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include "plsim/scenario/scenario.hpp"
#include "plsim/simulation.hpp"

extern char** environ;

namespace {

using plsim::State;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// ---------------------------------------------------------------------------------------------------
// Machine and process facts

// A "Vm..." line of /proc/self/status in bytes, or -1 when the kernel does not report it.
long long status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
  }
  return -1;
}

// Resets VmHWM to the current VmRSS (Linux >= 4.0), so the peak of one phase can be read on its own.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.close();
  return static_cast<bool>(out);
}

// Bytes handed out by malloc and not yet freed (whether or not the pages are resident).
long long heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<long long>(m.uordblks + m.hblkhd);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

long nproc() { return sysconf(_SC_NPROCESSORS_ONLN); }

// CPU time used by the whole machine (busy, including time stolen by the hypervisor) and by this
// process; between two samples, their difference over the wall time is how many cores other processes
// took from the benchmark. Timings taken while that is well above zero are pessimistic.
struct CpuSample {
  double machine_busy = 0, self = 0;
  Clock::time_point at;
};

CpuSample cpu_sample() {
  CpuSample c;
  c.at = Clock::now();
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  std::array<double, 8> t{};  // user nice system idle iowait irq softirq steal
  for (double& x : t) in >> x;
  c.machine_busy = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / static_cast<double>(sysconf(_SC_CLK_TCK));
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  c.self = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  return c;
}

double other_cores(const CpuSample& a, const CpuSample& b) {
  const double wall = std::chrono::duration<double>(b.at - a.at).count();
  return wall > 0 ? std::max(0.0, (b.machine_busy - a.machine_busy) - (b.self - a.self)) / wall : 0.0;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// ---------------------------------------------------------------------------------------------------
// Bytes of the state's columns: every column is listed by hand, and the static_asserts below fail when
// a column is added to or removed from state.hpp, so this count cannot silently go stale.

struct ColumnBytes {
  std::size_t capacity = 0;  // sizeof(element) * capacity(): what the columns hold on to
  std::size_t used = 0;      // sizeof(element) * size(): what the agents need

  template <class T>
  void add(const std::vector<T>& column) {
    capacity += sizeof(T) * column.capacity();
    used += sizeof(T) * column.size();
  }
  template <class T, std::size_t N>
  void add(const std::array<std::vector<T>, N>& columns) {
    for (const auto& column : columns) add(column);
  }
  void add(const std::vector<std::string>& column) {
    add<std::string>(column);
    for (const std::string& s : column)
      if (s.capacity() > std::string().capacity()) capacity += s.capacity() + 1, used += s.size() + 1;
  }
  ColumnBytes& operator+=(const ColumnBytes& o) {
    capacity += o.capacity;
    used += o.used;
    return *this;
  }
};

constexpr std::size_t column_size = sizeof(std::vector<int>);
static_assert(sizeof(plsim::StudentColumns) == (10 + 10 * plsim::n_subjects) * column_size,
              "StudentColumns changed: check that for_each_column lists every column");
static_assert(sizeof(plsim::ClassroomColumns) == (8 + 3 * plsim::n_subjects) * column_size,
              "ClassroomColumns changed: update classroom_bytes()");
static_assert(sizeof(plsim::TeacherColumns) == 16 * column_size, "TeacherColumns changed: update teacher_bytes()");
static_assert(sizeof(plsim::SchoolColumns) == (35 + 2 * plsim::n_elements) * column_size,
              "SchoolColumns changed: update school_bytes()");
static_assert(sizeof(plsim::DistrictColumns) == 3 * column_size, "DistrictColumns changed: update district_bytes()");

ColumnBytes student_bytes(const plsim::StudentColumns& c) {
  ColumnBytes b;
  c.for_each_column([&](const auto& column) { b.add(column); });
  return b;
}

ColumnBytes classroom_bytes(const plsim::ClassroomColumns& c) {
  ColumnBytes b;
  b.add(c.id), b.add(c.begin), b.add(c.end), b.add(c.school), b.add(c.teacher), b.add(c.grade), b.add(c.pacing_unit);
  b.add(c.instructional_model), b.add(c.fall_z), b.add(c.spring_z), b.add(c.n_measured);
  return b;
}

ColumnBytes teacher_bytes(const plsim::TeacherColumns& c) {
  ColumnBytes b;
  // The one list of the columns (only read through it).
  const_cast<plsim::TeacherColumns&>(c).for_each_named_column([&](const std::string&, const auto& column) { b.add(column); });
  return b;
}

ColumnBytes school_bytes(const plsim::SchoolColumns& c) {
  ColumnBytes b;
  b.add(c.id), b.add(c.district), b.add(c.level), b.add(c.type), b.add(c.grade_lo), b.add(c.grade_hi), b.add(c.class_size);
  b.add(c.instructional_model), b.add(c.grade_enrollment), b.add(c.frl_share), b.add(c.achievement_shift);
  b.add(c.growth_multiplier), b.add(c.fidelity), b.add(c.implementation_year), b.add(c.feeder_next);
  b.add(c.begin), b.add(c.end), b.add(c.class_begin), b.add(c.class_end);
  b.add(c.teachers_hired), b.add(c.first_entrant_id), b.add(c.entrants);
  b.add(c.leadership), b.add(c.data_quality), b.add(c.obstacle_coverage), b.add(c.obstacle_materials);
  b.add(c.obstacle_scheduling), b.add(c.conditions), b.add(c.pl_stage), b.add(c.adopted_in_run), b.add(c.invented);
  b.add(c.converted_year), b.add(c.coached_share), b.add(c.coached_last_year), b.add(c.rollout_priority);
  b.add(c.delivered_fidelity), b.add(c.codified_year);
  return b;
}

ColumnBytes district_bytes(const plsim::DistrictColumns& c) {
  ColumnBytes b;
  b.add(c.id), b.add(c.name), b.add(c.achievement_shift);
  return b;
}

struct StateBytes {
  ColumnBytes students, others;  // others: classrooms, teachers, schools and districts
  std::size_t n_students = 0;
  ColumnBytes total() const {
    ColumnBytes t = students;
    return t += others;
  }
};

StateBytes state_bytes(const State& s) {
  StateBytes b;
  b.students = student_bytes(s.students);
  b.others = classroom_bytes(s.classrooms);
  b.others += teacher_bytes(s.teachers);
  b.others += school_bytes(s.schools);
  b.others += district_bytes(s.districts);
  b.n_students = s.students.size();
  return b;
}

// ---------------------------------------------------------------------------------------------------
// Determinism: two runs must agree bit for bit, field by field.

template <class T>
bool same_bits(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
  } else {
    return a == b;
  }
}

// The first field that differs, or empty when the rows are identical.
std::string row_difference(const plsim::AssessmentRow& a, const plsim::AssessmentRow& b) {
#define PLSIM_BENCH_FIELD(f) \
  if (!same_bits(a.f, b.f)) return #f;
  PLSIM_BENCH_FIELD(year)
  PLSIM_BENCH_FIELD(season)
  PLSIM_BENCH_FIELD(subject)
  PLSIM_BENCH_FIELD(grade)
  PLSIM_BENCH_FIELD(school)
  PLSIM_BENCH_FIELD(n)
  PLSIM_BENCH_FIELD(mean_rit)
  PLSIM_BENCH_FIELD(mean_true_rit)
  PLSIM_BENCH_FIELD(mean_percentile)
  PLSIM_BENCH_FIELD(mean_sd)
#undef PLSIM_BENCH_FIELD
  static_assert(sizeof(plsim::AssessmentRow) == 56, "AssessmentRow changed: update row_difference()");
  return {};
}

std::string assessment_difference(const std::vector<plsim::AssessmentRow>& a,
                                  const std::vector<plsim::AssessmentRow>& b) {
  if (a.size() != b.size())
    return "assessment rows: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::string field = row_difference(a[k], b[k]);
    if (!field.empty()) return "assessment row " + std::to_string(k) + ": " + field;
  }
  return {};
}

template <class T>
bool same_column(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// The final student state too: assessments average over students, so a compensating difference could
// hide there.
std::string student_difference(const plsim::StudentColumns& a, const plsim::StudentColumns& b) {
  // Walk both column lists in step; the index names the first column that differs.
  std::vector<bool> same;
  std::vector<const void*> firsts;
  a.for_each_column([&](const auto& column) { firsts.push_back(&column); });
  std::size_t k = 0;
  b.for_each_column([&](const auto& column) {
    using Column = std::decay_t<decltype(column)>;
    same.push_back(same_column(*static_cast<const Column*>(firsts[k++]), column));
  });
  for (std::size_t i = 0; i < same.size(); ++i)
    if (!same[i]) return "student column " + std::to_string(i) + " (in StudentColumns::for_each_column order)";
  return {};
}

// ---------------------------------------------------------------------------------------------------
// Statistics and formatting

double best_of(std::vector<double> v, bool largest) {
  return largest ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end());
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && (digits.size() - k) % 3 == 0) out += ',';
    out += digits[k];
  }
  return out;
}

std::string format(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

// ---------------------------------------------------------------------------------------------------
// Runs

struct Scenario {
  std::string path, source;
  json doc;
  int years = 0;  // 0: the scenario's own
};

std::shared_ptr<const plsim::Model> make_model(const Scenario& sc) {
  json doc = sc.doc;
  if (sc.years > 0) doc["years"] = sc.years;
  return std::make_shared<const plsim::Model>(plsim::build_model(doc, sc.source));
}

// What a week contained besides learning; the engine's stage order puts the year transition and the
// assessments at the start of a week.
enum WeekKind { learning_week = 0, assessment_week = 1, transition_week = 2, n_week_kinds = 3 };
constexpr std::array<const char*, n_week_kinds> week_kind_names{"learning", "assessment", "year_transition"};

// The design targets the figures are held against.
constexpr double target_student_weeks_per_second = 50e6;  // on 2 cores
constexpr int target_threads = 2;
constexpr double target_bytes_per_student = 160;

struct RunFigures {
  double model_seconds = 0;       // scenario document to Model
  double setup_seconds = 0;       // Simulation constructor: population and classrooms
  double run_seconds = 0;         // Results::seconds
  std::uint64_t student_weeks = 0;
  std::size_t students_start = 0, students_end = 0;
  std::array<std::vector<double>, n_week_kinds> week_seconds;
  double rate() const { return static_cast<double>(student_weeks) / run_seconds; }
};

struct Reference {
  int threads = 0;
  std::vector<plsim::AssessmentRow> assessments;
  plsim::StudentColumns students;
};

RunFigures run_once(const Scenario& sc, int threads, std::optional<StateBytes>& bytes_start,
                    std::optional<StateBytes>& bytes_end, std::optional<Reference>& reference,
                    std::vector<std::string>& differences) {
  RunFigures f;
  auto t = Clock::now();
  const auto model = make_model(sc);
  f.model_seconds = seconds_since(t);

  t = Clock::now();
  plsim::Simulation sim(model, threads);
  f.setup_seconds = seconds_since(t);
  f.students_start = sim.state().students.size();
  if (!bytes_start) bytes_start = state_bytes(sim.state());

  const auto& assessment_weeks = model->params.assessment.weeks;
  auto week_start = Clock::now();
  sim.run([&](const plsim::Progress& p) {
    const auto now = Clock::now();
    const int week = p.week - 1;  // the week just simulated
    const bool assessed =
        std::find(assessment_weeks.begin(), assessment_weeks.end(), week + 1) != assessment_weeks.end();
    const WeekKind kind = p.year > 0 && week == 0 ? transition_week : assessed ? assessment_week : learning_week;
    f.week_seconds[kind].push_back(std::chrono::duration<double>(now - week_start).count());
    week_start = now;
    return true;
  });

  const plsim::Results& r = sim.results();
  f.run_seconds = r.seconds;
  f.student_weeks = r.student_weeks;
  f.students_end = sim.state().students.size();
  if (!bytes_end) bytes_end = state_bytes(sim.state());

  if (!reference) {
    reference = Reference{threads, r.assessments, sim.state().students};
  } else {
    std::string d = assessment_difference(reference->assessments, r.assessments);
    if (d.empty()) d = student_difference(reference->students, sim.state().students);
    if (!d.empty())
      differences.push_back(std::to_string(threads) + " threads vs " + std::to_string(reference->threads) +
                            " threads: " + d);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------
// Resident memory, measured in a fresh process (this program with --measure-memory) so that nothing
// earlier runs left in the allocator or the page tables is counted.

json measure_memory(const Scenario& sc) {
  const auto model = make_model(sc);
  // TBB's scheduler starts on first use; start it before the baseline so it is not counted as population.
  tbb::task_arena(1).execute([] {});
  const bool peak_reset = reset_peak_rss();
  const long long rss_before = status_bytes("VmRSS"), heap_before = heap_in_use();

  plsim::Simulation sim(model, 1);
  const long long rss_built = status_bytes("VmRSS"), peak_built = status_bytes("VmHWM"), heap_built = heap_in_use();
  const std::size_t students = sim.state().students.size();
  malloc_trim(0);  // what stays resident once the allocator gives back the set-up's freed temporaries
  const long long rss_built_trimmed = status_bytes("VmRSS");

  reset_peak_rss();
  sim.run();
  const long long rss_run = status_bytes("VmRSS"), peak_run = status_bytes("VmHWM"), heap_run = heap_in_use();

  return {{"students", students},
          {"students_end", sim.state().students.size()},
          {"peak_reset", peak_reset},
          {"rss_before", rss_before},
          {"heap_before", heap_before},
          {"rss_built", rss_built},
          {"rss_built_trimmed", rss_built_trimmed},
          {"peak_built", peak_built},
          {"heap_built", heap_built},
          {"rss_run", rss_run},
          {"peak_run", peak_run},
          {"heap_run", heap_run}};
}

// Runs this program again with --measure-memory and reads the JSON it prints.
json measure_memory_in_child(const Scenario& sc) {
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe");
  std::vector<std::string> args{exe, "--measure-memory", sc.path};
  if (sc.years > 0) args.insert(args.end(), {"--years", std::to_string(sc.years)});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fd[0]);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fd[1]);
  if (err != 0) {
    close(fd[0]);
    throw std::runtime_error(std::string("cannot start ") + exe + ": " + std::strerror(err));
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("memory measurement process failed (status " + std::to_string(status) + ")");
  return json::parse(out);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plsim_bench: student-weeks per second, set-up time, bytes per student and determinism"};
  Scenario sc;
  sc.path = PLSIM_DEFAULT_SCENARIO;
  std::vector<int> thread_counts;
  int repeats = 3;
  std::string json_path;
  bool measure_only = false, skip_memory = false;
  app.add_option("scenario", sc.path, "scenario JSON file")->capture_default_str();
  app.add_option("--threads", thread_counts, "thread counts to run (default: 1 and every core)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--repeats", repeats, "runs per thread count")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--years", sc.years, "school years to simulate (default: the scenario's)")->check(CLI::Range(1, 1000));
  app.add_option("--json", json_path, "also write the figures to this JSON file");
  app.add_flag("--no-memory", skip_memory, "skip the resident-memory measurement (a child process)");
  app.add_flag("--measure-memory", measure_only, "internal: print resident-memory figures of one set-up as JSON")
      ->group("");
  CLI11_PARSE(app, argc, argv);

  try {
    sc.doc = plsim::read_scenario_file(sc.path);
    sc.source = std::filesystem::path(sc.path).filename().string();
    if (measure_only) {
      std::cout << measure_memory(sc).dump() << std::endl;
      return 0;
    }

    // Validates the scenario (and the years override) before anything runs.
    const auto model = make_model(sc);
    std::ofstream json_file;
    if (!json_path.empty()) {
      json_file.open(json_path);
      if (!json_file) throw std::runtime_error("cannot write " + json_path);
    }

    const int cores = tbb::info::default_concurrency();
    if (thread_counts.empty()) thread_counts = cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1};
    // Each thread count once, in the order given (the first is the speed-up's reference).
    std::vector<int> unique_counts;
    for (int t : thread_counts)
      if (std::find(unique_counts.begin(), unique_counts.end(), t) == unique_counts.end()) unique_counts.push_back(t);
    thread_counts = unique_counts;

    // Memory first, while nothing else runs.
    std::optional<json> memory;
    if (!skip_memory) memory = measure_memory_in_child(sc);

    std::optional<StateBytes> bytes_start, bytes_end;
    std::optional<Reference> reference;
    std::vector<std::string> differences;
    std::map<int, std::vector<RunFigures>> runs;
    std::map<int, double> others;  // cores taken by other processes while a thread count ran
    const std::string load_at_start = load_average();
    for (int threads : thread_counts) {
      const CpuSample before = cpu_sample();
      for (int r = 0; r < repeats; ++r)
        runs[threads].push_back(run_once(sc, threads, bytes_start, bytes_end, reference, differences));
      others[threads] = other_cores(before, cpu_sample());
    }

    const RunFigures& any = runs[thread_counts.front()].front();
    const std::size_t students = any.students_start;
    const int weeks = model->years * model->weeks_per_year;

    // ------------------------------------------------------------------------------------------ table
    std::printf("plsim_bench\n");
    std::printf("  scenario     %s (%s)\n", model->name.c_str(), sc.path.c_str());
    std::printf("  machine      %s, %ld cores online, TBB default concurrency %d\n", cpu_model().c_str(), nproc(),
                cores);
    std::printf("  population   %s students at start, %s at end; %d years x %d weeks = %d weeks\n",
                grouped(students).c_str(), grouped(any.students_end).c_str(), model->years, model->weeks_per_year,
                weeks);
    std::printf("  work         %s student-weeks per run, %d runs per thread count (best and median)\n",
                grouped(any.student_weeks).c_str(), repeats);
    std::printf("  load         %s at start (1, 5, 15 min)\n\n", load_at_start.c_str());

    std::printf(
        "  threads | set-up s         | run s            | M student-weeks/s | speed-up | ms per week (median)  | others\n"
        "          | best     median  | best     median  | best     median   | (best)   | learn  assess   year | (cores)\n"
        "  --------+------------------+------------------+-------------------+----------+-----------------------+--------\n");
    const double base_rate = best_of([&] {
      std::vector<double> v;
      for (const auto& f : runs[thread_counts.front()]) v.push_back(f.rate());
      return v;
    }(), true);
    json runs_json = json::array();
    for (int threads : thread_counts) {
      const auto& fs = runs[threads];
      std::vector<double> setup, secs, rate, model_secs;
      std::array<std::vector<double>, n_week_kinds> week;
      for (const auto& f : fs) {
        setup.push_back(f.setup_seconds);
        secs.push_back(f.run_seconds);
        rate.push_back(f.rate());
        model_secs.push_back(f.model_seconds);
        for (int k = 0; k < n_week_kinds; ++k)
          week[k].insert(week[k].end(), f.week_seconds[k].begin(), f.week_seconds[k].end());
      }
      const double best_rate = best_of(rate, true), speedup = best_rate / base_rate;
      std::string week_cells;
      json week_json = json::object();
      for (int k = 0; k < n_week_kinds; ++k) {
        week_cells += week[k].empty() ? std::string("     -") : format(" %6.2f", 1e3 * median(week[k]));
        if (!week[k].empty()) week_json[week_kind_names[k]] = 1e3 * median(week[k]);
      }
      std::printf("  %7d | %7.3f  %7.3f | %7.4f  %7.4f | %7.2f   %7.2f  | %6.2fx  |%s | %6.2f\n", threads,
                  best_of(setup, false), median(setup), best_of(secs, false), median(secs), best_rate / 1e6,
                  median(rate) / 1e6, speedup, week_cells.c_str(), others[threads]);
      runs_json.push_back({{"threads", threads},
                           {"setup_seconds", {{"best", best_of(setup, false)}, {"median", median(setup)}}},
                           {"model_seconds", {{"best", best_of(model_secs, false)}, {"median", median(model_secs)}}},
                           {"run_seconds", {{"best", best_of(secs, false)}, {"median", median(secs)}}},
                           {"student_weeks_per_second", {{"best", best_rate}, {"median", median(rate)}}},
                           {"speedup", speedup},
                           {"other_processes_cores", others[threads]},
                           {"week_ms_median", week_json}});
    }
    std::printf("  speed-up: relative to %d thread%s. A week's kind says what ran besides learning: an assessment,\n"
                "  or the year transition (summer, promotion, entry cohorts, classrooms, then the fall test).\n"
                "  others: cores busy with other processes during the runs (from /proc/stat).\n",
                thread_counts.front(), thread_counts.front() == 1 ? "" : "s");
    double worst_others = 0;
    for (const auto& [threads, cores_taken] : others) worst_others = std::max(worst_others, cores_taken);
    if (worst_others > 0.1)
      std::printf("  WARNING: other processes kept %.2f cores busy during the runs; these figures are pessimistic.\n",
                  worst_others);
    std::printf("\n");

    // ----------------------------------------------------------------------------------------- memory
    json memory_json = json::object();
    std::printf("  bytes per student\n");
    if (memory) {
      const json& m = *memory;
      const double n = m["students"].get<double>();
      const auto per = [&](const char* a, const char* b) { return (m[a].get<double>() - m[b].get<double>()) / n; };
      const double resident = per("rss_built", "rss_before");
      std::printf("    resident    %7.1f  VmRSS after the population is built minus before (fresh process)\n",
                  resident);
      std::printf("                %7.1f  the same after malloc_trim (freed set-up temporaries returned)\n",
                  per("rss_built_trimmed", "rss_before"));
      std::printf("                %7.1f  peak during set-up (VmHWM%s)\n", per("peak_built", "rss_before"),
                  m["peak_reset"].get<bool>() ? "" : ", not reset: includes model building");
      std::printf("                %7.1f  after the run (%d school year%s), relative to before set-up\n",
                  per("rss_run", "rss_before"), model->years, model->years == 1 ? "" : "s");
      std::printf("    heap        %7.1f  malloc bytes in use after set-up (mallinfo2), minus before\n",
                  per("heap_built", "heap_before"));
      memory_json["resident"] = resident;
      memory_json["resident_trimmed"] = per("rss_built_trimmed", "rss_before");
      memory_json["resident_peak_setup"] = per("peak_built", "rss_before");
      memory_json["resident_after_run"] = per("rss_run", "rss_before");
      memory_json["heap"] = per("heap_built", "heap_before");
      memory_json["raw"] = m;
    }
    const auto column_line = [&](const char* when, const StateBytes& b) {
      const double n = static_cast<double>(b.n_students);
      const ColumnBytes t = b.total();
      std::printf("    columns     %7.1f  sizeof x capacity of every column %s (students %.1f + others %.1f);\n"
                  "                %7.1f  sizeof x size (students %.1f + others %.1f)\n",
                  t.capacity / n, when, b.students.capacity / n, b.others.capacity / n, t.used / n,
                  b.students.used / n, b.others.used / n);
      return json{{"capacity", t.capacity / n},
                  {"capacity_students", b.students.capacity / n},
                  {"used", t.used / n},
                  {"used_students", b.students.used / n},
                  {"students", b.n_students}};
    };
    memory_json["columns"] = bytes_start->total().capacity / static_cast<double>(bytes_start->n_students);
    memory_json["columns_after_setup"] = column_line("after set-up", *bytes_start);
    memory_json["columns_after_run"] = column_line("after the run", *bytes_end);
    std::printf("\n");

    // ---------------------------------------------------------------------------------------- targets
    json targets = {{"student_weeks_per_second", target_student_weeks_per_second},
                    {"threads", target_threads},
                    {"bytes_per_student", target_bytes_per_student}};
    std::printf("  design targets\n");
    if (runs.count(target_threads)) {
      std::vector<double> rate;
      for (const auto& f : runs[target_threads]) rate.push_back(f.rate());
      const double best = best_of(rate, true);
      std::printf("    %.0f M student-weeks/s on %d cores: best %.2f M at %d threads (%.0f%% of target)\n",
                  target_student_weeks_per_second / 1e6, target_threads, best / 1e6, target_threads,
                  100 * best / target_student_weeks_per_second);
      targets["achieved_student_weeks_per_second"] = best;
    } else {
      std::printf("    %.0f M student-weeks/s on %d cores: not measured (no %d-thread run)\n",
                  target_student_weeks_per_second / 1e6, target_threads, target_threads);
    }
    std::printf("    at most %.0f bytes per student: columns %.1f", target_bytes_per_student,
                memory_json["columns"].get<double>());
    if (memory_json.contains("resident")) std::printf(", resident %.1f", memory_json["resident"].get<double>());
    std::printf("\n\n");

    // ------------------------------------------------------------------------------------ determinism
    const bool deterministic = differences.empty();
    std::printf("  deterministic: %s (%zu assessment rows and the final student columns compared across %zu runs"
                " at %s thread(s))\n",
                deterministic ? "yes" : "no", reference->assessments.size(),
                thread_counts.size() * static_cast<std::size_t>(repeats), [&] {
                  std::string s;
                  for (int t : thread_counts) s += (s.empty() ? "" : ", ") + std::to_string(t);
                  return s;
                }().c_str());
    for (const auto& d : differences) std::printf("    differs: %s\n", d.c_str());

    if (json_file.is_open()) {
      json out = {
          {"scenario", {{"name", model->name}, {"path", sc.path}}},
          {"students", students},
          {"students_end", any.students_end},
          {"years", model->years},
          {"weeks_per_year", model->weeks_per_year},
          {"weeks", weeks},
          {"student_weeks", any.student_weeks},
          {"repeats", repeats},
          {"runs", runs_json},
          {"bytes_per_student", memory_json},
          {"targets", targets},
          {"deterministic", deterministic},
          {"differences", differences},
          {"machine",
           {{"nproc", nproc()},
            {"tbb_default_concurrency", cores},
            {"cpu_model", cpu_model()},
            {"load_average_at_start", load_at_start}}},
          {"build", {{"type", PLSIM_BUILD_TYPE}, {"compiler", __VERSION__}}},
      };
      json_file << out.dump(2) << "\n";
      json_file.close();
      if (!json_file) throw std::runtime_error("cannot write " + json_path);
      std::printf("  figures written to %s\n", json_path.c_str());
    }
    return deterministic ? 0 : 3;
  } catch (const plsim::ScenarioError& e) {
    for (const auto& line : e.errors()) std::cerr << line << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "plsim_bench: " << e.what() << "\n";
    return 1;
  }
}
