// libFuzzer target: checkpoint bytes (the run state plsim.load and plsim resume hand to the engine)
// restored into a fresh run of the model they claim. Edited, truncated or forged bytes must be refused
// with a RunStateError (a one-line reason), never crash, allocate without bound, read out of bounds or
// hit undefined behaviour (the target is built with ASan and UBSan); bytes that are accepted must give
// a run that can go on, so the restored state is stepped to the end of a week and saved again.
//
// The fuzzed run is a small rollout scenario of two years. With PLSIM_FUZZ_SEEDS=DIR set, the target
// first writes that run's real states into DIR (at its start, mid-year, at the year end and after a
// rollout), so the corpus starts from files the engine accepts (tests/fuzz/run.sh does this).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "plsim/run_state.hpp"
#include "plsim/scenario/scenario.hpp"
#include "plsim/simulation.hpp"

namespace {

const char* const scenario_text = R"({
  "name": "fuzz", "seed": 3, "years": 2,
  "districts": [{
    "name": "d",
    "schools": [
      {"level": "elementary", "count": 2, "enrollment": 60, "models": {"station_rotation": 0.5, "traditional": 0.5}},
      {"level": "middle", "enrollment": 45}
    ],
    "rollout": {"model": "station_rotation", "targets": [{"year": 2, "share": 0.8}]}
  }]
})";

std::shared_ptr<const plsim::Model> fuzz_model() {
  static const std::shared_ptr<const plsim::Model> model =
      plsim::load_scenario(plsim::parse_scenario_text(scenario_text, "fuzz"), "fuzz").model;
  return model;
}

// Messages go to users in one line, readable by a strict UTF-8 decoder (Python's).
bool readable(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') return false;
    const std::size_t n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

void write_seed(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/run_state_" + name, std::ios::binary) << bytes;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("PLSIM_FUZZ_SEEDS");
  if (!dir) return 0;
  plsim::Simulation sim(fuzz_model(), 1);
  write_seed(dir, "start", plsim::save_run_state(sim));
  sim.run([](const plsim::Progress& p) { return p.weeks_done < 5; });
  write_seed(dir, "mid_year", plsim::save_run_state(sim));
  const auto weeks = static_cast<std::uint64_t>(fuzz_model()->weeks_per_year);
  sim.run([&](const plsim::Progress& p) { return p.weeks_done < weeks; });
  write_seed(dir, "year_end", plsim::save_run_state(sim));
  sim.run([&](const plsim::Progress& p) { return p.weeks_done < weeks + 3; });
  write_seed(dir, "second_year", plsim::save_run_state(sim));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  plsim::Simulation sim(fuzz_model(), 1);
  try {
    plsim::restore_run_state(sim, bytes);
  } catch (const plsim::RunStateError& error) {
    if (!readable(error.what())) {  // a refusal says what is wrong, in one line
      std::fprintf(stderr, "unreadable RunStateError message: \"%s\"\n", error.what());
      __builtin_trap();
    }
    return 0;
  }
  // Accepted: the state is one the engine can run on. A week from it, and its bytes again.
  if (!sim.finished()) sim.step();
  const std::string again = plsim::save_run_state(sim);
  if (again.empty()) __builtin_trap();
  return 0;
}
