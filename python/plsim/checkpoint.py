"""Checkpoints: a whole run in one file, to stop it at a year end and continue it later, elsewhere or
in another process (Dask pickles a Sim through the same bytes).

A checkpoint holds the scenario as validated, each arm's engine state (agents, results so far, the
stage it stands at; random streams need no position: every draw is keyed by seed, entity and tick),
how far the Python hooks of an unfinished hook stage got, and the hook objects themselves (pickled,
only when the run has any). The layout::

    b"PLSIM checkpoint\\n"      17 bytes: what the file is
    format version             4 bytes, little-endian
    manifest length            8 bytes
    body length                8 bytes
    manifest                   UTF-8 JSON: scenario, options, hook progress, the blobs' sizes
    body                       each arm's state, then the pickled hooks
    SHA-256                    32 bytes, of everything before it

A checkpoint is checked before anything in it is used: what it is, its version, its length and its
checksum. The hooks' pickle is read last and only when present; like any pickle, only load
checkpoints you (or your pipeline) wrote.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import struct
import warnings
from pathlib import Path
from typing import Any, Optional, Tuple, Union

from . import _core

CheckpointError = _core.CheckpointError
MAGIC = b"PLSIM checkpoint\n"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<IQQ")
_DIGEST = 32

PathLike = Union[str, os.PathLike]


def to_bytes(sim, extra: Optional[dict] = None) -> bytes:
    """The whole run as checkpoint bytes; `extra` (JSON-ready) travels with it (the CLI's options)."""
    from . import __version__

    arms = [(arm, core.save_state()) for arm, core in sim._arms()]
    hooks = b""
    if sim.policies or sim.processes or sim.rollout_plans:
        try:
            hooks = pickle.dumps({"policies": sim.policies, "processes": sim.processes,
                                  "rollout_plans": sim.rollout_plans}, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            raise CheckpointError(f"checkpoint: the run's hooks cannot be saved (they must pickle): {error}") from error
    manifest = {
        "plsim_version": __version__,
        "scenario": {"document": sim.scenario.document, "source": sim.scenario.source},
        "threads": sim._threads_requested,
        "counterfactual": sim.has_counterfactual,
        "hooks_done": {arm: list(done) for arm, done in sim._hooks_done.items()},
        "hook_times": sim._hook_times,
        "arms_done_this_week": sorted(sim._arms_done_this_week),
        "interrupted_hook": sim._interrupted_hook,
        "arms": [[arm, len(state)] for arm, state in arms],
        "hooks_bytes": len(hooks),
        "extra": extra or {},
    }
    manifest_bytes = json.dumps(manifest, allow_nan=False).encode()
    body = b"".join(state for _, state in arms) + hooks
    out = io.BytesIO()
    out.write(MAGIC)
    out.write(_HEADER.pack(FORMAT_VERSION, len(manifest_bytes), len(body)))
    out.write(manifest_bytes)
    out.write(body)
    out.write(hashlib.sha256(out.getbuffer()).digest())
    return out.getvalue()


def _parse(data: bytes, where: str) -> Tuple[dict, bytes]:
    """The manifest and the body of checkpoint bytes, after checking what they are, their version,
    length and checksum."""
    if not data.startswith(MAGIC):
        raise CheckpointError(f"{where}: not a plsim checkpoint (it starts with {bytes(data[:len(MAGIC)])!r}; "
                              f"checkpoints start with {MAGIC!r})")
    if len(data) < len(MAGIC) + _HEADER.size:
        raise CheckpointError(f"{where}: truncated checkpoint ({len(data)} bytes, shorter than its header)")
    version, manifest_size, body_size = _HEADER.unpack_from(data, len(MAGIC))
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{where}: checkpoint format version {version}; this plsim reads version "
                              f"{FORMAT_VERSION}")
    start = len(MAGIC) + _HEADER.size
    expected = start + manifest_size + body_size + _DIGEST
    if len(data) != expected:
        raise CheckpointError(f"{where}: {'truncated' if len(data) < expected else 'over-long'} checkpoint: its header "
                              f"announces {expected} bytes, the file has {len(data)}")
    if hashlib.sha256(memoryview(data)[:-_DIGEST]).digest() != data[-_DIGEST:]:
        raise CheckpointError(f"{where}: corrupted checkpoint: its SHA-256 checksum does not match its contents")
    manifest = json.loads(bytes(data[start:start + manifest_size]).decode())
    return manifest, bytes(data[start + manifest_size:-_DIGEST])


def from_bytes(data: bytes, where: str = "checkpoint") -> Tuple[Any, dict]:
    """A Sim continued from checkpoint bytes, and the `extra` saved with it."""
    from . import __version__
    from .scenarios import Scenario
    from .sim import Sim

    manifest, body = _parse(data, where)
    if manifest["plsim_version"] != __version__:
        warnings.warn(f"{where}: written by plsim {manifest['plsim_version']}, continued by plsim {__version__}: "
                      f"the rest of the run follows this version's model", stacklevel=3)
    offsets, position = {}, 0
    for arm, size in manifest["arms"]:
        offsets[arm] = body[position:position + size]
        position += size
    hooks = {"policies": [], "processes": [], "rollout_plans": []}
    if manifest["hooks_bytes"]:
        hooks = pickle.loads(body[position:position + manifest["hooks_bytes"]])
    scenario = Scenario(manifest["scenario"]["document"], manifest["scenario"]["source"])
    sim = Sim._restored(scenario, threads=manifest["threads"], counterfactual=manifest["counterfactual"], **hooks)
    # (each arm's responses_share travels in its state)
    for arm, core in sim._arms():
        try:
            core.restore_state(offsets[arm])
        except CheckpointError as error:
            raise CheckpointError(f"{where}: the {arm} run: {error}") from None
    sim._hooks_done = {arm: tuple(done) for arm, done in manifest["hooks_done"].items()}
    sim._hook_times = {stage: list(times) for stage, times in manifest["hook_times"].items()}
    sim._arms_done_this_week = set(manifest["arms_done_this_week"])
    sim._interrupted_hook = manifest["interrupted_hook"]
    return sim, manifest["extra"]


def save(sim, path: PathLike, extra: Optional[dict] = None) -> Path:
    """Writes the checkpoint of `sim` to `path` atomically: a crash while writing leaves the previous
    checkpoint in place."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint: {path} is a directory; give a file name")
    data = to_bytes(sim, extra)
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


def read(path: PathLike) -> Tuple[Any, dict]:
    """The Sim saved in the checkpoint file `path`, ready to continue, and the `extra` saved with it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no file {str(path)!r}")
    return from_bytes(path.read_bytes(), str(path))


def load(path: PathLike):
    """The Sim saved in the checkpoint file `path` (by `Sim.save` or `plsim run --checkpoint`), ready
    to continue with `run()`."""
    return read(path)[0]


def from_bytes_only(data: bytes):
    """The Sim of checkpoint bytes (how a pickled Sim is unpickled)."""
    return from_bytes(data, "pickled Sim")[0]
