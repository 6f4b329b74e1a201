"""Scenarios: loading from a file, a shipped name or a dict; overrides; immutability; pickling;
validation errors (source, JSON path, value, expectation, every error at once); the JSON Schema."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import jsonschema
import pytest

import plsim
from conftest import INVALID_PATH, NOT_JSON_PATH, REPO, TINY_PATH, tiny_document

#: The scenario files committed to the repository (the installed package ships copies of them).
REPO_SCENARIOS = sorted(p for p in (REPO / "scenarios").glob("*.json") if not p.name.endswith(".schema.json"))

TOP_LEVEL_KEYS = ("name, description, seed, years, weeks_per_year, parameters, counterfactual, instructional_models, "
                  "districts, grants, priors, min_cell")
SCHOOL_GROUP_KEYS = ("level, type, count, enrollment, grades, class_size, frl_share, achievement_shift_sd, model, models, "
                     "fidelity, implementation_year, model_years")
#: The instructional models of engine/data/instructional_models.json, in the (sorted) order errors list them.
BUILT_IN_MODELS = ("adaptive_playlist", "algorithmic_schedule", "autonomy_levels", "high_dosage_tutoring",
                   "mastery_based", "platform_mentor", "project_based", "station_rotation", "traditional")


# --- loading ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_type", [str, Path], ids=["str", "Path"])
def test_load_scenario_reads_a_file_and_remembers_its_path_as_source(as_type):
    s = plsim.load_scenario(as_type(TINY_PATH))
    assert s.name == "tiny"
    assert s.seed == 11
    assert s.years == 1
    assert s.source == str(TINY_PATH)
    assert s.document == tiny_document()


def test_load_scenario_finds_a_shipped_scenario_by_name():
    s = plsim.load_scenario("national_baseline")
    assert s.name == "national_baseline"
    assert Path(s.source).name == "national_baseline.json"
    assert s.document == json.loads(Path(s.source).read_text())
    assert set(plsim.shipped_scenarios()) == {p.stem for p in REPO_SCENARIOS} | {
        f"{folder}/{p.stem}" for folder in ("grants", "evidence") for p in (REPO / "scenarios" / folder).glob("*.json")}


def test_load_scenario_accepts_a_dict_and_fills_every_default(tiny_doc):
    s = plsim.load_scenario(tiny_doc)
    r = s.resolved
    assert s.name == "tiny"
    assert r["weeks_per_year"] == 36
    assert r["parameters"]["assessment"]["weeks"] == {"fall": 1, "winter": 18, "spring": 34}
    assert r["counterfactual"] == "auto"
    assert set(r["instructional_models"]) == set(BUILT_IN_MODELS), "the built-in models, none added"
    assert r["instructional_models"]["traditional"]["minutes"]["whole_class"] == 300
    assert set(r["instructional_models"]["traditional"]["asks"].values()) == {0.0}, "traditional asks nothing"
    elementary, middle, high = r["districts"][0]["schools"]
    assert (elementary["grades"], middle["grades"], high["grades"]) == ([0, 5], [6, 8], [9, 12])
    assert (elementary["class_size"], middle["class_size"], high["class_size"]) == (22, 26, 28)
    assert elementary["models"] == {"station_rotation": 0.5, "traditional": 0.5}
    assert middle["models"] == {"traditional": 1.0}, "a group without model or models is traditional"
    assert "model" not in high
    assert elementary["implementation_year"] == 3
    assert elementary["fidelity"] == {"learner_profiles": 1.0, "learning_paths": 1.0, "competency_progression": 1.0,
                                      "flexible_environment": 1.0, "sd": 0.0}


def test_schema_defaults_are_the_values_a_scenario_resolves_to(tiny_doc):
    """The schema shown to editors and the loader's defaults come from one specification."""
    schema = plsim.scenario_schema()
    resolved = plsim.load_scenario(tiny_doc).resolved

    def check(value, node, path):
        if "default" in node:
            assert value == node["default"], f"{path}: resolved {value!r}, schema default {node['default']!r}"
        if isinstance(value, dict) and "properties" in node:
            for key, sub in value.items():
                check(sub, node["properties"][key], f"{path}/{key}")

    check(resolved["parameters"], schema["properties"]["parameters"], "/parameters")
    check(resolved["weeks_per_year"], schema["properties"]["weeks_per_year"], "/weeks_per_year")


