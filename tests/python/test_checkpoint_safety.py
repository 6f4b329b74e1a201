"""Checkpoints run no code they choose: hooks travel as a class name and plain data, every field of a
file is checked against its type and range, and a damaged, edited or forged file is refused with a
CheckpointError naming it (never a raw exception)."""
from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import warnings

import numpy as np
import pytest

import plsim
import plsim.cli
from plsim.checkpoint import FORMAT_VERSION, MAGIC, from_bytes, to_bytes

from conftest import elementary_district

PWNED = []  # what the payload below would have recorded


def _payload(*args):
    PWNED.append(args)
    return None


class Armed(plsim.Process):
    """A hook whose pickled form is a call of the file's choosing (as a forged file would hold)."""

    def __init__(self):
        self.armed = True
        self.weeks = 0
        self.history = np.arange(5, dtype=np.float32)
        self.rng = np.random.default_rng(3)
        self.table = {"a": (1, 2.5), 3: {"nested": [float("nan"), None, b"raw"]}}

    def on_week(self, ctx):
        self.weeks += 1

    def __reduce__(self):
        return (_payload, ("unpickled",))


class WithState(plsim.Process):
    """A hook that says what of it is state (get_state/set_state), leaving out what is not data."""

    def __init__(self, scale=2.0):
        self.scale = scale
        self.cache = lambda x: x * self.scale  # not data: rebuilt by set_state

    def get_state(self):
        return {"scale": self.scale}

    def set_state(self, state):
        self.scale = state["scale"]
        self.cache = lambda x: x * self.scale


class HoldsAFunction(plsim.Process):
    def __init__(self):
        self.weights = {"math": [1.0, 2.0], "reading": [len]}


def small(years=2):
    return elementary_district(schools=2, enrollment=60, years=years, model="station_rotation", seed=4)


def forged(data: bytes, edit) -> bytes:
    """Checkpoint bytes with their manifest changed by `edit` and the header and checksum recomputed,
    as anyone can (the checksum has no key)."""
    start = len(MAGIC) + 20
    _, manifest_size, body_size = struct.unpack_from("<IQQ", data, len(MAGIC))
    manifest = json.loads(data[start:start + manifest_size])
    manifest = edit(manifest) or manifest
    new = json.dumps(manifest).encode() if not isinstance(manifest, bytes) else manifest
    body = data[start + manifest_size:-32]
    head = MAGIC + struct.pack("<IQQ", FORMAT_VERSION, len(new), len(body))
    out = head + new + body
    return out + hashlib.sha256(out).digest()


def manifest_of(data: bytes) -> dict:
    _, manifest_size, _ = struct.unpack_from("<IQQ", data, len(MAGIC))
    return json.loads(data[len(MAGIC) + 20:len(MAGIC) + 20 + manifest_size])


def resealed(data: bytes) -> bytes:
    """Bytes edited anywhere, with the checksum recomputed."""
    return data[:-32] + hashlib.sha256(data[:-32]).digest()


@pytest.fixture(scope="module")
def armed_bytes():
    sim = plsim.Sim(small(), threads=1, processes=[Armed()]).run(until_year=1)
    return to_bytes(sim)


def test_a_hook_whose_pickle_runs_a_command_is_saved_and_loaded_without_running_it(armed_bytes, tmp_path):
    PWNED.clear()
    path = tmp_path / "run.plsim"
    path.write_bytes(armed_bytes)
    sim = plsim.load(path)
    assert PWNED == [], "nothing of the file was called"
    hook = sim.processes[0]
    assert type(hook) is Armed and hook.armed and hook.weeks == 2 * 36
    assert hook.history.dtype == np.float32 and np.array_equal(hook.history, np.arange(5))
    assert hook.table["a"] == (1, 2.5) and hook.table[3]["nested"][1:] == [None, b"raw"]
    assert np.isnan(hook.table[3]["nested"][0])
    assert hook.rng.random() == np.random.default_rng(3).random(), "the generator kept its position (none used)"
    record = manifest_of(armed_bytes)["hooks"]["processes"][0]
    assert (record["module"], record["class"]) == ("test_checkpoint_safety", "Armed")
    assert "_payload" not in json.dumps(record), "the hook's __reduce__ played no part in saving it"
    sim.run()
    assert sim.finished and PWNED == []


