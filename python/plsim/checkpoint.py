"""Checkpoints: a whole run in one file, to stop it at a year end and continue it later, elsewhere or
in another process (Dask pickles a Sim through the same bytes). The file's layout and checks are
plsim.checkpoint_format's; the Sim writes and reads its own part (Sim._to_checkpoint, _from_checkpoint).

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

import os
from pathlib import Path
from typing import Any, Optional, Tuple, Union

from .checkpoint_format import FORMAT_VERSION, MAGIC, CheckpointError, read_bytes  # noqa: F401  (plsim.checkpoint.*)
from .sim import Sim

PathLike = Union[str, os.PathLike]


def to_bytes(sim: Sim, extra: Optional[dict] = None) -> bytes:
    """The whole run as checkpoint bytes; `extra` (JSON-ready) travels with it (the CLI's options).
    Raises CheckpointError naming the hook and attribute when a hook's state cannot be stored as data."""
    return sim._to_checkpoint(extra)


def from_bytes(data: bytes, where: str = "checkpoint", *, max_memory: Optional[int] = None) -> Tuple[Any, dict]:
    """A Sim continued from checkpoint bytes, and the `extra` saved with it. Runs no code the bytes
    choose; raises CheckpointError (one line, naming `where`) for any bad content."""
    return Sim._from_checkpoint(data, where, max_memory=max_memory)


def save(sim: Sim, path: PathLike, extra: Optional[dict] = None) -> Path:
    """Writes the checkpoint of `sim` to `path` atomically: a crash while writing leaves the previous
    checkpoint in place."""
    return sim.save(path, extra=extra)


def read(path: PathLike, *, max_memory: Optional[int] = None) -> Tuple[Any, dict]:
    """The Sim saved in the checkpoint file `path`, ready to continue, and the `extra` saved with it.
    The file's size is checked against its header and the machine's memory before it is read."""
    return from_bytes(read_bytes(path), str(path), max_memory=max_memory)


def load(path: PathLike) -> Sim:
    """The Sim saved in the checkpoint file `path` (by `Sim.save` or `plsim run --checkpoint`), ready
    to continue with `run()`."""
    return read(path)[0]


def from_bytes_only(data: bytes) -> Sim:
    """The Sim of checkpoint bytes (how a pickled Sim is unpickled)."""
    return Sim._from_pickle(data)