def test_keyword_overrides_replace_top_level_keys_and_leave_the_shipped_file_alone():
    s = plsim.load_scenario("national_baseline", years=2, seed=5)
    assert (s.years, s.seed) == (2, 5)
    assert s.document["years"] == 2
    assert plsim.load_scenario("national_baseline").years == 1


def test_keyword_overrides_are_validated():
    with pytest.raises(plsim.ScenarioError) as info:
        plsim.load_scenario("national_baseline", years=0)
    assert info.value.errors == [f"{plsim.load_scenario('national_baseline').source}: /years: must be between 1 and 50 (got 0)"]


def test_replace_returns_a_new_scenario_and_leaves_the_original_unchanged(tiny_scenario):
    longer = tiny_scenario.replace(years=3, seed=99)
    assert (longer.years, longer.seed) == (3, 99)
    assert (tiny_scenario.years, tiny_scenario.seed) == (1, 11)
    assert longer.source == tiny_scenario.source
    assert longer.resolved["districts"] == tiny_scenario.resolved["districts"]


def test_replace_with_an_invalid_value_raises_scenario_error_naming_the_key(tiny_scenario):
    with pytest.raises(plsim.ScenarioError, match=r"/weeks_per_year: must be between 10 and 52 \(got 5\)"):
        tiny_scenario.replace(weeks_per_year=5)


def test_a_scenario_cannot_be_changed_through_its_document_or_resolved_form(tiny_scenario):
    tiny_scenario.document["years"] = 40
    tiny_scenario.resolved["districts"][0]["schools"][0]["enrollment"] = 1
    assert tiny_scenario.years == 1
    assert tiny_scenario.resolved["districts"][0]["schools"][0]["enrollment"] == 120


def test_loading_a_scenario_object_returns_it_or_applies_the_overrides(tiny_scenario):
    assert plsim.load_scenario(tiny_scenario) is tiny_scenario
    assert plsim.load_scenario(tiny_scenario, years=2).years == 2


def test_a_pickled_scenario_round_trips_to_the_same_document_source_and_resolved_form(tiny_scenario):
    s = tiny_scenario.replace(years=2)
    back = pickle.loads(pickle.dumps(s))
    assert back is not s
    assert back.resolved == s.resolved
    assert back.document == s.document
    assert back.source == s.source
    assert repr(back) == repr(s)


def test_load_scenario_rejects_what_is_not_a_path_name_or_dict():
    with pytest.raises(TypeError, match=r"scenario: expected a path, a scenario name or a dict \(got int\)"):
        plsim.load_scenario(42)


def test_a_missing_file_raises_file_not_found_listing_the_shipped_scenarios():
    with pytest.raises(FileNotFoundError) as info:
        plsim.load_scenario("no_such_scenario.json")
    message = str(info.value)
    assert "'no_such_scenario.json'" in message
    for name in plsim.shipped_scenarios():
        assert name in message


# --- validation errors ----------------------------------------------------------------------------

def test_scenario_error_is_a_value_error_whose_errors_list_every_problem_with_source_path_value_and_expectation():
    source = str(INVALID_PATH)
    with pytest.raises(plsim.ScenarioError) as info:
        plsim.load_scenario(INVALID_PATH)
    error = info.value
    assert isinstance(error, ValueError)
    expected = [
        f'{source}: /districts/0/schools/0/level: must be one of elementary, middle, high (got "kindergarten")',
        f'{source}: /districts/0/schools/1/enrolment: unknown key (did you mean "enrollment"?); valid keys are '
        f"{SCHOOL_GROUP_KEYS}",
        f"{source}: /districts/0/schools/1/enrollment: required key is missing (students per school)",
        f"{source}: /districts/0/schools/2/frl_share/mean: must be between 0 and 1 (got 1.5)",
        f"{source}: /seed: must be between 0 and 9007199254740991 (got -4)",
        f'{source}: /yeers: unknown key (did you mean "years"?); valid keys are {TOP_LEVEL_KEYS}',
    ]
    assert sorted(error.errors) == sorted(expected)
    assert str(error).splitlines() == list(error.errors)


def test_errors_of_a_dict_scenario_start_with_its_name_or_dict_when_it_has_none(tiny_doc):
    tiny_doc["years"] = "two"
    with pytest.raises(plsim.ScenarioError) as info:
        plsim.load_scenario(tiny_doc)
    assert info.value.errors == ['tiny: /years: expected an integer (got "two")']

    nameless = {"districts": []}
    assert plsim.check_scenario(nameless) == [
        "<dict>: /districts: expected between 1 and 10000 items (got 0)",
        "<dict>: /name: required key is missing (scenario name)",
    ]


