"""Many small runs on every core: a function mapped over tasks, in order, in this process, in worker
processes, or on a Dask cluster. Each task is a deterministic function of its arguments, and results
come back in the order of the tasks, so what is computed never depends on how many workers computed it.

Why processes and not threads: a small run spends a good share of its time in Python (building the
tables a decision needs) while holding the GIL, so two threads of one process keep less than two cores
busy. Workers come from a fork server that imported plsim once (multiprocessing's "forkserver"
context), which is quick to fork and safe where the parent already runs the engine's thread pool (a
plain fork of a process with running threads is not). Workers only run plsim's own functions, so they
are started without re-running the user's script (multiprocessing would otherwise import the main
script in each worker, which a script without an `if __name__ == "__main__":` guard cannot survive)."""
from __future__ import annotations

import multiprocessing
import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Optional


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Pool:
    """`Pool(workers=None, client=None)`: `map(fn, tasks)` returns [fn(*task) for task in tasks] in
    order (`imap` yields them so). workers=1 runs them here; more (default: every core) in worker processes started once and
    kept until `close()` (or the end of a `with` block); a Dask `client` sends them to its workers."""

    def __init__(self, workers: Optional[int] = None, client=None):
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
            raise ValueError(f"workers: expected a positive number of worker processes (got {workers!r})")
        self.client = client
        self.workers = 1 if client is not None else (workers or available_cores())
        self._executor = None

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> list:
        return list(self.imap(fn, tasks))

    def imap(self, fn: Callable, tasks: Iterable[tuple]) -> Iterator:
        """fn(*task) for each task, yielded in the order of the tasks as they complete."""
        tasks = list(tasks)
        if self.client is not None:
            futures = [self.client.submit(fn, *task, pure=False) for task in tasks]
            for future in futures:
                yield future.result()
            return
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(*task)
            return
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["plsim"])
            with _main_script_hidden():  # multiprocessing.Pool starts every worker here
                self._executor = context.Pool(processes=self.workers)
        yield from self._executor.imap(_call, [(fn, task) for task in tasks], chunksize=1)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor.join()
            self._executor = None

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def _main_script_hidden():
    """Workers started here do not import the main script (they run plsim's functions only)."""
    main = sys.modules.get("__main__")
    saved_file = main.__dict__.pop("__file__", None) if main is not None else None
    saved_spec = getattr(main, "__spec__", None)
    if main is not None:
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            main.__spec__ = saved_spec
            if saved_file is not None:
                main.__file__ = saved_file


def _call(item):
    fn, task = item
    return fn(*task)
