"""Property-based tests (hypothesis) of the files plsim reads besides scenarios: checkpoints edited,
truncated or forged in any way either load or are refused with plsim's CheckpointError (one line, naming
the file), and tables of schools (plsim.from_schools, as a DataFrame or as CSV bytes) either give a
valid scenario or are refused with SchoolTableError, each message naming the table and the row or column
at fault; never another exception. tests/fuzz/run_state_fuzzer.cpp fuzzes the engine's side of
checkpoints; scripts/test-sanitizers.sh runs these tests under ASan and UBSan."""
from __future__ import annotations

import hashlib
import json
import re
import struct
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plsim
from plsim.checkpoint import FORMAT_VERSION, MAGIC, from_bytes, to_bytes

from conftest import edit_json, elementary_district

# Derandomized: the same examples every run, so the suite is reproducible (tests/fuzz explores).
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Hostile values a hand-edited file can hold.
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2**70, max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**32, 2**63, -2**63 - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "policy", "counterfactual", "traditional", "\x00", "é", "1e400", "plsim.Process"]),
    st.text(max_size=10),
)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)), max_leaves=6)


# ----------------------------------------------------------------------------------------------
# Checkpoints

_HEADER = len(MAGIC) + 20  # magic, then version (u32), manifest size and body size (u64)


class _Checkpoint(bytes):
    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"<checkpoint of {len(self)} bytes>"


@pytest.fixture(scope="module")
def checkpoint() -> bytes:
    """A checkpoint of a small two-year run on a PL model, saved at its year end."""
    doc = elementary_district(schools=2, enrollment=60, years=2, model="station_rotation", seed=4)
    return _Checkpoint(to_bytes(plsim.Sim(doc, threads=1).run(until_year=1)))


def _parts(data: bytes) -> tuple[dict, bytes]:
    _, manifest_size, _ = struct.unpack_from("<IQQ", data, len(MAGIC))
    return json.loads(data[_HEADER:_HEADER + manifest_size]), data[_HEADER + manifest_size:-32]


def _sealed(manifest_bytes: bytes, body: bytes, version: int = FORMAT_VERSION) -> bytes:
    """A file as anyone can write one: header and checksum recomputed (the checksum has no key)."""
    out = MAGIC + struct.pack("<IQQ", version, len(manifest_bytes), len(body)) + manifest_bytes + body
    return out + hashlib.sha256(out).digest()