@pytest.mark.parametrize(
    "where, key, suggestion",
    [((), "yeers", "years"),
     (("parameters", "learning"), "learn_rte", "learn_rate"),
     (("districts", 0, "schools", 0), "enrolment", "enrollment")],
    ids=["top level", "parameters/learning", "school group"])
def test_a_misspelled_key_suggests_the_right_one_and_lists_the_valid_keys(tiny_doc, where, key, suggestion):
    node = tiny_doc
    for part in where:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[key] = 1
    errors = plsim.check_scenario(tiny_doc)
    pointer = "".join(f"/{p}" for p in where) + f"/{key}"
    assert len(errors) == 1, errors
    assert errors[0].startswith(f'tiny: {pointer}: unknown key (did you mean "{suggestion}"?); valid keys are ')
    assert suggestion in errors[0].split("valid keys are ")[1].split(", ")


def test_an_unknown_key_unlike_any_valid_key_lists_the_valid_keys_without_a_guess(tiny_doc):
    tiny_doc["zzzzzzzz"] = 1
    assert plsim.check_scenario(tiny_doc) == [f"tiny: /zzzzzzzz: unknown key; valid keys are {TOP_LEVEL_KEYS}"]


def test_keys_starting_with_an_underscore_are_comments_and_accepted(tiny_doc):
    tiny_doc["_comment"] = "why this scenario exists"
    tiny_doc["districts"][0]["schools"][0]["_note"] = {"anything": [1, 2]}
    assert plsim.check_scenario(tiny_doc) == []


def test_checks_across_fields_report_every_inconsistency(tiny_doc):
    schools = tiny_doc["districts"][0]["schools"]
    schools[0]["models"] = {"station_rotation": 0.5, "flipped": 0.3}
    schools[1]["model"] = "flipped"
    schools[2]["grades"] = [9, 3]
    tiny_doc["parameters"] = {"assessment": {"weeks": {"fall": 20, "winter": 18}}}
    known = f"known models are {', '.join(BUILT_IN_MODELS)}"
    assert sorted(plsim.check_scenario(tiny_doc)) == sorted([
        'tiny: /parameters/assessment/weeks: fall, winter and spring must come in that order '
        '(got {"fall":20,"spring":34,"winter":18})',
        f'tiny: /districts/0/schools/0/models/flipped: unknown instructional model; {known} (got "flipped")',
        "tiny: /districts/0/schools/0/models: shares must sum to 1 (got 0.800000)",
        f'tiny: /districts/0/schools/1/model: unknown instructional model; {known} (got "flipped")',
        "tiny: /districts/0/schools/2/grades: first grade must not exceed the last (got [9,3])",
    ])


def test_model_years_that_are_not_two_years_of_the_run_in_order_are_refused_with_their_path(tiny_doc):
    tiny_doc["years"] = 3
    group = tiny_doc["districts"][0]["schools"][0]
    at = "tiny: /districts/0/schools/0/model_years"

    def errors_with(model_years):
        group["model_years"] = model_years
        return plsim.check_scenario(tiny_doc)

    assert errors_with([2, 3]) == []
    assert errors_with([3, 2]) == [f"{at}: the last year must not come before the first (got [3,2])"]
    assert errors_with([2, 4]) == [f"{at}/1: must be within the scenario's 3 years (got 4)"]
    assert errors_with([0, 2]) == [f"{at}/0: must be between 1 and 50 (got 0)"]
    assert errors_with([1.5, 2]) == [f"{at}/0: expected an integer (got 1.5)"]
    assert errors_with([2]) == [f"{at}: expected exactly 2 items (got 1)"]
    assert errors_with({"first": 2, "last": 3}) == [f'{at}: expected an array (got {{"first":2,"last":3}})']
    del group["model_years"]
    tiny_doc["districts"][0]["schools"][1]["model_years"] = [1, 2]  # the middle school: traditional
    assert plsim.check_scenario(tiny_doc) == [
        "tiny: /districts/0/schools/1/model_years: names the years of the group's model, but its schools are "
        "traditional; give the group a model or models (got [1,2])"]


def test_a_scenario_may_define_its_own_instructional_model(tiny_doc):
    tiny_doc["instructional_models"] = {"tutoring_block": {"minutes": {"whole_class": 200, "tutoring": 100}}}
    tiny_doc["districts"][0]["schools"][1]["model"] = "tutoring_block"
    resolved = plsim.load_scenario(tiny_doc).resolved
    model = resolved["instructional_models"]["tutoring_block"]
    assert model["progression"] == "seat_time"
    assert model["minutes"]["tutoring"] == 100
    assert resolved["districts"][0]["schools"][1]["models"] == {"tutoring_block": 1.0}


