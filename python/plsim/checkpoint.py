"""Checkpoints: a whole run in one file, to stop it at a year end and continue it later, elsewhere or
in another process (Dask pickles a Sim through the same bytes). The file's layout and checks are
plsim.checkpoint_format's; the Sim writes and reads its own part (Sim._to_checkpoint, _from_checkpoint).

What a checkpoint holds, its layout, and why loading one runs no code it chooses (hooks are stored as
class names and plain-data state, never pickled; every field is range-checked) are documented in
plsim.checkpoint_format, which reads and checks the file.
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
