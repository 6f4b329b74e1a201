// The immutable model of one run: parameters, instructional models and the population
// specification, built once from a validated scenario. Runs hold it by const reference.
#pragma once

#include <array>
#include <limits>
#include <cstdint>
#include <string>
#include <vector>

#include "plsim/fields.hpp"
#include "plsim/measure/assessment.hpp"
#include "plsim/measure/norms.hpp"
#include "plsim/measure/scale.hpp"
#include "plsim/modules/costs.hpp"
#include "plsim/modules/instruction.hpp"
#include "plsim/modules/learning.hpp"
#include "plsim/modules/population.hpp"
#include "plsim/modules/rollout.hpp"
#include "plsim/modules/schools.hpp"
#include "plsim/modules/summer.hpp"
#include "plsim/modules/teachers.hpp"
#include "plsim/types.hpp"

namespace plsim {

// Every parameter group of the model, one line each: the struct (declared in its module with one
// line a parameter), its scenario key under "parameters", its parameter list and a one-line doc. The
// scenario specification, the JSON-to-Model conversion and the parameter table come from this list.
#define PLSIM_PARAMETER_GROUPS(X)                                                                  \
  X(LearningParameters, learning, PLSIM_LEARNING_PARAMETERS, "Learner model and instruction")      \
  X(PersonalizationParameters, personalization, PLSIM_PERSONALIZATION_PARAMETERS,                  \
    "Personalized-learning mechanisms")                                                            \
  X(PopulationParameters, population, PLSIM_POPULATION_PARAMETERS, "Synthetic population")        \
  X(AssessmentParameters, assessment, PLSIM_ASSESSMENT_PARAMETERS, "Assessments")                  \
  X(SummerParameters, summer, PLSIM_SUMMER_PARAMETERS, "Summer step between school years")              \
  X(TeacherParameters, teachers, PLSIM_TEACHER_PARAMETERS,                                         \
    "Teachers: turnover, experience, PL skill, buy-in, preparation and burnout, coaching")              \
  X(SchoolParameters, schools, PLSIM_SCHOOL_PARAMETERS,                                              \
    "Schools: leadership, data systems, obstacles, PL stages, codifying and dropping")                  \
  X(CostParameters, costs, PLSIM_COST_PARAMETERS, "Unit costs of personalized learning")

#define PLSIM_PARAMETER_GROUP_MEMBER(Struct, key, list, doc) Struct key;
struct Parameters {
  PLSIM_PARAMETER_GROUPS(PLSIM_PARAMETER_GROUP_MEMBER)
};

// The most school years a scenario may run (its "years" key); sizes the blocks of stable student ids.
inline constexpr int max_years = 50;
// The most schools and districts (each copy of a district of count > 1) a scenario may hold.
inline constexpr int max_schools = 1'000'000;
inline constexpr int max_districts = 100'000;

// Whether a run also runs its counterfactual twin (scenario key "counterfactual").
enum class Counterfactual : std::uint8_t {
  auto_ = 0,  // when any school is on a model other than traditional
  always = 1,
  never = 2,
};
inline constexpr std::array<const char*, 3> counterfactual_names{"auto", "always", "never"};

// Which arm of a comparison a model is: the scenario's own, or its counterfactual twin.
enum class ComparisonArm : std::uint8_t { policy = 0, counterfactual = 1 };

enum class SchoolType : std::uint8_t { district = 0, charter = 1 };
inline constexpr std::array<const char*, 2> school_type_names{"district", "charter"};

struct SchoolGroupSpec {
  Level level = Level::elementary;
  SchoolType type = SchoolType::district;
  int count = 1;
  int enrollment = 450;
  int grade_lo = 0, grade_hi = 5;
  int class_size = 22;
  double frl_share_mean = 0.5, frl_share_sd = 0.25;
  double achievement_shift_sd = 0.0;
  std::vector<std::pair<int, double>> instructional_models;  // (index into Model::instructional_models, share)
  // In a counterfactual twin, the models of the policy arm: they decide which schools are PL schools
  // (their stage, and so the PL cohort) in both arms alike. Empty in the policy arm.
  std::vector<std::pair<int, double>> policy_models;
  std::array<double, n_elements> fidelity{1, 1, 1, 1};  // mean school fidelity per PL element
  double fidelity_sd = 0.0;                               // SD across schools
  int implementation_year = 3;  // year of PL implementation in the first year its model runs (3: mature)
  // 1-based first and last year of the run (inclusive) in which the group's schools run their model
  // (scenario key "model_years"); outside them they teach traditionally. {0, 0}: every year.
  std::array<int, 2> model_years{0, 0};

  bool limits_model_years() const { return model_years[0] > 0; }
  // Whether the group's schools run their model in 1-based `year` of the run.
  bool runs_model_in(int year) const {
    return !limits_model_years() || (year >= model_years[0] && year <= model_years[1]);
  }
};

struct DistrictSpec {
  std::string name;
  int count = 1;
  double achievement_shift_sd = 0.0;
  std::vector<SchoolGroupSpec> schools;
  CentralOfficeSpec central_office;
  RolloutSpec rollout;
  // US$ a year the district itself spends on PL beyond its grants (infinite: whatever is needed).
  double pl_budget_per_year = std::numeric_limits<double>::infinity();
};

struct Model {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  int years = 1;
  Counterfactual counterfactual = Counterfactual::auto_;
  ComparisonArm arm = ComparisonArm::policy;
  int weeks_per_year = 36;
  Parameters params;
  std::vector<InstructionalModel> instructional_models;
  std::vector<DistrictSpec> districts;
  std::vector<GrantSpec> grants;
  Norms norms;
  ScaleMap scale;

  // Derived once from norms and parameters.
  GradeTable pacing_per_week{};  // pacing-guide units per week of each grade: its norm growth in a year
  GradeTable summer_loss{};    // units lost over the summer after each grade (national mean; < 0: a gain)

  Model(Parameters p, Norms n, int weeks_per_year);
  int instructional_model_index(const std::string& name) const;
  // The spec of district index `district` of a State (the copies of a spec share it): a binary search
  // of district_copy_ends, which index_districts() fills once the districts are in.
  const DistrictSpec& district_spec(std::uint32_t district) const;
  // Indices into `grants` of the grants to district `district` (to its spec's name).
  const std::vector<std::uint32_t>& grants_of(std::uint32_t district) const;
  void index_districts();
  std::vector<std::uint32_t> district_copy_ends;  // per spec: index of the first district after its copies
  std::vector<std::vector<std::uint32_t>> spec_grants;  // per spec: its grants
  // Whether any school group assigns a share of its schools to an instructional model (by index), or a
  // rollout plan spreads one, for which `pred` holds.
  template <class Pred>
  bool any_school_on(Pred pred) const {
    for (const DistrictSpec& district : districts)
      for (const SchoolGroupSpec& group : district.schools)
        for (const auto& [index, share] : group.instructional_models)
          if (share > 0 && pred(index)) return true;
    for (const DistrictSpec& district : districts)
      if (district.rollout.enabled && pred(district.rollout.model)) return true;
    return false;
  }
};

}  // namespace plsim