def _load_or_refuse(data: bytes, name: str = "edited.plsim") -> str:
    """'loaded' or 'refused'; anything but a CheckpointError of one line naming the file fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from_bytes(data, name)
    except plsim.CheckpointError as error:
        message = str(error)
        assert message.startswith(f"{name}: "), message
        assert "\n" not in message, message
        message.encode("utf-8")
        return "refused"
    return "loaded"


@st.composite
def byte_edits(draw):
    """One to six bytes overwritten anywhere after the magic, then maybe a cut or an appended tail."""
    edits = draw(st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6))
    cut = draw(st.one_of(st.none(), st.floats(0, 1)))
    tail = draw(st.binary(max_size=8))
    reseal = draw(st.booleans())
    return edits, cut, tail, reseal


@SETTINGS
@given(byte_edits())
def test_a_checkpoint_edited_at_any_bytes_loads_or_is_refused_with_a_checkpoint_error(checkpoint, edit):
    edits, cut, tail, reseal = edit
    data = bytearray(checkpoint)
    for where, value in edits:
        data[len(MAGIC) + int(where * (len(data) - len(MAGIC)))] = value
    if cut is not None:
        data = data[:int(cut * len(data))]
    data += tail
    if reseal and len(data) > 32:
        data = data[:-32] + hashlib.sha256(bytes(data[:-32])).digest()
    outcome = _load_or_refuse(bytes(data))
    if not reseal:  # without a valid checksum, nothing edited loads
        assert outcome == "refused" or bytes(data) == checkpoint


@st.composite
def manifest_edits(draw, manifest: dict):
    """The manifest with one to three edits at paths drawn by walking into it: a value replaced by a
    hostile one, a key deleted, or an unknown key added."""
    doc = json.loads(json.dumps(manifest))
    edit_json(draw, doc, values)
    return doc


@SETTINGS
@given(st.data())
def test_a_forged_manifest_with_a_valid_checksum_loads_or_is_refused_with_a_checkpoint_error(checkpoint, data):
    manifest, body = _parts(checkpoint)
    forged = data.draw(manifest_edits(manifest))
    try:
        text = json.dumps(forged, allow_nan=True).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        return  # not writable as JSON text (the manifest is read as JSON)
    _load_or_refuse(_sealed(text, body))


@pytest.mark.parametrize("field, value, message", [
    ("arms_done_this_week", [[]], "/arms_done_this_week"),
    ("hooks", {"policies": True}, "/hooks"),
], ids=["arm-name-a-list", "hooks-slot-a-bool"])
def test_manifests_the_property_test_found_are_refused_naming_the_field(checkpoint, field, value, message):
    # Found by the tests above: each raised TypeError out of the manifest's checks.
    manifest, body = _parts(checkpoint)
    manifest[field] = value
    with pytest.raises(plsim.CheckpointError, match=message):
        from_bytes(_sealed(json.dumps(manifest).encode(), body), "forged.plsim")


@SETTINGS
@given(manifest=st.one_of(st.binary(max_size=64), values.map(lambda v: json.dumps(v).encode())),
       body=st.one_of(st.binary(max_size=256), st.just(None)),
       version=st.sampled_from([0, 1, 2, 3, 2**32 - 1]))
def test_a_forged_file_of_any_manifest_and_body_is_refused_with_a_checkpoint_error(checkpoint, manifest, body,
                                                                                   version):
    # A real engine state under a made-up manifest, or made-up state under the real manifest's header.
    real_manifest, real_body = _parts(checkpoint)
    data = _sealed(manifest, real_body if body is None else body, version)
    assert _load_or_refuse(data) == "refused"
    if body is not None:
        _load_or_refuse(_sealed(json.dumps(real_manifest).encode(), body, version))


# ----------------------------------------------------------------------------------------------
# Tables of schools

COLUMNS = ["enrollment", "id", "name", "level", "grades", "grade_lo", "grade_hi", "type", "frl_share", "class_size",
           "achievement_shift_sd", "start_percentile", "model", "implementation_year"]
cells = st.one_of(
    scalars,
    st.integers(-5, 2000),
    st.floats(-3, 3),
    st.sampled_from(["K-5", "6-8", "9-12", "K-12", "5-K", "13-14", "K", "elementary", "middle", "high", "charter",
                     "district", "station_rotation", "nonsense", "1.5", "-1"]),
)


@st.composite
def school_tables(draw):
    """A table of one to four schools: a draw of the known columns (enrollment usually among them),
    sometimes an unknown one, each cell a plausible or hostile value."""
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=6, unique=True))
    if draw(st.integers(0, 4)) > 0 and "enrollment" not in columns:
        columns.insert(0, "enrollment")
    if draw(st.integers(0, 9)) == 0:
        columns.append(draw(st.text(min_size=1, max_size=6)))
    rows = draw(st.integers(1, 4))
    return pd.DataFrame({c: [draw(cells) for _ in range(rows)] for c in dict.fromkeys(columns)})


def _scenario_or_table_error(table, source: str):
    try:
        scenario = plsim.from_schools(table, years=1)
    except plsim.SchoolTableError as error:
        assert error.errors, "a refusal says what is wrong"
        for message in error.errors:
            assert message.startswith(f"{source}: "), message
            # Where in the table: a row, a column, or the table as a whole.
            assert re.search(r"row \d|column|has no schools|not a CSV table|not UTF-8|larger than", message), message
            message.encode("utf-8", "surrogatepass")
        return None
    assert plsim.check_scenario(scenario) == []
    return scenario


@SETTINGS
@given(school_tables())
def test_a_table_of_schools_gives_a_valid_scenario_or_a_school_table_error_naming_row_and_column(table):
    _scenario_or_table_error(table, "<table>")


@SETTINGS
@given(st.one_of(
    st.binary(max_size=200),
    school_tables().map(lambda t: t.to_csv(index=False).encode("utf-8", "surrogatepass")),
))
def test_a_csv_file_of_schools_of_any_bytes_gives_a_valid_scenario_or_a_school_table_error(tmp_path, data):
    path = tmp_path / "schools.csv"
    path.write_bytes(data)
    _scenario_or_table_error(path, str(path))


@pytest.mark.parametrize("column, value", [
    ("frl_share", "many"), ("achievement_shift_sd", float("inf")), ("start_percentile", [50]), ("grade_lo", "K"),
])
def test_cells_the_property_test_found_are_refused_naming_row_and_column(column, value):
    # Found by the tests above: each raised TypeError or ValueError out of from_schools.
    table = pd.DataFrame({"enrollment": [120], "level": ["elementary"], column: [value], "grade_hi": [5]})
    with pytest.raises(plsim.SchoolTableError, match=f"<table>: row 1: column {column}: expected"):
        plsim.from_schools(table)
