"""Output directories (--out DIR): what plsim may replace there, and how new outputs move into place.

Each run writes a manifest, ``.plsim-manifest.json``, listing the files it wrote. `--overwrite` then
replaces a directory only when everything in it is listed there (or, for a directory written before
manifests existed, is a file name plsim writes, beside a summary.json): plsim never deletes what it did
not write unless told to with `--overwrite-all`. A symbolic link is never written through nor
replaced, nor is a mount point.

Outputs are written completely into a sibling staging directory, then swapped with DIR in one step
(renameat2 RENAME_EXCHANGE on Linux; elsewhere two renames with Ctrl-C held between them), so an
interrupt leaves either the old outputs or the new ones, never no DIR.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import threading
from pathlib import Path
from typing import Optional

MANIFEST = ".plsim-manifest.json"
# Files a plsim run writes (for directories written before manifests): summary, tables, the study plot.
_PLSIM_NAMES = re.compile(r"^(summary\.json|[a-z_]+\.csv(\.gz)?|study\.png|report\.html)$")


class OutputDirError(ValueError):
    """An --out directory plsim will not write or replace; the message says why and what to do."""


def check_out(path, *, overwrite: bool, overwrite_all: bool = False, flag: str = "--out") -> None:
    """Refuses (OutputDirError) an --out that cannot take a new run's outputs, before any work."""
    out = Path(path)
    if out.is_symlink():
        target = os.readlink(out)
        state = "" if out.exists() else " that points nowhere"
        raise OutputDirError(f"{flag}: {out} is a symbolic link{state} (to {target}); plsim does not write "
                             f"through links nor replace them: give the real directory")
    parent = out.parent
    for ancestor in [parent, *parent.parents]:
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise OutputDirError(f"{flag}: {out}: {ancestor} is a file, not a directory; give a path in a directory")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise OutputDirError(f"{flag}: {out}: {ancestor} is not writable; give a directory you can write to")
            break
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputDirError(f"{flag}: {out} is a file; give a directory for the outputs")
    if out.resolve() == Path(out.resolve().anchor) or os.path.ismount(out):
        raise OutputDirError(f"{flag}: {out} is a mount point or the root; give a directory of its own for the outputs")
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as error:
        raise OutputDirError(f"{flag}: {out} cannot be listed ({error.strerror}); give another directory") from None
    if not entries:
        return
    if not (overwrite or overwrite_all):
        raise OutputDirError(f"{flag}: {out} is not empty ({', '.join(entries[:5])}"
                             f"{', ...' if len(entries) > 5 else ''}); pass --overwrite to replace an earlier run's "
                             f"outputs")
    foreign = foreign_files(out, entries)
    if foreign and not overwrite_all:
        raise OutputDirError(f"{flag}: {out} holds files no plsim run wrote ({', '.join(foreign[:5])}"
                             f"{', ...' if len(foreign) > 5 else ''}); --overwrite replaces only a run's outputs: "
                             f"give another directory, or pass --overwrite-all to delete them too")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise OutputDirError(f"{flag}: {out.parent} is not writable, so {out} cannot be replaced")


def foreign_files(out: Path, entries: Optional[list] = None) -> list:
    """Entries of `out` that no plsim run wrote: not in its manifest (or, without one, not a name plsim
    writes beside a summary.json)."""
    entries = sorted(p.name for p in out.iterdir()) if entries is None else entries
    listed = _manifest_files(out)
    if listed is None:
        if "summary.json" not in entries:
            return [e for e in entries]
        return [e for e in entries if not (_PLSIM_NAMES.match(e) and (out / e).is_file() and not (out / e).is_symlink())]
    return [e for e in entries if e != MANIFEST and (e not in listed or not (out / e).is_file() or (out / e).is_symlink())]


def _manifest_files(out: Path) -> Optional[set]:
    path = out / MANIFEST
    if not path.is_file() or path.is_symlink() or path.stat().st_size > 1 << 20:
        return None
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files")
    except (ValueError, OSError, AttributeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) and "/" not in f and f not in ("", ".", "..")
                                              for f in files):
        return None
    return set(files)


def staging_dir(final: Path) -> Path:
    """A fresh directory beside `final` to write outputs into before they move into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.partial-{os.getpid()}"
    if staging.is_symlink() or staging.is_file():
        staging.unlink()
    elif staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def write_manifest(staging: Path, files: list, command: str) -> None:
    from .version import __version__

    (staging / MANIFEST).write_text(json.dumps({"written_by": f"plsim {__version__} {command}",
                                                "files": sorted(files)}, indent=2) + "\n")


def publish(staging: Path, final: Path) -> None:
    """Moves a complete set of outputs into place; the old ones (if any) go once the new are there."""
    if not final.exists():
        staging.rename(final)
        return
    if _exchange(staging, final):
        shutil.rmtree(staging)  # now holds the old outputs
        return
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    with _sigint_held():
        final.rename(old)
        staging.rename(final)
    shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where it is not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    errno = ctypes.get_errno()
    if errno in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: the file system cannot; rename instead
        return False
    raise OSError(errno, os.strerror(errno), str(b))


class _sigint_held:
    """Holds Ctrl-C (in the main thread) for the two renames that replace a directory."""

    def __enter__(self):
        self.pending, self.previous = False, None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self.pending = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            if self.pending:
                raise KeyboardInterrupt
