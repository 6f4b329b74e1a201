// libFuzzer target: scenario text through everything plsim does with a file before a run. Parsing,
// validation, filling defaults and building the model must refuse any input with a ScenarioError (a
// message with a path), never crash, overflow a stack, read out of bounds or hit undefined behaviour
// (the target is built with ASan and UBSan). Small valid scenarios also build their population and run
// a week, so the set-up code sees the fuzzed values too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "plsim/scenario/scenario.hpp"
#include "plsim/simulation.hpp"

namespace {

// Whether `s` is UTF-8 a strict decoder (Python's) accepts: messages must be readable by every caller.
bool strict_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    const auto c1 = n > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))
      return false;
    i += n;
  }
  return true;
}

// A run small enough to set up and step within the fuzzer's time budget per input.
bool small_enough(const plsim::Model& model) {
  double students = 0;
  for (const auto& district : model.districts)
    for (const auto& group : district.schools)
      students += double(district.count) * group.count * group.enrollment;
  return students <= 3000 && model.weeks_per_year <= 60;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json doc = plsim::parse_scenario_text(text, "fuzz");
    const std::vector<std::string> errors = plsim::check_scenario(doc, "fuzz");
    for (const auto& e : errors)
      if (!strict_utf8(e)) __builtin_trap();
    auto loaded = plsim::load_scenario(doc, "fuzz");
    // check_scenario and load_scenario must agree: a document that loads has no errors.
    if (!errors.empty()) __builtin_trap();
    if (small_enough(*loaded.model)) {
      plsim::Simulation sim(loaded.model, 1);
      sim.step();
      if (plsim::has_personalization(*loaded.model)) {
        auto twin = sim.counterfactual();
        twin->step();
      }
    }
  } catch (const plsim::ScenarioError& error) {
    if (error.errors().empty()) __builtin_trap();  // an error must say what is wrong
    for (const auto& e : error.errors())
      if (!strict_utf8(e)) __builtin_trap();
  }
  return 0;
}
