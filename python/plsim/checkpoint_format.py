"""Checkpoint files: a whole run in one file, to stop it at a year end and continue it later, elsewhere or
in another process (Dask pickles a Sim through the same bytes).

A checkpoint holds the scenario as validated, each arm's engine state (agents, results so far, the
stage it stands at; random streams need no position: every draw is keyed by seed, entity and tick),
how far the Python hooks of an unfinished hook stage got, and the hooks themselves as data: each by
the name of its class (a plsim Policy, Process or RolloutPlan subclass, checked on loading) and its
state (plsim.hook_state). The layout::

    b"PLSIM checkpoint\\n"      17 bytes: what the file is
    format version             4 bytes, little-endian
    manifest length            8 bytes
    body length                8 bytes
    manifest                   UTF-8 JSON: scenario, options, hooks, hook progress, the states' sizes
    body                       each arm's engine state
    SHA-256                    32 bytes, of everything before it

Loading a checkpoint runs no code it chooses: nothing in it is unpickled; hook classes are found by
name among plsim subclasses and given their saved attributes. Anyone can edit a checkpoint and
recompute its checksum (it has no key), so the checksum only catches damage: every field is checked
against its type and range (here, and the engine state by the engine), and a bad file is refused with
a CheckpointError naming it.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
from pathlib import Path
from typing import Any, Tuple, Union

from . import _core
from .hook_state import SLOTS
from .resources import machine_memory
from .safe_io import parse_json, regular_file_size

CheckpointError = _core.CheckpointError
MAGIC = b"PLSIM checkpoint\n"
FORMAT_VERSION = 5  # 2: hooks as data (version 1 pickled them); 3: years counted from 1 in the results;
# 4: teachers decide to leave at the end of a year (the engine's teachers.leaving, a stage for it);
# 5: rollout rows with target_kind, held_back and students_reached (what a plan's target means)
# Why a checkpoint of an older format is refused rather than continued (versions 1 to 3).
_BEFORE_YEARS_FROM_1 = ("checkpoint format version {version}, written by a plsim that counted years from 0 in its "
                        "results and had no teachers row for the first year: a resumed run's tables would mix the "
                        "two counts, so it is not continued; re-run the scenario with this plsim")
_BEFORE_YEAR_END_TURNOVER = ("checkpoint format version {version}, written by a plsim that drew teacher turnover at "
                             "the start of a year: its teachers carry no decisions to leave for the transition it "
                             "stands before, so a resumed run would skip a year's turnover; it is not continued; "
                             "re-run the scenario with this plsim")
_BEFORE_TARGET_KINDS = ("checkpoint format version {version}, written by a plsim whose rollout rows had no "
                        "target_kind, held_back or students_reached: a resumed run's rollout table would lack them "
                        "for its first years, so it is not continued; re-run the scenario with this plsim")
_REFUSED = {2: _BEFORE_YEARS_FROM_1, 3: _BEFORE_YEAR_END_TURNOVER, 4: _BEFORE_TARGET_KINDS}
_HEADER = struct.Struct("<IQQ")
_DIGEST = 32
ARMS = ("policy", "counterfactual")
#: The stages of the engine's schedule, by index (hook progress is saved as an index).
STAGE_NAMES = [stage["stage"] for stage in _core.schedule()]
#: Deepest nesting of a manifest (a hook's state adds three levels per level of its own).
_MANIFEST_DEPTH = 256
#: A thread count above this is clamped to it before the engine sees it (the engine clamps to the
#: machine's cores, with a warning).
_MAX_THREADS = 2 ** 31 - 1

PathLike = Union[str, os.PathLike]


def pack(manifest: dict, arms: list) -> bytes:
    """Checkpoint bytes of a manifest (JSON-ready) and each arm's engine state, [(arm, bytes)]; the
    manifest gets the arms' names and sizes."""
    manifest = dict(manifest, arms=[[arm, len(state)] for arm, state in arms])
    try:
        manifest_bytes = json.dumps(manifest, allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint: extra must be JSON-ready ({error})") from None
    body = b"".join(state for _, state in arms)
    out = io.BytesIO()
    out.write(MAGIC)
    out.write(_HEADER.pack(FORMAT_VERSION, len(manifest_bytes), len(body)))
    out.write(manifest_bytes)
    out.write(body)
    out.write(hashlib.sha256(out.getbuffer()).digest())
    return out.getvalue()


def unpack(data: bytes, where: str) -> Tuple[dict, dict]:
    """The manifest (every field checked) and each arm's engine state {arm: bytes} of checkpoint bytes."""
    manifest, body = _parse(data, where)
    states, position = {}, 0
    for arm, size in manifest["arms"]:
        states[arm] = body[position:position + size]
        position += size
    return manifest, states


def _sizes(header: bytes, where: str) -> Tuple[int, int, int]:
    """(version, manifest size, body size) of a checkpoint's first bytes, after checking what they are."""
    if not header.startswith(MAGIC):
        raise CheckpointError(f"{where}: not a plsim checkpoint (it starts with {bytes(header[:len(MAGIC)])!r}; "
                              f"checkpoints start with {MAGIC!r})")
    if len(header) < len(MAGIC) + _HEADER.size:
        raise CheckpointError(f"{where}: truncated checkpoint ({len(header)} bytes, shorter than its header)")
    version, manifest_size, body_size = _HEADER.unpack_from(header, len(MAGIC))
    if version not in (1, *_REFUSED, FORMAT_VERSION):
        raise CheckpointError(f"{where}: checkpoint format version {version}; this plsim reads version "
                              f"{FORMAT_VERSION}")
    return version, manifest_size, body_size


def _parse(data: bytes, where: str) -> Tuple[dict, bytes]:
    """The manifest (checked field by field) and the body of checkpoint bytes, after checking what they
    are, their version, length and checksum."""
    version, manifest_size, body_size = _sizes(bytes(data[:len(MAGIC) + _HEADER.size]), where)
    start = len(MAGIC) + _HEADER.size
    expected = start + manifest_size + body_size + _DIGEST
    if len(data) != expected:
        raise CheckpointError(f"{where}: {'truncated' if len(data) < expected else 'over-long'} checkpoint: its header "
                              f"announces {expected} bytes, the file has {len(data)}")
    if hashlib.sha256(memoryview(data)[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise CheckpointError(f"{where}: corrupted checkpoint: its SHA-256 checksum does not match its contents")

    def refuse(message: str) -> Exception:
        return CheckpointError(f"{where}: bad checkpoint manifest: {message.split(': ', 1)[-1]}")

    try:
        manifest = parse_json(bytes(data[start:start + manifest_size]), where, what="checkpoint", error=refuse,
                              depth=_MANIFEST_DEPTH)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{where}: bad checkpoint manifest: not JSON ({error})") from None
    body = bytes(data[start + manifest_size:-_DIGEST])
    return _checked_manifest(manifest, version, len(body), where), body


def _checked_manifest(m: Any, version: int, body_size: int, where: str) -> dict:
    """The manifest with every field checked against its type and range (a forged file can hold anything)."""
    def bad(field: str, expected: str) -> CheckpointError:
        return CheckpointError(f"{where}: bad checkpoint manifest: {field}: expected {expected}; the file was edited "
                               f"or written by another program, so it is not used")

    def integer(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not isinstance(m, dict):
        raise bad("/", "an object")
    if version < FORMAT_VERSION and not (version == 1 and m.get("hooks_bytes")):  # (pickled hooks: said below)
        raise CheckpointError(f"{where}: {_REFUSED.get(version, _BEFORE_YEARS_FROM_1).format(version=version)}")
    required = {"plsim_version", "scenario", "threads", "counterfactual", "hooks_done", "hook_times",
                "arms_done_this_week", "interrupted_hook", "arms", "extra"}
    missing = required - set(m)
    if missing:
        raise bad(f"/{sorted(missing)[0]}", "a value (the field is missing)")
    if not isinstance(m["plsim_version"], str) or len(m["plsim_version"]) > 64:
        raise bad("/plsim_version", "a version string")
    scenario = m["scenario"]
    if not (isinstance(scenario, dict) and isinstance(scenario.get("document"), dict)
            and isinstance(scenario.get("source"), str)):
        raise bad("/scenario", "an object with a document and its source")
    if not integer(m["threads"]) or m["threads"] < 0:
        raise bad("/threads", "0 (all cores) or a positive integer")
    m["threads"] = min(m["threads"], _MAX_THREADS)
    if not isinstance(m["counterfactual"], bool):
        raise bad("/counterfactual", "true or false")
    arms = m["arms"]
    names = list(ARMS if m["counterfactual"] else ARMS[:1])
    if not (isinstance(arms, list) and [a[0] if isinstance(a, list) and len(a) == 2 else None for a in arms] == names
            and all(integer(a[1]) and a[1] >= 0 for a in arms)):
        raise bad("/arms", f"[name, size] of the arms {', '.join(names)}")
    if sum(a[1] for a in arms) != body_size:
        raise bad("/arms", f"sizes adding up to the body's {body_size} bytes")
    if version == 1:  # hooks pickled: never unpickled
        raise CheckpointError(f"{where}: a checkpoint of an older plsim whose hooks are pickled; this plsim never "
                              f"unpickles (a pickle can run any code): re-run the scenario with this plsim")
    if (not isinstance(m.get("hooks"), dict) or set(m["hooks"]) - set(SLOTS)
            or not all(v is None or isinstance(v, list) for v in m["hooks"].values())):
        raise bad("/hooks", f"an object of the lists {', '.join(SLOTS)}")
    hook_counts = {slot: len(m["hooks"].get(slot) or []) for slot in SLOTS}
    done = m["hooks_done"]
    if not isinstance(done, dict) or not set(done) <= set(names):
        raise bad("/hooks_done", "an object keyed by arm")
    most = max(hook_counts.values(), default=0)
    for arm, value in done.items():
        if not (isinstance(value, list) and len(value) == 2 and all(integer(v) for v in value)
                and 0 <= value[0] < len(STAGE_NAMES) and 0 <= value[1] <= most):
            raise bad(f"/hooks_done/{arm}", "[hook stage index, hooks done] within the schedule and the hooks")
    times = m["hook_times"]
    if not isinstance(times, dict) or not set(times) <= set(STAGE_NAMES) or not all(
            isinstance(t, list) and len(t) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                         and math.isfinite(x) and x >= 0 for x in t)
            for t in times.values()):
        raise bad("/hook_times", "[cpu seconds, wall seconds] by hook stage")
    if not (isinstance(m["arms_done_this_week"], list) and all(isinstance(a, str) for a in m["arms_done_this_week"])
            and set(m["arms_done_this_week"]) <= set(names)):  # names checked first: a list is not hashable
        raise bad("/arms_done_this_week", "a list of arm names")
    if not (m["interrupted_hook"] is None or (isinstance(m["interrupted_hook"], str) and len(m["interrupted_hook"]) < 1000)):
        raise bad("/interrupted_hook", "null or a hook's label")
    if not isinstance(m["extra"], dict):
        raise bad("/extra", "an object")
    return m


def write_atomically(path: PathLike, data: bytes) -> Path:
    """Writes checkpoint bytes to `path` atomically: a crash while writing leaves the previous
    checkpoint in place."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint: {path} is a directory; give a file name")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(partial, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return path


def read_bytes(path: PathLike) -> bytes:
    """The bytes of the checkpoint file `path`, read only once its size matches its header and fits in
    the machine's memory."""
    where = str(path)
    size = regular_file_size(path, "checkpoint (plsim run --checkpoint or Sim.save)",
                             error=lambda message: CheckpointError(message))
    with open(path, "rb") as f:
        header = f.read(len(MAGIC) + _HEADER.size)
        _, manifest_size, body_size = _sizes(header, where)
        expected = len(header) + manifest_size + body_size + _DIGEST
        if size != expected:
            raise CheckpointError(f"{where}: {'truncated' if size < expected else 'over-long'} checkpoint: its header "
                                  f"announces {expected} bytes, the file has {size}")
        memory = machine_memory()
        if memory and size > memory:
            raise CheckpointError(f"{where}: a checkpoint of {size / 2**30:.1f} GiB cannot be loaded on this machine "
                                  f"({memory / 2**30:.1f} GiB of memory); continue it on a larger one")
        return header + f.read(size - len(header))