def test_plsim_resume_of_a_checkpoint_with_hooks_needs_no_flag_and_runs_nothing(armed_bytes, tmp_path, capsys):
    PWNED.clear()
    path = tmp_path / "run.plsim"
    path.write_bytes(armed_bytes)
    assert plsim.cli.main(["resume", str(path), "--out", str(tmp_path / "out")]) == 0
    assert PWNED == [] and (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.parametrize("module, name, message", [
    ("os", "system", "os.system is not a subclass of plsim.Process"),
    ("subprocess", "Popen", "subprocess.Popen is not a subclass of plsim.Process"),
    ("antigravity", "Hook", "is not a plsim hook class that can be imported"),
    ("numpy", "ndarray", "is not a subclass of plsim.Process"),
    ("plsim", "Sim", "is not a subclass of plsim.Process"),
    ("no_such_module_here", "Hook", "cannot be imported"),
    ("test_checkpoint_safety", "Missing", "has no class Missing"),
    ("os; rm -rf", "x", "is not a Python class name"),
], ids=["os.system", "subprocess", "stdlib not imported", "not a hook", "a plsim class", "missing module", "missing class", "not a name"])
def test_a_forged_hook_naming_anything_but_a_plsim_hook_class_is_refused(armed_bytes, module, name, message):
    """A module of the standard library that is not imported yet is never imported (antigravity would
    open a browser); one already imported is looked in, and its function or class is no plsim hook."""
    def edit(m):
        m["hooks"]["processes"][0].update(module=module, **{"class": name})

    with pytest.raises(plsim.CheckpointError, match=message) as info:
        from_bytes(forged(armed_bytes, edit), "forged.plsim")
    assert str(info.value).startswith("forged.plsim: hooks/processes[0]")


@pytest.mark.parametrize("state, message", [
    ({"$pickle": "gASV"}, "unknown tag '\\$pickle'"),
    ({"$dict": [[{"$ndarray": {"dtype": "|O8", "shape": [1], "data": "AAAAAAAAAAA="}}, 1]]}, "not a numeric numpy dtype"),
    ({"$dict": [["x", {"$ndarray": {"dtype": "<f8", "shape": [1000000], "data": "AAAAAAAAAAA="}}]]}, "needs 8000000 bytes"),
    ({"$dict": [["rng", {"$generator": {"bit_generator": "os.system", "state": None}}]]}, "not one of numpy's bit generators"),
    ({"$dict": [["x", {"$float": "__import__('os')"}]]}, "must be 'nan', 'inf' or '-inf'"),
    ([1, 2], "must be a dict of attributes"),
], ids=["pickle tag", "object array", "short data", "bit generator", "float", "not a dict"])
def test_a_forged_hook_state_is_refused_for_what_it_holds(armed_bytes, state, message):
    def edit(m):
        m["hooks"]["processes"][0]["state"] = state

    with pytest.raises(plsim.CheckpointError, match=message):
        from_bytes(forged(armed_bytes, edit), "forged.plsim")


def test_a_hook_with_get_state_and_set_state_stores_only_what_it_says(tmp_path):
    sim = plsim.Sim(small(years=1), threads=1, processes=[WithState(3.0)])
    sim.save(tmp_path / "run.plsim")
    hook = plsim.load(tmp_path / "run.plsim").processes[0]
    assert hook.scale == 3.0 and hook.cache(2) == 6.0


def test_a_hook_whose_state_is_not_data_is_refused_at_save_time_naming_hook_and_attribute(tmp_path):
    sim = plsim.Sim(small(years=1), threads=1, processes=[HoldsAFunction()])
    with pytest.raises(plsim.CheckpointError) as info:
        sim.save(tmp_path / "run.plsim")
    message = str(info.value)
    assert "processes[0] (test_checkpoint_safety.HoldsAFunction)" in message
    assert "attribute weights.reading[0] holds a builtins.builtin_function_or_method" in message
    assert "get_state() and set_state()" in message and "\n" not in message
    assert not (tmp_path / "run.plsim").exists()


def plain_bytes(years=2, until=1):
    return to_bytes(plsim.Sim(small(years), threads=1).run(until_year=until))


@pytest.mark.parametrize("field, value, message", [
    ("threads", -1, "/threads: expected 0"),
    ("threads", "8", "/threads: expected 0"),
    ("counterfactual", "yes", "/counterfactual: expected true or false"),
    ("arms", [["policy", 5]], "/arms"),
    ("hooks_done", {"policy": [999, 0]}, "/hooks_done/policy"),
    ("hooks_done", {"policy": [0, 0]}, "/hooks_done/policy: not a hook stage"),
    ("hook_times", {"python_processes": [float("inf"), 0]}, "not JSON|/hook_times"),
    ("arms_done_this_week", ["elsewhere"], "/arms_done_this_week"),
    ("scenario", {"document": {"name": "x"}, "source": "s"}, "its scenario is not valid here"),
    ("extra", [], "/extra: expected an object"),
    ("plsim_version", None, "/plsim_version"),
], ids=lambda v: str(v)[:20])
def test_every_manifest_field_is_checked_against_its_type_and_range(field, value, message):
    def edit(m):
        m[field] = value

    with pytest.raises(plsim.CheckpointError, match=message) as info:
        from_bytes(forged(plain_bytes(), edit), "edited.plsim")
    assert str(info.value).startswith("edited.plsim: ") and "\n" not in str(info.value)


def test_a_manifest_asking_for_a_million_threads_is_clamped_with_a_warning():
    def edit(m):
        m["threads"] = 10 ** 6

    with pytest.warns(UserWarning, match="asked for 1000000, but this machine runs"):
        sim, _ = from_bytes(forged(plain_bytes(), edit), "edited.plsim")
    assert sim._core.threads_used <= os.cpu_count()
    sim.run()
    assert sim.finished
    del sim  # garbage collection of a run asked for 10**6 threads must not crash the process


def test_a_manifest_that_is_not_json_or_not_utf8_or_has_a_duplicated_key_is_refused():
    data = plain_bytes()
    for manifest, message in [(b"\xff\xfe{}", "not UTF-8"), (b"{\"threads\": ", "not JSON"),
                              (b'{"threads": 1, "threads": 2}', "/threads: the key appears more than once")]:
        with pytest.raises(plsim.CheckpointError, match=message):
            from_bytes(forged(data, lambda m, b=manifest: b), "edited.plsim")


@pytest.mark.parametrize("column, value, message", [
    (b"students.grade", 200, "students.grade of row 0 is out of range"),
    (b"schools.district", 7, "schools.district of row 0 is out of range"),
    (b"schools.pl_stage", 9, "schools.pl_stage of row 0 is out of range"),
    (b"teachers.school", 99, "teachers.school of row 0 is out of range"),
    (b"classrooms.instructional_model", 50, "classrooms.instructional_model of row 0 is out of range"),
], ids=lambda v: v.decode() if isinstance(v, bytes) else str(v))
def test_an_engine_state_whose_indices_point_outside_it_is_refused(column, value, message):
    data = bytearray(plain_bytes())
    at = data.index(column)
    # column name, then its length (8 bytes), then the values: the first value's low byte is edited.
    data[at + len(column) + 8] = value
    with pytest.raises(plsim.CheckpointError, match=message) as info:
        from_bytes(resealed(bytes(data)), "edited.plsim")
    assert "the policy run: run state:" in str(info.value)


def test_random_edits_of_a_resealed_checkpoint_never_end_in_a_raw_exception():
    data = plain_bytes()
    rng = random.Random(20)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(200):
        edited = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            edited[rng.randrange(len(MAGIC), len(edited) - 32)] = rng.randrange(256)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sim, _ = from_bytes(resealed(bytes(edited)), "edited.plsim")
        except plsim.CheckpointError as error:
            assert "\n" not in str(error) and str(error).startswith("edited.plsim: ")
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1  # an edit of a value the state may hold (a score, a trait)
    assert outcomes["refused"] > 0 and sum(outcomes.values()) == 200


def test_a_checkpoint_of_an_older_plsim_with_pickled_hooks_is_refused_without_unpickling():
    data = plain_bytes()

    def edit(m):
        del m["hooks"]
        m["hooks_bytes"] = 40

    old = bytearray(forged(data, edit))
    old[len(MAGIC):len(MAGIC) + 4] = (1).to_bytes(4, "little")
    with pytest.raises(plsim.CheckpointError, match="never unpickles"):
        from_bytes(resealed(bytes(old)), "old.plsim")


def test_plsim_resume_continues_a_checkpoint_written_by_sim_save(tmp_path, capsys):
    sim = plsim.Sim(small(), threads=1).run(until_year=1)
    sim.save(tmp_path / "run.plsim")
    assert plsim.cli.main(["resume", str(tmp_path / "run.plsim"), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["years"] == 2 and summary["level"] == "school"


def test_resume_refuses_saved_run_options_out_of_range(tmp_path, capsys):
    sim = plsim.Sim(small(), threads=1).run(until_year=1)
    sim.save(tmp_path / "run.plsim", extra={"level": "galaxy"})
    assert plsim.cli.main(["resume", str(tmp_path / "run.plsim")]) == 2
    err = capsys.readouterr().err
    assert "/extra/level: 'galaxy' is not a value of plsim run's option" in err and "Traceback" not in err


@pytest.mark.parametrize("path", ["/dev/zero", "/proc/self"], ids=["device", "directory"])
def test_loading_a_device_or_directory_as_a_checkpoint_fails_at_once(path):
    with pytest.raises(plsim.CheckpointError, match="not a regular file|is a directory"):
        plsim.load(path)


def test_a_checkpoint_larger_than_its_header_announces_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "run.plsim"
    path.write_bytes(plain_bytes())
    with open(path, "ab") as f:
        f.truncate(path.stat().st_size + (1 << 30))  # a sparse gigabyte: refused from its size alone
    with pytest.raises(plsim.CheckpointError, match="over-long checkpoint: its header announces"):
        plsim.load(path)
