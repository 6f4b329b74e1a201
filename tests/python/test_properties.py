"""Property-based tests of the Python API (hypothesis): scenarios mutated at random paths with hostile
values are either valid, and then load and run, or refused with ScenarioError messages that name the
source and a JSON path; no other exception, ever. The C++ side is fuzzed by tests/fuzz."""
from __future__ import annotations

import copy
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plsim

from conftest import edit_json, tiny_document

# Derandomized: the same examples every run, so the suite is reproducible (tests/fuzz explores).
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# Values a user (or a buggy script) can put in a scenario dict.
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2**70, max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, -2**31 - 1, 2**53 + 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "traditional", "station_rotation", "elementary", "\ud800", "\x00", "é" * 3, "1e400"]),
    st.text(max_size=12),
)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)), max_leaves=8)


@st.composite
def mutated_scenarios(draw):
    """tiny.json with one to three mutations, each at a path drawn by walking into the document:
    replace the value there, delete it, or add an unknown key beside it."""
    doc = tiny_document()
    edit_json(draw, doc, values)
    return doc


def assert_readable(errors: list[str], source: str) -> None:
    assert errors, "a refusal says what is wrong"
    for e in errors:
        assert isinstance(e, str) and e.startswith(f"{source}: /"), e  # the source, then the JSON path
        e.encode("utf-8")  # printable, whatever the input held


def test_errors_quoting_multibyte_text_cut_short_are_still_valid_utf8():
    # Found by the property test under ASan: an error quoting the first 60 bytes of a value cut a
    # four-byte character in two, and Python could not decode the message.
    doc = tiny_document()
    doc["name"] = {"": None, "\x1f\x80": {"": "traditional", "\x1f": None}, "\U00010000": None}
    errors = plsim.check_scenario(doc)
    assert errors and all(e.startswith("<dict>: /") for e in errors)


@SETTINGS
@given(mutated_scenarios())
def test_a_mutated_scenario_is_valid_and_runs_or_is_refused_with_paths(doc):
    original = copy.deepcopy(doc)
    errors = plsim.check_scenario(doc)
    assert doc == original or _has_nan(original), "checking does not change the document"
    source = doc.get("name") if isinstance(doc.get("name"), str) and _encodable(doc.get("name")) else "<dict>"
    if errors:
        assert_readable(errors, source)
        try:
            plsim.load_scenario(doc)
        except plsim.ScenarioError as error:
            assert error.errors == errors, "load_scenario and check_scenario agree"
        else:
            raise AssertionError("check_scenario found errors but load_scenario accepted the scenario")
        return
    scenario = plsim.load_scenario(doc)
    students = sum(d["count"] * g["count"] * g["enrollment"] for d in scenario.resolved["districts"]
                   for g in d["schools"])
    if students <= 5000:
        sim = plsim.Sim(scenario, threads=1)
        sim.step()
        assert sim.counts["weeks_simulated"] == 1


@pytest.mark.filterwarnings("ignore:threads. asked for")
@SETTINGS
@given(threads=st.one_of(st.integers(-5, 300), st.floats(allow_nan=True), st.text(max_size=3), st.none()),
       seed=st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_sim_arguments_are_accepted_or_refused_by_name(threads, seed):
    try:
        sim = plsim.Sim(tiny_document(), threads=threads, seed=seed, counterfactual=False)
    except ValueError as error:
        assert str(error).startswith(("threads:", "seed:")), error
        return
    assert sim.seed == (seed if seed is not None else tiny_document()["seed"])


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_nan(value) -> bool:
    """NaN != NaN, so a document holding one never compares equal to its copy."""
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return False