# --- check_scenario -------------------------------------------------------------------------------

@pytest.mark.parametrize("source", [str(p) for p in REPO_SCENARIOS] + [str(TINY_PATH), "national_baseline"],
                         ids=lambda s: Path(s).name)
def test_check_scenario_returns_no_errors_for_a_valid_scenario(source):
    assert plsim.check_scenario(source) == []


def test_check_scenario_returns_the_errors_of_an_invalid_file_instead_of_raising():
    errors = plsim.check_scenario(INVALID_PATH)
    assert len(errors) == 6
    assert all(e.startswith(f"{INVALID_PATH}: /") for e in errors)


def test_a_file_that_is_not_json_is_reported_with_its_name_and_the_parse_position():
    errors = plsim.check_scenario(NOT_JSON_PATH)
    assert len(errors) == 1
    assert errors[0].startswith(f"{NOT_JSON_PATH}: invalid JSON: ")
    assert "line 3" in errors[0]
    with pytest.raises(plsim.ScenarioError, match="invalid JSON"):
        plsim.load_scenario(NOT_JSON_PATH)


# --- JSON Schema ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def validator():
    schema = plsim.scenario_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_is_a_draft_2020_12_schema_of_plsim_scenarios():
    schema = plsim.scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["name", "districts"]
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", REPO_SCENARIOS + [TINY_PATH], ids=lambda p: p.name)
def test_the_schema_accepts_every_shipped_scenario(validator, path):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize(
    "change, pointer",
    [(lambda d: d.update(yeers=2), []),
     (lambda d: d.update(years=0), ["years"]),
     (lambda d: d["districts"][0]["schools"][0].update(enrollment=2.5), ["districts", 0, "schools", 0, "enrollment"]),
     (lambda d: d["districts"][0]["schools"][0].update(level="kindergarten"), ["districts", 0, "schools", 0, "level"]),
     (lambda d: d["districts"][0]["schools"][0].pop("enrollment"), ["districts", 0, "schools", 0]),
     (lambda d: d.update(parameters={"learning": {"learn_rate": 1.5}}), ["parameters", "learning", "learn_rate"])],
    ids=["unknown key", "out of range", "not an integer", "not a choice", "required key missing", "nested range"])
def test_the_schema_rejects_what_the_loader_rejects(validator, tiny_doc, change, pointer):
    change(tiny_doc)
    assert plsim.check_scenario(tiny_doc) != []
    paths = [list(e.absolute_path) for e in validator.iter_errors(tiny_doc)]
    assert pointer in paths, paths


def test_the_committed_schema_file_is_the_generated_schema():
    """scenarios/scenario.schema.json must be regenerated (`plsim schema --out ...`) whenever the
    specification in engine/src/scenario.cpp or the defaults in engine/include/plsim/model.hpp change."""
    committed = _leaves(json.loads((REPO / "scenarios" / "scenario.schema.json").read_text()))
    generated = _leaves(plsim.scenario_schema())
    stale = {path: (committed.get(path), generated.get(path))
             for path in sorted(set(committed) | set(generated)) if committed.get(path) != generated.get(path)}
    assert stale == {}, "PACKAGE BUG: scenario.schema.json differs from plsim.scenario_schema(); " + "; ".join(
        f"{path}: committed {c}, generated {g}" for path, (c, g) in stale.items())


def _leaves(node, path=""):
    """Every scalar of a JSON document by its JSON pointer."""
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(_leaves(v, f"{path}/{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(_leaves(v, f"{path}/{i}"))
    else:
        out[path] = json.dumps(node)
    return out


def test_national_scale_is_the_size_of_the_country():
    """About 50 million students in about 100,000 schools of 13,000 districts (issue 13's scale run),
    checked from the resolved scenario without building it."""
    r = plsim.load_scenario("national_scale").resolved
    districts = sum(d["count"] for d in r["districts"])
    schools = sum(d["count"] * g["count"] for d in r["districts"] for g in d["schools"])
    students = sum(d["count"] * g["count"] * g["enrollment"] for d in r["districts"] for g in d["schools"])
    assert districts == 13_000
    assert 90_000 <= schools <= 110_000
    assert 49e6 <= students <= 50e6
    assert r["years"] == 5
