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
  }
  return 0;
}
